"""The eight supply-chain steps a firm without GS1 software records in the web pages or by
CSV upload, as builders of EPCIS 2.0 events (docs/capture-without-gs1.md).

Pure Python, standard library and the pure identifier functions of this app only: no
Django import. The pages (web_views.py) and the CSV upload (csvcapture.py) resolve who and
where from the database, then call these builders; the document they make is captured by
services.capture_document like any other.

| step | event | bizStep | disposition |
|---|---|---|---|
| produce | ObjectEvent ADD | commissioning | active |
| inspect | ObjectEvent OBSERVE | inspecting | conformant / non_conformant (or none) |
| ship | ObjectEvent OBSERVE | shipping | in_transit |
| receive | ObjectEvent OBSERVE | receiving | in_progress |
| transform | TransformationEvent | creating_class_instance | active |
| install | ObjectEvent OBSERVE | installing | (none) |
| recall | ObjectEvent OBSERVE | holding | recalled |
| destroy | ObjectEvent DELETE | destroying | destroyed |

A batch is the LGTIN class of a GTIN and a lot, written as the canonical GS1 Digital Link
https://id.gs1.org/01/<GTIN-14>/10/<lot> (the form the store indexes; an EPC class URN
would need the GS1 Company Prefix length, which a GTIN alone does not tell).

Refusals are StepError(field, code, params): ``field`` names the input at fault
(``quantity``, ``inputs[1].quantity``), ``code`` a key of MESSAGES (English; the Django
side translates).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote
from zoneinfo import ZoneInfo

from zhijian.traceability.eventhash import check_digit
from zhijian.traceability.validation import REASON_FIELD

__all__ = [
    "CHINA", "CONTEXT", "EXTENSION_NAMESPACE", "MESSAGES", "STEPS", "UNITS", "Batch",
    "StepError", "batch_class", "build", "document", "gln_problem", "gtin14",
    "location_identifier", "lot_problem", "normalise_gln", "party_identifier",
    "platform_party", "platform_place", "quantity_value", "unit_code",
]

CHINA = ZoneInfo("Asia/Shanghai")
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
#: Namespace of the platform's extension fields (a note, the reason an output exceeds its
#: inputs), bound to the prefix ``zhijian`` in every document built here. REASON_FIELD of
#: validation.py is in it.
EXTENSION_NAMESPACE = "urn:zhijian:epcis:"
CONTEXT = [EPCIS_CONTEXT, {"zhijian": EXTENSION_NAMESPACE}]
NOTE_FIELD = "zhijian:note"
REASON_KEY = "zhijian:" + REASON_FIELD[len(EXTENSION_NAMESPACE):]
CBV = "https://ref.gs1.org/cbv/"
DIGITAL_LINK = "https://id.gs1.org"
#: Namespace of the deterministic eventIDs (uuid5 of the seed and the event's content).
EVENT_ID_NAMESPACE = uuid.UUID("3c0f8d4e-7a51-5d7b-9e43-2f6a1b8c9d01")

STEPS = ("produce", "inspect", "ship", "receive", "transform", "install", "recall", "destroy")

#: step -> (type, action, bizStep, disposition or "")
EVENTS = {
    "produce": ("ObjectEvent", "ADD", "commissioning", "active"),
    "inspect": ("ObjectEvent", "OBSERVE", "inspecting", ""),
    "ship": ("ObjectEvent", "OBSERVE", "shipping", "in_transit"),
    "receive": ("ObjectEvent", "OBSERVE", "receiving", "in_progress"),
    "transform": ("TransformationEvent", "", "creating_class_instance", "active"),
    "install": ("ObjectEvent", "OBSERVE", "installing", ""),
    "recall": ("ObjectEvent", "OBSERVE", "holding", "recalled"),
    "destroy": ("ObjectEvent", "DELETE", "destroying", "destroyed"),
}
INSPECTION_RESULTS = {"pass": "conformant", "fail": "non_conformant", "": ""}

#: UN/CEFACT Recommendation 20 codes the pages offer, and the words accepted for them.
UNITS = {
    "MTR": ("m", "米", "metre", "meter"),
    "KMT": ("km", "千米", "公里", "kilometre", "kilometer"),
    "KGM": ("kg", "千克", "公斤", "kilogram"),
    "TNE": ("t", "吨", "tonne", "ton"),
    "H87": ("piece", "pieces", "pcs", "pc", "件", "个", "根", "只", "台"),
    "SET": ("set", "sets", "套"),
    "MTK": ("m2", "m²", "平方米"),
    "MTQ": ("m3", "m³", "立方米"),
    "LTR": ("l", "litre", "liter", "升"),
}
_UNIT_WORDS = {word.lower(): code for code, words in UNITS.items() for word in words}

#: English message per refusal code, with %-style named parameters.
MESSAGES = {
    "required": "%(name)s is required. Fill it in.",
    "gtin.format": "%(value)s is not a GTIN: write the 13 digits of the bar code (or 14, "
                   "8 or 12).",
    "gtin.check_digit": "The GTIN %(value)s has the check digit %(found)s but should end in "
                        "%(expected)s. Check the number on the bar code.",
    "lot.format": "The lot %(value)s cannot be used: a lot has 1 to 20 characters, letters "
                  "A-Z a-z, digits and ! \" %% & ' ( ) * + , - . / : ; < = > ? _ only (no "
                  "spaces or Chinese characters).",
    "quantity.format": "%(value)s is not a number. Write the quantity as digits, e.g. 5000 "
                       "or 12.5.",
    "quantity.not_positive": "The quantity must be more than 0.",
    "unit.unknown": "%(value)s is not a unit the platform knows. Use m, km, kg, t, piece, "
                    "set, m2, m3 or L, or a UN/CEFACT code such as MTR.",
    "time.naive": "The time %(value)s has no time zone.",
    "time.format": "%(value)s is not a time. Write it as 2026-07-22 08:30 (Beijing time) or "
                   "2026-07-22T08:30:00+08:00.",
    "gln.format": "%(value)s is not a GLN: a GLN has 13 digits.",
    "gln.check_digit": "The GLN %(value)s has the check digit %(found)s but should end in "
                       "%(expected)s. Check the number.",
    "result.unknown": "%(value)s is not an inspection result: use pass, fail or leave it "
                      "empty.",
    "inputs.required": "A transformation needs at least one input batch.",
    "inputs.format": "%(value)s is not an input: write lot:quantity, or GTIN/lot:quantity for "
                     "another product, one per line or separated by |.",
    "outputs.exceed_inputs": "The outputs total %(output)s %(uom)s, more than the inputs "
                             "(%(input)s %(uom)s). Correct the quantities, or give the reason "
                             "the output is larger.",
    "transform.same_batch": "The output batch %(value)s is also an input. Give the output "
                            "its own lot.",
}


class StepError(ValueError):
    """An input the builders cannot use: ``field`` names it, ``code`` is a MESSAGES key."""

    def __init__(self, field: str, code: str, **params):
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        return MESSAGES[self.code] % self.params


# --- identifiers ----------------------------------------------------------------------------

_CSET82 = re.compile(r"""[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}""")
#: Characters left literal in a Digital Link path segment (as eventhash._DL_SAFE).
_DL_SAFE = "'-.;=_"


def gtin14(value: str, field: str = "gtin") -> str:
    """A GTIN-8, -12, -13 or -14 as 14 digits (GTIN-13 -> "0" + GTIN-13), check digit
    verified."""
    text = (value or "").strip()
    if not text:
        raise StepError(field, "required", name=field)
    if not re.fullmatch(r"\d{8}|\d{12,14}", text):
        raise StepError(field, "gtin.format", value=text)
    expected = check_digit(text[:-1])
    if text[-1] != expected:
        raise StepError(field, "gtin.check_digit", value=text, found=text[-1],
                        expected=expected)
    return text.zfill(14)


def lot_problem(lot: str) -> bool:
    """True when ``lot`` is not a GS1 batch/lot (AI 10: 1-20 characters of CSET 82)."""
    return _CSET82.fullmatch(lot or "") is None


def batch_class(gtin: str, lot: str, field: str = "lot", gtin_field: str = "gtin") -> str:
    """The canonical GS1 Digital Link of a batch: https://id.gs1.org/01/<GTIN-14>/10/<lot>."""
    key = gtin14(gtin, gtin_field)
    text = (lot or "").strip()
    if not text:
        raise StepError(field, "required", name=field)
    if lot_problem(text):
        raise StepError(field, "lot.format", value=text)
    return f"{DIGITAL_LINK}/01/{key}/10/{quote(text, safe=_DL_SAFE)}"


