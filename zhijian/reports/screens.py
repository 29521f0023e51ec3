"""Fake-report screens (虚假报告线索, M2.4): plain functions over plain data, each returning
the findings it makes with the parameters of their explanation.

A finding is a reason to look, not a conclusion: zhijian/reports/signals.py turns new
findings into Signal rows that a regulator reads and closes with a note. The screens are
specified, with worked examples, in docs/fake-report-signals.md:

- over_coverage: the deliveries citing a report claim more than it covers (same unit), or
  cite it for a batch other than the report's own;
- issued_before_receipt: issued before the sample was received (by the report's own date,
  or by the lab's recorded receipt of a supervisory sample), or the sample not received;
- identical_values: the same standard and the same measured values (three items or more)
  as an earlier report on another batch or of another producer;
- over_capacity: a lab's reports issued in a calendar month beyond its recorded monthly
  capacity and the tolerance of rule reports.capacity_tolerance_percent;
- out_of_scope: a tested parameter outside the lab's accredited scope on the issue day;
- unknown_number: a number on delivery papers that is no issued report on the platform.

Pure: no Django import; dates are datetime.date, quantities decimal.Decimal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from .verification import ScopeLine

OVER_COVERAGE = "over_coverage"
ISSUED_BEFORE_RECEIPT = "issued_before_receipt"
IDENTICAL_VALUES = "identical_values"
OVER_CAPACITY = "over_capacity"
OUT_OF_SCOPE = "out_of_scope"
UNKNOWN_NUMBER = "unknown_number"

#: Fewer measured values than this are too common to call a copy.
MIN_IDENTICAL_ITEMS = 3

__all__ = [
    "DeliveryFacts", "Finding", "Item", "ReportFacts", "ScopeLine", "fingerprint",
    "identical_values", "issued_before_receipt", "month_of", "out_of_scope", "over_capacity",
    "over_coverage", "unknown_number",
]


@dataclass(frozen=True)
class Item:
    """A test item as the report states it."""

    parameter: str
    measured: str
    unit: str = ""
    verdict: str = "pass"  # pass | fail | na


@dataclass(frozen=True)
class ReportFacts:
    """What the screens read of an issued report."""

    number: str
    lab: int
    producer: int
    batch: str
    quantity_covered: Decimal
    unit: str
    standard: str  # the standard's code
    issued_on: dt.date | None
    received_on: dt.date | None = None
    sample: str | None = None  # the sample's code, when the report names one
    sample_received_on: dt.date | None = None  # the lab's recorded receipt of the sample
    items: tuple[Item, ...] = ()
    producer_name: str = ""


@dataclass(frozen=True)
class DeliveryFacts:
    """A delivery to a user unit and the report numbers on its papers."""

    id: int
    number: str  # the delivery note number
    user_unit: str  # the user unit's name
    producer: int
    batch: str
    quantity: Decimal
    unit: str
    report_numbers: tuple[str, ...] = ()
    # (number, quantity covered) of every report on the platform the delivery cites for its
    # own batch and unit: a delivery covered by several reports draws on each in proportion.
    covers: tuple[tuple[str, Decimal], ...] = ()

    def claim_on(self, number: str, covered: Decimal) -> Decimal:
        """How much of this delivery rests on report `number`: all of it when that is the
        only report covering it, else min(q, C) × c / C with C the reports' total cover
        (the same sharing as the acceptance check, docs/acceptance.md)."""
        total = sum((c for n, c in self.covers), Decimal(0))
        if len(self.covers) < 2 or total <= 0 or number not in dict(self.covers):
            return self.quantity
        return (min(self.quantity, total) * covered / total).quantize(Decimal("0.001"))


@dataclass(frozen=True)
class Finding:
    """One thing a screen found: the signal kind, the report number it is about, a key
    that makes it unique for that number and kind, the explanation's message code and its
    parameters."""

    kind: str
    number: str
    key: str
    code: str
    params: dict = field(default_factory=dict)


# --- attached to more than it covers -------------------------------------------------------

def over_coverage(report: ReportFacts, deliveries: Iterable[DeliveryFacts]) -> list[Finding]:
    """The deliveries that cite the report (its number is on their papers):

    - in the report's unit, they claim in total more than its quantity_covered (a delivery
      covered by several reports for its batch claims on each its proportional share)
      (key "quantity:<total>", so that a later delivery that raises the total again is a
      new finding); deliveries in another unit are not added up;
    - one finding per batch other than the report's own that they cite it for
      ("batch:<batch>"). A report covers one batch, so deliveries citing it for more than
      one distinct batch always cite it for a batch not its own; the explanation says how
      many distinct batches they name.
    """
    citing = sorted((d for d in deliveries if report.number in d.report_numbers),
                    key=lambda d: (d.number, d.id))
    if not citing:
        return []
    out = []
    same_unit = [d for d in citing if d.unit == report.unit]
    total = sum((d.claim_on(report.number, report.quantity_covered) for d in same_unit),
                Decimal(0))
    if total > report.quantity_covered:
        out.append(Finding(OVER_COVERAGE, report.number, f"quantity:{_plain(total)}",
                           "over_quantity", {
                               "number": report.number, "total": total,
                               "covered": report.quantity_covered, "unit": report.unit,
                               "deliveries": [d.number for d in same_unit]}))
    batches = sorted({d.batch for d in citing})
    for batch in batches:
        if batch == report.batch:
            continue
        out.append(Finding(OVER_COVERAGE, report.number, f"batch:{batch}", "other_batch", {
            "number": report.number, "batch": batch, "covered_batch": report.batch,
            "batches": len(batches),
            "deliveries": [d.number for d in citing if d.batch == batch]}))
    return out


# --- issued before the sample was received -------------------------------------------------

def issued_before_receipt(report: ReportFacts) -> list[Finding]:
    """Issued earlier than the sample-receipt date the report states ("received_on"); and,
    when the report names a sample, issued earlier than the day the lab recorded its
    receipt ("sample_received"), or the lab has not recorded receiving it ("sample")."""
    issued = report.issued_on
    if issued is None:
        return []
    out = []
    if report.received_on is not None and issued < report.received_on:
        out.append(Finding(ISSUED_BEFORE_RECEIPT, report.number, "received_on",
                           "issued_before_received", {
                               "number": report.number, "issued_on": issued,
                               "received_on": report.received_on}))
    if report.sample is not None:
        if report.sample_received_on is None:
            out.append(Finding(ISSUED_BEFORE_RECEIPT, report.number, "sample",
                               "sample_not_received", {
                                   "number": report.number, "issued_on": issued,
                                   "sample": report.sample}))
        elif issued < report.sample_received_on:
            out.append(Finding(ISSUED_BEFORE_RECEIPT, report.number, "sample_received",
                               "issued_before_sample_received", {
                                   "number": report.number, "issued_on": issued,
                                   "sample": report.sample,
                                   "received_on": report.sample_received_on}))
    return out


# --- values identical to another report ----------------------------------------------------

def fingerprint(standard: str, items: Iterable[Item]) -> str | None:
    """SHA-256 (hex) of the UTF-8 bytes of the JSON array [standard, triples], the triples
    being the sorted [parameter, measured, unit] of every item, written with no spaces and
    no ASCII escaping; None when the report has fewer than MIN_IDENTICAL_ITEMS items."""
    triples = sorted([i.parameter, i.measured, i.unit] for i in items)
    if len(triples) < MIN_IDENTICAL_ITEMS:
        return None
    text = json.dumps([standard, triples], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _issue_order(r: ReportFacts) -> tuple:
    return (r.issued_on or dt.date.min, r.number)


def identical_values(report: ReportFacts, others: Iterable[ReportFacts]) -> list[Finding]:
    """One finding ("same_as:<number>") per earlier report (by issue date, then number)
    with the same fingerprint that is on a different batch or of a different producer.
    The finding goes on the later report of the pair, the likelier copy; a replacement
    report of the same batch repeats its values legitimately."""
    mine = fingerprint(report.standard, report.items)
    if mine is None:
        return []
    out = []
    for other in sorted(others, key=lambda r: r.number):
        if other.number == report.number or _issue_order(other) >= _issue_order(report):
            continue
        if (other.producer, other.batch) == (report.producer, report.batch):
            continue
        if fingerprint(other.standard, other.items) != mine:
            continue
        out.append(Finding(IDENTICAL_VALUES, report.number, f"same_as:{other.number}",
                           "identical_values", {
                               "number": report.number, "batch": report.batch,
                               "other": other.number, "other_batch": other.batch,
                               "other_producer": other.producer_name,
                               "same_producer": other.producer == report.producer,
                               "standard": report.standard, "count": len(report.items)}))
    return out


# --- beyond the lab's capacity -------------------------------------------------------------

def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and the last day of the calendar month of `day`."""
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def over_capacity(*, lab: int, lab_name: str, capacity: int, tolerance_percent,
                  month: dt.date, issued: Sequence[str]) -> list[Finding]:
    """`issued`: the numbers of the lab's reports issued in the calendar month of `month`,
    in the order they were issued. The limit is floor(capacity × (1 + tolerance / 100));
    more reports than that is one finding per lab and month ("lab:<id>:<YYYY-MM>") about
    the first report beyond the limit."""
    tolerance = Fraction(str(tolerance_percent))
    limit = int(capacity * (1 + tolerance / 100))  # floor: both are non-negative
    if len(issued) <= limit:
        return []
    first = issued[limit]
    label = f"{month:%Y-%m}"
    return [Finding(OVER_CAPACITY, first, f"lab:{lab}:{label}", "over_capacity", {
        "number": first, "lab": lab_name, "lab_id": lab, "month": label,
        "count": len(issued), "capacity": capacity,
        "tolerance": _plain(Decimal(str(tolerance_percent))), "limit": limit})]


