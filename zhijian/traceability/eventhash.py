"""The CBV 2.0 event hash ID of an EPCIS 2.0 event (GS1 Core Business Vocabulary 2.0, §8.9).

An EPCIS event gets an identifier computed from its own content, so that two parties
holding the same event, in any serialisation (JSON-LD, XML, fields in any order,
namespaces under any prefix), compute the same ID, and any change of content changes it:

    ni:///sha-256;<hex SHA-256 of the pre-hash string>?ver=CBV2.0      (RFC 6920 'ni' URI)

The pre-hash string is the event's fields in a fixed order, as `key=value` pieces
concatenated without separators, after canonicalisation of every value. The step-by-step
specification with a worked example is docs/event-hash.md; the section numbers below (§)
refer to it. Facts carried over from other sources are named where they are used: the
algorithm rules and the canonical property order are CBV 2.0 §8.9 (as published with the
reference implementation, github.com/RalphTro/epcis-event-hash-generator, MIT); the EPC URI
layouts are the GS1 EPC Tag Data Standard 2.x; the Digital Link forms are GS1 Digital Link
URI Syntax 1.2; the standard prefixes and bare vocabulary words are the EPCIS 2.0 JSON-LD
context. Where the conformance vectors (produced by the reference implementation) differ
from the text of the specification, this module follows the vectors and docs/event-hash.md
§7 lists each such point.

Pure Python with the standard library only (no Django): `python eventhash.py DOC.jsonld`
prints the hash ID of every event of a document.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, unquote

__all__ = [
    "EventHashError", "canonical_digital_link", "canonical_number", "canonical_timestamp",
    "canonical_uri", "check_digit", "context_prefixes", "document_events", "document_hashes",
    "document_prehashes", "epc_to_digital_link", "event_hash_id", "hash_id", "main", "prehash",
]

ALGORITHM = "sha-256"  # the hash name string of the IANA Named Information registry
VERSION = "CBV2.0"


class EventHashError(ValueError):
    """The event or document cannot be hashed: a standard field has the wrong shape."""


# --- §3 Prefixes and vocabularies ------------------------------------------------------

CBV = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"

# The prefixes the standard EPCIS 2.0 JSON-LD context declares. They apply to every
# document even when its @context names the standard context only by URL (§3.1).
STANDARD_PREFIXES = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": CBV,
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": GS1_VOC,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}

# A bare word in one of these fields is a standard vocabulary element; it stands for the
# Web URI formed with this base (the term maps of the EPCIS 2.0 context files) (§3.2).
BIZ_STEP = CBV + "BizStep-"
DISPOSITION = CBV + "Disp-"
BIZ_TRANSACTION_TYPE = CBV + "BTT-"
SOURCE_DESTINATION_TYPE = CBV + "SDT-"
COMPONENT = CBV + "Comp-"

# CBV 1.x URNs of the standard vocabularies and their CBV 2.0 Web URI equivalents (§3.3).
CBV_URNS = (
    ("urn:epcglobal:cbv:bizstep:", BIZ_STEP),
    ("urn:epcglobal:cbv:disp:", DISPOSITION),
    ("urn:epcglobal:cbv:btt:", BIZ_TRANSACTION_TYPE),
    ("urn:epcglobal:cbv:sdt:", SOURCE_DESTINATION_TYPE),
    ("urn:epcglobal:cbv:er:", CBV + "ER-"),
)

RDFS_COMMENT = "{http://www.w3.org/2000/01/rdf-schema#}comment"


def context_prefixes(context) -> dict[str, str]:
    """The namespace prefixes a JSON-LD @context declares (a URL, an object or a list of
    them), on top of the standard EPCIS prefixes. Remote contexts (URLs) are not fetched:
    the standard one's prefixes are built in and a document declares its own in place."""
    prefixes = dict(STANDARD_PREFIXES)
    prefixes.update(_declared_prefixes(context))
    return prefixes


def _declared_prefixes(context) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in context if isinstance(context, list) else [context]:
        if not isinstance(item, dict):
            continue
        for term, definition in item.items():
            iri = definition.get("@id") if isinstance(definition, dict) else definition
            if (not term.startswith("@") and isinstance(iri, str) and ":" in iri
                    and not iri.startswith("@")):
                found[term] = iri
    return found


def _scoped(obj: dict, prefixes: dict[str, str]) -> dict[str, str]:
    """The prefixes in force inside `obj`: an embedded @context adds to the outer ones."""
    if "@context" not in obj:
        return prefixes
    return {**prefixes, **_declared_prefixes(obj["@context"])}