def normalise_gln(value: str, field: str = "gln") -> str:
    """A GLN (13 digits, check digit verified)."""
    problem = gln_problem(value)
    if problem:
        raise StepError(field, problem[0], **problem[1])
    return value.strip()


def gln_problem(value: str):
    """(code, params) when ``value`` is not a GLN, else None."""
    text = (value or "").strip()
    if not re.fullmatch(r"\d{13}", text):
        return "gln.format", {"value": text}
    expected = check_digit(text[:-1])
    if text[-1] != expected:
        return "gln.check_digit", {"value": text, "found": text[-1], "expected": expected}
    return None


def party_identifier(gln: str) -> str:
    """A party's PGLN as canonical Digital Link https://id.gs1.org/417/<GLN>."""
    return f"{DIGITAL_LINK}/417/{normalise_gln(gln)}"


def location_identifier(gln: str, extension: str = "") -> str:
    """A location's SGLN as canonical Digital Link https://id.gs1.org/414/<GLN>[/254/<ext>]."""
    key = f"{DIGITAL_LINK}/414/{normalise_gln(gln)}"
    ext = (extension or "").strip()
    return f"{key}/254/{quote(ext, safe=_DL_SAFE)}" if ext and ext != "0" else key


def platform_party(uscc: str) -> str:
    """The identifier of a registered organisation without a GLN: urn:zhijian:party:<USCC>."""
    return f"urn:zhijian:party:{uscc.strip().upper()}"


