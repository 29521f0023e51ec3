"""Benchmark: latency from a credit record (a domain event) to the updated rating.

    python benchmarks/bench_credit_latency.py --database-url postgres://postgres@127.0.0.1:5432/zhijian_bench
    python benchmarks/bench_credit_latency.py -n 200 --database-url sqlite

It builds a fresh database <name>_credit_latency with 1,000 market entities carrying 10
credit records each, then, N times, writes one more record of a random entity through
credit.services.records.record_create in its own transaction and measures the time from
the call to the commit having re-rated the firm (outbox drained inline, as in
development: the "credit.record_changed" handlers run, the CreditRating is written and
checked). Baseline, in the same run: the bare insert of the same row
(CreditRecord.objects.create in a transaction). Prints median and p95 of both and the
ratio of the medians. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_import as common  # noqa: E402


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/zhijian_bench",
                        help="PostgreSQL scratch database (a prefix: <name>_credit_latency), "
                             "or 'sqlite'")
    parser.add_argument("-n", type=int, default=500, help="records to write")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args(argv)
    url = args.database_url if common.is_postgres(args.database_url) else None
    workdir = Path(tempfile.mkdtemp(prefix="zhijian-bench-credit-latency-"))
    urls = {"default": common.fresh_databases(url, ["credit_latency"], workdir)[
        "credit_latency"]}
    try:
        common.setup_django(urls, workdir)
        print(f"machine: {common.machine_description()}")
        print(f"database: {common.database_description()}")
        return run(args)
    finally:
        from django.db import connections

        connections.close_all()
        common.drop_databases(url, urls)


def run(args) -> int:
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from zhijian.core import rules
    from zhijian.core.models import Division
    from zhijian.credit.models import CreditRating, CreditRecord
    from zhijian.credit.services.records import record_create
    from zhijian.registry.models import MarketEntity

    assert settings.ZHIJIAN_OUTBOX_MODE == "inline"
    rng = random.Random(args.seed)
    today = timezone.localdate()
    kinds = list(rules.get("credit.record_kinds", today).value)
    county = Division.objects.filter(code__startswith="6101").exclude(
        code__endswith="00").values_list("code", flat=True).first()
    MarketEntity.objects.bulk_create([MarketEntity(
        uscc=f"91{i:016d}", name=f"测试企业{i}", division_id=county,
        legal_representative="王测试") for i in range(1, 1001)])
    ids = list(MarketEntity.objects.values_list("pk", flat=True))
    CreditRecord.objects.bulk_create([CreditRecord(
        entity_id=e, kind=rng.choice(kinds), date=today - dt.timedelta(days=rng.randrange(900)),
        source_type="bench.seed", source_id=f"{e}-{j}", source_ref="seed",
        rule_version="2021-09-01") for e in ids for j in range(10)])
    entities = {e.pk: e for e in MarketEntity.objects.all()}

    def one(i, bare):
        e = entities[rng.choice(ids)]
        kind = rng.choice(kinds)
        day = today - dt.timedelta(days=rng.randrange(300))
        started = time.perf_counter()
        with transaction.atomic():
            if bare:
                CreditRecord.objects.create(entity=e, kind=kind, date=day,
                                            source_type="bench.bare", source_id=str(i),
                                            source_ref="bare", rule_version="2021-09-01")
            else:
                record_create(entity=e, kind=kind, date=day, source_type="bench.event",
                              source_id=str(i), source_ref=f"E-{i}")
        elapsed = time.perf_counter() - started
        if not bare:
            rating = CreditRating.objects.get(entity=e)
            assert rating.computed_at is not None
        return elapsed * 1000

    for i in range(20):  # warm-up
        one(-i - 1, False)
        one(-i - 1, True)
    event_ms, bare_ms = [], []
    for i in range(args.n):
        event_ms.append(one(i, False))
        bare_ms.append(one(i, True))
    m_e, m_b = statistics.median(event_ms), statistics.median(bare_ms)
    print(f"record -> rating (inline drain): median {m_e:.1f} ms, p95 "
          f"{pct(event_ms, 0.95):.1f} ms over {args.n}")
    print(f"bare insert (baseline): median {m_b:.2f} ms, p95 {pct(bare_ms, 0.95):.2f} ms")
    print(f"ratio of medians: {m_e / m_b:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
