"""The fast capture path (docs/epcis.md §6): the inserts (COPY on PostgreSQL, executemany
on SQLite) store exactly the rows the ORM's bulk_create stored, a failure or a refusal
stores nothing, repeats stay idempotent, and each shortcut of validation, hashing and
identifier checking gives the same verdict as the full check it stands in front of.

The file runs on both databases (the CI runs the suite on SQLite and on PostgreSQL), so
each database's insert path is the one under test there."""

from __future__ import annotations

import copy
import json
import re

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import strategies as st

from tests.traceability.test_capture import (
    CONTEXT,
    DRUM,
    FACTORY,
    PO,
    body,
    document,
    event,
    fingerprint,
    supply_chain,
)
from tests.traceability.test_validation import CAPTURE, names, needs_conformance, raw
from zhijian.traceability import eventhash, identifiers, services
from zhijian.traceability import validation as v
from zhijian.traceability.models import (
    Capture,
    Event,
    EventEpc,
    EventKey,
    EventSourceDest,
    EventTransaction,
)

# --- the rows -------------------------------------------------------------------------------


def bulk_create_insert(capture, new, now, org):
    """The inserts as they were before COPY/executemany: the ORM's bulk_create per table."""
    rows = Event.objects.bulk_create([
        Event(event_id=p.event_id, hash_id=p.hash_id, type=p.indexed.type,
              action=p.indexed.action, biz_step=p.indexed.biz_step,
              disposition=p.indexed.disposition, event_time=p.indexed.event_time,
              event_timezone_offset=p.indexed.event_timezone_offset, record_time=now,
              read_point=p.indexed.read_point, biz_location=p.indexed.biz_location,
              error_declaration=p.indexed.error_declaration, data=p.data, capture=capture,
              org=org)
        for p in new])
    EventKey.objects.bulk_create([
        EventKey(event_id=p.event_id, hash_id=p.hash_id, event_time=p.indexed.event_time)
        for p in new])
    EventEpc.objects.bulk_create([
        EventEpc(event_id=row.pk, role=role, epc=epc, quantity=quantity, uom=uom)
        for row, p in zip(rows, new, strict=True)
        for role, epc, quantity, uom in p.indexed.epcs])
    EventTransaction.objects.bulk_create([
        EventTransaction(event_id=row.pk, type=kind, identifier=value)
        for row, p in zip(rows, new, strict=True) for kind, value in p.indexed.transactions])
    EventSourceDest.objects.bulk_create([
        EventSourceDest(event_id=row.pk, kind=side, type=kind, identifier=value)
        for row, p in zip(rows, new, strict=True)
        for side, kind, value in p.indexed.source_dest])


def stored() -> dict:
    """Every stored row of the event tables as the database returns it, in insertion
    order, with the database's own IDs replaced by the eventID they stand for."""
    from django.db import connection

    def raw_rows(sql):  # the column values as stored, not as the ORM converts them
        with connection.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    return {
        "events": raw_rows(
            "SELECT event_id, hash_id, type, action, biz_step, disposition, event_time, "
            "event_timezone_offset, record_time = (SELECT created_at FROM "
            "traceability_capture c WHERE c.id = capture_id), read_point, biz_location, "
            "error_declaration, data, org FROM traceability_event ORDER BY id"),
        "keys": raw_rows("SELECT event_id, hash_id, event_time FROM traceability_eventkey "
                         "ORDER BY id"),
        "epcs": raw_rows("SELECT e.event_id, r.role, r.epc, r.quantity, r.uom FROM "
                         "traceability_eventepc r JOIN traceability_event e ON e.id = "
                         "r.event_id ORDER BY r.id"),
        "transactions": raw_rows(
            "SELECT e.event_id, r.type, r.identifier FROM traceability_eventtransaction r "
            "JOIN traceability_event e ON e.id = r.event_id ORDER BY r.id"),
        "source_dest": raw_rows(
            "SELECT e.event_id, r.kind, r.type, r.identifier FROM "
            "traceability_eventsourcedest r JOIN traceability_event e ON e.id = r.event_id "
            "ORDER BY r.id"),
    }


