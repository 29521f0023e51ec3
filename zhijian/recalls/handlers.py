"""Event subscribers of recalls: a failed batch proposes a recall (docs/recalls.md,
"Proposals").

- "report.nonconforming" (a test report concludes a batch is nonconforming),
- "sample.nonconforming" (the report on a supervisory sample did),
- "delivery.rejected" (a user unit rejected a delivery on acceptance).

Each proposes a recall of the producer's batch, or adds itself as a source to the
proposed or open recall of the same batch; the source records the domain event's id, so
an event applied again changes nothing (the outbox also applies each handler once)."""

from zhijian.core.events import subscribe

from . import services
from .choices import SourceKind


def _product(model_path: str, pk, number: str = "number") -> tuple[int | None, str]:
    """The product (id) and number of the record an event is about."""
    from django.apps import apps

    row = apps.get_model(model_path).objects.filter(pk=pk).values_list(
        "product_id", number).first()
    return row if row else (None, "")


def _report_time(report_id, event):
    """When the failure was established: the report's signature, else the event."""
    from zhijian.reports.models import Report

    signed = Report.objects.filter(pk=report_id).values_list("signed_at", flat=True).first()
    return signed or event.created_at


def _rejection_time(delivery_id, event):
    from zhijian.procurement.models import AcceptanceCheck

    checked = (AcceptanceCheck.objects.filter(delivery_id=delivery_id, accepted=False)
               .order_by("-checked_at").values_list("checked_at", flat=True).first())
    return checked or event.created_at


@subscribe("report.nonconforming")
def propose_on_report(event) -> None:
    p = event.payload
    if not p.get("producer") or not p.get("batch"):
        return
    product_id, _n = _product("reports.Report", p["report"])
    services.recall_propose(
        actor=None, source_kind=SourceKind.REPORT, maker_id=p["producer"],
        category_code=p.get("category") or "", lot=p["batch"], product_id=product_id,
        reference=p.get("number") or "", object_id=p["report"], event_id=event.pk,
        now=_report_time(p["report"], event))


@subscribe("sample.nonconforming")
def propose_on_sample(event) -> None:
    from zhijian.reports.models import Report

    p = event.payload
    if not p.get("producer") or not p.get("batch"):
        return
    product_id, _n = _product("sampling.Sample", p["sample"], "code")
    number = Report.objects.filter(pk=p.get("report")).values_list("number", flat=True).first()
    services.recall_propose(
        actor=None, source_kind=SourceKind.SAMPLE, maker_id=p["producer"],
        category_code=p.get("category") or "", lot=p["batch"], product_id=product_id,
        reference=number or "", object_id=p["sample"], event_id=event.pk,
        now=_report_time(p.get("report"), event))


@subscribe("delivery.rejected")
def propose_on_rejected_delivery(event) -> None:
    p = event.payload
    if not p.get("producer") or not p.get("batch"):
        return
    product_id, number = _product("procurement.Delivery", p["delivery"])
    services.recall_propose(
        actor=None, source_kind=SourceKind.DELIVERY, maker_id=p["producer"],
        category_code=p.get("category") or "", lot=p["batch"], product_id=product_id,
        reference=number, object_id=p["delivery"], event_id=event.pk,
        now=_rejection_time(p["delivery"], event))
