"""Writes of recalls (docs/recalls.md): proposal (from a failed batch, or by a regulator),
opening with the impact list and the notices, dismissal, acknowledgement of notices,
progress on each item, refresh of the impact list, completion.

Each write runs in one transaction, locks the recall row before it checks the transition
table (choices.TRANSITIONS), checks the actor's right (access.py), writes, appends the
audit entry and publishes its domain event ("recall.proposed", "recall.opened",
"recall.dismissed", "recall.item_updated", "recall.refreshed", "recall.completed").

The impact list is traceability.tracing.impact: every downstream holder and location of
the recalled batches with quantities, by tier. This module never walks the event store
itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhijian.core import audit, calendar, events, rules
from zhijian.core.access import Denied, scope_of
from zhijian.core.canonical import canonical_bytes
from zhijian.registry.models import Department, MarketEntity, Product, ProductCategory

from . import access
from .choices import (
    CLOSED_ITEM_STATUSES,
    ITEM_RANK,
    TRANSITIONS,
    ItemStatus,
    NoticeRole,
    RecallStatus,
    Severity,
    SourceKind,
    unit_symbol,
)
from .models import (
    Recall,
    RecallBatch,
    RecallItem,
    RecallItemUpdate,
    RecallNotice,
    RecallSource,
)

ACK_RULE = "recall.acknowledge_working_days"
COMPLETION_RULE = "recall.completion_working_days"
NUMBER_PREFIX = "ZJ-RC"
MIN_TEXT = 10
THOUSANDTH = Decimal("0.001")
QUANTITY_FIELDS = ("located", "removed", "replaced", "destroyed")
_GTIN = re.compile(r"^\d{13,14}$")


# --- helpers ----------------------------------------------------------------------------------

def _check(recall: Recall, target: str) -> None:
    """The transition table: refuse a move the workflow does not have."""
    if target not in TRANSITIONS[recall.status]:
        raise ValidationError({"status": _(
            "Recall %(number)s is %(status)s; it cannot be %(target)s now.") % {
            "number": recall.number, "status": recall.get_status_display(),
            "target": RecallStatus(target).label}})


def _lock(actor, recall_id) -> Recall:
    """The recall, locked, if the actor sees it (404 otherwise)."""
    visible = access.recalls_visible_to(actor)
    if not visible.filter(pk=recall_id).exists():
        access.not_found()
    return Recall.objects.select_for_update().select_related(
        "department", "category", "maker").get(pk=recall_id)


def _lock_to_act(actor, recall_id) -> Recall:
    recall = _lock(actor, recall_id)
    if not access.may_act(actor, recall):
        raise Denied(_("Only officers of %(department)s, or of a department above it, decide "
                       "on this recall.") % {"department": recall.department.name})
    return recall


def _division(recall: Recall) -> str:
    return recall.department.division_id


def valid_gtin(text: str) -> str:
    """A GTIN-13 or GTIN-14 with a correct check digit, as given (digits only); "" if not."""
    from zhijian.traceability.identifiers import gs1_check_digit

    text = (text or "").strip()
    if not _GTIN.match(text) or gs1_check_digit(text[:-1]) != text[-1]:
        return ""
    return text


def batch_identifiers(gtin: str, lot: str) -> list[str]:
    """The canonical identifiers of a batch (tracing.batch_identifier), or none without a
    GTIN."""
    if not gtin or not lot:
        return []
    from zhijian.traceability import tracing

    return [tracing.batch_identifier(gtin, lot)]


def department_for(category: ProductCategory, maker: MarketEntity) -> Department | None:
    """The department that answers for the category where the maker is."""
    return Department.objects.responsible_for(category.code, maker.division_id)


def _product_for(maker: MarketEntity, category: ProductCategory, product) -> Product | None:
    """The product named, or else the maker's one product with a GTIN in the category (or
    under it), if there is exactly one."""
    if product is not None:
        return product
    codes = ProductCategory.objects.expand([category.code])
    found = list(Product.objects.filter(entity=maker, category__code__in=codes)
                 .exclude(gtin="")[:2])
    return found[0] if len(found) == 1 else None


def _next_number(day: dt.date) -> str:
    prefix = f"{NUMBER_PREFIX}-{day.year}-"
    last = (Recall.objects.filter(number__startswith=prefix).order_by("-number")
            .values_list("number", flat=True).first())
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{n:04d}"


def _quantity(value) -> Decimal | None:
    """A stop's quantity (float) as the Decimal stored, to 0.001."""
    if value is None:
        return None
    return Decimal(repr(float(value))).quantize(THOUSANDTH)


