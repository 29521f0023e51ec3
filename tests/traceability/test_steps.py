"""The step builders (zhijian/traceability/steps.py, docs/capture-without-gs1.md §2): each
step's exact EPCIS 2.0 event, every built document valid under the EPCIS validator, the
refusals of bad input naming their field, and round trips of batches and quantities."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhijian.traceability import indexing, steps
from zhijian.traceability.eventhash import check_digit, event_hash_id
from zhijian.traceability.validation import REASON_FIELD, validate_document

GTIN13 = "6901234000016"
BATCH = "https://id.gs1.org/01/06901234000016/10/L2026A"
PLANT = "urn:zhijian:place:91610113MA6TEST01X:1"
STATION = "urn:zhijian:place:91610100MA6METRO0X:3"
MAKER = "urn:zhijian:party:91610113MA6TEST01X"
METRO = "https://id.gs1.org/417/6901234000009"
T = datetime(2026, 7, 22, 8, 30, tzinfo=steps.CHINA)
SDT = "https://ref.gs1.org/cbv/SDT-"
DRUM = steps.Batch(GTIN13, "L2026A", 5000, "m")


def built(step: str, **kwargs) -> dict:
    event = steps.build(step, time=T, batch=kwargs.pop("batch", DRUM), seed="test", **kwargs)
    assert uuid.UUID(event.pop("eventID").removeprefix("urn:uuid:")).version == 5
    return event


def valid(*events) -> None:
    doc = steps.document(list(events), created=T)
    result = validate_document(steps.encode(doc))
    assert result.errors == []


BASE = {"eventTime": "2026-07-22T08:30:00+08:00", "eventTimeZoneOffset": "+08:00"}
DRUM_LIST = [{"epcClass": BATCH, "quantity": 5000, "uom": "MTR"}]


def test_produce_commissions_the_batch_at_the_plant():
    event = built("produce", location=PLANT)
    assert event == {"type": "ObjectEvent", **BASE, "action": "ADD", "quantityList": DRUM_LIST,
                     "bizStep": "commissioning", "disposition": "active",
                     "readPoint": {"id": PLANT}, "bizLocation": {"id": PLANT}}
    valid(steps.build("produce", time=T, batch=DRUM, location=PLANT))


@pytest.mark.parametrize(("result", "disposition"), [
    ("pass", {"disposition": "conformant"}), ("fail", {"disposition": "non_conformant"}),
    ("", {})])
def test_inspect_records_the_result_as_disposition(result, disposition):
    event = built("inspect", location=PLANT, result=result, note="出厂检验")
    assert event == {"type": "ObjectEvent", **BASE, "action": "OBSERVE",
                     "quantityList": DRUM_LIST, "bizStep": "inspecting", **disposition,
                     "readPoint": {"id": PLANT}, "bizLocation": {"id": PLANT},
                     "zhijian:note": "出厂检验"}
    valid(event)


def test_ship_names_owning_and_possessing_party_and_the_destination():
    event = built("ship", from_party=MAKER, to_party=METRO, to_location=STATION)
    assert event == {
        "type": "ObjectEvent", **BASE, "action": "OBSERVE", "quantityList": DRUM_LIST,
        "bizStep": "shipping", "disposition": "in_transit",
        "sourceList": [{"type": SDT + "owning_party", "source": MAKER},
                       {"type": SDT + "possessing_party", "source": MAKER}],
        "destinationList": [{"type": SDT + "owning_party", "destination": METRO},
                            {"type": SDT + "possessing_party", "destination": METRO},
                            {"type": SDT + "location", "destination": STATION}]}
    valid(event)


def test_receive_at_a_location_from_a_party():
    event = built("receive", location=STATION, from_party=MAKER, to_party=METRO)
    assert event == {
        "type": "ObjectEvent", **BASE, "action": "OBSERVE", "quantityList": DRUM_LIST,
        "bizStep": "receiving", "disposition": "in_progress",
        "readPoint": {"id": STATION}, "bizLocation": {"id": STATION},
        "sourceList": [{"type": SDT + "owning_party", "source": MAKER},
                       {"type": SDT + "possessing_party", "source": MAKER}],
        "destinationList": [{"type": SDT + "owning_party", "destination": METRO},
                            {"type": SDT + "possessing_party", "destination": METRO}]}
    valid(event)


def test_cut_a_drum_into_a_length_with_its_own_lot():
    length = steps.Batch(GTIN13, "L2026A-01", "1000", "MTR")
    event = built("transform", batch=length, inputs=(steps.Batch(GTIN13, "L2026A", 1000, "米"),),
                  location=PLANT)
    assert event == {
        "type": "TransformationEvent", **BASE,
        "inputQuantityList": [{"epcClass": BATCH, "quantity": 1000, "uom": "MTR"}],
        "outputQuantityList": [{"epcClass": BATCH + "-01", "quantity": 1000, "uom": "MTR"}],
        "bizStep": "creating_class_instance", "disposition": "active",
        "readPoint": {"id": PLANT}, "bizLocation": {"id": PLANT}}
    valid(event)


def test_an_output_larger_than_the_inputs_is_refused_without_a_reason():
    more = steps.Batch(GTIN13, "L2026A-01", "5000.5", "m")
    with pytest.raises(steps.StepError) as exc:
        steps.build("transform", time=T, batch=more, inputs=(DRUM,))
    assert (exc.value.field, exc.value.code, exc.value.message) == (
        "quantity", "outputs.exceed_inputs",
        "The outputs total 5000.5 MTR, more than the inputs (5000 MTR). Correct the "
        "quantities, or give the reason the output is larger.")
    event = built("transform", batch=more, inputs=(DRUM,), reason="含护套增重")
    assert event["zhijian:quantityGainReason"] == "含护套增重"
    assert "zhijian:" + REASON_FIELD.removeprefix(steps.EXTENSION_NAMESPACE) in event
    valid(event)


def test_a_transformation_needs_inputs_and_a_new_lot():
    with pytest.raises(steps.StepError) as exc:
        steps.build("transform", time=T, batch=DRUM)
    assert (exc.value.field, exc.value.code) == ("inputs", "inputs.required")
    with pytest.raises(steps.StepError) as exc:
        steps.build("transform", time=T, batch=DRUM, inputs=(DRUM,))
    assert (exc.value.field, exc.value.code) == ("lot", "transform.same_batch")
    with pytest.raises(steps.StepError) as exc:
        steps.build("transform", time=T, batch=DRUM,
                    inputs=(steps.Batch(GTIN13, "CU 77", 1, "t"),))
    assert (exc.value.field, exc.value.code) == ("inputs[0].lot", "lot.format")


def test_install_recall_and_destroy():
    assert built("install", location=STATION, batch=steps.Batch(GTIN13, "L2026A", 820.5, "m")) \
        == {"type": "ObjectEvent", **BASE, "action": "OBSERVE",
            "quantityList": [{"epcClass": BATCH, "quantity": 820.5, "uom": "MTR"}],
            "bizStep": "installing", "readPoint": {"id": STATION},
            "bizLocation": {"id": STATION}}
    assert built("recall", location=STATION) == {
        "type": "ObjectEvent", **BASE, "action": "OBSERVE", "quantityList": DRUM_LIST,
        "bizStep": "holding", "disposition": "recalled", "readPoint": {"id": STATION},
        "bizLocation": {"id": STATION}}
    assert built("destroy") == {
        "type": "ObjectEvent", **BASE, "action": "DELETE", "quantityList": DRUM_LIST,
        "bizStep": "destroying", "disposition": "destroyed"}
    valid(*(steps.build(s, time=T, batch=DRUM, location=STATION)
            for s in ("install", "recall", "destroy")))


def test_all_eight_steps_make_one_valid_document_with_distinct_hash_ids():
    events = [steps.build(s, time=T, batch=DRUM if s != "transform" else
                          steps.Batch(GTIN13, "L2026A-01", 1000, "m"),
                          inputs=(DRUM,) if s == "transform" else (), location=PLANT,
                          from_party=MAKER, to_party=METRO) for s in steps.STEPS]
    valid(*events)
    context = steps.document(events, created=T)["@context"]
    assert len({event_hash_id(e, context) for e in events}) == 8


def test_event_ids_are_deterministic_with_a_seed_and_random_without():
    one = steps.build("produce", time=T, batch=DRUM, seed="file-1:2")
    assert one == steps.build("produce", time=T, batch=DRUM, seed="file-1:2")
    assert one["eventID"] != steps.build("produce", time=T, batch=DRUM, seed="file-1:3")[
        "eventID"]
    assert steps.build("produce", time=T, batch=DRUM)["eventID"] != steps.build(
        "produce", time=T, batch=DRUM)["eventID"]


def test_times_are_written_in_beijing_time():
    utc = datetime(2026, 7, 22, 0, 30, 15, 250000, tzinfo=UTC)
    assert steps.build("destroy", time=utc, batch=DRUM)["eventTime"] == (
        "2026-07-22T08:30:15.250+08:00")
    with pytest.raises(steps.StepError) as exc:
        steps.build("destroy", time=datetime(2026, 7, 22, 8, 30), batch=DRUM)
    assert (exc.value.field, exc.value.code) == ("time", "time.naive")


@pytest.mark.parametrize(("batch", "field", "code"), [
    (steps.Batch("6901234000017", "L1", 1, "m"), "gtin", "gtin.check_digit"),
    (steps.Batch("69012340000", "L1", 1, "m"), "gtin", "gtin.format"),
    (steps.Batch("", "L1", 1, "m"), "gtin", "required"),
    (steps.Batch(GTIN13, "批次1", 1, "m"), "lot", "lot.format"),
    (steps.Batch(GTIN13, "L" * 21, 1, "m"), "lot", "lot.format"),
    (steps.Batch(GTIN13, "", 1, "m"), "lot", "required"),
    (steps.Batch(GTIN13, "L1", "五千", "m"), "quantity", "quantity.format"),
    (steps.Batch(GTIN13, "L1", 0, "m"), "quantity", "quantity.not_positive"),
    (steps.Batch(GTIN13, "L1", "-3", "m"), "quantity", "quantity.not_positive"),
    (steps.Batch(GTIN13, "L1", 1, "卷"), "unit", "unit.unknown"),
])
def test_bad_input_is_refused_at_its_field(batch, field, code):
    with pytest.raises(steps.StepError) as exc:
        steps.build("produce", time=T, batch=batch)
    assert (exc.value.field, exc.value.code) == (field, code)
    assert exc.value.message  # every code has its English message


def test_gtin_check_digit_message():
    with pytest.raises(steps.StepError) as exc:
        steps.gtin14("6901234000017")
    assert exc.value.message == ("The GTIN 6901234000017 has the check digit 7 but should end "
                                 "in 6. Check the number on the bar code.")


def test_identifiers_of_places_and_parties():
    assert steps.party_identifier("6901234000009") == METRO
    assert steps.location_identifier("6901234000009") == "https://id.gs1.org/414/6901234000009"
    assert steps.location_identifier("6901234000009", "D 1") == (
        "https://id.gs1.org/414/6901234000009/254/D%201")
    assert steps.platform_party("91610113ma6test01x") == MAKER
    assert steps.platform_place("91610113MA6TEST01X", 1) == PLANT
    with pytest.raises(steps.StepError) as exc:
        steps.party_identifier("6901234000008")
    assert exc.value.code == "gln.check_digit"


def test_units_from_words_and_codes():
    assert [steps.unit_code(w) for w in ("m", "米", "MTR", "KG", "吨", "件", "km", "Set")] == [
        "MTR", "MTR", "MTR", "KGM", "TNE", "H87", "KMT", "SET"]


def test_field_of_maps_pointers_to_step_inputs():
    event = built("ship", from_party=MAKER, to_party=METRO, to_location=STATION)
    assert steps.field_of(event, ["quantityList", "0", "quantity"]) == "quantity"
    assert steps.field_of(event, ["quantityList", "0", "epcClass"]) == "lot"
    assert steps.field_of(event, ["quantityList", "0", "uom"]) == "unit"
    assert steps.field_of(event, ["sourceList", "1", "source"]) == "from"
    assert steps.field_of(event, ["destinationList", "1", "destination"]) == "to"
    assert steps.field_of(event, ["destinationList", "2", "destination"]) == "to_location"
    assert steps.field_of(event, ["bizLocation", "id"]) == "location"
    assert steps.field_of(event, ["inputQuantityList", "0", "quantity"]) == "inputs"
    assert steps.field_of(event, ["eventTime"]) == "time"
    assert steps.field_of(event, ["bizStep"]) == ""


# --- round trips ----------------------------------------------------------------------------

CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
lots = st.text(alphabet=CSET82, min_size=1, max_size=20)
gtins = st.text(alphabet="0123456789", min_size=12, max_size=12).map(
    lambda body: body + check_digit(body))


@given(gtin=gtins, lot=lots)
def test_a_batch_is_its_own_canonical_digital_link(gtin, lot):
    key = steps.batch_class(gtin, lot)
    assert indexing.identifier(key) == key
    prefix = f"https://id.gs1.org/01/0{gtin}/10/"
    assert key.startswith(prefix) and unquote(key[len(prefix):]) == lot
    # the same batch written on another domain is the same key
    assert indexing.identifier(key.replace("https://id.gs1.org", "https://example.cn")) == key


@given(amount=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1e9"), places=3))
def test_quantities_keep_their_value(amount):
    assert Decimal(repr(steps.quantity_value(amount))) == amount
    assert Decimal(repr(steps.quantity_value(str(amount)))) == amount


@given(gtin=gtins, lot=lots, step=st.sampled_from([s for s in steps.STEPS if s != "transform"]),
       amount=st.integers(min_value=1, max_value=10**9))
def test_every_built_event_is_valid_epcis(gtin, lot, step, amount):
    event = steps.build(step, time=T, batch=steps.Batch(gtin, lot, amount, "t"),
                        location=PLANT, from_party=MAKER, to_party=METRO)
    valid(event)
    assert event["quantityList"] == [{"epcClass": steps.batch_class(gtin, lot),
                                      "quantity": amount, "uom": "TNE"}]