def _field_name(key: str, prefixes: dict[str, str]) -> str:
    """A user field's name as `{namespace}localName` (§5.3). `example:myField` with
    `example` declared, and the full IRI, give the same name. A key without a namespace
    (not valid EPCIS 2.0) is kept as it is."""
    prefix, colon, local = key.partition(":")
    if not colon:
        return key
    if prefix in prefixes and not local.startswith("//"):
        return "{" + prefixes[prefix] + "}" + local
    cut = max(key.rfind("/"), key.rfind("#"), key.rfind(":"))
    return "{" + key[:cut + 1] + "}" + key[cut + 1:]


# --- §4 Values -------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)\Z")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")

TIME = "time"
NUMBER = "number"


def canonical_timestamp(text: str) -> str:
    """An xsd:dateTimeStamp in UTC with exactly three decimals and `Z` (§4.2): the third
    decimal is rounded up when the fourth is 5-9, further digits are ignored. A value that
    is not a timestamp with a zone offset is returned unchanged."""
    m = _TIMESTAMP.match(text)
    if not m:
        return text
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, zone = m.group(7) or "", m.group(8)
    millis = int((fraction + "000")[:3]) + (len(fraction) > 3 and fraction[3] >= "5")
    offset = timedelta(0)
    if zone not in ("Z", "z"):
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        offset = -offset if zone[0] == "-" else offset
    end_of_day = hour == 24 and minute == 0 and second == 0 and not fraction.strip("0")
    try:
        moment = datetime(year, month, day, 0 if end_of_day else hour, minute, second)
        moment += timedelta(days=end_of_day, milliseconds=millis) - offset
    except (ValueError, OverflowError):
        return text
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
            f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z")


def canonical_number(value: int | float | str) -> str:
    """A number without exponent, trailing zeros or a '.0' (§4.3): 452.0 -> '452',
    '12.10' -> '12.1', 1.5e-07 -> '0.00000015'."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return {"nan": "NaN", "inf": "INF", "-inf": "-INF"}[repr(value)]
        number = Decimal(repr(value))
    else:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise EventHashError(f"{value!r} is not a number; give a decimal number") from None
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def canonical_uri(text: str, prefixes: dict[str, str] | None = None) -> str:
    """A URI-like value in its canonical form (§4.4-§4.6): a CBV 1.x vocabulary URN as its
    Web URI, a declared CURIE expanded, an EPC URI or GS1 Digital Link URI as the
    constrained canonical Digital Link. Anything else is returned unchanged."""
    # The result depends on the prefixes only through the one the text starts with, so the
    # memo key is the text and that prefix's namespace: a capture computes the same values
    # for the hash and again for the index, and locations and parties repeat across events.
    prefix, colon, _rest = text.partition(":")
    namespace = (STANDARD_PREFIXES if prefixes is None else prefixes).get(prefix) if colon \
        else None
    key = text if namespace is None else (text, namespace)
    found = _CANONICAL.get(key)
    if found is None:
        if len(_CANONICAL) >= _CANONICAL_MAX:
            _CANONICAL.clear()
        found = _CANONICAL[key] = _canonical_uri(text, namespace)
    return found


_CANONICAL: dict = {}  # (text, namespace) or text alone -> canonical form
_CANONICAL_MAX = 1 << 16


def _canonical_uri(text: str, namespace: str | None) -> str:
    for urn, web in CBV_URNS:
        if text.startswith(urn):
            return web + text[len(urn):]
    if namespace is not None:  # a declared CURIE prefix
        suffix = text.partition(":")[2]
        if not suffix.startswith("//"):
            text = namespace + suffix
    return epc_to_digital_link(text) or canonical_digital_link(text) or text


def _value(value, prefixes: dict[str, str], where: str, kind: str | None = None,
           vocabulary: str | None = None) -> str | None:
    """The canonical text of one value (§4.1), or None when there is none (null or blank)."""
    if type(value) is str:  # the common case, as below
        text = value.strip()
        if not text:
            return None
        if kind is None:
            if vocabulary and ":" not in text:
                return vocabulary + text
            return canonical_uri(text, prefixes)
    elif type(value) is int:  # as canonical_number: an integer is its digits
        return str(value)
    if isinstance(value, dict) and ("@value" in value or "@id" in value):
        value = value.get("@value", value.get("@id"))
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return canonical_number(value)
    if not isinstance(value, str):
        raise EventHashError(f"{where}: expected a text or number value, "
                             f"got {type(value).__name__}; correct the field")
    text = value.strip()
    if not text:
        return None
    if kind == TIME:
        return canonical_timestamp(text)
    if kind == NUMBER and _DECIMAL.match(text):
        return canonical_number(text)
    if vocabulary and ":" not in text:
        return vocabulary + text
    return canonical_uri(text, prefixes)


# --- §4.5 EPC URIs and GS1 Digital Link URIs -------------------------------------------

DIGITAL_LINK = "https://id.gs1.org"

# Characters left literal in a Digital Link path segment besides ASCII letters, digits and
# `~`: of the GS1 key characters, `! " # % & ( ) * + , / : < > ?` are percent-encoded (GS1
# Digital Link 1.2 Table 7-1 and the EPC URI escapes) and these are not, as in the vectors
# (epclist_normalisation: ...%29%3C%26Jp3%2Aj7'SDB).
_DL_SAFE = "'-.;=_"

_DIGITS = re.compile(r"[0-9]*\Z")


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit (GS1 General Specifications §7.9.1): weights 3, 1, 3, ...
    from the rightmost digit."""
    backwards = digits[::-1]
    total = 3 * sum(map(int, backwards[0::2])) + sum(map(int, backwards[1::2]))
    return str(-total % 10)


