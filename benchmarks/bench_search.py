"""Benchmark: public search of market entities over 1,000,000 rows.

    python benchmarks/bench_search.py                       # SQLite file in a temp dir
    python benchmarks/bench_search.py --database-url postgres://postgres@127.0.0.1:5432/zhijian_bench

It fills a fresh database with N synthetic entities (a direct multi-row insert; the rows
come from the same generator as bench_import.py), runs ANALYZE, then sends a realistic
mix of public searches through the API — Django's test client, GET
/api/v1/public/entities/?q=… (URL routing, middleware, DRF, throttle, cursor pagination,
serialisation and JSON rendering included) — and reports the median and p95 latency.
The baseline is the SQL that the API ran for the same query, executed directly on the
same connection. Target: p95 under 100 ms on PostgreSQL.

Query mix (seeded): 50 % name fragments of 2-4 Chinese characters taken from existing
names, 5 % fragments that match nothing, 25 % USCC prefixes (8-12 characters), 20 % full
USCCs. For PostgreSQL the URL names a scratch database: <name>_search is dropped and
created (kept with --keep, reused as it is with --reuse).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_import as common  # noqa: E402  (the shared setup and generator)

TARGET_P95_MS = 100.0
KINDS = [("name", 50), ("miss", 5), ("uscc_prefix", 25), ("uscc", 20)]
RARE = list("鳌鹳麒麟犀貘翡翠琥珀玳瑁")


def fill(n: int, seed: int, chunk: int = 20_000) -> None:
    """Insert n entities with one multi-row INSERT per chunk (setup, not measured)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from zhijian.registry.models import MarketEntity, uscc_search_key

    counties = common.current_counties()
    table = MarketEntity._meta.db_table
    # search_key: this INSERT bypasses the ORM, which fills it on every other write path.
    cols = ["uscc", "name", "search_key", "entity_type", "division_id", "address",
            "legal_representative", "chief_quality_officer", "contact_phone", "registered_on",
            "status", "risk_class", "licence_holder", "created_at", "updated_at"]
    sql = (f"INSERT INTO {table} ({', '.join(cols)}) "  # noqa: S608 (constant names)
           f"VALUES ({', '.join(['%s'] * len(cols))})")
    now = timezone.now()
    taken: set[str] = set()
    # A million single-row updates of the bigram index cost far more than building it
    # once: drop the search indexes for the load and build them again afterwards, with
    # the statements of the migration that created them (0002), and the index of the
    # search order (whose keys arrive in random order) as the model declares it.
    search_indexes = import_module("zhijian.registry.migrations.0002_search_indexes")
    order_indexes = MarketEntity._meta.indexes
    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cur:
            for statement in search_indexes.BACKWARD:
                cur.execute(statement)
    with connection.schema_editor() as editor:
        for index in order_indexes:
            editor.remove_index(MarketEntity, index)
    done = 0
    t0 = time.perf_counter()
    part = 0
    while done < n:
        k = min(chunk, n - done)
        rows = common.synth_rows(k, seed * 1000 + part, counties, taken)
        params = [
            (r["uscc"], r["name"], uscc_search_key(r["uscc"]), r["entity_type"],
             r["division"], r["address"],
             r["legal_representative"], r["chief_quality_officer"], r["contact_phone"],
             dt.date.fromisoformat(r["registered_on"]), "active", r["risk_class"],
             r["licence_holder"] == "true", now, now)
            for r in rows
        ]
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(sql, params)
        done += k
        part += 1
        rate = done / (time.perf_counter() - t0)
        print(f"\r  setup: {done:,}/{n:,} entities ({rate:,.0f}/s)", end="", flush=True)
    print()
    with connection.schema_editor() as editor:
        for index in order_indexes:
            editor.add_index(MarketEntity, index)
    with connection.cursor() as cur:
        if postgres:
            for statement in search_indexes.FORWARD:
                cur.execute(statement)
        cur.execute(f"ANALYZE {table}" if connection.vendor == "postgresql" else "ANALYZE")


def entity_count() -> int:
    from zhijian.registry.models import MarketEntity

    return MarketEntity.objects.count()


