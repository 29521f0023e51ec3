"""The demo's multi-tier cable supply chain (MISSION M3.7: 来源可查、去向可追): raw
material -> cable maker -> distributors -> contractors -> metro stations, buildings and
substations, recorded as EPCIS 2.0 events through the platform's services only.

* The firms are registered with the registry's services (admin), each gets a login
  (demo services.persona_create) and its parties and locations go into the trace
  directory (place_services.place_create, as the firm that owns them).
* Every event is built with the step builders of zhijian.traceability.steps (the same
  builders as the capture pages; pallets with an AggregationEvent written here) and
  captured with services.capture_document as the acting firm's user, in documents of at
  most 1,000 events.
* The chain is a deterministic event stream: first the story (the fixed batches of
  autumn 2026, HC-2026-0815 among them), then growth episodes, one cable batch each,
  drawn from random.Random("zhijian-demo:<seed>:chain:<i>"). `events=N` captures the
  first N events of the stream (never less than the story), so the stream is
  prefix-stable: a larger N adds only the tail, a rerun adds nothing (eventIDs are
  uuid5 of the seed and the event, and a document whose events are all stored is
  skipped; capture treats any repeated eventID as a duplicate), and an interrupted build
  resumes.

docs/demo.md tells the chain; the ratios of raw material to cable are in RATIOS.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.db import transaction

from zhijian.accounts.models import User
from zhijian.core import divisions
from zhijian.core.identifiers import synthetic_uscc
from zhijian.registry import services as registry
from zhijian.registry.models import MarketEntity, ProductCategory, UserUnit
from zhijian.traceability import steps
from zhijian.traceability.eventhash import check_digit
from zhijian.traceability.models import EventKey, Place

from . import names, plan
from .services import persona_create

TZ = ZoneInfo("Asia/Shanghai")
#: Events per captured document (the capture interface takes up to 1,000 per document in
#: the demo; the platform's limit is on bytes).
DOCUMENT_EVENTS = 1000
#: The default size of the chain: the story plus a few growth batches (tests/demo builds it).
DEFAULT_EVENTS = 1500
#: GS1 Company Prefix 952 is reserved by GS1 for demonstrations and examples; every GLN,
#: SSCC and the suppliers' GTINs of the chain sit under 952 0xxx, so none is a real key.
GCP_BASE = "9520"
DL = "https://id.gs1.org"
EVENT_NAMESPACE = uuid.UUID("8a1f2c3e-52b4-5c1d-9a77-3e0f61c2b9a4")
FIRST_GROWTH_DAY = dt.date(2025, 1, 6)
GROWTH_DAYS = 600  # growth batches are made between 6 Jan 2025 and 28 Aug 2026
SITES_PER_EPISODES = 25  # one more building site every 25 growth batches


def gcp(number: int) -> str:
    """The chain's 7-digit GS1 Company Prefix number `number` (952 0xxx)."""
    return f"{GCP_BASE}{number:03d}"


def gln(company: int, ref: int) -> str:
    body = f"{gcp(company)}{ref:05d}"
    return body + check_digit(body)


def gtin13(company: int, item: int) -> str:
    body = f"{gcp(company)}{item:05d}"
    return body + check_digit(body)


def sscc(company: int, serial: int) -> str:
    body = f"0{gcp(company)}{serial:09d}"
    return body + check_digit(body)


def party(g: str) -> str:
    return f"{DL}/417/{g}"


def location(g: str) -> str:
    return f"{DL}/414/{g}"


def batch_id(gtin: str, lot: str) -> str:
    return f"{DL}/01/{gtin.zfill(14)}/10/{quote(lot, safe=chr(39) + '-.;=_')}"


# --- the firms -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Firm:
    key: str
    name: str
    division: str
    company: int  # chain GCP number
    kind: str  # maker | supplier | distributor | contractor | user_unit
    username: str
    sites: str = ""  # contractors: "metro" (stations) or "building"
    code: str = ""  # contractors: the letters of their cut lots
    existing: str = ""  # story key of a firm the province already holds (plan.STORY)


