"""The supervisory-sampling pages (监督抽查): plans and their samples (plans.py), one sample
with its chain of custody, photos and result, the lab's samples (samples.py), disposal
tasks and the batch-result lookup of mutual recognition (follow_up.py). Every write goes
through sampling.services."""
