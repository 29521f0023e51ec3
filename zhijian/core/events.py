"""Domain events through a transactional outbox.

A service calls `publish()` inside its transaction; the event row commits or rolls back
with the change. Subscribers register with `@subscribe("noun.verbed")`. After commit the
outbox is drained inline (default) or by Celery workers (`outbox_drain_task`). Each
handler runs in its own transaction together with an EventDelivery row that is unique per
(event, handler): a redelivered event finds the row and is skipped, so every effect is
applied once and only once even when a worker dies mid-batch.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .models import EventDelivery, OutboxEvent

log = logging.getLogger(__name__)
Handler = Callable[[OutboxEvent], None]
_handlers: dict[str, list[tuple[str, Handler]]] = defaultdict(list)


def subscribe(name: str):
    """Register a handler for an event name ("*" for every event)."""

    def register(fn: Handler) -> Handler:
        key = f"{fn.__module__}.{fn.__qualname__}"
        if key not in {k for k, _ in _handlers[name]}:
            _handlers[name].append((key, fn))
        return fn

    return register


def handlers_for(name: str) -> list[tuple[str, Handler]]:
    return _handlers.get(name, []) + _handlers.get("*", [])


def publish(name: str, *, aggregate, payload: dict | None = None) -> OutboxEvent:
    """Write an event in the caller's transaction and schedule the drain after commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Domain events must be published inside the change's transaction.")
    event = OutboxEvent.objects.create(
        name=name,
        aggregate_type=aggregate._meta.label_lower,
        aggregate_id=str(aggregate.pk),
        payload=payload or {},
    )
    transaction.on_commit(schedule_drain)
    return event


def schedule_drain() -> None:
    if settings.ZHIJIAN_OUTBOX_MODE == "celery":
        from .tasks import outbox_drain_task

        try:
            outbox_drain_task.delay()
        except Exception:  # the broker is down: events wait in the outbox for the next drain
            log.warning("outbox: broker unavailable, events stay queued", exc_info=True)
    elif settings.ZHIJIAN_OUTBOX_MODE == "inline":
        drain()


def apply(event: OutboxEvent, key: str, fn: Handler) -> bool:
    """Apply one handler to one event exactly once. Returns True if it ran now."""
    try:
        with transaction.atomic():
            if EventDelivery.objects.filter(event=event, handler=key).exists():
                return False
            fn(event)
            EventDelivery.objects.create(event=event, handler=key)
            return True
    except IntegrityError:
        # Another worker applied it concurrently; its transaction won.
        return False


def _claim(batch: int, after_id: int) -> list[OutboxEvent]:
    qs = OutboxEvent.objects.filter(processed_at__isnull=True, id__gt=after_id).order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            return list(qs.select_for_update(skip_locked=True)[:batch])
    return list(qs[:batch])


def drain(batch: int = 200, max_batches: int | None = None) -> int:
    """Process pending events in id order; returns how many were completed."""
    done = 0
    rounds = 0
    after_id = 0  # a failing event is retried on the next drain, not in a loop here
    while max_batches is None or rounds < max_batches:
        rounds += 1
        events = _claim(batch, after_id)
        if not events:
            break
        after_id = events[-1].pk
        for event in events:
            try:
                for key, fn in handlers_for(event.name):
                    apply(event, key, fn)
            except Exception as exc:  # keep the event pending; record why
                log.exception("outbox: handler failed for %s", event)
                OutboxEvent.objects.filter(pk=event.pk).update(
                    attempts=event.attempts + 1, last_error=repr(exc)[:2000]
                )
                continue
            OutboxEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
                processed_at=timezone.now()
            )
            done += 1
        if len(events) < batch:
            break
    return done
