"""Fake-report signals (虚假报告线索, M2.4): gather the facts of some report numbers in a few
queries, run the pure screens of screens.py over them, and record each new finding as a
Signal with its explanation; regulators with jurisdiction over the lab or the producer
read and close them.

A signal is a reason to look, not a finding of fact (docs/fake-report-signals.md). Scans
are idempotent: a finding that already has its Signal row (unique report number, kind and
key) is not recorded again, whether the earlier one is open or closed; "signal.raised" is
published for each new row only. Raising is not an act of a person, so it writes no audit
entry (the outbox event records it); closing is, and does.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhijian.core import audit, events, rules
from zhijian.core.access import Denied, not_found, scope_of
from zhijian.core.canonical import to_jsonable
from zhijian.registry.models import AccreditationScope, Lab

from . import screens
from .choices import ReportStatus, SignalKind, SignalOutcome
from .models import Report, ReportItem, Signal

CAPACITY_RULE = "reports.capacity_tolerance_percent"
SIGNAL_FIELDS = ["number", "kind", "key", "closed_at", "closed_note", "outcome"]

# The explanation of each finding (screens.Finding.code), with its parameters.
MESSAGES = {
    "over_quantity": gettext_lazy(
        "Deliveries cite report %(number)s for %(total)s %(unit)s; it covers %(covered)s "
        "%(unit)s (delivery notes: %(deliveries)s)."),
    "other_batch": gettext_lazy(
        "Deliveries cite report %(number)s for batch %(batch)s; it covers batch "
        "%(covered_batch)s only. The deliveries name %(batches)s batches for it in all "
        "(delivery notes for batch %(batch)s: %(deliveries)s)."),
    "issued_before_received": gettext_lazy(
        "Report %(number)s was issued on %(issued_on)s, before the date it gives for the "
        "receipt of the sample, %(received_on)s."),
    "issued_before_sample_received": gettext_lazy(
        "Report %(number)s was issued on %(issued_on)s, before the laboratory recorded "
        "receiving sample %(sample)s on %(received_on)s."),
    "sample_not_received": gettext_lazy(
        "Report %(number)s was issued on %(issued_on)s, but the laboratory has not recorded "
        "receiving sample %(sample)s."),
    "identical_values": gettext_lazy(
        "Report %(number)s (batch %(batch)s) gives exactly the same %(count)s measured values "
        "under %(standard)s as report %(other)s, which is about batch %(other_batch)s of "
        "%(other_producer)s."),
    "over_capacity": gettext_lazy(
        "%(lab)s issued %(count)s reports in %(month)s; its recorded capacity is "
        "%(capacity)s a month, %(limit)s with the tolerance of %(tolerance)s %%. Report "
        "%(number)s was the first beyond it."),
    "standard_out_of_scope": gettext_lazy(
        "On %(day)s, the day report %(number)s was issued, the laboratory's accredited scope "
        "did not include %(standard)s."),
    "parameter_out_of_scope": gettext_lazy(
        "On %(day)s, the day report %(number)s was issued, the parameter %(parameter)s of "
        "%(standard)s was outside the laboratory's accredited scope."),
    "unknown_number": gettext_lazy(
        "Delivery note %(delivery)s of %(user_unit)s gives report number %(number)s; no "
        "issued report on the platform has this number."),
}
QUANTITIES = {"total", "covered"}


# --- explanations ----------------------------------------------------------------------------

def quantity_text(text) -> str:
    """1500.000 -> "1,500"; 2.5 -> "2.5" (grouped thousands, no trailing zeros)."""
    value = Decimal(str(text)).normalize()
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))
    return f"{value:,f}"


def explain(code: str, params: dict) -> str:
    """The explanation of a finding in the active language."""
    values = {}
    for name, value in params.items():
        if name in QUANTITIES:
            value = quantity_text(value)
        elif isinstance(value, list):
            value = "、".join(str(v) for v in value)
        values[name] = value
    template = MESSAGES.get(code)
    return str(template) % values if template is not None else code


def explanation_of(signal: Signal) -> str:
    """A signal's explanation in the active language (stored in the default one)."""
    detail = signal.detail or {}
    if detail.get("code") in MESSAGES:
        return explain(detail["code"], detail.get("params") or {})
    return signal.explanation


