"""Writes of purchasing and acceptance (M2.5): qualified-supplier lists whose standing
follows the regulator's data, appeals against removal, deliveries with the reports that
cover them, witness inspections of key materials, acceptance checks that verify every
report and store what they saw, and one-step referrals of rejected deliveries to the
competent department.

Each write runs in one transaction, checks the actor's right, writes, audits and
publishes its domain event. The standing itself is the pure module `standing.py`; the
facts it rates come from FACT_PROVIDERS (below), the extension point the quality-credit
module will add its penalties and blacklist to (docs/supplier-standing.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhijian.core import audit, events, rules
from zhijian.core.access import Denied, scope_of
from zhijian.registry.models import Department, Lab, MarketEntity, ProductCategory

from . import access, standing
from .choices import REASON_LABELS, AppealStatus, DeliveryStatus, Standing, WitnessResult
from .models import (
    AcceptanceCheck,
    Appeal,
    Delivery,
    Referral,
    Supplier,
    SupplierList,
    WitnessInspection,
)

RULE_KEY = "procurement.standing"
MIN_GROUNDS = 10

SUPPLIER_FIELDS = ["supplier_list", "entity", "standing", "score", "reasons", "rule_version",
                   "override_rules", "override_until", "note"]


# --- facts ------------------------------------------------------------------------------------

def _local_day(value) -> dt.date:
    return timezone.localdate(value) if isinstance(value, dt.datetime) else value


def reports_facts(*, entity_id: int, user_unit_id: int, on: dt.date) -> dict[str, list]:
    """From the test reports on the entity's products: failed supervisory samplings (issued
    and current, with their category), revoked reports, open fake-report signals."""
    from zhijian.reports.choices import Conclusion, ReportKind, ReportStatus
    from zhijian.reports.models import Report, Signal

    failed = [{"date": issued, "ref": number, "category": code}
              for number, issued, code in Report.objects.filter(
                  producer_id=entity_id, kind=ReportKind.SUPERVISORY,
                  conclusion=Conclusion.FAIL, status=ReportStatus.ISSUED,
                  issued_on__isnull=False).values_list("number", "issued_on", "category__code")]
    revoked = []
    for number, issued, revoked_at in Report.objects.filter(
            producer_id=entity_id, status=ReportStatus.REVOKED).values_list(
            "number", "issued_on", "revocation__revoked_at"):
        day = _local_day(revoked_at) if revoked_at else issued
        if day is not None:
            revoked.append({"date": day, "ref": number})
    signals = [{"date": _local_day(found), "ref": f"{number} {kind}"}
               for number, kind, found in Signal.objects.filter(
                   closed_at__isnull=True, report__producer_id=entity_id).values_list(
                   "number", "kind", "found_at")]
    return {"failed_samplings": failed, "revoked_reports": revoked,
            "fake_report_signals": signals}


def inspections_facts(*, entity_id: int, user_unit_id: int, on: dt.date) -> dict[str, list]:
    """Completed random inspections of the entity that found problems."""
    from zhijian.inspections.choices import PROBLEM_OUTCOMES, TaskStatus
    from zhijian.inspections.models import Task

    return {"inspection_problems": [
        {"date": _local_day(done), "ref": code}
        for code, done in Task.objects.filter(
            entity_id=entity_id, status=TaskStatus.COMPLETED, outcome__in=PROBLEM_OUTCOMES,
            completed_at__isnull=False).values_list("plan__code", "completed_at")]}


def deliveries_facts(*, entity_id: int, user_unit_id: int, on: dt.date) -> dict[str, list]:
    """This user unit's own deliveries from the supplier that stand rejected, dated by the
    acceptance check that rejected them."""
    rows = (Delivery.objects.filter(user_unit_id=user_unit_id, supplier_id=entity_id,
                                    status=DeliveryStatus.REJECTED)
            .annotate(rejected_at=Max("checks__checked_at", filter=Q(checks__accepted=False)))
            .values_list("number", "rejected_at", "delivered_on"))
    return {"rejected_deliveries": [
        {"date": _local_day(rejected) if rejected else delivered, "ref": number}
        for number, rejected, delivered in rows]}


#: The sources of a supplier's facts, in order. Each is called with keyword arguments
#: entity_id, user_unit_id and on (the day of the rating) and returns {kind: [facts]}
#: with kinds of standing.FACT_KINDS; the lists of all providers are joined. The
#: quality-credit module appends its provider of "penalties" and "blacklist" here
#: (procurement.services.FACT_PROVIDERS.append(...) in its AppConfig.ready()); the rule
#: procurement.standing already names both, so nothing else changes when it arrives.
FACT_PROVIDERS: list[Callable[..., dict[str, list]]] = [
    reports_facts,
    inspections_facts,
    deliveries_facts,
]


def supplier_facts(*, entity_id: int, user_unit_id: int, category_code: str,
                   on: dt.date) -> dict:
    """Every fact about a supplier, from every provider, as standing.rate() takes them."""
    facts: dict = {"category": category_code, **{kind: [] for kind in standing.FACT_KINDS}}
    for provider in FACT_PROVIDERS:
        for kind, rows in provider(entity_id=entity_id, user_unit_id=user_unit_id,
                                   on=on).items():
            if kind not in standing.FACT_KINDS:
                raise ValueError(f"{provider.__qualname__} gave unknown facts {kind!r}")
            facts[kind].extend(rows)
    return facts


def _overrides(supplier: Supplier) -> list[tuple[str, dt.date]]:
    if not supplier.override_until:
        return []
    return [(code, supplier.override_until) for code in supplier.override_rules]


def rating_for(*, entity_id: int, supplier_list: SupplierList, on: dt.date,
               overrides=()) -> tuple[standing.Rating, rules.Rule]:
    rule = rules.get(RULE_KEY, on)
    facts = supplier_facts(entity_id=entity_id, user_unit_id=supplier_list.user_unit_id,
                           category_code=supplier_list.category.code, on=on)
    return standing.rate(facts, rule.value, on=on, overrides=overrides), rule


def reason_text(reason: dict) -> str:
    """One reason of a standing as a sentence: what, how many, and its effect."""
    label = str(REASON_LABELS.get(reason["code"], reason["code"]))
    facts = "、".join(reason.get("detail", {}).get("facts", []))
    if reason["hard"]:
        return _("%(label)s: %(facts)s (hard rule %(rule)s)") % {
            "label": label, "facts": facts, "rule": reason["rule"]}
    until = reason.get("detail", {}).get("set_aside_until")
    if until:
        return _("%(label)s: %(facts)s (hard rule %(rule)s, set aside on appeal until "
                 "%(until)s)") % {"label": label, "facts": facts, "rule": reason["rule"],
                                  "until": until}
    return _("%(label)s: %(facts)s (−%(points)d points)") % {
        "label": label, "facts": facts, "points": reason["points"]}


def reasons_text(reasons: list[dict], *, hard_only: bool = False) -> str:
    return "; ".join(reason_text(r) for r in reasons if r["hard"] or not hard_only)


# --- lists and suppliers ----------------------------------------------------------------------

def _own_unit(actor, message: str) -> int:
    """The user unit the actor acts for; anyone else is refused."""
    scope = scope_of(actor)
    if scope.role != "user_unit":
        raise Denied(message)
    return scope.org_id


@transaction.atomic
def supplier_list_create(*, actor, category_id) -> SupplierList:
    """Open the unit's qualified-supplier list for a product category."""
    unit_id = _own_unit(actor, _("Only a user unit keeps qualified-supplier lists."))
    category = ProductCategory.objects.filter(pk=category_id).first() if str(
        category_id).isdigit() else None
    if category is None:
        raise ValidationError({"category": _("Choose a product category from the catalogue.")})
    if SupplierList.objects.filter(user_unit_id=unit_id, category=category).exists():
        raise ValidationError({"category": _(
            "Your unit already has a qualified-supplier list for %(category)s.") % {
            "category": category.name}})
    sl = SupplierList.objects.create(user_unit_id=unit_id, category=category)
    audit.record(sl, action="supplier_list.created", actor=actor, before=None,
                 division=sl.user_unit.division_id)
    return sl


