"""The CBV 2.0 event hash ID (docs/event-hash.md), against the conformance vectors and rule
by rule.

The module is pure standard-library Python: these tests call it directly and need no
database. The vectors are read at test time from ../shared/conformance/epcis/event-hash
(NAME.jsonld, NAME.prehashes, NAME.hashes); without that directory the vector tests are
skipped and say so."""

from __future__ import annotations

import ast
import copy
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhijian.traceability import eventhash
from zhijian.traceability.eventhash import (
    EventHashError,
    canonical_digital_link,
    canonical_number,
    canonical_timestamp,
    check_digit,
    document_hashes,
    document_prehashes,
    epc_to_digital_link,
    event_hash_id,
    hash_id,
    prehash,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT.parent / "shared" / "conformance" / "epcis" / "event-hash"
DOC = ROOT / "docs" / "event-hash.md"
MODULE = ROOT / "zhijian" / "traceability" / "eventhash.py"

needs_vectors = pytest.mark.skipif(
    not VECTORS.is_dir(), reason=f"the event-hash conformance vectors are not at {VECTORS}")

# Vectors whose source document was XML: hashes (and pre-hashes) but no JSON-LD to hash.
XML_ONLY = {
    "SensorDataExamples",
    "epcisDocHavingTooManyUserExtensions",  # pre-hashes only, no hashes either
    "epcisDocWith2DifferentTransformationEvents",
    "epcisDocWithTransformationEventWithExtension",
    "epcisDocWithTransformationEventWithMultipleExtensions",
    "epcisXmlDocHavingEventWithIgnoreFields",
    "epcisXmlQueryDocHavingEventWithIgnoreFields",
}

# Lines of NAME.prehashes (0-based) that are damaged in the vector set itself: their own
# SHA-256 is not the hash ID on the same line of NAME.hashes (garbled, truncated, or the
# first event's string reordered), so no implementation can equal both. The hash IDs are
# authoritative: for these lines the test checks the hash ID and that the line is indeed
# inconsistent, so that it fails (and this set must shrink) once the vectors are repaired.
DAMAGED_PREHASH_LINES = {
    ("epcisDocWithAllGS1Keys", 0),
    ("epcisDocWithCustomSchemaInContext", 1),
    ("epcisDocWithDefaultSchemaInContext", 1),
}


def _names() -> list[str]:
    return sorted(p.stem for p in VECTORS.glob("*.jsonld")) if VECTORS.is_dir() else []


def _names_with_prehashes() -> list[str]:
    return [name for name in _names() if (VECTORS / f"{name}.prehashes").exists()]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _document(name: str) -> dict:
    return json.loads((VECTORS / f"{name}.jsonld").read_text(encoding="utf-8"))


# --- the conformance vectors ---------------------------------------------------------------

@needs_vectors
def test_the_vector_set_is_the_one_this_module_was_checked_against():
    stems = {p.name.split(".")[0] for p in VECTORS.iterdir() if p.name != "LICENSE"}
    assert set(_names()) == stems - XML_ONLY
    assert len(_names()) == 22
    assert sum(len(_lines(VECTORS / f"{n}.hashes")) for n in _names()) == 43
    # A JSON-LD vector without pre-hashes: only its hash ID is checked.
    assert set(_names()) - set(_names_with_prehashes()) == {"epcisDocHavingEventWithComment"}
    for name in XML_ONLY:
        assert not (VECTORS / f"{name}.jsonld").exists()


@needs_vectors
@pytest.mark.parametrize("name", _names() or ["(no vectors)"])
def test_hash_ids_equal_the_vector(name):
    expected = _lines(VECTORS / f"{name}.hashes")
    assert expected, f"{name}.hashes is empty"
    assert document_hashes(_document(name)) == expected


@needs_vectors
@pytest.mark.parametrize("name", _names_with_prehashes() or ["(no vectors)"])
def test_prehash_strings_equal_the_vector(name):
    expected = _lines(VECTORS / f"{name}.prehashes")
    expected_hashes = _lines(VECTORS / f"{name}.hashes")
    actual = document_prehashes(_document(name))
    assert len(actual) == len(expected) == len(expected_hashes)
    for i, (ours, theirs) in enumerate(zip(actual, expected, strict=True)):
        assert hash_id(ours) == expected_hashes[i]
        if (name, i) in DAMAGED_PREHASH_LINES:
            assert hash_id(theirs) != expected_hashes[i], (
                f"{name}.prehashes line {i + 1} is consistent now: remove it from "
                "DAMAGED_PREHASH_LINES")
            assert ours != theirs
        else:
            assert ours == theirs, f"{name}: event {i + 1}"


@needs_vectors
def test_every_other_prehash_line_of_the_vector_set_is_consistent_with_its_hash():
    damaged = set()
    for path in sorted(VECTORS.glob("*.prehashes")):
        hashes = _lines(path.with_suffix(".hashes"))
        for i, (line, expected) in enumerate(zip(_lines(path), hashes, strict=False)):
            if hashlib.sha256(line.encode()).hexdigest() not in expected:
                damaged.add((path.stem, i))
    assert damaged == DAMAGED_PREHASH_LINES


@needs_vectors
def test_the_damaged_prehash_lines_differ_from_ours_only_where_they_are_damaged():
    ours = document_prehashes(_document("epcisDocWithDefaultSchemaInContext"))[1]
    theirs = _lines(VECTORS / "epcisDocWithDefaultSchemaInContext.prehashes")[1]
    assert ours.startswith(theirs) and len(ours) - len(theirs) == 96  # truncated line
    ours = document_prehashes(_document("epcisDocWithAllGS1Keys"))[0]
    assert ours.count("epc=https://id.gs1.org/") == 14
    assert ours.count("quantityElementepcClass=https://id.gs1.org/") == 7


@needs_vectors
def test_a_comment_does_not_enter_the_hash():
    # The same event with and without rdfs:comment: the comment document's hash equals
    # the first event of the query document.
    commented = document_hashes(_document("epcisDocHavingEventWithComment"))
    assert commented == document_hashes(_document("epcisQueryDocument"))[:1]
    assert commented == _lines(VECTORS / "epcisDocHavingEventWithComment.hashes")


# Events of the XML-only vectors, written as JSON-LD by hand: they pin rules that no JSON
# vector shows (sensorElementList before bizTransactionList; booleanValue; a namespace
# without a trailing slash).
XML_RENDITIONS = [
    ("SensorDataExamples", 10, None, {
        "type": "TransactionEvent",
        "eventTime": "2020-07-03T00:05:00-06:00", "eventTimeZoneOffset": "-06:00",
        "bizTransactionList": [
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345123456:RE100099"}],
        "epcList": ["urn:epc:id:sgtin:0614141.107340.2", "urn:epc:id:sgtin:0614141.107340.1"],
        "action": "ADD", "bizStep": "inspecting", "disposition": "needs_replacement",
        "readPoint": {"id": "urn:epc:id:sgln:4012345.00000.5"},
        "sensorElementList": [{"sensorReport": [
            {"type": "gs1:MT-EffectiveDoseRate", "value": 0.005, "uom": "P71"}]}],
    }),
    ("SensorDataExamples", 8, None, {
        "type": "ObjectEvent",
        "eventTime": "2020-05-07T16:00:00+01:00", "eventTimeZoneOffset": "+01:00",
        "epcList": ["https://id.gs1.org/01/04012345111118/21/9876"],
        "action": "OBSERVE", "bizStep": "sensor_reporting",
        "readPoint": {"id": "https://id.gs1.org/414/4012345000054"},
        "sensorElementList": [{"sensorReport": [
            {"type": "gs1:AT-Error_condition", "uriValue": "https://example.com/ErrorCode-A827"},
            {"type": "gs1:AT-Alarm_condition", "booleanValue": True}]}],
    }),
    ("epcisDocWithTransformationEventWithExtension", 0,
     [{"circ4life": "https://circ4life.eecc.info/epcis"}], {
         "type": "TransformationEvent",
         "eventTime": "2022-02-16T10:40:21.314+02:00", "eventTimeZoneOffset": "+02:00",
         "inputEPCList": ["urn:epc:id:sgtin:4047111.012345.2222",
                          "urn:epc:id:sgtin:4047111.012345.1111"],
         "outputEPCList": ["urn:epc:id:sgtin:4047111.012345.3333"],
         "bizStep": "urn:epcglobal:cbv:bizstep:repairing",
         "disposition": "urn:epcglobal:cbv:disp:damaged",
         "circ4life:lifeTime": "P3Y",
     }),
]


@needs_vectors
@pytest.mark.parametrize(("name", "line", "context", "event"), XML_RENDITIONS,
                         ids=[f"{n}-{i + 1}" for n, i, _, _ in XML_RENDITIONS])
def test_json_renditions_of_xml_only_vectors(name, line, context, event):
    assert prehash(event, context) == _lines(VECTORS / f"{name}.prehashes")[line]
    assert event_hash_id(event, context) == _lines(VECTORS / f"{name}.hashes")[line]


# --- what changes the hash and what does not ------------------------------------------------

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
           {"ex": "https://ns.example.com/epcis/"}]

BASE = {
    "type": "ObjectEvent",
    "eventID": "urn:uuid:7a0f3c2e-4d1b-4e55-9c1a-2b3c4d5e6f70",
    "recordTime": "2024-03-05T09:31:02.000Z",
    "eventTime": "2024-03-05T09:30:15.123+08:00",
    "eventTimeZoneOffset": "+08:00",
    "certificationInfo": "https://cert.example.org/ABC",
    "epcList": ["urn:epc:id:sgtin:6901234.012345.B-0001", "urn:epc:id:sgtin:6901234.012345.B-0002"],
    "quantityList": [{"epcClass": "urn:epc:class:lgtin:6901234.012345.L1", "quantity": 2.5,
                      "uom": "KGM"}],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "persistentDisposition": {"set": ["recalled"]},
    "readPoint": {"id": "urn:epc:id:sgln:6901234.00001.0", "ex:dock": "D1"},
    "bizLocation": {"id": "urn:epc:id:sgln:6901234.00001.7"},
    "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epc:id:gdti:6901234.00002.PO1"}],
    "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:6901234.00000"}],
    "destinationList": [{"type": "owning_party", "destination": "urn:epc:id:pgln:6905678.00000"}],
    "sensorElementList": [{
        "sensorMetadata": {"time": "2024-03-05T01:00:00Z", "deviceID": "urn:epc:id:giai:6901234.S1"},
        "sensorReport": [{"type": "Temperature", "value": 21.5, "uom": "CEL"},
                         {"type": "Humidity", "value": 40, "uom": "P1"}],
    }],
    "ilmd": {"ex:lot": "L1"},
    "ex:note": {"ex:a": "1", "ex:b": ["x", "y"]},
}