# --- gathering the facts ---------------------------------------------------------------------

def _day(value) -> dt.date | None:
    return timezone.localdate(value) if isinstance(value, dt.datetime) else value


def _report_facts(reports: list[Report]) -> dict[int, screens.ReportFacts]:
    items: dict[int, list[screens.Item]] = defaultdict(list)
    for report_id, parameter, measured, unit, verdict in (
            ReportItem.objects.filter(report_id__in=[r.pk for r in reports])
            .order_by("report_id", "position")
            .values_list("report_id", "parameter", "measured", "unit", "verdict")):
        items[report_id].append(screens.Item(parameter, measured, unit, verdict))
    return {r.pk: _facts(r, items[r.pk]) for r in reports}


def _facts(r: Report, items) -> screens.ReportFacts:
    sample = r.sample if r.sample_id else None
    return screens.ReportFacts(
        number=r.number, lab=r.lab_id, producer=r.producer_id, batch=r.batch,
        quantity_covered=r.quantity_covered, unit=r.unit, standard=r.standard.code,
        issued_on=r.issued_on, received_on=r.received_on,
        sample=sample.code if sample is not None else None,
        sample_received_on=_day(sample.received_at) if sample is not None else None,
        items=tuple(items), producer_name=r.producer.name)


REPORT_FIELDS = ("id", "number", "lab_id", "producer_id", "batch", "quantity_covered", "unit",
                 "issued_on", "received_on", "sample_id", "category_id", "standard__code",
                 "producer__name", "producer__division_id", "sample__code",
                 "sample__received_at", "lab__name", "lab__monthly_capacity")


def _reports(qs) -> list[Report]:
    return list(qs.exclude(status=ReportStatus.DRAFT)
                .select_related("standard", "producer", "sample", "lab")
                .only(*REPORT_FIELDS))


def _delivery_model():
    from zhijian.procurement.models import Delivery

    return Delivery


def _delivery_facts(rows) -> list[screens.DeliveryFacts]:
    return [screens.DeliveryFacts(
        id=d.pk, number=d.number, user_unit=d.user_unit.name, producer=d.producer_id,
        batch=d.batch, quantity=d.quantity, unit=d.unit,
        report_numbers=tuple(str(n) for n in (d.claimed_numbers or []))
        + tuple(getattr(d, "linked_numbers", ())),
        covers=getattr(d, "covers", ())) for d in rows]


def _citing(report_ids: list[int]) -> dict[int, list]:
    """The deliveries linked to each report (procurement links the numbers it finds)."""
    if not report_ids:
        return {}
    Delivery = _delivery_model()
    through = Delivery.reports.through
    links = list(through.objects.filter(report_id__in=report_ids).values_list(
        "report_id", "delivery_id", "report__number"))
    deliveries = {d.pk: d for d in Delivery.objects.filter(
        pk__in={link[1] for link in links}).select_related("user_unit").only(
        "id", "number", "user_unit__name", "producer_id", "batch", "quantity", "unit",
        "claimed_numbers")}
    linked: dict[int, set] = defaultdict(set)
    for _report_id, delivery_id, number in links:
        linked[delivery_id].add(number)
    # What every report a delivery cites covers, for sharing its quantity among them.
    covers: dict[int, list] = defaultdict(list)
    for delivery_id, number, quantity, unit, batch in through.objects.filter(
            delivery_id__in=deliveries).values_list(
            "delivery_id", "report__number", "report__quantity_covered", "report__unit",
            "report__batch"):
        covers[delivery_id].append((number, quantity, unit, batch))
    for delivery_id, d in deliveries.items():
        d.linked_numbers = tuple(sorted(linked[delivery_id]))
        d.covers = tuple(sorted((number, quantity) for number, quantity, unit, batch
                                in covers[delivery_id]
                                if unit == d.unit and batch == d.batch))
    out: dict[int, list] = defaultdict(list)
    for report_id, delivery_id, _number in links:
        out[report_id].append(deliveries[delivery_id])
    return out