FIRMS = [
    Firm("maker", plan.STORY["maker"]["name"], plan.STORY["maker"]["division"], 1, "maker",
         "enterprise", existing="maker"),
    Firm("honest_maker", plan.STORY["honest_maker"]["name"],
         plan.STORY["honest_maker"]["division"], 2, "maker", "chain_chengyuan",
         existing="honest_maker"),
    Firm("copper", "宝鸡嵘钰铜材有限公司", "610302", 10, "supplier", "chain_copper"),
    Firm("compound", "咸阳璟塑高分子材料有限公司", "610402", 11, "supplier", "chain_compound"),
    Firm("dist_xian", "西安弘朔电工器材有限公司", "610112", 20, "distributor", "distributor"),
    Firm("dist_xianyang", "咸阳泾骐机电设备有限公司", "610404", 21, "distributor",
         "chain_dist_xianyang"),
    Firm("dist_baoji", "宝鸡岐翎电气贸易有限公司", "610303", 22, "distributor", "chain_dist_baoji"),
    Firm("c_putai", "西安璞泰轨道机电工程有限公司", "610112", 30, "contractor", "contractor",
         sites="metro", code="PT"),
    Firm("c_longan", "陕西珑安机电安装工程有限公司", "610113", 31, "contractor",
         "chain_contractor_longan", sites="metro", code="LA"),
    Firm("c_hanzhu", "西安瀚筑电力安装工程有限公司", "610116", 32, "contractor",
         "chain_contractor_hanzhu", sites="metro", code="HZ"),
    Firm("c_fenghe", "咸阳沣禾机电工程有限公司", "610402", 33, "contractor",
         "chain_contractor_fenghe", sites="metro", code="FH"),
    Firm("c_liheng", "西安骊衡建设工程有限公司", "610115", 34, "contractor",
         "chain_contractor_liheng", sites="building", code="LH"),
    Firm("c_linyue", "宝鸡麟岳建筑安装工程有限公司", "610304", 35, "contractor",
         "chain_contractor_linyue", sites="building", code="LY"),
    Firm("metro", plan.STORY["metro"]["name"], plan.STORY["metro"]["division"], 50,
         "user_unit", "metro", existing="metro"),
    Firm("power", plan.STORY["power"]["name"], plan.STORY["power"]["division"], 51,
         "user_unit", "power", existing="power"),
]
FIRM = {f.key: f for f in FIRMS}
#: The chain's logins printed by `zhijian demo` and listed in docs/demo.md (the other
#: firms' logins exist, with the same password, but are not printed).
PRINTED_LOGINS = [
    ("distributor", "cable distributor in the supply chain (西安弘朔电工器材有限公司)"),
    ("contractor", "installation contractor in the supply chain (西安璞泰轨道机电工程有限公司)"),
]
NEW_FIRMS = [f for f in FIRMS if not f.existing]
#: Which contractors each distributor sells to (and the power utility for the Xi'an one).
CUSTOMERS = {
    "dist_xian": ("c_putai", "c_longan", "c_hanzhu", "c_liheng", "power"),
    "dist_xianyang": ("c_fenghe", "c_putai"),
    "dist_baoji": ("c_linyue", "c_hanzhu"),
}

#: The suppliers' products: (firm, item number, name, model, unit).
RAW = {
    "copper": ("copper", 1, "电工用铜线坯", "T1 Φ8 mm"),
    "xlpe": ("compound", 1, "电缆用交联聚乙烯绝缘料", "YJ-10"),
    "pvc": ("compound", 2, "电缆用聚氯乙烯护套料", "H-90"),
}

#: kg of each raw material per metre of cable, by product index of plan.makers (copper =
#: conductor cross-section in mm² × 8.89 g/cm³; insulation and sheath from the
#: dimensions of GB/T 12706.1 and GB/T 5023.3), plus 1.5 % process scrap. The story batch
#: HC-2026-0815 used 2.28 kg of copper per metre instead of 3.02: a conductor of about
#: 256 mm² instead of 335, which is why its resistance is 31 % over the limit.
RATIOS = {
    0: {"copper": 3.02, "xlpe": 0.56, "pvc": 0.61},  # YJV 3×95+1×50 (335 mm²)
    1: {"copper": 0.90, "xlpe": 0.25, "pvc": 0.30},  # YJV 4×25 (100 mm²)
    2: {"copper": 0.0226, "pvc": 0.0122},  # BV 2.5 mm²
    3: {"copper": 0.0361, "pvc": 0.0152},  # BV 4 mm²
}
DRUM = {0: 500, 1: 1000, 2: 100, 3: 100}  # metres per drum or coil
PALLET_COILS = 50  # building-wire coils of 100 m per pallet

#: Xi'an metro stations (line, name, district), the metro operator's places, public.
STATIONS = [
    ("1号线", "后卫寨", "610402"), ("1号线", "三桥", "610112"), ("1号线", "汉城路", "610104"),
    ("1号线", "开远门", "610104"), ("1号线", "劳动路", "610104"), ("1号线", "玉祥门", "610104"),
    ("1号线", "洒金桥", "610104"), ("1号线", "五路口", "610102"), ("1号线", "朝阳门", "610102"),
    ("1号线", "康复路", "610102"), ("1号线", "通化门", "610102"), ("1号线", "万寿路", "610102"),
    ("1号线", "长乐坡", "610111"), ("1号线", "浐河", "610111"), ("1号线", "半坡", "610111"),
    ("1号线", "纺织城", "610111"),
    ("2号线", "北客站", "610112"), ("2号线", "北苑", "610112"), ("2号线", "运动公园", "610112"),
    ("2号线", "行政中心", "610112"), ("2号线", "凤城五路", "610112"),
    ("2号线", "市图书馆", "610112"), ("2号线", "大明宫西", "610112"),
    ("2号线", "龙首原", "610102"), ("2号线", "安远门", "610102"), ("2号线", "北大街", "610104"),
    ("2号线", "钟楼", "610103"), ("2号线", "永宁门", "610103"), ("2号线", "南稍门", "610103"),
    ("2号线", "体育场", "610103"), ("2号线", "小寨", "610113"), ("2号线", "纬一街", "610113"),
    ("2号线", "会展中心", "610113"), ("2号线", "三爻", "610113"), ("2号线", "凤栖原", "610116"),
    ("2号线", "航天城", "610116"), ("2号线", "韦曲南", "610116"),
    ("3号线", "鱼化寨", "610113"), ("3号线", "丈八北路", "610113"), ("3号线", "延平门", "610113"),
    ("3号线", "科技路", "610113"), ("3号线", "太白南路", "610113"), ("3号线", "吉祥村", "610113"),
    ("3号线", "大雁塔", "610113"), ("3号线", "北池头", "610113"), ("3号线", "青龙寺", "610113"),
    ("3号线", "延兴门", "610102"), ("3号线", "咸宁路", "610102"), ("3号线", "长乐公园", "610102"),
    ("3号线", "胡家庙", "610102"), ("3号线", "石家街", "610102"), ("3号线", "辛家庙", "610112"),
    ("3号线", "广泰门", "610111"), ("3号线", "桃花潭", "610111"), ("3号线", "浐灞中心", "610111"),
    ("3号线", "香湖湾", "610111"), ("3号线", "务庄", "610111"),
    ("3号线", "国际港务区", "610111"), ("3号线", "双寨", "610111"), ("3号线", "新筑", "610111"),
    ("3号线", "保税区", "610111"),
    ("8号线", "长延堡", "610113"), ("4号线", "西安北站", "610112"),
]
#: The power utility's substations (not public: critical infrastructure).
SUBSTATIONS = [("110 kV 曲江变电站", "610113"), ("110 kV 鱼化变电站", "610113"),
               ("110 kV 草滩变电站", "610112"), ("35 kV 韦曲变电站", "610116"),
               ("110 kV 泾河变电站", "610117")]
