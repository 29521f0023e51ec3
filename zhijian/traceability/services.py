"""Writes of the EPCIS event store: capture of documents and single events (docs/epcis.md).

A capture validates the whole payload (validation.py: every problem, each with a JSON
pointer), computes every event's CBV 2.0 event hash ID (eventhash.py) and index columns
(indexing.py), sorts out repeats, then stores everything in ONE transaction with one write
per table (COPY on PostgreSQL, executemany elsewhere; docs/epcis.md §4.4): all the events
or none. A repeated event (same eventID, or the same hash ID without an eventID) is
idempotent: counted as a duplicate, nothing changes. The capture is audited once (with the
SHA-256 of the document and a digest of its hash IDs, not one entry per event) and
announced as the domain event "epcis.captured".
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhijian.core import audit, events

from . import access
from .choices import CaptureKind, CaptureStatus
from .eventhash import EventHashError, context_prefixes, document_events, hash_id, prehash
from .indexing import IDENTIFIER_MAX, Indexed, index_event
from .models import Capture, Event, EventEpc, EventKey, EventSourceDest, EventTransaction
from .validation import DEFAULT_MAX_BYTES, Problem, validate_document, validate_event

log = logging.getLogger(__name__)

#: Every problem code a capture can be refused with (those of validation.py and the
#: store's own), as translatable messages with %-style named parameters. The English
#: text of a validation code is the same as validation.MESSAGES (a test keeps it so).
MESSAGES = {
    "size.too_large": _("The document is %(size)s bytes; the limit is %(limit)s bytes. Split the "
                        "events over several smaller documents."),
    "json.not_utf8": _("The document is not valid UTF-8 (line %(line)s, column %(column)s). Save "
                       "it as UTF-8 and send it again."),
    "json.malformed": _("The document is not valid JSON: %(detail)s at line %(line)s, column "
                        "%(column)s. Correct the syntax there."),
    "json.non_finite_number": _("%(field)s is %(value)s, which is not a JSON number. Write a "
                                "finite number."),
    "json.duplicate_key": _("The field %(field)s appears more than once in the same object. Keep "
                            "only one."),
    "json.too_deep": _("The document nests objects and arrays more than %(limit)s levels deep. "
                       "Flatten the extension data."),
    "json.not_object": _("The document is %(found)s; it must be a JSON object."),
    "document.wrong_type": _("type is %(value)s; a capture document must have type "
                             "EPCISDocument."),
    "event.unknown_type": _("type is %(value)s; an event must have one of the types %(allowed)s."),
    "schema.required": _("The field %(field)s is missing. Add it."),
    "schema.required_one_of": _("One of these fields is required here: %(fields)s. Add one."),
    "schema.unknown_field": _("%(field)s is not a field of this object. Remove it, or for an "
                              "extension write it as prefix:%(field)s with the prefix declared "
                              "in @context."),
    "schema.not_allowed": _("The field %(field)s is not allowed here (ilmd, for example, only "
                            "with action ADD). Remove it or change the event."),
    "schema.type": _("%(field)s is %(found)s; it must be %(expected)s. Correct the value."),
    "schema.enum": _("%(field)s is %(value)s, which is not allowed. Use one of: %(allowed)s."),
    "schema.date_time": _("%(field)s is %(value)s, which is not a date-time. Write it as in RFC "
                          "3339 with a time zone, for example 2026-07-22T06:45:00+08:00."),
    "schema.uri": _("%(field)s is %(value)s, which is not an absolute URI. Write a URI with a "
                    "scheme (urn:…, https://…) or a prefix:name declared in @context."),
    "schema.pattern": _("%(field)s is %(value)s, which does not have the required form "
                        "%(pattern)s. Correct it."),
    "schema.min_items": _("%(field)s needs at least %(minimum)s item(s). Add them or leave the "
                          "field out."),
    "schema.unique_items": _("%(field)s contains the same value twice. Remove the duplicate."),
    "schema.no_alternative": _("%(field)s is %(value)s, which matches none of the forms EPCIS "
                               "2.0 allows for this field. Correct it."),
    "schema.invalid": _("%(field)s breaks the EPCIS 2.0 JSON schema (%(detail)s). Correct it."),
    "context.epcis_missing": _("@context does not name the EPCIS 2.0 context. Add %(url)s to "
                               "@context."),
    "vocabulary.unknown_term": _("%(field)s is %(value)s, which is not a CBV 2.0 %(vocabulary)s "
                                 "term. Use a standard term such as %(suggestion)s, or a URI or "
                                 "prefix:name whose prefix is declared in @context."),
    "vocabulary.wrong_vocabulary": _("%(field)s is %(value)s, a CBV %(found)s term. Use a "
                                     "%(vocabulary)s term here."),
    "vocabulary.undeclared_prefix": _("%(field)s is %(value)s, but the prefix %(prefix)s is not "
                                      "declared in @context. Declare it there or write the full "
                                      "URI."),
    "vocabulary.not_uri": _("%(field)s is %(value)s, which is not a valid URI once its prefix is "
                            "expanded. Correct it."),
    "vocabulary.obsolete_uri": _("%(field)s is %(value)s, which uses a CBV 1.x namespace. Write "
                                 "the CBV 2.0 term instead, such as %(suggestion)s."),
    "extension.not_namespaced": _("%(field)s is not a standard field, so it must be a namespaced "
                                  "extension. Write it as prefix:%(field)s with the prefix "
                                  "declared in @context, or as a full URI."),
    "extension.undeclared_prefix": _("The prefix %(prefix)s of the extension field %(field)s is "
                                     "not declared in @context. Declare it there or write the "
                                     "full URI."),
    "identifier.epc_scheme": _("%(field)s is %(value)s, which is not a known EPC pure-identity "
                               "URN (%(scheme)s). Use urn:epc:id:…, urn:epc:idpat:… or "
                               "urn:epc:class:lgtin:… as in the GS1 Tag Data Standard."),
    "identifier.epc_syntax": _("%(field)s is %(value)s, which is not a well-formed EPC URN. "
                               "Write it as %(syntax)s."),
    "identifier.epc_digits": _("%(field)s is %(value)s: its company prefix and the reference "
                               "after it must have %(digits)s digits together (%(syntax)s). "
                               "Correct them."),
    "identifier.dl_missing_value": _("%(field)s is the GS1 Digital Link %(value)s, which has no "
                                     "value after AI %(ai)s. Add the value or remove the AI."),
    "identifier.dl_value": _("%(field)s is the GS1 Digital Link %(value)s, whose %(key)s (AI "
                             "%(ai)s) must have the format %(format)s. Correct it."),
    "identifier.dl_qualifier": _("%(field)s is the GS1 Digital Link %(value)s, where AI %(ai)s "
                                 "cannot follow AI %(primary)s; allowed after it, in this order: "
                                 "%(allowed)s."),
    "identifier.check_digit": _("%(field)s is %(value)s: the check digit of the %(key)s "
                                "%(number)s is %(found)s but should be %(expected)s. Check the "
                                "number."),
    "quantity.negative": _("%(field)s is %(value)s; a quantity cannot be negative."),
    "quantity.unbalanced": _("The outputs of %(epc_class)s (unit %(uom)s) total %(output)s, more "
                             "than the inputs of the same class and unit (%(input)s). Correct "
                             "the quantities, or declare the reason in the extension field "
                             "%(reason_field)s."),
    # the store's own refusals (docs/epcis.md §7)
    "identifier.too_long": _("%(field)s is %(length)s characters long; the store indexes "
                             "identifiers of at most %(limit)s characters. Use a shorter "
                             "identifier."),
    "event.unhashable": _("The event hash ID of this event cannot be computed (%(detail)s). "
                          "Correct the event."),
    "event.id_conflict": _("eventID %(value)s is already the ID of another event with "
                           "different content (hash ID %(stored)s). Give this event its own "
                           "eventID; to correct a captured event, capture it again with an "
                           "errorDeclaration and capture the corrective event."),
    "event.same_content": _("This event has the same content (hash ID %(hash)s) as the "
                            "event %(stored)s. Send it with eventID %(stored)s, or leave it "
                            "out."),
    "event.already_declared": _("The event %(value)s already has a different error "
                                "declaration. Capture a corrective event instead."),
}


def message(problem: Problem) -> str:
    """A problem's message in the active language."""
    template = MESSAGES.get(problem.code)
    if template is None:  # a code added to validation.py but not here yet
        return problem.message
    return str(template) % problem.message_params