def _rule_stamp(*ruled) -> str:
    return "+".join(f"{r.key}@{r.version}" for r in ruled) + f"/{calendar.data_version()}"


def _stored_text(fn, *args):
    """A text the platform writes into a record, in the site's language (a proposal made
    by a handler must not depend on the language of whoever triggered it)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(fn(*args))


ALL_CLOSED = gettext_lazy("Every item of the impact list is closed.")


# --- proposal ---------------------------------------------------------------------------------

def _source_reason(kind: str, reference: str, lot: str) -> str:
    texts = {
        SourceKind.REPORT: _("Test report %(ref)s concludes that batch %(lot)s is "
                             "nonconforming."),
        SourceKind.SAMPLE: _("A supervisory sample of batch %(lot)s was found nonconforming "
                             "(report %(ref)s)."),
        SourceKind.DELIVERY: _("Delivery %(ref)s of batch %(lot)s was rejected on "
                               "acceptance."),
    }
    return texts[kind] % {"ref": reference, "lot": lot}


def _matching(maker_id: int, lot: str, gtin: str) -> Recall | None:
    """The proposed or open recall of the same batch (same maker and lot, and the same GTIN
    where both know one), locked."""
    for recall in (Recall.objects.select_for_update()
                   .filter(maker_id=maker_id, lot=lot,
                           status__in=[RecallStatus.PROPOSED, RecallStatus.OPEN])
                   .order_by("id")):
        if not gtin or not recall.gtin or recall.gtin == gtin:
            return recall
    return None


@transaction.atomic
def recall_propose(*, actor, source_kind: str, maker_id, category_code: str, lot: str,
                   product_id=None, gtin: str = "", reference: str = "", object_id=None,
                   event_id=None, reason: str = "",
                   now: dt.datetime | None = None) -> Recall | None:
    """Propose a recall of a maker's batch, or add a source to the proposed or open recall
    of the same batch. Idempotent per domain event (`event_id`) and per source record.

    The platform proposes (actor None) from "report.nonconforming", "sample.nonconforming"
    and "delivery.rejected" (handlers.py); a regulator proposes by hand (source "manual")
    for a batch in the jurisdiction of a department they act for. Returns None when the
    proposal cannot be placed (no department answers for it)."""
    now = now or timezone.now()
    manual = source_kind == SourceKind.MANUAL
    if manual:
        scope = scope_of(actor)
        if not scope.is_regulator:
            raise Denied(_("Recalls are proposed by regulators."))
    elif source_kind not in SourceKind.values:
        raise ValueError(f"unknown source kind {source_kind!r}")
    if event_id is not None:
        found = RecallSource.objects.filter(event=event_id).select_related("recall").first()
        if found is not None:
            return found.recall

    errors: dict[str, str] = {}
    maker = (MarketEntity.objects.filter(pk=maker_id).first()
             if str(maker_id or "").isdigit() else None)
    if maker is None:
        errors["maker"] = _("Choose the maker from the register of market entities.")
    category = ProductCategory.objects.filter(code=(category_code or "").strip()).first()
    if category is None:
        errors["category"] = _("Choose the product category from the catalogue.")
    lot = (lot or "").strip()
    if not lot:
        errors["lot"] = _("Give the batch number of the goods to recall.")
    product = None
    if product_id not in (None, ""):
        product = (Product.objects.filter(pk=product_id).first()
                   if str(product_id).isdigit() else None)
        if product is None or (maker is not None and product.entity_id != maker.pk):
            errors["product"] = _("This product is not one of the maker's products.")
    gtin = (gtin or "").strip()
    if gtin and not valid_gtin(gtin):
        errors["gtin"] = _("%(gtin)s is not a GTIN: give its 13 or 14 digits with the check "
                           "digit.") % {"gtin": gtin}
    reason = (reason or "").strip()
    if manual and len(reason) < MIN_TEXT:
        errors["reason"] = _("Say in at least %(n)d characters why the batch must be "
                             "recalled.") % {"n": MIN_TEXT}
    if errors:
        if not manual:
            return None  # an event about records that no longer hold together: nothing to do
        raise ValidationError(errors)

    product = _product_for(maker, category, product)
    gtin = gtin or (product.gtin if product is not None else "")
    if not manual:
        reason = _stored_text(_source_reason, source_kind, reference, lot)

    recall = _matching(maker.pk, lot, gtin)
    created = recall is None
    if created:
        department = department_for(category, maker)
        if department is None:
            if manual:
                raise ValidationError({"maker": _(
                    "No department on the platform answers for %(category)s where %(maker)s "
                    "is.") % {"category": category.name, "maker": maker.name}})
            return None
        recall = Recall(
            number=_next_number(timezone.localdate(now)), maker=maker, product=product,
            product_name=product.name if product else category.name, category=category,
            gtin=gtin, lot=lot, department=department, reason=reason, proposed_at=now)
        if manual:
            recall.department = department
            if not access.may_act(actor, recall):
                raise Denied(_("The batch is outside your jurisdiction: %(department)s answers "
                               "for it.") % {"department": department.name})
        recall.save()
        before = None
    else:
        if manual and not access.may_act(actor, recall):
            raise Denied(_("Recall %(number)s of this batch is decided by %(department)s.") % {
                "number": recall.number, "department": recall.department.name})
        before = audit.snapshot(recall)
        if gtin and not recall.gtin:
            recall.gtin = gtin
        if product is not None and recall.product_id is None:
            recall.product, recall.product_name = product, product.name
        if recall.status == RecallStatus.PROPOSED and reason not in recall.reason:
            recall.reason = f"{recall.reason}\n{reason}"
        recall.save()
    for identifier in batch_identifiers(recall.gtin, recall.lot):
        RecallBatch.objects.get_or_create(recall=recall, identifier=identifier)
    if object_id is not None and RecallSource.objects.filter(
            recall=recall, kind=source_kind, object_id=object_id).exists():
        return recall  # the same record again (e.g. a second event about it)
    RecallSource.objects.create(recall=recall, kind=source_kind, object_id=object_id,
                                reference=(reference or "")[:80], event=event_id,
                                added_at=now)
    if created:
        audit.record(recall, action="recall.proposed", actor=actor, before=None,
                     division=_division(recall))
        events.publish("recall.proposed", aggregate=recall, payload={
            "recall": recall.pk, "number": recall.number, "maker": maker.pk, "lot": lot,
            "department": recall.department_id, "source": source_kind})
    else:
        audit.record(recall, action="recall.source_added", actor=actor, before=before,
                     reason=f"{source_kind} {reference}".strip(), division=_division(recall))
    return recall


# --- the impact list --------------------------------------------------------------------------

def impact_rows(stops) -> list[dict]:
    """The impact list as stored in the digest: one object per stop, in impact order."""
    return [{"identifier": s.identifier, "place": s.place, "party": s.party, "kind": s.kind,
             "tier": s.tier, "quantity": (None if s.quantity is None
                                          else str(_quantity(s.quantity))),
             "uom": s.uom, "event": s.event} for s in stops]


def impact_digest(stops) -> str:
    """SHA-256 of the RFC 8785 canonical JSON of impact_rows(stops)."""
    return hashlib.sha256(canonical_bytes(impact_rows(stops))).hexdigest()


def _impact(recall: Recall):
    """The impact list of the recall's batches and whether the walk stopped at its limit.
    tracing.impact(start) is exactly the stops of the forward trace; the trace itself is
    taken so that a truncated walk is known (and shown)."""
    from zhijian.traceability import tracing

    starts = list(recall.batches.values_list("identifier", flat=True))
    if not starts:
        return [], False
    result = tracing.trace(start=starts, direction="forward")
    return result.stops, result.truncated


def _org(place) -> tuple[int | None, int | None]:
    if place is None:
        return None, None
    if place.entity_id:
        return place.entity_id, None
    return None, place.user_unit_id


def _holder(stop, place, party) -> tuple[int | None, int | None]:
    """The registered organisation that holds the goods of a stop: for goods installed at
    a site, the site's owner (the metro company owns its station, whoever laid the
    cable), else the installer; otherwise the holding party, else the place's owner."""
    first, second = (place, party) if stop.kind == "installed" else (party, place)
    entity_id, unit_id = _org(first)
    if entity_id or unit_id:
        return entity_id, unit_id
    return _org(second)