CHANGES = [
    ("type", "AggregationEvent"),
    ("eventTime", "2024-03-05T09:30:15.124+08:00"),
    ("eventTimeZoneOffset", "+09:00"),
    ("certificationInfo", "https://cert.example.org/ABD"),
    ("epcList.1", "urn:epc:id:sgtin:6901234.012345.B-0003"),
    ("quantityList.0.quantity", 2.6),
    ("quantityList.0.uom", "LTR"),
    ("quantityList.0.epcClass", "urn:epc:class:lgtin:6901234.012345.L2"),
    ("action", "ADD"),
    ("bizStep", "receiving"),
    ("disposition", "in_progress"),
    ("persistentDisposition.set.0", "damaged"),
    ("readPoint.id", "urn:epc:id:sgln:6901234.00001.1"),
    ("readPoint.ex:dock", "D2"),
    ("bizLocation.id", "urn:epc:id:sgln:6901234.00001.8"),
    ("bizTransactionList.0.type", "inv"),
    ("bizTransactionList.0.bizTransaction", "urn:epc:id:gdti:6901234.00002.PO2"),
    ("sourceList.0.type", "possessing_party"),
    ("sourceList.0.source", "urn:epc:id:pgln:6901234.00001"),
    ("destinationList.0.destination", "urn:epc:id:pgln:6905678.00001"),
    ("sensorElementList.0.sensorMetadata.time", "2024-03-05T01:00:01Z"),
    ("sensorElementList.0.sensorMetadata.deviceID", "urn:epc:id:giai:6901234.S2"),
    ("sensorElementList.0.sensorReport.0.value", 21.6),
    ("sensorElementList.0.sensorReport.1.type", "AbsoluteHumidity"),
    ("ilmd.ex:lot", "L2"),
    ("ex:note.ex:a", "2"),
    ("ex:note.ex:b.1", "z"),
]


