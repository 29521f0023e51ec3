"""Writes of the test-report module: lab keys, instruments and calibrations, drafting,
signing, issuing, revoking reports; and the verification anyone can ask for.

Signing (docs/report-signing.md): the report's data are rendered as a PDF, then the RFC 8785
canonical JSON of {"report": data, "pdf_sha256", "kid", "alg", "custody"} is signed with the
lab's Ed25519 key. A lab that holds its own key gets that payload (report_prepare), signs it
where the key lives and posts the signature (report_sign); a key the platform holds on the
lab's behalf (custody "platform") signs in one step (report_issue), and says so on the
report and on every verification.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhijian.core import audit, canonical, events, signing
from zhijian.core.access import Denied, scope_of
from zhijian.registry.choices import LabStatus
from zhijian.registry.models import AccreditationScope, Lab

from . import verification
from .choices import (
    Conclusion,
    KeyCustody,
    ReportKind,
    ReportStatus,
    RevocationGround,
    Verdict,
)
from .models import Calibration, Instrument, LabKey, Report, ReportItem, Revocation

ALG = "ed25519"
FORMAT = "zhijian-report/1"
REVOCATION_FORMAT = "zhijian-revocation/1"
# Report numbers appear in URLs (/verify/<number>/), so no "/".
NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_.]{2,39}$")
REPORT_FIELDS = [
    "number", "lab", "kind", "sample", "producer", "client", "product", "product_name", "model",
    "category", "batch", "quantity_covered", "unit", "standard", "received_on", "tested_from",
    "tested_to", "issued_on", "conclusion", "remarks", "authorised_by", "status", "supersedes",
    "pdf_sha256", "key", "signature",
]


# --- who may act ------------------------------------------------------------------------------

def _lab_for(actor, lab_id: int | None) -> Lab:
    """The lab the actor acts for: a lab user's own lab, or any lab for an administrator."""
    scope = scope_of(actor)
    if scope.role == "lab":
        if lab_id is not None and int(lab_id) != scope.org_id:
            raise Denied(_("You can act only for your own laboratory."), field="lab")
        return Lab.objects.get(pk=scope.org_id)
    if scope.is_admin:
        if lab_id is None:
            raise ValidationError({"lab": _("Choose the laboratory.")})
        return Lab.objects.get(pk=lab_id)
    raise Denied(_("Only the laboratory's own users may do this."))


def _require_active(lab: Lab) -> None:
    if lab.status != LabStatus.ACTIVE:
        raise ValidationError({"lab": _(
            "The laboratory is %(status)s and may not issue reports.")
            % {"status": LabStatus(lab.status).label}})


# --- keys -------------------------------------------------------------------------------------

def _key_audit(key: LabKey, actor, action: str, before=None, reason: str = "") -> None:
    audit.record(key, action=action, actor=actor, before=before, reason=reason,
                 division=key.lab.division_id)


@transaction.atomic
def key_register(*, actor, lab_id: int | None = None, public_key_hex: str) -> LabKey:
    """Register the public half of a key the lab holds itself (raw Ed25519, 64 hex digits)."""
    lab = _lab_for(actor, lab_id)
    text = (public_key_hex or "").strip().lower()
    try:
        raw = bytes.fromhex(text)
        if len(raw) != 32:
            raise ValueError
        verification._public_key(text)
    except ValueError:
        raise ValidationError({"public_key": _(
            "Give the raw Ed25519 public key: 32 bytes as 64 hexadecimal digits.")}) from None
    key_id = signing.key_id_for(raw)
    if LabKey.objects.filter(key_id=key_id).exists():
        raise ValidationError({"public_key": _("This key is already registered.")})
    key = LabKey.objects.create(lab=lab, key_id=key_id, public_key=text, alg=ALG,
                                custody=KeyCustody.LAB, registered_at=timezone.now(),
                                registered_by=actor)
    _key_audit(key, actor, "lab_key.registered")
    return key


def custodial_key_path(key_id: str):
    return settings.ZHIJIAN_LAB_KEY_DIR / f"{key_id}.pem"


@transaction.atomic
def key_generate_custodial(*, actor, lab_id: int | None = None) -> LabKey:
    """Create a key the platform holds on the lab's behalf (custody "platform"): the private
    key stays in a file of the platform (ZHIJIAN_LAB_KEY_DIR, mode 0600), and every report
    it signs and every verification of such a report says who holds it."""
    lab = _lab_for(actor, lab_id)
    directory = settings.ZHIJIAN_LAB_KEY_DIR
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".new-{os.getpid()}-{timezone.now().timestamp():.6f}.pem"
    signing.keygen(tmp)
    loaded = signing.load_key(tmp)
    tmp.rename(custodial_key_path(loaded.key_id))
    key = LabKey.objects.create(lab=lab, key_id=loaded.key_id, public_key=loaded.public_hex,
                                alg=ALG, custody=KeyCustody.PLATFORM,
                                registered_at=timezone.now(), registered_by=actor)
    _key_audit(key, actor, "lab_key.generated")
    return key


