"""EPCIS 2.0 capture validation (docs/epcis-validation.md): the OpenEPCIS conformance
documents from ../shared/conformance (read at test time, never copied into the project),
one document per rule that breaks only that rule, and a property test that deleting any
required field is refused with a pointer to where it was."""

import copy
import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhijian.traceability import validation as v
from zhijian.traceability.identifiers import gs1_check_digit
from zhijian.traceability.validation import validate_document, validate_event

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = Path(os.environ.get("ZHIJIAN_CONFORMANCE",
                                  ROOT.parent / "shared" / "conformance"))
CAPTURE = CONFORMANCE / "epcis" / "openepcis" / "Capture"
MISSING = f"the EPCIS conformance material is not at {CAPTURE} (set ZHIJIAN_CONFORMANCE)"
needs_conformance = pytest.mark.skipif(not CAPTURE.is_dir(), reason=MISSING)


def names(folder):
    found = sorted(p.name for p in (CAPTURE / folder).glob("*.json"))
    return found or [pytest.param("-", marks=pytest.mark.skip(reason=MISSING))]


def raw(folder, name) -> bytes:
    return (CAPTURE / folder / name).read_bytes()


def found(result):
    return [(p.pointer, p.code) for p in result.errors]


def pointer(path) -> str:
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in path)


# --- conformance -------------------------------------------------------------------------

@pytest.mark.parametrize("name", names("Documents"))
def test_every_valid_capture_document_is_accepted(name):
    result = validate_document(raw("Documents", name))
    assert found(result) == []
    assert result.ok
    assert result.document["type"] == "EPCISDocument"


@pytest.mark.parametrize("name", names("Events"))
def test_every_valid_single_event_is_accepted(name):
    result = validate_event(raw("Events", name))
    assert found(result) == []
    assert result.document["type"] == name.removesuffix(".json")


E0, E1, E2, E3, E4 = (f"/epcisBody/eventList/{i}" for i in range(5))
#: The real fault of each Invalid document, every problem in document order.
INVALID = {
    # event 0 has no action; event 1 has neither eventTimeZoneOffset nor action
    "Combination_of_events_with_missing_mandatory_fields.json": [
        (f"{E0}/action", "schema.required"),
        (f"{E1}/eventTimeZoneOffset", "schema.required"),
        (f"{E1}/action", "schema.required"),
    ],
    # one fault per event: bare non-CBV bizStep, bare non-CBV disposition, non-CBV
    # source type, un-namespaced ILMD field, then a non-RFC 3339 eventTime and action CREATE
    "Combination_of_multiple_invalid_fields.json": [
        (f"{E0}/bizStep", "vocabulary.unknown_term"),
        (f"{E1}/disposition", "vocabulary.unknown_term"),
        (f"{E2}/sourceList/0/type", "vocabulary.unknown_term"),
        (f"{E3}/ilmd/materialType", "extension.not_namespaced"),
        (f"{E4}/eventTime", "schema.date_time"),
        (f"{E4}/action", "schema.enum"),
    ],
    "Combination_of_non_standard_bizStep_and_disposition.json": [
        (f"{E0}/bizStep", "vocabulary.unknown_term"),
        (f"{E1}/disposition", "vocabulary.unknown_term"),
    ],
    "EPCISDocument_without_context.json": [("/@context", "schema.required")],
    "ObjectEvent_with_ilmd_field_without_namespace.json": [
        (f"{E0}/ilmd/materialType", "extension.not_namespaced"),
    ],
    "ObjectEvent_with_invalid_action.json": [(f"{E0}/action", "schema.enum")],
    # certificationInfo is a URI or a list of URIs (the EPCIS context types it @id); both
    # entries are gs1:CertificationDetails objects, so the first fault is entry 0 (the
    # malformed audit date inside entry 1 is moot: no object may stand there at all)
    "ObjectEvent_with_invalid_certificationInfo.json": [
        (f"{E0}/certificationInfo/0", "schema.type"),
        (f"{E0}/certificationInfo/1", "schema.type"),
    ],
    "ObjectEvent_with_invalid_eventTime_format.json": [(f"{E0}/eventTime", "schema.date_time")],
    "ObjectEvent_with_non_standard_bizStep.json": [(f"{E0}/bizStep", "vocabulary.unknown_term")],
    "ObjectEvent_with_non_standard_bizStep_in_second_event.json": [
        (f"{E1}/bizStep", "vocabulary.unknown_term"),
    ],
    "ObjectEvent_with_non_standard_disposition.json": [
        (f"{E0}/disposition", "vocabulary.unknown_term"),
    ],
    "ObjectEvent_with_quantity_as_text.json": [(f"{E0}/quantityList/0/quantity", "schema.type")],
    "ObjectEvent_with_unknown_field_in_quantityList.json": [
        (f"{E0}/quantityList/0/weight", "schema.unknown_field"),
    ],
    "ObjectEvent_without_action_and_eventTime.json": [
        (f"{E0}/eventTime", "schema.required"),
        (f"{E0}/eventTimeZoneOffset", "schema.required"),
        (f"{E0}/action", "schema.required"),
    ],
    "ObjectEvent_without_identifier_list.json": [(f"{E0}/epcList", "schema.required_one_of")],
}


