"""Periodic work of supervisory sampling."""

from celery import shared_task

from . import services


@shared_task(name="sampling.samples_publish_due_task")
def samples_publish_due_task() -> int:
    """Publish every sampling result whose publication date has come (hourly)."""
    return services.samples_publish_due()
