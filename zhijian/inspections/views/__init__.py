"""The random-inspection pages (双随机一公开) of the regulator workbench: plans and their
draws (plans.py, draws.py), inspection tasks, evidence and conflicts of interest
(tasks.py). Every write goes through inspections.services."""
