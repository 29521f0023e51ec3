"""Periodic work of random inspections."""

from celery import shared_task

from . import services


@shared_task(name="inspections.results_publish_due_task")
def results_publish_due_task() -> int:
    """Publish results held back by a flying inspection whose period has ended."""
    return services.results_publish_due()
