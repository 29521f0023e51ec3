"""What the demo province contains, as plain data (pure, no Django).

`build.py` turns these plans into records through the registry's services. Everything
here is a function of the seed, so two builds with the same seed are identical.

The responsibility matrix follows practice in Shaanxi with one deliberate blind spot and
one deliberate overlap (BLIND_SPOT, OVERLAP; docs/demo.md explains both).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from zhijian.core import divisions
from zhijian.core.identifiers import synthetic_uscc

from . import names
from .generate import load, walk_catalogue

PASSWORD = "zhijian-demo-2017"  # noqa: S105 - the published demo password
LEVELS = ("province", "city", "county")
PROVINCE = "610000"


def rng_for(seed: int, part: str) -> random.Random:
    """An independent, reproducible random stream per part of the build."""
    return random.Random(f"zhijian-demo:{seed}:{part}")


def level_of(code: str) -> str:
    return divisions.level_of(code)


# --- departments ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    province: tuple[str, str]  # (Chinese, English) name of the provincial department
    local: tuple[str, str]  # templates for city and county departments
    sectors: tuple[str, ...] = ()  # category codes; () with all_sectors False = none
    all_sectors: bool = False
    levels: tuple[str, ...] = ("province", "city")
    inspectors: tuple[int, int] = (2, 5)  # per city department; province gets twice


KINDS = {
    "market": Kind(
        ("陕西省市场监督管理局", "Shaanxi Provincial Administration for Market Regulation"),
        ("{}市场监督管理局", "{} Administration for Market Regulation"),
        all_sectors=True, levels=LEVELS, inspectors=(10, 20),
    ),
    "housing": Kind(
        ("陕西省住房和城乡建设厅",
         "Shaanxi Provincial Department of Housing and Urban-Rural Development"),
        ("{}住房和城乡建设局", "{} Bureau of Housing and Urban-Rural Development"),
        sectors=("building",), levels=LEVELS,
    ),
    "transport": Kind(
        ("陕西省交通运输厅", "Shaanxi Provincial Department of Transport"),
        ("{}交通运输局", "{} Transport Bureau"),
        sectors=("auto_parts",),
    ),
    "drug": Kind(
        ("陕西省药品监督管理局", "Shaanxi Medical Products Administration"),
        ("{}药品监督管理局", "{} Medical Products Administration"),
        sectors=("drug", "cosmetic", "medical_device"),
    ),
    "ecology": Kind(
        ("陕西省生态环境厅", "Shaanxi Provincial Department of Ecology and Environment"),
        ("{}生态环境局", "{} Bureau of Ecology and Environment"),
        sectors=("fuel", "chemical"),
    ),
    "public_security": Kind(
        ("陕西省公安厅", "Shaanxi Provincial Public Security Department"),
        ("{}公安局", "{} Public Security Bureau"),
        inspectors=(0, 0),
    ),
}
KIND_DIGIT = {"market": 1, "housing": 2, "transport": 3, "drug": 4, "ecology": 5,
              "public_security": 6}
AREA_PHONE_KINDS = {"market": "12315"}


@dataclass(frozen=True)
class DepartmentPlan:
    code: str
    name: str
    name_en: str
    kind: str
    level: str
    division: str
    all_sectors: bool
    sectors: tuple[str, ...]
    phone: str = ""


def _english_base(div: dict) -> str:
    name = div["name_en"] or div["name"]
    return name.removesuffix(" City") if div["level"] == "city" else name


def departments() -> list[DepartmentPlan]:
    """Market supervision at every level; housing at every level (it leads building
    materials in the counties); transport, drug, ecology and public security at the
    province and in the cities."""
    plans = []
    for div in divisions.current_divisions():
        level = div["level"]
        for kind, k in KINDS.items():
            if level not in k.levels:
                continue
            if level == "province":
                name, name_en = k.province
            else:
                name = k.local[0].format(div["name"])
                name_en = k.local[1].format(_english_base(div))
            plans.append(DepartmentPlan(
                code=f"{div['code']}-{kind}", name=name, name_en=name_en, kind=kind,
                level=level, division=div["code"], all_sectors=k.all_sectors,
                sectors=k.sectors, phone=AREA_PHONE_KINDS.get(kind, ""),
            ))
    return plans


# --- responsibility matrix -----------------------------------------------------------------

BASIS = {
    "product": "《中华人民共和国产品质量法》第八条",
    "special_equipment": "《中华人民共和国特种设备安全法》第五条",
    "food": "《中华人民共和国食品安全法》第六条",
    "drug": "《中华人民共和国药品管理法》第八条",
    "cosmetic": "《化妆品监督管理条例》",
    "medical_device": "《医疗器械监督管理条例》第三条",
    "building": "《建设工程质量管理条例》; 《中华人民共和国产品质量法》第八条",
    "elevator_housing": "《陕西省物业服务管理条例》(residential elevators, property services)",
    "ebike": "《中华人民共和国道路交通安全法》第十八条 (registration of non-motor vehicles)",
}

# The deliberate gaps of the demo matrix (docs/demo.md).
BLIND_SPOT = ("ebike_battery", "county")
OVERLAP = ("special_equipment.elevator", "city")


@dataclass(frozen=True)
class Duty:
    category: str
    level: str
    kind: str
    role: str
    legal_basis: str


def responsibilities() -> list[Duty]:
    """Every category (parents included) × level, with the lead and assisting kinds."""
    duties = []
    for node in walk_catalogue():
        code = node["code"]
        top = code.split(".")[0]
        for level in LEVELS:
            rows: list[tuple[str, str, str]] = []
            if top == "building":
                if level == "county":
                    rows = [("housing", "lead", "building"), ("market", "assist", "building")]
                else:
                    rows = [("market", "lead", "building"), ("housing", "assist", "building")]
            elif top == "ebike_battery":
                rows = [("market", "lead", "product"), ("public_security", "assist", "ebike")]
                if (code, level) == BLIND_SPOT:
                    # Battery swapping and refitting shops in the counties: market
                    # supervision sees a product sale, the police a vehicle matter; each
                    # assists, nobody leads.
                    rows = [("market", "assist", "product"),
                            ("public_security", "assist", "ebike")]
            elif top in ("drug", "cosmetic", "medical_device"):
                if level == "county":
                    rows = [("market", "lead", top)]
                else:
                    rows = [("drug", "lead", top), ("market", "assist", top)]
            elif top == "special_equipment":
                rows = [("market", "lead", "special_equipment")]
                if (code, level) == OVERLAP:
                    rows.append(("housing", "lead", "elevator_housing"))
            elif top == "food":
                rows = [("market", "lead", "food")]
            else:
                rows = [("market", "lead", "product")]
                assist = {"auto_parts": "transport", "fuel": "ecology", "chemical": "ecology"}
                if top in assist and level != "county":
                    rows.append((assist[top], "assist", "product"))
            duties.extend(Duty(code, level, kind, role, BASIS[basis]) for kind, role, basis in rows)
    return duties


# --- inspectors ----------------------------------------------------------------------------

@dataclass(frozen=True)
class InspectorPlan:
    department: str  # department code
    name: str
    badge_number: str
    qualifications: tuple[str, ...] = ()


def inspectors(seed: int, depts: list[DepartmentPlan]) -> list[InspectorPlan]:
    """3-8 per county market bureau, 10-20 per city (30 in Xi'an), 2-5 per sector
    department; the province has twice a city's. About a quarter of market-supervision
    inspectors hold the special-equipment qualification."""
    rng = rng_for(seed, "inspectors")
    plans = []
    for d in depts:
        k = KINDS[d.kind]
        lo, hi = k.inspectors
        if d.level == "county":
            lo, hi = (3, 8) if d.kind == "market" else (1, 3)
        count = rng.randint(lo, hi) if hi else 0
        if d.level == "province":
            count *= 2
        if d.division == "610100" and d.kind == "market":
            count = 30
        for n in range(1, count + 1):
            quals = ("special_equipment",) if d.kind == "market" and rng.random() < 0.25 else ()
            plans.append(InspectorPlan(
                d.code, names.person(rng), f"{d.division}{KIND_DIGIT[d.kind]}{n:03d}", quals))
    return plans


# --- laboratories --------------------------------------------------------------------------

DOMAINS = {
    "cable": ("线缆", ["GB/T 3956-2008", "GB/T 3048.4-2007", "GB/T 5023.1-2008",
                       "GB/T 5023.3-2008", "GB/T 12706.1-2020"]),
    "building": ("建设工程质量", ["GB/T 1499.2-2018", "GB/T 1499.1-2017", "GB 175-2023",
                                 "GB 18242-2008", "GB/T 4100-2015", "GB/T 14902-2012"]),
    "electrical": ("电器", ["GB/T 14048.2-2020", "GB 7000.1-2015", "GB 4706.1-2005",
                            "GB 4706.19-2008", "GB 4706.13-2014", "GB 4706.24-2008",
                            "GB 4706.32-2012", "GB 4943.1-2022", "GB 17761-2018", "GB 43854-2024"]),
    "food": ("食品", ["GB 2760-2024", "GB 2762-2022", "GB 25190-2010", "GB 10765-2021",
                      "GB 2730-2015", "GB 2716-2018"]),
    "drug": ("药品", ["中国药典-2025", "化妆品安全技术规范-2015", "YY 0469-2011",
                      "GB 15810-2019"]),
    "children": ("纺织品", ["GB 6675.1-2014", "GB 6675.2-2014", "GB 6675.4-2014",
                            "GB 14748-2006", "GB 27887-2011", "GB 31701-2015"]),
    "special": ("特种设备", ["TSG 11-2020", "TSG 21-2016", "GB/T 7588.1-2020",
                             "GB/T 3811-2008", "GB 8408-2018"]),
    "auto": ("汽车零部件", ["GB 9743-2015", "GB 9656-2021", "GB 14166-2013"]),
    "chemical": ("化工产品", ["GB 17930-2016", "GB 19147-2016", "GB 15258-2009",
                              "GB 12463-2009", "GB/T 15063-2020", "NY/T 525-2021"]),
}

# (city, county division, domains) of the generated labs: 28, weighted to Xi'an.
LAB_SITES = [
    ("610100", "610113", ("building",)), ("610100", "610112", ("food",)),
    ("610100", "610116", ("electrical",)), ("610100", "610104", ("cable", "electrical")),
    ("610100", "610111", ("drug",)), ("610100", "610103", ("children",)),
    ("610100", "610114", ("special",)), ("610100", "610117", ("building",)),
    ("610100", "610102", ("food",)), ("610100", "610115", ("auto",)),
    ("610100", "610118", ("chemical",)), ("610100", "610113", ("food", "drug")),
    ("610300", "610302", ("building",)), ("610300", "610303", ("special", "auto")),
    ("610300", "610304", ("food",)),
    ("610400", "610404", ("cable",)), ("610400", "610402", ("building",)),
    ("610400", "610403", ("food", "chemical")),
    ("610500", "610502", ("building", "food")), ("610500", "610581", ("chemical",)),
    ("610800", "610802", ("chemical",)), ("610800", "610881", ("special", "building")),
    ("610700", "610702", ("food",)), ("610700", "610703", ("building",)),
    ("610200", "610204", ("building",)), ("610600", "610602", ("chemical", "food")),
    ("610900", "610902", ("food",)), ("611000", "611002", ("building",)),
]


@dataclass(frozen=True)
class ScopeLine:
    standard: str
    parameter: str
    valid_from: dt.date
    valid_to: dt.date


@dataclass(frozen=True)
class LabPlan:
    key: str
    name: str
    division: str
    uscc: str
    cma_number: str
    cnas_number: str
    scopes: tuple[ScopeLine, ...]
    monthly_capacity: int
    address: str
    status: str = "active"


def _standard_params() -> dict[str, list[str]]:
    return {s["code"]: [p[0] for p in s["parameters"]] for s in load("standards")["standards"]}


def _scope_lines(standards: list[str], start: dt.date, skip: set[tuple[str, str]] = frozenset()
                 ) -> tuple[ScopeLine, ...]:
    """One line per parameter the standard names (or one for the whole standard); CMA
    certificates run for six years."""
    params = _standard_params()
    end = dt.date(start.year + 6, start.month, start.day) - dt.timedelta(days=1)
    lines = []
    for code in standards:
        for p in params[code] or [""]:
            if (code, p) not in skip:
                lines.append(ScopeLine(code, p, start, end))
    return tuple(lines)


def _cma(i: int, year: int) -> str:
    """Synthetic CMA certificate number: 2-digit year, 27 (Shaanxi), 05, 6-digit serial."""
    return f"{year % 100:02d}2705{900100 + i:06d}"


def _lab_uscc(rng: random.Random, division: str, taken: set[str]) -> str:
    code = synthetic_uscc(rng, division)
    while code in taken:
        code = synthetic_uscc(rng, division)
    taken.add(code)
    return code


def _address(rng: random.Random, division: str) -> str:
    div = divisions.get_division(division)
    city = divisions.get_division(div["parent"]) if div["level"] == "county" else div
    county = div["name"] if div["level"] == "county" else ""
    return f"陕西省{city['name']}{county}{names.road(rng)}{rng.randint(1, 999)}号"


# The fictional actors of the cable story (MISSION.md); docs/demo.md.
STORY = {
    "maker": {"name": "关中汇川线缆制造有限公司", "division": "610113"},
    "honest_maker": {"name": "咸阳澄远电缆有限公司", "division": "610404"},
    "lab": {"name": "渭川衡信检测技术有限公司", "division": "610113"},
    "honest_lab": {"name": "西安正澄线缆质量检测有限公司", "division": "610112"},
    "metro": {"name": "长安地铁运营有限公司", "division": "610100"},
    "power": {"name": "陕西秦源供电有限公司", "division": "610100"},
}
# The story lab's gap: it may not test conductor resistance under GB/T 3956 (nor the DC
# resistance method GB/T 3048.4), yet it will sign such reports.
STORY_LAB_GAP = {("GB/T 3956-2008", "导体电阻"), ("GB/T 3048.4-2007", "导体直流电阻")}


def labs(seed: int, taken: set[str]) -> list[LabPlan]:
    rng = rng_for(seed, "labs")
    plans = []
    story_start = dt.date(2022, 3, 18)
    plans.append(LabPlan(
        "lab", STORY["lab"]["name"], STORY["lab"]["division"],
        _lab_uscc(rng, STORY["lab"]["division"], taken), _cma(0, 2022), "",
        _scope_lines(DOMAINS["cable"][1], story_start, skip=STORY_LAB_GAP), 300,
        _address(rng, STORY["lab"]["division"]),
    ))
    plans.append(LabPlan(
        "honest_lab", STORY["honest_lab"]["name"], STORY["honest_lab"]["division"],
        _lab_uscc(rng, STORY["honest_lab"]["division"], taken), _cma(1, 2021), "CNAS L90001",
        _scope_lines(DOMAINS["cable"][1], dt.date(2021, 9, 6)), 800,
        _address(rng, STORY["honest_lab"]["division"]),
    ))
    used_names = {p.name for p in plans}
    for i, (city, county, domains) in enumerate(LAB_SITES, start=2):
        city_name = divisions.get_division(city)["name"]
        words = "".join(dict.fromkeys(DOMAINS[d][0] for d in domains[:1]))
        name = ""
        while not name or name in used_names:
            suffix = rng.choice(("检测有限公司", "检测技术有限公司", "检验检测有限公司"))
            name = f"{names.short_place(city_name)}{names.trade_name(rng)}{words}{suffix}"
        used_names.add(name)
        start = dt.date(rng.randint(2020, 2024), rng.randint(1, 12), rng.randint(1, 28))
        standards = [s for d in domains for s in DOMAINS[d][1]]
        plans.append(LabPlan(
            f"lab{i}", name, county, _lab_uscc(rng, county, taken), _cma(i, start.year),
            f"CNAS L{90000 + i}" if rng.random() < 0.8 else "",
            _scope_lines(standards, start), rng.choice((200, 300, 500, 800, 1200, 2000)),
            _address(rng, county),
            # One lab is suspended, so that the register shows what a suspension looks like.
            status="suspended" if i == 20 else "active",
        ))
    return plans


# --- user units ----------------------------------------------------------------------------

SECTOR_CATEGORIES = {
    "transport": ["electrical.cable.power", "electrical.cable.building_wire", "building.rebar",
                  "building.cement", "building.concrete", "building.waterproof",
                  "special_equipment.elevator", "electrical.lighting",
                  "electrical.low_voltage"],
    "power": ["electrical.cable.power", "electrical.low_voltage",
              "special_equipment.boiler", "special_equipment.pressure_vessel"],
    "construction": ["building.rebar", "building.cement", "building.concrete",
                     "building.waterproof", "building.ceramic_tile",
                     "electrical.cable.building_wire", "special_equipment.elevator",
                     "special_equipment.lifting"],
    "bulk": ["fuel.gasoline", "fuel.diesel", "chemical.hazardous", "fertiliser.compound"],
}
UNIT_WORDS = {
    "construction": ("建设工程有限公司", "建工集团有限公司", "市政工程有限公司"),
    "power": ("电力工程有限公司", "新能源发电有限公司"),
    "transport": ("公路建设有限公司", "公交集团有限公司"),
    "bulk": ("物资供应有限公司", "大宗商品贸易有限公司"),
}
# (sector, division) of the generated user units besides the metro and the utility.
UNIT_SITES = [
    ("construction", "610100"), ("construction", "610113"), ("construction", "610116"),
    ("construction", "610300"), ("construction", "610400"), ("construction", "610500"),
    ("construction", "610800"), ("construction", "610700"), ("construction", "610900"),
    ("power", "610800"), ("power", "610300"), ("transport", "610100"),
    ("transport", "610600"), ("transport", "611000"), ("bulk", "610100"),
    ("bulk", "610800"), ("construction", "610200"), ("power", "610500"),
]


@dataclass(frozen=True)
class UnitPlan:
    key: str
    name: str
    division: str
    uscc: str
    sector: str
    categories: tuple[str, ...] = field(default_factory=tuple)
    contact_phone: str = ""


def user_units(seed: int, taken: set[str]) -> list[UnitPlan]:
    rng = rng_for(seed, "user_units")
    plans = [
        UnitPlan("metro", STORY["metro"]["name"], STORY["metro"]["division"],
                 _lab_uscc(rng, STORY["metro"]["division"], taken), "transport",
                 tuple(SECTOR_CATEGORIES["transport"]), "029-86000000"),
        UnitPlan("power", STORY["power"]["name"], STORY["power"]["division"],
                 _lab_uscc(rng, STORY["power"]["division"], taken), "power",
                 tuple(SECTOR_CATEGORIES["power"]), "029-86100000"),
    ]
    used = {p.name for p in plans}
    for i, (sector, division) in enumerate(UNIT_SITES, start=1):
        div = divisions.get_division(division)
        name = ""
        while not name or name in used:
            name = (f"{names.short_place(div['name'])}{names.trade_name(rng)}"
                    f"{rng.choice(UNIT_WORDS[sector])}")
        used.add(name)
        plans.append(UnitPlan(f"unit{i}", name, division, _lab_uscc(rng, division, taken),
                              sector, tuple(SECTOR_CATEGORIES[sector])))
    return plans


# --- the cable makers and their products --------------------------------------------------

@dataclass(frozen=True)
class MakerPlan:
    key: str
    row: dict  # an entity row like generate.entity_rows yields
    products: tuple[tuple[str, str, str, tuple[str, ...], str], ...]  # name, model, category, standards, gtin


def _gtin13(body12: str) -> str:
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def makers(seed: int, taken: set[str]) -> list[MakerPlan]:
    rng = rng_for(seed, "makers")
    plans = []
    specs = [
        ("maker", "2009-04-16", "B", ("张汇川", "李明哲"), "029-85000000", "692000100"),
        ("honest_maker", "2003-10-08", "A", ("赵澄远", "孙静怡"), "029-33000000", "692000200"),
    ]
    for key, registered, risk, (legal, cqo), phone, gtin_prefix in specs:
        division = STORY[key]["division"]
        row = {
            "uscc": _lab_uscc(rng, division, taken), "name": STORY[key]["name"],
            "entity_type": "enterprise", "division": division,
            "address": _address(rng, division), "legal_representative": legal,
            "chief_quality_officer": cqo, "contact_phone": phone,
            "registered_on": registered,
            "categories": "electrical.cable.power;electrical.cable.building_wire",
            "risk_class": risk, "licence_holder": "true",
        }
        products = (
            ("交联聚乙烯绝缘聚氯乙烯护套电力电缆", "YJV-0.6/1kV 3×95+1×50",
             "electrical.cable.power", ("GB/T 12706.1-2020", "GB/T 3956-2008"),
             _gtin13(gtin_prefix + "001")),
            ("交联聚乙烯绝缘聚氯乙烯护套电力电缆", "YJV-0.6/1kV 4×25",
             "electrical.cable.power", ("GB/T 12706.1-2020", "GB/T 3956-2008"),
             _gtin13(gtin_prefix + "002")),
            ("一般用途单芯硬导体无护套电缆", "BV-450/750V 2.5mm²",
             "electrical.cable.building_wire",
             ("GB/T 5023.1-2008", "GB/T 5023.3-2008", "GB/T 3956-2008"),
             _gtin13(gtin_prefix + "003")),
            ("一般用途单芯硬导体无护套电缆", "BV-450/750V 4mm²",
             "electrical.cable.building_wire",
             ("GB/T 5023.1-2008", "GB/T 5023.3-2008", "GB/T 3956-2008"),
             _gtin13(gtin_prefix + "004")),
        )
        plans.append(MakerPlan(key, row, products))
    return plans


# --- accounts ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Persona:
    username: str
    role: str
    label: str  # what the login is for, in English (printed by the command)
    department: str = ""  # department code
    org: str = ""  # story key of the entity, lab or user unit
    inspector: bool = False  # linked to a drawn inspector by demo/inspections.py


PERSONAS = [
    Persona("admin", "admin", "platform administrator (superuser)"),
    Persona("province", "regulator", "Shaanxi market supervision (province)",
            department="610000-market"),
    Persona("xian", "regulator", "Xi'an market supervision (city)", department="610100-market"),
    Persona("baoji", "regulator", "Baoji market supervision (city)", department="610300-market"),
    Persona("yanta", "regulator", "Yanta district market supervision (county)",
            department="610113-market"),
    Persona("xian_housing", "regulator", "Xi'an housing and construction (building materials)",
            department="610100-housing"),
    Persona("enterprise", "enterprise", "cable maker (关中汇川线缆制造有限公司)", org="maker"),
    Persona("lab", "lab", "testing laboratory (渭川衡信检测技术有限公司)", org="lab"),
    Persona("metro", "user_unit", "metro operator, user unit (长安地铁运营有限公司)", org="metro"),
    Persona("testlab", "lab", "laboratory the sampling department assigns "
            "(西安正澄线缆质量检测有限公司)", org="honest_lab"),
    Persona("power", "user_unit", "power utility, user unit (陕西秦源供电有限公司)", org="power"),
    Persona("inspector", "regulator", "Xi'an market supervision inspector (random-inspection "
            "tasks)", department="610100-market", inspector=True),
]


def persona_names(seed: int) -> dict[str, str]:
    rng = rng_for(seed, "personas")
    return {p.username: names.person(rng) for p in PERSONAS}