@needs_conformance
def test_the_table_covers_every_conformance_file():
    assert sorted(p.name for p in (CAPTURE / "Invalid").glob("*.json")) == sorted(INVALID)
    assert len(list((CAPTURE / "Documents").glob("*.json"))) == 38
    assert len(list((CAPTURE / "Events").glob("*.json"))) == 5


@pytest.mark.parametrize("name", names("Invalid"))
def test_every_invalid_document_is_refused_for_its_real_fault(name):
    result = validate_document(raw("Invalid", name))
    assert not result.ok
    assert found(result) == INVALID[name]
    for problem in result.errors:  # every message renders with its parameters
        assert problem.message == v.MESSAGES[problem.code] % problem.message_params


@needs_conformance
def test_a_refusal_names_the_field_and_says_what_to_do():
    result = validate_document(raw("Invalid", "ObjectEvent_with_non_standard_disposition.json"))
    assert result.errors[0].message_params == {
        "field": "disposition", "value": "in_transport", "vocabulary": "disposition",
        "suggestion": "in_transit",
    }
    assert result.errors[0].message == (
        "disposition is in_transport, which is not a CBV 2.0 disposition term. Use a "
        "standard term such as in_transit, or a URI or prefix:name whose prefix is declared "
        "in @context.")


# --- a document that breaks one rule -------------------------------------------------------

@pytest.fixture
def doc():
    """A valid TransformationEvent document, built here so these tests run without the
    conformance material."""
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
                     {"ex": "https://ns.example.com/epcis/"}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-07-22T10:30:00+08:00",
        "epcisBody": {"eventList": [{
            "type": "TransformationEvent",
            "eventTime": "2026-07-22T09:00:00+08:00",
            "eventTimeZoneOffset": "+08:00",
            "inputQuantityList": [
                {"epcClass": "urn:epc:class:lgtin:6901234.012345.L1", "quantity": 100,
                 "uom": "KGM"},
                {"epcClass": "https://id.gs1.org/01/09521141012345/10/L2", "quantity": 2.5,
                 "uom": "KGM"},
            ],
            "outputQuantityList": [
                {"epcClass": "urn:epc:class:lgtin:6901234.012345.L1", "quantity": 40,
                 "uom": "KGM"},
                {"epcClass": "urn:epc:class:lgtin:6901234.054321.C7", "quantity": 300,
                 "uom": "MTR"},
            ],
            "outputEPCList": ["urn:epc:id:sgtin:6901234.054321.1001"],
            "bizStep": "commissioning",
            "disposition": "in_progress",
            "readPoint": {"id": "urn:epc:id:sgln:6901234.00001.0"},
            "ilmd": {"ex:batch": "B-7"},
        }]},
    }


def event(d):
    return d["epcisBody"]["eventList"][0]


def check(d):
    return validate_document(json.dumps(d).encode())


def test_the_fixture_document_is_valid(doc):
    assert found(check(doc)) == []


def test_a_transformation_that_outputs_more_than_its_inputs_is_refused(doc):
    outputs = event(doc)["outputQuantityList"]
    outputs.append({"epcClass": "urn:epc:class:lgtin:6901234.012345.L1", "quantity": 60.5,
                    "uom": "KGM"})  # 40 + 60.5 of the 100 kg that went in
    result = check(doc)
    assert found(result) == [(f"{E0}/outputQuantityList/0/quantity", "quantity.unbalanced")]
    assert result.errors[0].message_params == {
        "field": "quantity", "epc_class": "urn:epc:class:lgtin:6901234.012345.L1",
        "uom": "KGM", "input": "100", "output": "100.5", "reason_field": v.REASON_FIELD,
    }


