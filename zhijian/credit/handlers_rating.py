"""Event subscribers of the rating (docs/credit-rating.md, "Kept current"): a credit
record written, withdrawn or repaired re-rates its entity within the outbox drain
(inline in development: at once; by a Celery worker in production). Re-rating computes
the rating from all of the entity's records, so applying an event twice, or late,
changes nothing."""

from zhijian.core.events import subscribe

from .services import rating


@subscribe("credit.record_changed")
def rerate_on_record(event) -> None:
    entity = event.payload.get("entity")
    if entity is None:
        return
    rating.entity_rerate(entity_id=entity,
                         trigger=f"record.{event.payload.get('change', 'changed')}"
                                 f":{event.payload.get('record', '')}")