BASE_SITES = 6  # building sites of the story; growth adds one per SITES_PER_EPISODES


def station_key(name: str) -> str:
    return f"station:{name}"


@dataclass(frozen=True)
class PlacePlan:
    key: str
    identifier: str
    kind: str
    name: str
    division: str
    address: str
    owner: str  # firm key
    public: bool


def firm_places() -> list[PlacePlan]:
    """Every firm's party (GLN reference 0) and its plant, warehouse or depot."""
    out = []
    depot = {"maker": ("plant", "生产基地"), "supplier": ("plant", "生产厂区"),
             "distributor": ("warehouse", "仓库"), "contractor": ("warehouse", "材料库"),
             "user_unit": ("warehouse", "物资库")}
    for f in FIRMS:
        city = _city_name(f.division)
        public = f.key in ("maker", "honest_maker", "metro")
        out.append(PlacePlan(f"party:{f.key}", party(gln(f.company, 0)), "party", f.name,
                             f.division, "", f.key, public))
        kind, word = depot[f.kind]
        out.append(PlacePlan(f"depot:{f.key}", location(gln(f.company, 1)), kind,
                             f"{f.name} {word}", f.division, f"陕西省{city}", f.key, False))
    for i, (line, name, division) in enumerate(STATIONS, start=1):
        out.append(PlacePlan(station_key(name), location(gln(50, 100 + i)), "station",
                             f"地铁{line} {name}站", division,
                             f"陕西省{_city_name(division)}地铁{line}{name}站", "metro", True))
    for i, (name, division) in enumerate(SUBSTATIONS, start=1):
        out.append(PlacePlan(f"substation:{i}", location(gln(51, 100 + i)), "building", name,
                             division, f"陕西省{_city_name(division)}", "power", False))
    return out


#: Where the building sites are: (contractor, districts).
SITE_DISTRICTS = {"c_liheng": ("610115", "610111", "610116", "610117"),
                  "c_linyue": ("610302", "610303", "610304")}
SITE_WORDS = ("住宅项目", "安置房项目", "产业园项目", "学校建设项目", "医院门诊楼项目",
              "商业综合体项目")


def site_place(seed: int, j: int) -> PlacePlan:
    """Building site j (deterministic from the seed): a construction project of one of the
    building contractors, not public (a private project)."""
    rng = plan.rng_for(seed, f"chain-site:{j}")
    contractor = "c_liheng" if j % 2 == 0 else "c_linyue"
    division = rng.choice(SITE_DISTRICTS[contractor])
    county = divisions.get_division(division)["name"]
    name = (f"{county}{names.road(rng)}{rng.randint(1, 399)}号 {rng.choice(SITE_WORDS)} "
            f"{rng.randint(1, 12)}号楼")
    return PlacePlan(f"site:{j}", location(gln(FIRM[contractor].company, 1000 + j)), "building",
                     name, division, f"陕西省{_city_name(division)}{county}", contractor, False)


def _city_name(division: str) -> str:
    div = divisions.get_division(division)
    if div["level"] == "county":
        div = divisions.get_division(div["parent"])
    return div["name"]


# --- batches and where they go ---------------------------------------------------------------

@dataclass(frozen=True)
class Piece:
    """A length cut from a contractor's stock and installed at a site."""

    metres: int
    site: str  # place key
    day: dt.date  # installed (the metro accepts it at the station the day before)


@dataclass(frozen=True)
class Leg:
    """A shipment of part of a batch to `to`, and what happens to it there."""

    to: str
    metres: int
    day: dt.date  # shipped; received the next day
    legs: tuple[Leg, ...] = ()  # onward shipments (distributors)
    cut: tuple[Piece, ...] = ()  # cut and installed (contractors)
    site: str = ""  # a user unit receives it at this site (default: its warehouse)
    install: dt.date | None = None  # ... and installs it there on this day
    rejected: bool = False  # ... or rejects it on acceptance and returns it to the shipper


@dataclass(frozen=True)
class RawLot:
    material: str  # key of RAW
    lot: str
    kg: float
    made: dt.date


@dataclass(frozen=True)
class CableBatch:
    maker: str
    product: int  # index into the maker's products (plan.makers)
    lot: str
    metres: int
    made: dt.date
    inputs: tuple[tuple[RawLot, float], ...]  # raw lot, kg used
    legs: tuple[Leg, ...]
    pallets: bool = False  # building wire on SSCC pallets of PALLET_COILS coils


