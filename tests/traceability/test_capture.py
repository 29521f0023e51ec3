"""EPCIS capture through the services (docs/epcis.md): the stored hash IDs are the CBV 2.0
hash IDs of the document, a document is stored whole or not at all, a repeat is idempotent,
a conflicting repeat is refused at its eventID, error declarations attach to the stored
event, one audit entry and one domain event per capture, and the integrity check finds a
tampered event. Also the index columns (indexing.py) of each event type.

The builders at the top (a cable plant, its drums and the metro depot they go to) are
shared with test_query.py and test_epcis_api.py."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.utils import translation

from tests.traceability.test_validation import names, raw
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.traceability import indexing, services
from zhijian.traceability import validation as v
from zhijian.traceability.eventhash import document_hashes, epc_to_digital_link, event_hash_id
from zhijian.traceability.models import (
    Capture,
    Event,
    EventEpc,
    EventKey,
    EventSourceDest,
    EventTransaction,
)

# --- shared builders -----------------------------------------------------------------------

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
CONTEXT = [EPCIS_CONTEXT, {"zj": "https://zhijian.example.cn/epcis/"}]
DRUM = "urn:epc:id:sgtin:6901234.012345.{}"  # cable drums of one GTIN, by serial
PALLET = "urn:epc:id:sscc:6901234.0000000001"
FACTORY = "urn:epc:id:sgln:6901234.00001.0"
DOCK = "urn:epc:id:sgln:6901234.00001.7"
DEPOT = "urn:epc:id:sgln:6909876.00002.0"
CABLE_BATCH = "urn:epc:class:lgtin:6901234.012345.L2026A"
COPPER_BATCH = "urn:epc:class:lgtin:6905555.000321.CU77"
LINE_SEGMENT = "urn:epc:id:giai:6909876.L2-S07"
PO = "urn:epc:id:gdti:6909876.00001.PO2026"


def dl(epc: str) -> str:
    """The GS1 Digital Link of an EPC URN (the same object, written the other way)."""
    return epc_to_digital_link(epc)


def event(kind: str, n: int, day: int, **fields) -> dict:
    """An event of type `kind` with eventID urn:uuid:…-<n>, at 08:00 Beijing time on
    2026-07-<day>."""
    base = {"type": kind, "eventID": f"urn:uuid:6f1c0e2a-0000-4000-8000-{n:012d}",
            "eventTime": f"2026-07-{day:02d}T08:00:00+08:00", "eventTimeZoneOffset": "+08:00"}
    return base | fields


def eid(n: int) -> str:
    return f"urn:uuid:6f1c0e2a-0000-4000-8000-{n:012d}"


def document(*events, context=None) -> dict:
    return {"@context": copy.deepcopy(CONTEXT if context is None else context),
            "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-07-10T09:00:00+08:00",
            "epcisBody": {"eventList": [copy.deepcopy(e) for e in events]}}


def body(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def single(ev: dict, context=None) -> bytes:
    """One event sent alone, with its own @context."""
    return body({"@context": CONTEXT if context is None else context} | ev)


def supply_chain() -> list[dict]:
    """Six events, one or more of each type: drums made, packed, shipped, received at
    the depot, a cable batch drawn from copper, a drum installed in a line segment."""
    return [
        event("ObjectEvent", 1, 1, epcList=[DRUM.format(1001), DRUM.format(1002)],
              action="ADD", bizStep="commissioning", disposition="active",
              readPoint={"id": FACTORY}, bizLocation={"id": FACTORY}),
        event("AggregationEvent", 2, 2, parentID=PALLET,
              childEPCs=[DRUM.format(1001), DRUM.format(1002)],
              childQuantityList=[{"epcClass": CABLE_BATCH, "quantity": 500, "uom": "MTR"}],
              action="ADD", bizStep="packing", readPoint={"id": FACTORY}),
        event("ObjectEvent", 3, 3, epcList=[dl(PALLET)], action="OBSERVE",
              bizStep="cbv:BizStep-shipping", disposition="in_transit",
              readPoint={"id": dl(DOCK)},
              bizTransactionList=[{"type": "po", "bizTransaction": PO}],
              sourceList=[{"type": "owning_party", "source": "urn:epc:id:pgln:6901234.00000"}],
              destinationList=[{"type": "location", "destination": DEPOT}]),
        event("TransactionEvent", 4, 4, epcList=[dl(DRUM.format(1001))], action="ADD",
              bizStep="receiving", disposition="in_progress", bizLocation={"id": DEPOT},
              bizTransactionList=[{"type": "po", "bizTransaction": PO}]),
        event("TransformationEvent", 5, 5,
              inputQuantityList=[{"epcClass": COPPER_BATCH, "quantity": 1000, "uom": "KGM"}],
              outputQuantityList=[{"epcClass": CABLE_BATCH, "quantity": 500, "uom": "MTR"}],
              outputEPCList=[DRUM.format(1003)], inputEPCList=[DRUM.format(9)],
              bizStep="commissioning", readPoint={"id": FACTORY}),
        event("AssociationEvent", 6, 6, parentID=LINE_SEGMENT, childEPCs=[DRUM.format(1002)],
              action="ADD", bizStep="installing", bizLocation={"id": DEPOT}),
    ]


def stored_ids() -> set[str]:
    return set(Event.objects.values_list("event_id", flat=True))


def fingerprint() -> dict:
    """Everything a refused capture must leave as it was."""
    def rows(model):
        return list(model.objects.order_by("pk").values())

    return {"captures": rows(Capture), "events": rows(Event), "keys": rows(EventKey),
            "epcs": rows(EventEpc), "transactions": rows(EventTransaction),
            "source_dest": rows(EventSourceDest), "audit": AuditEntry.objects.count(),
            "outbox": OutboxEvent.objects.count()}


# --- the conformance documents ---------------------------------------------------------------

@pytest.mark.parametrize("name", names("Documents"))
def test_every_conformance_document_is_stored_with_its_hash_ids(name, enterprise_user):
    data = raw("Documents", name)
    doc = json.loads(data)
    capture = services.capture_document(actor=enterprise_user, raw=data)
    hashes = document_hashes(doc)
    assert capture.event_count == capture.stored_count == len(hashes)
    rows = list(Event.objects.filter(capture=capture).order_by("pk")
                .values_list("event_id", "hash_id", "data"))
    assert [h for _, h, _ in rows] == hashes
    assert [e for e, _, _ in rows] == [ev.get("eventID", h) for ev, h in
                                       zip(doc["epcisBody"]["eventList"], hashes, strict=True)]
    assert [json.loads(d) for _, _, d in rows] == doc["epcisBody"]["eventList"]
    assert capture.context == doc["@context"]
    assert capture.hashes_digest == hashlib.sha256(
        "".join(h + "\n" for h in hashes).encode()).hexdigest()
    assert capture.document_sha256 == hashlib.sha256(data).hexdigest()
    assert services.events_verify().ok


@pytest.mark.parametrize("name", names("Invalid"))
def test_every_invalid_document_is_refused_and_nothing_is_stored(name, enterprise_user):
    before = fingerprint()
    with pytest.raises(services.CaptureRefused) as refused:
        services.capture_document(actor=enterprise_user, raw=raw("Invalid", name))
    expected = v.validate_document(raw("Invalid", name)).errors
    assert refused.value.problems == expected
    assert fingerprint() == before


# --- what a capture stores ----------------------------------------------------------------------

def test_a_capture_stores_events_index_rows_one_audit_entry_and_one_domain_event(
        enterprise_user, world):
    doc = document(*supply_chain())
    audit_before = AuditEntry.objects.count()
    capture = services.capture_document(actor=enterprise_user, raw=body(doc))
    capture.refresh_from_db()
    assert (capture.kind, capture.status, capture.submitted_by, capture.entity, capture.lab,
            capture.user_unit) == ("document", "succeeded", enterprise_user,
                                   world["xian_entity"], None, None)
    assert capture.org == f"enterprise:{world['xian_entity'].pk}"
    assert (capture.event_count, capture.stored_count, capture.duplicate_count,
            capture.declared_count) == (6, 6, 0, 0)
    events = list(Event.objects.order_by("pk"))
    assert [(e.event_id, e.type, e.action, e.org) for e in events] == [
        (eid(1), "object", "ADD", capture.org), (eid(2), "aggregation", "ADD", capture.org),
        (eid(3), "object", "OBSERVE", capture.org), (eid(4), "transaction", "ADD", capture.org),
        (eid(5), "transformation", "", capture.org), (eid(6), "association", "ADD", capture.org),
    ]
    assert {e.record_time for e in events} == {capture.created_at}
    assert events[0].event_time == datetime(2026, 7, 1, 0, 0, tzinfo=UTC)
    assert set(EventKey.objects.values_list("event_id", "hash_id")) == {
        (e.event_id, e.hash_id) for e in events}
    # one audit entry for the capture, with the digests; one domain event
    entries = list(AuditEntry.objects.order_by("seq"))[audit_before:]
    assert [(e.action, e.object_type, e.object_id, e.division) for e in entries] == [
        ("epcis.captured", "traceability.capture", str(capture.pk), "610113")]
    after = json.loads(entries[0].body)["state"]["after"]
    assert (after["document_sha256"], after["hashes_digest"], after["stored_count"]) == (
        capture.document_sha256, capture.hashes_digest, 6)
    published = OutboxEvent.objects.get(name="epcis.captured")
    assert (published.aggregate_type, published.aggregate_id, published.payload) == (
        "traceability.capture", str(capture.pk),
        {"capture": capture.pk, "events": 6, "by": enterprise_user.pk})


def test_index_rows_hold_canonical_identifiers(enterprise_user):
    services.capture_document(actor=enterprise_user, raw=body(document(*supply_chain())))

    def epcs(n):
        return sorted(EventEpc.objects.filter(event__event_id=eid(n)).values_list(
            "role", "epc", "quantity", "uom"))

    drum = {s: dl(DRUM.format(s)) for s in (9, 1001, 1002, 1003)}
    assert drum[1001] == "https://id.gs1.org/01/06901234123456/21/1001"
    assert epcs(1) == [("epc", drum[1001], None, ""), ("epc", drum[1002], None, "")]
    assert epcs(2) == [("child", drum[1001], None, ""), ("child", drum[1002], None, ""),
                       ("class_child", "https://id.gs1.org/01/06901234123456/10/L2026A", 500.0,
                        "MTR"), ("parent", "https://id.gs1.org/00/069012340000000016", None,
                                 "")]
    assert epcs(4) == [("epc", drum[1001], None, "")]  # written as a Digital Link
    assert epcs(5) == [
        ("class_input", dl(COPPER_BATCH), 1000.0, "KGM"),
        ("class_output", dl(CABLE_BATCH), 500.0, "MTR"),
        ("input", drum[9], None, ""), ("output", drum[1003], None, "")]
    assert epcs(6) == [("child", drum[1002], None, ""), ("parent", dl(LINE_SEGMENT), None, "")]
    shipped = Event.objects.get(event_id=eid(3))
    assert (shipped.biz_step, shipped.disposition, shipped.read_point) == (
        "https://ref.gs1.org/cbv/BizStep-shipping", "https://ref.gs1.org/cbv/Disp-in_transit",
        dl(DOCK))
    assert list(EventTransaction.objects.filter(event=shipped).values_list(
        "type", "identifier")) == [("https://ref.gs1.org/cbv/BTT-po", dl(PO))]
    assert sorted(EventSourceDest.objects.filter(event=shipped).values_list(
        "kind", "type", "identifier")) == [
        ("destination", "https://ref.gs1.org/cbv/SDT-location", dl(DEPOT)),
        ("source", "https://ref.gs1.org/cbv/SDT-owning_party",
         dl("urn:epc:id:pgln:6901234.00000"))]


def test_a_single_event_is_captured_with_its_own_context(lab_user, world):
    ev = supply_chain()[0]
    capture = services.capture_event(actor=lab_user, raw=single(ev))
    assert (capture.kind, capture.lab, capture.context, capture.event_ids) == (
        "event", world["lab"], None, [eid(1)])
    stored = Event.objects.get()
    assert stored.event == {"@context": CONTEXT} | ev
    assert stored.hash_id == event_hash_id({"@context": CONTEXT} | ev)
    assert stored.org == f"lab:{world['lab'].pk}"


def test_a_capture_with_a_bad_third_event_stores_none(enterprise_user):
    events = supply_chain()
    events[2]["bizStep"] = "shipped"  # not a CBV term
    before = fingerprint()
    with pytest.raises(services.CaptureRefused) as refused:
        services.capture_document(actor=enterprise_user, raw=body(document(*events)))
    assert [(p.pointer, p.code) for p in refused.value.problems] == [
        ("/epcisBody/eventList/2/bizStep", "vocabulary.unknown_term")]
    assert fingerprint() == before
    assert services.events_verify().ok


def test_a_failure_half_way_through_the_inserts_leaves_nothing(enterprise_user, monkeypatch):
    """The events and EPC rows are already inserted when the transaction rows fail: the
    one transaction takes them all back."""
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    before = fingerprint()
    real = services._write
    monkeypatch.setattr(services, "_write", lambda cur, model, cols, rows: (
        fail() if model is EventTransaction else real(cur, model, cols, rows)))
    with pytest.raises(RuntimeError):
        services.capture_document(actor=enterprise_user, raw=body(document(*supply_chain())))
    assert fingerprint() == before


def test_the_same_document_twice_counts_duplicates_and_stores_nothing_new(enterprise_user):
    data = body(document(*supply_chain()))
    first = services.capture_document(actor=enterprise_user, raw=data)
    events_before = list(Event.objects.order_by("pk").values())
    second = services.capture_document(actor=enterprise_user, raw=data)
    assert (second.event_count, second.stored_count, second.duplicate_count) == (6, 0, 6)
    assert second.event_ids == first.event_ids == [eid(n) for n in range(1, 7)]
    assert list(Event.objects.order_by("pk").values()) == events_before
    assert EventKey.objects.count() == 6
    assert Capture.objects.count() == 2  # the repeat is itself a recorded act


def test_an_event_without_event_id_is_a_duplicate_by_its_hash(enterprise_user):
    ev = supply_chain()[0]
    del ev["eventID"]
    services.capture_document(actor=enterprise_user, raw=body(document(ev)))
    again = services.capture_document(actor=enterprise_user, raw=body(document(ev)))
    assert (again.stored_count, again.duplicate_count) == (0, 1)
    assert list(Event.objects.values_list("event_id", flat=True)) == [
        event_hash_id(ev, CONTEXT)]


def test_a_repeat_inside_one_document_is_a_duplicate(enterprise_user):
    ev = supply_chain()[0]
    capture = services.capture_document(actor=enterprise_user, raw=body(document(ev, ev)))
    assert (capture.event_count, capture.stored_count, capture.duplicate_count) == (2, 1, 1)


def test_a_repeat_in_other_words_is_a_duplicate(enterprise_user):
    """The same event with the EPCs as Digital Links and the members in another order has
    the same hash ID: the same event."""
    ev = supply_chain()[0]
    services.capture_document(actor=enterprise_user, raw=body(document(ev)))
    other = dict(reversed(list(ev.items())))
    other["epcList"] = [dl(e) for e in ev["epcList"]][::-1]
    again = services.capture_document(actor=enterprise_user, raw=body(document(other)))
    assert (again.stored_count, again.duplicate_count) == (0, 1)


def test_the_same_event_id_with_other_content_is_refused_at_its_event_id(enterprise_user):
    events = supply_chain()
    services.capture_document(actor=enterprise_user, raw=body(document(events[0])))
    before = fingerprint()
    changed = events[0] | {"disposition": "damaged"}
    with pytest.raises(services.CaptureRefused) as refused:
        services.capture_document(actor=enterprise_user,
                                  raw=body(document(events[1], changed)))
    [problem] = refused.value.problems
    assert (problem.pointer, problem.code) == ("/epcisBody/eventList/1/eventID",
                                               "event.id_conflict")
    stored = Event.objects.get(event_id=eid(1)).hash_id
    with translation.override("en"):
        text = services.message(problem)
    assert text == (
        f"eventID {eid(1)} is already the ID of another event with different content (hash "
        f"ID {stored}). Give this event its own eventID; to correct a captured event, "
        "capture it again with an errorDeclaration and capture the corrective event.")
    assert fingerprint() == before  # the good first event is not stored either


def test_two_events_of_one_document_with_one_event_id_are_refused(enterprise_user):
    events = supply_chain()
    clash = events[1] | {"eventID": eid(1)}
    with pytest.raises(services.CaptureRefused) as refused:
        services.capture_document(actor=enterprise_user, raw=body(document(events[0], clash)))
    assert [(p.pointer, p.code) for p in refused.value.problems] == [
        ("/epcisBody/eventList/1/eventID", "event.id_conflict")]
    assert Event.objects.count() == 0


def test_the_same_content_under_another_event_id_is_refused(enterprise_user):
    ev = supply_chain()[0]
    services.capture_document(actor=enterprise_user, raw=body(document(ev)))
    renamed = ev | {"eventID": eid(99)}
    with pytest.raises(services.CaptureRefused) as refused:
        services.capture_document(actor=enterprise_user, raw=body(document(renamed)))
    [problem] = refused.value.problems
    assert (problem.pointer, problem.code, problem.message_params["stored"]) == (
        "/epcisBody/eventList/0/eventID", "event.same_content", eid(1))
    assert stored_ids() == {eid(1)}


DECLARATION = {"declarationTime": "2026-07-08T10:00:00+08:00", "reason": "incorrect_data",
               "correctiveEventIDs": [eid(7)]}


def test_an_error_declaration_attaches_to_the_stored_event(enterprise_user):
    ev = supply_chain()[0]
    services.capture_document(actor=enterprise_user, raw=body(document(ev)))
    original = Event.objects.get()
    corrective = event("ObjectEvent", 7, 1, epcList=[DRUM.format(1001)], action="ADD",
                       bizStep="commissioning", disposition="active")
    capture = services.capture_document(
        actor=enterprise_user, raw=body(document(ev | {"errorDeclaration": DECLARATION},
                                                 corrective)))
    assert (capture.stored_count, capture.declared_count, capture.duplicate_count) == (1, 1, 0)
    declared = Event.objects.get(event_id=eid(1))
    assert declared.error_declaration == DECLARATION
    assert declared.event == ev | {"errorDeclaration": DECLARATION}
    assert (declared.hash_id, declared.capture_id) == (original.hash_id, original.capture_id)
    assert services.events_verify().ok
    # the same declaration again changes nothing; another one is refused
    again = services.capture_document(
        actor=enterprise_user, raw=body(document(ev | {"errorDeclaration": DECLARATION})))
    assert (again.declared_count, again.duplicate_count) == (0, 1)
    other = DECLARATION | {"reason": "did_not_occur"}
    with pytest.raises(services.CaptureRefused) as refused:
        services.capture_document(actor=enterprise_user,
                                  raw=body(document(ev | {"errorDeclaration": other})))
    assert [(p.pointer, p.code) for p in refused.value.problems] == [
        ("/epcisBody/eventList/0/errorDeclaration", "event.already_declared")]


def test_an_error_declaration_later_in_the_same_document_attaches_to_the_event(
        enterprise_user):
    ev = supply_chain()[0]
    capture = services.capture_document(
        actor=enterprise_user, raw=body(document(ev, ev | {"errorDeclaration": DECLARATION})))
    assert (capture.stored_count, capture.duplicate_count) == (1, 1)
    assert Event.objects.get().event == ev | {"errorDeclaration": DECLARATION}


def test_regulators_and_the_anonymous_cannot_capture(xian_officer, world):
    from django.contrib.auth.models import AnonymousUser

    from zhijian.core.access import Denied

    before = fingerprint()
    for who in (xian_officer, AnonymousUser()):
        with pytest.raises(Denied):
            services.capture_document(actor=who, raw=body(document(*supply_chain())))
    assert fingerprint() == before


def test_an_administrator_captures_for_no_organisation(admin_user):
    capture = services.capture_document(actor=admin_user,
                                        raw=body(document(supply_chain()[0])))
    assert (capture.org, capture.entity, capture.lab, capture.user_unit) == ("", None, None,
                                                                             None)
    assert Event.objects.get().org == ""


def test_the_size_limit_comes_from_the_settings(enterprise_user, settings):
    data = body(document(*supply_chain()))
    settings.ZHIJIAN_EPCIS_MAX_BYTES = len(data) - 1
    with pytest.raises(services.CaptureRefused) as refused:
        services.capture_document(actor=enterprise_user, raw=data)
    assert refused.value.too_large
    assert [(p.pointer, p.code, p.message_params["limit"]) for p in refused.value.problems] == [
        ("", "size.too_large", len(data) - 1)]
    settings.ZHIJIAN_EPCIS_MAX_BYTES = len(data)
    assert services.capture_document(actor=enterprise_user, raw=data).stored_count == 6


def test_an_identifier_too_long_to_index_is_refused_at_its_pointer(enterprise_user):
    ev = supply_chain()[0] | {"readPoint": {"id": "urn:zj:" + "x" * 1100}}
    with pytest.raises(services.CaptureRefused) as refused:
        services.capture_document(actor=enterprise_user, raw=body(document(ev)))
    assert [(p.pointer, p.code, p.message_params["field"], p.message_params["length"])
            for p in refused.value.problems] == [
        ("/epcisBody/eventList/0/readPoint/id", "identifier.too_long", "id", 1107)]
    assert Event.objects.count() == 0


# --- integrity -------------------------------------------------------------------------------

def test_events_verify_finds_an_altered_event_and_a_lost_key(enterprise_user):
    services.capture_document(actor=enterprise_user, raw=body(document(*supply_chain())))
    assert services.events_verify().ok
    assert services.events_verify().checked == 6
    tampered = Event.objects.get(event_id=eid(4))
    data = tampered.event | {"disposition": "damaged"}
    Event.objects.filter(pk=tampered.pk).update(data=json.dumps(data))
    result = services.events_verify()
    assert not result.ok
    assert result.mismatches == [(eid(4), tampered.hash_id, event_hash_id(data, CONTEXT))]
    EventKey.objects.filter(event_id=eid(2)).delete()
    assert (services.events_verify().missing_keys, services.events_verify().orphan_keys) == (2, 0)


# --- messages and index columns -----------------------------------------------------------

def test_every_validation_message_is_translatable_with_the_same_english_text():
    from django.utils import translation

    with translation.override("en"):
        for code, text in v.MESSAGES.items():
            assert str(services.MESSAGES[code]) == text, code


def test_messages_are_given_in_the_active_language():
    from django.utils import translation

    problem = services.problem(("epcisBody", "eventList", 0, "eventID"), "event.id_conflict",
                               value="urn:uuid:1", stored="ni:///x")
    assert problem.message_params["field"] == "eventID"
    with translation.override("en"):
        assert services.message(problem).startswith("eventID urn:uuid:1 is already the ID")


@pytest.mark.parametrize(("value", "base", "expected"), [
    ("shipping", indexing.BIZ_STEP, "https://ref.gs1.org/cbv/BizStep-shipping"),
    ("urn:epcglobal:cbv:bizstep:shipping", indexing.BIZ_STEP,
     "https://ref.gs1.org/cbv/BizStep-shipping"),
    ("cbv:BizStep-shipping", indexing.BIZ_STEP, "https://ref.gs1.org/cbv/BizStep-shipping"),
    ("https://example.com/steps/cutting", indexing.BIZ_STEP,
     "https://example.com/steps/cutting"),
    ("in_transit", indexing.DISPOSITION, "https://ref.gs1.org/cbv/Disp-in_transit"),
])
def test_vocabulary_values_are_canonical_uris(value, base, expected):
    assert indexing.vocabulary(value, base, indexing.STANDARD_PREFIXES) == expected


def test_identifiers_are_canonical_whatever_their_form():
    urn = "urn:epc:id:sgtin:6901234.012345.1001"
    same = ["https://id.gs1.org/01/06901234123456/21/1001",
            "https://example.com/01/06901234123456/21/1001?linkType=all",
            "https://id.gs1.org/gtin/6901234123456/ser/1001"]
    assert {indexing.identifier(x) for x in [urn, *same]} == {same[0]}
    assert indexing.identifier("urn:zj:asset:1") == "urn:zj:asset:1"
    assert indexing.identifier("zj:asset-1", {"zj": "https://zhijian.example.cn/"}) == (
        "https://zhijian.example.cn/asset-1")
    assert indexing.pattern_prefix("urn:epc:idpat:sgtin:6901234.012345.*") == (
        "https://id.gs1.org/01/06901234123456")
    assert indexing.pattern_prefix("urn:epc:idpat:sgtin:6901234.*.*") is None
    assert indexing.parse_time("2026-07-01T08:00:00.1234567+08:00") == datetime(
        2026, 7, 1, 0, 0, 0, 123456, tzinfo=UTC)
    assert indexing.parse_time("2026-07-01T08:00:00") is None


def test_an_event_captured_outside_a_document_context_keeps_prefixes_of_its_own():
    ev = {"@context": [{"zj": "https://zhijian.example.cn/"}], "type": "ObjectEvent",
          "eventTime": "2026-07-01T08:00:00Z", "eventTimeZoneOffset": "+00:00",
          "action": "OBSERVE", "epcList": [], "readPoint": {"id": "zj:gate-1"},
          "bizStep": "zj:weighing"}
    indexed = indexing.index_event(ev, [EPCIS_CONTEXT, {"zj": "https://other.example/"}])
    assert (indexed.read_point, indexed.biz_step) == ("https://zhijian.example.cn/gate-1",
                                                      "https://zhijian.example.cn/weighing")


def test_the_event_tables_have_no_unique_constraint_but_their_keys(db):
    """Partition-ready (docs/epcis.md §5): the event and index tables carry no unique
    constraint besides their primary key; EventKey holds eventID and hash ID unique."""
    with connection.cursor() as cursor:
        for model in (Event, EventEpc, EventTransaction, EventSourceDest):
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
            unique = sorted(tuple(c["columns"]) for c in constraints.values()
                            if c["unique"] and not c["primary_key"])
            assert unique == [], model
        constraints = connection.introspection.get_constraints(cursor, EventKey._meta.db_table)
        unique = sorted(tuple(c["columns"]) for c in constraints.values()
                        if c["unique"] and not c["primary_key"])
        assert unique == [("event_id",), ("hash_id",)]


def test_every_refusal_of_the_store_is_documented():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "epcis.md").read_text()
    section = text[text.index("## 8. Problems"):text.index("## 9. Integrity check")]
    own = [code for code in services.MESSAGES if code not in v.MESSAGES]
    assert own == ["identifier.too_long", "event.unhashable", "event.id_conflict",
                   "event.same_content", "event.already_declared"]
    assert [code for code in own if f"| `{code}` |" not in section] == []
