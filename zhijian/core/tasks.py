"""Celery tasks of the kernel: draining the outbox and signing audit checkpoints."""

from celery import shared_task
from celery.signals import worker_ready


@shared_task(acks_late=True, ignore_result=True)
def outbox_drain_task(batch: int = 200) -> int:
    """Drain the domain-event outbox. Safe to run any number of times, concurrently: each
    event is taken under a row lock and each (event, handler) is applied once."""
    from .events import drain

    return drain(batch=batch)


@shared_task(ignore_result=True)
def audit_checkpoint_task() -> int | None:
    """Sign the audit chain head (run periodically, e.g. hourly, by Celery beat)."""
    from .audit import checkpoint_create

    cp = checkpoint_create()
    return cp.seq if cp else None


@worker_ready.connect
def drain_when_worker_starts(sender=None, **kwargs) -> None:
    """A worker that (re)starts drains what is pending: events published while the broker
    was down, and those whose drain task died with a killed worker (Redis would only
    redeliver that task after its visibility timeout)."""
    outbox_drain_task.apply_async(retry=False)
