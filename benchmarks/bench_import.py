"""Benchmark: bulk import of market entities with full validation and audit.

One command per database:

    python benchmarks/bench_import.py                       # SQLite files in a temp dir
    python benchmarks/bench_import.py --database-url postgres://postgres@127.0.0.1:5432/zhijian_bench

It makes N synthetic entities (valid USCCs from zhijian.core.identifiers.synthetic_uscc,
seeded) and measures, each into a fresh database of the same kind:

- service: registry.services.entities_import (every row validated — USCC per
  GB 32100-2015, division, categories, lengths, duplicates in the file and in the
  database — then written with one audit-chain entry per entity, the category links, the
  signed checkpoints and the domain event, drained inline after commit);
- bare: bulk_create of the same rows and category links, in one transaction.

The figure is rows/s, and the ratio service/bare (target: at least 1/3). It then imports
a smaller CSV file through the API (POST multipart to /api/v1/entities/import/ with
Django's test client, as an administrator) and compares it with a bare insert of the
same rows. For PostgreSQL, the URL names a scratch database: databases called
<name>_service and <name>_bare are dropped and created (and dropped again at the end).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RATIO = 1 / 3

# --- databases -----------------------------------------------------------------------------


def is_postgres(url: str | None) -> bool:
    return bool(url) and url.split(":", 1)[0] in {"postgres", "postgresql", "pgsql"}


def _pg_admin(url: str):
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url.replace("postgres://", "postgresql://", 1))
    base = params.get("dbname") or "zhijian_bench"
    params["dbname"] = "postgres"
    return psycopg.connect(make_conninfo(**params), autocommit=True), base


def _pg_url(url: str, dbname: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{dbname}"


def _pg_drop(cur, name: str) -> None:
    from psycopg import sql

    cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def fresh_databases(url: str | None, suffixes: list[str], workdir: Path) -> dict[str, str]:
    """A fresh, empty database URL per suffix, of the kind `url` names (SQLite if None)."""
    if not is_postgres(url):
        return {s: f"sqlite:///{workdir / f'{s}.sqlite3'}" for s in suffixes}
    from psycopg import sql

    conn, base = _pg_admin(url)
    urls = {}
    with conn, conn.cursor() as cur:
        for s in suffixes:
            name = f"{base}_{s}"
            _pg_drop(cur, name)
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            urls[s] = _pg_url(url, name)
    return urls


def drop_databases(url: str | None, urls: dict[str, str]) -> None:
    if not is_postgres(url):
        return
    conn, _ = _pg_admin(url)
    with conn, conn.cursor() as cur:
        for u in urls.values():
            _pg_drop(cur, u.rsplit("/", 1)[1])


def setup_django(urls: dict[str, str], workdir: Path) -> None:
    """Point Django at the given databases ('default' first) and migrate them."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "zhijian.config.settings"
    os.environ["DATABASE_URL"] = urls["default"]
    os.environ["ZHIJIAN_DATA_DIR"] = str(workdir / "var")
    os.environ.setdefault("ZHIJIAN_OUTBOX_MODE", "inline")
    # As in production: DEBUG off, so Django does not record every query.
    os.environ["ZHIJIAN_DEBUG"] = "false"
    os.environ.pop("CELERY_BROKER_URL", None)
    import dj_database_url
    from django.conf import settings

    default = settings.DATABASES["default"]
    for alias, u in urls.items():
        if alias == "default":
            continue
        cfg = dj_database_url.parse(u)
        if "OPTIONS" in default and cfg["ENGINE"] == default["ENGINE"]:
            cfg["OPTIONS"] = dict(default["OPTIONS"])
        settings.DATABASES[alias] = cfg
    import django

    django.setup()
    from django.core.management import call_command

    for alias in urls:
        call_command("migrate", database=alias, verbosity=0)
    # core/0002_load_divisions writes through the default manager, i.e. into 'default'
    # only; give the other databases the same divisions.
    from django.db import transaction

    from zhijian.core.models import Division

    source = list(Division.objects.using("default").order_by("code"))
    for alias in urls:
        if alias != "default" and not Division.objects.using(alias).exists():
            with transaction.atomic(using=alias):
                Division.objects.using(alias).bulk_create(source)


