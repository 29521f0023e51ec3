"""Subscribers of the serious-dishonesty list (services/blacklist.py).

"credit.record_changed": a firm whose active records now meet a criterion of
credit.blacklist_criteria (scoring.blacklist_candidates, today) and that has no open case
gets a proposal for its market supervision department to decide. Applying the event
again changes nothing: the open case (or the closed case that weighed the same records)
stops a second proposal."""

from zhijian.core.events import subscribe

from . import tasks_blacklist  # noqa: F401  (registers credit.blacklist_expire_task)


@subscribe("credit.record_changed")
def propose_on_record_change(event) -> None:
    from zhijian.registry.models import MarketEntity

    from .services import blacklist

    p = event.payload
    if p.get("change") not in ("created", None):
        return  # a withdrawal or a repair only takes records away
    entity = MarketEntity.objects.filter(pk=p.get("entity")).first()
    if entity is None:
        return
    blacklist.blacklist_propose(entity=entity, actor=None)