def _set(event: dict, path: str, value) -> dict:
    event = copy.deepcopy(event)
    *parents, last = path.split(".")
    target = event
    for step in parents:
        target = target[int(step)] if isinstance(target, list) else target[step]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return event


def test_the_base_event_prehash():
    assert prehash(BASE, CONTEXT) == (
        "eventType=ObjectEventeventTime=2024-03-05T01:30:15.123ZeventTimeZoneOffset=+08:00"
        "certificationInfo=https://cert.example.org/ABC"
        "epcListepc=https://id.gs1.org/01/06901234123456/21/B-0001"
        "epc=https://id.gs1.org/01/06901234123456/21/B-0002"
        "quantityListquantityElementepcClass=https://id.gs1.org/01/06901234123456/10/L1"
        "quantity=2.5uom=KGM"
        "action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-shipping"
        "disposition=https://ref.gs1.org/cbv/Disp-in_transit"
        "persistentDispositionset=https://ref.gs1.org/cbv/Disp-recalled"
        "readPointid=https://id.gs1.org/414/6901234000016{https://ns.example.com/epcis/}dock=D1"
        "bizLocationid=https://id.gs1.org/414/6901234000016/254/7"
        "sensorElementListsensorElementsensorMetadatatime=2024-03-05T01:00:00.000Z"
        "deviceID=https://id.gs1.org/8004/6901234S1"
        "sensorReporttype=https://gs1.org/voc/Humidityvalue=40uom=P1"
        "sensorReporttype=https://gs1.org/voc/Temperaturevalue=21.5uom=CEL"
        "bizTransactionListtype=https://ref.gs1.org/cbv/BTT-po"
        "bizTransaction=https://id.gs1.org/253/6901234000023PO1"
        "destinationListtype=https://ref.gs1.org/cbv/SDT-owning_party"
        "destination=https://id.gs1.org/417/6905678000007"
        "sourceListtype=https://ref.gs1.org/cbv/SDT-owning_party"
        "source=https://id.gs1.org/417/6901234000009"
        "ilmd{https://ns.example.com/epcis/}lot=L1"
        "{https://ns.example.com/epcis/}note{https://ns.example.com/epcis/}a=1"
        "{https://ns.example.com/epcis/}b=x{https://ns.example.com/epcis/}b=y")