def _dl(pairs: list[tuple[str, str]]) -> str:
    return DIGITAL_LINK + "".join(
        f"/{ai}/{value if value.isascii() and value.isalnum() else quote(value, safe=_DL_SAFE)}"
        for ai, value in pairs)


def _company_prefix(digits: str) -> bool:
    """A GS1 Company Prefix: 6 to 12 digits."""
    return 6 <= len(digits) <= 12 and bool(_DIGITS.match(digits))


def _partition(company_prefix: str, reference: str, length: int) -> bool:
    """A GS1 Company Prefix and a numeric reference that together fill `length` digits."""
    return (_company_prefix(company_prefix) and bool(_DIGITS.match(reference))
            and len(company_prefix) + len(reference) == length)


def _gtin(company_prefix: str, item_reference: str) -> str | None:
    """GTIN-14 from an EPC's company prefix and indicator digit + item reference."""
    if not _partition(company_prefix, item_reference, 13):
        return None
    body = item_reference[:1] + company_prefix + item_reference[1:]
    return body + check_digit(body)


def _with_check(company_prefix: str, reference: str, length: int, lead: str = "") -> str | None:
    if not _partition(company_prefix, reference, length):
        return None
    body = lead + company_prefix + reference
    return body + check_digit(body)


def _epc_parts(body: str, count: int) -> list[str] | None:
    parts = body.split(".", count - 1)
    return parts if len(parts) == count else None


def _sgtin(body):
    p = _epc_parts(body, 3)
    gtin = p and p[2] and _gtin(p[0], p[1])
    return gtin and [("01", gtin), ("21", unquote(p[2]))]


def _sscc(body):
    p = _epc_parts(body, 2)
    if not p or not _partition(p[0], p[1], 17):
        return None
    body = p[1][:1] + p[0] + p[1][1:]
    return [("00", body + check_digit(body))]


def _sgln(body):
    p = _epc_parts(body, 3)
    gln = p and p[2] and _with_check(p[0], p[1], 12)
    if not gln:
        return None
    return [("414", gln)] + ([] if p[2] == "0" else [("254", unquote(p[2]))])


def _grai(body):
    p = _epc_parts(body, 3)
    key = p and _with_check(p[0], p[1], 12, lead="0")
    return key and [("8003", key + unquote(p[2]))]


def _giai(body):
    p = _epc_parts(body, 2)
    return p and p[1] and _company_prefix(p[0]) and [("8004", p[0] + unquote(p[1]))]


def _gsrn(ai):
    def convert(body):
        p = _epc_parts(body, 2)
        key = p and _with_check(p[0], p[1], 17)
        return key and [(ai, key)]
    return convert


def _gdti(body):
    p = _epc_parts(body, 3)
    key = p and _with_check(p[0], p[1], 12)
    return key and [("253", key + unquote(p[2]))]


def _cpi(body):
    p = _epc_parts(body, 2)
    if not p or "." not in p[1]:
        return None
    reference, serial = p[1].rsplit(".", 1)
    if not (reference and serial and _DIGITS.match(serial) and _company_prefix(p[0])):
        return None
    return [("8010", p[0] + unquote(reference)), ("8011", serial)]


def _sgcn(body):
    p = _epc_parts(body, 3)
    key = p and p[2] and _DIGITS.match(p[2]) and _with_check(p[0], p[1], 12)
    return key and [("255", key + p[2])]


def _ginc(body):
    p = _epc_parts(body, 2)
    return p and p[1] and _company_prefix(p[0]) and [("401", p[0] + unquote(p[1]))]


def _gsin(body):
    p = _epc_parts(body, 2)
    key = p and _with_check(p[0], p[1], 16)
    return key and [("402", key)]


def _itip(body):
    p = _epc_parts(body, 5)
    if not p or not p[4] or not all(len(x) == 2 and _DIGITS.match(x) for x in p[2:4]):
        return None
    gtin = _gtin(p[0], p[1])
    return gtin and [("8006", gtin + p[2] + p[3]), ("21", unquote(p[4]))]


