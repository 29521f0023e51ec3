"""Validation of EPCIS 2.0 JSON documents and events before capture (来源可查、去向可追).

Python (the standard library, ``jsonschema``, and ``jsonschema-rs`` to pass valid
documents quickly, §3.2), no Django import: the traceability app wraps it, and anyone can
run it on a file. The specification, with every problem code
and the conformance results, is docs/epcis-validation.md; the § numbers below refer to it.

Checks, in order (§2):

1. size: a payload over ``max_bytes`` (default 20 MiB) is refused before it is parsed;
2. JSON: strict UTF-8 JSON, an object at the top, no duplicate member names, no NaN or
   Infinity, nesting at most ``MAX_DEPTH`` deep;
3. the GS1 EPCIS 2.0 JSON schema (vendored in data/), with the ``uri`` and ``date-time``
   formats enforced, every error reported with the JSON pointer of the offending field;
4. the rules the schema does not express: CBV vocabulary, namespaced extensions, EPC URN
   and GS1 Digital Link syntax with check digits, non-negative quantities and the
   TransformationEvent quantity balance.

A failing step 1 or 2 stops; steps 3 and 4 report together, at most one problem per
field (a rule problem replaces a schema problem at the same pointer because it is more
specific), in document order.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs

from zhijian.traceability.identifiers import identifier_problem

__all__ = [
    "DEFAULT_MAX_BYTES",
    "EVENT_TYPES",
    "MAX_DEPTH",
    "MESSAGES",
    "REASON_FIELD",
    "Problem",
    "Result",
    "validate_document",
    "validate_event",
]

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 100
EVENT_TYPES = (
    "ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
    "AssociationEvent",
)
#: Extension field by which a TransformationEvent declares why an output exceeds the
#: input of the same class and unit (§4.5). Write it as a full URI or as ``prefix:``
#: ``quantityGainReason`` with the prefix bound to ``urn:zhijian:epcis:`` in @context.
REASON_FIELD = "urn:zhijian:epcis:quantityGainReason"

#: English message per problem code, with %-style named parameters; the app wraps them
#: for translation. Each names the field (the pointer locates it) and says what to do.
MESSAGES: dict[str, str] = {
    # §2 size and JSON
    "size.too_large": "The document is %(size)s bytes; the limit is %(limit)s bytes. Split "
    "the events over several smaller documents.",
    "json.not_utf8": "The document is not valid UTF-8 (line %(line)s, column %(column)s). "
    "Save it as UTF-8 and send it again.",
    "json.malformed": "The document is not valid JSON: %(detail)s at line %(line)s, column "
    "%(column)s. Correct the syntax there.",
    "json.non_finite_number": "%(field)s is %(value)s, which is not a JSON number. Write a "
    "finite number.",
    "json.duplicate_key": "The field %(field)s appears more than once in the same object. "
    "Keep only one.",
    "json.too_deep": "The document nests objects and arrays more than %(limit)s levels deep. "
    "Flatten the extension data.",
    "json.not_object": "The document is %(found)s; it must be a JSON object.",
    # §3 document and event type
    "document.wrong_type": "type is %(value)s; a capture document must have type "
    "EPCISDocument.",
    "event.unknown_type": "type is %(value)s; an event must have one of the types "
    "%(allowed)s.",
    # §3 the GS1 schema
    "schema.required": "The field %(field)s is missing. Add it.",
    "schema.required_one_of": "One of these fields is required here: %(fields)s. Add one.",
    "schema.unknown_field": "%(field)s is not a field of this object. Remove it, or for an "
    "extension write it as prefix:%(field)s with the prefix declared in @context.",
    "schema.not_allowed": "The field %(field)s is not allowed here (ilmd, for example, only "
    "with action ADD). Remove it or change the event.",
    "schema.type": "%(field)s is %(found)s; it must be %(expected)s. Correct the value.",
    "schema.enum": "%(field)s is %(value)s, which is not allowed. Use one of: %(allowed)s.",
    "schema.date_time": "%(field)s is %(value)s, which is not a date-time. Write it as in "
    "RFC 3339 with a time zone, for example 2026-07-22T06:45:00+08:00.",
    "schema.uri": "%(field)s is %(value)s, which is not an absolute URI. Write a URI with a "
    "scheme (urn:…, https://…) or a prefix:name declared in @context.",
    "schema.pattern": "%(field)s is %(value)s, which does not have the required form "
    "%(pattern)s. Correct it.",
    "schema.min_items": "%(field)s needs at least %(minimum)s item(s). Add them or leave "
    "the field out.",
    "schema.unique_items": "%(field)s contains the same value twice. Remove the duplicate.",
    "schema.no_alternative": "%(field)s is %(value)s, which matches none of the forms EPCIS "
    "2.0 allows for this field. Correct it.",
    "schema.invalid": "%(field)s breaks the EPCIS 2.0 JSON schema (%(detail)s). Correct it.",
    # §4 rules
    "context.epcis_missing": "@context does not name the EPCIS 2.0 context. Add %(url)s "
    "to @context.",
    "vocabulary.unknown_term": "%(field)s is %(value)s, which is not a CBV 2.0 "
    "%(vocabulary)s term. Use a standard term such as %(suggestion)s, or a URI or "
    "prefix:name whose prefix is declared in @context.",
    "vocabulary.wrong_vocabulary": "%(field)s is %(value)s, a CBV %(found)s term. Use a "
    "%(vocabulary)s term here.",
    "vocabulary.undeclared_prefix": "%(field)s is %(value)s, but the prefix %(prefix)s is "
    "not declared in @context. Declare it there or write the full URI.",
    "vocabulary.not_uri": "%(field)s is %(value)s, which is not a valid URI once its prefix "
    "is expanded. Correct it.",
    "vocabulary.obsolete_uri": "%(field)s is %(value)s, which uses a CBV 1.x namespace. "
    "Write the CBV 2.0 term instead, such as %(suggestion)s.",
    "extension.not_namespaced": "%(field)s is not a standard field, so it must be a "
    "namespaced extension. Write it as prefix:%(field)s with the prefix declared in "
    "@context, or as a full URI.",
    "extension.undeclared_prefix": "The prefix %(prefix)s of the extension field %(field)s "
    "is not declared in @context. Declare it there or write the full URI.",
    "identifier.epc_scheme": "%(field)s is %(value)s, which is not a known EPC "
    "pure-identity URN (%(scheme)s). Use urn:epc:id:…, urn:epc:idpat:… or "
    "urn:epc:class:lgtin:… as in the GS1 Tag Data Standard.",
    "identifier.epc_syntax": "%(field)s is %(value)s, which is not a well-formed EPC URN. "
    "Write it as %(syntax)s.",
    "identifier.epc_digits": "%(field)s is %(value)s: its company prefix and the reference "
    "after it must have %(digits)s digits together (%(syntax)s). Correct them.",
    "identifier.dl_missing_value": "%(field)s is the GS1 Digital Link %(value)s, which has "
    "no value after AI %(ai)s. Add the value or remove the AI.",
    "identifier.dl_value": "%(field)s is the GS1 Digital Link %(value)s, whose %(key)s "
    "(AI %(ai)s) must have the format %(format)s. Correct it.",
    "identifier.dl_qualifier": "%(field)s is the GS1 Digital Link %(value)s, where AI "
    "%(ai)s cannot follow AI %(primary)s; allowed after it, in this order: %(allowed)s.",
    "identifier.check_digit": "%(field)s is %(value)s: the check digit of the %(key)s "
    "%(number)s is %(found)s but should be %(expected)s. Check the number.",
    "quantity.negative": "%(field)s is %(value)s; a quantity cannot be negative.",
    "quantity.unbalanced": "The outputs of %(epc_class)s (unit %(uom)s) total %(output)s, "
    "more than the inputs of the same class and unit (%(input)s). Correct the quantities, "
    "or declare the reason in the extension field %(reason_field)s.",
}


@dataclass(frozen=True)
class Problem:
    """One reason a document is refused: where (RFC 6901 JSON pointer into the document;
    "" is the whole document), what (a code of MESSAGES) and the message parameters."""

    pointer: str
    code: str
    message_params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return MESSAGES[self.code] % self.message_params


@dataclass
class Result:
    """The outcome: ``document`` is the parsed JSON (None when it could not be parsed)."""

    document: Any = None
    errors: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_document(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Result:
    """Validate an EPCIS 2.0 JSON capture document (type EPCISDocument)."""
    return _validate(raw, max_bytes, event=False)


def validate_event(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Result:
    """Validate one EPCIS 2.0 event sent on its own (the /events capture); it carries its
    own @context."""
    return _validate(raw, max_bytes, event=True)


# --- internals ---------------------------------------------------------------------------

@dataclass
class _Found:
    path: tuple
    code: str
    params: dict
    rank: int = 1  # 0 rule, 1 schema, 2 schema via an anyOf branch (weakest)
    alternatives: tuple = ()  # for schema.required_one_of: the ways to satisfy it


def _validate(raw, max_bytes: int, *, event: bool) -> Result:
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    raw = bytes(raw)
    if len(raw) > max_bytes:  # §2.1
        return Result(None, [_problem((), "size.too_large", size=len(raw), limit=max_bytes)])
    doc, problem, suspicious = _parse(raw)  # §2.2
    if problem is not None:
        return Result(None, [problem])
    # The walk only when the parse met a repeated name or NaN/Infinity, or the brackets
    # may nest too deep: on any other document it finds nothing.
    found = _scan(doc) if suspicious or _may_be_too_deep(raw) else []
    if found:  # not acceptable JSON: no document to hand back
        return Result(None, _finish(doc, found))
    if not isinstance(doc, dict):
        return Result(doc, [_problem((), "json.not_object", found=_json_type(doc))])
    root_type = doc.get("type")  # §3.1
    if "type" not in doc:
        return Result(doc, [_problem(("type",), "schema.required")])
    if event and root_type not in EVENT_TYPES:
        return Result(doc, [_problem(("type",), "event.unknown_type", value=_show(root_type),
                                     allowed=", ".join(EVENT_TYPES))])
    if not event and root_type != "EPCISDocument":
        return Result(doc, [_problem(("type",), "document.wrong_type", value=_show(root_type))])

    found, skip = [], set()
    events: list[tuple[tuple, dict]] = []
    if event:
        events.append(((), doc))
    else:
        body = doc.get("epcisBody")
        items = body.get("eventList") if isinstance(body, dict) else None
        for index, item in enumerate(items if isinstance(items, list) else []):
            path = ("epcisBody", "eventList", index)
            if not isinstance(item, dict):
                continue
            if "type" not in item:
                found.append(_Found(path + ("type",), "schema.required", {"field": "type"}))
            elif item["type"] not in EVENT_TYPES:
                params = {"value": _show(item["type"]), "allowed": ", ".join(EVENT_TYPES)}
                found.append(_Found(path + ("type",), "event.unknown_type", params))
            else:
                events.append((path, item))
                continue
            skip.add(path)
    paths = {path for path, _ in events}
    if not _schema_valid(doc):  # §3.2, less the deviations of §3.4
        found += [f for f in _schema_problems(doc)
                  if f.path[:3] not in skip and not _deviation(doc, f, paths)]
    found += _rules(doc, events, event)  # §4
    return Result(doc, _finish(doc, found))


# --- §2.2 JSON ---------------------------------------------------------------------------

class _NonFinite:
    def __init__(self, text):
        self.text = text


class _Duplicates(dict):
    """An object in which a member name occurred more than once (the last value wins)."""

    duplicates: list


def _pairs(items, suspicious: list | None = None):
    obj = dict(items)
    if len(obj) == len(items):
        return obj
    seen, dups = set(), []
    for key, _value in items:
        if key in seen:
            dups.append(key)
        seen.add(key)
    obj = _Duplicates(obj)
    obj.duplicates = dups
    if suspicious is not None:
        suspicious.append(obj)
    return obj


def _parse(raw: bytes):
    """(document, problem, suspicious): suspicious is true when the document has a
    repeated member name or a NaN/Infinity, which _scan then locates."""
    if raw.startswith(b"\xef\xbb\xbf"):  # RFC 8259 §8.1: a parser may ignore a BOM
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, _problem((), "json.not_utf8", line=line, column=column), False
    suspicious: list = []

    def constant(text):
        suspicious.append(text)
        return _NonFinite(text)

    try:
        doc = json.loads(text, object_pairs_hook=lambda items: _pairs(items, suspicious),
                         parse_constant=constant)
        return doc, None, bool(suspicious)
    except json.JSONDecodeError as exc:
        return None, _problem((), "json.malformed", detail=exc.msg, line=exc.lineno,
                              column=exc.colno), False
    except RecursionError:
        return None, _problem((), "json.too_deep", limit=MAX_DEPTH), False


_STRING_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(c for c in range(256) if c not in b"[]{}")
_NOT_BRACKET_OR_QUOTE = bytes(c for c in range(256) if c not in b'[]{}"')
_EMPTY_PAIR = re.compile(rb"\[\]|\{\}")


def _may_be_too_deep(raw: bytes) -> bool:
    """False when the objects and arrays of a parsed document nest at most MAX_DEPTH deep:
    its brackets outside strings are gone within MAX_DEPTH rounds, each round removing the
    pairs that are empty at its start (one level; one scan, so a pair emptied during the
    round waits for the next). A value at depth MAX_DEPTH + 1 needs MAX_DEPTH + 1 levels;
    True sends the document to _scan, which decides."""
    if b"\\" in raw:  # escapes: find where each string ends
        brackets = _STRING_TOKEN.sub(b"", raw).translate(None, _NOT_BRACKET)
    else:  # no escapes: every other quote ends a string
        brackets = b"".join(raw.translate(None, _NOT_BRACKET_OR_QUOTE).split(b'"')[0::2])
    for _ in range(MAX_DEPTH):
        if not brackets:
            return False
        brackets = _EMPTY_PAIR.sub(b"", brackets)
    return bool(brackets)


def _scan(doc) -> list[_Found]:
    """Duplicate names, NaN/Infinity and excessive depth, found by one iterative walk."""
    found, stack = [], [(doc, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return [_Found(path, "json.too_deep", {"limit": MAX_DEPTH})]
        if isinstance(node, _NonFinite):
            found.append(_Found(path, "json.non_finite_number", {"value": node.text}))
        elif isinstance(node, dict):
            for key in getattr(node, "duplicates", ()):
                found.append(_Found(path + (key,), "json.duplicate_key", {"field": key}))
            stack.extend((value, path + (key,)) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, path + (i,)) for i, value in enumerate(node))
    return found


# --- §3 the GS1 JSON schema ----------------------------------------------------------------

_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?\[\]]|%[0-9A-Fa-f]{2})*"
    r"(?:#(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?"
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_DATE_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|[+-](\d\d):(\d\d))"
)


def _is_uri(value) -> bool:
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


def _is_date_time(value) -> bool:
    """RFC 3339 §5.6 date-time, with real calendar days and a leap second allowed."""
    if not isinstance(value, str):
        return True
    m = _DATE_TIME.fullmatch(value)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    offset_ok = m[7] is None or (int(m[7]) <= 23 and int(m[8]) <= 59)
    return (1 <= month <= 12 and 1 <= day <= days[month - 1] and hour <= 23
            and minute <= 59 and second <= 60 and offset_ok)


# Our own checkers, so the result does not depend on which optional packages are installed.
_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("uri")(_is_uri)
_FORMATS.checks("date-time")(_is_date_time)


@cache
def _schema() -> dict:
    return json.loads((DATA / "epcis-json-schema.json").read_text(encoding="utf-8"))


@cache
def _validator():
    schema = _schema()
    return jsonschema.validators.validator_for(schema)(schema, format_checker=_FORMATS)


# The formats as patterns for the fast check (_schema_valid), each accepting a subset of
# what the checker above accepts: the same URI expression; the date-time with ASCII digits
# and the calendar written out (30-day months, February 29 in leap years only).
_URI_PATTERN = f"^(?:{_URI.pattern})$"
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
_DATE_TIME_PATTERN = (
    r"^(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    rf"|{_LEAP_YEAR}-02-29)"
    r"[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)


@cache
def _fast_validator():
    """jsonschema-rs (compiled, about 400 times faster here) over the vendored schema, with
    each ``format`` replaced by its pattern above."""
    def rewrite(node):
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: rewrite(value) for key, value in node.items()}
        fmt = node.pop("format", None)
        if fmt is not None:
            pattern = {"uri": _URI_PATTERN, "date-time": _DATE_TIME_PATTERN}[fmt]
            node["allOf"] = [*node.get("allOf", ()), {"pattern": pattern}]
        return node

    return jsonschema_rs.Draft7Validator(rewrite(_schema()), validate_formats=False)


def _schema_valid(doc) -> bool:
    """True only when the document certainly passes the schema: every keyword as the full
    check reads it, with regular expressions that are at most as lenient (ASCII digits, no
    line feed before $). False leaves the verdict, and the problems, to the full check, so
    this decides how fast a valid document goes, never what is accepted or reported."""
    try:
        return _fast_validator().is_valid(doc)
    except (ValueError, TypeError, OverflowError):  # a value jsonschema-rs cannot take in
        return False


@cache
def _definition(name: str, formats: bool = True):
    """A validator for one definition of the schema (formats off: as OpenEPCIS checks)."""
    schema = {**_schema(), "allOf": [], "$ref": f"#/definitions/{name}"}
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=_FORMATS if formats else None)


def _schema_problems(doc, validator=None, prefix=()) -> list[_Found]:
    errors = list((validator or _validator()).iter_errors(doc))
    direct = [None if e.validator in ("anyOf", "oneOf") else _leaves(e) for e in errors]
    known = {f.path for fs in direct if fs for f in fs}  # what plain keywords reported
    found = []
    for error, leaves in zip(errors, direct, strict=True):
        for f in _leaves(error, known) if leaves is None else leaves:
            f.path = prefix + f.path
            found.append(f)
    return found


# §3.4 where the conformance documents show the vendored schema is stricter than EPCIS 2.0
_PERSISTENT_IN_SCHEMA = ("ObjectEvent", "TransformationEvent")
_SENSOR_VOCABULARY = {"type": "measurementType", "exception": "sensorAlertType",
                      "component": "component"}


def _deviation(doc, f: _Found, events: set) -> bool:
    """True when a schema problem is one of the documented deviations, so not reported."""
    path = f.path
    if len(path) >= 3 and path[-3] == "sensorReport" and path[-1] in _SENSOR_VOCABULARY:
        report = _at(doc, path[:-1])
        if not isinstance(report, dict):
            return False
        if f.code == "schema.required":  # an alarm or error report need not measure anything
            return path[-1] == "type" and "exception" in report
        value = report.get(path[-1])  # any name the schema allows once formats are ignored
        return isinstance(value, str) and _definition(
            _SENSOR_VOCABULARY[path[-1]], formats=False).is_valid(value)
    # persistentDisposition is an EPCIS 2.0 field of every event type; the schema lists it
    # only for ObjectEvent and TransformationEvent. Its content is checked in _rules.
    return (f.code == "schema.unknown_field" and path[-1:] == ("persistentDisposition",)
            and path[:-1] in events)


def _at(doc, path):
    for token in path:
        if isinstance(doc, dict) and token in doc or (
                isinstance(doc, list) and isinstance(token, int) and 0 <= token < len(doc)):
            doc = doc[token]
        else:
            return None
    return doc


def _leaves(e, known=frozenset()) -> list[_Found]:
    """Map one jsonschema error to problems at the offending fields (§3.3)."""
    path = tuple(e.absolute_path)
    if "propertyNames" in e.relative_schema_path:  # the instance is the offending name
        return [_Found(path + (e.instance,), "schema.unknown_field", {"field": e.instance})]
    v, inst = e.validator, e.instance
    if v in ("anyOf", "oneOf"):
        return _alternatives(e, path, known)
    if v == "required":
        missing = [n for n in e.validator_value if isinstance(inst, dict) and n not in inst]
        return [_Found(path + (n,), "schema.required", {"field": n}) for n in missing]
    if v == "additionalProperties" and isinstance(inst, dict):
        declared = e.schema.get("properties", {})
        return [_Found(path + (k,), "schema.unknown_field", {"field": k})
                for k in inst if k not in declared]
    if v == "type":
        expected = e.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return [_Found(path, "schema.type", {"expected": expected, "found": _json_type(inst)})]
    simple = {
        "enum": ("schema.enum", lambda: {"value": _show(inst), "allowed": ", ".join(
            str(x) for x in e.validator_value)}),
        "format": ("schema.date_time" if e.validator_value == "date-time" else "schema.uri",
                   lambda: {"value": _show(inst)}),
        "pattern": ("schema.pattern", lambda: {"value": _show(inst), "pattern": e.validator_value}),
        "minItems": ("schema.min_items", lambda: {"minimum": e.validator_value}),
        "uniqueItems": ("schema.unique_items", dict),
        "not": ("schema.not_allowed", lambda: {"field": str(path[-1]) if path else ""}),
    }
    code, params = simple.get(v, ("schema.invalid", lambda: {"detail": e.message}))
    return [_Found(path, code, params())]


def _alternatives(e, path, known) -> list[_Found]:
    """An anyOf/oneOf failed: report the branch the author evidently meant (§3.3)."""
    branches: dict[int, list[_Found]] = {}
    for child in e.context:
        branches.setdefault(child.relative_schema_path[0], []).extend(_leaves(child, known))

    def missing_here(f):
        return f.code in ("schema.required", "schema.required_one_of") and f.path[:-1] == path

    # A branch for another JSON type (a string where the value is a list) is irrelevant.
    relevant = [fs for _, fs in sorted(branches.items())
                if not any(f.code == "schema.type" and f.path == path for f in fs)]
    if not relevant:
        return [_Found(path, "schema.no_alternative", {"value": _show(e.instance)}, rank=2)]
    if any(all(f.path in known for f in fs) for fs in relevant):
        return []  # a branch fails only where a plain keyword already reported a problem
    if all(missing_here(f) for fs in relevant for f in fs):
        # Each branch needs all of its fields; a nested alternative reads "(a or b)".
        alternatives = []
        for fs in relevant:
            fs = list({f.path: f for f in fs}.values())
            if len(fs) == 1 and fs[0].alternatives:
                alternatives.extend(fs[0].alternatives)
            else:
                alternatives.append(" + ".join(
                    f"({' or '.join(f.alternatives)})" if f.alternatives else f.params["field"]
                    for f in fs))
        alternatives = list(dict.fromkeys(alternatives))
        return [_Found(relevant[0][0].path, "schema.required_one_of",
                       {"fields": ", ".join(alternatives)}, rank=2,
                       alternatives=tuple(alternatives))]
    attempted = [fs for fs in relevant if not any(missing_here(f) for f in fs)]
    best = min(attempted or relevant, key=len)
    for f in best:
        f.rank = 2
    return best


# --- §4 rules the schema does not express -------------------------------------------------

@cache
def _cbv() -> dict:
    return json.loads((DATA / "cbv.json").read_text(encoding="utf-8"))


@cache
def _tables():
    cbv, defs = _cbv(), _schema()["definitions"]

    def names(node) -> set:
        if "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[1]]
        result = set(node.get("enum", ()))
        for alternative in node.get("anyOf", ()):
            result |= names(alternative)
        return result

    standard = {t: frozenset(names(defs[t]["allOf"][1]["propertyNames"]))  # §3.4
                | {"persistentDisposition"} for t in EVENT_TYPES}
    for name in ("epcisDocument", "epcisHeader", "errorDeclaration", "sensorElement",
                 "sensorMetadata", "sensorReport"):
        standard[name] = frozenset(names(defs[name]["propertyNames"]))
    standard["location"] = frozenset(defs["readPoint"]["properties"])
    standard["epcisBody"] = frozenset({"eventList"})
    standard["ilmd"] = frozenset()
    vocabularies = {k: (v["namespace"], frozenset(v["terms"]))
                    for k, v in cbv["vocabularies"].items()}
    cbv_prefixes = {v["namespace"][len(cbv["cbv_namespace"]):-1]: k
                    for k, v in cbv["vocabularies"].items()
                    if v["namespace"].startswith(cbv["cbv_namespace"])}
    return standard, vocabularies, cbv_prefixes


def _context(value, inherited):
    """(names the EPCIS context?, prefixes) for an @context value; inherited None means
    the outer context is missing, so prefixes cannot be judged."""
    prefixes = None if inherited is None else dict(inherited)
    epcis = False
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and item in _cbv()["epcis_context"]["urls"]:
            epcis = True
            if prefixes is not None:
                prefixes.update(_cbv()["epcis_context"]["prefixes"])
        elif isinstance(item, dict) and prefixes is not None:
            for key, iri in item.items():
                iri = iri.get("@id") if isinstance(iri, dict) else iri
                if not key.startswith("@") and isinstance(iri, str):
                    prefixes[key] = iri
    return epcis, prefixes


def _expand(value: str, prefixes):
    """("bare", None) | ("iri", expanded) | ("undeclared", prefix) for a term, CURIE or URI."""
    prefix, colon, rest = value.partition(":")
    if not colon or not _SCHEME.fullmatch(prefix):
        return "bare", None
    if rest.startswith("//") or prefix.lower() == "urn":
        return "iri", value
    if prefixes is None:  # no usable @context: already reported, do not pile up problems
        return "iri", None
    if prefix in prefixes:
        return "iri", prefixes[prefix] + rest
    return "undeclared", prefix


def _rules(doc: dict, events, event: bool) -> list[_Found]:
    standard, vocabularies, cbv_prefixes = _tables()
    found: list[_Found] = []

    def add(path, code, **params):
        found.append(_Found(tuple(path), code, params, rank=0))

    def keys(obj, path, kind, prefixes):
        """§4.2: a field that is not standard must be a namespaced extension."""
        if not isinstance(obj, dict):
            return
        for key in obj:
            if key in standard[kind]:
                continue
            form, detail = _expand(key, prefixes)
            if form == "bare":
                add(path + (key,), "extension.not_namespaced", field=key)
            elif form == "undeclared":
                add(path + (key,), "extension.undeclared_prefix", field=key, prefix=detail)

    def vocabulary(value, path, name, prefixes, fld=None):
        """§4.1: a CBV 2.0 term, or a URI or CURIE with a declared prefix."""
        if not isinstance(value, str):
            return
        terms = vocabularies[name][1]
        if value in terms and ":" not in value:  # a standard term: nothing to report
            return
        fld = fld or path[-1]
        form, iri = _expand(value, prefixes)
        if form == "bare":
            if value not in terms:
                add(path, "vocabulary.unknown_term", field=fld, value=value, vocabulary=name,
                    suggestion=_suggest(value, terms))
        elif form == "undeclared":
            add(path, "vocabulary.undeclared_prefix", field=fld, value=value, prefix=iri)
        elif iri is None:
            return
        elif not _URI.fullmatch(iri):
            add(path, "vocabulary.not_uri", field=fld, value=value)
        elif iri.startswith(tuple(_cbv()["obsolete_namespaces"]["prefixes"])):
            add(path, "vocabulary.obsolete_uri", field=fld, value=value,
                suggestion=_suggest(re.split(r"[:/]", value)[-1].split("-")[-1], terms))
        elif iri.startswith(_cbv()["cbv_namespace"]):
            m = re.fullmatch(r"([A-Za-z]+)-(.*)", iri[len(_cbv()["cbv_namespace"]):])
            owner = cbv_prefixes.get(m[1]) if m else None
            if owner is not None and owner != name:
                add(path, "vocabulary.wrong_vocabulary", field=fld, value=value,
                    vocabulary=name, found=owner)
            elif owner is not None and m[2] not in terms:
                add(path, "vocabulary.unknown_term", field=fld, value=value, vocabulary=name,
                    suggestion=_suggest(m[2], terms))

    def identifier(value, path):
        if isinstance(value, str):
            problem = identifier_problem(value)
            if problem:
                add(path, problem[0], **problem[1])

    def each(ev, name):
        items = ev.get(name)
        return [(i, x) for i, x in enumerate(items)] if isinstance(items, list) else []

    # §4.3 the EPCIS context; prefixes declared at document and event level
    root_context = doc.get("@context")
    usable = isinstance(root_context, str | list | dict)  # else the schema reports it
    has_epcis, prefixes = _context(root_context, {}) if usable else (True, None)
    if not has_epcis:
        add(("@context",), "context.epcis_missing", url=_cbv()["epcis_context"]["urls"][0])
    if not event:
        keys(doc, (), "epcisDocument", prefixes)
        keys(doc.get("epcisHeader"), ("epcisHeader",), "epcisHeader", prefixes)
        keys(doc.get("epcisBody"), ("epcisBody",), "epcisBody", prefixes)

    for base, ev in events:
        own = prefixes
        if base and "@context" in ev:
            own = _context(ev["@context"], prefixes)[1]
        p = list(base)
        keys(ev, base, ev["type"], own)
        for name in ("bizStep", "disposition"):
            if name in ev:
                vocabulary(ev[name], (*p, name), name, own)
        persistent = ev.get("persistentDisposition")
        if "persistentDisposition" in ev and ev["type"] not in _PERSISTENT_IN_SCHEMA:
            found.extend(_schema_problems(persistent, _definition("persistentDisposition"),
                                          (*p, "persistentDisposition")))
        if isinstance(persistent, dict):
            for part in ("set", "unset"):
                for i, value in each(persistent, part):
                    vocabulary(value, (*p, "persistentDisposition", part, i), "disposition",
                               own, "persistentDisposition")
        declaration = ev.get("errorDeclaration")
        if isinstance(declaration, dict):
            keys(declaration, (*p, "errorDeclaration"), "errorDeclaration", own)
            if "reason" in declaration:
                vocabulary(declaration["reason"], (*p, "errorDeclaration", "reason"),
                           "errorReason", own)
        for name, key, vocab in (("bizTransactionList", "bizTransaction", "bizTransactionType"),
                                 ("sourceList", "source", "sourceDestType"),
                                 ("destinationList", "destination", "sourceDestType")):
            for i, item in each(ev, name):
                if isinstance(item, dict):
                    if "type" in item:
                        vocabulary(item["type"], (*p, name, i, "type"), vocab, own)
                    identifier(item.get(key), (*p, name, i, key))
        for name in ("readPoint", "bizLocation"):
            if isinstance(ev.get(name), dict):
                keys(ev[name], (*p, name), "location", own)
                identifier(ev[name].get("id"), (*p, name, "id"))
        keys(ev.get("ilmd"), (*p, "ilmd"), "ilmd", own)
        for i, element in each(ev, "sensorElementList"):
            if not isinstance(element, dict):
                continue
            keys(element, (*p, "sensorElementList", i), "sensorElement", own)
            keys(element.get("sensorMetadata"), (*p, "sensorElementList", i, "sensorMetadata"),
                 "sensorMetadata", own)
            for j, report in each(element, "sensorReport"):
                keys(report, (*p, "sensorElementList", i, "sensorReport", j), "sensorReport", own)
        for name in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):  # §4.4
            for i, value in each(ev, name):
                identifier(value, (*p, name, i))
        for name in ("parentID", "transformationID"):
            identifier(ev.get(name), (*p, name))
        for name in ("quantityList", "childQuantityList", "inputQuantityList",
                     "outputQuantityList"):
            for i, item in each(ev, name):
                if isinstance(item, dict):
                    identifier(item.get("epcClass"), (*p, name, i, "epcClass"))
                    amount = _number(item.get("quantity"))
                    if amount is not None and amount < 0:
                        add((*p, name, i, "quantity"), "quantity.negative",
                            value=str(item["quantity"]))
        if ev["type"] == "TransformationEvent":
            found.extend(_balance(ev, p, own))
    return found


def _suggest(word: str, terms) -> str:
    """The standard term closest to a wrong one (in_transport -> in_transit)."""
    if word in terms:
        return word
    return (difflib.get_close_matches(word, sorted(terms), n=1, cutoff=0.6) or sorted(terms))[0]


def _number(value) -> Decimal | None:
    """A JSON number as an exact decimal (floats by their shortest repr); else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def _balance(ev: dict, p: list, prefixes) -> list[_Found]:
    """§4.5: per (epcClass, uom) present on both sides with every quantity given, the
    outputs may not exceed the inputs, unless the event declares a reason."""
    if "errorDeclaration" in ev:
        return []
    for key, value in ev.items():
        form, iri = _expand(key, prefixes) if isinstance(key, str) else ("bare", None)
        if form == "iri" and iri == REASON_FIELD and isinstance(value, str) and value.strip():
            return []

    def totals(name):
        result = {}
        items = ev.get(name)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict) or not isinstance(item.get("epcClass"), str):
                continue
            uom = item.get("uom") if isinstance(item.get("uom"), str) else None
            amount = _number(item.get("quantity"))
            if amount is not None and amount < 0:
                amount = None
            key = (item["epcClass"], uom)
            if key in result:
                before = result[key][0]
                result[key][0] = None if before is None or amount is None else before + amount
            else:
                result[key] = [amount, i]
        return result

    inputs, found = totals("inputQuantityList"), []
    for key, (output, index) in totals("outputQuantityList").items():
        given = inputs.get(key, [None])[0]
        if output is not None and given is not None and output > given:
            params = {"epc_class": key[0], "uom": key[1] or "-", "input": str(given),
                      "output": str(output), "reason_field": REASON_FIELD}
            found.append(_Found((*p, "outputQuantityList", index, "quantity"),
                                "quantity.unbalanced", params, rank=0))
    return found