@pytest.mark.parametrize(("path", "value"), CHANGES, ids=[p for p, _ in CHANGES])
def test_a_change_of_a_hashed_field_changes_the_hash(path, value):
    assert event_hash_id(_set(BASE, path, value), CONTEXT) != event_hash_id(BASE, CONTEXT)


def test_every_hashed_field_changes_give_distinct_hashes():
    hashes = {event_hash_id(_set(BASE, path, value), CONTEXT) for path, value in CHANGES}
    assert len(hashes) == len(CHANGES)
    assert event_hash_id(BASE, CONTEXT) not in hashes


@pytest.mark.parametrize("field", ["ex:note", "ilmd", "sensorElementList", "sourceList",
                                   "certificationInfo", "bizLocation", "epcList"])
def test_adding_or_removing_a_field_changes_the_hash(field):
    without = {k: v for k, v in BASE.items() if k != field}
    assert event_hash_id(without, CONTEXT) != event_hash_id(BASE, CONTEXT)


SAME = [
    ("eventID", "urn:uuid:00000000-0000-4000-8000-000000000000"),
    ("recordTime", "2030-01-01T00:00:00Z"),
    ("id", "https://id.example.org/event/1"),
    ("errorDeclaration", {"declarationTime": "2024-03-06T00:00:00Z", "reason": "incorrect_data"}),
    ("rdfs:comment", "observed at the dock"),
    ("eventTime", "2024-03-05T01:30:15.1229Z"),  # the same instant in UTC, rounded
    ("bizStep", "https://ref.gs1.org/cbv/BizStep-shipping"),
    ("disposition", "urn:epcglobal:cbv:disp:in_transit"),
    ("readPoint.id", "https://example.com/gln/6901234000016?linkType=gs1:pip"),
    ("epcList", ["https://id.gs1.org/01/06901234123456/21/B-0002",
                 " urn:epc:id:sgtin:6901234.012345.B-0001 "]),
    ("quantityList.0.quantity", "2.50"),
    ("sensorElementList.0.sensorReport.0.type", "gs1:Temperature"),
]


@pytest.mark.parametrize(("path", "value"), SAME, ids=[p for p, _ in SAME])
def test_what_does_not_change_the_hash(path, value):
    assert event_hash_id(_set(BASE, path, value), CONTEXT) == event_hash_id(BASE, CONTEXT)


def test_neither_eventid_nor_recordtime_enter_the_prehash():
    bare = {k: v for k, v in BASE.items() if k not in ("eventID", "recordTime")}
    assert prehash(bare, CONTEXT) == prehash(BASE, CONTEXT)
    assert "7a0f3c2e" not in prehash(BASE, CONTEXT) and "09:31:02" not in prehash(BASE, CONTEXT)


def test_the_prefix_name_does_not_matter_only_the_namespace():
    renamed = json.loads(json.dumps(BASE).replace('"ex:', '"other:'))
    context = [CONTEXT[0], {"other": "https://ns.example.com/epcis/"}]
    assert event_hash_id(renamed, context) == event_hash_id(BASE, CONTEXT)
    full = json.loads(json.dumps(BASE).replace('"ex:', '"https://ns.example.com/epcis/'))
    assert event_hash_id(full, None) == event_hash_id(BASE, CONTEXT)
    other_namespace = [CONTEXT[0], {"ex": "https://ns.example.com/epcis/v2/"}]
    assert event_hash_id(BASE, other_namespace) != event_hash_id(BASE, CONTEXT)


