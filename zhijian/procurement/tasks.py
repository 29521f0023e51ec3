"""Periodic work of purchasing and acceptance."""

from celery import shared_task

from . import services


@shared_task(name="procurement.suppliers_rerate_task")
def suppliers_rerate_task() -> int:
    """Re-rate every qualified-supplier list entry (nightly, by Celery beat): facts leave
    the look-back period and appeals lapse without any event announcing it."""
    return services.suppliers_rerate_all()