def _upui(body):
    p = _epc_parts(body, 3)
    gtin = p and p[2] and _gtin(p[0], p[1])
    return gtin and [("01", gtin), ("235", unquote(p[2]))]


def _pgln(body):
    p = _epc_parts(body, 2)
    key = p and _with_check(p[0], p[1], 12)
    return key and [("417", key)]


def _lgtin(body):
    p = _epc_parts(body, 3)
    gtin = p and p[2] and _gtin(p[0], p[1])
    return gtin and [("01", gtin), ("10", unquote(p[2]))]


def _pattern(convert, count: int):
    """An EPC Pattern URI whose last component only is `*`: the class-level key."""
    def pattern(body):
        p = _epc_parts(body, count)
        if not p or p[-1] != "*" or "*" in ".".join(p[:-1]):
            return None
        return convert(p[:-1])
    return pattern


_EPC_SCHEMES = {
    ("id", "sgtin"): _sgtin,
    ("id", "sscc"): _sscc,
    ("id", "sgln"): _sgln,
    ("id", "grai"): _grai,
    ("id", "giai"): _giai,
    ("id", "gsrn"): _gsrn("8018"),
    ("id", "gsrnp"): _gsrn("8017"),
    ("id", "gdti"): _gdti,
    ("id", "cpi"): _cpi,
    ("id", "sgcn"): _sgcn,
    ("id", "ginc"): _ginc,
    ("id", "gsin"): _gsin,
    ("id", "itip"): _itip,
    ("id", "upui"): _upui,
    ("id", "pgln"): _pgln,
    ("class", "lgtin"): _lgtin,
    ("idpat", "sgtin"): _pattern(lambda p: (g := _gtin(*p)) and [("01", g)], 3),
    ("idpat", "upui"): _pattern(lambda p: (g := _gtin(*p)) and [("01", g)], 3),
    ("idpat", "sgln"): _pattern(lambda p: (k := _with_check(*p, 12)) and [("414", k)], 3),
    ("idpat", "grai"): _pattern(
        lambda p: (k := _with_check(*p, 12, lead="0")) and [("8003", k)], 3),
    ("idpat", "gdti"): _pattern(lambda p: (k := _with_check(*p, 12)) and [("253", k)], 3),
    ("idpat", "sgcn"): _pattern(lambda p: (k := _with_check(*p, 12)) and [("255", k)], 3),
    ("idpat", "cpi"): _pattern(
        lambda p: _company_prefix(p[0]) and p[1] and [("8010", p[0] + unquote(p[1]))], 3),
    ("idpat", "itip"): _pattern(
        lambda p: all(len(x) == 2 and _DIGITS.match(x) for x in p[2:])
        and (g := _gtin(p[0], p[1])) and [("8006", g + p[2] + p[3])], 5),
}

_EPC_URI = re.compile(r"urn:epc:(id|class|idpat):([a-z]+):(.+)\Z")


def epc_to_digital_link(uri: str) -> str | None:
    """The canonical GS1 Digital Link URI of an EPC URI, EPC Class URI or EPC Pattern URI
    (EPC Tag Data Standard 2.x, §8 and §12 of GS1 Digital Link 1.2), or None when `uri`
    is none of those or names no GS1 key (e.g. urn:epc:id:gid)."""
    m = _EPC_URI.match(uri)
    convert = m and _EPC_SCHEMES.get((m.group(1), m.group(2)))
    return (convert and (pairs := convert(m.group(3))) and _dl(pairs)) or None


# Primary keys kept in a constrained Digital Link URI, the pattern of their value, and the
# qualifiers kept with them, finest first (CBV 2.0 §8.9 rule 18 (III)).
_PRINTABLE = "[!-~]"
_DL_KEYS = {
    "00": (r"\d{18}", ()),
    "01": (r"\d{8}|\d{12,14}", ("21", "235", "10")),
    "253": (rf"\d{{13}}{_PRINTABLE}{{0,17}}", ()),
    "255": (r"\d{13,25}", ()),
    "401": (rf"\d{{6}}{_PRINTABLE}{{0,24}}", ()),
    "402": (r"\d{17}", ()),
    "414": (r"\d{13}", ("254",)),
    "417": (r"\d{13}", ()),
    "8003": (rf"\d{{14}}{_PRINTABLE}{{0,16}}", ()),
    "8004": (rf"\d{{6}}{_PRINTABLE}{{0,24}}", ()),
    "8006": (r"\d{18}", ("21", "10")),
    "8010": (r"\d{6}[0-9A-Z#/-]{0,24}", ("8011",)),
    "8017": (r"\d{18}", ()),
    "8018": (r"\d{18}", ()),
}
_DL_KEY_PATTERNS = {ai: re.compile(f"(?:{pattern})\\Z") for ai, (pattern, _) in _DL_KEYS.items()}