def test_an_event_level_context_adds_to_the_document_context():
    event = dict(BASE, **{"@context": {"ex": "https://ns.example.com/epcis/"}})
    assert event_hash_id(event, None) == event_hash_id(BASE, CONTEXT)


def test_ignore_leaves_out_user_fields_only():
    assert (prehash(BASE, CONTEXT, ignore=["ex:note"])
            == prehash({k: v for k, v in BASE.items() if k != "ex:note"}, CONTEXT))
    assert (prehash(BASE, CONTEXT, ignore=["{https://ns.example.com/epcis/}note"])
            == prehash(BASE, CONTEXT, ignore=["ex:note"]))
    assert prehash(BASE, CONTEXT, ignore=["bizStep", "epcList"]) == prehash(BASE, CONTEXT)


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False))
def test_field_order_and_list_order_do_not_matter(rnd):
    def shuffle(value):
        if isinstance(value, dict):
            items = list(value.items())
            rnd.shuffle(items)
            return {k: shuffle(v) for k, v in items}
        if isinstance(value, list):
            items = [shuffle(v) for v in value]
            rnd.shuffle(items)
            return items
        return value
    assert prehash(shuffle(BASE), CONTEXT) == prehash(BASE, CONTEXT)


# --- values ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("given_", "expected"), [
    ("2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"),
    ("2023-02-02T11:04:03.1414Z", "2023-02-02T11:04:03.141Z"),
    ("2023-02-02T11:04:03.1425Z", "2023-02-02T11:04:03.143Z"),  # the 4th digit decides
    ("2023-02-02T11:04:03.14149999Z", "2023-02-02T11:04:03.141Z"),
    ("2023-12-31T23:59:59.9995Z", "2024-01-01T00:00:00.000Z"),
    ("2005-04-03T20:33:31.116000-06:00", "2005-04-04T02:33:31.116Z"),
    ("2020-03-04T11:00:30+01:00", "2020-03-04T10:00:30.000Z"),
    ("2020-03-04T00:30:00+05:45", "2020-03-03T18:45:00.000Z"),
    ("2024-02-28T24:00:00Z", "2024-02-29T00:00:00.000Z"),
    ("2023-10-09", "2023-10-09"),  # not a timestamp: unchanged
    ("2023-02-30T00:00:00Z", "2023-02-30T00:00:00Z"),
    ("2023-02-02T11:04:03", "2023-02-02T11:04:03"),  # no zone: unchanged
])
def test_timestamps(given_, expected):
    assert canonical_timestamp(given_) == expected


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 1, 1)),
       st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_a_timestamp_is_the_same_instant_in_any_offset(moment, minutes):
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=UTC)
    local = moment.astimezone(timezone(timedelta(minutes=minutes)))
    text = local.isoformat(timespec="milliseconds")
    assert canonical_timestamp(text) == moment.strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z")


@pytest.mark.parametrize(("given_", "expected"), [
    (452.0, "452"), (26, "26"), (0.1, "0.1"), (12.10, "12.1"), ("12.10", "12.1"),
    ("+1.0", "1"), ("-0.0", "0"), (1.5e-07, "0.00000015"), (1e16, "10000000000000000"),
    ("0.3434", "0.3434"), (-2.50, "-2.5"),
])
def test_numbers(given_, expected):
    assert canonical_number(given_) == expected


def test_a_text_that_is_not_a_number_is_refused():
    with pytest.raises(EventHashError, match="'1,5' is not a number; give a decimal number"):
        canonical_number("1,5")


def test_quantities_in_text_are_numbers_but_other_text_is_kept():
    event = {"type": "ObjectEvent", "quantityList": [{"epcClass": "x", "quantity": "007.50"}],
             "ex:code": "007.50"}
    assert prehash(event, CONTEXT) == (
        "eventType=ObjectEventquantityListquantityElementepcClass=xquantity=7.5"
        "{https://ns.example.com/epcis/}code=007.50")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=17))
def test_the_check_digit_makes_the_weighted_sum_a_multiple_of_ten(digits):
    key = digits + check_digit(digits)
    assert sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(reversed(key))) % 10 == 0


