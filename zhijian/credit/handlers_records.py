"""Credit records from the domain events of the other modules (docs/credit-records.md).

Each handler writes through services.records.record_create, which returns the record
already written for the same source and kind, so a redelivered event changes nothing
(the outbox also applies each handler once per event). Sources:

- "sample.nonconforming"     -> sampling_failed against the producer (public: sampling
                                results are published as soon as the report is issued)
- "report.issued" on a sample with a conforming conclusion -> sampling_passed (public)
- "report.revoked"           -> the sampling records resting on that report are withdrawn;
                                on the ground "false" (a regulator found the report false
                                or forged) -> fake_report against the laboratory's market
                                entity (same unified social credit code)
- "signal.closed" with the outcome "confirmed" -> fake_report against the party
                                responsible: the laboratory for a signal about how the
                                report was issued, the supplier who presented it for a
                                signal about the delivery papers (see signal_confirmed)
- "inspection.problem_found" -> inspection_problem; "inspection.completed" with the outcome
                                "no problem" -> inspection_clean (public: results are)
- "recall.opened"            -> recall_ordered against the maker (public)

A signal closed without an outcome, or as unfounded, writes nothing: a signal is a
reason to look, and only the closing regulator's "confirmed" is a finding. A recall
started by the firm itself (recall_voluntary) has no source in the recalls module yet:
every recall there is proposed by the platform or a regulator.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from zhijian.core.events import subscribe

from .choices import RecordKind
from .models import CreditRecord
from .services.records import record_create, withdraw_source

SAMPLE = "sampling.sample"
TASK = "inspections.task"
RECALL = "recalls.recall"
REPORT = "reports.report"
SIGNAL = "reports.signal"
SAMPLING_KINDS = (RecordKind.SAMPLING_FAILED, RecordKind.SAMPLING_PASSED)


def _day(value, event):
    """The local date of a moment (or the event's, when the source has none)."""
    return timezone.localdate(value or event.created_at)


# --- supervisory sampling -------------------------------------------------------------------

def _sampling_record(event, *, sample_id, report_id, kind: str) -> CreditRecord | None:
    from zhijian.reports.models import Report
    from zhijian.sampling.models import Disposal, Sample

    sample = (Sample.objects.select_related("producer", "plan__department")
              .filter(pk=sample_id).first())
    report = Report.objects.filter(pk=report_id).first()
    if sample is None or report is None:
        return None
    department = sample.plan.department
    if kind == RecordKind.SAMPLING_FAILED:
        disposal = Disposal.objects.select_related("department").filter(report=report).first()
        department = disposal.department if disposal is not None else department
    record = record_create(
        entity=sample.producer, kind=kind, date=report.issued_on or _day(None, event),
        source_type=SAMPLE, source_id=sample.pk,
        source_ref=_("Sample %(code)s, report %(number)s") % {
            "code": sample.code, "number": report.number},
        summary=f"{sample.product_name} {sample.model} · {sample.batch}".strip(),
        public=True, department=department, event=event)
    # A later report on the same sample (one superseding another) replaces the result.
    other = SAMPLING_KINDS[1] if kind == SAMPLING_KINDS[0] else SAMPLING_KINDS[0]
    withdraw_source(source_type=SAMPLE, source_id=sample.pk, kinds=[other],
                    reason=_("Superseded by report %(number)s") % {"number": report.number})
    return record


@subscribe("sample.nonconforming")
def sampling_failed(event) -> None:
    p = event.payload
    _sampling_record(event, sample_id=p.get("sample"), report_id=p.get("report"),
                     kind=RecordKind.SAMPLING_FAILED)


@subscribe("report.issued")
def sampling_passed(event) -> None:
    p = event.payload
    if not p.get("sample") or p.get("conclusion") != "pass":
        return
    _sampling_record(event, sample_id=p["sample"], report_id=p.get("report"),
                     kind=RecordKind.SAMPLING_PASSED)


@subscribe("report.revoked")
def report_revoked(event) -> None:
    """The result a sampling record rests on is gone: withdraw it. A revocation on the
    ground "false" is a regulator's finding against the laboratory."""
    from zhijian.reports.choices import RevocationGround
    from zhijian.reports.models import Report, Revocation
    from zhijian.sampling.models import Sample

    p = event.payload
    report_id = p.get("report")
    reason = (p.get("reason") or "").strip()
    number = p.get("number") or ""
    for sample_id in Sample.objects.filter(report_id=report_id).values_list("pk", flat=True):
        withdraw_source(source_type=SAMPLE, source_id=sample_id, kinds=SAMPLING_KINDS,
                        reason=_("Report %(number)s revoked: %(reason)s") % {
                            "number": number, "reason": reason})
    revocation = Revocation.objects.select_related(
        "report__lab", "revoked_by__department").filter(report_id=report_id).first()
    # The signed revocation is the authority; the payload only when it has no row.
    ground = revocation.ground if revocation is not None else p.get("ground")
    if ground != RevocationGround.FALSE:
        return
    report = (revocation.report if revocation is not None
              else Report.objects.select_related("lab").filter(pk=report_id).first())
    if report is None:
        return
    lab_entity = _lab_entity(report.lab)
    if lab_entity is None:
        return
    record_create(
        entity=lab_entity, kind=RecordKind.FAKE_REPORT,
        date=_day(revocation.revoked_at if revocation is not None else None, event),
        source_type=REPORT, source_id=report.pk,
        source_ref=_("Report %(number)s revoked as false or forged") % {"number": number},
        summary=reason, public=True,
        department=getattr(revocation.revoked_by, "department", None) if revocation else None,
        event=event)


# --- false test reports found on a fake-report signal ----------------------------------------

#: Signals about the delivery papers (a report cited beyond what it covers, or a number no
#: issued report has): the supplier who presented the report is responsible. Every other
#: kind is about how the report was issued (before receipt, copied values, outside the
#: accredited scope, beyond the lab's capacity): the laboratory is.
PRESENTED_KINDS = ("over_coverage", "unknown_number")


def _lab_entity(lab):
    """The laboratory's market entity: the one with its unified social credit code."""
    from zhijian.registry.models import MarketEntity

    if lab is None or not lab.uscc:
        return None
    return MarketEntity.objects.filter(uscc=lab.uscc).first()


def presenter_of(signal):
    """The supplier who presented the report on the delivery papers a signal names, or
    None when the papers name several suppliers (the platform cannot tell which of them
    presented it falsely: the officer enters the record by hand) or none."""
    from zhijian.procurement.models import Delivery
    from zhijian.registry.models import MarketEntity

    params = (signal.detail or {}).get("params") or {}
    if signal.kind == "unknown_number":
        deliveries = Delivery.objects.filter(pk=params.get("delivery_id"))
    elif signal.report_id and params.get("deliveries"):
        deliveries = Delivery.objects.filter(reports=signal.report_id,
                                             number__in=params["deliveries"])
        if params.get("batch") is not None and (signal.detail or {}).get("code") == \
                "other_batch":
            deliveries = deliveries.filter(batch=params["batch"])
    else:
        return None
    suppliers = set(deliveries.values_list("supplier_id", flat=True))
    if len(suppliers) != 1:
        return None
    return MarketEntity.objects.filter(pk=suppliers.pop()).first()


@subscribe("signal.closed")
def signal_confirmed(event) -> None:
    """A signal closed with the outcome "confirmed" is a finding that the report is false:
    a fake_report record against the party responsible (PRESENTED_KINDS). A finding against
    the laboratory about one report has that report as its source, so that a signal
    confirmed and the report revoked as false make one record, not two."""
    from zhijian.registry.models import Department
    from zhijian.reports.choices import SignalOutcome
    from zhijian.reports.models import Signal

    p = event.payload
    if p.get("outcome") != SignalOutcome.CONFIRMED:
        return
    signal = Signal.objects.select_related("lab").filter(pk=p.get("signal")).first()
    if signal is None or signal.outcome != SignalOutcome.CONFIRMED:
        return
    department = Department.objects.filter(pk=p.get("department")).first() \
        if p.get("department") else None
    common = {"kind": RecordKind.FAKE_REPORT, "date": _day(signal.closed_at, event),
              "summary": f"{signal.get_kind_display()}: {signal.closed_note}"[:2000],
              "public": True, "department": department, "event": event}
    if signal.kind in PRESENTED_KINDS:
        supplier = presenter_of(signal)
        if supplier is None:
            return
        record_create(
            entity=supplier, source_type=SIGNAL, source_id=signal.pk,
            source_ref=_("Report %(number)s presented on delivery papers, found false") % {
                "number": signal.number}, **common)
        return
    lab_entity = _lab_entity(signal.lab)
    if lab_entity is None:
        return
    source = (REPORT, signal.report_id) if signal.report_id else (SIGNAL, signal.pk)
    record_create(
        entity=lab_entity, source_type=source[0], source_id=source[1],
        source_ref=_("Report %(number)s found false on a fake-report signal") % {
            "number": signal.number}, **common)


# --- random inspections ---------------------------------------------------------------------

def _inspection_record(event, kind: str) -> None:
    from zhijian.inspections.models import Task

    task = (Task.objects.select_related("entity", "plan__lead_department")
            .filter(pk=event.aggregate_id).first())
    if task is None:
        return
    record_create(
        entity=task.entity, kind=kind, date=_day(task.completed_at, event),
        source_type=TASK, source_id=task.pk,
        source_ref=_("Inspection under plan %(plan)s") % {"plan": task.plan.code},
        summary=task.summary or task.get_outcome_display(), public=True,
        department=task.plan.lead_department, event=event)


@subscribe("inspection.problem_found")
def inspection_problem(event) -> None:
    _inspection_record(event, RecordKind.INSPECTION_PROBLEM)


@subscribe("inspection.completed")
def inspection_clean(event) -> None:
    from zhijian.inspections.choices import Outcome

    if event.payload.get("outcome") == Outcome.NO_PROBLEM:
        _inspection_record(event, RecordKind.INSPECTION_CLEAN)


# --- recalls --------------------------------------------------------------------------------

@subscribe("recall.opened")
def recall_ordered(event) -> None:
    from zhijian.recalls.models import Recall

    recall = (Recall.objects.select_related("maker", "department")
              .filter(pk=event.payload.get("recall")).first())
    if recall is None:
        return
    record_create(
        entity=recall.maker, kind=RecordKind.RECALL_ORDERED,
        date=_day(recall.opened_at, event), source_type=RECALL, source_id=recall.pk,
        source_ref=_("Recall %(number)s") % {"number": recall.number},
        summary=f"{recall.product_name} · {recall.lot}: {recall.reason}"[:2000],
        public=True, department=recall.department, event=event)