# The alphabetic short names of GS1 Digital Link URI Syntax 1.2 for the same AIs.
_DL_SHORT_NAMES = {
    "gtin": "01", "itip": "8006", "cpv": "22", "lot": "10", "ser": "21", "sscc": "00",
    "gln": "414", "glnx": "254", "party": "417", "gdti": "253", "gcn": "255", "ginc": "401",
    "gsin": "402", "grai": "8003", "giai": "8004", "cpid": "8010", "cpsn": "8011",
    "gsrnp": "8017", "gsrn": "8018",
}
_AI = re.compile(r"\d{2,4}\Z")
_HTTP_PATH = re.compile(r"https?://[^/?#]+(/[^?#]*)", re.IGNORECASE)


def canonical_digital_link(uri: str) -> str | None:
    """The constrained canonical form of a GS1 Digital Link URI (CBV 2.0 §8.9 rule 18): the
    domain becomes id.gs1.org, the query string and fragment go, a short name becomes its
    AI, a GTIN gets 14 digits, and only the primary key with its finest qualifier stays.
    None when `uri` is not a Digital Link URI with one of the keys of _DL_KEYS."""
    m = _HTTP_PATH.match(uri)
    if not m:
        return None
    segments = m.group(1).split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()
    for start, segment in enumerate(segments):
        ai = _DL_SHORT_NAMES.get(segment, segment)
        if ai not in _DL_KEYS or (len(segments) - start) % 2:
            continue
        pairs = [(_DL_SHORT_NAMES.get(segments[i], segments[i]), unquote(segments[i + 1]))
                 for i in range(start, len(segments), 2)]
        if all(_AI.match(code) and value for code, value in pairs):
            constrained = _constrain(pairs)
            if constrained:
                return _dl(constrained)
    return None


