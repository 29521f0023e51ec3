"""EPCIS 2.0 queries (GET /epcis/events, GET /epcis/epcs/{epc}/events; query.py): each
parameter with the exact events it returns, identifiers and vocabulary in any of their
forms, refusals naming the parameter, keyset pagination with a signed token, and a
query-count pin on the list."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlencode, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.traceability.test_capture import (
    CABLE_BATCH,
    COPPER_BATCH,
    DEPOT,
    DOCK,
    DRUM,
    FACTORY,
    LINE_SEGMENT,
    PALLET,
    body,
    dl,
    document,
    eid,
    event,
    supply_chain,
)
from zhijian.traceability import services
from zhijian.traceability.models import Capture

EVERY = {1, 2, 3, 4, 5, 6}


@pytest.fixture
def chain(enterprise_user):
    """The six supply-chain events in one capture, then two more in a second one."""
    services.capture_document(actor=enterprise_user, raw=body(document(*supply_chain())))
    later = [
        event("ObjectEvent", 7, 7, epcList=[DRUM.format(1003)], action="OBSERVE",
              bizStep="inspecting", disposition="conformant", readPoint={"id": DEPOT}),
        event("ObjectEvent", 8, 8, epcList=[DRUM.format(1002)], action="DELETE",
              bizStep="decommissioning", disposition="destroyed"),
    ]
    second = services.capture_document(actor=enterprise_user, raw=body(document(*later)))
    return {"second": second}


def events_of(resp) -> list[dict]:
    assert resp.status_code == 200, resp.content
    return resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def numbers(resp) -> list[int]:
    """The events of a query document, by the number in their eventID, in order."""
    return [int(e["eventID"].rsplit("-", 1)[1]) for e in events_of(resp)]


def get(api, params: dict | list, path: str = "/epcis/events"):
    return api.get(f"{path}?{urlencode(params, doseq=True)}" if params else path)


@pytest.fixture
def reader(api, province_officer):
    api.force_authenticate(province_officer)
    return api


CASES = [
    ({}, EVERY | {7, 8}),
    ({"eventType": "ObjectEvent"}, {1, 3, 7, 8}),
    ({"eventType": "AggregationEvent,TransformationEvent"}, {2, 5}),
    ({"eventType": ["TransactionEvent", "AssociationEvent"]}, {4, 6}),
    ({"GE_eventTime": "2026-07-03T08:00:00+08:00"}, {3, 4, 5, 6, 7, 8}),
    ({"LT_eventTime": "2026-07-03T00:00:00Z"}, {1, 2}),  # 3 is at 00:00Z: not before it
    ({"GE_eventTime": "2026-07-02T00:00:00Z", "LT_eventTime": "2026-07-04T00:00:00.001Z"},
     {2, 3, 4}),
    ({"EQ_action": "OBSERVE"}, {3, 7}),
    ({"EQ_action": "ADD,DELETE"}, {1, 2, 4, 6, 8}),
    ({"EQ_bizStep": "shipping"}, {3}),
    ({"EQ_bizStep": "urn:epcglobal:cbv:bizstep:shipping"}, {3}),
    ({"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-commissioning"}, {1, 5}),
    ({"EQ_bizStep": "packing,installing"}, {2, 6}),
    ({"EQ_disposition": "in_transit"}, {3}),
    ({"EQ_disposition": "urn:epcglobal:cbv:disp:active,destroyed"}, {1, 8}),
    ({"EQ_readPoint": FACTORY}, {1, 2, 5}),
    ({"EQ_readPoint": DOCK}, {3}),  # captured as a Digital Link, asked as an SGLN URN
    ({"EQ_readPoint": dl(FACTORY)}, {1, 2, 5}),
    ({"EQ_bizLocation": DEPOT}, {4, 6}),
    ({"EQ_eventID": f"{eid(2)},{eid(8)}"}, {2, 8}),
    # epcList and childEPCs, in URN or Digital Link form
    ({"MATCH_epc": DRUM.format(1001)}, {1, 2, 4}),
    ({"MATCH_epc": dl(DRUM.format(1002))}, {1, 2, 6, 8}),
    ({"MATCH_epc": PALLET}, {3}),
    ({"MATCH_epc": "urn:epc:idpat:sgtin:6901234.012345.*"}, {1, 2, 4, 6, 7, 8}),
    ({"MATCH_parentID": PALLET}, {2}),
    ({"MATCH_parentID": LINE_SEGMENT}, {6}),
    ({"MATCH_inputEPC": DRUM.format(9)}, {5}),
    ({"MATCH_outputEPC": DRUM.format(1003)}, {5}),
    ({"MATCH_anyEPC": PALLET}, {2, 3}),
    ({"MATCH_anyEPC": f"{DRUM.format(1003)},{DRUM.format(9)}"}, {5, 7}),
    # batches: GTIN + lot (LGTIN)
    ({"MATCH_epcClass": CABLE_BATCH}, {2}),
    ({"MATCH_epcClass": dl(CABLE_BATCH)}, {2}),
    ({"MATCH_inputEPCClass": COPPER_BATCH}, {5}),
    ({"MATCH_outputEPCClass": CABLE_BATCH}, {5}),
    ({"MATCH_anyEPCClass": CABLE_BATCH}, {2, 5}),
    # parameters combine with AND
    ({"MATCH_epc": DRUM.format(1002), "EQ_action": "ADD", "eventType": "ObjectEvent"}, {1}),
    ({"MATCH_anyEPC": DRUM.format(1001), "GE_eventTime": "2026-07-02T00:00:00Z",
      "LT_eventTime": "2026-07-04T00:00:00Z"}, {2}),
    ({"EQ_bizStep": "shipping", "EQ_disposition": "active"}, set()),
]


@pytest.mark.parametrize(("params", "expected"), CASES,
                         ids=[urlencode(p, doseq=True) or "all" for p, _ in CASES])
def test_each_parameter_returns_exactly_its_events(params, expected, chain, reader):
    resp = get(reader, params | {"perPage": "100"})
    found = numbers(resp)
    assert set(found) == expected
    assert found == sorted(found)  # capture order


def test_record_time_parameters_split_the_two_captures(chain, reader):
    second = chain["second"].created_at.isoformat()
    assert numbers(get(reader, {"GE_recordTime": second})) == [7, 8]
    assert numbers(get(reader, {"LT_recordTime": second})) == [1, 2, 3, 4, 5, 6]


def test_an_unencoded_plus_of_a_time_zone_is_understood(chain, reader):
    resp = reader.get("/epcis/events?GE_eventTime=2026-07-07T08:00:00+08:00")
    assert numbers(resp) == [7, 8]


@pytest.mark.parametrize(("query", "parameter", "message"), [
    ("EQ_quantity=5", "EQ_quantity", "The query parameter EQ_quantity is not supported."),
    ("eventType=ObjectEvents", "eventType",
     "eventType is ObjectEvents, which is not an EPCIS event type."),
    ("GE_eventTime=yesterday", "GE_eventTime",
     "GE_eventTime is yesterday, which is not a date-time."),
    ("EQ_action=CREATE", "EQ_action", "EQ_action is CREATE; use ADD, OBSERVE or DELETE."),
    ("MATCH_epc=urn:epc:idpat:sgtin:6901234.*.*", "MATCH_epc",
     "MATCH_epc has the pattern urn:epc:idpat:sgtin:6901234.*.*, which is not supported."),
    ("perPage=0", "perPage", "perPage is 0; give a whole number from 1 to 1000."),
    ("perPage=ten", "perPage", "perPage is ten; give a whole number from 1 to 1000."),
    ("nextPageToken=abc", "nextPageToken", "nextPageToken is not a token of this query."),
])
def test_a_bad_parameter_is_refused_naming_it(query, parameter, message, chain, reader):
    resp = reader.get(f"/epcis/events?{query}", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    data = resp.json()
    assert resp["Content-Type"] == "application/problem+json"
    assert (data["type"], data["title"], data["status"]) == (
        "epcisException:QueryParameterException", "The query was refused", 400)
    assert data["detail"].startswith(message)
    assert data["problems"] == [{"pointer": parameter, "code": "query.parameter",
                                 "message": data["detail"]}]


def test_pages_follow_the_link_until_the_last(chain, reader):
    seen, url, pages = [], "/epcis/events?perPage=3&eventType=ObjectEvent,AggregationEvent," \
                           "TransactionEvent,TransformationEvent,AssociationEvent", 0
    while url:
        resp = reader.get(url)
        seen += numbers(resp)
        pages += 1
        link = resp.headers.get("Link")
        url = link[1:link.index(">")] if link else None
        if url:
            assert link.endswith('>; rel="next"')
            assert parse_qs(urlparse(url).query)["perPage"] == ["3"]
    assert (pages, seen) == (3, [1, 2, 3, 4, 5, 6, 7, 8])


def test_an_exact_last_page_has_no_next_link(chain, reader):
    resp = get(reader, {"perPage": "8"})
    assert numbers(resp) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert "Link" not in resp.headers


def test_pages_stay_stable_while_events_are_captured(chain, reader, enterprise_user):
    first = get(reader, {"perPage": "4"})
    link = first.headers["Link"]
    services.capture_document(actor=enterprise_user, raw=body(document(
        event("ObjectEvent", 9, 1, epcList=[DRUM.format(5)], action="OBSERVE"))))
    token = parse_qs(urlparse(link[1:link.index(">")]).query)["nextPageToken"][0]
    rest = get(reader, {"perPage": "100", "nextPageToken": token})  # another page size
    assert numbers(first) + numbers(rest) == [1, 2, 3, 4, 5, 6, 7, 8, 9]


def test_a_token_only_serves_its_own_query(chain, reader):
    link = get(reader, {"perPage": "2", "eventType": "ObjectEvent"}).headers["Link"]
    token = parse_qs(urlparse(link[1:link.index(">")]).query)["nextPageToken"][0]
    assert numbers(get(reader, {"perPage": "2", "eventType": "ObjectEvent",
                                "nextPageToken": token})) == [7, 8]
    other = get(reader, {"perPage": "2", "nextPageToken": token})
    assert other.status_code == 400
    assert other.json()["problems"][0]["pointer"] == "nextPageToken"
    forged = get(reader, {"perPage": "2", "eventType": "ObjectEvent",
                          "nextPageToken": token[:-2] + ("AA" if token[-2:] != "AA" else "BB")})
    assert forged.status_code == 400


@pytest.mark.parametrize(("epc", "expected"), [
    (DRUM.format(1001), {1, 2, 4}),
    (dl(DRUM.format(1002)), {1, 2, 6, 8}),
    (PALLET, {2, 3}),
    (CABLE_BATCH, {2, 5}),  # a batch: every event that names it with a quantity
    (COPPER_BATCH, {5}),
    ("urn:epc:id:sgtin:6901234.012345.4040", set()),
])
def test_events_by_epc_in_any_role(epc, expected, chain, reader):
    resp = reader.get(f"/epcis/epcs/{quote(epc, safe='')}/events")
    assert set(numbers(resp)) == expected


def test_events_by_epc_take_the_query_parameters(chain, reader):
    resp = get(reader, {"eventType": "ObjectEvent"},
               f"/epcis/epcs/{quote(DRUM.format(1002), safe='')}/events")
    assert numbers(resp) == [1, 8]


def test_the_list_runs_a_fixed_number_of_queries(enterprise_user, reader):
    """Two queries per page whatever its size (events, and their captures' contexts),
    plus the session's: no query per event."""
    counts = []
    get(reader, {})  # the reader's scope is looked up once, then kept
    for n in (1, 3):
        for i in range(n):
            services.capture_document(actor=enterprise_user, raw=body(document(
                event("ObjectEvent", 100 * n + i, 1, epcList=[DRUM.format(100 * n + i)],
                      action="OBSERVE"))))
        with CaptureQueriesContext(connection) as queries:
            assert len(events_of(get(reader, {"perPage": "100"}))) == Capture.objects.count()
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_every_parameter_is_documented():
    from pathlib import Path

    from zhijian.traceability.query import PARAMETERS

    text = (Path(__file__).resolve().parents[2] / "docs" / "epcis.md").read_text()
    section = text[text.index("### 2.1 Parameters"):text.index("### 2.2 Pages")]
    assert [p for p in PARAMETERS if f"`{p}`" not in section] == []
