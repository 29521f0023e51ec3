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

from ..choices import RecordKind, RecordStatus
from ..models import MANUAL, CreditRecord

RECORD_FIELDS = ("entity_id", "kind", "date", "weight", "expires_on", "repaired_on",
                 "source_type", "source_id", "source_ref", "summary", "evidence_sha256",
                 "public", "status", "withdrawn_reason", "rule_version")


def _changed(record: CreditRecord, change: str) -> None:
    events.publish("credit.record_changed", aggregate=record, payload={
        "record": record.pk, "entity": record.entity_id, "kind": record.kind,
        "change": change})


def file_sha256(upload) -> str:
    h = hashlib.sha256()
    for chunk in upload.chunks():
        h.update(chunk)
    upload.seek(0)
    return h.hexdigest()


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
        record.evidence_sha256 = file_sha256(evidence)
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
