"""Verification of an issued test report: is it genuine (signed by a key registered to the
lab, data unchanged since signing) and is it valid (the lab's accreditation covered the
standard and every parameter on the issue day, the lab is not suspended, every instrument
was within calibration for the whole test, the report is neither revoked nor superseded)?

Pure: plain data in, checks out, no Django. The service (services.reports_verify) loads
the records in a few queries and calls `check` per report; docs/report-signing.md specifies
the steps so that a third party can repeat them. The signature step uses `cryptography`;
zhijian/reports/offline.py repeats it with the standard library alone.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# The order in which checks run and are shown.
CHECKS = ("found", "signature", "accreditation", "lab_status", "calibration", "revocation",
          "superseded")


@dataclass(frozen=True)
class Check:
    key: str
    ok: bool
    code: str  # what was found: a message key with its parameters in `params`
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ScopeLine:
    standard: str
    parameter: str  # "" = every parameter of the standard
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True)
class CalibrationLine:
    certificate: str
    calibrated_on: dt.date
    valid_until: dt.date


@dataclass
class Record:
    """What the platform holds about one report, as plain data."""

    number: str
    status: str  # draft | issued | revoked | superseded
    payload: str
    signature: str
    key_id: str | None
    public_key: str | None  # hex; None if the key is not registered
    lab_status: str
    # Fields as stored, compared with the signed data (a changed row is not genuine).
    stored: dict
    instruments: list[tuple[str, list[CalibrationLine]]]  # (serial, calibrations)
    scope: list[ScopeLine]
    revocation_reason: str = ""
    revocation_ground: str = ""  # "error" | "false" ("" when not revoked)
    superseded_by: str = ""
    # The same scope lines by standard, when the caller has them so (many reports of one
    # lab share it); the result is the same as filtering `scope`.
    scope_by_standard: dict[str, list[ScopeLine]] | None = None


@lru_cache(maxsize=4096)
def _public_key(hex_key: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))


def signature_ok(public_hex: str, payload: bytes, signature_hex: str) -> bool:
    try:
        _public_key(public_hex).verify(bytes.fromhex(signature_hex), payload)
    except (InvalidSignature, ValueError):
        return False
    return True


# The stored fields compared with the signed data: name -> path in payload["report"].
COMPARED = {
    "number": ("number",),
    "batch": ("batch",),
    "quantity_covered": ("quantity_covered",),
    "unit": ("unit",),
    "producer": ("producer", "uscc"),
    "lab": ("lab", "uscc"),
    "standard": ("standard", "code"),
    "conclusion": ("conclusion",),
    "issued_on": ("issued_on",),
    "kind": ("kind",),
}


# The same, split by depth, for a fast comparison (every report is compared).
_TOP = [(name, path[0]) for name, path in COMPARED.items() if len(path) == 1]
_NESTED = [(name, path[0], path[1]) for name, path in COMPARED.items() if len(path) == 2]
assert len(_TOP) + len(_NESTED) == len(COMPARED)


def _changed(report: dict, stored: dict) -> list[str]:
    """The names of COMPARED whose stored value differs from the signed one, sorted."""
    out = [name for name, key in _TOP if str(report.get(key)) != str(stored.get(name))]
    for name, outer, inner in _NESTED:
        value = report.get(outer)
        if str(value.get(inner) if isinstance(value, dict) else None) != str(stored.get(name)):
            out.append(name)
    out.sort()
    return out


def _dig(data: dict, path: tuple[str, ...]):
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def check(record: Record | None, number: str) -> list[Check]:
    """Every check of CHECKS for one report, in order. A missing or unsigned report stops
    after the first check; a report whose signature fails is still checked for the rest so
    that the page can say everything that is wrong."""
    if record is None or record.status == "draft" or not record.payload:
        return [Check("found", False, "not_found", {"number": number})]
    out = [Check("found", True, "found", {"number": number})]

    # 1. Signature: a registered key, a valid signature over the stored payload, the
    # payload names that key, and the stored fields equal the signed ones.
    try:
        payload = json.loads(record.payload)
        report = payload["report"]
    except (ValueError, KeyError, TypeError):
        payload, report = {}, {}
    if not isinstance(payload, dict) or not isinstance(report, dict):
        payload, report = {}, {}
    if record.public_key is None:
        out.append(Check("signature", False, "key_unknown", {"key": record.key_id or ""}))
    elif not signature_ok(record.public_key, record.payload.encode("utf-8"), record.signature):
        out.append(Check("signature", False, "signature_invalid", {"key": record.key_id}))
    elif payload.get("kid") != record.key_id:
        out.append(Check("signature", False, "key_mismatch",
                         {"key": record.key_id, "signed": str(payload.get("kid"))}))
    else:
        changed = _changed(report, record.stored)
        if changed:
            out.append(Check("signature", False, "data_changed", {"fields": changed}))
        else:
            out.append(Check("signature", True, "signature_valid",
                             {"key": record.key_id, "custody": payload.get("custody", "")}))

    # 2. Accreditation on the issue day: the standard and every parameter tested.
    standard = _dig(report, ("standard", "code")) or record.stored.get("standard", "")
    issued = _date(report.get("issued_on") or record.stored.get("issued_on"))
    parameters = [item.get("parameter", "") for item in report.get("items", [])
                  if item.get("verdict") != "na"]
    if issued is None:
        out.append(Check("accreditation", False, "no_issue_date"))
    else:
        candidates = (record.scope_by_standard.get(standard, ())
                      if record.scope_by_standard is not None
                      else [line for line in record.scope if line.standard == standard])
        # Valid on the day: from valid_from to valid_to, an open end meaning still valid.
        lines = [line for line in candidates if line.valid_from <= issued
                 and (line.valid_to is None or issued <= line.valid_to)]
        # A line without a parameter covers every parameter of the standard.
        accredited = {line.parameter for line in lines}
        missing = [] if "" in accredited else [
            p for p in dict.fromkeys(parameters) if p not in accredited]
        day = issued.isoformat()
        if not lines:
            out.append(Check("accreditation", False, "standard_not_in_scope",
                             {"standard": standard, "day": day}))
        elif missing:
            out.append(Check("accreditation", False, "parameters_not_in_scope",
                             {"standard": standard, "parameters": missing, "day": day}))
        else:
            out.append(Check("accreditation", True, "in_scope",
                             {"standard": standard, "count": len(set(parameters)), "day": day}))

    # 3. The lab may issue reports now.
    if record.lab_status == "active":
        out.append(Check("lab_status", True, "lab_active"))
    else:
        out.append(Check("lab_status", False, "lab_not_active", {"status": record.lab_status}))

    # 4. Every instrument within calibration from the first to the last day of testing.
    start = _date(report.get("tested_from") or record.stored.get("tested_from"))
    end = _date(report.get("tested_to") or record.stored.get("tested_to"))
    if not record.instruments:
        out.append(Check("calibration", False, "no_instruments"))
    else:
        lapsed = [serial for serial, lines in record.instruments
                  if start is None or end is None
                  or not any(c.calibrated_on <= start and end <= c.valid_until for c in lines)]
        if lapsed:
            out.append(Check("calibration", False, "calibration_lapsed",
                             {"instruments": lapsed}))
        else:
            out.append(Check("calibration", True, "calibrated",
                             {"count": len(record.instruments)}))

    # 5–6. Not revoked, not superseded.
    if record.status == "revoked":
        # A regulator's finding that the report is false or forged says so.
        code = "revoked_false" if record.revocation_ground == "false" else "revoked"
        out.append(Check("revocation", False, code, {"reason": record.revocation_reason}))
    else:
        out.append(Check("revocation", True, "not_revoked"))
    if record.status == "superseded":
        out.append(Check("superseded", False, "superseded", {"by": record.superseded_by}))
    else:
        out.append(Check("superseded", True, "current"))
    return out


def _date(value) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def summary(checks: Iterable[Check]) -> tuple[bool, bool]:
    """(genuine, valid): genuine = found and signature good; valid = every check good."""
    by_key = {c.key: c.ok for c in checks}
    genuine = by_key.get("found", False) and by_key.get("signature", False)
    valid = genuine and all(by_key.get(k, False) for k in CHECKS)
    return genuine, valid