@pytest.mark.parametrize(("epc", "expected"), [
    ("urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/04012345111118/21/9876"),
    ("urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()",
     "https://id.gs1.org/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29"),
    ("urn:epc:id:sscc:4012345.3111111111", "https://id.gs1.org/00/340123451111111111"),
    ("urn:epc:id:sgln:4012345.00005.0", "https://id.gs1.org/414/4012345000054"),
    ("urn:epc:id:sgln:4012345.00005.122", "https://id.gs1.org/414/4012345000054/254/122"),
    ("urn:epc:id:grai:4012345.00022.334455", "https://id.gs1.org/8003/04012345000221334455"),
    ("urn:epc:id:giai:4012345.ABC345", "https://id.gs1.org/8004/4012345ABC345"),
    ("urn:epc:id:gsrn:4012345.0000006765", "https://id.gs1.org/8018/401234500000067657"),
    ("urn:epc:id:gsrnp:4012345.0000000007", "https://id.gs1.org/8017/401234500000000074"),
    ("urn:epc:id:gdti:987659999999..9", "https://id.gs1.org/253/98765999999929"),
    ("urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234",
     "https://id.gs1.org/8010/061414111111111111111-A%23%2F/8011/1234"),
    ("urn:epc:id:sgcn:4012345.99999.44", "https://id.gs1.org/255/401234599999044"),
    ("urn:epc:id:ginc:0614141.xyz47%2F11", "https://id.gs1.org/401/0614141xyz47%2F11"),
    ("urn:epc:id:gsin:4012345.222333444", "https://id.gs1.org/402/40123452223334442"),
    ("urn:epc:id:itip:4012345.011111.01.02.987",
     "https://id.gs1.org/8006/040123451111180102/21/987"),
    ("urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB",
     "https://id.gs1.org/01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7'SDB"),
    ("urn:epc:id:pgln:999999999999.", "https://id.gs1.org/417/9999999999994"),
    ("urn:epc:class:lgtin:4012345.012345.Lot987", "https://id.gs1.org/01/04012345123456/10/Lot987"),
    ("urn:epc:idpat:sgtin:4054739.099914.*", "https://id.gs1.org/01/04054739999148"),
    ("urn:epc:idpat:itip:4012345.012345.01.02.*", "https://id.gs1.org/8006/040123451234560102"),
    ("urn:epc:idpat:grai:4012345.66666.*", "https://id.gs1.org/8003/04012345666663"),
    ("urn:epc:idpat:sgtin:4054739.*.*", None),  # no full key
    ("urn:epc:id:gid:95100000.12345.400", None),  # not a GS1 key
    ("urn:epc:id:sgtin:4012345.0111.9876", None),  # 11 digits, not 13
    ("urn:epcglobal:cbv:bt:4012345000009:ASN1099", None),
])
def test_epc_uris(epc, expected):
    assert epc_to_digital_link(epc) == expected


@pytest.mark.parametrize(("uri", "expected"), [
    ("https://id.gs1.de/00/040123451111111110", "https://id.gs1.org/00/040123451111111110"),
    ("https://example.com/gtin/09780345418913/21/765tz?abc=211121",
     "https://id.gs1.org/01/09780345418913/21/765tz"),
    ("https://id.gs1.org/gtin/09780345418913", "https://id.gs1.org/01/09780345418913"),
    ("https://example.com/shop/01/9780345418913/10/LOT1/21/S%2F1",
     "https://id.gs1.org/01/09780345418913/21/S%2F1"),  # padded GTIN, finest qualifier
    ("https://example.com/01/09780345418913/22/2A/10/LOT1", "https://id.gs1.org/01/09780345418913/10/LOT1"),
    ("http://id.example.org/8004/401234599999", "https://id.gs1.org/8004/401234599999"),
    ("https://id.gs1.org/414/4012345000245/254/1", "https://id.gs1.org/414/4012345000245/254/1"),
    ("https://id.gs1.org/8010/4012345ABC/8011/123#x", "https://id.gs1.org/8010/4012345ABC/8011/123"),
    ("https://id.gs1.org/01/0401234511111", "https://id.gs1.org/01/00401234511111"),  # GTIN-13
    ("http://www.opengis.net/def/crs/EPSG/0/27700", None),
    ("http://transaction.acme.com/po/12345678", None),
    ("https://id.gs1.org/01/ABC", None),
    ("geo:47.506694,11.104301", None),
])
def test_digital_link_uris(uri, expected):
    assert canonical_digital_link(uri) == expected


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=6, max_value=12), st.text(alphabet="0123456789", min_size=13,
                                                       max_size=13),
       st.text(alphabet="ABCxyz019-._'!()*+,:;=/&%\"<>?", min_size=1, max_size=20))