def _papers_citing(numbers: list[str]) -> list:
    """Deliveries whose papers give one of these numbers. The JSON list is searched as
    text (both spellings of non-ASCII characters), then each hit is confirmed."""
    if not numbers:
        return []
    import json

    Delivery = _delivery_model()
    condition = Q()
    for n in numbers:
        condition |= Q(claimed_numbers__icontains=n)
        escaped = json.dumps(n)[1:-1]
        if escaped != n:
            condition |= Q(claimed_numbers__icontains=escaped)
    wanted = set(numbers)
    return [d for d in Delivery.objects.filter(condition).select_related(
        "user_unit", "producer", "category").only(
        "id", "number", "user_unit__name", "producer_id", "producer__division_id",
        "category__code", "batch", "quantity", "unit", "claimed_numbers")
        if wanted.intersection(str(n) for n in (d.claimed_numbers or []))]


def _same_values(facts: list[screens.ReportFacts], by_number: dict[str, Report]
                 ) -> dict[str, list[screens.ReportFacts]]:
    """For each report with a fingerprint, the other issued reports with the same standard
    that share every one of its (parameter, measured, unit) triples: two queries for all."""
    wanted = [f for f in facts if screens.fingerprint(f.standard, f.items) is not None]
    if not wanted:
        return {}
    triples = Q()
    for f in wanted:
        for i in f.items:
            triples |= Q(parameter=i.parameter, measured=i.measured, unit=i.unit)
    standards = {by_number[f.number].standard_id for f in wanted}
    hits: dict[int, set] = defaultdict(set)
    for report_id, parameter, measured, unit in (
            ReportItem.objects.filter(triples, report__standard_id__in=standards)
            .exclude(report__status=ReportStatus.DRAFT)
            .exclude(report_id__in=[by_number[f.number].pk for f in wanted])
            .values_list("report_id", "parameter", "measured", "unit")):
        hits[report_id].add((parameter, measured, unit))
    candidates = [pk for pk, found in hits.items() if len(found) >= screens.MIN_IDENTICAL_ITEMS]
    others = list(_report_facts(_reports(Report.objects.filter(pk__in=candidates))).values())
    # The scanned reports are candidates for each other too.
    others += wanted
    return {f.number: others for f in wanted}


def _capacity(reports: list[Report]) -> list[screens.Finding]:
    """Each (lab, calendar month) of these reports: one aggregate query for the counts,
    then the numbers in issue order only where the count passes the limit."""
    months = {(r.lab_id, screens.month_of(r.issued_on)) for r in reports if r.issued_on}
    if not months:
        return []
    labs = {r.lab_id: r.lab for r in reports}
    first = min(m[0] for _, m in months)
    last = max(m[1] for _, m in months)
    counts = {(row["lab_id"], row["month"]): row["n"] for row in (
        Report.objects.exclude(status=ReportStatus.DRAFT)
        .filter(lab_id__in={lab for lab, _ in months}, issued_on__range=(first, last))
        .annotate(month=TruncMonth("issued_on")).values("lab_id", "month")
        .annotate(n=Count("id")).order_by())}
    out = []
    for lab_id, (start, end) in sorted(months):
        lab = labs[lab_id]
        count = counts.get((lab_id, start), 0)
        if count <= lab.monthly_capacity:
            # Below the capacity itself no tolerance can matter (it is never negative).
            continue
        try:
            tolerance = rules.get(CAPACITY_RULE, start).value
        except rules.RuleNotInForce:
            continue
        issued = list(Report.objects.exclude(status=ReportStatus.DRAFT)
                      .filter(lab_id=lab_id, issued_on__range=(start, end))
                      .order_by("issued_on", "id").values_list("number", flat=True))
        out += screens.over_capacity(lab=lab_id, lab_name=lab.name,
                                     capacity=lab.monthly_capacity,
                                     tolerance_percent=tolerance, month=start, issued=issued)
    return out


# --- the scan ------------------------------------------------------------------------------

