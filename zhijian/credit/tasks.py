"""Periodic work of quality credit."""

from celery import shared_task

from .services import rating


@shared_task(name="credit.ratings_rerate_task")
def ratings_rerate_task() -> dict:
    """Re-rate every market entity (nightly, by Celery beat): records expire and repairs
    take effect without any event announcing it."""
    result = rating.ratings_rerate_all()
    return {"on": result.on.isoformat(), "entities": result.entities,
            "changed": result.changed, "class_changed": result.class_changed}