def database_description(alias: str = "default") -> str:
    from django.db import connections

    conn = connections[alias]
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute("SHOW server_version")
            return f"PostgreSQL {cur.fetchone()[0].split()[0]} (127.0.0.1, TCP)"
        cur.execute("select sqlite_version()")
        return f"SQLite {cur.fetchone()[0]} (file, WAL)"


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}")


# --- synthetic data ------------------------------------------------------------------------

CATEGORIES = [
    # code, name, name_en, parent
    ("electrical", "电工产品", "Electrical products", None),
    ("electrical.cable", "电线电缆", "Wires and cables", "electrical"),
    ("building", "建筑材料", "Building materials", None),
    ("building.steel", "钢筋", "Rebar", "building"),
    ("building.cement", "水泥", "Cement", "building"),
    ("food", "食品", "Food", None),
    ("appliance", "家用电器", "Household appliances", None),
    ("children", "儿童用品", "Children's products", None),
    ("cosmetics", "化妆品", "Cosmetics", None),
    ("special_equipment", "特种设备", "Special equipment", None),
]
LEAF_INDUSTRY = {
    "electrical.cable": ["电缆", "电线电缆", "线缆", "电力电缆"],
    "building.steel": ["钢铁", "钢材", "钢筋", "金属制品"],
    "building.cement": ["水泥", "建材", "混凝土", "新型建材"],
    "food": ["食品", "粮油", "乳业", "饮品", "调味品"],
    "appliance": ["电器", "家电", "电子", "机电"],
    "children": ["玩具", "儿童用品", "文具"],
    "cosmetics": ["化妆品", "日化", "生物科技"],
    "special_equipment": ["锅炉", "压力容器", "起重机械", "电梯"],
}
BRAND = list("华泰信达宏盛兴源鑫恒瑞丰安康德利通金宝天正新科创博远广汇隆嘉佳立诚和昌晨航凯启荣润"
             "顺腾同伟祥星耀永宇元卓中秦汉唐长明光辉东西南北海峰祥云龙凤")
SUFFIX = ["有限公司"] * 6 + ["有限责任公司"] * 2 + ["股份有限公司", "厂", "商行"]
SURNAME = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红")
ROADS = ["长安", "雁塔", "科技", "高新", "未央", "太白", "朱雀", "含光", "凤城", "经开", "渭滨", "人民"]
# Weights of the ten cities (entities per city, roughly by economic size).
CITY_WEIGHT = {"6101": 40, "6102": 2, "6103": 9, "6104": 10, "6105": 8, "6106": 7,
               "6107": 7, "6108": 8, "6109": 4, "6110": 3}
ENTITY_TYPES = [("enterprise", "1")] * 8 + [("individual", "2"), ("cooperative", "3")]


def short_name(name: str) -> str:
    for tail in ("自治县", "新区", "市", "区", "县"):
        if name.endswith(tail) and len(name) > len(tail) + 1:
            return name[: -len(tail)]
    return name


def current_counties():
    """(code, short name of county, short name of its city) of every current county."""
    from zhijian.core.models import Division

    cities = {d.code: short_name(d.name) for d in Division.objects.current().filter(level="city")}
    out = []
    for d in Division.objects.current().filter(level="county").order_by("code"):
        city = cities.get(d.code[:4] + "00")
        if city:
            out.append((d.code, short_name(d.name), city))
    return out


