"""Event subscribers of the procurement app: news about a firm re-rates every list entry
naming it at once (the nightly task catches what ages out). Re-rating computes the
standing from the facts as they are now, so a handler applied again changes nothing:
they are idempotent."""

from zhijian.core.events import subscribe

from . import services


def _rerate(entity_id) -> None:
    if entity_id:
        services.suppliers_rerate_entity(int(entity_id))


@subscribe("report.nonconforming")
def rerate_on_nonconforming_report(event) -> None:
    """A failed test report on the firm's products (payload "producer")."""
    _rerate(event.payload.get("producer"))


@subscribe("report.revoked")
def rerate_on_revoked_report(event) -> None:
    _rerate(event.payload.get("producer"))


@subscribe("signal.raised")
def rerate_on_signal(event) -> None:
    """A fake-report signal; "producer" is None when the number is unknown."""
    _rerate(event.payload.get("producer"))


@subscribe("inspection.problem_found")
def rerate_on_inspection_problem(event) -> None:
    _rerate(event.payload.get("entity"))


@subscribe("delivery.rejected")
def rerate_on_rejected_delivery(event) -> None:
    _rerate(event.payload.get("supplier"))