@transaction.atomic
def key_retire(*, actor, key_id: str, reason: str = "") -> LabKey:
    key = LabKey.objects.select_for_update().select_related("lab").get(key_id=key_id)
    _lab_for(actor, key.lab_id)
    if key.retired_at is not None:
        raise ValidationError({"key": _("The key is already retired.")})
    before = audit.snapshot(key)
    key.retired_at = timezone.now()
    key.save(update_fields=["retired_at"])
    _key_audit(key, actor, "lab_key.retired", before, reason)
    return key


def _usable_key(lab: Lab, key_id: str | None) -> LabKey:
    qs = LabKey.objects.filter(lab=lab, retired_at__isnull=True)
    key = qs.filter(key_id=key_id).first() if key_id else qs.order_by("-registered_at").first()
    if key is None:
        raise ValidationError({"key": _(
            "No current signing key of this laboratory has that id; register a key first.")
            if key_id else _("The laboratory has no signing key; register one first.")})
    return key


# --- instruments and calibrations -----------------------------------------------------------

@transaction.atomic
def instrument_add(*, actor, lab_id: int | None = None, data: dict) -> Instrument:
    lab = _lab_for(actor, lab_id)
    serial = (data.get("serial_number") or "").strip()
    if not serial:
        raise ValidationError({"serial_number": _("Give the instrument's serial number.")})
    if Instrument.objects.filter(lab=lab, serial_number=serial).exists():
        raise ValidationError({"serial_number": _(
            "The laboratory already has an instrument with this serial number.")})
    instrument = Instrument(lab=lab, name=(data.get("name") or "").strip(),
                            model=(data.get("model") or "").strip(), serial_number=serial)
    instrument.full_clean()
    instrument.save()
    audit.record(instrument, action="instrument.added", actor=actor, before=None,
                 division=lab.division_id)
    return instrument


@transaction.atomic
def calibration_add(*, actor, instrument_id: int, data: dict) -> Calibration:
    instrument = Instrument.objects.select_related("lab").get(pk=instrument_id)
    _lab_for(actor, instrument.lab_id)
    start, end = data.get("calibrated_on"), data.get("valid_until")
    if start and end and end < start:
        raise ValidationError({"valid_until": _(
            "The validity must end on or after the calibration date.")})
    cal = Calibration(instrument=instrument,
                      certificate_number=(data.get("certificate_number") or "").strip(),
                      calibrated_by=(data.get("calibrated_by") or "").strip(),
                      calibrated_on=start, valid_until=end)
    cal.full_clean()
    cal.save()
    audit.record(cal, action="calibration.added", actor=actor, before=None,
                 division=instrument.lab.division_id)
    return cal


# --- drafting ---------------------------------------------------------------------------------

def _scope_problems(lab: Lab, standard, parameters: list[str], day: dt.date) -> list[str]:
    lines = list(AccreditationScope.objects.valid_on(day).filter(lab=lab, standard=standard)
                 .values_list("parameter", flat=True))
    if not lines:
        return [_("The laboratory's accredited scope does not include %(standard)s on "
                  "%(day)s.") % {"standard": standard.code, "day": day.isoformat()}]
    missing = [p for p in dict.fromkeys(parameters) if "" not in lines and p not in lines]
    if missing:
        return [_("These parameters are outside the laboratory's accredited scope for "
                  "%(standard)s: %(parameters)s.")
                % {"standard": standard.code, "parameters": "、".join(missing)}]
    return []


def _clean_items(items: list[dict]) -> list[dict]:
    if not items:
        raise ValidationError({"items": _("Add at least one test item.")})
    out, errors = [], []
    for n, raw in enumerate(items, start=1):
        item = {k: str(raw.get(k) or "").strip()
                for k in ("parameter", "requirement", "measured", "unit", "verdict")}
        missing = [k for k in ("parameter", "requirement", "measured") if not item[k]]
        if missing:
            errors.append(_("Item %(n)d: fill in %(fields)s.")
                          % {"n": n, "fields": ", ".join(missing)})
        if item["verdict"] not in Verdict.values:
            errors.append(_("Item %(n)d: the verdict must be pass, fail or not applicable.")
                          % {"n": n})
        item["position"] = n
        out.append(item)
    if errors:
        raise ValidationError({"items": errors})
    return out