def varied() -> list[dict]:
    """Events with what the inserts must carry over unchanged: Chinese text, fractional
    and integer quantities, a quantity without unit, sub-second and negative-offset times,
    an event of its own @context, an error declaration, extension fields and ILMD."""
    return supply_chain() + [
        event("ObjectEvent", 7, 7, epcList=[DRUM.format(2001)], action="ADD",
              bizStep="commissioning", readPoint={"id": FACTORY},
              quantityList=[{"epcClass": "urn:epc:class:lgtin:6901234.012345.L7",
                             "quantity": 12.75, "uom": "KGM"},
                            {"epcClass": "urn:epc:class:lgtin:6901234.012345.L8",
                             "quantity": 3}],
              ilmd={"zj:batchNote": "铜芯聚氯乙烯绝缘电缆 BV 2.5"},
              **{"zj:remark": {"zj:inspector": "王工", "zj:temperature": -3.5}}),
        event("ObjectEvent", 8, 8, epcList=[DRUM.format(2002)], action="OBSERVE",
              bizStep="receiving", eventTime="2026-07-08T23:59:59.123456-05:30",
              eventTimeZoneOffset="-05:30", bizLocation={"id": FACTORY},
              bizTransactionList=[{"type": "desadv", "bizTransaction": PO},
                                  {"bizTransaction": "urn:zhijian:po:untyped-7"}],
              **{"@context": [{"ex": "https://example.com/ns/"}], "ex:lane": "7"}),
        event("ObjectEvent", 9, 9, epcList=[DRUM.format(2003)], action="OBSERVE",
              bizStep="inspecting",
              errorDeclaration={"declarationTime": "2026-07-10T08:00:00+08:00",
                                "reason": "incorrect_data"}),
    ]


@pytest.mark.parametrize("count", [9, 1200], ids=["varied", "more-than-a-chunk"])
def test_the_inserts_store_exactly_what_bulk_create_stored(count, enterprise_user,
                                                            monkeypatch):
    events = varied()
    for n in range(10, count + 1):  # plain shipping events, half without eventID
        extra = event("ObjectEvent", n, 1 + n % 28, epcList=[DRUM.format(10_000 + n)],
                      action="OBSERVE", bizStep="shipping", readPoint={"id": FACTORY})
        if n % 2:
            del extra["eventID"]
        events.append(extra)
    data = body(document(*events))

    with transaction.atomic():
        monkeypatch.setattr(services, "_insert", bulk_create_insert)
        before = services.capture_document(actor=enterprise_user, raw=data)
        expected = stored()
        transaction.set_rollback(True)
    monkeypatch.undo()
    assert Event.objects.count() == 0

    capture = services.capture_document(actor=enterprise_user, raw=data)
    assert stored() == expected
    assert len(expected["events"]) == count
    assert all(row[8] for row in expected["events"])  # record time = the capture's time
    assert capture.event_ids == before.event_ids
    assert (capture.stored_count, capture.duplicate_count) == (count, 0)
    # The JSON text is the event as captured, member order kept, Chinese unescaped.
    first = Event.objects.get(event_id=before.event_ids[6])
    assert first.data == json.dumps(events[6], ensure_ascii=False)
    assert "铜芯聚氯乙烯绝缘电缆" in first.data


def test_the_event_rows_are_linked_in_document_order(enterprise_user):
    events = supply_chain()
    capture = services.capture_document(actor=enterprise_user, raw=body(document(*events)))
    rows = list(Event.objects.filter(capture=capture).order_by("pk")
                .values_list("event_id", flat=True))
    assert rows == capture.event_ids
    pallet = Event.objects.get(event_id=capture.event_ids[1])
    assert sorted(pallet.epcs.values_list("role", flat=True)) == [
        "child", "child", "class_child", "parent"]


def test_a_failure_in_the_middle_of_the_inserts_leaves_nothing(enterprise_user, monkeypatch):
    """The events, keys and EPC rows are written when the transaction rows fail: the one
    transaction takes them all back."""
    written = []
    real = services._write

    def failing(cursor, model, columns, rows):
        if model is EventTransaction:
            raise RuntimeError("disk full")
        written.append(model)
        real(cursor, model, columns, rows)

    before = fingerprint()
    monkeypatch.setattr(services, "_write", failing)
    with pytest.raises(RuntimeError):
        services.capture_document(actor=enterprise_user, raw=body(document(*supply_chain())))
    assert written == [Event, EventKey, EventEpc]
    assert fingerprint() == before