def test_outputs_equal_to_the_inputs_balance(doc):
    event(doc)["outputQuantityList"][0]["quantity"] = 100
    assert found(check(doc)) == []


def test_a_declared_reason_allows_a_gain(doc):
    event(doc)["outputQuantityList"][0]["quantity"] = 130
    doc["@context"].append({"zj": "urn:zhijian:epcis:"})
    event(doc)["zj:quantityGainReason"] = "moisture absorbed during curing"
    assert found(check(doc)) == []
    event(doc)["zj:quantityGainReason"] = "  "  # an empty reason is no reason
    assert found(check(doc)) == [(f"{E0}/outputQuantityList/0/quantity", "quantity.unbalanced")]


def test_an_error_declaration_exempts_the_event_from_the_balance(doc):
    event(doc)["outputQuantityList"][0]["quantity"] = 130
    event(doc)["errorDeclaration"] = {"declarationTime": "2026-07-23T08:00:00+08:00",
                                      "reason": "incorrect_data"}
    assert found(check(doc)) == []


def test_another_unit_or_an_unstated_quantity_is_not_compared(doc):
    event(doc)["outputQuantityList"][0].update(quantity=130, uom="TNE")
    assert found(check(doc)) == []
    event(doc)["outputQuantityList"][0]["uom"] = "KGM"
    del event(doc)["inputQuantityList"][0]["quantity"]
    assert found(check(doc)) == []


def test_a_negative_quantity_is_refused(doc):
    event(doc)["inputQuantityList"][1]["quantity"] = -2
    assert found(check(doc)) == [(f"{E0}/inputQuantityList/1/quantity", "quantity.negative")]


@pytest.mark.parametrize(("value", "code", "params"), [
    ("shippping", "vocabulary.unknown_term",
     {"vocabulary": "bizStep", "suggestion": "shipping"}),
    ("https://ref.gs1.org/cbv/BizStep-shipp", "vocabulary.unknown_term",
     {"vocabulary": "bizStep", "suggestion": "shipping"}),
    ("cbv:Disp-recalled", "vocabulary.wrong_vocabulary",
     {"vocabulary": "bizStep", "found": "disposition"}),
    ("acme:curing", "vocabulary.undeclared_prefix", {"prefix": "acme"}),
    ("urn:epcglobal:cbv:bizstep:shipping", "vocabulary.obsolete_uri",
     {"suggestion": "shipping"}),
])
def test_a_bizstep_outside_the_cbv_is_refused(doc, value, code, params):
    event(doc)["bizStep"] = value
    result = check(doc)
    assert found(result) == [(f"{E0}/bizStep", code)]
    assert result.errors[0].message_params == {"field": "bizStep", "value": value, **params}


@pytest.mark.parametrize("value", [
    "shipping", "https://ref.gs1.org/cbv/BizStep-shipping", "cbv:BizStep-shipping",
    "ex:curing", "https://zhijian.example.org/bizstep/curing", "urn:example:bizstep:curing",
])
def test_a_cbv_term_or_a_declared_uri_is_accepted(doc, value):
    event(doc)["bizStep"] = value
    assert found(check(doc)) == []


def test_every_vocabulary_field_is_checked(doc):
    ev = event(doc)
    ev["persistentDisposition"] = {"set": ["recalled", "quarantined"]}
    ev["errorDeclaration"] = {"declarationTime": "2026-07-23T08:00:00+08:00",
                              "reason": "wrong_data"}
    ev["bizTransactionList"] = [{"type": "purchase_order",
                                 "bizTransaction": "urn:epcglobal:cbv:bt:6901234000017:PO1"}]
    ev["destinationList"] = [{"type": "owner", "destination": "urn:epc:id:pgln:6901234.00001"}]
    assert found(check(doc)) == [
        (f"{E0}/persistentDisposition/set/1", "vocabulary.unknown_term"),
        (f"{E0}/errorDeclaration/reason", "vocabulary.unknown_term"),
        (f"{E0}/bizTransactionList/0/type", "vocabulary.unknown_term"),
        (f"{E0}/destinationList/0/type", "vocabulary.unknown_term"),
    ]