@transaction.atomic
def report_draft(*, actor, data: dict, items: list[dict], instrument_ids=(),
                 today: dt.date | None = None) -> Report:
    """Record a report as a draft. Refused: a standard or parameter outside the lab's scope,
    an instrument of another lab, dates out of order, a conclusion that contradicts the
    items, and a supervisory report for a sample assigned to another lab or whose chain of
    custody is broken."""
    lab = _lab_for(actor, getattr(data.get("lab"), "pk", data.get("lab")))
    _require_active(lab)
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}

    def err(fieldname, message):
        errors.setdefault(fieldname, []).append(message)

    number = (data.get("number") or "").strip()
    if not NUMBER_RE.match(number):
        err("number", _("The report number must be 3–40 letters, digits, '-', '_' or '.', "
                        "starting with a letter or digit."))
    elif Report.objects.filter(number=number).exists():
        err("number", _("A report with this number already exists."))
    kind = data.get("kind") or ReportKind.COMMISSIONED
    if kind not in ReportKind.values:
        err("kind", _("Choose a valid kind of report."))
    sample = data.get("sample")
    producer = data.get("producer")
    batch = (data.get("batch") or "").strip()
    if kind == ReportKind.SUPERVISORY and sample is None:
        err("sample", _("A supervisory report must name its sample."))
    if sample is not None:
        if sample.lab_id != lab.pk:
            err("sample", _("The sample was assigned to another laboratory; only %(lab)s "
                            "may report on it.") % {"lab": sample.lab.name})
        else:
            problems = list(getattr(sample, "custody_problems", lambda: [])())
            if problems:
                err("sample", _("The sample's chain of custody is broken: %(problems)s")
                    % {"problems": " ".join(problems)})
        producer = sample.producer
        batch = sample.batch
        if sample.reports.exclude(status=ReportStatus.DRAFT).exclude(
                pk=getattr(data.get("supersedes"), "pk", None)).filter(
                status=ReportStatus.ISSUED).exists():
            err("sample", _("The sample already has an issued report; issue a replacement "
                            "that supersedes it instead."))
    if producer is None:
        err("producer", _("Name the producer."))
    if not batch:
        err("batch", _("Give the batch number."))
    quantity = data.get("quantity_covered")
    if quantity is None or Decimal(quantity) <= 0:
        err("quantity_covered", _("Give the quantity the report covers (more than zero)."))
    received, start, end = data.get("received_on"), data.get("tested_from"), data.get("tested_to")
    if not (received and start and end):
        err("received_on", _("Give the dates of sample receipt and of testing."))
    else:
        if start < received:
            err("tested_from", _("Testing cannot start before the sample was received."))
        if end < start:
            err("tested_to", _("Testing cannot finish before it started."))
        if end > today:
            err("tested_to", _("Testing cannot finish in the future."))
    standard = data.get("standard")
    try:
        clean_items = _clean_items(items)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        clean_items = []
    conclusion = data.get("conclusion")
    if conclusion not in Conclusion.values:
        err("conclusion", _("Choose the conclusion: conforming or nonconforming."))
    elif conclusion == Conclusion.PASS and any(i["verdict"] == Verdict.FAIL for i in clean_items):
        err("conclusion", _("An item failed, so the conclusion cannot be conforming."))
    if standard is None:
        err("standard", _("Name the standard the product was tested against."))
    elif clean_items:
        for message in _scope_problems(lab, standard, [i["parameter"] for i in clean_items
                                                       if i["verdict"] != Verdict.NOT_APPLICABLE],
                                       today):
            err("standard", message)
    instruments = list(Instrument.objects.filter(pk__in=list(instrument_ids)))
    if not instruments:
        err("instruments", _("Name the instruments used (at least one)."))
    elif any(i.lab_id != lab.pk for i in instruments) or len(instruments) != len(
            set(instrument_ids)):
        err("instruments", _("Use only this laboratory's registered instruments."))
    elif start and end:
        lapsed = [i.serial_number for i in instruments if not Calibration.objects.filter(
            instrument=i, calibrated_on__lte=start, valid_until__gte=end).exists()]
        if lapsed:
            err("instruments", _("These instruments were not within calibration for the "
                                 "whole test: %(serials)s.") % {"serials": ", ".join(lapsed)})
    supersedes = data.get("supersedes")
    if supersedes is not None and (supersedes.lab_id != lab.pk
                                   or supersedes.status != ReportStatus.ISSUED):
        err("supersedes", _("Only a current report of this laboratory can be superseded."))
    if not (data.get("authorised_by") or "").strip():
        err("authorised_by", _("Name the authorised signatory."))
    if errors:
        raise ValidationError(errors)

    report = Report(
        number=number, lab=lab, kind=kind, sample=sample, producer=producer,
        client=data.get("client"), product=data.get("product"),
        product_name=(data.get("product_name") or "").strip()
        or (sample.product_name if sample else ""),
        model=(data.get("model") or "").strip(), category=data.get("category")
        or (sample.category if sample else None), batch=batch,
        quantity_covered=Decimal(quantity), unit=(data.get("unit") or "").strip(),
        standard=standard, received_on=received, tested_from=start, tested_to=end,
        conclusion=conclusion, remarks=(data.get("remarks") or "").strip(),
        authorised_by=data["authorised_by"].strip(), supersedes=supersedes,
        created_by=actor,
    )
    report.full_clean(exclude=["pdf", "payload", "signature", "pdf_sha256", "key"])
    report.save()
    ReportItem.objects.bulk_create(ReportItem(report=report, **i) for i in clean_items)
    report.instruments.set(instruments)
    audit.record(report, action="report.drafted", actor=actor, before=None,
                 division=lab.division_id)
    return report