def _constrain(pairs: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    ai, value = pairs[0]
    if not _DL_KEY_PATTERNS[ai].match(value):
        return None
    if ai == "01":
        value = value.zfill(14)
    qualifiers = {}
    for code, qualifier in pairs[1:]:
        qualifiers.setdefault(code, qualifier)
    kept = next((code for code in _DL_KEYS[ai][1] if code in qualifiers), None)
    return [(ai, value)] + ([(kept, qualifiers[kept])] if kept else [])


# --- §5 The pre-hash string -------------------------------------------------------------

# Standard fields that never enter the pre-hash string (§5.1): the event's own identifiers
# (`id` is the JSON-LD alias of eventID), when the repository recorded it, and an error
# declaration, which is added to a copy of an erroneous event that must keep its hash ID.
IGNORED_FIELDS = frozenset({"type", "eventID", "id", "recordTime", "errorDeclaration"})

SENSOR_METADATA_ORDER = (
    ("time", TIME), ("startTime", TIME), ("endTime", TIME), ("deviceID", None),
    ("deviceMetadata", None), ("rawData", None), ("dataProcessingMethod", None),
    ("bizRules", None),
)
SENSOR_REPORT_ORDER = (
    ("type", GS1_VOC), ("exception", GS1_VOC), ("deviceID", None), ("deviceMetadata", None),
    ("rawData", None), ("dataProcessingMethod", None), ("time", TIME),
    ("microorganism", None), ("chemicalSubstance", None), ("value", NUMBER),
    ("component", COMPONENT), ("stringValue", None), ("booleanValue", None),
    ("hexBinaryValue", None), ("uriValue", None), ("minValue", NUMBER), ("maxValue", NUMBER),
    ("meanValue", NUMBER), ("sDev", NUMBER), ("percRank", NUMBER), ("percValue", NUMBER),
    ("uom", None), ("coordinateReferenceSystem", None),
)
_KINDS = (TIME, NUMBER)
SENSOR_METADATA_FIELDS = frozenset(name for name, _ in SENSOR_METADATA_ORDER)
SENSOR_REPORT_FIELDS = frozenset(name for name, _ in SENSOR_REPORT_ORDER)


def _as_list(value) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def _object(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise EventHashError(f"{where}: expected an object, got {type(value).__name__}; "
                             "correct the field")
    return value


def _pair(name: str, value, prefixes, where: str, how: str | None = None) -> str:
    """`name=value`, or nothing when the value is absent (rule 4)."""
    text = _value(value, prefixes, where, kind=how if how in _KINDS else None,
                  vocabulary=None if how in _KINDS else how)
    return "" if text is None else f"{name}={text}"


def _pairs(name: str, values, prefixes, where: str, how: str | None = None) -> list[str]:
    pieces = (_pair(name, value, prefixes, where, how) for value in _as_list(values))
    return sorted(piece for piece in pieces if piece)


def _fields(obj: dict, order, prefixes, where: str) -> str:
    return "".join(_pair(name, obj.get(name), prefixes, f"{where}.{name}", how)
                   for name, how in order)


def _user_fields(obj: dict, prefixes, where: str, skip: Iterable[str] = (),
                 ignore: frozenset[str] = frozenset()) -> list[str]:
    """The pieces of the user extension fields of `obj`, sorted (§5.3). `skip` are the
    standard fields of `obj`; `ignore`, names the document asked to leave out."""
    if not isinstance(skip, tuple | frozenset):
        skip = frozenset(skip)
    pieces: list[str] = []
    for key, value in obj.items():
        if key in skip or key.startswith("@") or key == "comment":
            continue
        name = _field_name(key, prefixes)
        if name == RDFS_COMMENT or name in ignore:
            continue
        pieces.extend(_user_field(name, value, prefixes, f"{where}.{key}"))
    return sorted(pieces)


def _user_field(name: str, value, prefixes, where: str) -> list[str]:
    if isinstance(value, dict) and ("@list" in value or "@set" in value):
        value = value.get("@list", value.get("@set"))
    if value is None:
        return []
    if isinstance(value, list):
        return [piece for item in value for piece in _user_field(name, item, prefixes, where)]
    if isinstance(value, dict) and "@value" not in value and "@id" not in value:
        inner = _scoped(value, prefixes)
        return [name + "".join(_user_fields(value, inner, where))]
    text = _value(value, prefixes, where)
    return [name if text is None else f"{name}={text}"]


def _epc_list(name: str, values, prefixes) -> str:
    pieces = _pairs("epc", values, prefixes, name)
    return name + "".join(pieces) if pieces else ""


# Fast paths for the common shape of an element: standard fields only, each a text, number,
# boolean or null. Such an element has no @context and no user fields, and no value of it
# can fail, so the general code below would add nothing (and need no error location).
_SCALARS = (str, int, float, bool, type(None))
_QUANTITY_FIELDS = frozenset({"epcClass", "quantity", "uom"})
_ID_ONLY = frozenset({"id"})


def _quantity_list(name: str, values, prefixes) -> str:
    elements = []
    for i, element in enumerate(_as_list(values)):
        if type(element) is dict and element.keys() <= _QUANTITY_FIELDS and all(
                type(x) in _SCALARS for x in element.values()):
            body = (_pair("epcClass", element.get("epcClass"), prefixes, "")
                    + _pair("quantity", element.get("quantity"), prefixes, "", NUMBER)
                    + _pair("uom", element.get("uom"), prefixes, ""))
            if body:
                elements.append("quantityElement" + body)
            continue
        where = f"{name}[{i}]"
        obj = _object(element, where)
        inner = _scoped(obj, prefixes)
        body = _fields(obj, (("epcClass", None), ("quantity", NUMBER), ("uom", None)), inner,
                       where)
        body += "".join(_user_fields(obj, inner, where, skip=("epcClass", "quantity", "uom")))
        if body:
            elements.append("quantityElement" + body)
    return name + "".join(sorted(elements)) if elements else ""


def _persistent_disposition(value, prefixes) -> str:
    where = "persistentDisposition"
    obj = _object(value, where)
    inner = _scoped(obj, prefixes)
    body = "".join(_pairs("set", obj.get("set"), inner, where + ".set", DISPOSITION))
    body += "".join(_pairs("unset", obj.get("unset"), inner, where + ".unset", DISPOSITION))
    body += "".join(_user_fields(obj, inner, where, skip=("set", "unset")))
    return where + body if body else ""


def _location(name: str, value, prefixes) -> str:
    if type(value) is dict and value.keys() <= _ID_ONLY and type(value.get("id")) in _SCALARS:
        body = _pair("id", value.get("id"), prefixes, "")
        return name + body if body else ""
    obj = {"id": value} if isinstance(value, str) else _object(value, name)
    inner = _scoped(obj, prefixes)
    body = _pair("id", obj.get("id"), inner, f"{name}.id")
    body += "".join(_user_fields(obj, inner, name, skip=("id",)))
    return name + body if body else ""


def _typed_list(name: str, values, id_field: str, vocabulary: str, prefixes) -> str:
    """bizTransactionList, sourceList, destinationList: per element its type, then its
    identifier (the order the vectors show), the elements sorted."""
    elements = []
    plain = {"type", id_field}
    for i, element in enumerate(_as_list(values)):
        if (type(element) is dict and element.keys() <= plain
                and type(element.get("type")) in _SCALARS
                and type(element.get(id_field)) in _SCALARS):
            body = (_pair("type", element.get("type"), prefixes, "", vocabulary)
                    + _pair(id_field, element.get(id_field), prefixes, ""))
            if body:
                elements.append(body)
            continue
        where = f"{name}[{i}]"
        obj = _object(element, where)
        inner = _scoped(obj, prefixes)
        body = _pair("type", obj.get("type"), inner, where + ".type", vocabulary)
        body += _pair(id_field, obj.get(id_field), inner, f"{where}.{id_field}")
        body += "".join(_user_fields(obj, inner, where, skip=("type", id_field)))
        if body:
            elements.append(body)
    return name + "".join(sorted(elements)) if elements else ""


def _sensor_element_list(values, prefixes) -> str:
    elements = []
    for i, element in enumerate(_as_list(values)):
        where = f"sensorElementList[{i}]"
        obj = _object(element, where)
        inner = _scoped(obj, prefixes)
        body = ""
        if obj.get("sensorMetadata") is not None:
            metadata = _object(obj["sensorMetadata"], where + ".sensorMetadata")
            scope = _scoped(metadata, inner)
            text = _fields(metadata, SENSOR_METADATA_ORDER, scope, where + ".sensorMetadata")
            text += "".join(_user_fields(metadata, scope, where + ".sensorMetadata",
                                         skip=SENSOR_METADATA_FIELDS))
            body += "sensorMetadata" + text if text else ""
        reports = []
        for j, report in enumerate(_as_list(obj.get("sensorReport"))):
            report_where = f"{where}.sensorReport[{j}]"
            report = _object(report, report_where)
            scope = _scoped(report, inner)
            text = _fields(report, SENSOR_REPORT_ORDER, scope, report_where)
            text += "".join(_user_fields(report, scope, report_where,
                                         skip=SENSOR_REPORT_FIELDS))
            if text:
                reports.append("sensorReport" + text)
        body += "".join(sorted(reports))
        body += "".join(_user_fields(obj, inner, where, skip=("sensorMetadata", "sensorReport")))
        if body:
            elements.append("sensorElement" + body)
    return "sensorElementList" + "".join(sorted(elements)) if elements else ""


def _ilmd(value, prefixes) -> str:
    obj = _object(value, "ilmd")
    pieces = _user_fields(obj, _scoped(obj, prefixes), "ilmd")
    return "ilmd" + "".join(pieces) if pieces else ""


def _scalar(name: str, how: str | None = None, *, multiple: bool = False):
    """A field with one value (`multiple`: or a set of values, each its own piece)."""
    def render(value, prefixes) -> str:
        if isinstance(value, list):
            if not multiple:
                raise EventHashError(f"{name}: expected one value, got a list; give one value")
            return "".join(_pairs(name, value, prefixes, name, how))
        return _pair(name, value, prefixes, name, how)  # one piece, or none
    return render


# The canonical property order (§5.2): CBV 2.0 §8.9, with the adjustments the vectors
# require (docs/event-hash.md §7): sensorElementList before bizTransactionList, and
# destinationList before sourceList.
PROPERTY_ORDER = (
    ("eventTime", _scalar("eventTime", TIME)),
    ("eventTimeZoneOffset", _scalar("eventTimeZoneOffset")),
    ("certificationInfo", _scalar("certificationInfo", multiple=True)),
    ("epcList", lambda v, p: _epc_list("epcList", v, p)),
    ("parentID", _scalar("parentID")),
    ("inputEPCList", lambda v, p: _epc_list("inputEPCList", v, p)),
    ("childEPCs", lambda v, p: _epc_list("childEPCs", v, p)),
    ("quantityList", lambda v, p: _quantity_list("quantityList", v, p)),
    ("childQuantityList", lambda v, p: _quantity_list("childQuantityList", v, p)),
    ("inputQuantityList", lambda v, p: _quantity_list("inputQuantityList", v, p)),
    ("outputEPCList", lambda v, p: _epc_list("outputEPCList", v, p)),
    ("outputQuantityList", lambda v, p: _quantity_list("outputQuantityList", v, p)),
    ("action", _scalar("action")),
    ("transformationID", _scalar("transformationID")),
    ("bizStep", _scalar("bizStep", BIZ_STEP)),
    ("disposition", _scalar("disposition", DISPOSITION)),
    ("persistentDisposition", _persistent_disposition),
    ("readPoint", lambda v, p: _location("readPoint", v, p)),
    ("bizLocation", lambda v, p: _location("bizLocation", v, p)),
    ("sensorElementList", _sensor_element_list),
    ("bizTransactionList", lambda v, p: _typed_list(
        "bizTransactionList", v, "bizTransaction", BIZ_TRANSACTION_TYPE, p)),
    ("destinationList", lambda v, p: _typed_list(
        "destinationList", v, "destination", SOURCE_DESTINATION_TYPE, p)),
    ("sourceList", lambda v, p: _typed_list(
        "sourceList", v, "source", SOURCE_DESTINATION_TYPE, p)),
    ("ilmd", _ilmd),
)
STANDARD_FIELDS = frozenset(name for name, _ in PROPERTY_ORDER) | IGNORED_FIELDS


def prehash(event: dict, context=None, *, ignore: Iterable[str] = (),
            prefixes: dict[str, str] | None = None) -> str:
    """The canonical pre-hash string of one EPCIS 2.0 event in JSON/JSON-LD form.

    `context` is the document's @context (a URL, an object or a list); its prefixes expand
    CURIEs in keys and values. `ignore` names user extension fields to leave out (CURIEs,
    IRIs or `{namespace}name`); standard fields cannot be left out this way. `prefixes`,
    when given, is ``context_prefixes(context)`` computed once for many events (it is
    not changed)."""
    event = _object(event, "event")
    event_type = event.get("type", event.get("@type"))
    if not isinstance(event_type, str) or not event_type.strip():
        raise EventHashError("event: the field 'type' is missing; give the event type, "
                             "e.g. ObjectEvent")
    prefixes = _scoped(event, context_prefixes(context) if prefixes is None else prefixes)
    ignored = frozenset(_field_name(name, prefixes) if "{" not in name else name
                        for name in ignore) if ignore else frozenset()
    pieces = ["eventType=" + event_type.strip()]
    pieces.extend(render(event[name], prefixes) for name, render in PROPERTY_ORDER
                  if event.get(name) is not None)
    pieces.extend(_user_fields(event, prefixes, "event", skip=STANDARD_FIELDS, ignore=ignored))
    return "".join(pieces)


def hash_id(prehash_string: str) -> str:
    """The event hash ID of a pre-hash string (§6)."""
    digest = hashlib.sha256(prehash_string.encode("utf-8")).hexdigest()
    return f"ni:///{ALGORITHM};{digest}?ver={VERSION}"


def event_hash_id(event: dict, context=None, *, ignore: Iterable[str] = ()) -> str:
    """The CBV 2.0 event hash ID, `ni:///sha-256;<hex>?ver=CBV2.0`, of one event."""
    return hash_id(prehash(event, context, ignore=ignore))


# --- §6 Documents -----------------------------------------------------------------------

def document_events(document: dict) -> tuple[list, object, frozenset[str]]:
    """The events of an EPCISDocument or EPCISQueryDocument (or of a single event carrying
    its own @context), the document @context, and the user fields the document asks to
    leave out of every event hash (a `...:ignoreFields` list at document or query-results
    level, a repository convention the vectors use)."""
    document = _object(document, "document")
    context = document.get("@context")
    if "epcisBody" not in document and "type" in document:
        return [document], context, frozenset()
    body = _object(document.get("epcisBody"), "epcisBody")
    holders = [document]
    if "queryResults" in body:
        results = _object(body["queryResults"], "epcisBody.queryResults")
        holders.append(results)
        body = _object(results.get("resultsBody"), "epcisBody.queryResults.resultsBody")
    if "eventList" in body:
        events = body["eventList"]
    elif "event" in body:
        events = [body["event"]]
    else:
        raise EventHashError("epcisBody: no eventList; give the events in epcisBody.eventList")
    if not isinstance(events, list):
        raise EventHashError("epcisBody.eventList: expected a list of events")
    prefixes = context_prefixes(context)
    ignore = set()
    for holder in holders:
        for key, names in holder.items():
            name = _field_name(key, prefixes)
            if name == "ignoreFields" or name.endswith("}ignoreFields"):
                ignore.update(_field_name(n, prefixes) for n in _as_list(names)
                              if isinstance(n, str))
    return events, context, frozenset(ignore)


def document_prehashes(document: dict) -> list[str]:
    """The pre-hash string of every event of a document, in document order."""
    events, context, ignore = document_events(document)
    return [prehash(event, context, ignore=ignore) for event in events]


def document_hashes(document: dict) -> list[str]:
    """The event hash ID of every event of a document, in document order."""
    return [hash_id(p) for p in document_prehashes(document)]


def main(argv: list[str] | None = None, out=None) -> int:
    """`python eventhash.py [--prehash] DOCUMENT.jsonld` (or `-` for standard input): one
    hash ID (or pre-hash string) per event, in document order. Exit status 0, or 2 when
    the document cannot be read or hashed."""
    out = out or sys.stdout
    args = sys.argv[1:] if argv is None else list(argv)
    show_prehash = "--prehash" in args
    args = [a for a in args if a != "--prehash"]
    if len(args) != 1:
        print("usage: eventhash.py [--prehash] DOCUMENT.jsonld   (or - for standard input)",
              file=out)
        return 2
    try:
        if args[0] == "-":
            document = json.loads(sys.stdin.read())
        else:
            with open(args[0], encoding="utf-8") as f:
                document = json.load(f)
        lines = document_prehashes(document)
    except (OSError, ValueError) as exc:
        print(f"cannot hash {args[0]}: {exc}", file=out)
        return 2
    for line in lines:
        print(line if show_prehash else hash_id(line), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