def platform_place(owner: str, number: int) -> str:
    """The identifier of a place registered without a GLN: urn:zhijian:place:<owner>:<n>,
    owner = the USCC of the registering organisation ("platform" for an administrator)."""
    return f"urn:zhijian:place:{owner}:{number}"


# --- values ---------------------------------------------------------------------------------

def unit_code(value: str, field: str = "unit") -> str:
    """A UN/CEFACT Rec 20 code from a code or a common word (m, 米, kg, 吨, 件 …)."""
    text = (value or "").strip()
    if not text:
        raise StepError(field, "required", name=field)
    if text in UNITS:
        return text
    code = _UNIT_WORDS.get(text.lower())
    if code is None:
        raise StepError(field, "unit.unknown", value=text)
    return code


def quantity_value(value, field: str = "quantity") -> int | float:
    """A quantity > 0 as a JSON number (an int when whole)."""
    if isinstance(value, Decimal):
        amount = value
    else:
        text = str(value if value is not None else "").strip().replace(",", "")
        if not text:
            raise StepError(field, "required", name=field)
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise StepError(field, "quantity.format", value=text) from None
    if not amount.is_finite():
        raise StepError(field, "quantity.format", value=str(value))
    if amount <= 0:
        raise StepError(field, "quantity.not_positive")
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def event_time(moment: datetime, field: str = "time") -> str:
    """RFC 3339 in Beijing time (+08:00), to the second (milliseconds when given)."""
    if moment is None:
        raise StepError(field, "required", name=field)
    if moment.tzinfo is None:
        raise StepError(field, "time.naive", value=moment.isoformat())
    local = moment.astimezone(CHINA)
    spec = "milliseconds" if local.microsecond else "seconds"
    return local.isoformat(timespec=spec)


# --- the steps ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Batch:
    """A batch with a quantity: GTIN, lot, quantity (> 0) and unit (Rec 20 code or word)."""

    gtin: str
    lot: str
    quantity: object
    unit: str

    def element(self, prefix: str = "") -> dict:
        return {"epcClass": batch_class(self.gtin, self.lot, prefix + "lot", prefix + "gtin"),
                "quantity": quantity_value(self.quantity, prefix + "quantity"),
                "uom": unit_code(self.unit, prefix + "unit")}


def build(step: str, *, time: datetime, batch: Batch, location: str = "",
          from_party: str = "", to_party: str = "", to_location: str = "",
          inputs: tuple[Batch, ...] = (), result: str = "", reason: str = "",
          note: str = "", seed: str | None = None) -> dict:
    """The EPCIS 2.0 event of one step.

    ``batch`` is the batch the step is about (for ``transform``, the output batch);
    ``location`` the place it happens (bizLocation and readPoint); ``from_party`` and
    ``to_party`` the parties of a shipment (owning and possessing party of source and
    destination; ``receive`` takes ``from_party`` as source and ``to_party`` as the
    receiver); ``to_location`` where a shipment goes; ``inputs`` the input batches of a
    transformation; ``result`` "pass" / "fail" / "" of an inspection; ``reason`` why a
    transformation's output exceeds its input; ``note`` free text kept with the event.
    With ``seed`` the eventID is a uuid5 of the seed and the event's content (the same
    input gives the same eventID); without, a random uuid4."""
    if step not in EVENTS:
        raise StepError("step", "required", name="step")
    kind, action, biz_step, disposition = EVENTS[step]
    if step == "inspect":
        if result not in INSPECTION_RESULTS:
            raise StepError("result", "result.unknown", value=result)
        disposition = INSPECTION_RESULTS[result]
    event: dict = {"type": kind, "eventTime": event_time(time), "eventTimeZoneOffset": "+08:00"}
    element = batch.element()
    if kind == "TransformationEvent":
        event["inputQuantityList"] = _inputs(inputs, element)
        event["outputQuantityList"] = [element]
        _balance(event["inputQuantityList"], element, reason)
    else:
        event["action"] = action
        event["quantityList"] = [element]
    event["bizStep"] = biz_step
    if disposition:
        event["disposition"] = disposition
    if location:
        event["readPoint"] = {"id": location}
        event["bizLocation"] = {"id": location}
    sources, destinations = _parties(step, from_party, to_party, to_location)
    if sources:
        event["sourceList"] = sources
    if destinations:
        event["destinationList"] = destinations
    if kind == "TransformationEvent" and reason.strip():
        event[REASON_KEY] = reason.strip()
    if note.strip():
        event[NOTE_FIELD] = note.strip()
    event_id = (f"urn:uuid:{uuid.uuid5(EVENT_ID_NAMESPACE, seed + _content(event))}"
                if seed is not None else f"urn:uuid:{uuid.uuid4()}")
    return {"type": event.pop("type"), "eventID": event_id, **event}