def _apply_impact(recall: Recall, stops, *, now: dt.datetime, ack_due: dt.date
                  ) -> tuple[int, int]:
    """Create the items of new stops and the notices of new firms; existing items keep
    their progress (a larger quantity found later raises what is listed). Returns (items
    added, notices added)."""
    from zhijian.traceability.models import Place

    names = {s.place for s in stops} | {s.party for s in stops if s.party}
    places = {p.identifier: p for p in Place.objects.filter(identifier__in=names)}
    existing = {(i.identifier, i.place, i.kind): i for i in recall.items.all()}
    added = []
    for stop in stops:
        place = places.get(stop.place)
        entity_id, unit_id = _holder(stop, place, places.get(stop.party))
        quantity = _quantity(stop.quantity)
        item = existing.get((stop.identifier, stop.place, stop.kind))
        if item is None:
            added.append(RecallItem(
                recall=recall, identifier=stop.identifier, place=stop.place, place_ref=place,
                party=stop.party or "", holder_entity_id=entity_id, holder_unit_id=unit_id,
                kind=stop.kind, tier=stop.tier, uom=stop.uom or "", listed=quantity,
                event=stop.event, event_time=stop.time, added_at=now))
            continue
        changed = False
        if quantity is not None and (item.listed is None or quantity > item.listed):
            item.listed, changed = quantity, True
        if stop.event != item.event:
            item.event, item.event_time, changed = stop.event, stop.time, True
        if item.place_ref_id is None and place is not None:
            item.place_ref, changed = place, True
        if item.holder_entity_id is None and item.holder_unit_id is None and (
                entity_id or unit_id):
            item.holder_entity_id, item.holder_unit_id, changed = entity_id, unit_id, True
        if changed:
            item.save()
    RecallItem.objects.bulk_create(added)

    have = set(recall.notices.values_list("entity_id", "user_unit_id"))
    wanted = [(recall.maker_id, None, NoticeRole.MAKER)]
    for entity_id, unit_id in recall.items.values_list(
            "holder_entity_id", "holder_unit_id").distinct().order_by(
            "holder_entity_id", "holder_unit_id"):
        if entity_id or unit_id:
            wanted.append((entity_id, unit_id, NoticeRole.HOLDER))
    notices = []
    for entity_id, unit_id, role in wanted:
        if (entity_id, unit_id) in have:
            continue
        have.add((entity_id, unit_id))
        notices.append(RecallNotice(recall=recall, role=role, entity_id=entity_id,
                                    user_unit_id=unit_id, sent_at=now, due_on=ack_due))
    RecallNotice.objects.bulk_create(notices)
    return len(added), len(notices)


