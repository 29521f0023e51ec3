"""A recall world on top of `world` (tests/conftest.py): the Xi'an cable maker (the
`enterprise` persona) with a cable product that has a GTIN; a distributor in Baoji and a
contractor in Xi'an with their own accounts; the metro (the `user_unit` persona) with a
depot and two stations. `chain` captures real EPCIS documents through the capture
service, each firm capturing its own events:

    maker   commissions 1000 m of batch C2026-01 at its plant          (2026-07-01)
    maker   ships 800 m to the distributor (party + warehouse)          (07-02)
    maker   ships 200 m to the metro (party + depot)                     (07-02)
    distr.  receives 800 m at its warehouse                             (07-03)
    metro   receives 200 m at its depot                                 (07-03)
    distr.  ships 500 m to the contractor (party, no location)          (07-04)
    contr.  installs 300 m at station S1 and 200 m at station S2         (07-05)

GLNs and the GTIN are under GS1 Company Prefix 952 (reserved for examples). Identifiers
are written as GS1 Digital Link URIs, the canonical form the store keeps."""

from __future__ import annotations

import copy
import json

import pytest

from tests import factories as f
from tests.sampling.conftest import plan, sworld  # noqa: F401  (fixtures)
from zhijian.accounts.models import Role
from zhijian.traceability import services as capture
from zhijian.traceability.models import Place

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
DL = "https://id.gs1.org"
LOT = "C2026-01"


def check_digit(digits: str) -> str:
    backwards = digits[::-1]
    total = 3 * sum(map(int, backwards[0::2])) + sum(map(int, backwards[1::2]))
    return str(-total % 10)


def gln(n: int) -> str:
    body = f"952010000{n:03d}"
    return body + check_digit(body)


GTIN = "952020000001" + check_digit("952020000001")  # GTIN-13
OTHER_GTIN = "952020000002" + check_digit("952020000002")


def party(n: int) -> str:
    return f"{DL}/417/{gln(n)}"


def location(n: int) -> str:
    return f"{DL}/414/{gln(n)}"


def batch(lot: str = LOT, gtin: str = GTIN) -> str:
    return f"{DL}/01/0{gtin}/10/{lot}"


# Parties (P) and locations (L) of the chain.
MAKER_P, MAKER_PLANT = party(1), location(2)
DISTR_P, DISTR_WH = party(3), location(4)
CONTR_P = party(5)
METRO_P, METRO_DEPOT = party(6), location(7)
S1, S2 = location(8), location(9)
UNKNOWN_SITE = location(10)  # a site nobody registered
UNKNOWN_FIRM = party(11)  # a firm nobody registered


def event(n: int, day: int, step: str, qty: float, *, where: str = "", src=(), dst=(),
          lot: str = LOT, action: str = "OBSERVE", disposition: str = "") -> dict:
    ev = {"type": "ObjectEvent",
          "eventID": f"urn:uuid:5e1ca11e-0000-4000-8000-{n:012d}",
          "eventTime": f"2026-07-{day:02d}T09:00:00+08:00", "eventTimeZoneOffset": "+08:00",
          "action": action, "bizStep": step,
          "quantityList": [{"epcClass": batch(lot), "quantity": qty, "uom": "MTR"}]}
    if disposition:
        ev["disposition"] = disposition
    if where:
        ev["bizLocation"] = {"id": where}
        ev["readPoint"] = {"id": where}
    if src:
        ev["sourceList"] = [{"type": t, "source": s} for t, s in src]
    if dst:
        ev["destinationList"] = [{"type": t, "destination": d} for t, d in dst]
    return ev


def document(*events) -> bytes:
    return json.dumps({"@context": [EPCIS_CONTEXT], "type": "EPCISDocument",
                       "schemaVersion": "2.0", "creationDate": "2026-07-10T09:00:00+08:00",
                       "epcisBody": {"eventList": [copy.deepcopy(e) for e in events]}},
                      ensure_ascii=False).encode()


def maker_events(lot: str = LOT, base: int = 0) -> list[dict]:
    return [
        event(base + 1, 1, "commissioning", 1000, where=MAKER_PLANT, lot=lot, action="ADD",
              disposition="active"),
        event(base + 2, 2, "shipping", 800, lot=lot, disposition="in_transit",
              src=[("owning_party", MAKER_P)],
              dst=[("owning_party", DISTR_P), ("location", DISTR_WH)]),
        event(base + 3, 2, "shipping", 200, lot=lot, disposition="in_transit",
              src=[("owning_party", MAKER_P)],
              dst=[("owning_party", METRO_P), ("location", METRO_DEPOT)]),
    ]


