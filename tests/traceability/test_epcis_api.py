"""The EPCIS 2.0 REST binding under /epcis/ (epcis_api.py, docs/epcis.md): every OpenEPCIS
conformance document captured and each event read back with the same meaning, every
single event captured through POST /epcis/events, every invalid document refused at its
real fault with nothing stored, the problem format, the headers, and the authorization
matrix of every endpoint for every persona (exact statuses and rows; a refusal changes
nothing).

"The same meaning" (docs/epcis.md §2.3): an event read back equals the event captured
once recordTime is removed, with one normalisation: an event captured in a document
carries the document's @context (followed by the event's own, if it had one) as its own
@context, since the query document around it cannot hold every capture's prefixes. The
tests compare @context separately, and also recompute the event hash ID from the event
read back alone."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.conftest import _FIXTURE, PERSONAS
from tests.api.matrix import ALL, Case, L, S
from tests.traceability.test_capture import (
    DRUM,
    body,
    document,
    eid,
    event,
    fingerprint,
    single,
    supply_chain,
)
from tests.traceability.test_validation import INVALID, names, raw
from zhijian.traceability import services
from zhijian.traceability.eventhash import document_hashes, event_hash_id
from zhijian.traceability.models import Capture, Event

pytestmark = pytest.mark.django_db
JSON = "application/json"


def as_list(context) -> list:
    return list(context) if isinstance(context, list) else [context]


def event_url(key: str) -> str:
    return "/epcis/events/" + quote(key, safe="")


def eventlist(resp) -> list[dict]:
    return resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


@pytest.fixture
def writer(api, enterprise_user):
    api.force_authenticate(enterprise_user)
    return api


# --- conformance ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", names("Documents"))
def test_every_conformance_document_is_captured_and_read_back_with_the_same_meaning(
        name, writer):
    data = raw("Documents", name)
    doc = json.loads(data)
    resp = writer.post("/epcis/capture", data, content_type="application/ld+json")
    assert resp.status_code == 202, resp.content
    capture = Capture.objects.get()
    assert resp["Location"] == f"/epcis/capture/{capture.pk}"
    job = writer.get(resp["Location"]).json()
    assert (job["captureID"], job["running"], job["success"], job["errors"]) == (
        str(capture.pk), False, True, [])
    captured = doc["epcisBody"]["eventList"]
    assert job["eventCount"] == job["storedCount"] == len(captured)

    hashes = document_hashes(doc)
    read_back = []
    for ev, hash_id in zip(captured, hashes, strict=True):
        resp = writer.get(event_url(ev.get("eventID", hash_id)))
        assert resp.status_code == 200, resp.content
        got = resp.json()
        read_back.append(json.loads(resp.content))
        assert event_hash_id(got) == hash_id  # the event alone, with its @context
        assert got["recordTime"] == job["createdAt"]
        assert got.pop("@context") == as_list(doc["@context"]) + (
            as_list(ev["@context"]) if "@context" in ev else [])
        del got["recordTime"]
        expected = {k: v for k, v in ev.items() if k not in ("@context", "recordTime")}
        assert got == expected
    # the query returns the same events, in document order
    assert eventlist(writer.get("/epcis/events?perPage=100")) == read_back
    assert services.events_verify().ok


@pytest.mark.parametrize("name", names("Events"))
def test_every_conformance_event_is_captured_alone_and_read_back_unchanged(name, writer):
    data = raw("Events", name)
    ev = json.loads(data)
    resp = writer.post("/epcis/events", data, content_type=JSON)
    assert resp.status_code == 201, resp.content
    hash_id = event_hash_id(ev)
    assert resp["Location"] == event_url(ev.get("eventID", hash_id))
    assert (resp.json()["kind"], resp.json()["storedCount"]) == ("event", 1)
    got = writer.get(resp["Location"]).json()
    assert got.pop("recordTime") == resp.json()["createdAt"]
    assert got == {k: v for k, v in ev.items() if k != "recordTime"}
    assert Event.objects.get().hash_id == hash_id
    # the same event again: nothing new, the same Location
    again = writer.post("/epcis/events", data, content_type=JSON)
    assert (again.status_code, again["Location"], again.json()["duplicateCount"]) == (
        201, resp["Location"], 1)
    assert Event.objects.count() == 1


@pytest.mark.parametrize("name", names("Invalid"))
def test_every_invalid_document_is_refused_at_its_real_fault(name, writer):
    before = fingerprint()
    resp = writer.post("/epcis/capture", raw("Invalid", name), content_type=JSON,
                       HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert resp["Content-Type"] == "application/problem+json"
    data = resp.json()
    assert (data["type"], data["title"], data["status"]) == (
        "epcisException:ValidationException", "The EPCIS document was refused", 400)
    assert data["detail"].startswith(f"{len(INVALID[name])} problem(s) found; nothing was "
                                     "stored.")
    assert data["problems"][0]["pointer"] == INVALID[name][0][0]
    assert [(p["pointer"], p["code"]) for p in data["problems"]] == INVALID[name]
    assert all(p["message"] for p in data["problems"])
    assert fingerprint() == before
    assert services.events_verify().ok


def test_an_invalid_single_event_is_refused_at_its_pointer(writer):
    ev = supply_chain()[2] | {"disposition": "in_transport"}
    before = fingerprint()
    resp = writer.post("/epcis/events", single(ev), content_type=JSON,
                       HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert resp.json()["title"] == "The EPCIS event was refused"
    assert resp.json()["problems"] == [{
        "pointer": "/disposition", "code": "vocabulary.unknown_term",
        "message": "disposition is in_transport, which is not a CBV 2.0 disposition term. "
                   "Use a standard term such as in_transit, or a URI or prefix:name whose "
                   "prefix is declared in @context."}]
    assert fingerprint() == before


# --- the binding --------------------------------------------------------------------------

def test_every_response_names_the_versions(writer, api):
    for resp in (writer.get("/epcis/eventTypes"), writer.get(event_url("urn:uuid:none")),
                 APIClient().get("/epcis/events")):
        assert (resp["GS1-EPCIS-Version"], resp["GS1-CBV-Version"]) == ("2.0.0", "2.0.0")
    assert writer.get("/epcis/eventTypes").json() == [
        "ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
        "AssociationEvent"]


def test_json_ld_is_given_when_asked_for(writer):
    writer.post("/epcis/events", single(supply_chain()[0]), content_type=JSON)
    resp = writer.get("/epcis/events", HTTP_ACCEPT="application/ld+json")
    assert (resp.status_code, resp["Content-Type"]) == (200, "application/ld+json")
    assert [e["eventID"] for e in eventlist(resp)] == [eid(1)]
    assert resp.json()["@context"] == ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]
    assert (resp.json()["type"], resp.json()["schemaVersion"]) == ("EPCISQueryDocument", "2.0")


def test_refusals_are_problem_documents(writer):
    resp = writer.get(event_url("urn:uuid:none"), HTTP_ACCEPT_LANGUAGE="en")
    assert (resp.status_code, resp["Content-Type"], resp.json()) == (
        404, "application/problem+json",
        {"type": "epcisException:NoSuchResourceException", "title": "Not found",
         "status": 404, "detail": "Nothing with this identifier exists that you may see."})
    resp = APIClient().get("/epcis/events", HTTP_ACCEPT_LANGUAGE="en")
    assert (resp.status_code, resp["WWW-Authenticate"], resp.json()["type"],
            resp.json()["title"]) == (401, "Token", "epcisException:SecurityException",
                                      "Authentication required")
    resp = writer.delete("/epcis/events")
    assert (resp.status_code, resp.json()["status"]) == (405, 405)


def test_a_malformed_document_points_at_the_syntax(writer):
    before = fingerprint()
    resp = writer.post("/epcis/capture", b'{"type": "EPCISDocument",', content_type=JSON,
                       HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert [(p["pointer"], p["code"]) for p in resp.json()["problems"]] == [
        ("", "json.malformed")]
    assert fingerprint() == before


def test_a_document_over_the_size_limit_is_413(writer, settings):
    data = body(document(*supply_chain()))
    settings.ZHIJIAN_EPCIS_MAX_BYTES = 1000
    before = fingerprint()
    resp = writer.post("/epcis/capture", data, content_type=JSON, HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 413
    assert resp.json() == {
        "type": "epcisException:CaptureLimitExceededException",
        "title": "The document is too large", "status": 413,
        "detail": f"The document is {len(data)} bytes; the limit is 1000 bytes. Split the "
                  "events over several smaller documents.",
        "problems": [{"pointer": "", "code": "size.too_large", "message":
                      f"The document is {len(data)} bytes; the limit is 1000 bytes. Split "
                      "the events over several smaller documents."}]}
    assert fingerprint() == before


def test_a_body_that_is_not_json_is_415(writer):
    before = fingerprint()
    resp = writer.post("/epcis/capture", b"<epcis:EPCISDocument/>",
                       content_type="application/xml", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 415
    assert resp.json()["detail"] == (
        "The body is sent as application/xml. Send the EPCIS document as JSON, with "
        "Content-Type application/json or application/ld+json.")
    assert fingerprint() == before


def test_a_token_client_needs_no_csrf_token_and_a_session_does(enterprise_user):
    token = Token.objects.create(user=enterprise_user)
    client = APIClient(enforce_csrf_checks=True)
    resp = client.post("/epcis/capture", body(document(supply_chain()[0])), content_type=JSON,
                       HTTP_AUTHORIZATION=f"Token {token.key}")
    assert resp.status_code == 202
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(enterprise_user)
    before = fingerprint()
    resp = session.post("/epcis/capture", body(document(supply_chain()[1])), content_type=JSON)
    assert (resp.status_code, resp.json()["type"]) == (403, "epcisException:SecurityException")
    assert fingerprint() == before


def test_an_event_is_found_by_its_hash_id_too(writer):
    ev = supply_chain()[0]
    writer.post("/epcis/events", single(ev), content_type=JSON)
    stored = Event.objects.get()
    assert writer.get(event_url(stored.hash_id)).json()["eventID"] == eid(1)


# --- the authorization matrix ---------------------------------------------------------------

@pytest.fixture
def persona(request):
    return lambda name: None if name == "anonymous" else request.getfixturevalue(_FIXTURE[name])


@pytest.fixture
def store(enterprise_user, lab_user, user_unit_user, admin_user):
    """Events of three organisations and of an administrator."""
    e = services.capture_document(actor=enterprise_user, raw=body(document(
        *supply_chain()[:2])))
    lab = services.capture_event(actor=lab_user, raw=single(
        event("ObjectEvent", 11, 9, epcList=[DRUM.format(1001)], action="OBSERVE",
              bizStep="inspecting", disposition="conformant")))
    unit = services.capture_event(actor=user_unit_user, raw=single(
        event("ObjectEvent", 12, 10, epcList=[DRUM.format(1001)], action="OBSERVE",
              bizStep="accepting")))
    admin = services.capture_event(actor=admin_user, raw=single(
        event("ObjectEvent", 13, 11, epcList=[DRUM.format(7)], action="OBSERVE")))
    return {"enterprise": e, "lab": lab, "unit": unit, "admin": admin}


def number(row) -> int:
    return int(row["eventID"].rsplit("-", 1)[1])


NEW_EVENT = event("ObjectEvent", 21, 12, epcList=[DRUM.format(2001)], action="ADD",
                  bizStep="commissioning")
EVERY_EVENT = {1, 2, 11, 12, 13}
# admin, the four regulators, then the enterprise, the lab and the user unit
READERS = L(None, EVERY_EVENT, EVERY_EVENT, EVERY_EVENT, EVERY_EVENT, EVERY_EVENT, {1, 2},
            {11}, {12})
WRITERS = S(401, 202, 403, 403, 403, 403, 202, 202, 202)
CASES = [
    Case("capture", "post", lambda g: "/epcis/capture", WRITERS, writes=1,
         body=lambda g: body(document(NEW_EVENT))),
    Case("capture-job", "get", lambda g: f"/epcis/capture/{g['enterprise'].pk}",
         S(401, 200, 200, 200, 200, 200, 200, 404, 404)),
    Case("capture-job", "get", lambda g: f"/epcis/capture/{g['lab'].pk}",
         S(401, 200, 200, 200, 200, 200, 404, 200, 404), label="lab"),
    Case("capture-job", "get", lambda g: "/epcis/capture/999999",
         S(401, 404, 404, 404, 404, 404, 404, 404, 404), label="missing"),
    Case("capture-job", "get", lambda g: "/epcis/capture/not-a-number",
         S(401, 404, 404, 404, 404, 404, 404, 404, 404), label="malformed"),
    Case("events", "get", lambda g: "/epcis/events", READERS, key=number),
    Case("events", "post", lambda g: "/epcis/events",
         {**WRITERS, "admin": 201, "enterprise": 201, "lab": 201, "user_unit": 201},
         writes=1, body=lambda g: single(NEW_EVENT), label="capture"),
    Case("event", "get", lambda g: event_url(eid(1)),
         S(401, 200, 200, 200, 200, 200, 200, 404, 404)),
    Case("event", "get", lambda g: event_url(eid(12)),
         S(401, 200, 200, 200, 200, 200, 404, 404, 200), label="user-unit"),
    Case("event", "get", lambda g: event_url(eid(404)), ALL(404) | {"anonymous": 401},
         label="missing"),
    Case("epc-events", "get", lambda g: f"/epcis/epcs/{quote(DRUM.format(1001), safe='')}/events",
         L(None, {1, 2, 11, 12}, {1, 2, 11, 12}, {1, 2, 11, 12}, {1, 2, 11, 12},
           {1, 2, 11, 12}, {1, 2}, {11}, {12}), key=number),
    Case("event-types", "get", lambda g: "/epcis/eventTypes", ALL(200) | {"anonymous": 401}),
]


@pytest.mark.parametrize(("case", "who"),
                         [pytest.param(c, p, id=f"{c.id}-{p}") for c in CASES for p in PERSONAS])
def test_matrix(case, who, store, persona, api):
    user = persona(who)
    if user is not None:
        api.force_authenticate(user)
    before = fingerprint()
    url = case.url(store)
    if case.method == "get":
        resp = api.get(url)
    else:
        resp = api.post(url, case.body(store), content_type=JSON)
    expected = case.status_for(who)
    assert resp.status_code == expected, resp.content.decode()[:500]
    after = fingerprint()
    if expected >= 400 or case.method == "get":
        assert after == before
    else:
        assert after["audit"] == before["audit"] + case.writes
        assert after["events"][len(before["events"]):] != []
        assert Event.objects.order_by("pk").last().event_id == eid(21)
    if expected >= 400:
        data = resp.json()
        assert (data["status"], data["type"]) == (expected, {
            401: "epcisException:SecurityException", 403: "epcisException:SecurityException",
            404: "epcisException:NoSuchResourceException"}[expected])
    rows = case.rows_for(who, store)
    if rows is not None:
        assert {case.key(r) for r in eventlist(resp)} == rows


def test_every_route_is_in_the_matrix():
    from zhijian.traceability.urls import urlpatterns

    assert {p.name for p in urlpatterns} == {c.action for c in CASES}
    assert {(c.action, c.method) for c in CASES} == {
        ("capture", "post"), ("capture-job", "get"), ("events", "get"), ("events", "post"),
        ("event", "get"), ("epc-events", "get"), ("event-types", "get")}


def test_an_organisation_sees_its_captures_whoever_of_it_captured(store, world, api):
    from tests import factories as f
    from zhijian.accounts.models import Role

    colleague = f.UserFactory(username="enterprise2", role=Role.ENTERPRISE,
                              entity=world["xian_entity"])
    api.force_authenticate(colleague)
    assert [number(r) for r in eventlist(api.get("/epcis/events"))] == [1, 2]
    assert api.get(f"/epcis/capture/{store['enterprise'].pk}").status_code == 200