def _ack_due(now: dt.datetime) -> tuple[dt.date, object, bool]:
    day = timezone.localdate(now)
    rule = rules.get(ACK_RULE, day)
    due, provisional = calendar.deadline(day, rule.value)
    return due, rule, provisional


# --- opening, dismissal -----------------------------------------------------------------------

@transaction.atomic
def recall_open(*, actor, recall_id, severity: str, reason: str = "", gtin: str = "",
                now: dt.datetime | None = None) -> Recall:
    """Open a proposed recall: trace the batch forward, list every downstream holder and
    location with its quantity (one item per stop), notify the maker and every registered
    holder, set the deadlines (rules recall.acknowledge_working_days and
    recall.completion_working_days by severity)."""
    recall = _lock_to_act(actor, recall_id)
    _check(recall, RecallStatus.OPEN)
    now = now or timezone.now()
    errors = {}
    if severity not in Severity.values:
        errors["severity"] = _("Choose the severity level of the defect (1, 2 or 3).")
    reason = (reason or "").strip() or recall.reason
    if len(reason) < MIN_TEXT:
        errors["reason"] = _("Say in at least %(n)d characters why the batch must be "
                             "recalled; the public notice shows it.") % {"n": MIN_TEXT}
    gtin = (gtin or "").strip()
    if gtin and not valid_gtin(gtin):
        errors["gtin"] = _("%(gtin)s is not a GTIN: give its 13 or 14 digits with the check "
                           "digit.") % {"gtin": gtin}
    elif gtin and recall.gtin and gtin != recall.gtin:
        errors["gtin"] = _("This recall is of GTIN %(gtin)s.") % {"gtin": recall.gtin}
    elif not gtin and not recall.gtin:
        errors["gtin"] = _("The product's GTIN is not known: give it, so that the batch can "
                           "be traced.")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(recall)
    if gtin and not recall.gtin:
        recall.gtin = gtin
        for identifier in batch_identifiers(recall.gtin, recall.lot):
            RecallBatch.objects.get_or_create(recall=recall, identifier=identifier)
    day = timezone.localdate(now)
    ack_due, ack_rule, ack_provisional = _ack_due(now)
    completion = rules.get(COMPLETION_RULE, day)
    due_on, provisional = calendar.deadline(day, int(completion.value[severity]))
    stops, truncated = _impact(recall)
    recall.status, recall.severity, recall.reason = RecallStatus.OPEN, severity, reason
    recall.opened_by, recall.opened_at, recall.due_on = actor, now, due_on
    recall.rule_version = _rule_stamp(ack_rule, completion) + (
        "/provisional" if provisional or ack_provisional else "")
    recall.impact_digest, recall.impact_computed_at = impact_digest(stops), now
    recall.impact_truncated = truncated
    recall.save()
    items, notices = _apply_impact(recall, stops, now=now, ack_due=ack_due)
    audit.record(recall, action="recall.opened", actor=actor, before=before,
                 division=_division(recall))
    events.publish("recall.opened", aggregate=recall, payload={
        "recall": recall.pk, "number": recall.number, "maker": recall.maker_id,
        "department": recall.department_id, "severity": severity, "items": items,
        "notices": notices})
    return recall


