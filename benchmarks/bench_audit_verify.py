"""Benchmark: verification of an audit log of 1,000,000 entries, against hashing alone.

    python benchmarks/bench_audit_verify.py                      # SQLite file in a temp dir
    python benchmarks/bench_audit_verify.py --database-url postgres://postgres@127.0.0.1:5432/zhijian_bench

It builds a log of N entries into a fresh database: bodies like those the registry
services write (registrations with the full record, updates with before and after,
products, labs; Chinese names and addresses), made with the same body and chain
functions as the services (zhijian.core.chain), chained in Python and bulk inserted
(SQLite executemany, PostgreSQL COPY), with a signed checkpoint every 1,000 entries
as in production. Then, in the same run:

- verify: zhijian.core.audit.verify() — every link and hash, seq contiguity, the indexed
  columns against the bodies, every checkpoint's Ed25519 signature and hash, truncation
  against the last checkpoint and the head — reading the rows from the database; with
  its default worker processes (one per CPU) and with one process;
- baseline: hashlib.sha256 over exactly the same bytes in the same chained way
  (prev_hash hex + body, UTF-8), with the bytes already in memory, in one process.

It prints the best of --repeat runs of each, and the ratios (target: verify within 3x of
the baseline). The runs of the four timings take turns (verify, verify with one process,
baseline, floor; then again), so that a machine whose load changes during the run weighs
on all of them alike rather than on whichever ran in the busy minute. For PostgreSQL the
URL names a prefix: <name>_audit is dropped, created, and dropped again at the end (keep
it with --keep).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RATIO = 3.0
CHECKPOINT_EVERY = 1000


def is_postgres(url: str | None) -> bool:
    return bool(url) and url.split(":", 1)[0] in {"postgres", "postgresql", "pgsql"}


def pg_admin(url: str):
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url.replace("postgres://", "postgresql://", 1))
    base = params.get("dbname") or "zhijian_bench"
    params["dbname"] = "postgres"
    return psycopg.connect(make_conninfo(**params), autocommit=True), base


def pg_recreate(url: str, drop_only: bool = False) -> str:
    from psycopg import sql

    conn, base = pg_admin(url)
    name = f"{base}_audit"
    with conn, conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        if not drop_only:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"{url.rpartition('/')[0]}/{name}"


def setup_django(database_url: str, workdir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "zhijian.config.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["ZHIJIAN_DATA_DIR"] = str(workdir / "var")
    os.environ["ZHIJIAN_AUDIT_KEY_FILE"] = str(workdir / "var" / "audit-key.pem")
    os.environ["ZHIJIAN_DEBUG"] = "false"
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- realistic bodies ----------------------------------------------------------------------

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰"]
TRADES = ["电缆", "电线", "钢铁", "建材", "水泥", "玻璃", "电气", "食品", "药业", "化工"]
PLACES = ["西安", "宝鸡", "咸阳", "渭南", "铜川", "延安", "汉中", "榆林", "安康", "商洛"]
DIVISIONS = ["610102", "610103", "610104", "610111", "610112", "610113", "610302",
             "610303", "610402", "610502", "610602", "610702", "610802", "610902"]
STREETS = ["科技路", "高新路", "长安南路", "未央路", "经开大道", "凤城八路", "含光路"]
ACTORS = [(None, "system"), (2, "province"), (3, "xian"), (4, "baoji"), (7, "xianyang")]
REASONS = ["", "", "", "地址变更", "风险复核", "法定代表人变更", "依申请更正"]


def _uscc(rng: random.Random, division: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return "91" + division + "".join(rng.choice(alphabet) for _ in range(10))


def _entity(rng: random.Random, pk: int, ts: str) -> dict:
    place, trade = rng.choice(PLACES), rng.choice(TRADES)
    division = rng.choice(DIVISIONS)
    return {
        "address": f"{place}市{rng.choice(STREETS)}{rng.randint(1, 999)}号",
        "categories": sorted(str(rng.randint(1, 60)) for _ in range(rng.randint(1, 3))),
        "chief_quality_officer": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "contact_phone": f"029-{rng.randint(10000000, 99999999)}",
        "created_at": ts, "division_id": division,
        "entity_type": rng.choice(["enterprise", "enterprise", "individual"]), "id": pk,
        "legal_representative": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "licence_holder": rng.random() < 0.3,
        "name": f"陕西{place}{rng.choice(SURNAMES)}{trade}有限公司",
        "registered_on": f"20{rng.randint(0, 24):02d}-{rng.randint(1, 12):02d}-"
                         f"{rng.randint(1, 28):02d}",
        "risk_class": rng.choice("ABCD"), "status": "active", "updated_at": ts,
        "uscc": _uscc(rng, division),
    }


def make_change(rng: random.Random, i: int, ts: str):
    """(action, object_type, object_id, division, before, after, reason)"""
    roll = rng.random()
    if roll < 0.60:
        e = _entity(rng, i, ts)
        return ("entity.registered", "registry.marketentity", str(i), e["division_id"],
                None, e, rng.choice(["", "", "import"]))
    if roll < 0.85:
        before = _entity(rng, rng.randint(1, max(i, 1)), ts)
        after = dict(before)
        after["address"] = f"{rng.choice(PLACES)}市{rng.choice(STREETS)}{rng.randint(1, 999)}号"
        after["risk_class"] = rng.choice("ABCD")
        after["updated_at"] = ts
        return ("entity.updated", "registry.marketentity", str(before["id"]),
                before["division_id"], before, after, rng.choice(REASONS))
    if roll < 0.95:
        after = {"category_id": rng.randint(1, 60), "entity_id": rng.randint(1, i + 1),
                 "gtin": str(rng.randint(10**12, 10**13 - 1)), "id": i,
                 "model": f"YJV22-{rng.choice([3, 4, 5])}×{rng.choice([25, 35, 50, 70])}",
                 "name": f"{rng.choice(TRADES)}产品{rng.randint(1, 999)}",
                 "standards": [str(rng.randint(1, 400)) for _ in range(rng.randint(1, 3))]}
        return ("product.registered", "registry.product", str(i), rng.choice(DIVISIONS),
                None, after, "")
    before = {"address": f"{rng.choice(PLACES)}市{rng.choice(STREETS)}1号",
              "cma_number": str(rng.randint(10**11, 10**12 - 1)), "cnas_number": "",
              "division_id": rng.choice(DIVISIONS), "id": rng.randint(1, 200),
              "monthly_capacity": rng.randint(50, 500),
              "name": f"陕西{rng.choice(PLACES)}质量检测中心", "status": "active",
              "uscc": _uscc(rng, "610113")}
    after = dict(before, status=rng.choice(["active", "suspended"]))
    return ("lab.updated", "registry.lab", str(before["id"]), before["division_id"], before,
            after, rng.choice(REASONS))


# --- building the log ------------------------------------------------------------------------

COLUMNS = ("seq", "ts", "actor_id", "actor", "action", "object_type", "object_id",
           "division", "body", "prev_hash", "hash")


def build_log(n: int, seed: int, chunk: int = 50_000) -> list[bytes]:
    """Write n chained entries and their checkpoints; return the hashed bytes of each body
    (for the baseline, which hashes prev_hash + body exactly as verification does)."""
    from django.db import connection, transaction

    from zhijian.core import chain, signing
    from zhijian.core.models import AuditCheckpoint, AuditHead

    rng = random.Random(seed)
    key = signing.audit_key()
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    bodies: list[bytes] = []
    prev = chain.GENESIS
    checkpoints = []
    vendor = connection.vendor
    raw = connection.connection
    t0 = time.perf_counter()
    for base in range(0, n, chunk):
        rows = []
        for seq in range(base + 1, min(base + chunk, n) + 1):
            when = start + dt.timedelta(seconds=seq * 7, microseconds=rng.randint(0, 999_999))
            ts = chain.ts_text(when)
            actor_id, actor = rng.choice(ACTORS)
            action, object_type, object_id, division, before, after, reason = make_change(
                rng, seq, ts)
            body = chain.make_body(
                {"action": action, "actor": actor, "actor_id": actor_id, "division": division,
                 "object_id": object_id, "object_type": object_type, "seq": seq, "ts": ts},
                reason=reason, request_id=f"{rng.getrandbits(64):016x}" if actor_id else "",
                before=before, after=after)
            digest = chain.chain_hash(prev, body)
            stored_ts = str(when.replace(tzinfo=None)) if vendor == "sqlite" else when
            rows.append((seq, stored_ts, actor_id, actor, action, object_type, object_id,
                         division, body, prev, digest))
            bodies.append(body.encode("utf-8"))
            prev = digest
            if seq % CHECKPOINT_EVERY == 0:
                statement = chain.checkpoint_statement(seq, digest)
                checkpoints.append(AuditCheckpoint(
                    seq=seq, hash=digest, ts=when, key_id=key.key_id, statement=statement,
                    signature=key.sign(statement.encode()).hex()))
        if vendor == "sqlite":
            with transaction.atomic():  # one write transaction per chunk
                raw.executemany(
                    f"INSERT INTO core_auditentry ({', '.join(COLUMNS)}) "  # noqa: S608
                    f"VALUES ({', '.join('?' * len(COLUMNS))})", rows)
        else:
            with raw.cursor() as cur, cur.copy(
                    f"COPY core_auditentry ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
            raw.commit()
        done = min(base + chunk, n)
        rate = done / (time.perf_counter() - t0)
        print(f"\r  built {done:,} / {n:,} entries ({rate:,.0f}/s)", end="", flush=True)
    print()
    AuditCheckpoint.objects.bulk_create(checkpoints, batch_size=1000)
    AuditHead.objects.update_or_create(pk=1, defaults={"seq": n, "hash": prev})
    if vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE core_auditentry")
    return bodies


# --- timing ------------------------------------------------------------------------------------

def baseline(bodies: list[bytes]) -> str:
    sha = hashlib.sha256
    prev = b"0" * 64
    for body in bodies:
        prev = sha(prev + body).hexdigest().encode()
    return prev.decode()


def read_rows(n: int) -> int:
    """The floor: read the rows the same way as verification does (chunks of 500 entries:
    PostgreSQL aggregated into one row each and streamed by binary COPY, SQLite one query
    per chunk with its column check in SQL), in one process, and check nothing."""
    from django.db import connection

    from zhijian.core import chain

    chunks = chain.fast_chunks(connection.connection, connection.vendor, 1, n, chain.CHUNK)
    return sum(c.n for c in chunks)


def best_of_interleaved(repeat: int, fns: list):
    """(seconds, process CPU seconds, value) of the fastest of `repeat` runs of each
    function, the functions taking turns."""
    runs = [[] for _ in fns]
    for _ in range(repeat):
        for fn, timings in zip(fns, runs, strict=True):
            c0, t0 = time.process_time(), time.perf_counter()
            value = fn()
            timings.append((time.perf_counter() - t0, time.process_time() - c0, value))
    return [min(timings, key=lambda t: t[0]) for timings in runs]


def machine() -> dict:
    from django.db import connection

    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = ""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SHOW server_version")
            db = f"PostgreSQL {cur.fetchone()[0]}"
        else:
            db = f"SQLite {sqlite3.sqlite_version} (file, WAL)"
    try:
        load = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        load = []
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": mem,
            "python": platform.python_version(), "database": db,
            "sha_ni": "sha_ni" in Path("/proc/cpuinfo").read_text(),
            "loadavg_at_end": " ".join(load),
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                     capture_output=True, text=True).stdout.strip()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", "-n", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="PostgreSQL URL naming a scratch prefix "
                        "(<name>_audit is dropped and created); default: a SQLite file")
    parser.add_argument("--workers", type=int, default=None,
                        help="verification processes (default: one per CPU)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of each timing, taking turns (the best is kept)")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="zhijian-bench-audit-") as tmp:
        workdir = Path(tmp)
        pg = is_postgres(args.database_url)
        url = pg_recreate(args.database_url) if pg else f"sqlite:///{workdir / 'audit.sqlite3'}"
        try:
            setup_django(url, workdir)
            from django.db import connection

            from zhijian.core import audit, chain

            print(f"Building {args.entries:,} audit entries in {connection.vendor} ...")
            t0 = time.perf_counter()
            bodies = build_log(args.entries, args.seed)
            build_s = time.perf_counter() - t0
            size = sum(map(len, bodies))
            print(f"  {build_s:.1f} s; bodies average {size / len(bodies):.0f} bytes "
                  f"({size / 2**20:,.0f} MiB)")
            workers = args.workers or chain.default_workers()

            def verify(w):
                result = audit.verify(workers=w, parallel_min=0)
                if not (result.ok and result.checked == args.entries):
                    raise SystemExit(f"verification failed: {result}")
                return result

            verify(workers)  # warm the page cache and the fork server
            (v_time, v_cpu, result), (v1_time, v1_cpu, _), (b_time, b_cpu, head), \
                (r_time, _, read) = best_of_interleaved(args.repeat, [
                    lambda: verify(workers), lambda: verify(1), lambda: baseline(bodies),
                    lambda: read_rows(args.entries)])
            assert read == args.entries
            if head != result.head_hash:
                raise SystemExit("the baseline did not hash the same bytes")
            info = machine()
        finally:
            from django.db import connection

            connection.close()
            if pg and not args.keep:
                pg_recreate(args.database_url, drop_only=True)

    n = args.entries
    report = {
        "entries": n, "checkpoints": result.checkpoints, "workers": workers,
        "verify_s": round(v_time, 3), "verify_1_worker_s": round(v1_time, 3),
        "verify_main_process_cpu_s": round(v_cpu, 3), "verify_1_worker_cpu_s": round(v1_cpu, 3),
        "baseline_s": round(b_time, 3), "read_rows_only_s": round(r_time, 3),
        "ratio": round(v_time / b_time, 2), "ratio_1_worker": round(v1_time / b_time, 2),
        "body_bytes_avg": round(size / n), "build_s": round(build_s, 1),
        "target_ratio": TARGET_RATIO, "machine": info,
    }
    print()
    print(f"Audit verification of {n:,} entries ({result.checkpoints:,} signed checkpoints), "
          f"{info['database']}")
    print(f"  verify, {workers} worker processes : {v_time:7.2f} s  ({n / v_time:>10,.0f} entries/s)")
    print(f"  verify, 1 process             : {v1_time:7.2f} s  ({n / v1_time:>10,.0f} entries/s)")
    print(f"  baseline hashlib, in memory   : {b_time:7.2f} s  ({n / b_time:>10,.0f} entries/s)")
    print(f"  (floor) reading the rows only : {r_time:7.2f} s  ({n / r_time:>10,.0f} entries/s), "
          f"{r_time / b_time:.2f}x the baseline")
    print(f"  ratio verify/baseline         : {report['ratio']:.2f}x with {workers} workers, "
          f"{report['ratio_1_worker']:.2f}x with 1  (target: within {TARGET_RATIO:.0f}x)")
    print(f"  machine: {info['nproc']} CPUs, {info['cpu']}, {info['ram']} RAM, "
          f"Python {info['python']}, load average {info['loadavg_at_end']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if report["ratio"] <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