def _inputs(inputs: tuple[Batch, ...], output: dict) -> list[dict]:
    if not inputs:
        raise StepError("inputs", "inputs.required")
    items = [b.element(f"inputs[{i}].") for i, b in enumerate(inputs)]
    for item in items:
        if item["epcClass"] == output["epcClass"]:
            raise StepError("lot", "transform.same_batch", value=output["epcClass"])
    return items


def _balance(inputs: list[dict], output: dict, reason: str) -> None:
    """The output may not exceed the inputs in the same unit (whatever their lots: a drum
    cut into lengths gives new lots) unless a reason is given."""
    same = [Decimal(repr(i["quantity"])) for i in inputs if i["uom"] == output["uom"]]
    if not same or reason.strip():
        return
    total, out = sum(same), Decimal(repr(output["quantity"]))
    if out > total:
        raise StepError("quantity", "outputs.exceed_inputs", output=_plain(out),
                        input=_plain(total), uom=output["uom"])


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _parties(step: str, from_party: str, to_party: str, to_location: str):
    sdt = CBV + "SDT-"
    sources, destinations = [], []
    if step in ("ship", "receive"):
        for party in filter(None, [from_party]):
            sources += [{"type": sdt + "owning_party", "source": party},
                        {"type": sdt + "possessing_party", "source": party}]
        for party in filter(None, [to_party]):
            destinations += [{"type": sdt + "owning_party", "destination": party},
                             {"type": sdt + "possessing_party", "destination": party}]
        if to_location and step == "ship":
            destinations.append({"type": sdt + "location", "destination": to_location})
    return sources, destinations


def _content(event: dict) -> str:
    return json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def document(events: list[dict], *, created: datetime) -> dict:
    """An EPCISDocument of the events, with the EPCIS 2.0 context and the zhijian prefix."""
    return {"@context": [EPCIS_CONTEXT, dict(CONTEXT[1])], "type": "EPCISDocument",
            "schemaVersion": "2.0", "creationDate": event_time(created, "created"),
            "epcisBody": {"eventList": list(events)}}


def encode(doc: dict) -> bytes:
    """The document as UTF-8 JSON bytes, as sent to capture."""
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def field_of(event: dict, path: list[str]) -> str:
    """The step input (web form field, CSV column) that a problem at ``path`` (the JSON
    pointer's tokens after the event index) is about; "" when none fits."""
    if not path:
        return ""
    head, last = path[0], path[-1]
    if head in ("quantityList", "outputQuantityList"):
        return {"epcClass": "lot", "quantity": "quantity", "uom": "unit"}.get(last, "lot")
    if head == "inputQuantityList":
        return "inputs"
    if head in ("bizLocation", "readPoint"):
        return "location"
    if head == "sourceList":
        return "from"
    if head == "destinationList":
        items = event.get("destinationList") if isinstance(event, dict) else None
        try:
            kind = items[int(path[1])].get("type", "")
        except (IndexError, ValueError, TypeError, AttributeError):
            kind = ""
        return "to_location" if str(kind).endswith("location") else "to"
    if head in ("eventTime", "eventTimeZoneOffset"):
        return "time"
    if head == "disposition":
        return "result"
    if head in (REASON_KEY, REASON_FIELD):
        return "reason"
    if head == NOTE_FIELD:
        return "note"
    return ""