# --- the signed data --------------------------------------------------------------------------

def report_data(report: Report) -> dict:
    """The report's data as signed and as the PDF shows them (docs/report-signing.md)."""
    lab, producer, client, sample = report.lab, report.producer, report.client, report.sample
    instruments = []
    for inst in sorted(report.instruments.all(), key=lambda i: i.serial_number):
        cal = (Calibration.objects.filter(instrument=inst, calibrated_on__lte=report.tested_from,
                                          valid_until__gte=report.tested_to)
               .order_by("-calibrated_on").first())
        instruments.append({
            "name": inst.name, "model": inst.model, "serial_number": inst.serial_number,
            "calibration": None if cal is None else {
                "certificate_number": cal.certificate_number,
                "calibrated_by": cal.calibrated_by,
                "calibrated_on": cal.calibrated_on.isoformat(),
                "valid_until": cal.valid_until.isoformat(),
            },
        })
    return canonical.to_jsonable({
        "format": FORMAT,
        "number": report.number,
        "kind": report.kind,
        "lab": {"name": lab.name, "uscc": lab.uscc, "cma_number": lab.cma_number,
                "cnas_number": lab.cnas_number, "address": lab.address},
        "producer": {"uscc": producer.uscc, "name": producer.name, "address": producer.address},
        "client": None if client is None else {"uscc": client.uscc, "name": client.name},
        "sample": None if sample is None else {
            "code": sample.code, "seal_number": sample.seal_number,
            "sampled_at": sample.sampled_at, "place": sample.place, "channel": sample.channel},
        "product": {"name": report.product_name, "model": report.model,
                    "category": report.category.code, "category_name": report.category.name},
        "batch": report.batch,
        "quantity_covered": f"{report.quantity_covered:.3f}",
        "unit": report.unit,
        "standard": {"code": report.standard.code, "title": report.standard.title},
        "received_on": report.received_on, "tested_from": report.tested_from,
        "tested_to": report.tested_to, "issued_on": report.issued_on,
        "items": [{"position": i.position, "parameter": i.parameter,
                   "requirement": i.requirement, "measured": i.measured, "unit": i.unit,
                   "verdict": i.verdict} for i in report.items.order_by("position")],
        "instruments": instruments,
        "conclusion": report.conclusion, "remarks": report.remarks,
        "authorised_by": report.authorised_by,
        "supersedes": report.supersedes.number if report.supersedes_id else None,
    })


def data_digest(data: dict) -> str:
    """SHA-256 of the report data's canonical JSON (the fragment in the QR code)."""
    from . import pdf

    return pdf.data_digest(data)


def verify_url(data: dict) -> str:
    """What the QR code holds: the public verification page and a fragment of the data's
    digest, so a printed copy can be matched to the record."""
    from . import pdf

    return pdf.verify_url(settings.ZHIJIAN_PUBLIC_URL, data)


def _lock_draft(actor, report_id: int) -> Report:
    report = (Report.objects.select_for_update().select_related("lab")
              .filter(pk=report_id).first())
    if report is None:
        raise ValidationError({"report": _("No such report.")})
    _lab_for(actor, report.lab_id)
    if report.status != ReportStatus.DRAFT:
        raise ValidationError({"status": _("The report has already been issued.")})
    _require_active(report.lab)
    return report


def _prepare(report: Report, key: LabKey, today: dt.date) -> str:
    from . import pdf

    if today < report.tested_to:
        raise ValidationError({"issued_on": _("A report cannot be issued before testing "
                                              "finished.")})
    report.issued_on = today
    report.key = key
    data = report_data(report)
    body = pdf.render(data, verify_url=verify_url(data), key_id=key.key_id,
                      custody=key.custody)
    report.pdf_sha256 = hashlib.sha256(body).hexdigest()
    if report.pdf:
        report.pdf.delete(save=False)
    report.pdf.save(f"{report.number}.pdf", ContentFile(body), save=False)
    report.payload = canonical.canonical_text({
        "report": data, "pdf_sha256": report.pdf_sha256, "kid": key.key_id, "alg": key.alg,
        "custody": key.custody,
    })
    report.save(update_fields=["issued_on", "key", "pdf", "pdf_sha256", "payload"])
    return report.payload