def test_extension_fields_must_be_namespaced(doc):
    ev = event(doc)
    ev["ilmd"]["grade"] = "A"
    ev["acme:line"] = 3
    ev["readPoint"]["floor"] = 2
    ev["https://zhijian.example.org/ns/shift"] = "night"  # a full URI is namespaced
    assert found(check(doc)) == [
        (f"{E0}/readPoint/floor", "extension.not_namespaced"),
        (f"{E0}/ilmd/grade", "extension.not_namespaced"),
        (f"{E0}/acme:line", "extension.undeclared_prefix"),
    ]


def test_a_prefix_declared_in_the_events_own_context_counts_there_only(doc):
    first = event(doc)
    first["@context"] = {"acme": "https://acme.example.com/"}
    first["acme:line"] = 3
    second = copy.deepcopy(first)
    del second["@context"]
    doc["epcisBody"]["eventList"].append(second)
    assert found(check(doc)) == [(f"{E1}/acme:line", "extension.undeclared_prefix")]


def test_the_document_must_name_the_epcis_context(doc):
    doc["@context"] = [{"ex": "https://ns.example.com/epcis/"}]
    assert found(check(doc)) == [("/@context", "context.epcis_missing")]


@pytest.mark.parametrize(("value", "code"), [
    ("urn:epc:id:sgtin:6901234.01234.1001", "identifier.epc_digits"),  # 12 digits, not 13
    ("urn:epc:id:sgtin:6901234.054321", "identifier.epc_syntax"),  # no serial
    ("urn:epc:id:sscc:6901234.01234567890", "identifier.epc_digits"),
    ("urn:epc:id:widget:6901234.1", "identifier.epc_scheme"),
    ("urn:epc:tag:sgtin-96:3.6901234.054321.1001", "identifier.epc_scheme"),
    ("https://id.gs1.org/01/09521141012346/21/1001", "identifier.check_digit"),
    ("https://id.gs1.org/00/040123450000003339", "identifier.check_digit"),
    ("https://id.example.cn/414/6901234000015", "identifier.check_digit"),
    ("https://id.gs1.org/01/0952114101234/21/1001", "identifier.check_digit"),
    ("https://id.gs1.org/01/952114101234X", "identifier.dl_value"),
    ("https://id.gs1.org/01/09521141012345/21/1001/10/L1", "identifier.dl_qualifier"),
    ("https://id.gs1.org/01/09521141012345/21", "identifier.dl_missing_value"),
])
def test_malformed_identifiers_are_refused(doc, value, code):
    event(doc)["outputEPCList"] = [value]
    assert found(check(doc)) == [(f"{E0}/outputEPCList/0", code)]


@pytest.mark.parametrize("value", [
    "urn:epc:id:sgtin:6901234.054321.A%2F1", "urn:epc:id:sgtin:690123412345.0.7",
    "urn:epc:idpat:sgtin:6901234.054321.*", "urn:epc:idpat:sgtin:6901234.*.*",
    "urn:epc:id:sgln:690123412345..0", "urn:epc:id:giai:6901234.PUMP-7",
    "https://id.gs1.org/01/09521141012345/10/L1/21/1001", "https://id.gs1.org/01/96385074",
    "https://id.gs1.org/00/040123450000003338", "https://example.cn/path/414/6901234000016",
    "https://example.cn/products/42", "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8",
])
def test_well_formed_identifiers_are_accepted(doc, value):
    event(doc)["outputEPCList"] = [value]
    assert found(check(doc)) == []


def test_gs1_check_digits():
    assert gs1_check_digit("0952114101234") == "5"  # GTIN 09521141012345
    assert gs1_check_digit("04012345000000333") == "8"  # SSCC 040123450000003338
    assert gs1_check_digit("690123400001") == "6"  # GLN 6901234000016
    assert gs1_check_digit("9638507") == "4"  # GTIN-8 96385074
    assert gs1_check_digit("400638133393") == "1"  # GTIN-13 4006381333931


def test_unknown_and_missing_event_types(doc):
    doc["epcisBody"]["eventList"].append({"type": "ObjectEvnt", "eventTime": "soon"})
    doc["epcisBody"]["eventList"].append({"eventTime": "soon"})
    result = check(doc)
    assert found(result) == [(f"{E1}/type", "event.unknown_type"), (f"{E2}/type", "schema.required")]
    assert result.errors[0].message_params["allowed"] == ", ".join(v.EVENT_TYPES)


