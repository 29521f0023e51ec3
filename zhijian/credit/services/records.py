"""Credit records: the one way a record is written, withdrawn or repaired.

Every change publishes "credit.record_changed" in the same transaction; the rating
(services/rating.py) and the blacklist criteria (services/blacklist.py) subscribe to it.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhijian.core import audit, events, rules
from zhijian.core.services import upload_sha256

from ..choices import (
    CommitmentOccasion,
    CommitmentStatus,
    PenaltyStatus,
    RecordKind,
    RecordStatus,
)
from ..models import MANUAL, Commitment, CreditRecord, Penalty

RECORD_FIELDS = ("entity_id", "kind", "date", "weight", "expires_on", "repaired_on",
                 "source_type", "source_id", "source_ref", "summary", "evidence_sha256",
                 "public", "status", "withdrawn_reason", "rule_version")


def _changed(record: CreditRecord, change: str) -> None:
    events.publish("credit.record_changed", aggregate=record, payload={
        "record": record.pk, "entity": record.entity_id, "kind": record.kind,
        "change": change})


def record_create(*, entity, kind: str, date: dt.date, source_type: str, source_id="",
                  source_ref: str, summary: str = "", weight: int | None = None,
                  expires_on: dt.date | None = None, public: bool = False, evidence=None,
                  department=None, event=None, actor=None) -> CreditRecord:
    """Write one credit record, or return the one already written for the same source
    and kind (a redelivered or repeated domain event changes nothing). A record entered
    by hand (source_type MANUAL) needs an evidence file."""
    if kind not in RecordKind.values:
        raise ValidationError({"kind": _("Choose one of the kinds of credit record.")})
    if not isinstance(date, dt.date):
        raise ValidationError({"date": _("Give the date of the fact (YYYY-MM-DD).")})
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, int)
                               or weight < 0):
        raise ValidationError({"weight": _("The weight is a whole number of points, 0 or more.")})
    if expires_on is not None and expires_on <= date:
        raise ValidationError({"expires_on": _(
            "The expiry must be after the date of the fact; leave it empty for the rule's.")})
    if not (source_ref or "").strip():
        raise ValidationError({"source_ref": _("Say what the record comes from.")})
    if source_type == MANUAL and not evidence:
        raise ValidationError({"evidence": _(
            "A record entered by hand needs its evidence: attach the document.")})
    source_id = str(source_id or "")
    if source_type != MANUAL:
        found = CreditRecord.objects.filter(source_type=source_type, source_id=source_id,
                                            kind=kind).first()
        if found is not None:
            return found
    try:
        version = rules.get("credit.record_kinds", date).version
    except rules.RuleError as err:
        raise ValidationError({"date": _(
            "No credit rule is in force on %(date)s; check the date.") % {"date": date}}) from err
    record = CreditRecord(
        entity=entity, kind=kind, date=date, weight=weight, expires_on=expires_on,
        source_type=source_type, source_id=source_id, source_ref=source_ref.strip()[:200],
        summary=summary or "", public=public, department=department, event=event,
        rule_version=version, created_by=actor)
    if evidence:
        record.evidence_sha256 = upload_sha256(evidence)
        record.evidence = evidence
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        # A concurrent delivery of the same fact won the race: keep its record.
        return CreditRecord.objects.get(source_type=source_type, source_id=source_id,
                                        kind=kind)
    audit.record(record, action="credit_record.created", actor=actor, before=None,
                 division=entity.division_id)
    _changed(record, "created")
    return record


def _lock(record_id) -> CreditRecord:
    return CreditRecord.objects.select_for_update().select_related("entity").get(pk=record_id)


def record_withdraw(*, record_id, reason: str, actor=None,
                    now: dt.datetime | None = None) -> CreditRecord:
    """Withdraw a record (its source was revoked or it was entered in error). It stays
    stored with the reason and stops counting; withdrawing twice changes nothing."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for the withdrawal.")})
    record = _lock(record_id)
    if record.status == RecordStatus.WITHDRAWN:
        return record
    before = audit.snapshot(record, RECORD_FIELDS)
    record.status = RecordStatus.WITHDRAWN
    record.withdrawn_at = now or timezone.now()
    record.withdrawn_reason = reason.strip()
    record.save()
    audit.record(record, action="credit_record.withdrawn", actor=actor, before=before,
                 reason=record.withdrawn_reason, division=record.entity.division_id)
    _changed(record, "withdrawn")
    return record