@transaction.atomic
def report_prepare(*, actor, report_id: int, key_id: str, today: dt.date | None = None) -> str:
    """Fix the issue date and key, render the PDF, and return the payload the lab signs with
    its own key (then report_sign)."""
    report = _lock_draft(actor, report_id)
    key = _usable_key(report.lab, key_id)
    return _prepare(report, key, today or timezone.localdate())


def _issue(report: Report, signature_hex: str, actor) -> Report:
    before = audit.snapshot(report, REPORT_FIELDS)
    report.signature = signature_hex
    report.signed_at = timezone.now()
    report.status = ReportStatus.ISSUED
    report.save(update_fields=["signature", "signed_at", "status"])
    if report.supersedes_id:
        old = Report.objects.select_for_update().get(pk=report.supersedes_id)
        if old.status != ReportStatus.ISSUED:
            raise ValidationError({"supersedes": _(
                "Only a current report of this laboratory can be superseded.")})
        old_before = audit.snapshot(old, REPORT_FIELDS)
        old.status = ReportStatus.SUPERSEDED
        old.save(update_fields=["status"])
        audit.record(old, action="report.superseded", actor=actor, before=old_before,
                     reason=report.number, division=report.lab.division_id)
    audit.record(report, action="report.issued", actor=actor, before=before,
                 division=report.lab.division_id)
    payload = {"report": report.pk, "number": report.number, "lab": report.lab_id,
               "kind": report.kind, "sample": report.sample_id, "producer": report.producer_id,
               "category": report.category.code, "batch": report.batch,
               "conclusion": report.conclusion}
    events.publish("report.issued", aggregate=report, payload=payload)
    if report.conclusion == Conclusion.FAIL:
        events.publish("report.nonconforming", aggregate=report, payload=payload)
    return report


@transaction.atomic
def report_sign(*, actor, report_id: int, signature_hex: str) -> Report:
    """Accept the lab's signature over the prepared payload; refused unless it verifies with
    the registered key named in the payload."""
    report = _lock_draft(actor, report_id)
    if not report.payload or report.key_id is None:
        raise ValidationError({"signature": _("Prepare the report for signing first.")})
    key = report.key
    if key.retired_at is not None:
        raise ValidationError({"signature": _("The signing key was retired; prepare the "
                                              "report again with a current key.")})
    sig = (signature_hex or "").strip().lower()
    if not re.fullmatch(r"[0-9a-f]{128}", sig) or not verification.signature_ok(
            key.public_key, report.payload.encode("utf-8"), sig):
        raise ValidationError({"signature": _(
            "The signature does not verify with key %(key)s over the prepared payload; sign "
            "exactly the payload you were given, with that key.") % {"key": key.key_id}})
    return _issue(report, sig, actor)


@transaction.atomic
def report_issue(*, actor, report_id: int, today: dt.date | None = None) -> Report:
    """Render, sign with the key the platform holds for the lab, and issue, in one step."""
    report = _lock_draft(actor, report_id)
    key = (LabKey.objects.filter(lab=report.lab, custody=KeyCustody.PLATFORM,
                                 retired_at__isnull=True).order_by("-registered_at").first())
    if key is None:
        raise ValidationError({"key": _(
            "The laboratory has no key held by the platform. Prepare the report and sign it "
            "with your own key, or create a platform-held key first.")})
    payload = _prepare(report, key, today or timezone.localdate())
    loaded = signing.load_key(custodial_key_path(key.key_id))
    if loaded.key_id != key.key_id:
        raise RuntimeError(f"key file for {key.key_id} holds another key")
    return _issue(report, loaded.sign(payload.encode("utf-8")).hex(), actor)


# --- revocation -------------------------------------------------------------------------------