@transaction.atomic
def recall_dismiss(*, actor, recall_id, reason: str,
                   now: dt.datetime | None = None) -> Recall:
    """Dismiss a proposal, with the reason (the batch does not need recalling)."""
    recall = _lock_to_act(actor, recall_id)
    _check(recall, RecallStatus.DISMISSED)
    reason = (reason or "").strip()
    if len(reason) < MIN_TEXT:
        raise ValidationError({"reason": _(
            "Say in at least %(n)d characters why no recall is needed.") % {"n": MIN_TEXT}})
    before = audit.snapshot(recall)
    recall.status, recall.dismissal_reason = RecallStatus.DISMISSED, reason
    recall.dismissed_by, recall.dismissed_at = actor, now or timezone.now()
    recall.save()
    audit.record(recall, action="recall.dismissed", actor=actor, before=before, reason=reason,
                 division=_division(recall))
    events.publish("recall.dismissed", aggregate=recall, payload={
        "recall": recall.pk, "number": recall.number, "maker": recall.maker_id,
        "department": recall.department_id})
    return recall


@transaction.atomic
def recall_refresh(*, actor, recall_id, now: dt.datetime | None = None) -> Recall:
    """Trace the batch again and add the stops found since (events captured later), with
    notices to new holders; recorded progress is kept."""
    recall = _lock_to_act(actor, recall_id)
    if recall.status != RecallStatus.OPEN:
        raise ValidationError({"status": _("Only an open recall's impact list is "
                                           "refreshed.")})
    now = now or timezone.now()
    before = audit.snapshot(recall)
    stops, truncated = _impact(recall)
    ack_due, _rule, _provisional = _ack_due(now)
    items, notices = _apply_impact(recall, stops, now=now, ack_due=ack_due)
    recall.impact_digest, recall.impact_computed_at = impact_digest(stops), now
    recall.impact_truncated = truncated
    recall.save()
    audit.record(recall, action="recall.refreshed", actor=actor, before=before,
                 division=_division(recall))
    events.publish("recall.refreshed", aggregate=recall, payload={
        "recall": recall.pk, "number": recall.number, "items": items, "notices": notices})
    return recall


# --- notices ----------------------------------------------------------------------------------