def test_a_key_written_meanwhile_fails_the_insert_as_an_integrity_error(enterprise_user,
                                                                        monkeypatch):
    """A capture of the same event that commits between the repeat check and the insert
    (simulated: the check is made to miss the stored key) breaks EventKey's uniqueness;
    the COPY's error reaches the retry as Django's IntegrityError and nothing is kept."""
    data = body(document(*supply_chain()))
    services.capture_document(actor=enterprise_user, raw=data)
    before = fingerprint()
    monkeypatch.setattr(services, "_stored_keys", lambda ids, hashes: set())
    with pytest.raises(IntegrityError):
        services.capture_document(actor=enterprise_user, raw=data)
    assert fingerprint() == before


def test_a_refused_document_stores_nothing(enterprise_user):
    good = supply_chain()
    bad = copy.deepcopy(good)
    bad[3]["bizStep"] = "shipping_out"
    before = fingerprint()
    with pytest.raises(services.CaptureRefused) as refused:
        services.capture_document(actor=enterprise_user, raw=body(document(*bad)))
    assert [(p.pointer, p.code) for p in refused.value.problems] == [
        ("/epcisBody/eventList/3/bizStep", "vocabulary.unknown_term")]
    assert fingerprint() == before


def test_a_large_repeat_is_idempotent(enterprise_user):
    events = [event("ObjectEvent", n, 1 + n % 28, epcList=[DRUM.format(n)], action="OBSERVE",
                    bizStep="shipping") for n in range(1, 1101)]
    for ev in events[::2]:
        del ev["eventID"]  # known by the hash ID alone
    data = body(document(*events))
    first = services.capture_document(actor=enterprise_user, raw=data)
    rows = stored()
    again = services.capture_document(actor=enterprise_user, raw=data)
    assert (again.event_count, again.stored_count, again.duplicate_count) == (1100, 0, 1100)
    assert again.event_ids == first.event_ids
    assert stored() == rows
    assert Capture.objects.count() == 2


# --- the shortcuts give the full check's verdict ----------------------------------------------

def full_schema_errors(doc) -> int:
    return sum(1 for _ in v._validator().iter_errors(doc))


@needs_conformance
@pytest.mark.parametrize("folder", ["Documents", "Events", "Invalid"])
def test_the_fast_schema_check_passes_only_what_the_full_check_passes(folder):
    checked = 0
    for name in names(folder):
        doc = json.loads(raw(folder, name))
        # The same verdict. (A valid document the schema alone refuses, such as one of
        # the deviations of docs/epcis-validation.md §3.4, takes the full check.)
        assert v._schema_valid(doc) == (full_schema_errors(doc) == 0), name
        checked += 1
    assert checked == len(list((CAPTURE / folder).glob("*.json")))


def test_the_fast_schema_check_defers_what_it_cannot_read():
    doc = json.loads(body(document(*supply_chain())))
    assert v._schema_valid(doc)
    doc["schemaVersion"] = "\ud800"  # a lone surrogate, which jsonschema-rs cannot take
    assert v._schema_valid(doc) is False
    broken = json.loads(body(document(*supply_chain())))
    broken["epcisBody"]["eventList"][2]["readPoint"]["id"] = "not a uri"
    assert v._schema_valid(broken) is False and full_schema_errors(broken) == 1


def rs_pattern(pattern):
    import jsonschema_rs

    return jsonschema_rs.Draft7Validator({"type": "string", "pattern": pattern}).is_valid


URI_ALPHABET = "aZ09:/%#?[]@!$&'()*+,;=-._~ \n\"<>{}|\\^`éF٣"


@given(st.text(alphabet=URI_ALPHABET, max_size=16),
       st.sampled_from(["", "urn:", "https://", "a:", "x+y.z-w:", "1a:"]))
def test_the_uri_pattern_accepts_only_uris(text, scheme):
    value = scheme + text
    if rs_pattern(v._URI_PATTERN)(value):
        assert v._is_uri(value)
    if v._is_uri(value) and value.isascii():
        assert rs_pattern(v._URI_PATTERN)(value)


@given(st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25),
       st.integers(0, 61), st.integers(0, 61), st.sampled_from(["", ".5", ".123456789"]),
       st.sampled_from(["Z", "z", "+08:00", "-23:59", "+24:00", "+08:60", "", "+0800"]),
       st.sampled_from(["T", "t", " "]))
def test_the_date_time_pattern_is_the_date_time_check(year, month, day, hour, minute,
                                                      second, fraction, zone, sep):
    value = (f"{year:04d}-{month:02d}-{day:02d}{sep}{hour:02d}:{minute:02d}:{second:02d}"
             f"{fraction}{zone}")
    assert rs_pattern(v._DATE_TIME_PATTERN)(value) == v._is_date_time(value)