def test_a_document_endpoint_refuses_a_single_event_and_vice_versa(doc):
    single = {"@context": doc["@context"], **event(doc)}
    assert found(validate_event(json.dumps(single).encode())) == []
    assert found(validate_document(json.dumps(single).encode())) == [
        ("/type", "document.wrong_type")]
    assert found(validate_event(json.dumps(doc).encode())) == [("/type", "event.unknown_type")]
    del single["@context"]
    assert found(validate_event(json.dumps(single).encode())) == [("/@context", "schema.required")]


def test_deviations_from_the_vendored_schema_stay_narrow(doc):
    """§3.4: persistentDisposition on every event type (its content still checked), a
    sensor report with an exception need not state a type, and sensor vocabulary is read
    as the schema reads it without URI formats."""
    doc["epcisBody"]["eventList"].append({
        "type": "AggregationEvent", "eventTime": "2026-07-22T09:00:00+08:00",
        "eventTimeZoneOffset": "+08:00", "action": "ADD",
        "parentID": "urn:epc:id:sscc:6901234.0000000017",
        "childEPCs": ["urn:epc:id:sgtin:6901234.054321.1001"],
        "persistentDisposition": {"set": ["recalled"]},
        "sensorElementList": [{"sensorReport": [
            {"exception": "ALARM_CONDITION"},
            {"type": "Molar_concentration", "value": 0.2, "component": "ex:x"},
        ]}],
    })
    assert found(check(doc)) == []
    second = doc["epcisBody"]["eventList"][1]
    second["persistentDisposition"] = {"set": [], "keep": ["recalled"]}
    second["sensorElementList"][0]["sensorReport"][0] = {"value": 1}
    second["sensorElementList"][0]["sensorReport"][1]["type"] = "https://gs1.org/voc/Length"
    assert found(check(doc)) == [
        (f"{E1}/persistentDisposition/set", "schema.min_items"),
        (f"{E1}/persistentDisposition/keep", "schema.unknown_field"),
        (f"{E1}/sensorElementList/0/sensorReport/0/type", "schema.required"),
        (f"{E1}/sensorElementList/0/sensorReport/1/type", "schema.pattern"),
    ]


# --- size and JSON -------------------------------------------------------------------------

def test_a_document_over_the_size_limit_is_refused_before_parsing():
    result = validate_document(b"{" * 30, max_bytes=29)  # not even JSON: never parsed
    assert found(result) == [("", "size.too_large")]
    assert result.errors[0].message_params == {"field": "", "size": 30, "limit": 29}
    assert result.document is None
    assert v.DEFAULT_MAX_BYTES == 20 * 1024 * 1024
    assert found(validate_document(b" " * (v.DEFAULT_MAX_BYTES + 1))) == [("", "size.too_large")]


def test_a_document_at_the_size_limit_is_read(doc):
    data = json.dumps(doc).encode()
    assert found(validate_document(data, max_bytes=len(data))) == []


def test_malformed_json_is_refused_with_line_and_column():
    result = validate_document(b'{\n  "type": "EPCISDocument",\n  "epcisBody": }')
    assert found(result) == [("", "json.malformed")]
    assert result.errors[0].message_params == {
        "field": "", "detail": "Expecting value", "line": 3, "column": 16}
    assert result.document is None


@pytest.mark.parametrize(("data", "expected"), [
    (b'{"type": "EPCISDocument", "x": "\xff"}', [("", "json.not_utf8")]),
    (b'{"type": "EPCISDocument", "q": [1, NaN]}', [("/q/1", "json.non_finite_number")]),
    (b'{"type": "EPCISDocument", "a": {"b": 1, "b": 2}}', [("/a/b", "json.duplicate_key")]),
    (b'[{"type": "EPCISDocument"}]', [("", "json.not_object")]),
    (b"[" * 5000 + b"]" * 5000, [("", "json.too_deep")]),
    (b"", [("", "json.malformed")]),
])
def test_json_that_is_not_acceptable_is_refused(data, expected):
    assert found(validate_document(data)) == expected


def test_nesting_deeper_than_the_limit_points_at_the_first_level_too_deep():
    def nested(levels):
        return b'{"type": "EPCISDocument", "x": ' + b"[" * levels + b"]" * levels + b"}"

    # the innermost of n lists in "x" sits n members deep: MAX_DEPTH is still allowed
    assert "json.too_deep" not in [c for _, c in found(validate_document(nested(v.MAX_DEPTH)))]
    assert found(validate_document(nested(v.MAX_DEPTH + 1))) == [
        (pointer(["x"] + [0] * v.MAX_DEPTH), "json.too_deep")]