@transaction.atomic
def notice_acknowledge(*, actor, notice_id, now: dt.datetime | None = None) -> RecallNotice:
    """The firm notified acknowledges the recall notice (its own accounts only)."""
    notice = access.get_or_404(access.notices_visible_to(actor).select_for_update(),
                               notice_id)
    if not access.is_addressee(actor, notice):
        raise Denied(_("Only the firm the notice is addressed to acknowledges it."))
    if notice.acknowledged_at is not None:
        raise ValidationError({"notice": _("This notice was already acknowledged on "
                                           "%(day)s.") % {
            "day": timezone.localdate(notice.acknowledged_at).isoformat()}})
    before = audit.snapshot(notice)
    notice.acknowledged_at, notice.acknowledged_by = now or timezone.now(), actor
    notice.save(update_fields=["acknowledged_at", "acknowledged_by"])
    recall = notice.recall
    audit.record(notice, action="recall_notice.acknowledged", actor=actor, before=before,
                 division=recall.department.division_id)
    return notice


# --- progress ---------------------------------------------------------------------------------

def _parse_quantity(name: str, value, errors: dict) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        q = Decimal(str(value))
        if not q.is_finite() or q < 0:
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        errors[name] = _("Give the quantity as a number, zero or more.")
        return None
    if q != q.quantize(THOUSANDTH):
        errors[name] = _("Give the quantity with at most 3 decimals.")
        return None
    return q


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"


@transaction.atomic
def item_update(*, actor, item_id, status: str, located=None, removed=None, replaced=None,
                destroyed=None, note: str = "", now: dt.datetime | None = None) -> RecallItem:
    """Record progress on one item: the quantities located, removed, replaced and destroyed
    so far and the status they reach. Progress never goes back; no quantity exceeds what
    came before it (located ≤ listed, removed ≤ located, replaced + destroyed ≤ removed).
    When the last open item closes, the recall completes."""
    found = access.get_or_404(access.items_visible_to(actor), item_id)
    recall = Recall.objects.select_for_update().select_related(
        "department", "category", "maker").get(pk=found.recall_id)
    item = RecallItem.objects.select_for_update().select_related("recall").get(pk=found.pk)
    item.recall = recall
    if not access.may_update_item(actor, item):
        raise Denied(_("Only the holder of these goods, or the department that decides the "
                       "recall, records progress here."))
    if recall.status != RecallStatus.OPEN:
        raise ValidationError({"status": _("Recall %(number)s is %(status)s; progress is "
                                           "recorded while it is open.") % {
            "number": recall.number, "status": recall.get_status_display()}})
    if item.closed:
        raise ValidationError({"status": _("This item is closed (%(status)s).") % {
            "status": item.get_status_display()}})
    errors: dict[str, str] = {}
    values = {}
    for name, given in zip(QUANTITY_FIELDS, (located, removed, replaced, destroyed),
                           strict=True):
        q = _parse_quantity(name, given, errors)
        values[name] = getattr(item, name) if q is None else q
    if status not in ItemStatus.values:
        errors["status"] = _("Choose the status the goods have reached.")
    note = (note or "").strip()
    if errors:
        raise ValidationError(errors)
    for name in QUANTITY_FIELDS:
        if values[name] < getattr(item, name):
            errors[name] = _("Progress does not go back: %(value)s was already recorded.") % {
                "value": _qty(getattr(item, name))}
    if ITEM_RANK[status] < ITEM_RANK[item.status]:
        errors["status"] = _("Progress does not go back: the item is already %(status)s.") % {
            "status": item.get_status_display()}
    located, removed = values["located"], values["removed"]
    corrected = values["replaced"] + values["destroyed"]
    if item.listed is not None and located > item.listed:
        errors["located"] = _("More than listed (%(listed)s %(uom)s) cannot be located; if "
                              "more arrived, ask the department to refresh the impact "
                              "list.") % {"listed": _qty(item.listed),
                                          "uom": unit_symbol(item.uom)}
    if removed > located:
        errors["removed"] = _("No more can be removed than was located (%(q)s).") % {
            "q": _qty(located)}
    if corrected > removed:
        errors["replaced"] = _("Replaced and destroyed together cannot exceed what was "
                               "removed (%(q)s).") % {"q": _qty(removed)}
    if errors:
        raise ValidationError(errors)
    rank = ITEM_RANK[status]
    if status == ItemStatus.LOCATED and located <= 0:
        errors["located"] = _("Give the quantity located.")
    elif status == ItemStatus.REMOVED and removed <= 0:
        errors["removed"] = _("Give the quantity removed.")
    elif status in (ItemStatus.REPLACED, ItemStatus.DESTROYED):
        if status == ItemStatus.REPLACED and values["replaced"] <= 0:
            errors["replaced"] = _("Give the quantity replaced.")
        elif status == ItemStatus.DESTROYED and values["destroyed"] <= 0:
            errors["destroyed"] = _("Give the quantity destroyed.")
        elif corrected != removed:
            errors["replaced"] = _("Everything removed (%(q)s) must be replaced or destroyed "
                                   "before the item closes.") % {"q": _qty(removed)}
        elif item.listed is not None and located < item.listed and len(note) < MIN_TEXT:
            errors["note"] = _("Only %(located)s of %(listed)s %(uom)s were located: say in "
                               "the note where the rest went.") % {
                "located": _qty(located), "listed": _qty(item.listed),
                "uom": unit_symbol(item.uom)}
    elif status == ItemStatus.NOT_FOUND and len(note) < MIN_TEXT:
        errors["note"] = _("Say in the note how the goods were searched for and why they "
                           "were not found.")
    if rank < ITEM_RANK[ItemStatus.REMOVED] and removed > 0:
        errors["status"] = _("Goods were removed: choose at least “Removed”.")
    elif rank < ITEM_RANK[ItemStatus.LOCATED] and located > 0:
        errors["status"] = _("Goods were located: choose at least “Located”.")
    if status == item.status and all(values[n] == getattr(item, n) for n in QUANTITY_FIELDS):
        errors["status"] = _("Nothing changed: give new quantities or a further status.")
    if errors:
        raise ValidationError(errors)
    now = now or timezone.now()
    before = audit.snapshot(item)
    was = item.status
    for name in QUANTITY_FIELDS:
        setattr(item, name, values[name])
    item.status, item.updated_at = status, now
    if note:
        item.note = note
    item.save()
    RecallItemUpdate.objects.create(item=item, status_before=was, status=status, note=note,
                                    by=actor, at=now,
                                    **{n: values[n] for n in QUANTITY_FIELDS})
    audit.record(item, action="recall.item_updated", actor=actor, before=before, reason=note,
                 division=_division(recall))
    events.publish("recall.item_updated", aggregate=recall, payload={
        "recall": recall.pk, "item": item.pk, "status": status, "previous": was,
        "holder_entity": item.holder_entity_id, "holder_unit": item.holder_unit_id})
    if not recall.items.exclude(status__in=CLOSED_ITEM_STATUSES).exists():
        _complete(recall, actor=actor, note=_stored_text(str, ALL_CLOSED), now=now)
    return item


