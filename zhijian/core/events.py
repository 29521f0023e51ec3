"""Domain events through a transactional outbox.

A service calls `publish()` inside its transaction; the event row commits or rolls back
with the change. Subscribers register with `@subscribe("noun.verbed")`; modules named in
ZHIJIAN_EXTRA_HANDLERS (setting or environment variable, comma-separated dotted paths)
are imported before the first drain, so deployments and tests can add subscribers
without the writers importing them.

After commit the outbox is drained inline (ZHIJIAN_OUTBOX_MODE=inline, the default) or by
Celery workers (=celery, `outbox_drain_task`). Each event is processed in one
transaction that locks its row (SKIP LOCKED on PostgreSQL, so concurrent workers take
different events); each handler runs in a savepoint together with an EventDelivery row
unique per (event, handler). A redelivered event finds its deliveries and skips those
handlers, so every effect is applied once and only once, even when a worker dies
mid-batch (its transaction rolls back and the event is taken again). See docs/events.md.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections import defaultdict
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .models import EventDelivery, OutboxEvent

log = logging.getLogger(__name__)
Handler = Callable[[OutboxEvent], None]
_handlers: dict[str, list[tuple[str, Handler]]] = defaultdict(list)
_extra_loaded = False


def subscribe(name: str):
    """Register a handler for an event name ("*" for every event)."""

    def register(fn: Handler) -> Handler:
        key = f"{fn.__module__}.{fn.__qualname__}"
        if key not in {k for k, _ in _handlers[name]}:
            _handlers[name].append((key, fn))
        return fn

    return register


def extra_handler_modules() -> list[str]:
    value = getattr(settings, "ZHIJIAN_EXTRA_HANDLERS", None)
    if value is None:
        value = os.environ.get("ZHIJIAN_EXTRA_HANDLERS", "")
    if isinstance(value, str):
        value = value.split(",")
    return [m.strip() for m in value if m and m.strip()]


def load_extra_handlers() -> None:
    """Import the modules named in ZHIJIAN_EXTRA_HANDLERS (once per process)."""
    global _extra_loaded
    if _extra_loaded:
        return
    for module in extra_handler_modules():
        importlib.import_module(module)
    _extra_loaded = True


def handlers_for(name: str) -> list[tuple[str, Handler]]:
    load_extra_handlers()
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
    connection = transaction.get_connection()
    # One drain per transaction, however many events it publishes: a drain already pending
    # from this block or an enclosing one will run when this one commits. (Django keeps,
    # with each callback, the savepoints open when it was registered; one that rolls back
    # takes its callbacks with it.)
    open_now = set(connection.savepoint_ids)
    if not any(entry[1] is schedule_drain and set(entry[0]) <= open_now
               for entry in connection.run_on_commit):
        transaction.on_commit(schedule_drain)
    return event


def schedule_drain() -> None:
    """After a commit: drain now (inline) or ask a worker to (celery).

    A broker that is down does not fail the write that has already committed: the
    events wait in the outbox for the next drain (the next write, a worker starting,
    the periodic task, or `zhijian outbox drain`)."""
    mode = settings.ZHIJIAN_OUTBOX_MODE
    if mode == "celery":
        from .tasks import outbox_drain_task

        try:
            outbox_drain_task.apply_async(retry=False)
        except Exception:
            log.warning("outbox: broker unavailable, events stay queued", exc_info=True)
    elif mode == "inline":
        drain()


class _AlreadyApplied(Exception):
    """Raised inside apply()'s transaction to undo an effect another worker recorded."""


def apply(event: OutboxEvent, key: str, fn: Handler) -> bool:
    """Apply one handler to one event exactly once. Returns True if it ran now.

    The effect and the EventDelivery row commit together or not at all; if another
    process recorded the delivery first, this effect is rolled back."""
    try:
        with transaction.atomic():
            if EventDelivery.objects.filter(event_id=event.pk, handler=key).exists():
                return False
            fn(event)
            try:
                with transaction.atomic():
                    EventDelivery.objects.create(event_id=event.pk, handler=key)
            except IntegrityError:
                raise _AlreadyApplied from None
            return True
    except _AlreadyApplied:
        return False


def process(event_id: int) -> bool | None:
    """Run every handler of one pending event in one transaction that holds its row.

    Returns True when the event is done, False when a handler failed (the event stays
    pending with attempts and last_error; deliveries of the handlers that succeeded are
    kept), None when the event is done already or another worker holds it."""
    with transaction.atomic():
        qs = OutboxEvent.objects.filter(pk=event_id, processed_at__isnull=True)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        event = qs.first()
        if event is None:
            return None
        for key, fn in handlers_for(event.name):
            try:
                apply(event, key, fn)
            except Exception as exc:
                log.exception("outbox: handler %s failed for %s", key, event)
                event.attempts += 1
                event.last_error = f"{key}: {exc!r}"[:2000]
                event.save(update_fields=["attempts", "last_error"])
                return False
        event.processed_at = timezone.now()
        event.save(update_fields=["processed_at"])
        return True


def drain(batch: int = 200, max_batches: int | None = None) -> int:
    """Process pending events in id order; returns how many were completed.

    An event whose handler fails is retried on the next drain, not in a loop here, and
    the later events of the same aggregate wait for it, so that subscribers see each
    record's events in the order they happened."""
    done = 0
    rounds = 0
    after_id = 0
    blocked: set[tuple[str, str]] = set()
    while max_batches is None or rounds < max_batches:
        rounds += 1
        pending = list(
            OutboxEvent.objects.filter(processed_at__isnull=True, id__gt=after_id)
            .order_by("id").values_list("id", "aggregate_type", "aggregate_id")[:batch]
        )
        if not pending:
            break
        after_id = pending[-1][0]
        for event_id, aggregate_type, aggregate_id in pending:
            aggregate = (aggregate_type, aggregate_id)
            if aggregate in blocked:
                continue
            outcome = process(event_id)
            if outcome:
                done += 1
            elif outcome is False:
                blocked.add(aggregate)
        if len(pending) < batch:
            break
    return done


def status() -> dict:
    """Counts for operators: pending, failing (pending with attempts), processed, and the
    oldest pending event's creation time."""
    pending = OutboxEvent.objects.filter(processed_at__isnull=True)
    oldest = pending.order_by("id").values_list("created_at", flat=True).first()
    return {
        "pending": pending.count(),
        "failing": pending.filter(attempts__gt=0).count(),
        "processed": OutboxEvent.objects.filter(processed_at__isnull=False).count(),
        "oldest_pending": oldest,
    }