# --- outside the accredited scope ----------------------------------------------------------

def _valid(line: ScopeLine, day: dt.date) -> bool:
    return line.valid_from <= day and (line.valid_to is None or day <= line.valid_to)


def out_of_scope(report: ReportFacts, scope: Iterable[ScopeLine]) -> list[Finding]:
    """On the issue day: no scope line of the lab for the report's standard ("standard"),
    or, per tested parameter (items not marked not-applicable), no line for it or for the
    whole standard (an empty parameter) ("parameter:<parameter>")."""
    day = report.issued_on
    if day is None:
        return []
    lines = [ln for ln in scope if ln.standard == report.standard and _valid(ln, day)]
    if not lines:
        return [Finding(OUT_OF_SCOPE, report.number, "standard", "standard_out_of_scope", {
            "number": report.number, "standard": report.standard, "day": day})]
    if any(not ln.parameter for ln in lines):
        return []
    accredited = {ln.parameter for ln in lines}
    tested = dict.fromkeys(i.parameter for i in report.items if i.verdict != "na")
    return [Finding(OUT_OF_SCOPE, report.number, f"parameter:{p}", "parameter_out_of_scope", {
        "number": report.number, "parameter": p, "standard": report.standard, "day": day})
        for p in tested if p not in accredited]


# --- numbers that are not on the platform --------------------------------------------------

def unknown_number(number: str, *, issued: bool,
                   deliveries: Iterable[DeliveryFacts]) -> list[Finding]:
    """One finding per delivery ("delivery:<id>") whose papers give `number` when no issued
    report has that number (`issued` False: absent, or only a draft)."""
    if issued:
        return []
    return [Finding(UNKNOWN_NUMBER, number, f"delivery:{d.id}", "unknown_number", {
        "number": number, "delivery": d.number, "user_unit": d.user_unit,
        "delivery_id": d.id, "producer": d.producer})
        for d in sorted(deliveries, key=lambda d: d.id) if number in d.report_numbers]


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 1500.000 -> "1500", 2.50 -> "2.5"."""
    return format(value.normalize(), "f")
