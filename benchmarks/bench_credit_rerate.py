"""Benchmark: the nightly credit re-rating of 1,000,000 entities with 10,000,000 records.

    python benchmarks/bench_credit_rerate.py --database-url postgres://postgres@127.0.0.1:5432/zhijian_bench
    python benchmarks/bench_credit_rerate.py --entities 100000 --records 1000000 ...   # smaller

It builds a fresh PostgreSQL database <name>_credit, loads N market entities and M credit
records by COPY (random kinds of the rule credit.record_kinds, dates over the last four
years, 10 % with their own weight, 5 % with their own expiry, 3 % repaired, 2 %
withdrawn), then times credit.services.rating.ratings_rerate_all:

- cold: every entity is rated for the first time (every rating, a RatingChange with the
  records counted, and for every entity whose class is not its initial class B an audit
  entry and a "credit.rating_changed" event; the entity rows are not written: the rating
  is the class);
- again: the same day once more (idempotent: nothing changes, nothing is written).

Baseline, in the same run: one SQL aggregation of the same records
(SELECT entity_id, sum(coalesce(weight, 10)) FROM credit_creditrecord GROUP BY entity_id,
all rows fetched). Also printed: the peak RSS of the process. The outbox drain after the
commit is switched off (the events stay queued for the workers; the latency of one event
is bench_credit_latency.py). A sample of 2,000 entities is checked against scoring.rate.
The database is dropped at the end (--keep keeps it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_import as common  # noqa: E402

TARGET_S = 60.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(n_entities: int, n_records: int, seed: int, on: dt.date) -> None:
    from django.db import connection

    from zhijian.core import rules
    from zhijian.core.models import Division
    from zhijian.registry.models import uscc_search_key

    rng = random.Random(seed)
    counties = list(Division.objects.filter(code__startswith="61").exclude(
        code__endswith="00").values_list("code", flat=True))
    kinds = list(rules.get("credit.record_kinds", on).value)
    now = "2026-01-01 00:00:00+00"
    with connection.cursor() as c:
        raw = c.cursor
        print(f"loading {n_entities:,} entities ...", flush=True)
        with raw.copy("COPY registry_marketentity (id, uscc, name, search_key, entity_type, "
                      "division_id, address, legal_representative, chief_quality_officer, "
                      "contact_phone, status, risk_class, licence_holder, created_at, "
                      "updated_at) FROM STDIN") as copy:
            for i in range(1, n_entities + 1):
                uscc = f"91{i:016d}"
                copy.write_row((i, uscc, f"测试企业{i}", uscc_search_key(uscc), "enterprise",
                                rng.choice(counties), "", "王测试", "", "", "active", "B",
                                False, now, now))
        c.execute("SELECT setval(pg_get_serial_sequence('registry_marketentity', 'id'), %s)",
                  [n_entities])
        print(f"loading {n_records:,} records ...", flush=True)
        # secondary indexes off during the load, rebuilt after it (as bench_trace.py)
        c.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
                  "'credit_creditrecord' AND indexname NOT LIKE '%%pkey'")
        indexes = c.fetchall()
        for name, _def in indexes:
            c.execute(f'DROP INDEX "{name}"')
        c.execute("ALTER TABLE credit_creditrecord DISABLE TRIGGER ALL")
        start = on - dt.timedelta(days=4 * 365)
        span = (on - start).days
        cols = ("id, entity_id, kind, date, weight, expires_on, repaired_on, source_type, "
                "source_id, source_ref, summary, evidence, evidence_sha256, public, status, "
                "withdrawn_reason, rule_version, created_at, updated_at")
        with raw.copy(f"COPY credit_creditrecord ({cols}) FROM STDIN") as copy:
            for i in range(1, n_records + 1):
                entity = rng.randint(1, n_entities)
                day = start + dt.timedelta(days=rng.randrange(span + 30))  # some future-dated
                x = rng.random()
                weight = rng.randint(0, 60) if x < 0.10 else None
                expires = day + dt.timedelta(days=rng.randint(30, 900)) if 0.10 <= x < 0.15 \
                    else None
                repaired = day + dt.timedelta(days=rng.randint(0, 400)) if 0.15 <= x < 0.18 \
                    else None
                status = "withdrawn" if 0.18 <= x < 0.20 else "active"
                copy.write_row((i, entity, rng.choice(kinds), day, weight, expires, repaired,
                                "bench", str(i), f"B-{i}", "", "", "", False, status, "",
                                "2021-09-01", now, now))
        c.execute("ALTER TABLE credit_creditrecord ENABLE TRIGGER ALL")
        print("rebuilding indexes ...", flush=True)
        for _name, definition in indexes:
            c.execute(definition)
        c.execute("SELECT setval(pg_get_serial_sequence('credit_creditrecord', 'id'), %s)",
                  [n_records])
        c.execute("ANALYZE")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/zhijian_bench",
                        help="PostgreSQL scratch database (its name is a prefix: <name>_credit)")
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if not common.is_postgres(args.database_url):
        parser.error("this benchmark needs PostgreSQL (--database-url postgres://...)")
    workdir = Path(tempfile.mkdtemp(prefix="zhijian-bench-credit-"))
    urls = {"default": common.fresh_databases(args.database_url, ["credit"], workdir)["credit"]}
    try:
        common.setup_django(urls, workdir)
        print(f"machine: {common.machine_description()}")
        print(f"database: {common.database_description()}")
        return run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            common.drop_databases(args.database_url, urls)


def run(args) -> int:
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from zhijian.core import events
    from zhijian.core import rules as rulebook
    from zhijian.credit import scoring
    from zhijian.credit.models import CreditRating, CreditRecord, RatingChange
    from zhijian.credit.services import rating

    on = timezone.localdate()
    t = time.perf_counter()
    load(args.entities, args.records, args.seed, on)
    print(f"loaded in {time.perf_counter() - t:.0f} s", flush=True)
    events.schedule_drain = lambda: None  # the events wait for the workers (see above)

    with connection.cursor() as c:  # baseline (warm cache for both)
        c.execute("SELECT entity_id, sum(coalesce(weight, 10)) FROM credit_creditrecord "
                  "GROUP BY entity_id")
        c.fetchall()
    t = time.perf_counter()
    with connection.cursor() as c:
        c.execute("SELECT entity_id, sum(coalesce(weight, 10)) FROM credit_creditrecord "
                  "GROUP BY entity_id")
        rows = c.fetchall()
    baseline = time.perf_counter() - t
    del rows
    rss_before = peak_rss_mb()

    cold = rating.ratings_rerate_all(on=on)
    rss_cold = peak_rss_mb()
    again = rating.ratings_rerate_all(on=on)

    rules = scoring.Rules.in_force(rulebook.get, on)
    rng = random.Random(args.seed + 1)
    sample = rng.sample(range(1, args.entities + 1), min(2000, args.entities))
    by_entity: dict[int, list] = {e: [] for e in sample}
    for rec in CreditRecord.objects.filter(entity_id__in=sample, status="active").values_list(
            "entity_id", *rating.RECORD_COLUMNS):
        by_entity[rec[0]].append(rec[1:])
    stored = dict((e, (k, s)) for e, k, s in CreditRating.objects.filter(
        entity_id__in=sample).values_list("entity_id", "risk_class", "score"))
    wrong = sum(1 for e in sample if stored[e] != (
        (r := scoring.rate(by_entity[e], rules, on=on)).risk_class, r.score))
    classes = dict(CreditRating.objects.values_list("risk_class").annotate(n=Count("pk")))
    print(f"classes: {dict(sorted(classes.items()))}")
    print(f"rating changes: {RatingChange.objects.count():,}")
    print(f"baseline (one SQL aggregation, rows fetched): {baseline:.2f} s")
    print(f"ratings_rerate_all cold: {cold.seconds:.2f} s ({cold.entities:,} entities, "
          f"{cold.changed:,} ratings written, {cold.class_changed:,} classes changed), "
          f"ratio {cold.seconds / baseline:.1f}x the aggregation, target <= {TARGET_S:.0f} s")
    print("cold phases (s): " + ", ".join(f"{k} {v:.2f}" for k, v in cold.phases.items()))
    print(f"ratings_rerate_all again (nothing changes): {again.seconds:.2f} s "
          f"({again.changed} written), ratio {again.seconds / baseline:.1f}x")
    print(f"peak RSS: {rss_before:.0f} MB before, {rss_cold:.0f} MB after the cold run")
    print(f"sample of {len(sample):,} entities checked against scoring.rate: {wrong} differ")
    return 0 if wrong == 0 and again.changed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