def test_the_date_time_pattern_is_stricter_only_about_digits():
    assert v._is_date_time("٢٠٢٦-07-01T08:00:00Z")  # Arabic-Indic digits: Python's \d
    assert not rs_pattern(v._DATE_TIME_PATTERN)("٢٠٢٦-07-01T08:00:00Z")
    for leap in ("2000-02-29", "2024-02-29", "1600-02-29", "0000-02-29"):
        assert rs_pattern(v._DATE_TIME_PATTERN)(f"{leap}T00:00:00Z")
    for common in ("1900-02-29", "2026-02-29", "2100-02-29", "2026-04-31"):
        assert not rs_pattern(v._DATE_TIME_PATTERN)(f"{common}T00:00:00Z")


JSON_TEXT = st.text(alphabet='ab[]{}"\\,:', max_size=6)
JSON_VALUES = st.recursive(
    st.none() | st.integers(-3, 3) | JSON_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(JSON_TEXT, inner, max_size=3),
    max_leaves=30)


def nest(value, depth: int):
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@given(JSON_VALUES, st.integers(0, 110))
def test_the_depth_shortcut_never_hides_a_too_deep_document(value, depth):
    doc = nest(value, depth)
    text = json.dumps(doc, ensure_ascii=bool(depth % 3)).encode()
    parsed, problem, suspicious = v._parse(text)
    assert problem is None and not suspicious
    too_deep = any(f.code == "json.too_deep" for f in v._scan(parsed))
    if not v._may_be_too_deep(text):
        assert not too_deep


def test_the_depth_shortcut_at_the_limit():
    assert not v._may_be_too_deep(json.dumps(nest(1, v.MAX_DEPTH)).encode())
    assert v._may_be_too_deep(json.dumps(nest(1, v.MAX_DEPTH + 1)).encode())
    assert [p.code for p in v.validate_document(json.dumps(
        nest({"type": "EPCISDocument"}, v.MAX_DEPTH)).encode()).errors] == ["json.too_deep"]
    # brackets inside strings, with and without escapes, are not nesting
    shallow = {"@context": "[[[[" * 60, "note": '\\"]]]' + "{" * 300}
    assert not v._may_be_too_deep(json.dumps(shallow).encode())


def test_repeated_names_and_non_numbers_are_still_found():
    result = v.validate_document(b'{"type": "EPCISDocument", "type": "EPCISDocument", '
                                 b'"schemaVersion": NaN}')
    assert [(p.pointer, p.code) for p in result.errors] == [
        ("/type", "json.duplicate_key"), ("/schemaVersion", "json.non_finite_number")]


def slow_epc_problem(value):
    saved = identifiers._FAST
    identifiers._FAST = {}
    try:
        return identifiers.epc_urn_problem(value)
    finally:
        identifiers._FAST = saved


EPC_PART = st.text(alphabet="0123456789.*%2Fa-Z!\n٣", max_size=14)


@given(st.sampled_from(["id", "class", "idpat"]),
       st.sampled_from(sorted({*identifiers._EPC, "lgtin", "usdod"})), EPC_PART, EPC_PART,
       EPC_PART)
def test_the_fast_epc_check_agrees_with_the_full_one(form, scheme, a, b, c):
    for value in (f"urn:epc:{form}:{scheme}:{a}.{b}.{c}", f"urn:epc:{form}:{scheme}:{a}{b}",
                  f"urn:epc:{form}:{scheme}:{a}.{b}"):
        assert identifiers.epc_urn_problem(value) == slow_epc_problem(value)


@pytest.mark.parametrize("value", [
    "urn:epc:id:sgtin:6901234.012345.1001", "urn:epc:id:sgtin:6901234.12345.1001",
    "urn:epc:class:lgtin:6901234.012345.L2026A", "urn:epc:id:sscc:6901234.0000000001",
    "urn:epc:id:sgln:6901234.00001.0", "urn:epc:id:pgln:6901234.00000",
    "urn:epc:id:gdti:6909876.00001.PO2026", "urn:epc:id:itip:6901234.012345.01.02.X",
    "urn:epc:id:gid:95100000.12345.400", "urn:epc:id:sgtin:6901234.012345.10%2F01",
    "urn:epc:id:sgtin:6901234.012345.1001\n", "urn:epc:id:sgtin:6901234.012345.",
])
def test_the_fast_epc_check_on_examples(value):
    assert identifiers.epc_urn_problem(value) == slow_epc_problem(value)