@transaction.atomic
def report_revoke(*, actor, report_id: int, reason: str,
                  ground: str = RevocationGround.ERROR) -> Revocation:
    """Revoke an issued report: a public statement, signed with the platform's audit key,
    naming the report, the reason, the ground and the digest of what was signed. The
    issuing lab and regulators whose jurisdiction covers the lab may revoke; only a
    regulator may revoke on the ground "false" (the report was found false or forged),
    which is a finding against the laboratory (docs/credit-records.md)."""
    report = Report.objects.select_for_update().select_related("lab").filter(
        pk=report_id).first()
    if report is None:
        raise ValidationError({"report": _("No such report.")})
    scope = scope_of(actor)
    allowed = (scope.is_admin or (scope.role == "lab" and scope.org_id == report.lab_id)
               or (scope.is_regulator and scope.covers_division(report.lab.division_id)))
    if not allowed:
        raise Denied(_("Only the issuing laboratory or a regulator responsible for it may "
                       "revoke a report."))
    ground = ground or RevocationGround.ERROR
    if ground not in RevocationGround.values:
        raise ValidationError({"ground": _("Choose the ground: an error (or the laboratory's "
                                           "request), or a report found false or forged.")})
    if ground == RevocationGround.FALSE and not scope.is_regulator:
        raise ValidationError({"ground": _(
            "Only a regulator may find a report false or forged; revoke it on the ground "
            "of an error, or report the facts to the market regulator.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for revoking the report.")})
    if report.status != ReportStatus.ISSUED:
        raise ValidationError({"status": _("Only an issued, current report can be revoked.")})
    now = timezone.now()
    # "ground" is in every statement signed since it was introduced; older statements
    # lack it and verify as they were signed (docs/report-signing.md).
    statement = canonical.canonical_text({
        "format": REVOCATION_FORMAT, "number": report.number, "reason": reason,
        "ground": ground, "revoked_at": now,
        "payload_sha256": hashlib.sha256(report.payload.encode("utf-8")).hexdigest(),
    })
    key = signing.audit_key()
    revocation = Revocation.objects.create(
        report=report, reason=reason, ground=ground, revoked_at=now, revoked_by=actor,
        statement=statement, key_id=key.key_id,
        signature=key.sign(statement.encode("utf-8")).hex())
    before = audit.snapshot(report, REPORT_FIELDS)
    report.status = ReportStatus.REVOKED
    report.save(update_fields=["status"])
    audit.record(report, action="report.revoked", actor=actor, before=before, reason=reason,
                 division=report.lab.division_id)
    events.publish("report.revoked", aggregate=report, payload={
        "report": report.pk, "number": report.number, "lab": report.lab_id,
        "producer": report.producer_id, "reason": reason, "ground": ground})
    return revocation


# --- verification -----------------------------------------------------------------------------

MESSAGES = {
    "not_found": gettext_lazy("No issued report has the number %(number)s on the platform."),
    "found": gettext_lazy("Report %(number)s is on the platform."),
    "key_unknown": gettext_lazy("The report is not signed with a key registered to the "
                                "laboratory."),
    "signature_invalid": gettext_lazy("The signature does not match the report's data: the "
                                      "report was altered or not signed with key %(key)s."),
    "key_mismatch": gettext_lazy("The signed data name key %(signed)s, not %(key)s."),
    "data_changed": gettext_lazy("The record differs from what the laboratory signed in: "
                                 "%(fields)s."),
    "signature_valid": gettext_lazy("Signed with the laboratory's registered key %(key)s."),
    "no_issue_date": gettext_lazy("The report has no issue date."),
    "standard_not_in_scope": gettext_lazy("On %(day)s the laboratory was not accredited for "
                                          "%(standard)s."),
    "parameters_not_in_scope": gettext_lazy("On %(day)s these parameters were outside the "
                                            "laboratory's accreditation for %(standard)s: "
                                            "%(parameters)s."),
    "in_scope": gettext_lazy("On %(day)s the laboratory's accreditation covered %(standard)s "
                             "and every parameter tested."),
    "lab_active": gettext_lazy("The laboratory is active."),
    "lab_not_active": gettext_lazy("The laboratory is %(status)s."),
    "no_instruments": gettext_lazy("The report names no instrument."),
    "calibration_lapsed": gettext_lazy("These instruments were not within calibration for the "
                                       "whole test: %(instruments)s."),
    "calibrated": gettext_lazy("Every instrument used (%(count)s) was within calibration."),
    "revoked": gettext_lazy("The report was revoked: %(reason)s"),
    "revoked_false": gettext_lazy("The report was revoked: a regulator found it false or "
                                  "forged. %(reason)s"),
    "not_revoked": gettext_lazy("The report has not been revoked."),
    "superseded": gettext_lazy("The report was superseded by report %(by)s."),
    "current": gettext_lazy("The report is the current one."),
}
CUSTODY_NOTE = gettext_lazy("The signing key is held by the platform on the laboratory's "
                            "behalf, not by the laboratory itself.")


def check_message(check: verification.Check) -> str:
    params = dict(check.params)
    for name, value in params.items():
        if isinstance(value, list):
            params[name] = "、".join(str(v) for v in value)
    if check.code == "lab_not_active":
        try:
            params["status"] = LabStatus(params["status"]).label
        except ValueError:
            pass
    return str(MESSAGES[check.code]) % params


class _ReportRows:
    """The Report rows of one reports_verify call, fetched together on first use: most
    callers need only the checks, and building model instances costs more than checking
    (benchmarks/bench_report_verify.py)."""

    def __init__(self, ids):
        self.ids = list(ids)
        self.rows: dict[int, Report] | None = None

    def get(self, pk: int) -> Report | None:
        if self.rows is None:
            self.rows = {r.pk: r for r in Report.objects.filter(pk__in=self.ids).select_related(
                "lab", "key", "producer", "standard", "revocation", "superseded_by")}
        return self.rows.get(pk)