class CaptureRefused(Exception):
    """A capture refused before anything was stored: every problem found, each with the
    JSON pointer of the field at fault. ``too_large`` when the payload is over the size
    limit (HTTP 413)."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"{p.pointer}: {p.code}" for p in problems))
        self.problems = problems

    @property
    def too_large(self) -> bool:
        return any(p.code == "size.too_large" for p in self.problems)


def max_bytes() -> int:
    """The size limit of a capture payload (setting ZHIJIAN_EPCIS_MAX_BYTES, 20 MiB)."""
    return int(getattr(settings, "ZHIJIAN_EPCIS_MAX_BYTES", DEFAULT_MAX_BYTES))


def pointer(path) -> str:
    """RFC 6901 JSON pointer of a path of member names and list indexes."""
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in path)


def problem(path, code: str, **params) -> Problem:
    """A Problem at ``path``, with the parameter ``field`` named as validation.py names it
    (the last member name with the list indexes after it: ``epcList[2]``)."""
    tail = ""
    for token in reversed(path):
        if isinstance(token, int):
            tail = f"[{token}]{tail}"
        else:
            tail = f"{token}{tail}"
            break
    return Problem(pointer(path), code, {"field": tail, **params})


# --- capture ------------------------------------------------------------------------------

def capture_document(*, actor, raw: bytes) -> Capture:
    """Capture an EPCISDocument (POST /epcis/capture): all its events or none."""
    scope = access.capturer(actor)
    with _collector_paused():
        result = validate_document(raw, max_bytes=max_bytes())
        if not result.ok:
            raise CaptureRefused(result.errors)
        events_, context, ignore = document_events(result.document)
        prepared = _prepare(events_, context, ignore, lambda i: ("epcisBody", "eventList", i))
        return _capture(actor, scope, raw, prepared, CaptureKind.DOCUMENT, context, ignore)


def capture_event(*, actor, raw: bytes) -> Capture:
    """Capture one event sent on its own with its own @context (POST /epcis/events)."""
    scope = access.capturer(actor)
    result = validate_event(raw, max_bytes=max_bytes())
    if not result.ok:
        raise CaptureRefused(result.errors)
    prepared = _prepare([result.document], None, frozenset(), lambda i: ())
    return _capture(actor, scope, raw, prepared, CaptureKind.EVENT, None, frozenset())


@contextmanager
def _collector_paused():
    """A document of 1,000 events parses into some 60,000 objects that live until the
    capture ends and that reference counting frees; the cyclic garbage collector finds
    nothing among them (JSON has no cycles) but, triggered by their number, traverses
    every live object of the process again and again. It is paused for one capture and
    resumed after, if it was running (as zhijian.reports.services does for verification)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass
class _Prepared:
    """One event of the payload, ready to store."""

    path: tuple
    event: dict
    event_id: str
    explicit_id: bool
    hash_id: str
    indexed: Indexed
    data: str = ""
    declares: bool = False  # an error declaration to attach to a stored event

    @property
    def declaration(self):
        return self.indexed.error_declaration


#: json.dumps(event, ensure_ascii=False), with the encoder made once
_dumps = json.JSONEncoder(ensure_ascii=False).encode


def _prepare(items: list, context, ignore, base) -> list[_Prepared]:
    """Hash and index every event; refuse with every problem found."""
    problems: list[Problem] = []
    prepared = []
    prefixes = context_prefixes(context)  # the document's, once for all its events
    for i, ev in enumerate(items):
        path = base(i)
        try:
            digest = hash_id(prehash(ev, context, ignore=ignore, prefixes=prefixes))
        except EventHashError as exc:
            problems.append(problem(path, "event.unhashable", detail=str(exc)))
            continue
        given = ev.get("eventID")
        explicit = isinstance(given, str) and bool(given.strip())
        event_id = given if explicit else digest
        if len(event_id) > IDENTIFIER_MAX:
            problems.append(problem(path + ("eventID",), "identifier.too_long",
                                    length=len(event_id), limit=IDENTIFIER_MAX))
        indexed = index_event(ev, context, prefixes=prefixes)
        problems.extend(problem(path + sub, code, **params)
                        for sub, code, params in indexed.problems)
        prepared.append(_Prepared(path, ev, event_id, explicit, digest, indexed,
                                  data=_dumps(ev)))
    if problems:
        raise CaptureRefused(problems)
    return prepared