@transaction.atomic
def signals_scan(*, numbers) -> list[Signal]:
    """Run every screen over these report numbers and record the new findings; returns
    the Signal rows created by this scan (none when everything was found before).

    Issued reports (current, revoked or superseded) are screened for over-coverage,
    receipt, identical values, scope and their lab's month; numbers that are no issued
    report are screened against the delivery papers that give them."""
    numbers = list(dict.fromkeys(s for s in (str(n).strip() for n in numbers or ()) if s))
    if not numbers:
        return []
    reports = _reports(Report.objects.filter(number__in=numbers))
    by_number = {r.number: r for r in reports}
    facts = _report_facts(reports)
    citing = _citing([r.pk for r in reports])
    scope: dict[int, list[screens.ScopeLine]] = defaultdict(list)
    for lab_id, code, parameter, start, end in AccreditationScope.objects.filter(
            lab_id__in={r.lab_id for r in reports}).values_list(
            "lab_id", "standard__code", "parameter", "valid_from", "valid_to"):
        scope[lab_id].append(screens.ScopeLine(code, parameter, start, end))
    same = _same_values(list(facts.values()), by_number)

    found: list[screens.Finding] = []
    for r in reports:
        f = facts[r.pk]
        found += screens.over_coverage(f, _delivery_facts(citing.get(r.pk, [])))
        found += screens.issued_before_receipt(f)
        found += screens.identical_values(f, same.get(r.number, []))
        found += screens.out_of_scope(f, scope[r.lab_id])
    found += _capacity(reports)
    unknown = [n for n in numbers if n not in by_number]
    papers = _papers_citing(unknown)
    delivery_rows = {d.pk: d for d in papers}
    paper_facts = _delivery_facts(papers)
    for n in unknown:
        found += screens.unknown_number(n, issued=False, deliveries=paper_facts)

    return _record(found, by_number, delivery_rows)


def _existing(found: list[screens.Finding]) -> set[tuple[str, str, str]]:
    """What is recorded already: (number, kind, key); an over-capacity finding is one per
    lab and month whichever report it names, so it is matched on (kind, key)."""
    if not found:
        return set()
    numbers = {f.number for f in found}
    capacity_keys = {f.key for f in found if f.kind == screens.OVER_CAPACITY}
    rows = Signal.objects.filter(
        Q(number__in=numbers) | Q(kind=SignalKind.OVER_CAPACITY, key__in=capacity_keys)
    ).values_list("number", "kind", "key")
    out = set()
    for number, kind, key in rows:
        out.add((number, kind, key))
        if kind == SignalKind.OVER_CAPACITY:
            out.add(("*", kind, key))
    return out


def _record(found, by_number: dict[str, Report], deliveries: dict) -> list[Signal]:
    seen = _existing(found)
    now = timezone.now()
    created = []
    for f in found:
        mark = ("*" if f.kind == screens.OVER_CAPACITY else f.number, f.kind, f.key)
        if mark in seen:
            continue
        seen.add(mark)
        report = by_number.get(f.number)
        params = to_jsonable(f.params)
        detail = {"code": f.code, "params": params}
        producer_id = report.producer_id if report is not None else None
        if f.kind == screens.UNKNOWN_NUMBER:
            d = deliveries[f.params["delivery_id"]]
            producer_id = d.producer_id
            detail |= {"producer_division": d.producer.division_id,
                       "category": d.category.code}
        with translation.override(settings.LANGUAGE_CODE):
            explanation = explain(f.code, params)
        # An over-capacity signal is about the lab, not the report's producer: it is not
        # linked to the report, so that it does not count against the producer.
        linked = report if f.kind not in (screens.OVER_CAPACITY, screens.UNKNOWN_NUMBER) \
            else None
        lab_id = f.params["lab_id"] if f.kind == screens.OVER_CAPACITY else (
            report.lab_id if report is not None else None)
        try:
            with transaction.atomic():
                signal = Signal.objects.create(
                    report=linked, number=f.number, kind=f.kind, key=f.key[:120],
                    lab_id=lab_id,
                    explanation=explanation, detail=detail, found_at=now)
        except IntegrityError:  # a concurrent scan recorded it first
            continue
        if f.kind == screens.OVER_CAPACITY:
            producer_id = None
        events.publish("signal.raised", aggregate=signal, payload={
            "signal": signal.pk, "kind": f.kind, "number": f.number,
            "lab": signal.lab_id, "producer": producer_id})
        created.append(signal)
    return created


