"""The serious-dishonesty list (严重违法失信名单, the quality blacklist) and credit repair
(信用修复), docs/credit-blacklist.md.

A case (BlacklistEntry) goes proposed -> noticed -> listed | not_listed, and listed ->
removed (choices.BLACKLIST_TRANSITIONS); at most one case per firm is open. One service
per transition; each runs in one transaction, locks the case row, checks the table and
the actor's right, writes, appends the audit entry and publishes its domain event:

    blacklist_propose  "blacklist.proposed"    (the platform from the criteria, or an officer)
    blacklist_notice   "blacklist.noticed"     (officer: the notice, the objection deadline)
    objection_file     "blacklist.objected"    (the firm, before the deadline)
    blacklist_decide   "blacklist.listed" / "blacklist.not_listed"   (officer)
    repair_apply       "repair.submitted"      (the firm, every condition met)
    repair_decide      "repair.approved" + "blacklist.removed" / "repair.refused"  (officer)
    blacklist_expire_due  "blacklist.removed"  (daily: the listing period ended)

The numbers (objection period, listing duration, time before a repair application) and
the repair conditions are the dated rule credit.blacklist_procedure; the entry criteria
are credit.blacklist_criteria, evaluated by scoring.blacklist_candidates.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhijian.core import audit, calendar, events, rules
from zhijian.core.access import Denied, scope_of
from zhijian.registry.models import Department, MarketEntity

from .. import access, scoring
from ..choices import (
    BLACKLIST_OPEN,
    BLACKLIST_TRANSITIONS,
    BlacklistStatus,
    CommitmentOccasion,
    CommitmentStatus,
    PenaltyStatus,
    RecordKind,
    RecordStatus,
    RemovalReason,
    RepairStatus,
)
from ..models import BlacklistEntry, Commitment, CreditRecord, Penalty, RepairApplication
from .records import record_create, record_repair

PROCEDURE_RULE = "credit.blacklist_procedure"
SOURCE_TYPE = "credit.blacklistentry"
OFFICER = "officer"
MIN_TEXT = 6

ENTRY_FIELDS = ("status", "criteria", "rule_version", "notice_text", "noticed_at",
                "objection_deadline", "objection_text", "objection_at", "decided_at",
                "decided_by", "decision_reasons", "listed_on", "listed_until",
                "published_at", "removed_on", "removal_reason")
REPAIR_FIELDS = ("status", "decided_at", "decided_by", "decision_reasons")

#: The labels of the criteria of credit.blacklist_criteria (and of an officer's proposal).
CRITERION_LABELS = {
    "heavy_penalty": gettext_lazy("A heavy administrative penalty within 12 months"),
    "fake_report": gettext_lazy("A forged or false test report within 12 months"),
    "repeated_failed_sampling": gettext_lazy(
        "Three failed supervisory samplings within 24 months"),
    "repeated_breached_commitment": gettext_lazy(
        "Two breached credit commitments within 24 months"),
    OFFICER: gettext_lazy("Proposed by an officer"),
}

#: The repair conditions of credit.blacklist_procedure.
CONDITION_LABELS = {
    "min_listed": gettext_lazy("Listed long enough"),
    "rectification": gettext_lazy("Rectification done"),
    "penalty_paid": gettext_lazy("Penalty obligations fulfilled"),
    "no_new_heavy_penalty": gettext_lazy("No new heavy penalty since the listing"),
    "commitment": gettext_lazy("Credit repair commitment signed"),
    "training": gettext_lazy("Credit repair training completed"),
}


def criterion_label(criterion: str) -> str:
    return str(CRITERION_LABELS.get(criterion, criterion))


# --- helpers ---------------------------------------------------------------------------------

def procedure(on: dt.date) -> rules.Rule:
    """The rule credit.blacklist_procedure in force on `on`."""
    return rules.get(PROCEDURE_RULE, on)


def department_for(entity: MarketEntity) -> Department | None:
    """The department that decides a case: the market supervision department of the most
    local level (county, city, province) whose jurisdiction covers the firm — the same
    fall-back recalls use when no sector duty is recorded (DepartmentQuerySet.responsible_for);
    a list case is always for market supervision (总局令第44号)."""
    from zhijian.core.divisions import parent_code

    codes = [entity.division_id]
    while (up := parent_code(codes[-1])) is not None:
        codes.append(up)
    found = {d.division_id: d for d in Department.objects.filter(
        division_id__in=codes, kind="market").select_related("division")}
    return next((found[c] for c in codes if c in found), None)


def may_decide(user, entry: BlacklistEntry) -> bool:
    """Officers of the deciding department or of a market supervision department above it
    (their jurisdiction covers the department's division), and administrators."""
    scope = scope_of(user)
    if scope.is_admin:
        return True
    if not scope.is_regulator or not scope.covers_division(entry.department.division_id):
        return False
    return getattr(getattr(user, "department", None), "kind", None) == "market"


def _require_decider(user, entry: BlacklistEntry) -> None:
    if not may_decide(user, entry):
        raise Denied(_("Only officers of %(department)s, or of a market supervision "
                       "department above it, act on this case.") % {
            "department": entry.department.name})


def _require_firm(user, entity) -> None:
    if not access.is_own_entity(user, entity):
        raise Denied(_("Only the firm's own account may do this."))


def _check(entry: BlacklistEntry, target: str) -> None:
    if target not in BLACKLIST_TRANSITIONS[entry.status]:
        raise ValidationError({"status": _(
            "The case is %(status)s; it cannot become %(target)s.") % {
            "status": entry.get_status_display(), "target": BlacklistStatus(target).label}})


def _lock(entry_id) -> BlacklistEntry:
    try:
        return BlacklistEntry.objects.select_for_update().select_related(
            "entity", "department__division").get(pk=entry_id)
    except (BlacklistEntry.DoesNotExist, ValueError, TypeError):
        raise ValidationError({"entry": _("There is no such case.")}) from None


def _audit(entry, action, actor, before, reason=""):
    audit.record(entry, action=action, actor=actor, before=before, reason=reason,
                 division=entry.entity.division_id)


def _publish(name: str, entry: BlacklistEntry, **extra) -> None:
    events.publish(name, aggregate=entry, payload={
        "entry": entry.pk, "entity": entry.entity_id, "status": entry.status,
        "department": entry.department_id, **extra})


def _text(value, field: str, message) -> str:
    value = (value or "").strip()
    if len(value) < MIN_TEXT:
        raise ValidationError({field: message % {"n": MIN_TEXT}})
    return value


def _day(now: dt.datetime) -> dt.date:
    return timezone.localdate(now)


def _stored(fn, *args):
    """A text the platform writes into a case, in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(fn(*args))


def record_ids(entry: BlacklistEntry) -> list[int]:
    """The ids of the credit records the case rests on, in criterion order."""
    seen: dict[int, None] = {}
    for c in entry.criteria or []:
        for rid in c.get("records", []):
            seen[int(rid)] = None
    return list(seen)


def listing_record(entry: BlacklistEntry) -> CreditRecord | None:
    """The public credit record of the listing (kind blacklist_listed)."""
    return CreditRecord.objects.filter(source_type=SOURCE_TYPE, source_id=str(entry.pk),
                                       kind=RecordKind.BLACKLIST_LISTED).first()


# --- proposal --------------------------------------------------------------------------------

def _scoring_records(entity_id) -> list[scoring.Record]:
    return [scoring.Record(*row) for row in CreditRecord.objects.filter(
        entity_id=entity_id, status=RecordStatus.ACTIVE).values_list(
        "id", "kind", "date", "weight", "expires_on", "repaired_on", "source_ref")]


def candidates(entity_id, on: dt.date) -> tuple[list[tuple[str, list]], str]:
    """The criteria of credit.blacklist_criteria the firm meets on `on`, and the version."""
    book = scoring.Rules.in_force(rules.get, on)
    found = scoring.blacklist_candidates(_scoring_records(entity_id), book, on=on)
    return found, book.versions.get("credit.blacklist_criteria", "")


def _considered(entity_id) -> set[int]:
    """Records already weighed in a closed case of the firm: they do not propose again."""
    seen: set[int] = set()
    for criteria in BlacklistEntry.objects.filter(entity_id=entity_id).exclude(
            status__in=BLACKLIST_OPEN).values_list("criteria", flat=True):
        for c in criteria or []:
            seen.update(int(r) for r in c.get("records", []))
    return seen


@transaction.atomic
def blacklist_propose(*, entity, actor=None, record_ids=None, reasons: str = "",
                      now: dt.datetime | None = None) -> BlacklistEntry | None:
    """Open a case for `entity`.

    Without an actor (the platform, from "credit.record_changed"): when the firm meets a
    criterion of credit.blacklist_criteria today with at least one record no closed case
    has weighed, and has no open case; returns None otherwise. With an actor (an officer
    of the deciding department): the records the case rests on (the firm's active
    records) and the reasons; refused when the firm already has an open case."""
    now = now or timezone.now()
    today = _day(now)
    entity = MarketEntity.objects.get(pk=getattr(entity, "pk", entity))
    department = department_for(entity)
    open_case = BlacklistEntry.objects.filter(entity=entity, status__in=BLACKLIST_OPEN).first()
    if actor is None:
        if open_case is not None or department is None:
            return None
        found, version = candidates(entity.pk, today)
        considered = _considered(entity.pk)
        found = [(c, ids) for c, ids in found if set(ids) - considered]
        if not found:
            return None
        criteria = [{"criterion": c, "records": list(ids)} for c, ids in found]
    else:
        if department is None:
            raise ValidationError({"entity": _(
                "No market supervision department on the platform covers %(name)s.") % {
                "name": entity.name}})
        probe = BlacklistEntry(entity=entity, department=department)
        _require_decider(actor, probe)
        if open_case is not None:
            raise ValidationError({"entity": _(
                "%(name)s already has an open case (%(status)s); continue that one.") % {
                "name": entity.name, "status": open_case.get_status_display()}})
        reasons = _text(reasons, "reasons", _(
            "Say in at least %(n)d characters why the firm should be listed."))
        ids = []
        for raw in record_ids or []:
            try:
                ids.append(int(getattr(raw, "pk", raw)))
            except (TypeError, ValueError):
                raise ValidationError({"records": _("Choose records of this firm.")}) from None
        ids = list(dict.fromkeys(ids))
        if not ids:
            raise ValidationError({"records": _(
                "Choose the credit records the proposal rests on.")})
        known = set(CreditRecord.objects.filter(
            pk__in=ids, entity=entity, status=RecordStatus.ACTIVE).values_list("pk", flat=True))
        if known != set(ids):
            raise ValidationError({"records": _(
                "Records %(ids)s are not active records of this firm.") % {
                "ids": ", ".join(str(i) for i in ids if i not in known)}})
        criteria = [{"criterion": OFFICER, "records": ids, "reasons": reasons}]
        version = rules.get("credit.blacklist_criteria", today).version
    entry = BlacklistEntry(entity=entity, department=department, criteria=criteria,
                           rule_version=version, proposed_at=now, proposed_by=actor)
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        # Another proposal for the same firm committed first (one open case per firm).
        if actor is None:
            return None
        raise ValidationError({"entity": _(
            "%(name)s already has an open case; continue that one.") % {
            "name": entity.name}}) from None
    _audit(entry, "blacklist.proposed", actor, None)
    _publish("blacklist.proposed", entry, criteria=[c["criterion"] for c in criteria])
    return entry


# --- notice and objection --------------------------------------------------------------------

def notice_text_for(entry: BlacklistEntry, *, on: dt.date | None = None) -> str:
    """The draft notice (告知书): the facts, the basis, the intended decision, and the
    firm's right to state its case and object, with the deadline if served on `on`."""
    on = on or timezone.localdate()
    rule = procedure(on)
    deadline, _provisional = calendar.deadline(on, rule.value["objection_working_days"])
    by_id = CreditRecord.objects.in_bulk(record_ids(entry))
    lines = [_("Notice of intended listing as seriously dishonest (%(name)s, unified social "
               "credit code %(uscc)s)") % {"name": entry.entity.name,
                                          "uscc": entry.entity.uscc}, ""]
    lines.append(_("Facts:"))
    for c in entry.criteria:
        lines.append(f"- {criterion_label(c['criterion'])}")
        if c.get("reasons"):
            lines.append(f"  {c['reasons']}")
        for rid in c.get("records", []):
            rec = by_id.get(int(rid))
            if rec is not None:
                lines.append(f"  · {rec.date:%Y-%m-%d} {rec.get_kind_display()}: "
                             f"{rec.source_ref}")
    lines += ["", _("Basis: the Measures for the Administration of the List of Serious "
                    "Illegal and Dishonest Market Entities (SAMR Order No. 44) and the entry "
                    "criteria of the province (rule credit.blacklist_criteria, version "
                    "%(version)s).") % {"version": entry.rule_version},
              _("%(department)s intends to list the firm for %(months)d months from the "
                "listing day.") % {"department": entry.department.name,
                                   "months": rule.value["listing_months"]},
              _("Your rights: you may state your case and object (陈述、申辩) on the "
                "platform until %(deadline)s (%(days)d working days after this notice is "
                "served).") % {"deadline": deadline.isoformat(),
                               "days": rule.value["objection_working_days"]}]
    return "\n".join(lines)


@transaction.atomic
def blacklist_notice(*, entry_id, actor, notice_text: str = "",
                     now: dt.datetime | None = None) -> BlacklistEntry:
    """Serve the notice (告知) now: the firm may object until the objection deadline,
    the rule's number of working days later (the day of service not counted)."""
    now = now or timezone.now()
    entry = _lock(entry_id)
    _require_decider(actor, entry)
    _check(entry, BlacklistStatus.NOTICED)
    today = _day(now)
    rule = procedure(today)
    text = (notice_text or "").strip() or _stored(lambda: notice_text_for(entry, on=today))
    if len(text) < MIN_TEXT:
        raise ValidationError({"notice_text": _(
            "Write the notice: the facts, the basis and the firm's rights.")})
    before = audit.snapshot(entry, ENTRY_FIELDS)
    deadline, provisional = calendar.deadline(today, rule.value["objection_working_days"])
    entry.status = BlacklistStatus.NOTICED
    entry.notice_text = text
    entry.noticed_at = now
    entry.objection_deadline = deadline
    entry.save()
    _audit(entry, "blacklist.noticed", actor, before,
           reason=f"{PROCEDURE_RULE}@{rule.version}/{calendar.data_version()}"
                  + (" provisional" if provisional else ""))
    _publish("blacklist.noticed", entry, objection_deadline=deadline.isoformat())
    return entry


@transaction.atomic
def objection_file(*, entry_id, text: str, actor,
                   now: dt.datetime | None = None) -> BlacklistEntry:
    """The firm states its case and objects (陈述、申辩), on or before the deadline."""
    now = now or timezone.now()
    entry = _lock(entry_id)
    _require_firm(actor, entry.entity)
    if entry.status != BlacklistStatus.NOTICED:
        raise ValidationError({"text": _(
            "Objections are filed after the notice is served and before the decision; the "
            "case is %(status)s.") % {"status": entry.get_status_display()}})
    if _day(now) > entry.objection_deadline:
        raise ValidationError({"text": _(
            "The objection period ended on %(date)s; an objection can no longer be "
            "filed.") % {"date": entry.objection_deadline.isoformat()}})
    if entry.objection_at is not None:
        raise ValidationError({"text": _(
            "Your objection was filed at %(when)s; the department now decides.") % {
            "when": timezone.localtime(entry.objection_at).strftime("%Y-%m-%d %H:%M")}})
    text = _text(text, "text", _("Write your objection in at least %(n)d characters: what "
                                 "is wrong in the notice and why."))
    before = audit.snapshot(entry, ENTRY_FIELDS)
    entry.objection_text = text
    entry.objection_at = now
    entry.save()
    _audit(entry, "blacklist.objected", actor, before)
    _publish("blacklist.objected", entry)
    return entry


# --- decision --------------------------------------------------------------------------------

@transaction.atomic
def blacklist_decide(*, entry_id, listed: bool, reasons: str, actor,
                     now: dt.datetime | None = None) -> BlacklistEntry:
    """List the firm (after the notice: once the objection period has run or the firm
    has objected) or do not list it (any time before), with the reasons. Listing writes
    the public credit record (kind blacklist_listed) that runs until the listing ends."""
    now = now or timezone.now()
    entry = _lock(entry_id)
    _require_decider(actor, entry)
    target = BlacklistStatus.LISTED if listed else BlacklistStatus.NOT_LISTED
    _check(entry, target)
    reasons = _text(reasons, "reasons", _(
        "Give the reasons for the decision in at least %(n)d characters."))
    today = _day(now)
    if listed and entry.objection_at is None and today <= entry.objection_deadline:
        raise ValidationError({"listed": _(
            "The objection period runs until %(date)s and the firm has not objected: the "
            "firm can be listed from %(next)s, or as soon as it has objected.") % {
            "date": entry.objection_deadline.isoformat(),
            "next": (entry.objection_deadline + dt.timedelta(days=1)).isoformat()}})
    before = audit.snapshot(entry, ENTRY_FIELDS)
    entry.status = target
    entry.decided_at = now
    entry.decided_by = actor
    entry.decision_reasons = reasons
    if listed:
        rule = procedure(today)
        entry.listed_on = today
        entry.listed_until = scoring.add_months(today, rule.value["listing_months"])
        entry.published_at = now
    entry.save()
    _audit(entry, f"blacklist.{target}", actor, before, reason=reasons)
    if listed:
        record = record_create(
            entity=entry.entity, kind=RecordKind.BLACKLIST_LISTED, date=today,
            source_type=SOURCE_TYPE, source_id=entry.pk,
            source_ref=_stored(lambda: _("Serious-dishonesty list, case %(pk)s (%(dept)s)") % {
                "pk": entry.pk, "dept": entry.department.name}),
            summary=reasons, expires_on=entry.listed_until, public=True,
            department=entry.department, actor=actor)
        _publish("blacklist.listed", entry, listed_on=today.isoformat(),
                 listed_until=entry.listed_until.isoformat(), record=record.pk)
    else:
        _publish("blacklist.not_listed", entry)
    return entry


def _remove(entry: BlacklistEntry, *, on: dt.date, reason: str, actor, note: str = ""):
    _check(entry, BlacklistStatus.REMOVED)
    before = audit.snapshot(entry, ENTRY_FIELDS)
    entry.status = BlacklistStatus.REMOVED
    entry.removed_on = on
    entry.removal_reason = reason
    entry.save()
    _audit(entry, "blacklist.removed", actor, before, reason=note or reason)
    _publish("blacklist.removed", entry, reason=reason, removed_on=on.isoformat())


def blacklist_expire_due(*, on: dt.date | None = None) -> int:
    """Remove every listed case whose listing period has ended (listed_until <= on);
    returns how many. Running it again changes nothing. The listing record expired by
    itself that day (its expires_on is listed_until)."""
    on = on or timezone.localdate()
    done = 0
    for pk in BlacklistEntry.objects.filter(status=BlacklistStatus.LISTED,
                                            listed_until__lte=on).values_list("pk", flat=True):
        with transaction.atomic():
            entry = _lock(pk)
            if entry.status != BlacklistStatus.LISTED or entry.listed_until > on:
                continue
            _remove(entry, on=entry.listed_until, reason=RemovalReason.EXPIRED, actor=None)
            done += 1
    return done


# --- credit repair ---------------------------------------------------------------------------

def commitment_sign_url(entry: BlacklistEntry | None = None) -> str:
    """Where the firm signs a credit repair commitment."""
    for name in ("credit:commitment_sign", "credit:commitment_new", "credit:commitment_list"):
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        return f"{url}?occasion={CommitmentOccasion.REPAIR}"
    return "/work/credit/commitments/"


def first_repair_day(entry: BlacklistEntry) -> dt.date | None:
    """The first day the listed firm may apply for early removal."""
    if entry.listed_on is None:
        return None
    months = procedure(entry.listed_on).value["repair_after_months"]
    return scoring.add_months(entry.listed_on, months)


def case_penalties(entry: BlacklistEntry):
    """The administrative penalties the case rests on (its records from credit.penalty),
    or, when it rests on none, every penalty of the firm in force decided by the listing
    day."""
    ids = [sid for sid in CreditRecord.objects.filter(
        pk__in=record_ids(entry), source_type="credit.penalty").values_list(
        "source_id", flat=True) if str(sid).isdigit()]
    qs = Penalty.objects.filter(entity_id=entry.entity_id, status=PenaltyStatus.IN_FORCE)
    if ids:
        return qs.filter(pk__in=ids)
    return qs.filter(decided_on__lte=entry.listed_on or timezone.localdate())


def repair_conditions(entry: BlacklistEntry, *, on: dt.date, rectification: str = "",
                      rectification_evidence=None, commitment=None,
                      training_certificate=None) -> tuple[list[dict], str]:
    """Check every condition of credit.blacklist_procedure for an early removal of a
    listed case on `on`: [{"code", "met", "detail", "field"}] and the rule version."""
    rule = procedure(on)
    value = rule.value
    out = []

    first = scoring.add_months(entry.listed_on, value["repair_after_months"])
    out.append({"code": "min_listed", "met": on >= first, "field": "entry", "detail": (
        _("Listed on %(listed)s; an application is possible from %(first)s.") % {
            "listed": entry.listed_on.isoformat(), "first": first.isoformat()}
        if on >= first else
        _("Too early: the firm was listed on %(listed)s and may apply from %(first)s.") % {
            "listed": entry.listed_on.isoformat(), "first": first.isoformat()})})
    for code in value["repair_conditions"]:
        if code == "rectification":
            missing = []
            if len((rectification or "").strip()) < MIN_TEXT:
                missing.append(_("describe what was rectified (at least %(n)d characters)")
                               % {"n": MIN_TEXT})
            if not rectification_evidence:
                missing.append(_("attach the rectification evidence"))
            out.append({"code": code, "met": not missing, "field": (
                "rectification" if missing and len((rectification or "").strip()) < MIN_TEXT
                else "rectification_evidence"), "detail": (
                _("Rectification described and evidence attached.") if not missing else
                _("No rectification evidence: %(what)s.") % {"what": "; ".join(missing)})})
        elif code == "penalty_paid":
            unpaid, paid = [], []
            for p in case_penalties(entry).order_by("decided_on", "id"):
                if p.fine and p.paid_on is None:
                    unpaid.append(p)
                elif p.paid_on is not None:
                    paid.append(p)
            out.append({"code": code, "met": not unpaid, "field": "penalty", "detail": (
                _("Penalty unpaid: the fine of decision %(numbers)s is not recorded as "
                  "paid; pay it and have the deciding department record the payment.") % {
                    "numbers": ", ".join(p.decision_number for p in unpaid)}
                if unpaid else
                _("Every fine of the case's penalty decisions is paid (%(numbers)s).") % {
                    "numbers": ", ".join(f"{p.decision_number} {p.paid_on}" for p in paid)
                    or _("no fine")}),
                "paid_on": max((p.paid_on for p in paid), default=None)})
        elif code == "no_new_heavy_penalty":
            heavy = list(Penalty.objects.filter(
                entity_id=entry.entity_id, heavy=True, status=PenaltyStatus.IN_FORCE,
                decided_on__gt=entry.listed_on).order_by("decided_on").values_list(
                "decision_number", flat=True))
            out.append({"code": code, "met": not heavy, "field": "penalty", "detail": (
                _("A new heavy penalty since the listing: %(numbers)s.") % {
                    "numbers": ", ".join(heavy)} if heavy else
                _("No heavy penalty since the listing."))})
        elif code == "commitment":
            ok = (commitment is not None and commitment.entity_id == entry.entity_id
                  and commitment.occasion == CommitmentOccasion.REPAIR
                  and commitment.status == CommitmentStatus.IN_FORCE
                  and timezone.localdate(commitment.signed_at) >= entry.listed_on)
            out.append({"code": code, "met": ok, "field": "commitment", "detail": (
                _("Credit repair commitment signed on %(day)s.") % {
                    "day": timezone.localdate(commitment.signed_at).isoformat()} if ok else
                _("No repair commitment: sign a credit commitment for credit repair at "
                  "%(url)s, then choose it here.") % {"url": commitment_sign_url(entry)})})
        elif code == "training":
            out.append({"code": code, "met": bool(training_certificate),
                        "field": "training_certificate", "detail": (
                _("Training certificate attached.") if training_certificate else
                _("No training certificate: attach the certificate of the credit repair "
                  "training."))})
    return out, rule.version


def repair_commitment(entity, on_or_after: dt.date) -> Commitment | None:
    """The firm's latest credit repair commitment in force signed on or after a day."""
    for c in Commitment.objects.filter(entity=entity, occasion=CommitmentOccasion.REPAIR,
                                       status=CommitmentStatus.IN_FORCE).order_by(
            "-signed_at", "-id"):
        if timezone.localdate(c.signed_at) >= on_or_after:
            return c
    return None


@transaction.atomic
def repair_apply(*, entry_id, actor, rectification: str = "", rectification_evidence=None,
                 commitment_id=None, training_certificate=None,
                 now: dt.datetime | None = None) -> RepairApplication:
    """The listed firm applies for early removal (信用修复). Every condition of the rule is
    checked; an application missing any is refused naming each unmet one. Without
    `commitment_id` the firm's latest repair commitment signed since the listing counts."""
    now = now or timezone.now()
    entry = _lock(entry_id)
    _require_firm(actor, entry.entity)
    if entry.status != BlacklistStatus.LISTED:
        raise ValidationError({"entry": _(
            "Only a listed case can be repaired; this case is %(status)s.") % {
            "status": entry.get_status_display()}})
    pending = entry.repairs.filter(status=RepairStatus.SUBMITTED).first()
    if pending is not None:
        raise ValidationError({"entry": _(
            "Your application of %(day)s is still being decided.") % {
            "day": timezone.localdate(pending.submitted_at).isoformat()}})
    today = _day(now)
    commitment = None
    if commitment_id not in (None, ""):
        commitment = Commitment.objects.filter(
            pk=getattr(commitment_id, "pk", commitment_id), entity=entry.entity).first() \
            if str(getattr(commitment_id, "pk", commitment_id)).isdigit() else None
        if commitment is None:
            raise ValidationError({"commitment": _("Choose one of your firm's commitments.")})
    else:
        commitment = repair_commitment(entry.entity, entry.listed_on)
    conditions, version = repair_conditions(
        entry, on=today, rectification=rectification,
        rectification_evidence=rectification_evidence, commitment=commitment,
        training_certificate=training_certificate)
    unmet = [c for c in conditions if not c["met"]]
    if unmet:
        errors: dict[str, list[str]] = {}
        for c in unmet:
            errors.setdefault(c["field"], []).append(c["detail"])
        raise ValidationError(errors)
    paid_on = next((c.get("paid_on") for c in conditions if c["code"] == "penalty_paid"), None)
    repair = RepairApplication(
        entity=entry.entity, entry=entry, submitted_at=now, submitted_by=actor,
        rectification=rectification.strip(), penalty_paid_on=paid_on, commitment=commitment,
        conditions=[{"code": c["code"], "met": c["met"], "detail": c["detail"]}
                    for c in conditions],
        rule_version=version)
    repair.rectification_evidence = rectification_evidence
    repair.training_certificate = training_certificate
    repair.save()
    audit.record(repair, action="repair.submitted", actor=actor, before=None,
                 division=entry.entity.division_id)
    events.publish("repair.submitted", aggregate=repair, payload={
        "repair": repair.pk, "entry": entry.pk, "entity": entry.entity_id})
    return repair


@transaction.atomic
def repair_decide(*, repair_id, approve: bool, reasons: str, actor,
                  now: dt.datetime | None = None) -> RepairApplication:
    """Approve (the case is removed, reason repaired, and its listing record repaired
    from today) or refuse a repair application, with the reasons."""
    now = now or timezone.now()
    try:
        repair = RepairApplication.objects.select_for_update().get(pk=repair_id)
    except (RepairApplication.DoesNotExist, ValueError, TypeError):
        raise ValidationError({"repair": _("There is no such application.")}) from None
    entry = _lock(repair.entry_id)
    _require_decider(actor, entry)
    if repair.status != RepairStatus.SUBMITTED:
        raise ValidationError({"status": _(
            "This application was already decided (%(status)s).") % {
            "status": repair.get_status_display()}})
    reasons = _text(reasons, "reasons", _(
        "Give the reasons for the decision in at least %(n)d characters."))
    today = _day(now)
    before = audit.snapshot(repair, REPAIR_FIELDS)
    repair.status = RepairStatus.APPROVED if approve else RepairStatus.REFUSED
    repair.decided_at = now
    repair.decided_by = actor
    repair.decision_reasons = reasons
    if approve:
        _check(entry, BlacklistStatus.REMOVED)
    repair.save()
    audit.record(repair, action=f"repair.{repair.status}", actor=actor, before=before,
                 reason=reasons, division=entry.entity.division_id)
    events.publish(f"repair.{repair.status}", aggregate=repair, payload={
        "repair": repair.pk, "entry": entry.pk, "entity": entry.entity_id})
    if approve:
        _remove(entry, on=today, reason=RemovalReason.REPAIRED, actor=actor, note=reasons)
        record = listing_record(entry)
        if record is not None:
            record_repair(record_id=record.pk, on=max(today, record.date), reason=reasons,
                          actor=actor)
    return repair