@dataclass
class Verification:
    number: str
    checks: list[verification.Check]
    report_id: int | None = None
    custody: str = ""
    rows: _ReportRows | None = field(default=None, repr=False, compare=False)

    @property
    def report(self) -> Report | None:
        """The issued report verified (None if not found), with its lab, key, producer,
        standard, revocation and replacement; loaded on first use, for every report of
        the same reports_verify call in one query."""
        if self.report_id is None or self.rows is None:
            return None
        return self.rows.get(self.report_id)

    @property
    def found(self) -> bool:
        return bool(self.checks) and self.checks[0].ok

    @cached_property
    def _summary(self) -> tuple[bool, bool]:
        return verification.summary(self.checks)

    @property
    def genuine(self) -> bool:
        return self._summary[0]

    @property
    def valid(self) -> bool:
        return self._summary[1]

    def messages(self) -> list[tuple[str, bool, str]]:
        return [(c.key, c.ok, check_message(c)) for c in self.checks]

    def as_dict(self) -> dict:
        return {
            "number": self.number, "found": self.found, "genuine": self.genuine,
            "valid": self.valid, "custody": self.custody,
            "custody_note": str(CUSTODY_NOTE) if self.custody == KeyCustody.PLATFORM else "",
            "checks": [{"key": c.key, "ok": c.ok, "code": c.code,
                        "params": canonical.to_jsonable(c.params),
                        "message": check_message(c)} for c in self.checks],
        }


RECORD_COLUMNS = ("id", "number", "status", "payload", "signature", "issued_on", "tested_from",
                  "tested_to", "batch", "quantity_covered", "unit", "conclusion", "kind",
                  "lab_id", "lab__status", "lab__uscc", "key__key_id", "key__public_key",
                  "key__custody", "producer__uscc", "standard__code")


def _among(model, field_name: str, values):
    """`field IN values`; on PostgreSQL `field = ANY(%s)` with one array parameter: the
    client binds parameters itself, and a thousand placeholders cost more to bind than
    the checks they serve (benchmarks/bench_report_verify.py)."""
    values = list(values)
    if connection.vendor != "postgresql":
        return Q(**{f"{field_name}__in": values})
    quote = connection.ops.quote_name
    column = f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(field_name).column)}"
    # The column comes from the model's metadata; the values are one bound parameter.
    return RawSQL(f"{column} = ANY(%s)", (values,), output_field=BooleanField())  # noqa: S611


def _records(numbers: list[str]) -> dict[str, tuple[verification.Record, int, str]]:
    """Everything verification needs for these reports, in four queries (and one more for
    the revoked or superseded among them), as plain rows:
    number -> (record, report id, key custody)."""
    rows = list(Report.objects.filter(_among(Report, "number", numbers))
                .exclude(status=ReportStatus.DRAFT).order_by().values_list(*RECORD_COLUMNS))
    if not rows:
        return {}
    # Why a report is no longer valid: few are, so they are fetched apart.
    ended = [row[0] for row in rows if row[2] in (ReportStatus.REVOKED, ReportStatus.SUPERSEDED)]
    reasons: dict[int, str] = {}
    grounds: dict[int, str] = {}
    newer: dict[int, str] = {}
    if ended:
        for pk, reason, ground, by in Report.objects.filter(pk__in=ended).order_by().values_list(
                "pk", "revocation__reason", "revocation__ground", "superseded_by__number"):
            reasons[pk], grounds[pk], newer[pk] = reason or "", ground or "", by or ""
    # The labs' scope lines, by lab and standard (a report's standard picks its lines).
    scope: dict[int, list[verification.ScopeLine]] = {}
    by_standard: dict[int, dict[str, list[verification.ScopeLine]]] = {}
    for lab_id, code, parameter, start, end in AccreditationScope.objects.filter(
            lab_id__in={row[13] for row in rows}).order_by().values_list(
            "lab_id", "standard__code", "parameter", "valid_from", "valid_to"):
        line = verification.ScopeLine(code, parameter, start, end)
        scope.setdefault(lab_id, []).append(line)
        by_standard.setdefault(lab_id, {}).setdefault(code, []).append(line)
    through = Report.instruments.through
    used: dict[int, list[tuple[int, str]]] = {}
    for report_id, inst_id, serial in through.objects.filter(
            _among(through, "report", [row[0] for row in rows])).order_by().values_list(
            "report_id", "instrument_id", "instrument__serial_number"):
        used.setdefault(report_id, []).append((inst_id, serial))
    cals: dict[int, list[verification.CalibrationLine]] = {}
    inst_ids = {i for pairs in used.values() for i, _ in pairs}
    for inst_id, cert, start, end in Calibration.objects.filter(
            instrument_id__in=inst_ids).order_by().values_list(
            "instrument_id", "certificate_number", "calibrated_on", "valid_until"):
        cals.setdefault(inst_id, []).append(verification.CalibrationLine(cert, start, end))
    no_lines: dict[str, list] = {}
    out = {}
    for (pk, number, status, payload, signature, issued_on, tested_from, tested_to, batch,
         quantity, unit, conclusion, kind, lab_id, lab_status, lab_uscc, key_id, public_key,
         custody, producer_uscc, standard) in rows:
        record = verification.Record(
            number=number, status=status, payload=payload, signature=signature,
            key_id=key_id, public_key=public_key, lab_status=lab_status,
            stored={"number": number, "batch": batch, "quantity_covered": f"{quantity:.3f}",
                    "unit": unit, "producer": producer_uscc, "lab": lab_uscc,
                    "standard": standard, "conclusion": conclusion,
                    "issued_on": issued_on.isoformat() if issued_on else None,
                    "kind": kind, "tested_from": tested_from.isoformat(),
                    "tested_to": tested_to.isoformat()},
            instruments=[(serial, cals.get(i, [])) for i, serial in used.get(pk, [])],
            scope=scope.get(lab_id, []),
            scope_by_standard=by_standard.get(lab_id, no_lines),
            revocation_reason=reasons.get(pk, "") if status == ReportStatus.REVOKED else "",
            revocation_ground=grounds.get(pk, "") if status == ReportStatus.REVOKED else "",
            superseded_by=newer.get(pk, "") if status == ReportStatus.SUPERSEDED else "",
        )
        out[number] = (record, pk, custody or "")
    return out