def distributor_events(lot: str = LOT, base: int = 0) -> list[dict]:
    return [
        event(base + 4, 3, "receiving", 800, where=DISTR_WH, lot=lot,
              disposition="in_progress", src=[("owning_party", MAKER_P)],
              dst=[("owning_party", DISTR_P)]),
        event(base + 6, 4, "shipping", 500, lot=lot, disposition="in_transit",
              src=[("owning_party", DISTR_P)], dst=[("owning_party", CONTR_P)]),
    ]


def metro_events(lot: str = LOT, base: int = 0) -> list[dict]:
    return [event(base + 5, 3, "receiving", 200, where=METRO_DEPOT, lot=lot,
                  disposition="in_progress", src=[("owning_party", MAKER_P)],
                  dst=[("owning_party", METRO_P)])]


def contractor_events(lot: str = LOT, base: int = 0) -> list[dict]:
    return [
        event(base + 7, 5, "installing", 300, where=S1, lot=lot, disposition="in_progress"),
        event(base + 8, 5, "installing", 200, where=S2, lot=lot, disposition="in_progress"),
    ]


@pytest.fixture
def rworld(world, enterprise_user, user_unit_user):
    """The firms, accounts, product and trace directory (no events yet)."""
    cable = world["categories"]["cable"]
    maker = world["xian_entity"]
    product = f.ProductFactory(entity=maker, name="聚氯乙烯绝缘电缆", category=cable, gtin=GTIN)
    distributor = f.EntityFactory(division=f.division("610302"), name="宝鸡测试线缆经销有限公司")
    contractor = f.EntityFactory(division=f.division("610102"), name="西安测试机电安装有限公司")
    distributor_user = f.UserFactory(username="distributor", role=Role.ENTERPRISE,
                                     entity=distributor)
    contractor_user = f.UserFactory(username="contractor", role=Role.ENTERPRISE,
                                    entity=contractor)
    metro = world["user_unit"]
    places = {}
    for ident, kind, name, division, org in [
        (MAKER_P, "party", "西安测试电缆有限公司", "610113", {"entity": maker}),
        (MAKER_PLANT, "plant", "西安测试电缆厂", "610113", {"entity": maker}),
        (DISTR_P, "party", "宝鸡测试线缆经销有限公司", "610302", {"entity": distributor}),
        (DISTR_WH, "warehouse", "宝鸡经销仓库", "610302", {"entity": distributor}),
        (CONTR_P, "party", "西安测试机电安装有限公司", "610102", {"entity": contractor}),
        (METRO_P, "party", "西安测试地铁有限公司", "610100", {"user_unit": metro}),
        (METRO_DEPOT, "warehouse", "地铁物资库", "610113", {"user_unit": metro}),
        (S1, "station", "测试一号站", "610113", {"user_unit": metro}),
        (S2, "station", "测试二号站", "610104", {"user_unit": metro}),
    ]:
        places[ident] = Place.objects.create(identifier=ident, kind=kind, name=name,
                                             division=f.division(division),
                                             public=kind == "station", **org)
    return world | {"cable": cable, "maker": maker, "product": product,
                    "distributor": distributor, "contractor": contractor, "metro": metro,
                    "distributor_user": distributor_user, "contractor_user": contractor_user,
                    "maker_user": enterprise_user, "metro_user": user_unit_user,
                    "places": places}


def capture_chain(w, lot: str = LOT, base: int = 0) -> None:
    """Every firm captures its own events of the chain of `lot`."""
    capture.capture_document(actor=w["maker_user"], raw=document(*maker_events(lot, base)))
    capture.capture_document(actor=w["distributor_user"],
                             raw=document(*distributor_events(lot, base)))
    capture.capture_document(actor=w["metro_user"], raw=document(*metro_events(lot, base)))
    capture.capture_document(actor=w["contractor_user"],
                             raw=document(*contractor_events(lot, base)))


@pytest.fixture
def chain(rworld):
    capture_chain(rworld)
    return rworld