@dataclass
class _Known:
    """An event already stored, or met earlier in the same payload."""

    event_id: str
    hash_id: str
    declaration: dict | None
    stored: Event | None = None
    pending: _Prepared | None = None


@dataclass
class _Plan:
    new: list[_Prepared] = field(default_factory=list)
    declared: list[Event] = field(default_factory=list)
    duplicates: int = 0
    event_ids: list[str] = field(default_factory=list)  # per payload event, as stored


#: Values per IN (...) list: under SQLite's 999 parameters.
CHUNK = 900


def _plan(prepared: list[_Prepared]) -> _Plan:
    """Sort the payload's events into new ones, duplicates and error declarations for
    events already stored (docs/epcis.md §7); refuse conflicts, pointing at eventID."""
    ids = {p.event_id for p in prepared}
    hashes = {p.hash_id for p in prepared}
    by_id: dict[str, _Known] = {}
    by_hash: dict[str, _Known] = {}
    keys = _stored_keys(ids, hashes)
    if keys:  # repeats: rare, and the only time stored events are read
        wanted = sorted({event_id for event_id, _hash in keys})
        for chunk in _chunks(wanted, CHUNK):
            for stored in Event.objects.filter(event_id__in=chunk).only(
                    "pk", "event_id", "hash_id", "error_declaration"):
                known = _Known(stored.event_id, stored.hash_id, stored.error_declaration,
                               stored=stored)
                by_id[known.event_id] = by_hash[known.hash_id] = known

    plan, problems = _Plan(), []
    for p in prepared:
        known = by_id.get(p.event_id)
        if known is None:
            known = by_hash.get(p.hash_id)
            if known is not None and p.explicit_id:
                problems.append(problem(p.path + ("eventID",), "event.same_content",
                                        hash=p.hash_id, stored=known.event_id))
                continue
        if known is None:
            known = _Known(p.event_id, p.hash_id, p.declaration, pending=p)
            by_id[p.event_id] = by_hash[p.hash_id] = known
            plan.new.append(p)
            plan.event_ids.append(p.event_id)
            continue
        plan.event_ids.append(known.event_id)
        if known.hash_id != p.hash_id:
            problems.append(problem(p.path + ("eventID",), "event.id_conflict",
                                    value=p.event_id, stored=known.hash_id))
        elif p.declaration is None or p.declaration == known.declaration:
            plan.duplicates += 1
        elif known.declaration is not None:
            problems.append(problem(p.path + ("errorDeclaration",), "event.already_declared",
                                    value=known.event_id))
        elif known.pending is not None:  # the original earlier in this payload
            known.pending.data, known.pending.indexed.error_declaration = (
                _declared(known.pending.data, p.declaration), p.declaration)
            known.declaration = p.declaration
            plan.duplicates += 1
        else:
            stored = known.stored
            stored.error_declaration = known.declaration = p.declaration
            plan.declared.append(stored)
    if problems:
        raise CaptureRefused(problems)
    return plan


def _stored_keys(ids: set[str], hashes: set[str]) -> set[tuple[str, str]]:
    """(eventID, hash ID) of the stored events with one of these eventIDs or hash IDs: one
    index lookup per column, the values sent as one array (PostgreSQL) or one JSON text
    (SQLite) rather than as one parameter each."""
    table = connection.ops.quote_name(EventKey._meta.db_table)
    if connection.vendor == "postgresql":
        wanted = "= ANY(%s)"
    elif connection.vendor == "sqlite":
        wanted = "IN (SELECT value FROM json_each(%s))"
    else:  # another database: Django's IN lists, CHUNK values each
        keys = set()
        for column, values in (("event_id", ids), ("hash_id", hashes)):
            for chunk in _chunks(sorted(values), CHUNK):
                keys |= set(EventKey.objects.filter(**{f"{column}__in": chunk})
                            .values_list("event_id", "hash_id"))
        return keys
    keys = set()
    with connection.cursor() as cursor:
        for column, values in (("event_id", ids), ("hash_id", hashes)):
            values = sorted(values)
            cursor.execute(f"SELECT event_id, hash_id FROM {table} "  # noqa: S608
                           f"WHERE {column} {wanted}",
                           [values if connection.vendor == "postgresql" else json.dumps(values)])
            keys.update(cursor.fetchall())
    return keys