def test_an_sgtin_and_its_digital_link_give_the_same_value(cp_length, digits, serial):
    company_prefix, item_reference = digits[1:cp_length + 1], digits[0] + digits[cp_length + 1:]
    escaped = "".join(f"%{ord(c):02X}" if c in "\"%&/<>?" else c for c in serial)
    epc = f"urn:epc:id:sgtin:{company_prefix}.{item_reference}.{escaped}"
    gtin = digits[:13] + check_digit(digits[:13])
    link = f"https://brand.example.com/01/{gtin}/21/{quote(serial, safe='')}?linkType=all"
    assert epc_to_digital_link(epc) == canonical_digital_link(link)
    assert epc_to_digital_link(epc).startswith(f"https://id.gs1.org/01/{gtin}/21/")


def test_curies_and_bare_vocabulary():
    event = {"type": "ObjectEvent", "bizStep": "cbv:BizStep-receiving",
             "disposition": "urn:epcglobal:cbv:disp:in_progress",
             "sensorElementList": [{"sensorReport": [
                 {"type": "Temperature", "exception": "ALARM_CONDITION", "component": "x",
                  "uriValue": "ex:thing", "stringValue": "geo:1,2"}]}]}
    assert prehash(event, CONTEXT) == (
        "eventType=ObjectEventbizStep=https://ref.gs1.org/cbv/BizStep-receiving"
        "disposition=https://ref.gs1.org/cbv/Disp-in_progress"
        "sensorElementListsensorElementsensorReporttype=https://gs1.org/voc/Temperature"
        "exception=https://gs1.org/voc/ALARM_CONDITIONcomponent=https://ref.gs1.org/cbv/Comp-x"
        "stringValue=geo:1,2uriValue=https://ns.example.com/epcis/thing")


def test_a_user_vocabulary_uri_is_kept():
    event = {"type": "ObjectEvent", "bizStep": "http://epcis.example.com/user/vocab/bizstep/x"}
    assert prehash(event) == (
        "eventType=ObjectEventbizStep=http://epcis.example.com/user/vocab/bizstep/x")


def test_the_order_of_quantity_and_epc_lists_in_every_event_type():
    event = {
        "type": "TransformationEvent", "action": "ADD",  # not a field of this type: kept
        "outputQuantityList": [{"epcClass": "o", "quantity": 1}],
        "outputEPCList": ["e"], "inputQuantityList": [{"epcClass": "i"}],
        "childQuantityList": [{"epcClass": "c"}], "quantityList": [{"epcClass": "q"}],
        "childEPCs": ["c"], "inputEPCList": ["i"], "parentID": "p", "epcList": ["e"],
        "transformationID": "t",
    }
    assert prehash(event) == (
        "eventType=TransformationEventepcListepc=eparentID=pinputEPCListepc=i"
        "childEPCsepc=cquantityListquantityElementepcClass=q"
        "childQuantityListquantityElementepcClass=cinputQuantityListquantityElementepcClass=i"
        "outputEPCListepc=eoutputQuantityListquantityElementepcClass=oquantity=1"
        "action=ADDtransformationID=t")


def test_empty_values_and_lists_are_left_out():
    event = {"type": "ObjectEvent", "epcList": [], "disposition": "  ", "bizLocation": {},
             "readPoint": {"id": None}, "quantityList": [], "ex:flag": "", "ex:none": None}
    assert prehash(event, CONTEXT) == "eventType=ObjectEvent{https://ns.example.com/epcis/}flag"


def test_unicode_user_values_hash_as_utf8():
    event = {"type": "ObjectEvent", "ex:名称": "电缆 YJV22"}
    text = "eventType=ObjectEvent{https://ns.example.com/epcis/}名称=电缆 YJV22"
    assert prehash(event, CONTEXT) == text
    assert event_hash_id(event, CONTEXT) == (
        "ni:///sha-256;" + hashlib.sha256(text.encode("utf-8")).hexdigest() + "?ver=CBV2.0")


@pytest.mark.parametrize(("event", "message"), [
    ({"eventTime": "2024-01-01T00:00:00Z"}, "event: the field 'type' is missing"),
    ({"type": "ObjectEvent", "action": ["ADD"]}, "action: expected one value, got a list"),
    ({"type": "ObjectEvent", "epcList": [{"epc": "x"}]}, "epcList: expected a text or number"),
    ({"type": "ObjectEvent", "quantityList": ["x"]}, "quantityList[0]: expected an object"),
    ({"type": "ObjectEvent", "sensorElementList": [{"sensorReport": [3]}]},
     "sensorElementList[0].sensorReport[0]: expected an object"),
    ("not an event", "event: expected an object, got str"),
])
def test_malformed_events_are_refused_with_the_field_named(event, message):
    with pytest.raises(EventHashError) as excinfo:
        prehash(event)
    assert str(excinfo.value).startswith(message)