def record_repair(*, record_id, on: dt.date, reason: str, actor=None) -> CreditRecord:
    """Mark a record repaired (信用修复) from `on`: it stops counting that day."""
    record = _lock(record_id)
    if record.repaired_on is not None and record.repaired_on <= on:
        return record
    if on < record.date:
        raise ValidationError({"on": _("A record cannot be repaired before its date.")})
    before = audit.snapshot(record, RECORD_FIELDS)
    record.repaired_on = on
    record.save()
    audit.record(record, action="credit_record.repaired", actor=actor, before=before,
                 reason=reason, division=record.entity.division_id)
    _changed(record, "repaired")
    return record


# --- records by hand --------------------------------------------------------------------------

def _entity(entity_id):
    from zhijian.registry.models import MarketEntity

    entity = MarketEntity.objects.filter(pk=entity_id).first() if entity_id else None
    if entity is None:
        raise ValidationError({"entity": _(
            "No market entity was given or found: give the firm's unified social credit "
            "code.")})
    return entity


def _department_of(actor, department_id=None):
    """The department an officer acts for: their own; an administrator names one."""
    from zhijian.registry.models import Department

    if department_id:
        dept = Department.objects.filter(pk=department_id).first()
        if dept is None:
            raise ValidationError({"department": _("No such department.")})
        return dept
    return getattr(actor, "department", None)


def _check_day(value, field: str, *, not_before: dt.date | None = None,
               today: dt.date | None = None) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValidationError({field: _("Give a date (YYYY-MM-DD).")})
    today = today or timezone.localdate()
    if value > today:
        raise ValidationError({field: _("The date cannot be in the future.")})
    if not_before is not None and value < not_before:
        raise ValidationError({field: _("The date cannot be before %(day)s.") % {
            "day": not_before.isoformat()}})
    return value


@transaction.atomic
def record_enter(*, actor, entity_id, kind: str, date: dt.date, evidence, summary: str,
                 source_ref: str = "", weight: int | None = None,
                 expires_on: dt.date | None = None, public: bool = False,
                 department_id=None) -> CreditRecord:
    """An officer enters a credit record by hand (any kind, an award included) with its
    evidence file; only a regulator whose jurisdiction includes the firm may."""
    from .. import access

    entity = _entity(entity_id)
    access.require_officer(actor, entity)
    if not (summary or "").strip():
        raise ValidationError({"summary": _("Say what the record is about.")})
    if not evidence:
        raise ValidationError({"evidence": _(
            "A record entered by hand needs its evidence: attach the document.")})
    if isinstance(date, dt.date) and date > timezone.localdate():
        raise ValidationError({"date": _("The date cannot be in the future.")})
    dept = _department_of(actor, department_id)
    return record_create(
        entity=entity, kind=kind, date=date, source_type=MANUAL, source_id="",
        source_ref=(source_ref or "").strip() or _("Entered by hand"),
        summary=summary.strip(), weight=weight, expires_on=expires_on, public=bool(public),
        evidence=evidence, department=dept, actor=actor)


@transaction.atomic
def record_withdraw_by_officer(*, actor, record_id, reason: str) -> CreditRecord:
    """An officer withdraws a record of a firm in their jurisdiction (entered in error, or
    its source annulled outside the platform), with the reason."""
    from .. import access

    record = CreditRecord.objects.select_related("entity").filter(pk=record_id).first()
    if record is None:
        raise ValidationError({"record": _("No such credit record.")})
    access.require_officer(actor, record.entity)
    if record.status == RecordStatus.WITHDRAWN:
        raise ValidationError({"reason": _("This record was already withdrawn.")})
    return record_withdraw(record_id=record.pk, reason=reason, actor=actor)


