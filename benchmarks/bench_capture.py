"""Benchmark: EPCIS 2.0 capture throughput through the service, against a bare COPY (or
executemany) of the same rows into the same database.

    python benchmarks/bench_capture.py                     # PostgreSQL, 1,000,000 events
    python benchmarks/bench_capture.py --database-url postgres://postgres@127.0.0.1:5432/zhijian_bench
    python benchmarks/bench_capture.py --database sqlite -n 100000

It generates N synthetic events (default 1,000,000) in EPCISDocuments of 1,000 (a cable
supply chain: about 82 % object events — shipping, receiving, installing — with 1-3 drum
EPCs, a quantityList batch (LGTIN, metres), read point, business location, purchase order
(and despatch advice when shipping) transactions, owning-party and location sources and
destinations; 12 % aggregation events packing 2-4 drums on a pallet (SSCC); 6 %
transformation events turning a copper batch into a cable batch, with ILMD; half of the
events carry an eventID, the others are known by their hash ID). Each document is made
untimed, just before it is used. Then, in the same database, one after the other:

- baseline: the rows a capture stores (a capture row, the events, their keys, EPC, batch,
  transaction and source/destination rows), computed untimed from the document with the
  public pure functions (eventhash.prehash/hash_id, indexing.index_event, json.dumps), then
  written per document in one transaction: on PostgreSQL one COPY per table, on SQLite one
  executemany per table; event IDs chosen by the benchmark, nothing read back;
- service: zhijian.traceability.services.capture_document(actor=<an enterprise account>,
  raw=<the document's bytes>) per document: size and JSON checks, the GS1 schema, the CBV
  and identifier rules, hash IDs, index values, the repeat check against stored keys, the
  inserts, one audit entry, the domain event and its inline outbox drain, the commit.

Both start on empty event tables (TRUNCATE between them) and end with the same rows: a
digest of every stored row in order (less database IDs, capture and record time) must be
equal, or the run fails. It prints events/s of each and the ratio. Targets (the
traceability issue): >= 20,000 events/s on PostgreSQL and >= 1/3 of the bare rate. For
PostgreSQL the URL names a prefix: <name>_capture is dropped, created, and dropped again
at the end (keep it with --keep).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import json
import os
import platform
import pstats
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RATE = 20_000
TARGET_SHARE = 1 / 3
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/zhijian_bench"

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
           {"zj": "https://zhijian.example.cn/epcis/"}]
PLANTS = [f"69{i:05d}" for i in range(40)]  # GS1 company prefixes, 7 digits (synthetic)
STEPS = {"shipping": "in_transit", "receiving": "in_progress", "installing": "active"}


def is_postgres(url: str | None) -> bool:
    return bool(url) and url.split(":", 1)[0] in {"postgres", "postgresql", "pgsql"}


# --- the documents ------------------------------------------------------------------------------

def _event(rng: random.Random, doc: int, seq: int) -> dict:
    plant, buyer = rng.choice(PLANTS), rng.choice(PLANTS)
    item = f"{rng.randrange(1_000_000):06d}"
    when = (f"2026-{1 + doc % 12:02d}-{1 + seq % 28:02d}T{rng.randrange(24):02d}:"
            f"{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}+08:00")
    head = {"eventID": f"urn:uuid:{rng.getrandbits(128):032x}"} if rng.random() < 0.5 else {}
    lot = f"L{doc % 500:04d}{rng.choice('ABCD')}"
    site = f"urn:epc:id:sgln:{plant}.00001.0"
    kind = rng.random()
    if kind < 0.82:
        step = rng.choice(list(STEPS))
        event = {
            "type": "ObjectEvent", **head, "eventTime": when, "eventTimeZoneOffset": "+08:00",
            "epcList": [f"urn:epc:id:sgtin:{plant}.{item}.{doc}{seq:04d}{k}"
                        for k in range(rng.randint(1, 3))],
            "action": "OBSERVE", "bizStep": step, "disposition": STEPS[step],
            "readPoint": {"id": f"urn:epc:id:sgln:{plant}.00001.{rng.randrange(1, 9)}"},
            "bizLocation": {"id": site},
            "bizTransactionList": [{"type": "po", "bizTransaction":
                                    f"urn:epc:id:gdti:{buyer}.00001.PO{doc}{seq:04d}"}],
            "sourceList": [{"type": "owning_party", "source": f"urn:epc:id:pgln:{plant}.00000"},
                           {"type": "location", "source": site}],
            "destinationList": [
                {"type": "owning_party", "destination": f"urn:epc:id:pgln:{buyer}.00000"},
                {"type": "location", "destination": f"urn:epc:id:sgln:{buyer}.00002.0"}],
            "quantityList": [{"epcClass": f"urn:epc:class:lgtin:{plant}.{item}.{lot}",
                              "quantity": rng.randrange(50, 2000), "uom": "MTR"}],
        }
        if step == "shipping":
            event["bizTransactionList"].append({
                "type": "desadv", "bizTransaction": f"urn:epc:id:gdti:{plant}.00001.DA{doc}{seq:04d}"})
        return event
    if kind < 0.94:
        return {
            "type": "AggregationEvent", **head, "eventTime": when, "eventTimeZoneOffset": "+08:00",
            "parentID": f"urn:epc:id:sscc:{plant}.{doc % 1000:03d}{seq:04d}{rng.randrange(1000):03d}",
            "childEPCs": [f"urn:epc:id:sgtin:{plant}.{item}.{doc}{seq:04d}{k}"
                          for k in range(rng.randint(2, 4))],
            "action": "ADD", "bizStep": "packing", "disposition": "in_progress",
            "readPoint": {"id": f"urn:epc:id:sgln:{plant}.00001.3"}, "bizLocation": {"id": site},
        }
    return {
        "type": "TransformationEvent", **head, "eventTime": when, "eventTimeZoneOffset": "+08:00",
        "inputQuantityList": [{"epcClass": f"urn:epc:class:lgtin:{buyer}.000321.CU{doc % 97}",
                               "quantity": round(rng.uniform(100, 900), 1), "uom": "KGM"}],
        "outputQuantityList": [{"epcClass": f"urn:epc:class:lgtin:{plant}.{item}.{lot}",
                                "quantity": rng.randrange(500, 3000), "uom": "MTR"}],
        "bizStep": "commissioning", "disposition": "active",
        "readPoint": {"id": f"urn:epc:id:sgln:{plant}.00001.5"}, "bizLocation": {"id": site},
        "ilmd": {"zj:productionLine": f"L{rng.randrange(1, 6)}", "zj:standard": "GB/T 12706.1-2020"},
    }


def document(seed: int, doc: int, size: int) -> bytes:
    """Document number `doc` (the same bytes for the same seed), as a client would send it."""
    rng = random.Random(seed * 1_000_003 + doc)
    return json.dumps({
        "@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2026-09-01T08:00:00+08:00",
        "epcisBody": {"eventList": [_event(rng, doc, seq) for seq in range(size)]},
    }, ensure_ascii=False).encode("utf-8")


# --- the database -------------------------------------------------------------------------------

def pg_recreate(url: str, drop_only: bool = False) -> str:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url.replace("postgres://", "postgresql://", 1))
    base = params.get("dbname") or "zhijian_bench"
    params["dbname"] = "postgres"
    name = f"{base}_capture"
    with psycopg.connect(make_conninfo(**params), autocommit=True) as conn, \
            conn.cursor() as cur:
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
    os.environ["ZHIJIAN_DEBUG"] = "false"  # as in production: no query log
    os.environ["ZHIJIAN_OUTBOX_MODE"] = "inline"  # the domain event's drain is timed too
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def capturer():
    """An enterprise account (a synthetic cable maker in Xi'an) that captures the events."""
    from zhijian.accounts.models import User
    from zhijian.core.identifiers import synthetic_uscc
    from zhijian.registry.models import MarketEntity

    entity = MarketEntity.objects.create(
        uscc=synthetic_uscc(random.Random(7), "610113"), name="陕西测试电缆有限公司",
        division_id="610113", legal_representative="王测试", address="陕西省西安市测试路1号")
    return User.objects.create(username="bench-capture", role="enterprise", entity=entity)


TABLES = ("traceability_eventepc", "traceability_eventtransaction",
          "traceability_eventsourcedest", "traceability_eventkey", "traceability_event",
          "traceability_capture")


def empty_event_tables() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
            cur.execute("VACUUM ANALYZE")
        else:
            for table in TABLES:
                cur.execute(f"DELETE FROM {table}")  # noqa: S608 (the names above)
            names = ", ".join(f"'{t}'" for t in TABLES)
            cur.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({names})")  # noqa: S608
            cur.execute("VACUUM")


# --- baseline: the same rows, written bare ------------------------------------------------------

class Bare:
    """The rows of a capture computed with the pure modules, written with COPY or
    executemany. IDs are the benchmark's own (consecutive from 1)."""

    def __init__(self, org: str, entity_id: int, user_id: int):
        self.org, self.entity_id, self.user_id = org, entity_id, user_id
        self.next_event = self.next_capture = 1

    def rows(self, raw: bytes) -> dict[str, list[tuple]]:
        from django.utils import timezone

        from zhijian.traceability.eventhash import document_events, hash_id, prehash
        from zhijian.traceability.indexing import index_event

        doc = json.loads(raw)
        events, context, ignore = document_events(doc)
        now = timezone.now()
        capture = self.next_capture
        self.next_capture += 1
        hashes = [hash_id(prehash(ev, context, ignore=ignore)) for ev in events]
        out = {"capture": [(capture, "document", "succeeded", self.user_id, self.entity_id,
                            self.org, hashlib.sha256(raw).hexdigest(), len(raw), len(events),
                            len(events), 0, 0,
                            hashlib.sha256("".join(h + "\n" for h in hashes).encode())
                            .hexdigest(), json.dumps(context), json.dumps(sorted(ignore)),
                            "[]", now, now)],
               "event": [], "key": [], "epc": [], "transaction": [], "source_dest": []}
        for ev, digest in zip(events, hashes, strict=True):
            x = index_event(ev, context)
            pk = self.next_event
            self.next_event += 1
            event_id = ev.get("eventID") or digest
            out["event"].append((pk, event_id, digest, x.type, x.action, x.biz_step,
                                 x.disposition, x.event_time, x.event_timezone_offset, now,
                                 x.read_point, x.biz_location, None,
                                 json.dumps(ev, ensure_ascii=False), capture, self.org))
            out["key"].append((event_id, digest, x.event_time))
            out["epc"].extend((pk, *row) for row in x.epcs)
            out["transaction"].extend((pk, *row) for row in x.transactions)
            out["source_dest"].extend((pk, *row) for row in x.source_dest)
        return out

    COLUMNS = {
        "capture": ("traceability_capture", "id, kind, status, submitted_by_id, entity_id, org, "
                    "document_sha256, size, event_count, stored_count, duplicate_count, "
                    "declared_count, hashes_digest, context, ignore_fields, errors, created_at, "
                    "finished_at"),
        "event": ("traceability_event", "id, event_id, hash_id, type, action, biz_step, "
                  "disposition, event_time, event_timezone_offset, record_time, read_point, "
                  "biz_location, error_declaration, data, capture_id, org"),
        "key": ("traceability_eventkey", "event_id, hash_id, event_time"),
        "epc": ("traceability_eventepc", "event_id, role, epc, quantity, uom"),
        "transaction": ("traceability_eventtransaction", "event_id, type, identifier"),
        "source_dest": ("traceability_eventsourcedest", "event_id, kind, type, identifier"),
    }

    def write(self, rows: dict[str, list[tuple]]) -> None:
        """One transaction per document, as a capture."""
        from django.db import connection, transaction

        with transaction.atomic(), connection.cursor() as cur:
            for name, (table, columns) in self.COLUMNS.items():
                if connection.vendor == "postgresql":
                    with cur.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in rows[name]:
                            copy.write_row(row)
                else:
                    marks = ", ".join("?" * (columns.count(",") + 1))
                    cur.cursor.executemany(
                        f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                        rows[name])

    def sqlite_values(self, rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
        """Datetimes as Django stores them on SQLite (naive UTC text), untimed."""
        from django.db import connection

        adapt = connection.ops.adapt_datetimefield_value
        return {name: [tuple(adapt(v) if hasattr(v, "tzinfo") and hasattr(v, "hour") else v
                             for v in row) for row in table] for name, table in rows.items()}


# --- checking both wrote the same ---------------------------------------------------------------

DIGEST_QUERIES = (
    "SELECT e.event_id, e.hash_id, e.type, e.action, e.biz_step, e.disposition, e.event_time, "
    "e.event_timezone_offset, e.read_point, e.biz_location, e.error_declaration, e.data, e.org "
    "FROM traceability_event e ORDER BY e.id",
    "SELECT event_id, hash_id, event_time FROM traceability_eventkey ORDER BY id",
    "SELECT e.event_id, r.role, r.epc, r.quantity, r.uom FROM traceability_eventepc r "
    "JOIN traceability_event e ON e.id = r.event_id ORDER BY r.event_id, r.id",
    "SELECT e.event_id, r.type, r.identifier FROM traceability_eventtransaction r "
    "JOIN traceability_event e ON e.id = r.event_id ORDER BY r.event_id, r.id",
    "SELECT e.event_id, r.kind, r.type, r.identifier FROM traceability_eventsourcedest r "
    "JOIN traceability_event e ON e.id = r.event_id ORDER BY r.event_id, r.id",
    "SELECT org, event_count, stored_count, duplicate_count, hashes_digest, document_sha256, "
    "size, context, ignore_fields FROM traceability_capture ORDER BY id",
)


def digest() -> tuple[str, list[int]]:
    """SHA-256 over every stored row in order (without database IDs and times of
    recording), and the row count per query."""
    from django.db import connection

    h, counts = hashlib.sha256(), []
    for query in DIGEST_QUERIES:
        n = 0
        with connection.chunked_cursor() as cur:
            cur.execute(query)
            while rows := cur.fetchmany(5_000):
                n += len(rows)
                for row in rows:
                    h.update(repr(tuple(row)).encode())
        counts.append(n)
    return h.hexdigest(), counts


# --- the run ------------------------------------------------------------------------------------

def machine() -> dict:
    from django.db import connection

    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SHOW server_version")
            db = f"PostgreSQL {cur.fetchone()[0]}"
        else:
            db = f"SQLite {sqlite3.sqlite_version} (file, WAL)"
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = ""
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "database": db, "loadavg_at_end": load}


def progress(label: str, done: int, total: int, seconds: float) -> None:
    print(f"\r  {label}: {done:,} / {total:,} events ({done / seconds:,.0f}/s)", end="",
          flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--events", type=int, default=1_000_000,
                        help="events in all (default 1,000,000)")
    parser.add_argument("--per-document", type=int, default=1_000,
                        help="events per EPCISDocument (default 1,000)")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default=None,
                        help="default: postgresql (sqlite with --database sqlite)")
    parser.add_argument("--database-url",
                        default=os.environ.get("DATABASE_URL") if is_postgres(
                            os.environ.get("DATABASE_URL")) else DEFAULT_URL,
                        help="PostgreSQL URL naming a scratch prefix (<name>_capture is "
                             f"dropped and created); default $DATABASE_URL or {DEFAULT_URL}")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--profile", action="store_true",
                        help="profile the service over the first 20 documents instead")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args(argv)
    pg = (args.database or "postgresql") == "postgresql"
    size = args.per_document
    documents = max(args.events // size, 1)
    n = documents * size

    with tempfile.TemporaryDirectory(prefix="zhijian-bench-capture-") as tmp:
        workdir = Path(tmp)
        url = pg_recreate(args.database_url) if pg else f"sqlite:///{workdir / 'capture.sqlite3'}"
        try:
            setup_django(url, workdir)
            from django.db import connection

            from zhijian.traceability import services

            user = capturer()
            org = f"enterprise:{user.entity_id}"
            print(f"{n:,} events in {documents:,} documents of {size:,}, {connection.vendor}; "
                  f"a document is {len(document(args.seed, 0, size)):,} bytes")
            gc.collect()
            gc.freeze()  # the set-up's objects, as a server's start-up objects

            if args.profile:
                profiler = cProfile.Profile()
                for i in range(min(documents, 20)):
                    raw = document(args.seed, i, size)
                    profiler.runcall(services.capture_document, actor=user, raw=raw)
                pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
                return 0

            print("baseline: the same rows, computed untimed, written bare per document")
            bare = Bare(org, user.entity_id, user.pk)
            bare_s = 0.0
            for i in range(documents):
                rows = bare.rows(document(args.seed, i, size))
                if not pg:
                    rows = bare.sqlite_values(rows)
                t0 = time.perf_counter()
                bare.write(rows)
                bare_s += time.perf_counter() - t0
                progress("bare", (i + 1) * size, n, bare_s)
            print()
            bare_digest = digest()
            empty_event_tables()

            print("service: capture_document per document")
            service_s = 0.0
            for i in range(documents):
                raw = document(args.seed, i, size)
                t0 = time.perf_counter()
                capture = services.capture_document(actor=user, raw=raw)
                service_s += time.perf_counter() - t0
                if capture.stored_count != size:
                    raise SystemExit(f"document {i}: {capture.stored_count} events stored")
                progress("service", (i + 1) * size, n, service_s)
            print()
            service_digest = digest()
            if service_digest != bare_digest:
                raise SystemExit(f"the service stored other rows than the baseline: "
                                 f"{service_digest} != {bare_digest}")
            info = machine()
        finally:
            from django.db import connection

            connection.close()
            if pg and not args.keep:
                pg_recreate(args.database_url, drop_only=True)

    rate, bare_rate = n / service_s, n / bare_s
    counts = dict(zip(("events", "keys", "epc_rows", "transactions", "sources_destinations",
                       "captures"), bare_digest[1], strict=True))
    report = {"events": n, "per_document": size, "documents": documents, "rows": counts,
              "service_s": round(service_s, 2), "service_events_per_s": round(rate),
              "bare_s": round(bare_s, 2), "bare_events_per_s": round(bare_rate),
              "share_of_bare": round(rate / bare_rate, 3),
              "target_events_per_s": TARGET_RATE, "target_share": round(TARGET_SHARE, 3),
              "machine": info}
    print()
    print(f"Capture of {n:,} events in documents of {size:,}, {info['database']}")
    print(f"  rows per run: {', '.join(f'{k} {v:,}' for k, v in counts.items())}")
    print(f"  service capture_document     : {service_s:8.2f} s  ({rate:>8,.0f} events/s)")
    bare_label = f"baseline bare {'COPY' if pg else 'executemany'}"
    print(f"  {bare_label:<29}: {bare_s:8.2f} s  ({bare_rate:>8,.0f} events/s)")
    print(f"  service / bare rate          : {rate / bare_rate:.2f}  (target: >= "
          f"{TARGET_SHARE:.2f}, and >= {TARGET_RATE:,} events/s on PostgreSQL)")
    print(f"  same rows stored by both (digest {service_digest[0][:16]}…)")
    print(f"  machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, "
          f"load average {info['loadavg_at_end']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    met = rate / bare_rate >= TARGET_SHARE and (not pg or rate >= TARGET_RATE)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