@contextmanager
def _collector_paused():
    """Checking a report parses its signed payload into a few hundred short-lived objects,
    which reference counting frees; the cyclic garbage collector finds nothing among them
    but, triggered by their number, traverses every live object of the process again and
    again (a tenth of the verification time, benchmarks/bench_report_verify.py). It is
    paused for one batch and resumed after, if it was running."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def reports_verify(numbers) -> dict[str, Verification]:
    """Verify many reports at once (acceptance checks, the benchmark): a few queries for all
    of them, then the pure checks per report."""
    numbers = [str(n).strip() for n in numbers]
    with _collector_paused():
        found = _records(list(dict.fromkeys(numbers)))
        rows = _ReportRows(pk for _record, pk, _custody in found.values())
        out = {}
        for number in numbers:
            record, pk, custody = found.get(number, (None, None, ""))
            out[number] = Verification(
                number=number, checks=verification.check(record, number), report_id=pk,
                custody=custody, rows=rows if pk is not None else None)
    return out


def _verify_chunk(numbers: list[str]) -> list[tuple]:
    """One worker's share of reports_verify_many (runs in a forked process)."""
    return [(v.number, v.checks, v.report_id, v.custody)
            for v in reports_verify(numbers).values()]


def reports_verify_many(numbers, *, workers: int | None = None, chunk: int = 1000):
    """Verify a large set of reports — a regulator re-verifying every report cited in a
    period, the benchmark — in chunks of `chunk` through reports_verify. On PostgreSQL,
    outside a transaction, the chunks are spread over `workers` processes (default: one
    per CPU), each with its own connection: the signature check holds Python's global
    interpreter lock, so processes, not threads, use more than one core. Elsewhere (SQLite,
    or inside a transaction whose rows other connections cannot see) the chunks run here.
    Yields one Verification per distinct number, in the order given (without `.report`:
    ask reports_verify for the records themselves)."""
    from django.db import connection, connections

    numbers = list(dict.fromkeys(str(n).strip() for n in numbers))
    chunks = [numbers[i:i + chunk] for i in range(0, len(numbers), chunk)]
    workers = workers or os.cpu_count() or 1
    parallel = (workers > 1 and len(chunks) > 1 and connection.vendor == "postgresql"
                and not connection.in_atomic_block)
    if not parallel:
        for part in chunks:
            yield from (Verification(number=n, checks=c, report_id=pk, custody=custody)
                        for n, c, pk, custody in _verify_chunk(part))
        return
    import multiprocessing

    connections.close_all()  # each forked worker opens its own connection
    with multiprocessing.get_context("fork").Pool(min(workers, len(chunks))) as pool:
        for rows in pool.imap(_verify_chunk, chunks):
            yield from (Verification(number=n, checks=c, report_id=pk, custody=custody)
                        for n, c, pk, custody in rows)


def report_verify(number: str) -> Verification:
    return reports_verify([number])[str(number).strip()]


def reports_for_batch(producer_id: int, batch: str, *, on: dt.date | None = None):
    """Issued, current supervisory reports of a batch (mutual recognition, M3.3)."""
    return (Report.objects.for_batch(producer_id, batch)
            .filter(status=ReportStatus.ISSUED, kind=ReportKind.SUPERVISORY)
            .filter(Q(issued_on__lte=on) if on else Q()))


def signals_scan(*, numbers) -> list:
    """Run the fake-report screens over these report numbers (zhijian/reports/signals.py)."""
    from .signals import signals_scan as scan

    return scan(numbers=numbers)