def _declared(data: str, declaration: dict) -> str:
    """An event's JSON with an error declaration added (or replacing one)."""
    event = json.loads(data)
    event["errorDeclaration"] = declaration
    return json.dumps(event, ensure_ascii=False)


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _capture(actor, scope, raw: bytes, prepared, kind, context, ignore) -> Capture:
    # A concurrent capture of the same event can slip in between the check and the
    # insert; EventKey's unique constraints then fail this transaction, and the second
    # attempt sees that event as a duplicate (or refuses it as a conflict).
    for attempt in (1, 2):
        try:
            return _store(actor, scope, raw, prepared, kind, context, ignore)
        except IntegrityError:
            if attempt == 2:
                raise
            log.info("epcis: capture raced with another on the same event; retrying")
    raise AssertionError("unreachable")


@transaction.atomic
def _store(actor, scope, raw: bytes, prepared: list[_Prepared], kind, context,
           ignore) -> Capture:
    plan = _plan(prepared)
    now = timezone.now()
    org = access.org_key(scope)
    digest = hashlib.sha256("".join(p.hash_id + "\n" for p in prepared).encode()).hexdigest()
    capture = Capture.objects.create(
        kind=kind, status=CaptureStatus.SUCCEEDED, submitted_by=actor,
        entity_id=scope.org_id if scope.role == "enterprise" else None,
        lab_id=scope.org_id if scope.role == "lab" else None,
        user_unit_id=scope.org_id if scope.role == "user_unit" else None,
        org=org, document_sha256=hashlib.sha256(raw).hexdigest(), size=len(raw),
        event_count=len(prepared), stored_count=len(plan.new),
        duplicate_count=plan.duplicates, declared_count=len(plan.declared),
        hashes_digest=digest, context=context, ignore_fields=sorted(ignore),
        created_at=now, finished_at=now,
    )
    if plan.new:
        _insert(capture, plan.new, now, org)
    for stored in plan.declared:  # rare: error declarations for events stored before
        stored.data = _declared(Event.objects.values_list("data", flat=True).get(pk=stored.pk),
                                stored.error_declaration)
    if plan.declared:
        Event.objects.bulk_update(plan.declared, ["error_declaration", "data"])
    audit.record(capture, action="epcis.captured", actor=actor, before=None,
                 division=_division(actor, scope))
    events.publish("epcis.captured", aggregate=capture, payload={
        "capture": capture.pk, "events": len(plan.new), "by": actor.pk})
    #: The eventID under which each event of the payload is stored (that of the event
    #: stored before, for a repeat); not a column: for the caller only.
    capture.event_ids = plan.event_ids
    return capture


#: The columns each capture writes, per table, in the order of the rows built below.
EVENT_COLUMNS = ("event_id", "hash_id", "type", "action", "biz_step", "disposition", "event_time",
                 "event_timezone_offset", "record_time", "read_point", "biz_location",
                 "error_declaration", "data", "capture_id", "org")
KEY_COLUMNS = ("event_id", "hash_id", "event_time")
EPC_COLUMNS = ("event_id", "role", "epc", "quantity", "uom")
TRANSACTION_COLUMNS = ("event_id", "type", "identifier")
SOURCE_DEST_COLUMNS = ("event_id", "kind", "type", "identifier")


