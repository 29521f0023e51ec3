"""What the public may know of a firm's quality credit, as data (docs/credit-public.md).

Two products, one source of truth for both the pages and the API:

- the public credit report of one firm (public_report): registration facts, the public
  credit records in force, commitments, the serious-dishonesty listing while listed and
  the joint punishment measures that apply now. Never the credit class: 企业信用风险分类
  结果原则上不对外公开 (国家市场监督管理总局《关于推进企业信用风险分类管理进一步提升监管
  效能的意见》国市监信发〔2022〕6号).
- the export of credit records for the provincial public credit platform
  (export_record, feed): the JSON format of schemas/credit-record-export.schema.json
  with a change feed by an opaque cursor over (updated_at, id).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhijian.core import rules

from .choices import PenaltyStatus, RecordKind, RecordStatus
from .models import Commitment, CreditRecord, Penalty
from .scoring import add_months
from .services import measures

FORMAT = "zhijian.credit-records/1"
SCHEMA_PATH = Path(__file__).with_name("schemas") / "credit-record-export.schema.json"
PAGE_MAX = 1000
PENALTY_SOURCE = "credit.penalty"
COMMITMENT_SOURCE = "credit.commitment"

ACTIVE, WITHDRAWN, REPAIRED = "active", "withdrawn", "repaired"


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


# --- expiry under the rule ---------------------------------------------------------------

def _kinds_on(day: dt.date) -> dict:
    """credit.record_kinds in force on `day` ({} before the first version)."""
    try:
        return _kinds_version(rules.get("credit.record_kinds", day).version)
    except rules.RuleError:
        return {}


@cache
def _kinds_version(version: str) -> dict:
    for rule in rules.versions("credit.record_kinds"):
        if rule.version == version:
            return rule.value
    return {}


def expiry_of(record: CreditRecord) -> dt.date | None:
    """The first day the record no longer counts: its own expires_on, or its date plus
    the validity of its kind under the rule version in force on its date (None: no
    expiry)."""
    if record.expires_on is not None:
        return record.expires_on
    months = _kinds_on(record.date).get(record.kind, {}).get("validity_months")
    return add_months(record.date, months) if months else None


def in_force(record: CreditRecord, on: dt.date) -> bool:
    """Active, dated on or before `on`, not expired and not repaired on `on`."""
    if record.status != RecordStatus.ACTIVE or record.date > on:
        return False
    if record.repaired_on is not None and record.repaired_on <= on:
        return False
    expiry = expiry_of(record)
    return expiry is None or on < expiry


def _zh(label) -> str:
    with translation.override("zh-hans"):
        return str(label)


def _iso(day) -> str | None:
    return day.isoformat() if day else None


def _ts(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- one exported record -------------------------------------------------------------------

def export_status(record: CreditRecord) -> str:
    """active, repaired, or withdrawn (withdrawn also for a record that is not public:
    the receiver removes what it may have shown)."""
    if record.status != RecordStatus.ACTIVE or not record.public:
        return WITHDRAWN
    if record.repaired_on is not None:
        return REPAIRED
    return ACTIVE


def export_record(record: CreditRecord) -> dict:
    """One record in the export format. A record that is withdrawn or not public is
    exported as a tombstone (id, status "withdrawn", updated_at): nothing else of it is
    public."""
    status = export_status(record)
    if status == WITHDRAWN:
        return {"id": record.pk, "status": WITHDRAWN, "updated_at": _ts(record.updated_at)}
    department = record.department
    return {
        "id": record.pk,
        "status": status,
        "uscc": record.entity.uscc,
        "entity_name": record.entity.name,
        "kind": {"code": record.kind, "label": _zh(RecordKind(record.kind).label)
                 if record.kind in RecordKind.values else record.kind},
        "date": record.date.isoformat(),
        "expires_on": _iso(expiry_of(record)),
        "repaired_on": _iso(record.repaired_on),
        "authority": ({"name": department.name, "code": department.code}
                      if department is not None else None),
        "source": {"type": record.source_type, "reference": record.source_ref},
        "summary": record.summary,
        "rule_version": record.rule_version,
        "updated_at": _ts(record.updated_at),
    }


# --- the change feed -------------------------------------------------------------------------

def encode_cursor(updated_at: dt.datetime, pk: int) -> str:
    text = f"{_ts(updated_at)}|{pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    bad = ValidationError({"since": _(
        "This is not a cursor of the credit record feed: give the \"next\" value of an "
        "earlier page, or leave it out to start from the beginning.")})
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = text.split("|")
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        pk = int(pk)
    except (ValueError, UnicodeError, binascii.Error) as err:
        raise bad from err
    if moment.tzinfo is None or pk < 0:
        raise bad
    return moment, pk


def settle_seconds() -> int:
    """Records changed in the last seconds are held back: a transaction that saved a
    record earlier may commit later; holding back longer than any write transaction
    keeps the feed from skipping it."""
    return int(getattr(settings, "ZHIJIAN_CREDIT_FEED_SETTLE_SECONDS", 60))


def feed(*, since: str | None = None, limit: int | None = None,
         now: dt.datetime | None = None) -> dict:
    """One page of the change feed: every record changed after the cursor `since` (all
    of them when None), in (updated_at, id) order, at most `limit` (1..1000). The page's
    "next" is the cursor to ask with next time; "more" says whether more are waiting
    now. A record that changes again comes again, with its new state."""
    limit = PAGE_MAX if limit is None else limit
    if not isinstance(limit, int) or not 1 <= limit <= PAGE_MAX:
        raise ValidationError({"limit": _("The page size is 1 to %(max)s records.") % {
            "max": PAGE_MAX}})
    now = now or timezone.now()
    horizon = now - dt.timedelta(seconds=settle_seconds())
    qs = (CreditRecord.objects.filter(updated_at__lte=horizon)
          .select_related("entity", "department")
          .defer("evidence", "withdrawn_reason", "entity__address")
          .order_by("updated_at", "id"))
    if since:
        moment, pk = decode_cursor(since)
        qs = qs.filter(updated_at__gte=moment).exclude(updated_at=moment, id__lte=pk)
    rows = list(qs[:limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return {
        "format": FORMAT,
        "generated_at": _ts(now),
        "since": since or None,
        "next": encode_cursor(last.updated_at, last.pk) if last else (since or None),
        "more": more,
        "records": [export_record(r) for r in rows],
    }


# --- the public credit report of one firm ----------------------------------------------------

CLASS_NOT_PUBLIC = gettext_lazy(
    "The credit risk class of a firm is used by the regulators to plan inspections and is "
    "not made public (SAMR, Guo Shi Jian Xin Fa [2022] No. 6: 企业信用风险分类结果原则上不对外公开).")


def public_records(entity, on: dt.date) -> list[CreditRecord]:
    """The public credit records of `entity` in force on `on`, newest first."""
    qs = (CreditRecord.objects.public().filter(entity=entity, date__lte=on)
          .select_related("department").defer("evidence").order_by("-date", "-id"))
    return [r for r in qs if in_force(r, on)]


def _penalties(records) -> dict[str, Penalty]:
    ids = [r.source_id for r in records if r.source_type == PENALTY_SOURCE and r.source_id]
    if not ids:
        return {}
    return {str(p.pk): p for p in Penalty.objects.filter(
        pk__in=[i for i in ids if i.isdigit()], status=PenaltyStatus.IN_FORCE)
        .select_related("department").defer("document")}


def penalty_public(p: Penalty) -> dict:
    """What the penalty decision makes public: not the document file."""
    return {"decision_number": p.decision_number, "authority": p.department.name,
            "decided_on": p.decided_on.isoformat(), "violation": p.violation,
            "legal_basis": p.legal_basis,
            "fine": str(p.fine) if p.fine is not None else None, "heavy": p.heavy}


def record_public(record: CreditRecord, penalties: dict) -> dict:
    row = export_record(record)
    penalty = penalties.get(record.source_id) if record.source_type == PENALTY_SOURCE else None
    row["penalty"] = penalty_public(penalty) if penalty is not None else None
    return row


def commitment_public(c: Commitment) -> dict:
    return {"id": c.pk, "occasion": c.occasion, "occasion_label": str(c.get_occasion_display()),
            "reference": c.reference, "signed_at": _ts(c.signed_at),
            "signatory": c.signatory, "statement": c.text,
            "statement_sha256": c.text_sha256, "status": c.status,
            "status_label": str(c.get_status_display()),
            "breached_on": _iso(c.breached_on)}


def listing_public(entity, on: dt.date) -> dict | None:
    """The serious-dishonesty listing while the firm is listed (None otherwise: the list
    is published only while a firm is on it)."""
    entry = measures.listed_entry(entity, on)
    if entry is None:
        return None
    return {"case": entry.pk, "listed_on": _iso(entry.listed_on),
            "listed_until": _iso(entry.listed_until),
            "department": entry.department.name, "reasons": entry.decision_reasons}


def measures_public(entity, on: dt.date) -> list[dict]:
    """The joint punishment measures triggered by the serious-dishonesty listing that
    apply to the firm on `on`, with their reason. Only list-triggered measures: one
    triggered by the class would disclose the class (the rule of the public measures
    API, services/measures.PUBLIC_TRIGGERS)."""
    st = measures.standing_of(entity, on=on)
    return [{"code": m.code, "label": str(m.get_code_display()),
             "department": m.department.name, "effect": m.effect,
             "effect_label": str(m.get_effect_display()),
             "contexts": list(m.contexts or []), "legal_basis": m.legal_basis,
             "reason": measures.reason_text(m, st, public=True)}
            for m in measures.applying(st, on=on) if m.trigger in measures.PUBLIC_TRIGGERS]


def public_report(entity, on: dt.date | None = None) -> dict:
    """The public credit report of one firm on `on` (today)."""
    on = on or timezone.localdate()
    records = public_records(entity, on)
    penalties = _penalties(records)
    commitments = Commitment.objects.filter(entity=entity).order_by("-signed_at", "-id")
    return {
        "format": "zhijian.credit-report/1",
        "on": on.isoformat(),
        "entity": {
            "uscc": entity.uscc, "name": entity.name,
            "entity_type": entity.entity_type,
            "entity_type_label": str(entity.get_entity_type_display()),
            "division": {"code": entity.division_id, "name": entity.division.name},
            "status": entity.status, "status_label": str(entity.get_status_display()),
            "registered_on": _iso(entity.registered_on),
        },
        "records": [record_public(r, penalties) for r in records],
        "commitments": [commitment_public(c) for c in commitments],
        "listing": listing_public(entity, on),
        "measures": measures_public(entity, on),
        "credit_class": None,
        "credit_class_note": str(CLASS_NOT_PUBLIC),
    }