def synth_rows(n: int, seed: int, counties, taken: set[str] | None = None) -> list[dict]:
    """n CSV-like rows (strings), deterministic for a seed, with distinct valid USCCs."""
    from zhijian.core.identifiers import synthetic_uscc

    rng = random.Random(seed)
    taken = set() if taken is None else taken
    by_city: dict[str, list] = {}
    for c in counties:
        by_city.setdefault(c[0][:4], []).append(c)
    cities = [c for c in CITY_WEIGHT if c in by_city]
    weights = [CITY_WEIGHT[c] for c in cities]
    leaves = list(LEAF_INDUSTRY)
    rows = []
    for _ in range(n):
        code, county, city = rng.choice(by_city[rng.choices(cities, weights)[0]])
        etype, type_digit = rng.choice(ENTITY_TYPES)
        while True:
            uscc = synthetic_uscc(rng, code, entity_type=type_digit)
            if uscc not in taken:
                taken.add(uscc)
                break
        leaf = rng.choice(leaves)
        cats = [leaf] + ([rng.choice(leaves)] if rng.random() < 0.2 else [])
        place = city if rng.random() < 0.7 else county
        name = (place + "".join(rng.sample(BRAND, 2)) + rng.choice(LEAF_INDUSTRY[leaf])
                + rng.choice(SUFFIX))
        person = rng.choice(SURNAME) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        day = dt.date(1995, 1, 1) + dt.timedelta(days=rng.randrange(30 * 365))
        rows.append({
            "uscc": uscc,
            "name": name,
            "entity_type": etype,
            "division": code,
            "address": f"{city}{county}{rng.choice(ROADS)}路{rng.randrange(1, 999)}号",
            "legal_representative": person,
            "chief_quality_officer": rng.choice(SURNAME) + rng.choice(GIVEN) if rng.random() < 0.3 else "",
            "contact_phone": f"029-8{rng.randrange(10**6, 10**7)}",
            "registered_on": day.isoformat(),
            "categories": ";".join(dict.fromkeys(cats)),
            "risk_class": rng.choice("AABBBBBCCD"),
            "licence_holder": "true" if rng.random() < 0.15 else "false",
        })
    return rows


def seed_reference(alias: str) -> None:
    from zhijian.registry.models import ProductCategory

    for code, name, name_en, parent in CATEGORIES:
        ProductCategory.objects.using(alias).get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en,
                      "parent": ProductCategory.objects.using(alias).filter(code=parent).first()},
        )


def make_admin():
    from zhijian.accounts.models import Role, User

    user, _ = User.objects.get_or_create(
        username="bench-admin",
        defaults={"role": Role.ADMIN, "is_staff": True, "is_superuser": True},
    )
    return user


# --- the measurements ----------------------------------------------------------------------


def bare_insert(rows: list[dict], alias: str, batch_size: int = 2000) -> float:
    """Insert the rows and their category links with bulk_create; seconds."""
    from django.db import transaction

    from zhijian.registry.models import MarketEntity, ProductCategory

    through = MarketEntity.categories.through
    cats = dict(ProductCategory.objects.using(alias).values_list("code", "pk"))
    t0 = time.perf_counter()
    with transaction.atomic(using=alias):
        for k in range(0, len(rows), batch_size):
            chunk = rows[k:k + batch_size]
            objs = [
                MarketEntity(
                    uscc=r["uscc"], name=r["name"], entity_type=r["entity_type"],
                    division_id=r["division"], address=r["address"],
                    legal_representative=r["legal_representative"],
                    chief_quality_officer=r["chief_quality_officer"],
                    contact_phone=r["contact_phone"],
                    registered_on=dt.date.fromisoformat(r["registered_on"]),
                    risk_class=r["risk_class"], licence_holder=r["licence_holder"] == "true",
                )
                for r in chunk
            ]
            MarketEntity.objects.using(alias).bulk_create(objs, batch_size=batch_size)
            links = [
                through(marketentity_id=o.pk, productcategory_id=cats[c])
                for o, r in zip(objs, chunk, strict=True) for c in r["categories"].split(";")
            ]
            through.objects.using(alias).bulk_create(links, batch_size=batch_size)
    return time.perf_counter() - t0