def withdraw_source(*, source_type: str, source_id, reason: str, actor=None,
                    kinds=None) -> list[CreditRecord]:
    """Withdraw every record in force written from one source (its source was revoked)."""
    qs = CreditRecord.objects.filter(source_type=source_type, source_id=str(source_id),
                                     status=RecordStatus.ACTIVE)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return [record_withdraw(record_id=pk, reason=reason, actor=actor)
            for pk in qs.values_list("pk", flat=True)]


# --- penalties (行政处罚决定) -------------------------------------------------------------------

PENALTY_FIELDS = ("decision_number", "entity_id", "department_id", "decided_on", "violation",
                  "legal_basis", "fine", "heavy", "document_sha256", "paid_on", "status")
PENALTY_SOURCE = "credit.penalty"


@transaction.atomic
def penalty_record(*, actor, entity_id, decision_number: str, decided_on: dt.date,
                   violation: str, legal_basis: str, document, fine=None, heavy: bool = False,
                   department_id=None, summary: str = "") -> Penalty:
    """Register an administrative penalty decision (行政处罚决定) with its decision document
    as evidence; it is public and becomes a credit record (penalty or penalty_heavy)."""
    from decimal import Decimal, InvalidOperation

    from .. import access

    entity = _entity(entity_id)
    access.require_officer(actor, entity)
    errors = {}
    number = (decision_number or "").strip()
    if not number:
        errors["decision_number"] = _("Give the number of the penalty decision "
                                      "(行政处罚决定书文号).")
    elif Penalty.objects.filter(decision_number=number).exists():
        errors["decision_number"] = _("A penalty decision with the number %(number)s is "
                                      "already registered.") % {"number": number}
    try:
        _check_day(decided_on, "decided_on", not_before=dt.date(2000, 1, 1))
    except ValidationError as err:
        errors.update(err.message_dict)
    if not (violation or "").strip():
        errors["violation"] = _("Describe the violation as the decision states it.")
    if not (legal_basis or "").strip():
        errors["legal_basis"] = _("Give the legal basis of the penalty (law and article).")
    if fine not in (None, ""):
        try:
            fine = Decimal(str(fine))
        except InvalidOperation:
            fine = Decimal(-1)
        if fine < 0 or fine.as_tuple().exponent < -2:
            errors["fine"] = _("The fine is an amount in yuan, 0 or more, with at most two "
                               "decimals.")
    else:
        fine = None
    if not document:
        errors["document"] = _("Attach the penalty decision document: it is the evidence "
                               "of the record.")
    dept = _department_of(actor, department_id)
    if dept is None:
        errors["department"] = _("Name the department that decided the penalty.")
    if errors:
        raise ValidationError(errors)
    penalty = Penalty(
        decision_number=number, entity=entity, department=dept, decided_on=decided_on,
        violation=violation.strip(), legal_basis=legal_basis.strip()[:300], fine=fine,
        heavy=bool(heavy), document_sha256=upload_sha256(document), created_by=actor)
    penalty.document = document
    penalty.save()
    audit.record(penalty, action="penalty.recorded", actor=actor, before=None,
                 division=entity.division_id)
    record = record_create(
        entity=entity, kind=RecordKind.PENALTY_HEAVY if heavy else RecordKind.PENALTY,
        date=decided_on, source_type=PENALTY_SOURCE, source_id=penalty.pk,
        source_ref=_("Penalty decision %(number)s") % {"number": number},
        summary=(summary or violation).strip(), public=True, department=dept, actor=actor)
    events.publish("penalty.decided", aggregate=penalty, payload={
        "penalty": penalty.pk, "entity": entity.pk, "heavy": penalty.heavy,
        "department": dept.pk, "record": record.pk})
    return penalty