def _lock_own_list(actor, list_id) -> SupplierList:
    sl = access.get_or_404(access.lists_visible_to(actor).select_for_update(), list_id)
    if not access.is_unit_of(actor, sl.user_unit_id):
        raise Denied(_("Only the user unit that keeps this list can change it."))
    return sl


@dataclass
class ScreenResult:
    """What one listing screen (LISTING_SCREENS) found about a supplier put forward: it
    refuses the listing, or lets it through flagged, with its reasons as sentences.
    `settle(supplier=..., decision=...)` stores what was decided (supplier None: refused)."""

    name: str
    refused: bool
    flagged: bool
    refusals: list[str]
    flags: list[str]
    settle: Callable[..., None]
    ref: object = None


#: Screens run before a supplier is put on a list, each in its own transaction, so that
#: what they store (the quality-credit module's credit check of joint punishment
#: measures) stays stored whether the listing is then refused or made. Each is called with
#: keyword arguments actor, supplier_list, entity and on, and returns a ScreenResult. The
#: quality-credit module appends its screen in its AppConfig.ready().
LISTING_SCREENS: list[Callable[..., ScreenResult]] = []


def _listing_target(actor, list_id, entity_id, *, lock: bool) -> tuple[SupplierList, MarketEntity]:
    if lock:
        sl = _lock_own_list(actor, list_id)
    else:
        sl = access.get_or_404(access.lists_visible_to(actor).select_related(
            "category", "user_unit"), list_id)
        if not access.is_unit_of(actor, sl.user_unit_id):
            raise Denied(_("Only the user unit that keeps this list can change it."))
    entity = MarketEntity.objects.filter(pk=entity_id).first() if str(
        entity_id).isdigit() else None
    if entity is None:
        raise ValidationError({"entity": _(
            "No market entity has this identifier; choose the supplier from the register.")})
    if sl.suppliers.filter(entity=entity).exists():
        raise ValidationError({"entity": _("%(name)s is already on this list.") % {
            "name": entity.name}})
    return sl, entity


def _decision(sl: SupplierList, supplier: Supplier | None, refusal: str = "") -> str:
    where = {"category": sl.category.name, "unit": sl.user_unit.name}
    if supplier is None:
        return _("Not put on the qualified-supplier list for %(category)s of %(unit)s: "
                 "%(reason)s") % {**where, "reason": refusal}
    return _("Put on the qualified-supplier list for %(category)s of %(unit)s as %(standing)s "
             "(score %(score)d).") % {**where, "standing": supplier.get_standing_display(),
                                     "score": supplier.score}