def test_canonical_forms_are_remembered_per_namespace():
    eventhash._CANONICAL.clear()
    mine = {**eventhash.STANDARD_PREFIXES, "ex": "https://example.com/a/"}
    theirs = {**eventhash.STANDARD_PREFIXES, "ex": "https://example.org/b/"}
    assert eventhash.canonical_uri("ex:thing", mine) == "https://example.com/a/thing"
    assert eventhash.canonical_uri("ex:thing", theirs) == "https://example.org/b/thing"
    assert eventhash.canonical_uri("ex:thing") == "ex:thing"  # undeclared: as it is
    assert eventhash.canonical_uri("ex", mine) == "ex"  # no colon: not a CURIE
    assert eventhash.canonical_uri("ex://host/x", mine) == "ex://host/x"
    assert eventhash.canonical_uri("urn:epc:id:sgtin:6901234.012345.1001", mine) == (
        "https://id.gs1.org/01/06901234123456/21/1001")
    eventhash._CANONICAL.clear()
    assert eventhash.canonical_uri("ex:thing", theirs) == "https://example.org/b/thing"


def test_the_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(eventhash, "_CANONICAL_MAX", 10)
    eventhash._CANONICAL.clear()
    for n in range(25):
        assert eventhash.canonical_uri(f"urn:epc:id:sgtin:6901234.012345.{n}").endswith(
            f"/21/{n}")
        assert len(eventhash._CANONICAL) <= 10


@given(st.text(alphabet="0123456789", min_size=0, max_size=18))
def test_the_check_digit_is_the_weighted_sum(digits):
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    assert eventhash.check_digit(digits) == str(-total % 10)


@given(st.text(max_size=8))
def test_digital_link_values_are_escaped_as_before(value):
    from urllib.parse import quote

    assert eventhash._dl([("21", value)]) == f"https://id.gs1.org/21/{quote(value, safe=eventhash._DL_SAFE)}"


def test_prehash_with_the_prefixes_given_is_prehash_without():
    doc = json.loads(body(document(*varied(), context=CONTEXT + [{"ex": "urn:x:"}])))
    events, context, ignore = eventhash.document_events(doc)
    prefixes = eventhash.context_prefixes(context)
    snapshot = dict(prefixes)
    for ev in events:
        assert eventhash.prehash(ev, context, ignore=ignore, prefixes=prefixes) == \
            eventhash.prehash(ev, context, ignore=ignore)
    assert prefixes == snapshot  # left unchanged
    assert re.fullmatch(r"ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0",
                        eventhash.hash_id(eventhash.prehash(events[0], context)))


class Wrapped(dict):
    """A dict the fast paths of eventhash.py do not take (they test for exactly dict): the
    general code hashes it."""


def wrapped(value):
    if isinstance(value, dict):
        return Wrapped({k: wrapped(x) for k, x in value.items()})
    if isinstance(value, list):
        return [wrapped(x) for x in value]
    return value


SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                   st.floats(allow_nan=False, allow_infinity=False),
                   st.sampled_from(["", " ", "po", "urn:epc:id:sgln:6901234.00001.0",
                                    "cbv:SDT-location", "zj:x", "https://example.com/a",
                                    "12.50", "urn:epcglobal:cbv:btt:desadv", "中文"]))
ELEMENT_KEYS = ["type", "bizTransaction", "source", "destination", "id", "epcClass",
                "quantity", "uom", "zj:extra", "@context"]


@given(st.dictionaries(st.sampled_from(ELEMENT_KEYS),
                       SCALAR | st.just({"@value": "3"}) | st.just(["a"]), max_size=4),
       st.sampled_from(["bizTransactionList", "sourceList", "destinationList",
                        "quantityList", "inputQuantityList", "readPoint", "bizLocation"]))
def test_the_fast_paths_hash_as_the_general_code(element, field):
    if element.get("@context") is not None:
        element["@context"] = {"zj": "https://zhijian.example.cn/other/"}
    value = element if field in ("readPoint", "bizLocation") else [element, element]
    ev = {"type": "ObjectEvent", "eventTime": "2026-07-01T08:00:00+08:00",
          "action": "OBSERVE", field: value}

    def outcome(event):
        try:
            return eventhash.prehash(event, CONTEXT)
        except eventhash.EventHashError as exc:
            return f"error: {exc}"

    assert outcome(ev) == outcome(wrapped(ev))