def _lock_penalty(actor, penalty_id) -> Penalty:
    from .. import access

    penalty = (Penalty.objects.select_for_update().select_related("entity")
               .filter(pk=penalty_id).first())
    if penalty is None:
        raise ValidationError({"penalty": _("No such penalty decision.")})
    access.require_officer(actor, penalty.entity)
    return penalty


@transaction.atomic
def penalty_mark_paid(*, actor, penalty_id, paid_on: dt.date) -> Penalty:
    """Record that the fine was paid (a condition of credit repair)."""
    penalty = _lock_penalty(actor, penalty_id)
    if penalty.status != PenaltyStatus.IN_FORCE:
        raise ValidationError({"paid_on": _("The penalty was revoked; nothing is to be paid.")})
    if penalty.paid_on is not None:
        raise ValidationError({"paid_on": _("The fine was already recorded as paid on "
                                            "%(day)s.") % {"day": penalty.paid_on}})
    _check_day(paid_on, "paid_on", not_before=penalty.decided_on)
    before = audit.snapshot(penalty, PENALTY_FIELDS)
    penalty.paid_on = paid_on
    penalty.save(update_fields=["paid_on"])
    audit.record(penalty, action="penalty.paid", actor=actor, before=before,
                 division=penalty.entity.division_id)
    events.publish("penalty.paid", aggregate=penalty, payload={
        "penalty": penalty.pk, "entity": penalty.entity_id, "paid_on": paid_on.isoformat()})
    return penalty


@transaction.atomic
def penalty_revoke(*, actor, penalty_id, reason: str) -> Penalty:
    """The decision was revoked (on review or by a court): its credit record is withdrawn
    with the reason."""
    penalty = _lock_penalty(actor, penalty_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason the decision was revoked (the "
                                           "review decision or judgment).")})
    if penalty.status == PenaltyStatus.REVOKED:
        raise ValidationError({"reason": _("This penalty decision was already revoked.")})
    before = audit.snapshot(penalty, PENALTY_FIELDS)
    penalty.status = PenaltyStatus.REVOKED
    penalty.save(update_fields=["status"])
    audit.record(penalty, action="penalty.revoked", actor=actor, before=before, reason=reason,
                 division=penalty.entity.division_id)
    withdraw_source(source_type=PENALTY_SOURCE, source_id=penalty.pk, actor=actor,
                    reason=_("Penalty decision %(number)s revoked: %(reason)s") % {
                        "number": penalty.decision_number, "reason": reason})
    events.publish("penalty.revoked", aggregate=penalty, payload={
        "penalty": penalty.pk, "entity": penalty.entity_id, "reason": reason})
    return penalty


# --- credit commitments (信用承诺) --------------------------------------------------------------

COMMITMENT_RULE = "credit.commitment_statement"
COMMITMENT_SOURCE = "credit.commitment"
COMMITMENT_FIELDS = ("entity_id", "occasion", "reference", "template_version", "signatory",
                     "text_sha256", "status", "breached_on", "breach_reason")


def commitment_text(*, entity, occasion: str, reference: str = "",
                    on: dt.date | None = None) -> tuple[str, str]:
    """The statement a firm signs on `on` for `occasion`, filled in, and the rule version."""
    rule = rules.get(COMMITMENT_RULE, on or timezone.localdate())
    intro = rule.value["intro"].get(occasion) or rule.value["intro"]["other"]
    fill = {"name": entity.name, "uscc": entity.uscc, "reference": reference or "—"}
    return intro.format(**fill) + rule.value["body"].format(**fill), rule.version