@dataclass
class Context:
    seed: int
    gtins: dict[str, list[str]]  # maker key -> GTIN-13 of its products (plan.makers order)
    raw_gtins: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, seed: int) -> Context:
        makers = {mp.key: [p[4] for p in mp.products] for mp in plan.makers(seed, set())}
        raw = {k: gtin13(FIRM[firm].company, item) for k, (firm, item, _n, _m) in RAW.items()}
        return cls(seed, makers, raw)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _days(day: dt.date, n: int) -> dt.date:
    return day + dt.timedelta(days=n)


# --- the story -------------------------------------------------------------------------------

def story_batches() -> tuple[list[tuple[RawLot, str]], list[CableBatch]]:
    """The fixed batches of autumn 2026 (docs/demo.md, "The supply chain"), and the raw
    lots with the maker each goes to."""
    d = dt.date
    cu_0620 = RawLot("copper", "CU-2026-0620", 12500.0, d(2026, 6, 20))
    cu_0728 = RawLot("copper", "CU-2026-0728", 24000.0, d(2026, 7, 28))
    xlpe = RawLot("xlpe", "XL-2026-0610", 8000.0, d(2026, 6, 10))
    pvc = RawLot("pvc", "PV-2026-0612", 9000.0, d(2026, 6, 12))
    cy_cu = RawLot("copper", "CU-2026-0905", 16000.0, d(2026, 9, 5))
    cy_xlpe = RawLot("xlpe", "XL-2026-0908", 3000.0, d(2026, 9, 8))
    cy_pvc = RawLot("pvc", "PV-2026-0908", 3500.0, d(2026, 9, 8))
    raws = [(xlpe, "maker"), (pvc, "maker"), (cu_0620, "maker"), (cu_0728, "maker"),
            (cy_cu, "honest_maker"), (cy_xlpe, "honest_maker"), (cy_pvc, "honest_maker")]

    def used(metres, product, copper, ratio_cu=None, xl=xlpe, pv=pvc):
        r = RATIOS[product]
        out = [(copper, round(metres * (ratio_cu or r["copper"]), 1))]
        if "xlpe" in r:
            out.append((xl, round(metres * r["xlpe"], 1)))
        out.append((pv, round(metres * r["pvc"], 1)))
        return tuple(out)

    station = station_key
    story = CableBatch(
        "maker", 0, "HC-2026-0815", 6000, d(2026, 8, 15),
        used(6000, 0, cu_0728, ratio_cu=2.28), (
            Leg("dist_xian", 2000, d(2026, 8, 20), legs=(
                Leg("c_putai", 1000, d(2026, 8, 26), cut=(
                    Piece(250, station("小寨"), d(2026, 9, 3)),
                    Piece(250, station("纬一街"), d(2026, 9, 4)),
                    Piece(250, station("会展中心"), d(2026, 9, 5)),
                    Piece(250, station("长延堡"), d(2026, 9, 6)))),
                Leg("c_longan", 600, d(2026, 8, 26), cut=(
                    Piece(300, station("北池头"), d(2026, 9, 2)),
                    Piece(300, station("大雁塔"), d(2026, 9, 4)))),
                Leg("power", 400, d(2026, 8, 28), site="substation:2",
                    install=d(2026, 9, 8)))),
            Leg("dist_xianyang", 1000, d(2026, 8, 22), legs=(
                Leg("c_fenghe", 1000, d(2026, 8, 28), cut=(
                    Piece(500, station("三桥"), d(2026, 9, 7)),
                    Piece(500, station("汉城路"), d(2026, 9, 9)))),)),
            Leg("metro", 1500, d(2026, 9, 9), site=station("长延堡"), rejected=True),
            Leg("power", 1000, d(2026, 9, 17), site="substation:1", rejected=True),
        ))
    early = CableBatch(
        "maker", 0, "HC-2026-0701", 4000, d(2026, 7, 1), used(4000, 0, cu_0620), (
            Leg("dist_baoji", 3000, d(2026, 7, 10), legs=(
                Leg("c_linyue", 2000, d(2026, 7, 15), cut=(
                    Piece(1000, "site:1", d(2026, 7, 25)),
                    Piece(1000, "site:3", d(2026, 8, 2)))),
                Leg("c_hanzhu", 1000, d(2026, 7, 16), cut=(
                    Piece(500, station("凤栖原"), d(2026, 7, 28)),
                    Piece(500, station("航天城"), d(2026, 7, 30)))))),
            Leg("dist_xian", 1000, d(2026, 7, 12), legs=(
                Leg("c_liheng", 1000, d(2026, 7, 18), cut=(
                    Piece(600, "site:0", d(2026, 7, 29)),
                    Piece(400, "site:2", d(2026, 8, 5)))),)),
        ))
    later = CableBatch(
        "maker", 0, "HC-2026-0902", 3000, d(2026, 9, 2), used(3000, 0, cu_0728, ratio_cu=2.30), (
            Leg("dist_xian", 2000, d(2026, 9, 8), legs=(
                Leg("c_hanzhu", 2000, d(2026, 9, 14), cut=(
                    Piece(1000, station("行政中心"), d(2026, 9, 24)),
                    Piece(1000, station("凤城五路"), d(2026, 9, 26)))),)),
            Leg("dist_baoji", 1000, d(2026, 9, 9), legs=(
                Leg("c_linyue", 1000, d(2026, 9, 15), cut=(
                    Piece(1000, "site:5", d(2026, 9, 28)),)),)),
        ))
    wire = CableBatch(
        "maker", 2, "HCBV-2026-0820", 10000, d(2026, 8, 20), used(10000, 2, cu_0728), (
            Leg("dist_xian", 10000, d(2026, 8, 24), legs=(
                Leg("c_liheng", 5000, d(2026, 8, 30), cut=(
                    Piece(2500, "site:0", d(2026, 9, 10)),
                    Piece(2500, "site:4", d(2026, 9, 12)))),
                Leg("c_putai", 5000, d(2026, 8, 30), cut=(
                    Piece(2500, station("小寨"), d(2026, 9, 11)),
                    Piece(2500, station("钟楼"), d(2026, 9, 13)))))),
        ), pallets=True)
    honest = CableBatch(
        "honest_maker", 0, "CY-2026-0930", 5000, d(2026, 9, 30),
        used(5000, 0, cy_cu, xl=cy_xlpe, pv=cy_pvc), (
            Leg("metro", 3000, d(2026, 10, 2), site=station("西安北站"),
                install=d(2026, 10, 20)),
            Leg("dist_xianyang", 2000, d(2026, 10, 6), legs=(
                Leg("c_fenghe", 2000, d(2026, 10, 12), cut=(
                    Piece(1000, station("后卫寨"), d(2026, 10, 22)),
                    Piece(1000, station("开远门"), d(2026, 10, 24)))),)),
        ))
    return raws, [early, story, wire, later, honest]