# --- who sees and closes them ----------------------------------------------------------------

def signals_visible_to(user) -> QuerySet[Signal]:
    """Administrators see every signal; a regulator those whose lab or producer lies in
    their jurisdiction (division prefix), and, for a department with a sector scope, only
    those of a product category within it. Everyone else sees none."""
    scope = scope_of(user)
    qs = Signal.objects.all()
    if scope.is_admin:
        return qs
    if not scope.is_regulator:
        return qs.none()
    prefix = scope.prefix or ""
    place = (Q(lab__division__code__startswith=prefix)
             | Q(report__producer__division__code__startswith=prefix)
             | Q(report__isnull=True, detail__producer_division__startswith=prefix))
    if scope.sectors is not None:
        sectors = sorted(scope.sectors)
        place &= (Q(report__category__code__in=sectors)
                  | Q(report__isnull=True, detail__category__in=sectors))
    return qs.filter(pk__in=Signal.objects.filter(place).values("pk"))


def _division_of(signal: Signal) -> str:
    if signal.lab_id:
        return Lab.objects.filter(pk=signal.lab_id).values_list("division_id", flat=True)[0]
    return (signal.detail or {}).get("producer_division", "")


@transaction.atomic
def signal_close(*, actor, signal_id: int, note: str, outcome: str = "") -> Signal:
    """Close a signal with a note saying what was looked at and found, and optionally the
    outcome: "confirmed" (the report is false: a finding, which the credit module records
    against the party responsible, docs/credit-records.md) or "unfounded". Regulators with
    jurisdiction over the lab or the producer, and administrators (who may not confirm:
    a finding is a regulator's); a signal the actor may not see is absent (404)."""
    scope = scope_of(actor)
    if not (scope.is_admin or scope.is_regulator):
        raise Denied(_("Only regulators close fake-report signals."))
    if not signals_visible_to(actor).filter(pk=signal_id).exists():
        not_found()
    signal = Signal.objects.select_for_update().get(pk=signal_id)
    note = (note or "").strip()
    outcome = (outcome or "").strip()
    if outcome and outcome not in SignalOutcome.values:
        raise ValidationError({"outcome": _(
            "Choose the outcome: confirmed (the report is false), unfounded, or none.")})
    if outcome == SignalOutcome.CONFIRMED and not scope.is_regulator:
        raise ValidationError({"outcome": _(
            "Only a regulator may confirm that a report is false; close the signal without "
            "an outcome or as unfounded.")})
    if not note:
        raise ValidationError({"note": _(
            "Write a note: what you looked at and what you found.")})
    if signal.closed_at is not None:
        raise ValidationError({"note": _("This signal was already closed on %(day)s.")
                               % {"day": formats.date_format(
                                   timezone.localtime(signal.closed_at), "Y-m-d")}})
    before = audit.snapshot(signal, SIGNAL_FIELDS)
    signal.closed_at = timezone.now()
    signal.closed_note = note
    signal.outcome = outcome
    signal.save(update_fields=["closed_at", "closed_note", "outcome"])
    audit.record(signal, action="signal.closed", actor=actor, before=before, reason=note,
                 division=_division_of(signal))
    producer = (signal.report.producer_id if signal.report_id
                else (signal.detail or {}).get("params", {}).get("producer"))
    if signal.kind == SignalKind.OVER_CAPACITY:
        producer = None
    events.publish("signal.closed", aggregate=signal, payload={
        "signal": signal.pk, "kind": signal.kind, "number": signal.number,
        "lab": signal.lab_id, "producer": producer, "outcome": outcome,
        "department": scope.org_id if scope.is_regulator else None})
    return signal