def query_mix(count: int, seed: int) -> list[tuple[str, str]]:
    """(kind, q) pairs sampled from the stored entities."""
    from zhijian.registry.models import MarketEntity

    rng = random.Random(seed)
    top = MarketEntity.objects.order_by("-pk").values_list("pk", flat=True).first()
    ids = [rng.randint(1, top) for _ in range(count)]
    found = dict(MarketEntity.objects.filter(pk__in=ids).values_list("pk", "name"))
    codes = dict(MarketEntity.objects.filter(pk__in=ids).values_list("pk", "uscc"))
    kinds = [k for k, w in KINDS for _ in range(w)]
    out = []
    for pk in ids:
        if pk not in found:
            continue
        kind = rng.choice(kinds)
        name, uscc = found[pk], codes[pk]
        if kind == "name":
            size = rng.choice((2, 3, 4))
            start = rng.randrange(0, max(1, len(name) - size))
            q = name[start:start + size]
        elif kind == "miss":
            q = "".join(rng.sample(RARE, rng.choice((2, 3, 4))))
        elif kind == "uscc_prefix":
            q = uscc[: rng.randint(8, 12)]
        else:
            q = uscc
        out.append((kind, q))
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def run(mix, warmup: int):
    """Time each query through the API and its SQL run directly, in alternating order.

    An untimed first request captures the SQL the API runs for that query; then both
    timed runs see the same (warm) caches.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    api_ms: dict[str, list[float]] = {}
    sql_ms: dict[str, list[float]] = {}
    statements = 0

    def through_api(url):
        t0 = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}: {response.content[:300]!r}")
        return elapsed

    def direct(queries):
        with connection.cursor() as cur:
            t0 = time.perf_counter()
            for sql in queries:
                cur.execute(sql)
                cur.fetchall()
            return (time.perf_counter() - t0) * 1000

    for i, (kind, q) in enumerate(mix):
        url = "/api/v1/public/entities/?" + urlencode({"q": q})
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries = [c["sql"] for c in captured.captured_queries]
        if i % 2:
            api, sql = through_api(url), direct(queries)
        else:
            sql, api = direct(queries), through_api(url)
        if i < warmup:
            continue
        statements = max(statements, len(queries))
        api_ms.setdefault(kind, []).append(api)
        sql_ms.setdefault(kind, []).append(sql)
    return api_ms, sql_ms, statements


def summary(by_kind: dict[str, list[float]]) -> dict:
    everything = [v for vs in by_kind.values() for v in vs]
    out = {"all": {"n": len(everything), "median": statistics.median(everything),
                   "p95": percentile(everything, 95), "max": max(everything)}}
    for kind, vs in by_kind.items():
        out[kind] = {"n": len(vs), "median": statistics.median(vs), "p95": percentile(vs, 95),
                     "max": max(vs)}
    return out


def explain_samples(mix) -> list[str]:
    """PostgreSQL plans of one query of each kind (shown with --explain)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    lines = []
    seen = set()
    for kind, q in mix:
        if kind in seen:
            continue
        seen.add(kind)
        with CaptureQueriesContext(connection) as captured:
            Client().get("/api/v1/public/entities/?" + urlencode({"q": q}))
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + captured.captured_queries[-1]["sql"])
            plan = "\n    ".join(r[0] for r in cur.fetchall())
        lines.append(f"  {kind} q={q!r}:\n    {plan}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL scratch database (default: SQLite)")
    parser.add_argument("-n", "--entities", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20171201)
    parser.add_argument("--workdir", type=Path, help="where the SQLite file lives (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true",
                        help="use the database left by --keep if it holds N entities")
    parser.add_argument("--explain", action="store_true", help="print PostgreSQL query plans")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="zhijian-bench-search-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.reuse:
        if common.is_postgres(args.database_url):
            _, base = common._pg_admin(args.database_url)
            urls = {"search": common._pg_url(args.database_url, f"{base}_search")}
        else:
            urls = {"search": f"sqlite:///{workdir / 'search.sqlite3'}"}
    else:
        if not common.is_postgres(args.database_url):
            (workdir / "search.sqlite3").unlink(missing_ok=True)
        urls = common.fresh_databases(args.database_url, ["search"], workdir)
    try:
        common.setup_django({"default": urls["search"]}, workdir)
        # The public throttle (600/min per address) would answer 429 to a benchmark that
        # sends every request from one address; keep it in the path with a rate it won't hit.
        from rest_framework.throttling import ScopedRateThrottle

        ScopedRateThrottle.THROTTLE_RATES = {**ScopedRateThrottle.THROTTLE_RATES,
                                             "public": "100000000/min"}
        db = common.database_description()
        print(f"Public search over {args.entities:,} market entities — {db}")
        print(f"Machine: {common.machine_description()}")
        have = entity_count()
        if have != args.entities:
            if have:
                raise SystemExit(f"the database holds {have:,} entities, not {args.entities:,}")
            fill(args.entities, args.seed)
        mix = query_mix(args.queries + args.warmup, args.seed + 7)
        api_ms, sql_ms, statements = run(mix, args.warmup)
        api, direct = summary(api_ms), summary(sql_ms)
        print(f"  {api['all']['n']:,} searches after {args.warmup} warm-up searches; "
              f"{statements} SQL statement(s) per search")
        print(f"  {'':<14} {'API median':>11} {'API p95':>9} {'SQL median':>11} {'SQL p95':>9}")
        for kind in ["all", *[k for k, _ in KINDS]]:
            if kind in api:
                a, s = api[kind], direct[kind]
                print(f"  {kind:<14} {a['median']:>9.1f}ms {a['p95']:>7.1f}ms "
                      f"{s['median']:>9.1f}ms {s['p95']:>7.1f}ms")
        ratio = api["all"]["p95"] / direct["all"]["p95"]
        verdict = "met" if api["all"]["p95"] < TARGET_P95_MS else "MISSED"
        print(f"  p95 through the API: {api['all']['p95']:.1f} ms "
              f"(target < {TARGET_P95_MS:.0f} ms: {verdict}); "
              f"API/SQL p95 ratio {ratio:.2f}")
        if args.explain and "PostgreSQL" in db:
            print("\n".join(explain_samples(mix)))
        if args.json:
            args.json.write_text(json.dumps({
                "database": db, "machine": common.machine_description(),
                "entities": args.entities, "api_ms": api, "sql_ms": direct,
                "ratio_p95": ratio, "target_p95_ms": TARGET_P95_MS,
            }, indent=2, ensure_ascii=False))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep and not args.reuse:
            common.drop_databases(args.database_url, urls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