def test_a_utf8_byte_order_mark_is_ignored(doc):
    assert found(validate_document(b"\xef\xbb\xbf" + json.dumps(doc).encode())) == []


# --- property: deleting a required field ---------------------------------------------------

def required_locations(doc, single: bool) -> list[tuple]:
    """Every present member that EPCIS 2.0 always requires (the conditional identifier
    lists are left out: deleting one of two alternatives is allowed)."""
    locations = []

    def members(obj, path, names):
        if isinstance(obj, dict):
            locations.extend(path + (n,) for n in names if n in obj)

    def items(obj, name):
        value = obj.get(name) if isinstance(obj, dict) else None
        return list(enumerate(value)) if isinstance(value, list) else []

    if single:
        events = [((), doc)]
        members(doc, (), ["@context"])
    else:
        members(doc, (), ["@context", "type", "schemaVersion", "creationDate", "epcisBody"])
        members(doc["epcisBody"], ("epcisBody",), ["eventList"])
        events = [(("epcisBody", "eventList", i), e)
                  for i, e in enumerate(doc["epcisBody"]["eventList"])]
    for path, e in events:
        members(e, path, ["type", "eventTime", "eventTimeZoneOffset"]
                + (["action"] if e["type"] != "TransformationEvent" else [])
                + (["parentID"] if e["type"] == "AssociationEvent" else []))
        for name in ("quantityList", "childQuantityList", "inputQuantityList",
                     "outputQuantityList"):
            for i, q in items(e, name):
                members(q, path + (name, i), ["epcClass"])
        for name in ("readPoint", "bizLocation"):
            members(e.get(name), path + (name,), ["id"])
        for name, required in (("bizTransactionList", ["bizTransaction"]),
                               ("sourceList", ["type", "source"]),
                               ("destinationList", ["type", "destination"])):
            for i, q in items(e, name):
                members(q, path + (name, i), required)
        members(e.get("errorDeclaration"), path + ("errorDeclaration",), ["declarationTime"])
        for i, element in items(e, "sensorElementList"):
            members(element, path + ("sensorElementList", i), ["sensorReport"])
            for j, report in items(element, "sensorReport"):
                if "exception" not in report:
                    members(report, path + ("sensorElementList", i, "sensorReport", j), ["type"])
    return locations


CASES = ([("Documents", n) for n in names("Documents") if isinstance(n, str)]
         + [("Events", n) for n in names("Events") if isinstance(n, str)])


@needs_conformance
@given(data=st.data())
def test_deleting_a_required_field_is_refused_where_it_was(data):
    folder, name = data.draw(st.sampled_from(CASES), label="file")
    single = folder == "Events"
    doc = json.loads(raw(folder, name))
    location = data.draw(st.sampled_from(required_locations(doc, single)), label="field")
    node = doc
    for token in location[:-1]:
        node = node[token]
    del node[location[-1]]
    result = (validate_event if single else validate_document)(json.dumps(doc).encode())
    assert found(result) == [(pointer(location), "schema.required")]


# --- data and documentation stay in step ----------------------------------------------------

def test_the_vendored_schema_is_the_published_file_named_in_its_readme():
    data = ROOT / "zhijian" / "traceability" / "data"
    digest = hashlib.sha256((data / "epcis-json-schema.json").read_bytes()).hexdigest()
    assert f"SHA-256 `{digest}`" in (data / "README.md").read_text(encoding="utf-8")


def test_the_cbv_lists_equal_the_schema_enumerations():
    data = ROOT / "zhijian" / "traceability" / "data"
    schema = json.loads((data / "epcis-json-schema.json").read_text(encoding="utf-8"))
    cbv = json.loads((data / "cbv.json").read_text(encoding="utf-8"))["vocabularies"]
    definition = {"bizStep": "bizStep", "disposition": "disposition",
                  "errorReason": "error-reason", "sourceDestType": "source-dest-type",
                  "bizTransactionType": "bizTransaction-type", "component": "component"}
    assert sorted(cbv) == sorted(definition)
    for name, key in definition.items():
        enum = next(a["enum"] for a in schema["definitions"][key]["anyOf"] if "enum" in a)
        assert sorted(cbv[name]["terms"]) == sorted(enum)


def test_the_documentation_lists_every_problem_code():
    text = (ROOT / "docs" / "epcis-validation.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_0-9]+)` \|", text, re.MULTILINE))
    assert documented == set(v.MESSAGES)