# --- growth ----------------------------------------------------------------------------------

def _split(rng: random.Random, total: int, unit: int, parts: int) -> list[int]:
    """`total` (a multiple of `unit`) in `parts` positive multiples of `unit` (fewer if it
    is too small)."""
    units = total // unit
    parts = max(1, min(parts, units))
    cuts = sorted(rng.sample(range(1, units), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, units]
    return [(b - a) * unit for a, b in zip(bounds, bounds[1:], strict=False)]


def episode(seed: int, i: int) -> tuple[list[RawLot], CableBatch]:
    """Growth batch i (1, 2, ...): its own copper and compound lots, made on a day of
    2025-2026, sent to one or two distributors and on to contractors and sites."""
    rng = plan.rng_for(seed, f"chain:{i}")
    maker = "maker" if rng.random() < 0.7 else "honest_maker"
    product = rng.choices((0, 1, 2, 3), weights=(35, 25, 25, 15))[0]
    made = _days(FIRST_GROWTH_DAY, rng.randrange(GROWTH_DAYS))
    wire = product >= 2
    unit = DRUM[product] * (PALLET_COILS if wire else 1)
    metres = unit * (rng.randint(1, 4) if wire else rng.randint(2, 10))
    stamp = f"{made:%y%m%d}{i:05d}"
    lot = ("HC" if maker == "maker" else "CY") + stamp
    ratios = RATIOS[product]
    raws, inputs = [], []
    for material, prefix in (("copper", "CU"), ("xlpe", "XL"), ("pvc", "PV")):
        if material not in ratios:
            continue
        kg = round(metres * ratios[material], 1)
        raw = RawLot(material, f"{prefix}{stamp}", float(-(-kg // 500) * 500),
                     _days(made, -rng.randint(8, 20)))
        raws.append(raw)
        inputs.append((raw, kg))
    sites = BASE_SITES + i // SITES_PER_EPISODES
    dists = rng.sample(sorted(CUSTOMERS), rng.choice((1, 1, 2)))
    legs = []
    shares = _split(rng, metres, unit, len(dists))
    day = _days(made, rng.randint(3, 9))
    for dist, share in zip(dists, shares, strict=False):
        onward = []
        customers = [c for c in CUSTOMERS[dist] if c != "power" or not wire]
        buyers = rng.sample(customers, min(len(customers), rng.choice((1, 2, 2))))
        leg_day = _days(day, rng.randint(4, 8))
        for buyer, part in zip(buyers, _split(rng, share, DRUM[product], len(buyers)),
                               strict=False):
            if buyer == "power":
                onward.append(Leg("power", part, leg_day,
                                  site=f"substation:{rng.randint(1, len(SUBSTATIONS))}",
                                  install=_days(leg_day, rng.randint(7, 20))))
                continue
            pieces = []
            install = _days(leg_day, rng.randint(6, 12))
            for length in _split(rng, part, DRUM[product], rng.randint(1, 3)):
                if FIRM[buyer].sites == "metro":
                    site = station_key(rng.choice(STATIONS)[1])
                else:
                    site = f"site:{rng.randrange(sites)}"
                pieces.append(Piece(length, site, install))
                install = _days(install, rng.randint(1, 4))
            onward.append(Leg(buyer, part, leg_day, cut=tuple(pieces)))
        legs.append(Leg(dist, share, day, legs=tuple(onward)))
        day = _days(day, rng.randint(1, 5))
    return raws, CableBatch(maker, product, lot, metres, made, tuple(inputs), tuple(legs),
                            pallets=wire)


def sites_needed(n_episodes: int) -> int:
    """Building sites the first `n_episodes` growth batches may use (ids 0 .. n-1)."""
    return BASE_SITES + n_episodes // SITES_PER_EPISODES


# --- events ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Captured:
    """One event of the stream and the firm that captures it."""

    firm: str
    event: dict


class Events:
    """Turns raw lots and batches into the events each firm captures (steps.build)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.places = Places(ctx.seed)  # place key -> identifier
        self.out: list[Captured] = []
        self.pieces = 0  # cut lots of the current batch

    def seed(self, tag: str) -> str:
        return f"zhijian-demo:{self.ctx.seed}:chain:{tag}:"

    def add(self, firm: str, step: str, tag: str, **kw) -> None:
        self.out.append(Captured(firm, steps.build(step, seed=self.seed(tag), **kw)))

    def own(self, firm: str, kind: str, tag: str, fields: dict) -> None:
        """An event the step builders do not make (pallets), with the same kind of ID."""
        content = json.dumps(fields, sort_keys=True, ensure_ascii=False)
        eid = f"urn:uuid:{uuid.uuid5(EVENT_NAMESPACE, self.seed(tag) + content)}"
        self.out.append(Captured(firm, {"type": kind, "eventID": eid, **fields}))

    def party_of(self, firm: str) -> str:
        return self.places[f"party:{firm}"]

    def depot(self, firm: str) -> str:
        return self.places[f"depot:{firm}"]

    def raw(self, r: RawLot, maker: str) -> None:
        """A raw-material lot: made and tested by its supplier, delivered to `maker`."""
        supplier = RAW[r.material][0]
        b = steps.Batch(self.ctx.raw_gtins[r.material], r.lot, r.kg, "KGM")
        self.add(supplier, "produce", r.lot, time=_at(r.made, 8), batch=b,
                 location=self.depot(supplier))
        self.add(supplier, "inspect", r.lot, time=_at(r.made, 15), batch=b,
                 location=self.depot(supplier), result="pass")
        self._ship(supplier, maker, b, _days(r.made, 2), r.lot, self.depot(maker))

    def _ship(self, sender: str, receiver: str, b: steps.Batch, day: dt.date, tag: str,
              where: str, receive_day: dt.date | None = None) -> None:
        self.add(sender, "ship", tag, time=_at(day, 9), batch=b, location=self.depot(sender),
                 from_party=self.party_of(sender), to_party=self.party_of(receiver),
                 to_location=where)
        self.add(receiver, "receive", tag, time=_at(receive_day or _days(day, 1), 14),
                 batch=b, location=where, from_party=self.party_of(sender),
                 to_party=self.party_of(receiver))

    def batch(self, cb: CableBatch) -> None:
        gtin = self.ctx.gtins[cb.maker][cb.product]
        product = steps.Batch(gtin, cb.lot, cb.metres, "MTR")
        inputs = tuple(steps.Batch(self.ctx.raw_gtins[r.material], r.lot, kg, "KGM")
                       for r, kg in cb.inputs)
        plant = self.depot(cb.maker)
        self.pieces = 0
        self.add(cb.maker, "transform", cb.lot, time=_at(cb.made, 8), batch=product,
                 inputs=inputs, location=plant)
        self.add(cb.maker, "inspect", cb.lot, time=_at(_days(cb.made, 1), 10), batch=product,
                 location=plant, result="pass")
        pallets: list[str] = []
        if cb.pallets:
            per = DRUM[cb.product] * PALLET_COILS
            for n in range(cb.metres // per):
                pallet = f"{DL}/00/{sscc(FIRM[cb.maker].company, _pallet_serial(cb, n))}"
                pallets.append(pallet)
                self.own(cb.maker, "AggregationEvent", f"{cb.lot}:pack{n}", {
                    "eventTime": steps.event_time(_at(_days(cb.made, 1), 16, n % 60)),
                    "eventTimeZoneOffset": "+08:00", "parentID": pallet,
                    "childQuantityList": [{"epcClass": batch_id(gtin, cb.lot),
                                           "quantity": per, "uom": "MTR"}],
                    "action": "ADD", "bizStep": "packing",
                    "disposition": "container_closed",
                    "readPoint": {"id": plant}, "bizLocation": {"id": plant}})
        for k, leg in enumerate(cb.legs):
            self.leg(cb, gtin, cb.maker, leg, f"{cb.lot}:{k}", pallets)

    def leg(self, cb: CableBatch, gtin: str, sender: str, leg: Leg, tag: str,
            pallets: list[str]) -> None:
        b = steps.Batch(gtin, cb.lot, leg.metres, "MTR")
        where = self.places[leg.site] if leg.site else self.depot(leg.to)
        if pallets and sender == cb.maker:
            per = DRUM[cb.product] * PALLET_COILS
            mine, pallets[:] = pallets[:leg.metres // per], pallets[leg.metres // per:]
            self._pallets(cb, sender, leg, mine, where, tag)
        else:
            self._ship(sender, leg.to, b, leg.day, tag, where)
        if leg.rejected:
            back = _days(leg.day, 3)
            self.add(leg.to, "inspect", tag, time=_at(_days(leg.day, 2), 10), batch=b,
                     location=where, result="fail")
            self._ship(leg.to, sender, b, back, tag + ":return", self.depot(sender))
            return
        if leg.install:
            self.add(leg.to, "inspect", tag, time=_at(_days(leg.day, 2), 10), batch=b,
                     location=where, result="pass")
            self.add(leg.to, "install", tag, time=_at(leg.install, 10), batch=b,
                     location=where)
        for k, sub in enumerate(leg.legs):
            self.leg(cb, gtin, leg.to, sub, f"{tag}.{k}", [])
        if leg.cut:
            self.cut(cb, gtin, leg, tag)

    def _pallets(self, cb, sender, leg, mine, where, tag) -> None:
        common = {"eventTimeZoneOffset": "+08:00", "epcList": mine, "action": "OBSERVE"}
        src = [{"type": "owning_party", "source": self.party_of(sender)},
               {"type": "possessing_party", "source": self.party_of(sender)}]
        dst = [{"type": "owning_party", "destination": self.party_of(leg.to)},
               {"type": "possessing_party", "destination": self.party_of(leg.to)}]
        self.own(sender, "ObjectEvent", tag + ":ship", {
            "eventTime": steps.event_time(_at(leg.day, 9)), **common, "bizStep": "shipping",
            "disposition": "in_transit", "readPoint": {"id": self.depot(sender)},
            "bizLocation": {"id": self.depot(sender)}, "sourceList": src,
            "destinationList": [*dst, {"type": "location", "destination": where}]})
        received = _days(leg.day, 1)
        self.own(leg.to, "ObjectEvent", tag + ":receive", {
            "eventTime": steps.event_time(_at(received, 14)), **common,
            "bizStep": "receiving", "disposition": "in_progress",
            "readPoint": {"id": where}, "bizLocation": {"id": where}, "sourceList": src,
            "destinationList": dst})
        gtin = self.ctx.gtins[cb.maker][cb.product]
        per = DRUM[cb.product] * PALLET_COILS
        for n, pallet in enumerate(mine):
            self.own(leg.to, "AggregationEvent", f"{tag}:unpack{n}", {
                "eventTime": steps.event_time(_at(received, 16, n % 60)),
                "eventTimeZoneOffset": "+08:00", "parentID": pallet,
                "childQuantityList": [{"epcClass": batch_id(gtin, cb.lot), "quantity": per,
                                       "uom": "MTR"}],
                "action": "DELETE", "bizStep": "unpacking",
                "disposition": "container_open",
                "readPoint": {"id": where}, "bizLocation": {"id": where}})

    def cut(self, cb: CableBatch, gtin: str, leg: Leg, tag: str) -> None:
        contractor = FIRM[leg.to]
        depot = self.depot(leg.to)
        cut_day = _days(leg.day, 3)
        for n, piece in enumerate(leg.cut, start=1):
            self.pieces += 1
            lot = f"{cb.lot}-{contractor.code}{self.pieces:02d}"
            out = steps.Batch(gtin, lot, piece.metres, "MTR")
            self.add(leg.to, "transform", f"{tag}:{n}", time=_at(cut_day, 9, n % 60),
                     batch=out, location=depot,
                     inputs=(steps.Batch(gtin, cb.lot, piece.metres, "MTR"),))
            site = self.places[piece.site]
            if piece.site.startswith("station:"):
                self.add("metro", "inspect", f"{tag}:{n}", time=_at(_days(piece.day, -1), 15),
                         batch=out, location=site, result="pass")
            self.add(leg.to, "install", f"{tag}:{n}", time=_at(piece.day, 10), batch=out,
                     location=site)


def _pallet_serial(cb: CableBatch, n: int) -> int:
    """Pallet serials: the batch's day and episode number, then the pallet number."""
    digits = "".join(c for c in cb.lot if c.isdigit())[-7:]
    return int(digits) * 100 + n


class Places(dict):
    """Place key -> identifier: the firms' places, stations and substations, and building
    sites computed on demand (site_place)."""

    def __init__(self, seed: int):
        super().__init__((p.key, p.identifier) for p in firm_places())
        self.seed = seed

    def __missing__(self, key: str) -> str:
        if not key.startswith("site:"):
            raise KeyError(key)
        value = self[key] = site_place(self.seed, int(key.split(":")[1])).identifier
        return value


def stream(seed: int) -> Iterator[tuple[int, Captured]]:
    """The chain's events, endless: (episode, event); episode 0 is the story."""
    ev = Events(Context.of(seed))
    raws, batches = story_batches()
    for raw, maker in raws:
        ev.raw(raw, maker)
    for cb in batches:
        ev.batch(cb)
    yield from ((0, c) for c in ev.out)
    i = 1
    while True:
        ev.out = []
        raws, cb = episode(seed, i)
        for raw in raws:
            ev.raw(raw, cb.maker)
        ev.batch(cb)
        yield from ((i, c) for c in ev.out)
        i += 1


def story_size(seed: int) -> int:
    return sum(1 for _ in itertools.takewhile(lambda x: x[0] == 0, stream(seed)))


# --- the build -------------------------------------------------------------------------------

@dataclass
class Built:
    firms: int = 0
    places: int = 0
    stored: int = 0  # events stored by this build
    duplicates: int = 0  # events of captured documents that were already stored
    skipped: int = 0  # events of documents already stored whole (not sent again)
    documents: int = 0


def _firm_plans(seed: int) -> dict[str, dict]:
    """Registration data of the new firms (USCCs avoid every USCC of the province's fixed
    actors; build.reserved adds these to the USCCs the entity stream avoids)."""
    from .build import reserved  # the fixed actors' USCCs

    return firm_rows(seed, set(reserved(seed, chain=False).usccs))


def firm_rows(seed: int, taken: set[str]) -> dict[str, dict]:
    rng = plan.rng_for(seed, "chain-firms")
    rows = {}
    for f in NEW_FIRMS:
        code = synthetic_uscc(rng, f.division)
        while code in taken:
            code = synthetic_uscc(rng, f.division)
        taken.add(code)
        county = divisions.get_division(f.division)["name"]
        rows[f.key] = {
            "uscc": code, "name": f.name, "entity_type": "enterprise",
            "division": f.division,
            "address": f"陕西省{_city_name(f.division)}{county}{names.road(rng)}"
                       f"{rng.randint(1, 999)}号",
            "legal_representative": names.person(rng),
            "chief_quality_officer": names.person(rng) if f.kind != "contractor" else "",
            "contact_phone": f"029-{rng.randrange(2 * 10**7, 9 * 10**7)}",
            "registered_on": dt.date(rng.randint(2005, 2020), rng.randint(1, 12),
                                     rng.randint(1, 28)),
            "risk_class": rng.choice("AB"),
            "licence_holder": False,
            "display_name": names.person(rng),
        }
    return rows


def chain_usccs(seed: int, taken: set[str]) -> set[str]:
    """The USCCs of the chain's firms (for build.reserved)."""
    return {row["uscc"] for row in firm_rows(seed, taken).values()}


def firms_exist(seed: int) -> bool:
    first = _firm_plans(seed)[NEW_FIRMS[0].key]
    return MarketEntity.objects.filter(uscc=first["uscc"]).exists()


def firms_build(seed: int, log: Callable[[str], None]) -> int:
    """Register the new firms with their products and logins, in one transaction."""
    if firms_exist(seed):
        return 0
    rows = _firm_plans(seed)
    admin = User.objects.get(username="admin")
    categories = {c.code: c for c in ProductCategory.objects.filter(code__in=(
        "electrical.cable", "electrical.cable.power"))}
    with transaction.atomic():
        for f in NEW_FIRMS:
            data = dict(rows[f.key])
            display = data.pop("display_name")
            cat = "electrical.cable" if f.kind == "supplier" else "electrical.cable.power"
            entity = registry.entity_register(actor=admin, data={
                **data, "categories": [categories[cat]]})
            for firm, item, name, model in RAW.values():
                if firm == f.key:
                    registry.product_register(actor=admin, data={
                        "entity": entity, "name": name, "model": model,
                        "category": categories["electrical.cable"], "standards": [],
                        "gtin": gtin13(f.company, item)})
            persona_create(actor=admin, username=f.username, password=plan.PASSWORD,
                           role="enterprise", display_name=display, entity=entity)
        honest = MarketEntity.objects.get(name=FIRM["honest_maker"].name)
        if not User.objects.filter(username=FIRM["honest_maker"].username).exists():
            persona_create(actor=admin, username=FIRM["honest_maker"].username,
                           password=plan.PASSWORD, role="enterprise",
                           display_name=plan.rng_for(seed, "chain-honest").choice(
                               ("赵澄远", "孙静怡")), entity=honest)
    log(f"supply chain: {len(NEW_FIRMS)} firms (2 raw-material suppliers, 3 distributors, "
        "6 contractors) with logins")
    return len(NEW_FIRMS)


def _org_uscc(firm: Firm) -> str:
    if firm.kind == "user_unit":
        return UserUnit.objects.values_list("uscc", flat=True).get(name=firm.name)
    return MarketEntity.objects.values_list("uscc", flat=True).get(name=firm.name)


def places_build(seed: int, users: dict[str, User], sites: int) -> int:
    """Register the missing places (each by the firm it belongs to): every firm's party and
    depot, the stations, the substations and building sites 0 .. sites-1."""
    from zhijian.traceability import place_services

    wanted = firm_places() + [site_place(seed, j) for j in range(sites)]
    have = set()
    idents = [p.identifier for p in wanted]
    for k in range(0, len(idents), 900):
        have |= set(Place.objects.filter(identifier__in=idents[k:k + 900])
                    .values_list("identifier", flat=True))
    created = 0
    for p in wanted:
        if p.identifier in have:
            continue
        firm = FIRM[p.owner]
        gln_value = p.identifier.rsplit("/", 1)[1]
        data = {"kind": p.kind, "name": p.name, "gln": gln_value, "division": p.division,
                "address": p.address, "public": p.public}
        if p.kind == "party":
            data["uscc"] = _org_uscc(firm)
        place_services.place_create(actor=users[p.owner], data=data)
        created += 1
    return created


def _present(event_ids: list[str]) -> int:
    found = 0
    for k in range(0, len(event_ids), 900):
        found += EventKey.objects.filter(event_id__in=event_ids[k:k + 900]).count()
    return found


def supply_chain_build(*, seed: int, events: int = DEFAULT_EVENTS,
                       log: Callable[[str], None] = lambda _m: None,
                       progress: Callable[[int], None] | None = None,
                       block: int = 20000) -> Built:
    """Build the chain up to the first `events` events of the stream (at least the story):
    firms, places, then the events, captured by the firm each belongs to in documents of
    at most DOCUMENT_EVENTS. Idempotent and resumable (module docstring)."""
    from zhijian.traceability.services import capture_document

    built = Built()
    built.firms = firms_build(seed, log)
    users = {f.key: User.objects.get(username=f.username) for f in FIRMS}
    built.places = places_build(seed, users, BASE_SITES)
    total = max(events, story_size(seed))
    items = itertools.islice(stream(seed), total)
    created_on = dt.datetime.now(TZ)
    while chunk := list(itertools.islice(items, block)):
        built.places += places_build(seed, users, sites_needed(chunk[-1][0]))
        by_firm: dict[str, list[dict]] = {}
        for _i, c in chunk:
            by_firm.setdefault(c.firm, []).append(c.event)
        for firm in sorted(by_firm, key=[f.key for f in FIRMS].index):
            evs = by_firm[firm]
            for k in range(0, len(evs), DOCUMENT_EVENTS):
                part = evs[k:k + DOCUMENT_EVENTS]
                if _present([e["eventID"] for e in part]) == len(part):
                    built.skipped += len(part)
                else:
                    doc = steps.document(part, created=created_on)
                    capture = capture_document(actor=users[firm], raw=steps.encode(doc))
                    built.stored += capture.stored_count
                    built.duplicates += capture.duplicate_count
                    built.documents += 1
                if progress:
                    progress(len(part))
    log(f"supply chain: {built.stored} events stored in {built.documents} documents "
        f"({built.skipped + built.duplicates} already there), {built.places} places added")
    return built
