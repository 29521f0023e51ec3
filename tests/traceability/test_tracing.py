"""Trace on the event store (tracing.py, docs/trace.md): EPCIS documents captured through
services.capture_document by the firms of a small cable chain, then traced backward and
forward: exact nodes, links, steps, stops with tiers and quantities, the query count.

The chain (``chain`` fixture; shared with test_trace_views.py):

    copper CU (500 kg, Baoji supplier) --> cable maker M turns it into cable L1 (1000 m)
    M packs 400 m of L1 on pallet P (SSCC) and ships P to the metro company U (depot)
    M ships 600 m of L1 to distributor D (warehouse), which receives it
    D ships 250 m to contractor K (yard), which receives it and cuts it into LA (100 m)
    and LB (150 m), installed at metro stations S1 and S2.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from django.utils import translation

from tests import factories as f
from zhijian.accounts.models import Role
from zhijian.procurement import services as procurement
from zhijian.traceability import services, tracing
from zhijian.traceability.eventhash import check_digit
from zhijian.traceability.models import Event, Place

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
DL = "https://id.gs1.org"


def gln(base12: str) -> str:
    return base12 + check_digit(base12)


def gtin13(base12: str) -> str:
    return base12 + check_digit(base12)


CABLE_GTIN = gtin13("690123400001")  # GTIN-13 of the maker's cable (registry.Product)
CABLE14 = "0" + CABLE_GTIN
COPPER14 = "0" + gtin13("690555500002")
L1 = f"{DL}/01/{CABLE14}/10/L1"
LA = f"{DL}/01/{CABLE14}/10/L1-A"
LB = f"{DL}/01/{CABLE14}/10/L1-B"
CU = f"{DL}/01/{COPPER14}/10/CU77"
P_SSCC = "06901234000000001" + check_digit("06901234000000001")
P = f"{DL}/00/{P_SSCC}"

PARTY = {k: f"{DL}/417/{gln(v)}" for k, v in {
    "C": "690555500001", "M": "690123400000", "D": "690200000000", "K": "690300000000",
    "U": "690400000000"}.items()}
LOC = {k: f"{DL}/414/{gln(v)}" for k, v in {
    "C_PLANT": "690555500010", "M_PLANT": "690123400010", "D_WH": "690200000010",
    "K_YARD": "690300000010", "U_DEPOT": "690400000010", "S1": "690400000101",
    "S2": "690400000102"}.items()}

SDT = "https://ref.gs1.org/cbv/SDT-"


def event_id(n: int) -> str:
    return f"urn:uuid:7a2b0c3d-0000-4000-8000-{n:012d}"


def ev(n: int, kind: str, day: int, step: str, *, at: str = "", src: str = "", dst: str = "",
       to: str = "", **fields) -> dict:
    """An event n on 2026-07-<day> 09:00 Beijing time; ``src``/``dst`` parties (owning and
    possessing), ``to`` a destination location."""
    e = {"type": kind, "eventID": event_id(n),
         "eventTime": f"2026-07-{day:02d}T09:00:00+08:00", "eventTimeZoneOffset": "+08:00"}
    if kind != "TransformationEvent":
        e["action"] = fields.pop("action", "OBSERVE")
    e.update(fields)
    e["bizStep"] = step
    if at:
        e["readPoint"] = {"id": at}
        e["bizLocation"] = {"id": at}
    if src:
        e["sourceList"] = [{"type": "owning_party", "source": src},
                           {"type": "possessing_party", "source": src}]
    dests = []
    if dst:
        dests += [{"type": "owning_party", "destination": dst},
                  {"type": "possessing_party", "destination": dst}]
    if to:
        dests.append({"type": "location", "destination": to})
    if dests:
        e["destinationList"] = dests
    return e


def q(identifier: str, quantity: float, uom: str) -> dict:
    return {"epcClass": identifier, "quantity": quantity, "uom": uom}


def capture(actor, *events) -> None:
    doc = {"@context": [EPCIS_CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": "2026-07-30T09:00:00+08:00",
           "epcisBody": {"eventList": [copy.deepcopy(e) for e in events]}}
    services.capture_document(actor=actor, raw=json.dumps(doc).encode())


def build_chain(world) -> dict:
    """Capture the chain's 14 events as its five firms; returns the firms, users, product
    and the event pks by number."""
    maker, supplier = world["xian_entity"], world["baoji_entity"]
    distributor = f.EntityFactory(name="西安测试线缆经销有限公司")
    contractor = f.EntityFactory(name="西安测试机电安装工程有限公司")
    unit = world["user_unit"]
    users = {
        "M": f.UserFactory(username="chain-maker", role=Role.ENTERPRISE, entity=maker),
        "C": f.UserFactory(username="chain-copper", role=Role.ENTERPRISE, entity=supplier),
        "D": f.UserFactory(username="chain-distributor", role=Role.ENTERPRISE,
                           entity=distributor),
        "K": f.UserFactory(username="chain-contractor", role=Role.ENTERPRISE,
                           entity=contractor),
        "U": f.UserFactory(username="chain-metro", role=Role.USER_UNIT, user_unit=unit),
    }
    product = f.ProductFactory(entity=maker, name="聚氯乙烯绝缘电缆 BV 2.5", gtin=CABLE_GTIN,
                               category=world["categories"]["cable"])
    orgs = {"C": {"entity": supplier}, "M": {"entity": maker}, "D": {"entity": distributor},
            "K": {"entity": contractor}, "U": {"user_unit": unit}}
    names = {"C": "宝鸡测试铜材厂", "M": "西安测试电缆有限公司", "D": "西安测试线缆经销有限公司",
             "K": "西安测试机电安装工程有限公司", "U": "西安测试地铁有限公司"}
    for key, ident in PARTY.items():
        Place.objects.create(identifier=ident, kind="party", name=names[key], **orgs[key])
    for key, kind, name, org in (
            ("C_PLANT", "plant", "铜材厂车间", "C"), ("M_PLANT", "plant", "电缆厂车间", "M"),
            ("D_WH", "warehouse", "经销商仓库", "D"), ("K_YARD", "warehouse", "施工队料场", "K"),
            ("U_DEPOT", "warehouse", "地铁车辆段仓库", "U"),
            ("S1", "station", "8号线 长延堡站", "U"), ("S2", "station", "8号线 会展中心站", "U")):
        Place.objects.create(identifier=LOC[key], kind=kind, name=name, public=kind == "station",
                             division=f.division("610113"), **orgs[org])
    capture(users["C"],
            ev(1, "ObjectEvent", 1, "commissioning", action="ADD", at=LOC["C_PLANT"],
               quantityList=[q(CU, 500, "KGM")]),
            ev(2, "ObjectEvent", 2, "shipping", at=LOC["C_PLANT"], src=PARTY["C"],
               dst=PARTY["M"], to=LOC["M_PLANT"], quantityList=[q(CU, 500, "KGM")]))
    capture(users["M"],
            ev(3, "ObjectEvent", 3, "receiving", at=LOC["M_PLANT"], src=PARTY["C"],
               dst=PARTY["M"], quantityList=[q(CU, 500, "KGM")]),
            ev(4, "TransformationEvent", 4, "creating_class_instance", at=LOC["M_PLANT"],
               inputQuantityList=[q(CU, 500, "KGM")], outputQuantityList=[q(L1, 1000, "MTR")]),
            ev(5, "AggregationEvent", 5, "packing", action="ADD", at=LOC["M_PLANT"],
               parentID=P,
               childQuantityList=[q(L1, 400, "MTR")]),
            ev(6, "ObjectEvent", 6, "shipping", at=LOC["M_PLANT"], src=PARTY["M"],
               dst=PARTY["D"], to=LOC["D_WH"], quantityList=[q(L1, 600, "MTR")]),
            ev(7, "ObjectEvent", 7, "shipping", at=LOC["M_PLANT"], src=PARTY["M"],
               dst=PARTY["U"], to=LOC["U_DEPOT"], epcList=[P]))
    capture(users["D"],
            ev(8, "ObjectEvent", 8, "receiving", at=LOC["D_WH"], src=PARTY["M"],
               dst=PARTY["D"], quantityList=[q(L1, 600, "MTR")]),
            ev(9, "ObjectEvent", 9, "shipping", at=LOC["D_WH"], src=PARTY["D"],
               dst=PARTY["K"], to=LOC["K_YARD"], quantityList=[q(L1, 250, "MTR")]))
    capture(users["K"],
            ev(10, "ObjectEvent", 10, "receiving", at=LOC["K_YARD"], src=PARTY["D"],
               dst=PARTY["K"], quantityList=[q(L1, 250, "MTR")]),
            ev(11, "TransformationEvent", 11, "creating_class_instance", at=LOC["K_YARD"],
               inputQuantityList=[q(L1, 250, "MTR")],
               outputQuantityList=[q(LA, 100, "MTR"), q(LB, 150, "MTR")]),
            ev(12, "ObjectEvent", 12, "installing", at=LOC["S1"],
               quantityList=[q(LA, 100, "MTR")]),
            ev(13, "ObjectEvent", 13, "installing", at=LOC["S2"],
               quantityList=[q(LB, 150, "MTR")]))
    capture(users["U"],
            ev(14, "ObjectEvent", 14, "receiving", at=LOC["U_DEPOT"], src=PARTY["M"],
               dst=PARTY["U"], epcList=[P]))
    pks = dict(Event.objects.values_list("event_id", "pk"))
    return {"users": users, "product": product, "maker": maker, "distributor": distributor,
            "contractor": contractor, "unit": unit,
            "events": {n: pks[event_id(n)] for n in range(1, 15)}}


@pytest.fixture
def chain(world):
    return build_chain(world)


def at(day: int) -> datetime:
    return datetime(2026, 7, day, 1, 0, tzinfo=UTC)


# --- identifiers ---------------------------------------------------------------------------

def test_canonical_accepts_urns_and_digital_links_on_any_domain():
    assert tracing.canonical(" urn:epc:id:sgtin:0614141.107346.2018 ") == (
        "https://id.gs1.org/01/10614141073464/21/2018")
    assert tracing.canonical(f"https://example.com/01/{CABLE_GTIN}/10/L1") == L1
    assert tracing.canonical("urn:epc:class:lgtin:0614141.107346.LOT1") == (
        "https://id.gs1.org/01/10614141073464/10/LOT1")
    assert tracing.canonical("urn:uuid:6f1c0e2a-0000-4000-8000-000000000001") == (
        "urn:uuid:6f1c0e2a-0000-4000-8000-000000000001")


@pytest.mark.parametrize("text", ["", "   ", "L2026A", "6901234000017 L1", "x" * 2000,
                                  "urn:epc:idpat:sgtin:0614141.107346.*"])
def test_canonical_refuses_what_is_not_an_identifier(text):
    with translation.override("en"), pytest.raises(ValueError) as caught:
        tracing.canonical(text)
    assert str(caught.value).startswith(("Enter an identifier", "The identifier is longer",
                                         f"{text.strip()} is not an identifier"))


def test_batch_identifier_is_the_canonical_lgtin():
    assert tracing.batch_identifier(CABLE_GTIN, "L1") == L1
    assert tracing.batch_identifier(CABLE14, " L1 ") == L1
    assert tracing.batch_identifier(CABLE_GTIN, "A B/1") == (
        f"{DL}/01/{CABLE14}/10/A%20B%2F1")


# --- the trace -----------------------------------------------------------------------------

def test_both_ways_from_the_cable_batch(chain):
    e = chain["events"]
    result = tracing.trace(start=[L1])
    assert result.start == (L1,)
    assert result.truncated is False
    assert {i: (n.kind, n.side, n.depth, n.gtin, n.lot) for i, n in result.nodes.items()} == {
        L1: ("batch", "start", 0, CABLE14, "L1"),
        CU: ("batch", "backward", 1, COPPER14, "CU77"),
        P: ("container", "forward", 1, "", ""),
        LA: ("batch", "forward", 1, CABLE14, "L1-A"),
        LB: ("batch", "forward", 1, CABLE14, "L1-B"),
    }
    assert [(lk.src, lk.dst, lk.event, lk.kind, lk.quantity, lk.uom) for lk in result.links] == [
        (CU, L1, e[4], "transformation", 500.0, "KGM"),
        (L1, P, e[5], "aggregation", 400.0, "MTR"),
        (L1, LA, e[11], "transformation", 250.0, "MTR"),
        (L1, LB, e[11], "transformation", 250.0, "MTR"),
    ]
    assert [(s.event, s.identifier, s.role, s.biz_step, s.quantity, s.uom)
            for s in result.steps] == [
        (e[1], CU, "class", "commissioning", 500.0, "KGM"),
        (e[2], CU, "class", "shipping", 500.0, "KGM"),
        (e[3], CU, "class", "receiving", 500.0, "KGM"),
        (e[4], CU, "class_input", "creating_class_instance", 500.0, "KGM"),
        (e[4], L1, "class_output", "creating_class_instance", 1000.0, "MTR"),
        (e[5], L1, "class_child", "packing", 400.0, "MTR"),
        (e[5], P, "parent", "packing", None, ""),
        (e[6], L1, "class", "shipping", 600.0, "MTR"),
        (e[7], P, "epc", "shipping", None, ""),
        (e[8], L1, "class", "receiving", 600.0, "MTR"),
        (e[9], L1, "class", "shipping", 250.0, "MTR"),
        (e[10], L1, "class", "receiving", 250.0, "MTR"),
        (e[11], L1, "class_input", "creating_class_instance", 250.0, "MTR"),
        (e[11], LA, "class_output", "creating_class_instance", 100.0, "MTR"),
        (e[11], LB, "class_output", "creating_class_instance", 150.0, "MTR"),
        (e[12], LA, "class", "installing", 100.0, "MTR"),
        (e[13], LB, "class", "installing", 150.0, "MTR"),
        (e[14], P, "epc", "receiving", None, ""),
    ]
    six = next(s for s in result.steps if s.event == e[6])
    stored = Event.objects.get(pk=e[6])
    assert (six.event_id, six.hash_id, six.capture, six.type, six.action, six.disposition,
            six.time, six.location, six.read_point, six.org) == (
        event_id(6), stored.hash_id, stored.capture_id, "object", "OBSERVE", "",
        at(6), LOC["M_PLANT"], LOC["M_PLANT"], f"enterprise:{chain['maker'].pk}")
    assert six.sources == (("owning_party", PARTY["M"]), ("possessing_party", PARTY["M"]))
    assert six.destinations == (("owning_party", PARTY["D"]),
                                ("possessing_party", PARTY["D"]), ("location", LOC["D_WH"]))
    assert sorted(result.places) == sorted(set(PARTY.values()) | set(LOC.values()))
    assert result.places[LOC["S1"]].name == "8号线 长延堡站"
    assert result.stops == tracing.impact(start=[L1])


def expected_stops(chain) -> list[tuple]:
    e = chain["events"]
    rows = [
        (L1, LOC["M_PLANT"], PARTY["M"], "held", 1000.0, "MTR", 0, e[5], at(5)),
        (P, LOC["M_PLANT"], PARTY["M"], "held", 400.0, "MTR", 0, e[5], at(5)),
        (L1, LOC["D_WH"], PARTY["D"], "received", 600.0, "MTR", 1, e[8], at(8)),
        (P, LOC["U_DEPOT"], PARTY["U"], "received", 400.0, "MTR", 1, e[14], at(14)),
        (L1, LOC["K_YARD"], PARTY["K"], "received", 250.0, "MTR", 2, e[10], at(10)),
        (LA, LOC["K_YARD"], PARTY["K"], "held", 100.0, "MTR", 2, e[11], at(11)),
        (LB, LOC["K_YARD"], PARTY["K"], "held", 150.0, "MTR", 2, e[11], at(11)),
        (LA, LOC["S1"], PARTY["K"], "installed", 100.0, "MTR", 3, e[12], at(12)),
        (LB, LOC["S2"], PARTY["K"], "installed", 150.0, "MTR", 3, e[13], at(13)),
    ]
    return sorted(rows, key=lambda r: (r[6], r[1], r[0], r[3]))


def stop_rows(stops) -> list[tuple]:
    return [(s.identifier, s.place, s.party, s.kind, s.quantity, s.uom, s.tier, s.event,
             s.time) for s in stops]


def test_the_impact_list_names_every_holder_and_site_with_tier_and_quantity(chain):
    assert stop_rows(tracing.impact(start=[L1])) == expected_stops(chain)


def test_forward_only_leaves_out_the_inputs(chain):
    result = tracing.trace(start=[L1], direction="forward")
    assert sorted(result.nodes) == sorted([L1, P, LA, LB])
    assert stop_rows(result.stops) == expected_stops(chain)


def test_backward_from_a_cut_length_reaches_the_copper_not_the_pallet(chain):
    result = tracing.trace(start=[LA], direction="backward")
    assert {i: (n.side, n.depth) for i, n in result.nodes.items()} == {
        LA: ("start", 0), L1: ("backward", 1), CU: ("backward", 2)}
    assert result.stops == []
    assert {s.identifier for s in result.steps} == {LA, L1, CU}


def test_a_start_container_brings_its_contents(chain):
    """From the pallet: its contents (L1) are start identifiers too, so L1's inputs and
    other holders are found; forward from L1 the pallet is the same start node."""
    result = tracing.trace(start=[P])
    assert {i: (n.side, n.depth) for i, n in result.nodes.items()} == {
        P: ("start", 0), L1: ("start", 0), CU: ("backward", 1), LA: ("forward", 1),
        LB: ("forward", 1)}


def test_a_forward_container_is_not_walked_down_to_its_other_contents(chain):
    """Other goods on the same pallet are not the traced goods."""
    other = f"{DL}/01/{CABLE14}/10/L9"
    capture(chain["users"]["M"],
            ev(20, "AggregationEvent", 5, "packing", action="ADD", at=LOC["M_PLANT"],
               parentID=P, childQuantityList=[q(other, 50, "MTR")]))
    result = tracing.trace(start=[L1])
    assert other not in result.nodes
    packed = Event.objects.get(event_id=event_id(20)).pk
    # The pallet still holds 400 m of the traced cable; its latest event there is the new one.
    assert stop_rows(result.stops) == [
        r if r[0] != P or r[3] != "held" else r[:7] + (packed, r[8])
        for r in expected_stops(chain)]


def test_the_node_limit_truncates(chain):
    result = tracing.trace(start=[L1], limit=3)
    assert result.truncated is True
    assert len(result.nodes) == 3
    assert L1 in result.nodes


def test_an_unknown_identifier_gives_an_empty_trace(chain):
    result = tracing.trace(start=[f"{DL}/01/{CABLE14}/10/NOPE"])
    assert (len(result.nodes), result.links, result.steps, result.stops, result.places,
            result.truncated) == (1, [], [], [], {}, False)


def test_without_the_directory_parties_come_from_the_events(chain):
    """No place in the directory: a firm's party is the one it names as sender of its
    shipments and receiver of its receipts, so tiers and holders are the same."""
    Place.objects.all().delete()
    assert stop_rows(tracing.impact(start=[L1])) == expected_stops(chain)


def test_query_count_does_not_grow_with_the_chain(chain, django_assert_max_num_queries):
    """Two levels: two queries each, then sources and destinations, the directory, the
    makers, the parties of the organisations (and on PostgreSQL SET LOCAL jit)."""
    with django_assert_max_num_queries(12):
        tracing.trace(start=[L1])
    with django_assert_max_num_queries(12):
        tracing.impact(start=[L1])


def test_delivery_start_is_the_batch_of_its_product(chain, world, user_unit_user):
    sl = procurement.supplier_list_create(actor=user_unit_user,
                                          category_id=world["categories"]["cable"].pk)
    procurement.supplier_add(actor=user_unit_user, list_id=sl.pk,
                             entity_id=world["xian_entity"].pk)
    common = {"supplier": world["xian_entity"], "producer": world["xian_entity"],
              "product_name": "聚氯乙烯绝缘电缆 BV 2.5", "category": world["categories"]["cable"],
              "quantity": 400, "unit": "m", "site": "地铁8号线",
              "delivered_on": datetime(2026, 7, 20).date()}
    with_product = procurement.delivery_record(
        actor=user_unit_user, report_numbers=["T1"],
        data=common | {"number": "DN-1", "product": chain["product"], "batch": "L1"})
    without = procurement.delivery_record(
        actor=user_unit_user, report_numbers=["T1"],
        data=common | {"number": "DN-2", "product": None, "batch": "L1"})
    assert tracing.delivery_start(with_product) == [L1]
    assert tracing.delivery_start(without) == []