def _insert(capture: Capture, new: list[_Prepared], now, org: str) -> None:
    """Write the new events and their key and index rows: on PostgreSQL one COPY per table,
    elsewhere one executemany per table (the rows a bulk_create would write, without its
    per-object work). The event IDs the database assigns are read back in insertion order,
    which is the payload's order, to link the index rows."""
    timestamp = connection.ops.adapt_datetimefield_value  # as the ORM sends a DateTimeField
    recorded = timestamp(now)
    times = [timestamp(p.indexed.event_time) for p in new]
    with connection.cursor() as cursor, connection.wrap_database_errors:
        _write(cursor, Event, EVENT_COLUMNS, [
            (p.event_id, p.hash_id, x.type, x.action, x.biz_step, x.disposition, time,
             x.event_timezone_offset, recorded, x.read_point, x.biz_location,
             None if x.error_declaration is None else json.dumps(x.error_declaration),
             p.data, capture.pk, org)
            for p, time in zip(new, times, strict=True) for x in (p.indexed,)])
        _write(cursor, EventKey, KEY_COLUMNS, [
            (p.event_id, p.hash_id, time) for p, time in zip(new, times, strict=True)])
        table = connection.ops.quote_name(Event._meta.db_table)
        cursor.execute(f"SELECT id FROM {table} WHERE capture_id = %s ORDER BY id",  # noqa: S608
                       [capture.pk])
        pks = [pk for (pk,) in cursor.fetchall()]
        if len(pks) != len(new):  # cannot happen: the rows were written just now
            raise AssertionError(f"capture {capture.pk}: {len(pks)} event rows, {len(new)} sent")
        _write(cursor, EventEpc, EPC_COLUMNS, [
            (pk, *row) for pk, p in zip(pks, new, strict=True) for row in p.indexed.epcs])
        _write(cursor, EventTransaction, TRANSACTION_COLUMNS, [
            (pk, *row) for pk, p in zip(pks, new, strict=True)
            for row in p.indexed.transactions])
        _write(cursor, EventSourceDest, SOURCE_DEST_COLUMNS, [
            (pk, *row) for pk, p in zip(pks, new, strict=True) for row in p.indexed.source_dest])


def _write(cursor, model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name  # table and column names of the models, not input
    table = f"{quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)})"
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        values = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} VALUES ({values})", rows)  # noqa: S608


def _division(actor, scope) -> str:
    organisation = {"enterprise": "entity", "lab": "lab", "user_unit": "user_unit"}.get(
        scope.role)
    return getattr(getattr(actor, organisation), "division_id", "") if organisation else ""


# --- integrity ------------------------------------------------------------------------------

@dataclass
class VerifyResult:
    """The outcome of events_verify: every stored event's hash ID recomputed from its
    stored JSON, and the key table checked against the event table."""

    checked: int = 0
    mismatches: list[tuple[str, str, str]] = field(default_factory=list)  # id, stored, now
    missing_keys: int = 0  # events whose eventID and hash ID are not in EventKey
    orphan_keys: int = 0  # keys without their event

    @property
    def ok(self) -> bool:
        return not (self.mismatches or self.missing_keys or self.orphan_keys)


def events_verify(*, chunk_size: int = 2000) -> VerifyResult:
    """Recompute the CBV 2.0 hash ID of every stored event from its stored JSON (with its
    capture's @context and ignored fields) and report each mismatch."""
    result = VerifyResult()
    contexts = {pk: (context, frozenset(ignore)) for pk, context, ignore in
                Capture.objects.values_list("pk", "context", "ignore_fields")}
    rows = Event.objects.order_by("pk").values_list("event_id", "hash_id", "data",
                                                    "capture_id")
    for event_id, stored, data, capture_id in rows.iterator(chunk_size=chunk_size):
        result.checked += 1
        context, ignore = contexts[capture_id]
        try:
            now = hash_id(prehash(json.loads(data), context, ignore=ignore))
        except (ValueError, EventHashError) as exc:
            now = f"unreadable: {exc}"
        if now != stored:
            result.mismatches.append((event_id, stored, now))
    keys = EventKey.objects.all()
    result.missing_keys = Event.objects.exclude(
        event_id__in=keys.values("event_id")).count() + Event.objects.exclude(
        hash_id__in=keys.values("hash_id")).count()
    result.orphan_keys = keys.exclude(event_id__in=Event.objects.values("event_id")).count()
    return result
