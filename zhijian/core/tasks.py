from celery import shared_task


@shared_task(acks_late=True)
def outbox_drain_task(batch: int = 200) -> int:
    """Drain the domain-event outbox (idempotent: deliveries are recorded per handler)."""
    from .events import drain

    return drain(batch=batch)
