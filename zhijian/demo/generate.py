"""The synthetic market-entity register of the demo province (pure, no Django).

`entity_rows(seed)` is an endless, deterministic stream of import rows (the columns of
`registry.services.entities_import`, as strings, like a CSV file). Row i depends only on
the seed and on rows 0..i-1, so the first N rows are the same whatever N is asked for:
a bigger demo extends a smaller one. The distributions come from data/distribution.json
(city weights = 2020 census population) and are documented in docs/demo.md.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from zhijian.core import divisions
from zhijian.core.identifiers import synthetic_uscc

from . import names

DATA = Path(__file__).with_name("data")
USCC_TYPE = {"enterprise": "1", "individual": "2", "cooperative": "3"}


@cache
def load(name: str) -> dict:
    """One of the demo's data files (catalogue, standards, distribution)."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def walk_catalogue(nodes: Iterable[dict] | None = None, parent: str | None = None) -> Iterator[dict]:
    """Every catalogue node, parents before children, with `parent` and `leaf` filled in."""
    for node in load("catalogue")["categories"] if nodes is None else nodes:
        children = node.get("children", [])
        yield {
            "code": node["code"], "name": node["name"], "name_en": node["name_en"],
            "parent": parent, "leaf": not children,
            "ccc": node.get("ccc", False), "key_material": node.get("key_material", False),
            "licence_required": node.get("licence_required", False),
            "qualification": node.get("qualification", ""),
        }
        yield from walk_catalogue(children, node["code"])


def leaf_codes() -> list[str]:
    return [n["code"] for n in walk_catalogue() if n["leaf"]]


@dataclass(frozen=True)
class County:
    code: str
    name: str
    city_code: str
    city_name: str


def _weighted(items: list, weights: list[float]) -> tuple[list, list[float]]:
    cum, total = [], 0.0
    for w in weights:
        total += w
        cum.append(total)
    return items, cum


@cache
def _tables():
    dist = load("distribution")
    current = divisions.current_divisions()
    cities = [d for d in current if d["level"] == "city"]
    pop = dist["city_population"]
    county_w = dist["county_weight"]
    per_city = {}
    for city in cities:
        counties = [County(d["code"], d["name"], city["code"], city["name"])
                    for d in current if d["level"] == "county" and d["parent"] == city["code"]]
        per_city[city["code"]] = _weighted(counties, [county_w[c.name[-1]] for c in counties])
    city_table = _weighted([c["code"] for c in cities], [pop[c["code"]] for c in cities])
    types = dist["entity_type"]
    type_table = _weighted(list(USCC_TYPE), [types[t] for t in USCC_TYPE])
    cat_tables = {
        t: _weighted(list(w), list(w.values())) for t, w in dist["categories"].items()
    }
    risk = dist["risk_class"]
    risk_table = _weighted(list(risk), list(risk.values()))
    leaves = {n["code"]: n for n in walk_catalogue() if n["leaf"]}
    siblings = {}
    for code in leaves:
        parent = code.rsplit(".", 1)[0]
        siblings[code] = [c for c in leaves if c != code and c.rsplit(".", 1)[0] == parent]
    return dist, city_table, per_city, type_table, cat_tables, risk_table, leaves, siblings


def _pick(rng: random.Random, table) -> object:
    items, cum = table
    return rng.choices(items, cum_weights=cum)[0]


def _phone(rng: random.Random, area: str, mobile: bool) -> str:
    if mobile:
        return f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"
    if area == "029":
        return f"{area}-{rng.randrange(2 * 10**7, 9 * 10**7)}"
    return f"{area}-{rng.randrange(2 * 10**6, 9 * 10**6)}"


def entity_rows(seed: int, reserved: Iterable[str] = ()) -> Iterator[dict]:
    """Endless deterministic import rows; USCCs and names never repeat (nor hit `reserved`)."""
    dist, city_table, per_city, type_table, cat_tables, risk_table, leaves, siblings = _tables()
    rng = random.Random(f"zhijian-demo:{seed}:entities")
    reg = dist["registration"]
    area = dist["area_codes"]
    second_share = dist["second_category_share"]
    seen_uscc = set(reserved)
    seen_name: set[str] = set()
    while True:
        city = _pick(rng, city_table)
        county = _pick(rng, per_city[city])
        etype = _pick(rng, type_table)
        category = _pick(rng, cat_tables[etype])
        categories = [category]
        if etype == "enterprise" and siblings[category] and rng.random() < second_share:
            categories.append(rng.choice(siblings[category]))
        for _attempt in range(50):
            if etype == "enterprise":
                r = rng.random()
                place = ("陕西" if r < 0.1 else names.short_place(county.city_name) if r < 0.6
                         else names.short_place(county.name))
                name = names.enterprise(rng, place, category)
            elif etype == "individual":
                name = names.shop(rng, county.name, category)
            else:
                name = names.cooperative(rng, county.name, category)
            if name not in seen_name:
                break
        else:  # pragma: no cover - the name space is far larger than any demo
            name = f"{name}（{len(seen_name)}）"
        seen_name.add(name)
        uscc = synthetic_uscc(rng, county.code, entity_type=USCC_TYPE[etype])
        while uscc in seen_uscc:
            uscc = synthetic_uscc(rng, county.code, entity_type=USCC_TYPE[etype])
        seen_uscc.add(uscc)
        age = int(rng.expovariate(1 / reg["mean_age"][etype]))
        year = max(reg["first_year"], reg["last_year"] - age)
        registered = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        cqo = names.person(rng) if etype == "enterprise" and rng.random() < 0.5 else ""
        yield {
            "uscc": uscc,
            "name": name,
            "entity_type": etype,
            "division": county.code,
            "address": f"陕西省{county.city_name}{county.name}{names.road(rng)}"
                       f"{rng.randint(1, 999)}号",
            "legal_representative": names.person(rng),
            "chief_quality_officer": cqo,
            "contact_phone": _phone(rng, area[city], mobile=etype != "enterprise"),
            "registered_on": registered.isoformat(),
            "categories": ";".join(categories),
            "risk_class": _pick(rng, risk_table),
            "licence_holder": "true" if etype == "enterprise" and any(
                leaves[c]["licence_required"] for c in categories) else "false",
        }