def supplier_add(*, actor, list_id, entity_id, note: str = "",
                 now: dt.datetime | None = None) -> Supplier:
    """Put a supplier on the list, rated at once; refused, with the reasons, when a
    listing screen refuses it (a joint punishment measure) or a hard rule trips now.

    The screens run first, each in its own transaction; the listing is then tried in
    another, and what was decided is stored with each screen's result in a third. The
    supplier returned carries the screens' results as `screens`."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    sl, entity = _listing_target(actor, list_id, entity_id, lock=False)
    screens = [screen(actor=actor, supplier_list=sl, entity=entity, on=day)
               for screen in LISTING_SCREENS]
    try:
        supplier = _supplier_add(actor=actor, list_id=sl.pk, entity_id=entity.pk, note=note,
                                 now=now, screens=screens)
    except ValidationError as exc:
        refusal = " ".join(m for msgs in exc.message_dict.values() for m in msgs) if hasattr(
            exc, "error_dict") else " ".join(exc.messages)
        for screen in screens:
            screen.settle(supplier=None, decision=_decision(sl, None, refusal))
        raise
    for screen in screens:
        screen.settle(supplier=supplier, decision=_decision(sl, supplier))
    supplier.screens = screens
    return supplier


@transaction.atomic
def _supplier_add(*, actor, list_id, entity_id, note, now, screens) -> Supplier:
    sl, entity = _listing_target(actor, list_id, entity_id, lock=True)
    refusals = [line for s in screens if s.refused for line in s.refusals]
    if refusals:
        raise ValidationError({"entity": _(
            "%(name)s cannot be put on the list: joint punishment measures apply: "
            "%(reasons)s") % {"name": entity.name, "reasons": " ".join(refusals)}})
    rating, rule = rating_for(entity_id=entity.pk, supplier_list=sl,
                              on=timezone.localdate(now))
    if rating.standing == standing.REMOVED:
        raise ValidationError({"entity": _(
            "%(name)s cannot be put on the list: %(reasons)s.") % {
            "name": entity.name, "reasons": reasons_text(rating.reasons, hard_only=True)}})
    supplier = Supplier.objects.create(
        supplier_list=sl, entity=entity, standing=rating.standing, score=rating.score,
        reasons=rating.reasons, rule_version=rule.version, computed_at=now,
        note=(note or "").strip(), added_by=actor, added_at=now)
    audit.record(supplier, action="supplier.added", actor=actor, before=None,
                 division=sl.user_unit.division_id)
    return supplier


@transaction.atomic
def supplier_rerate(supplier: Supplier, *, now: dt.datetime | None = None) -> Supplier:
    """Compute the standing again from today's facts and store it (standing, score,
    reasons, rule version, when). A change is audited; a removal publishes
    "supplier.removed" with the reasons."""
    supplier = Supplier.objects.select_for_update().select_related(
        "supplier_list__category", "supplier_list__user_unit").get(pk=supplier.pk)
    now = now or timezone.now()
    day = timezone.localdate(now)
    overrides = _overrides(supplier)
    rating, rule = rating_for(entity_id=supplier.entity_id, supplier_list=supplier.supplier_list,
                              on=day, overrides=overrides)
    before = audit.snapshot(supplier, SUPPLIER_FIELDS)
    was = supplier.standing
    if supplier.override_until and supplier.override_until < day:
        supplier.override_rules, supplier.override_until = [], None  # the appeal has lapsed
    supplier.standing, supplier.score = rating.standing, rating.score
    supplier.reasons, supplier.rule_version = rating.reasons, rule.version
    supplier.computed_at = now
    supplier.save()
    after = audit.snapshot(supplier, SUPPLIER_FIELDS)
    if after != before:
        audit.append(audit.Change("supplier.rerated", "procurement.supplier", str(supplier.pk),
                                  before, after,
                                  division=supplier.supplier_list.user_unit.division_id),
                     actor=None)
    if supplier.standing == Standing.REMOVED and was != Standing.REMOVED:
        events.publish("supplier.removed", aggregate=supplier, payload={
            "supplier": supplier.pk, "entity": supplier.entity_id,
            "user_unit": supplier.supplier_list.user_unit_id,
            "reasons": [r["code"] for r in rating.reasons if r["hard"]]})
    return supplier


def suppliers_rerate_entity(entity_id: int, *, now: dt.datetime | None = None) -> int:
    """Re-rate every list entry naming the entity (after news about it); returns how many."""
    ids = list(Supplier.objects.filter(entity_id=entity_id).values_list("pk", flat=True))
    for pk in ids:
        supplier_rerate(Supplier(pk=pk), now=now)
    return len(ids)


def suppliers_rerate_all(*, now: dt.datetime | None = None) -> int:
    """Re-rate every list entry (nightly): facts age out of the look-back period and
    appeals lapse without any event."""
    ids = list(Supplier.objects.order_by("pk").values_list("pk", flat=True))
    for pk in ids:
        supplier_rerate(Supplier(pk=pk), now=now)
    return len(ids)


# --- appeals ----------------------------------------------------------------------------------

@transaction.atomic
def appeal_file(*, actor, supplier_id, grounds: str,
                now: dt.datetime | None = None) -> Appeal:
    """The removed supplier appeals against its removal (its own enterprise users)."""
    supplier = access.get_or_404(
        access.suppliers_visible_to(actor).select_for_update().select_related(
            "entity", "supplier_list__user_unit"), supplier_id)
    if not access.is_entity_of(actor, supplier.entity_id):
        raise Denied(_("Only the supplier itself can appeal against its removal."))
    if supplier.standing != Standing.REMOVED:
        raise ValidationError({"supplier": _(
            "%(name)s is on the list; only a removal can be appealed.") % {
            "name": supplier.entity.name}})
    if supplier.appeals.filter(status=AppealStatus.OPEN).exists():
        raise ValidationError({"supplier": _(
            "An appeal against this removal is already waiting for the user unit's "
            "decision.")})
    grounds = (grounds or "").strip()
    if len(grounds) < MIN_GROUNDS:
        raise ValidationError({"grounds": _(
            "Explain in at least %(n)d characters why the removal should be set aside.") % {
            "n": MIN_GROUNDS}})
    appeal = Appeal.objects.create(supplier=supplier, grounds=grounds, filed_by=actor,
                                   filed_at=now or timezone.now())
    audit.record(appeal, action="appeal.filed", actor=actor, before=None,
                 division=supplier.supplier_list.user_unit.division_id)
    events.publish("appeal.filed", aggregate=appeal, payload={
        "appeal": appeal.pk, "supplier": supplier.pk, "entity": supplier.entity_id,
        "user_unit": supplier.supplier_list.user_unit_id})
    return appeal


@transaction.atomic
def appeal_decide(*, actor, appeal_id, upheld: bool, decision: str,
                  until: dt.date | None = None, now: dt.datetime | None = None) -> Appeal:
    """The user unit decides an appeal. Upheld, the hard rules that removed the supplier
    are set aside until `until` and the supplier is re-rated at once."""
    appeal = access.get_or_404(access.appeals_visible_to(actor).select_for_update()
                               .select_related("supplier__supplier_list__user_unit"),
                               appeal_id)
    supplier = appeal.supplier
    unit = supplier.supplier_list.user_unit
    if not access.is_unit_of(actor, unit.pk):
        raise Denied(_("Only the user unit that keeps the list decides this appeal."))
    if appeal.status != AppealStatus.OPEN:
        raise ValidationError({"appeal": _("This appeal was already decided.")})
    now = now or timezone.now()
    errors = {}
    decision = (decision or "").strip()
    if not decision:
        errors["decision"] = _("Write the decision and its reasons; the supplier reads them.")
    if upheld:
        if until is None:
            errors["until"] = _("Give the day until which the removal is set aside.")
        elif until <= timezone.localdate(now):
            errors["until"] = _("The day until which the removal is set aside must be after "
                                "today.")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(appeal)
    appeal.status = AppealStatus.UPHELD if upheld else AppealStatus.DISMISSED
    appeal.decision, appeal.decided_by, appeal.decided_at = decision, actor, now
    if upheld:
        tripped = [r["code"] for r in supplier.reasons if r["hard"]]
        appeal.set_aside_rules, appeal.set_aside_until = tripped, until
        locked = Supplier.objects.select_for_update().get(pk=supplier.pk)
        supplier_before = audit.snapshot(locked, SUPPLIER_FIELDS)
        locked.override_rules = sorted(set(locked.override_rules) | set(tripped))
        locked.override_until = until
        locked.save(update_fields=["override_rules", "override_until"])
        audit.append(audit.Change("supplier.set_aside", "procurement.supplier",
                                  str(locked.pk), supplier_before,
                                  audit.snapshot(locked, SUPPLIER_FIELDS),
                                  reason=decision, division=unit.division_id), actor=actor)
    appeal.save()
    audit.record(appeal, action="appeal.decided", actor=actor, before=before,
                 division=unit.division_id)
    events.publish("appeal.decided", aggregate=appeal, payload={
        "appeal": appeal.pk, "supplier": supplier.pk, "entity": supplier.entity_id,
        "user_unit": unit.pk, "upheld": bool(upheld)})
    if upheld:
        supplier_rerate(supplier, now=now)
    return appeal


# --- deliveries -------------------------------------------------------------------------------

def lineage(code: str) -> list[str]:
    """A category code and its ancestors, the most specific first."""
    parts = code.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def listed_supplier(user_unit_id: int, entity_id: int, category: ProductCategory
                    ) -> Supplier | None:
    """The entry of the unit's list for the category (or the nearest ancestor with a list)
    naming the entity."""
    codes = lineage(category.code)
    rows = {s.supplier_list.category.code: s for s in Supplier.objects.filter(
        supplier_list__user_unit_id=user_unit_id, entity_id=entity_id,
        supplier_list__category__code__in=codes).select_related("supplier_list__category")}
    return next((rows[c] for c in codes if c in rows), None)


def needs_witness(category: ProductCategory) -> bool:
    """A key material (or a category under one) needs a witness inspection on acceptance."""
    return ProductCategory.objects.filter(code__in=lineage(category.code),
                                          key_material=True).exists()


def clean_numbers(numbers) -> list[str]:
    """The report numbers as given, trimmed, without blanks or repeats, in order."""
    out = []
    for n in numbers or ():
        n = str(n).strip()
        if n and n not in out:
            out.append(n)
    return out


def _scan_signals(numbers: list[str]) -> None:
    try:
        from zhijian.reports.services import signals_scan
    except ImportError as exc:
        raise ImportError(
            "procurement.delivery_record needs zhijian.reports.services.signals_scan (the "
            "fake-report screen of the reports app), which is not installed yet") from exc
    signals_scan(numbers=numbers)


DELIVERY_FIELDS = ["number", "supplier", "producer", "product", "product_name", "category",
                   "batch", "quantity", "unit", "site", "delivered_on"]


@transaction.atomic
def delivery_record(*, actor, data: dict, report_numbers, now: dt.datetime | None = None
                    ) -> Delivery:
    """Record a delivery with the report numbers on its papers: every number given is kept,
    those found on the platform are linked. Refused when the supplier is not on the unit's
    qualified-supplier list for the category (or was removed from it). The numbers are then
    screened for fake-report signals (reports.services.signals_scan)."""
    unit_id = _own_unit(actor, _("Only a user unit records deliveries to it."))
    now = now or timezone.now()
    data = {k: v for k, v in data.items() if k in DELIVERY_FIELDS}
    errors: dict[str, str] = {}
    number = str(data.get("number") or "").strip()
    if not number:
        errors["number"] = _("Give the delivery note number.")
    elif Delivery.objects.filter(user_unit_id=unit_id, number=number).exists():
        errors["number"] = _("Your unit already recorded a delivery with note number "
                             "%(number)s.") % {"number": number}
    supplier, producer, category = data.get("supplier"), data.get("producer"), data.get(
        "category")
    if supplier is None:
        errors["supplier"] = _("Name the supplier.")
    if producer is None:
        errors["producer"] = _("Name the producer.")
    if category is None:
        errors["category"] = _("Choose the product category.")
    product = data.get("product")
    if product is not None and producer is not None and product.entity_id != producer.pk:
        errors["product"] = _("This product is not one of the producer's products.")
    if not str(data.get("product_name") or "").strip():
        if product is not None:
            data["product_name"] = product.name
        else:
            errors["product_name"] = _("Give the product name.")
    if not str(data.get("batch") or "").strip():
        errors["batch"] = _("Give the batch number.")
    try:
        quantity = Decimal(str(data.get("quantity")))
        if not quantity.is_finite() or quantity <= 0:
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        errors["quantity"] = _("Give the quantity delivered (more than zero).")
    if not str(data.get("unit") or "").strip():
        errors["unit"] = _("Give the unit of the quantity, as on the reports (m, t, …).")
    if not str(data.get("site") or "").strip():
        errors["site"] = _("Say where the goods are for (the project or site).")
    delivered = data.get("delivered_on")
    if delivered is None:
        errors["delivered_on"] = _("Give the delivery date.")
    elif delivered > timezone.localdate(now):
        errors["delivered_on"] = _("The delivery date is in the future.")
    numbers = clean_numbers(report_numbers)
    if not numbers:
        errors["report_numbers"] = _("Give the number of at least one test report that "
                                     "covers this delivery, as printed on its papers.")
    if supplier is not None and category is not None and "supplier" not in errors:
        entry = listed_supplier(unit_id, supplier.pk, category)
        if entry is None:
            errors["supplier"] = _(
                "%(name)s is not on your qualified-supplier list for %(category)s: put it on "
                "the list first.") % {"name": supplier.name, "category": category.name}
        elif entry.standing == Standing.REMOVED:
            errors["supplier"] = _(
                "%(name)s was removed from your qualified-supplier list: %(reasons)s.") % {
                "name": supplier.name,
                "reasons": reasons_text(entry.reasons, hard_only=True)}
    if errors:
        raise ValidationError(errors)
    from zhijian.reports.choices import ReportStatus
    from zhijian.reports.models import Report

    delivery = Delivery(user_unit_id=unit_id, created_by=actor, claimed_numbers=numbers,
                        **{k: v for k, v in data.items() if k != "quantity"})
    delivery.number, delivery.quantity = number, quantity
    for name in ("product_name", "batch", "unit", "site"):
        setattr(delivery, name, str(getattr(delivery, name)).strip())
    delivery.full_clean(exclude=["reports", "created_by", "user_unit"])
    delivery.save()
    delivery.reports.set(Report.objects.filter(number__in=numbers).exclude(
        status=ReportStatus.DRAFT))
    audit.record(delivery, action="delivery.recorded", actor=actor, before=None,
                 division=delivery.user_unit.division_id)
    _scan_signals(numbers)
    return delivery


def _lock_own_delivery(actor, delivery_id, message: str) -> Delivery:
    delivery = access.get_or_404(
        access.deliveries_visible_to(actor).select_for_update(), delivery_id)
    if not access.is_unit_of(actor, delivery.user_unit_id):
        raise Denied(message)
    return Delivery.objects.select_related(
        "user_unit", "supplier", "producer", "category").get(pk=delivery.pk)


@transaction.atomic
def witness_record(*, actor, delivery_id, lab_id, witness: str, witnessed_on: dt.date,
                   result: str, report_number: str = "",
                   now: dt.datetime | None = None) -> WitnessInspection:
    """Record a witness inspection of the delivery (a sample taken before a witness and
    tested by a third-party lab)."""
    delivery = _lock_own_delivery(actor, delivery_id,
                                  _("Only the user unit that took the delivery records its "
                                    "witness inspections."))
    if delivery.status == DeliveryStatus.ACCEPTED:
        raise ValidationError({"delivery": _("This delivery was already accepted.")})
    now = now or timezone.now()
    errors: dict[str, str] = {}
    lab = Lab.objects.filter(pk=lab_id).first() if str(lab_id).isdigit() else None
    if lab is None:
        errors["lab"] = _("Choose the laboratory that tested the witnessed sample.")
    witness = (witness or "").strip()
    if not witness:
        errors["witness"] = _("Name the witness present when the sample was taken.")
    if witnessed_on is None:
        errors["witnessed_on"] = _("Give the day of the witness inspection.")
    elif witnessed_on > timezone.localdate(now):
        errors["witnessed_on"] = _("The witness inspection cannot be in the future.")
    elif witnessed_on < delivery.delivered_on:
        errors["witnessed_on"] = _("The witness inspection cannot come before the delivery "
                                   "(%(day)s).") % {"day": delivery.delivered_on.isoformat()}
    if result not in WitnessResult.values:
        errors["result"] = _("Choose the result: conforming or nonconforming.")
    report = None
    report_number = (report_number or "").strip()
    if report_number:
        from zhijian.reports.choices import ReportStatus
        from zhijian.reports.models import Report

        report = Report.objects.exclude(status=ReportStatus.DRAFT).filter(
            number=report_number).first()
        if report is None:
            errors["report_number"] = _("No issued report has the number %(number)s on the "
                                        "platform.") % {"number": report_number}
        elif lab is not None and report.lab_id != lab.pk:
            errors["report_number"] = _("Report %(number)s was issued by %(lab)s, not by the "
                                        "laboratory named.") % {
                "number": report_number, "lab": report.lab.name}
        elif report.producer_id != delivery.producer_id or report.batch != delivery.batch:
            errors["report_number"] = _("Report %(number)s is not about this delivery's "
                                        "producer and batch.") % {"number": report_number}
    if errors:
        raise ValidationError(errors)
    w = WitnessInspection.objects.create(
        delivery=delivery, lab=lab, witness=witness, witnessed_on=witnessed_on, result=result,
        report=report, recorded_by=actor, recorded_at=now)
    audit.record(w, action="witness.recorded", actor=actor, before=None,
                 division=delivery.user_unit.division_id)
    return w


# --- acceptance -------------------------------------------------------------------------------

def _finding(code: str, message: str, blocking: bool = True) -> dict:
    return {"code": code, "message": message, "blocking": blocking}


def _related(a: str, b: str) -> bool:
    return standing.related_categories(a, b)


def qty_text(value: Decimal) -> str:
    """A quantity as people write it: 1000, 150.5, 0.125 (at most 3 decimals)."""
    return f"{value.quantize(Decimal('0.001'), ROUND_HALF_UP).normalize():f}"


def claim_of(quantity: Decimal, coverage: Decimal, coverages: list[Decimal]) -> Decimal:
    """How much of one report a delivery claims. A delivery covered by several reports (in
    its unit) draws on each in proportion to what it covers, and never more than all of
    them together: claim = min(quantity, C) × coverage / C, C = sum of `coverages`
    (docs/acceptance.md, "Quantities")."""
    total = sum(coverages, Decimal(0))
    if total <= 0:
        return Decimal(0)
    return min(quantity, total) * coverage / total


def report_claims(report, *, current: Delivery) -> dict[int, Decimal]:
    """What each delivery on the platform that names the report claims of it: the
    delivery being checked and every other one in the report's unit that still stands (a
    rejected delivery went back), whichever user unit took it."""
    through = Delivery.reports.through
    rows = list(Delivery.objects.filter(reports=report, unit=report.unit)
                .exclude(status=DeliveryStatus.REJECTED).exclude(pk=current.pk)
                .values_list("pk", "quantity", "unit"))
    if current.unit == report.unit:
        rows.append((current.pk, current.quantity, current.unit))
    coverages: dict[int, list[Decimal]] = {pk: [] for pk, _q, _u in rows}
    units = {pk: unit for pk, _q, unit in rows}
    for pk, cov, unit in through.objects.filter(delivery_id__in=list(coverages)).values_list(
            "delivery_id", "report__quantity_covered", "report__unit"):
        if unit == units[pk]:
            coverages[pk].append(cov)
    return {pk: claim_of(q, report.quantity_covered, coverages[pk]) for pk, q, _u in rows}


@transaction.atomic
def acceptance_check(*, actor, delivery_id, note: str = "",
                     now: dt.datetime | None = None) -> AcceptanceCheck:
    """Check a delivery on arrival and decide: every report verified (found, genuine,
    valid) and matching the delivery, conforming, covering its quantity and not claimed
    beyond what it covers; the supplier on the list at this moment; a passed witness
    inspection for key materials. Stores every finding and everything checked; the
    delivery is then accepted or rejected."""
    from zhijian.reports.models import Report
    from zhijian.reports.services import reports_verify

    delivery = _lock_own_delivery(actor, delivery_id,
                                  _("Only the user unit that took the delivery checks it."))
    if delivery.status == DeliveryStatus.ACCEPTED:
        raise ValidationError({"delivery": _("This delivery was already accepted.")})
    now = now or timezone.now()
    findings: list[dict] = []
    numbers = list(delivery.claimed_numbers)
    verified = reports_verify(numbers) if numbers else {}
    category_codes = dict(ProductCategory.objects.values_list("pk", "code"))
    if not numbers:
        findings.append(_finding("no_reports", _("No test report was given with the "
                                                 "delivery.")))
    reports_checked: list[dict] = []
    counted: list[Report] = []
    for number in numbers:
        v = verified[number]
        row = {"verification": v.as_dict(), "matches": {}, "counted": False}
        reports_checked.append(row)
        if not v.found:
            findings.append(_finding("report_not_found", _(
                "Report %(number)s is not on the platform: ask the supplier for the genuine "
                "report or check the number with the laboratory.") % {"number": number}))
            continue
        for check in row["verification"]["checks"]:
            if not check["ok"]:
                code = "report_not_genuine" if check["key"] == "signature" else (
                    f"report_{check['key']}")
                findings.append(_finding(code, _("Report %(number)s: %(message)s") % {
                    "number": number, "message": check["message"]}))
        r = v.report
        report_category = category_codes.get(r.category_id, "")
        matches = {
            "producer": r.producer_id == delivery.producer_id,
            "batch": r.batch == delivery.batch,
            "category": _related(report_category, delivery.category.code),
            "unit": r.unit == delivery.unit,
            "conclusion": r.conclusion == "pass",
        }
        row["matches"] = matches
        row["report"] = {"producer": r.producer.uscc, "batch": r.batch,
                         "category": report_category, "conclusion": r.conclusion,
                         "quantity_covered": qty_text(r.quantity_covered), "unit": r.unit}
        if not matches["producer"]:
            findings.append(_finding("report_producer", _(
                "Report %(number)s is about products of %(other)s, not of the delivery's "
                "producer %(producer)s.") % {"number": number, "other": r.producer.name,
                                            "producer": delivery.producer.name}))
        if not matches["batch"]:
            findings.append(_finding("report_batch", _(
                "Report %(number)s covers batch %(other)s, not the delivered batch "
                "%(batch)s.") % {"number": number, "other": r.batch, "batch": delivery.batch}))
        if not matches["category"]:
            findings.append(_finding("report_category", _(
                "Report %(number)s is about category %(other)s, not %(category)s.") % {
                "number": number, "other": report_category,
                "category": delivery.category.code}))
        if not matches["conclusion"]:
            findings.append(_finding("report_nonconforming", _(
                "Report %(number)s concludes that the product is nonconforming.") % {
                "number": number}))
        if not matches["unit"]:
            findings.append(_finding("report_unit", _(
                "Report %(number)s counts in %(other)s, the delivery in %(unit)s: its "
                "quantity is not counted.") % {"number": number, "other": r.unit,
                                               "unit": delivery.unit}, blocking=False))
        if v.valid and all(matches.values()):
            row["counted"] = True
            counted.append(r)

    # Quantities: what the good reports cover, and what all deliveries claim of each.
    covered = sum((r.quantity_covered for r in counted), Decimal(0))
    claims = {}
    for r in counted:
        standing_claims = report_claims(r, current=delivery)
        total = sum(standing_claims.values(), Decimal(0))
        claims[r.number] = {"covers": qty_text(r.quantity_covered), "claimed": qty_text(total),
                            "deliveries": len(standing_claims)}
        if total > r.quantity_covered:
            findings.append(_finding("report_overclaimed", _(
                "Report %(number)s covers %(covers)s %(unit)s, but %(n)d deliveries together "
                "claim %(claimed)s %(unit)s of it.") % {
                "number": r.number, "covers": qty_text(r.quantity_covered), "unit": r.unit,
                "n": len(standing_claims), "claimed": qty_text(total)}))
    if numbers and covered < delivery.quantity:
        findings.append(_finding("quantity_not_covered", _(
            "The delivery is %(quantity)s %(unit)s, but its valid reports cover only "
            "%(covered)s %(unit)s.") % {"quantity": qty_text(delivery.quantity),
                                       "unit": delivery.unit, "covered": qty_text(covered)}))

    # The supplier's standing at this moment.
    entry = listed_supplier(delivery.user_unit_id, delivery.supplier_id, delivery.category)
    standing_checked = None
    rule_version = ""
    if entry is None:
        findings.append(_finding("supplier_not_listed", _(
            "%(name)s is no longer on your qualified-supplier list for %(category)s.") % {
            "name": delivery.supplier.name, "category": delivery.category.name}))
    else:
        entry = supplier_rerate(entry, now=now)
        rule_version = entry.rule_version
        standing_checked = {"supplier": entry.pk, "list": entry.supplier_list_id,
                            "entity": delivery.supplier.uscc, "standing": entry.standing,
                            "score": entry.score, "reasons": entry.reasons,
                            "rule": RULE_KEY, "rule_version": entry.rule_version,
                            "computed_at": entry.computed_at.isoformat()}
        if entry.standing == Standing.REMOVED:
            findings.append(_finding("supplier_removed", _(
                "%(name)s was removed from your qualified-supplier list: %(reasons)s.") % {
                "name": delivery.supplier.name,
                "reasons": reasons_text(entry.reasons, hard_only=True)}))
        elif entry.standing == Standing.WATCH:
            findings.append(_finding("supplier_watch", _(
                "%(name)s is under watch (score %(score)d): %(reasons)s.") % {
                "name": delivery.supplier.name, "score": entry.score,
                "reasons": reasons_text(entry.reasons)}, blocking=False))

    # Witness inspection of key materials.
    required = needs_witness(delivery.category)
    latest = delivery.witnesses.select_related("lab", "report").order_by(
        "-witnessed_on", "-id").first()
    witness_checked = {"required": required, "inspection": None}
    if latest is not None:
        witness_checked["inspection"] = {
            "id": latest.pk, "lab": latest.lab.name, "lab_cma": latest.lab.cma_number,
            "witness": latest.witness, "witnessed_on": latest.witnessed_on.isoformat(),
            "result": latest.result, "report": latest.report.number if latest.report else ""}
    if required:
        if latest is None:
            findings.append(_finding("witness_missing", _(
                "%(category)s is a key material: record a witness inspection by a "
                "third-party laboratory before accepting it.") % {
                "category": delivery.category.name}))
        elif latest.result != WitnessResult.PASS:
            findings.append(_finding("witness_failed", _(
                "The witness inspection of %(day)s found the product nonconforming.") % {
                "day": latest.witnessed_on.isoformat()}))

    accepted = not any(f["blocking"] for f in findings)
    checked = {
        "reports": reports_checked,
        "standing": standing_checked,
        "quantities": {"delivered": qty_text(delivery.quantity), "unit": delivery.unit,
                       "covered": qty_text(covered), "claims": claims},
        "witness": witness_checked,
    }
    check = AcceptanceCheck.objects.create(
        delivery=delivery, checked_at=now, checked_by=actor, accepted=accepted,
        findings=findings, checked=checked, rule_version=rule_version,
        note=(note or "").strip())
    audit.record(check, action="acceptance.checked", actor=actor, before=None,
                 division=delivery.user_unit.division_id)
    before = audit.snapshot(delivery, ["status"])
    delivery.status = DeliveryStatus.ACCEPTED if accepted else DeliveryStatus.REJECTED
    delivery.save(update_fields=["status"])
    audit.record(delivery, action="delivery.accepted" if accepted else "delivery.rejected",
                 actor=actor, before=before, division=delivery.user_unit.division_id)
    events.publish("delivery.accepted" if accepted else "delivery.rejected",
                   aggregate=delivery, payload={
                       "delivery": delivery.pk, "supplier": delivery.supplier_id,
                       "producer": delivery.producer_id, "category": delivery.category.code,
                       "batch": delivery.batch, "user_unit": delivery.user_unit_id})
    return check


# --- referrals --------------------------------------------------------------------------------

def referral_text(delivery: Delivery) -> str:
    """What a referral says by default: the delivery and the blocking findings of its
    latest check."""
    latest = delivery.checks.order_by("-checked_at", "-id").first()
    lines = [_("Delivery %(number)s of %(product)s, batch %(batch)s, %(quantity)s %(unit)s, "
               "from %(supplier)s (producer %(producer)s), for %(site)s, was rejected on "
               "acceptance:") % {
        "number": delivery.number, "product": delivery.product_name, "batch": delivery.batch,
        "quantity": qty_text(delivery.quantity), "unit": delivery.unit,
        "supplier": delivery.supplier.name, "producer": delivery.producer.name,
        "site": delivery.site}]
    if latest is not None:
        lines += [f"- {f['message']}" for f in latest.findings if f["blocking"]]
    return "\n".join(lines)


@transaction.atomic
def delivery_refer(*, actor, delivery_id, text: str = "",
                   now: dt.datetime | None = None) -> Referral:
    """Report a rejected delivery to the department that answers for its category where
    the user unit is (Department.objects.responsible_for), in one step."""
    delivery = _lock_own_delivery(actor, delivery_id,
                                  _("Only the user unit that took the delivery reports it."))
    if delivery.status != DeliveryStatus.REJECTED:
        raise ValidationError({"delivery": _("Only a rejected delivery can be reported to "
                                             "the competent department.")})
    earlier = delivery.referrals.select_related("department").first()
    if earlier is not None:
        raise ValidationError({"delivery": _(
            "This delivery was already reported to %(department)s on %(day)s.") % {
            "department": earlier.department.name,
            "day": timezone.localdate(earlier.referred_at).isoformat()}})
    department = Department.objects.responsible_for(delivery.category.code,
                                                    delivery.user_unit.division_id)
    if department is None:
        raise ValidationError({"delivery": _(
            "No department on the platform answers for %(category)s in your division; "
            "report the delivery to your market supervision bureau directly.") % {
            "category": delivery.category.name}})
    text = (text or "").strip() or referral_text(delivery)
    referral = Referral.objects.create(delivery=delivery, department=department, text=text,
                                       referred_by=actor, referred_at=now or timezone.now())
    audit.record(referral, action="delivery.referred", actor=actor, before=None,
                 division=department.division_id)
    events.publish("delivery.referred", aggregate=referral, payload={
        "referral": referral.pk, "delivery": delivery.pk, "department": department.pk,
        "supplier": delivery.supplier_id, "producer": delivery.producer_id,
        "category": delivery.category.code, "batch": delivery.batch,
        "user_unit": delivery.user_unit_id})
    return referral


@transaction.atomic
def referral_acknowledge(*, actor, referral_id, now: dt.datetime | None = None) -> Referral:
    """An officer of the department the delivery was referred to acknowledges it."""
    referral = access.get_or_404(access.referrals_visible_to(actor).select_for_update(),
                                 referral_id)
    if not access.is_officer_of(actor, referral.department_id):
        raise Denied(_("Only officers of the department it was referred to acknowledge "
                       "it."))
    if referral.acknowledged_at is not None:
        raise ValidationError({"referral": _("This referral was already acknowledged.")})
    before = audit.snapshot(referral)
    referral.acknowledged_at = now or timezone.now()
    referral.save(update_fields=["acknowledged_at"])
    audit.record(referral, action="referral.acknowledged", actor=actor, before=before,
                 division=referral.department.division_id)
    return referral