# --- result --------------------------------------------------------------------------------

def _finish(doc, found: list[_Found]) -> list[Problem]:
    """One problem per pointer (rule before schema before anyOf guess), in document order."""
    best: dict[tuple, tuple[int, _Found]] = {}
    for seq, f in enumerate(found):
        if f.path not in best or f.rank < best[f.path][1].rank:
            best[f.path] = (seq, f)
    ordered = sorted(best.values(), key=lambda item: (_position(doc, item[1].path), item[0]))
    return [_problem(f.path, f.code, **f.params) for _, f in ordered]


def _problem(path, code: str, **params) -> Problem:
    return Problem(_pointer(path), code, {"field": _field(path), **params})


def _field(path) -> str:
    """The field a path ends in, as a reader names it: epcList[2], or "" for the document."""
    tail = ""
    for token in reversed(path):
        if isinstance(token, int):
            tail = f"[{token}]{tail}"
        else:
            return f"{token}{tail}"
    return tail


def _position(doc, path) -> list[int]:
    """Where a path is in the document, for sorting; a missing member comes after its
    siblings."""
    key, node = [], doc
    for token in path:
        if isinstance(node, dict) and token in node:
            key.append(list(node).index(token))
            node = node[token]
        elif isinstance(node, list) and isinstance(token, int) and 0 <= token < len(node):
            key.append(token)
            node = node[token]
        else:
            key.append(len(node) if isinstance(node, dict | list) else 0)
            node = None
    return key


def _pointer(path) -> str:
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in path)


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    return {str: "string", list: "array"}.get(type(value), "object")


def _show(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."