@transaction.atomic
def commitment_sign(*, actor, occasion: str, reference: str = "", signatory: str,
                    entity_id=None, now: dt.datetime | None = None) -> Commitment:
    """A firm signs the credit commitment statement in force for the occasion: the exact
    text, its SHA-256 and the rule version are stored; it is public and a record."""
    from zhijian.core.access import Denied, scope_of

    scope = scope_of(actor)
    if scope.role != "enterprise" or (entity_id and int(entity_id) != scope.org_id):
        raise Denied(_("Only the firm itself signs its credit commitment, from its own "
                       "account."))
    entity = _entity(scope.org_id)
    errors = {}
    if occasion not in CommitmentOccasion.values:
        errors["occasion"] = _("Choose the occasion of the commitment.")
    reference = (reference or "").strip()
    if occasion in (CommitmentOccasion.LICENSING, CommitmentOccasion.TENDER,
                    CommitmentOccasion.OTHER) and not reference:
        errors["reference"] = _("Give the application, licence or bid number (for "
                                "“other”: what the commitment is for).")
    signatory = (signatory or "").strip()
    if not signatory:
        errors["signatory"] = _("Give the name of the person signing for the firm (the "
                                "legal representative or a person authorised by them).")
    if errors:
        raise ValidationError(errors)
    now = now or timezone.now()
    text, version = commitment_text(entity=entity, occasion=occasion, reference=reference,
                                    on=timezone.localdate(now))
    commitment = Commitment.objects.create(
        entity=entity, occasion=occasion, reference=reference[:100], text=text,
        template_version=version, signatory=signatory[:50], signed_by=actor, signed_at=now,
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
    audit.record(commitment, action="commitment.signed", actor=actor, before=None,
                 division=entity.division_id)
    record_create(
        entity=entity, kind=RecordKind.COMMITMENT_MADE, date=timezone.localdate(now),
        source_type=COMMITMENT_SOURCE, source_id=commitment.pk,
        source_ref=_("Credit commitment (%(occasion)s)") % {
            "occasion": commitment.get_occasion_display()},
        summary=reference, public=True, actor=actor)
    events.publish("commitment.signed", aggregate=commitment, payload={
        "commitment": commitment.pk, "entity": entity.pk, "occasion": occasion})
    return commitment


@transaction.atomic
def commitment_breach(*, actor, commitment_id, breached_on: dt.date, reason: str,
                      evidence) -> Commitment:
    """An officer finds that a firm broke its credit commitment: the commitment is marked
    breached and a public commitment_breached record is written with the evidence."""
    from .. import access

    commitment = (Commitment.objects.select_for_update().select_related("entity")
                  .filter(pk=commitment_id).first())
    if commitment is None:
        raise ValidationError({"commitment": _("No such credit commitment.")})
    access.require_officer(actor, commitment.entity)
    if commitment.status == CommitmentStatus.BREACHED:
        raise ValidationError({"breached_on": _("This commitment was already found "
                                                "breached on %(day)s.") % {
            "day": commitment.breached_on}})
    errors = {}
    try:
        _check_day(breached_on, "breached_on",
                   not_before=timezone.localdate(commitment.signed_at))
    except ValidationError as err:
        errors.update(err.message_dict)
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Say how the commitment was broken.")
    if not evidence:
        errors["evidence"] = _("Attach the evidence of the breach.")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(commitment, COMMITMENT_FIELDS)
    commitment.status = CommitmentStatus.BREACHED
    commitment.breached_on, commitment.breach_reason = breached_on, reason
    commitment.save(update_fields=["status", "breached_on", "breach_reason"])
    audit.record(commitment, action="commitment.breached", actor=actor, before=before,
                 reason=reason, division=commitment.entity.division_id)
    record = record_create(
        entity=commitment.entity, kind=RecordKind.COMMITMENT_BREACHED, date=breached_on,
        source_type=COMMITMENT_SOURCE, source_id=commitment.pk,
        source_ref=_("Credit commitment (%(occasion)s) breached") % {
            "occasion": commitment.get_occasion_display()},
        summary=reason, public=True, evidence=evidence,
        department=getattr(actor, "department", None), actor=actor)
    events.publish("commitment.breached", aggregate=commitment, payload={
        "commitment": commitment.pk, "entity": commitment.entity_id, "record": record.pk})
    return commitment