# --- completion -------------------------------------------------------------------------------

def _complete(recall: Recall, *, actor, note: str, now: dt.datetime) -> Recall:
    _check(recall, RecallStatus.COMPLETED)
    before = audit.snapshot(recall)
    recall.status, recall.completed_by, recall.completed_at = (
        RecallStatus.COMPLETED, actor, now)
    recall.completion_note = note
    recall.save()
    audit.record(recall, action="recall.completed", actor=actor, before=before, reason=note,
                 division=_division(recall))
    events.publish("recall.completed", aggregate=recall, payload={
        "recall": recall.pk, "number": recall.number, "maker": recall.maker_id,
        "department": recall.department_id,
        "open_items": recall.items.exclude(status__in=CLOSED_ITEM_STATUSES).count()})
    return recall


@transaction.atomic
def recall_complete(*, actor, recall_id, note: str = "",
                    now: dt.datetime | None = None) -> Recall:
    """Complete an open recall by decision of the department. With items still open the
    note must say why the recall ends anyway."""
    recall = _lock_to_act(actor, recall_id)
    _check(recall, RecallStatus.COMPLETED)
    note = (note or "").strip()
    still_open = recall.items.exclude(status__in=CLOSED_ITEM_STATUSES).count()
    if still_open and len(note) < MIN_TEXT:
        raise ValidationError({"note": _(
            "%(n)d items are still open: say in the note why the recall ends now.") % {
            "n": still_open}})
    return _complete(recall, actor=actor, note=note or _stored_text(str, ALL_CLOSED),
                     now=now or timezone.now())