# --- documents and the command line -----------------------------------------------------------

def _doc(events, **extra):
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2024-03-05T00:00:00Z", "epcisBody": {"eventList": events}, **extra}


def test_document_hashes_use_the_document_context_and_ignore_fields():
    document = _doc([BASE, dict(BASE, **{"ex:hash": "ni:///sha-256;00?ver=CBV2.0"})],
                    **{"ex:ignoreFields": ["ex:hash"]})
    assert document_hashes(document) == [event_hash_id(BASE, CONTEXT)] * 2
    assert document_hashes(_doc([BASE])) == [event_hash_id(BASE, CONTEXT)]
    query = {"@context": CONTEXT, "type": "EPCISQueryDocument", "epcisBody": {"queryResults": {
        "queryName": "SimpleEventQuery", "resultsBody": {"eventList": [BASE]}}}}
    assert document_hashes(query) == [event_hash_id(BASE, CONTEXT)]
    single = dict(BASE, **{"@context": CONTEXT})
    assert document_hashes(single) == [event_hash_id(BASE, CONTEXT)]


def test_a_document_without_events_is_refused():
    with pytest.raises(EventHashError, match="epcisBody: no eventList"):
        document_hashes({"type": "EPCISDocument", "epcisBody": {}})


@needs_vectors
def test_main_prints_the_hash_ids_and_prehashes(tmp_path):
    out = io.StringIO()
    assert eventhash.main([str(VECTORS / "epcisDocWithVariousEventTypes.jsonld")], out) == 0
    assert out.getvalue().splitlines() == _lines(VECTORS / "epcisDocWithVariousEventTypes.hashes")
    out = io.StringIO()
    assert eventhash.main(["--prehash", str(VECTORS / "persistentDisposition.jsonld")], out) == 0
    assert out.getvalue().splitlines() == _lines(VECTORS / "persistentDisposition.prehashes")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    out = io.StringIO()
    assert eventhash.main([str(tmp_path / "bad.json")], out) == 2
    assert out.getvalue().startswith(f"cannot hash {tmp_path / 'bad.json'}: ")
    out = io.StringIO()
    assert eventhash.main([], out) == 2
    assert out.getvalue().startswith("usage: eventhash.py")


def _run(args, cwd):
    # -S: no site module, so no site-packages (Django lives there); -E: no PYTHON* variables.
    return subprocess.run([sys.executable, "-S", "-E", *args], cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", timeout=120,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})


def test_without_site_packages_django_cannot_be_imported(tmp_path):
    proc = _run(["-c", "import django"], cwd=tmp_path)
    assert proc.returncode == 1 and "No module named 'django'" in proc.stderr


@needs_vectors
def test_the_module_alone_runs_with_the_standard_library_only(tmp_path):
    shutil.copy(MODULE, tmp_path / "eventhash.py")
    shutil.copy(VECTORS / "epcisDocWithVariousEventTypes.jsonld", tmp_path / "doc.jsonld")
    proc = _run(["eventhash.py", "doc.jsonld"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines() == _lines(VECTORS / "epcisDocWithVariousEventTypes.hashes")
    proc = _run(["eventhash.py", "--prehash", "doc.jsonld"], cwd=tmp_path)
    assert proc.stdout.splitlines() == _lines(
        VECTORS / "epcisDocWithVariousEventTypes.prehashes")


def test_the_module_imports_nothing_outside_the_standard_library():
    tree = ast.parse(MODULE.read_text(encoding="utf-8"))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names]
    imported += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert sorted(set(imported)) == [
        "__future__", "collections.abc", "datetime", "decimal", "hashlib", "json", "re", "sys",
        "urllib.parse"]
    assert all(name.split(".")[0] in sys.stdlib_module_names for name in imported)


# --- the worked example of docs/event-hash.md -------------------------------------------------

def test_the_worked_example_in_the_docs_is_what_the_code_computes():
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## 8. Worked example", 1)[1].split("\n## ", 1)[0]
    document = json.loads(re.search(r"```json\n(.*?)```", section, re.DOTALL).group(1))
    blocks = re.findall(r"```text\n(.*?)```", section, re.DOTALL)
    prehash_lines, hash_line = blocks[0].strip().splitlines(), blocks[1].strip()
    assert "".join(prehash_lines) == document_prehashes(document)[0]
    assert hash_line == document_hashes(document)[0]
    assert hash_line.startswith("ni:///sha-256;") and hash_line.endswith("?ver=CBV2.0")