def service_import(rows: list[dict], actor) -> float:
    from zhijian.registry import services

    t0 = time.perf_counter()
    report = services.entities_import(actor=actor, rows=iter(rows))
    elapsed = time.perf_counter() - t0
    if not report.ok or report.created != len(rows):
        raise SystemExit(f"import refused: {report.errors[:5]}")
    return elapsed


def api_import(rows: list[dict], actor) -> float:
    import csv

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from zhijian.registry.services import IMPORT_COLUMNS

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=IMPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    payload = buf.getvalue().encode("utf-8")
    client = Client()
    client.force_login(actor)
    upload = SimpleUploadedFile("entities.csv", payload, content_type="text/csv")
    t0 = time.perf_counter()
    response = client.post("/api/v1/entities/import/", {"file": upload})
    elapsed = time.perf_counter() - t0
    if response.status_code != 201:
        raise SystemExit(f"API import answered {response.status_code}: {response.content[:500]!r}")
    body = response.json()
    if body["created"] != len(rows):
        raise SystemExit(f"API import created {body['created']} of {len(rows)}")
    return elapsed


def check_audit() -> str:
    from zhijian.core import audit

    result = audit.verify()
    if not result.ok:
        raise SystemExit(f"audit chain invalid after import: {result}")
    return f"audit chain verified: {result.checked:,} entries"


def line(label: str, n: int, seconds: float) -> str:
    return f"  {label:<58} {n / seconds:>10,.0f} rows/s  ({n:,} rows in {seconds:.2f} s)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL scratch database (default: SQLite)")
    parser.add_argument("-n", "--entities", type=int, default=100_000)
    parser.add_argument("--api-entities", type=int, default=10_000,
                        help="rows of the CSV imported through the API (0: skip)")
    parser.add_argument("--seed", type=int, default=20171201)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="zhijian-bench-import-"))
    urls = fresh_databases(args.database_url, ["service", "bare"], workdir)
    urls = {"default": urls["service"], "bare": urls["bare"]}
    try:
        setup_django(urls, workdir)
        for alias in urls:
            seed_reference(alias)
        actor = make_admin()
        counties = current_counties()
        taken: set[str] = set()
        rows = synth_rows(args.entities, args.seed, counties, taken)
        db = database_description()
        print(f"Bulk import of {args.entities:,} market entities — {db}")
        print(f"Machine: {machine_description()}")

        service_s = service_import(rows, actor)
        bare_s = bare_insert(rows, "bare")
        ratio = bare_s / service_s
        print(line("entities_import (validation + audit + event)", len(rows), service_s))
        print(line("bare bulk_create of the same rows", len(rows), bare_s))
        verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
        print(f"  ratio import/bare: {ratio:.2f} (target >= {TARGET_RATIO:.2f}: {verdict})")
        results = {
            "database": db, "machine": machine_description(), "entities": len(rows),
            "service_rows_per_s": len(rows) / service_s, "bare_rows_per_s": len(rows) / bare_s,
            "ratio": ratio, "target": TARGET_RATIO,
        }

        if args.api_entities:
            api_rows = synth_rows(args.api_entities, args.seed + 1, counties, taken)
            api_s = api_import(api_rows, actor)
            api_bare_s = bare_insert(api_rows, "bare")
            api_ratio = api_bare_s / api_s
            print(f"CSV through the API (POST /api/v1/entities/import/), {len(api_rows):,} rows"
                  f" into the same databases")
            print(line("API CSV import (upload + parse + validation + audit)", len(api_rows),
                       api_s))
            print(line("bare bulk_create of the same rows", len(api_rows), api_bare_s))
            verdict = "met" if api_ratio >= TARGET_RATIO else "MISSED"
            print(f"  ratio API/bare: {api_ratio:.2f} (target >= {TARGET_RATIO:.2f}: {verdict})")
            results |= {"api_entities": len(api_rows), "api_rows_per_s": len(api_rows) / api_s,
                        "api_bare_rows_per_s": len(api_rows) / api_bare_s, "api_ratio": api_ratio}
        print(f"  {check_audit()}")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_databases(args.database_url, urls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
