"""Benchmark: trace latency on an EPCIS event store of 10,000,000 events (PostgreSQL).

    python benchmarks/bench_trace.py --database-url postgres://postgres@127.0.0.1:5432/zhijian_bench
    python benchmarks/bench_trace.py --events 1000000 ...        # a smaller store

It builds a fresh database <name>_trace holding N synthetic events of a multi-tier supply
chain (raw material suppliers -> makers -> distributors -> contractors -> installation
sites), then measures:

- the median and p95 latency of tracing.trace(direction="both") from random maker
  batches (backward to the raw material, forward to the pallet, the distributors, the
  contractors, the cut lengths and the sites), target p95 <= 50 ms;
- tracing.impact for one batch that reaches 10,000 installation sites (10 distributors x
  50 contractors x 20 lengths), target <= 1 s.

Baseline, in the same run: the same traces by breadth-first search (networkx ancestors
and descendants, then the out-edges of the forward nodes with their quantities) over an
in-memory networkx DiGraph of the same edges: identifier -> identifier (transformation
inputs -> outputs, children -> container) and identifier -> place (shipped to, received
at, installed at).

The store is loaded by COPY, not through services.capture_document: the capture path is
measured by bench_capture.py (~20,000 events/s, so 10,000,000 events would take hours on
this machine); here the rows are those a capture writes (Event, EventKey, EventEpc,
EventSourceDest, with Capture jobs of 1,000 events, and the Place directory), with the
same columns and indexes. Secondary indexes are dropped before the COPY and rebuilt after
it, foreign-key triggers are off during the load (the generator keeps every reference
valid), then ANALYZE. An event's hash_id is the SHA-256 of its number (unique, as the
store requires; trace does not recompute hashes) and its JSON a short summary.

Shape per maker batch (about 37 events): two raw-material inputs (each raw batch feeds 5
maker batches and has commissioning, shipping, receiving), the transformation that makes
the batch (1000 m), packing 400 m on a pallet shipped to one distributor and 600 m shipped
loose to another (each received), each distributor shipping 100 m to each of 3
contractors (received), each contractor cutting it into 2 lengths installed at 2 sites.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import json
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

import bench_import as common  # noqa: E402  (shared database and machine helpers)

TARGET_TRACE_P95_MS = 50.0
TARGET_IMPACT_S = 1.0
DL = "https://id.gs1.org"
CBV = "https://ref.gs1.org/cbv/"
SDT = CBV + "SDT-"
STEP = {k: CBV + "BizStep-" + k for k in (
    "commissioning", "shipping", "receiving", "creating_class_instance", "packing",
    "installing")}
DISP = {"shipping": CBV + "Disp-in_transit", "receiving": CBV + "Disp-in_progress",
        "commissioning": CBV + "Disp-active", "creating_class_instance": CBV + "Disp-active"}
EVENTS_PER_BATCH = 37.2
NULL = "\\N"  # COPY text format
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def check_digit(body: str) -> str:
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gln(kind: int, n: int) -> str:
    body = f"69{kind}{n:09d}"
    return body + check_digit(body)


class Shape:
    """Sizes of the synthetic province for a store of about ``events`` events."""

    def __init__(self, events: int, seed: int):
        self.rng = random.Random(seed)
        self.suppliers, self.makers = 200, 500
        self.distributors, self.contractors = 2000, 10000
        self.sites = 60000
        self.story_distributors, self.story_contractors, self.story_lengths = 10, 50, 20
        story = (self.story_distributors * 2 + self.story_distributors
                 * self.story_contractors * (3 + self.story_lengths) + 4)
        self.batches = max(10, int((events - story) / EVENTS_PER_BATCH))
        self.party = {k: [f"{DL}/417/{gln(k, i)}" for i in range(n)] for k, n in (
            (1, self.suppliers), (2, self.makers), (3, self.distributors),
            (4, self.contractors))}
        self.loc = {k: [f"{DL}/414/{gln(k + 4, i)}" for i in range(n)] for k, n in (
            (1, self.suppliers), (2, self.makers), (3, self.distributors),
            (4, self.contractors), (5, self.sites))}
        self.gtin = [self._gtin(m) for m in range(self.makers)]
        self.raw_gtin = [self._gtin(9000 + s) for s in range(self.suppliers)]

    @staticmethod
    def _gtin(n: int) -> str:
        body = f"0690{n:05d}0001"
        return body + check_digit(body)

    def org(self, tier: int, n: int) -> str:
        return f"enterprise:{tier * 100000 + n}"


class Writer:
    """Rows of the four event tables, as COPY text, flushed in chunks."""

    def __init__(self, conn, shape: Shape, graph=None, chunk: int = 200_000):
        self.conn, self.shape, self.graph, self.chunk = conn, shape, graph, chunk
        self.event = self.epc = self.sd = 0
        self.ev_lines: list[str] = []
        self.key_lines: list[str] = []
        self.epc_lines: list[str] = []
        self.sd_lines: list[str] = []
        self.capture_lines: list[str] = []
        self.capture_org = ""

    def add(self, when: dt.datetime, step: str, kind: str, org: str, *, action: str = "OBSERVE",
            at: str = "", epcs=(), src: str = "", dst: str = "", to: str = "") -> int:
        """One event: ``epcs`` are (role, identifier, quantity, uom)."""
        self.event += 1
        pk = self.event
        capture = (pk - 1) // 1000 + 1
        if (pk - 1) % 1000 == 0:
            self.capture_lines.append(self._capture(capture, org, when))
        eid = f"urn:uuid:00000000-0000-4000-8000-{pk:012x}"
        hid = "ni:///sha-256;" + hashlib.sha256(str(pk).encode()).hexdigest() + "?ver=CBV2.0"
        t = when.isoformat()
        data = json.dumps({"type": kind, "eventID": eid, "eventTime": t, "bizStep": step},
                          separators=(",", ":"))
        etype = {"ObjectEvent": "object", "AggregationEvent": "aggregation",
                 "TransformationEvent": "transformation"}[kind]
        act = "" if etype == "transformation" else action
        self.ev_lines.append("\t".join((
            str(pk), eid, hid, etype, act, STEP[step], DISP.get(step, ""), t, "+08:00", t,
            at, at, "\\N", data, str(capture), org)) + "\n")
        self.key_lines.append(f"{pk}\t{eid}\t{hid}\t{t}\n")
        for role, ident, qty, uom in epcs:
            self.epc += 1
            amount = NULL if qty is None else repr(qty)
            self.epc_lines.append(f"{self.epc}\t{pk}\t{role}\t{ident}\t{amount}\t{uom}\n")
        for kind_, party in (("source", src), ("destination", dst)):
            if party:
                for t_ in ("owning_party", "possessing_party"):
                    self.sd += 1
                    self.sd_lines.append(f"{self.sd}\t{pk}\t{kind_}\t{SDT}{t_}\t{party}\n")
        if to:
            self.sd += 1
            self.sd_lines.append(f"{self.sd}\t{pk}\tdestination\t{SDT}location\t{to}\n")
        if len(self.ev_lines) >= self.chunk:
            self.flush()
        return pk

    def _capture(self, pk: int, org: str, when: dt.datetime) -> str:
        digest = hashlib.sha256(str(pk).encode()).hexdigest()
        t = when.isoformat()
        return "\t".join((str(pk), "document", "succeeded", "\\N", "\\N", "\\N", "\\N", org,
                          digest, "1000000", "1000", "1000", "0", "0", digest, "\\N", "[]",
                          "[]", t, t)) + "\n"

    def flush(self) -> None:
        from zhijian.traceability.models import (
            Capture,
            Event,
            EventEpc,
            EventKey,
            EventSourceDest,
        )

        with self.conn.cursor() as cur:
            for model, cols, lines in (
                    (Capture, CAPTURE_COLS, self.capture_lines),
                    (Event, EVENT_COLS, self.ev_lines), (EventKey, KEY_COLS, self.key_lines),
                    (EventEpc, EPC_COLS, self.epc_lines),
                    (EventSourceDest, SD_COLS, self.sd_lines)):
                if not lines:
                    continue
                with cur.copy(f"COPY {model._meta.db_table} ({', '.join(cols)}) "
                              "FROM STDIN") as copy:
                    copy.write("".join(lines))
                lines.clear()
        self.conn.commit()


CAPTURE_COLS = ("id", "kind", "status", "submitted_by_id", "entity_id", "lab_id",
                "user_unit_id", "org", "document_sha256", "size", "event_count",
                "stored_count", "duplicate_count", "declared_count", "hashes_digest",
                "context", "ignore_fields", "errors", "created_at", "finished_at")
EVENT_COLS = ("id", "event_id", "hash_id", "type", "action", "biz_step", "disposition",
              "event_time", "event_timezone_offset", "record_time", "read_point",
              "biz_location", "error_declaration", "data", "capture_id", "org")
KEY_COLS = ("id", "event_id", "hash_id", "event_time")
EPC_COLS = ("id", "event_id", "role", "epc", "quantity", "uom")
SD_COLS = ("id", "event_id", "kind", "type", "identifier")


class Edges:
    """The baseline's graph, built from the same rows as they are generated."""

    def __init__(self):
        import networkx as nx

        self.g = nx.DiGraph()

    def link(self, src: str, dst: str, qty, uom: str) -> None:
        self.g.add_edge(src, dst, quantity=qty, uom=uom)

    def where(self, ident: str, place: str, how: str, qty, uom: str) -> None:
        self.g.add_edge(ident, place, how=how, quantity=qty, uom=uom)


def generate(w: Writer, edges: Edges | None) -> dict:
    """Write the whole store; returns the maker batches and the story batch."""
    s = w.shape
    rng = s.rng
    intern = sys.intern
    batches: list[str] = []
    raw_made: dict[int, str] = {}
    minute = dt.timedelta(minutes=1)

    def raw_batch(j: int, maker: int, when: dt.datetime) -> str:
        if j in raw_made:
            return raw_made[j]
        sup = j % s.suppliers
        ident = intern(f"{DL}/01/{s.raw_gtin[sup]}/10/R{j}")
        org = s.org(1, sup)
        q = [("class", ident, 2000.0, "KGM")]
        w.add(when - 3 * minute, "commissioning", "ObjectEvent", org, action="ADD",
              at=s.loc[1][sup], epcs=q)
        w.add(when - 2 * minute, "shipping", "ObjectEvent", org, at=s.loc[1][sup], epcs=q,
              src=s.party[1][sup], dst=s.party[2][maker], to=s.loc[2][maker])
        w.add(when - minute, "receiving", "ObjectEvent", s.org(2, maker), at=s.loc[2][maker],
              epcs=q, src=s.party[1][sup], dst=s.party[2][maker])
        if edges:
            edges.where(ident, s.loc[2][maker], "shipped_to", 2000.0, "KGM")
        raw_made[j] = ident
        return ident

    def ship(when, ident, qty, uom, src_tier, src, dst_tier, dst, *, epc_role="class"):
        q = [(epc_role, ident, qty, uom)]
        w.add(when, "shipping", "ObjectEvent", s.org(src_tier, src),
              at=s.loc[src_tier][src], epcs=q, src=s.party[src_tier][src],
              dst=s.party[dst_tier][dst], to=s.loc[dst_tier][dst])
        w.add(when + 60 * minute, "receiving", "ObjectEvent", s.org(dst_tier, dst),
              at=s.loc[dst_tier][dst], epcs=q, src=s.party[src_tier][src],
              dst=s.party[dst_tier][dst])
        if edges:
            edges.where(ident, s.loc[dst_tier][dst], "received", qty, uom)

    def contractor(when, batch, b, d, k, qty, lengths, sites):
        ship(when, batch, qty, "MTR", 3, d, 4, k)
        cut = qty / lengths
        outs = [intern(f"{batch}-{k}-{i}") for i in range(lengths)]
        w.add(when + 120 * minute, "creating_class_instance", "TransformationEvent",
              s.org(4, k), at=s.loc[4][k],
              epcs=[("class_input", batch, qty, "MTR")]
              + [("class_output", o, cut, "MTR") for o in outs])
        for i, o in enumerate(outs):
            site = sites[i]
            w.add(when + (180 + i) * minute, "installing", "ObjectEvent", s.org(4, k),
                  at=s.loc[5][site], epcs=[("class", o, cut, "MTR")])
            if edges:
                edges.link(batch, o, qty, "MTR")
                edges.where(o, s.loc[5][site], "installed", cut, "MTR")

    def maker_batch(b: int, when: dt.datetime, *, story: bool = False) -> str:
        group = b // 5
        maker = group % s.makers
        batch = intern(f"{DL}/01/{s.gtin[maker]}/10/L{b}")
        inputs = [raw_batch(2 * group, maker, when), raw_batch(2 * group + 1, maker, when)]
        w.add(when, "creating_class_instance", "TransformationEvent", s.org(2, maker),
              at=s.loc[2][maker],
              epcs=[("class_input", inputs[0], 500.0, "KGM"),
                    ("class_input", inputs[1], 300.0, "KGM"),
                    ("class_output", batch, 20000.0 if story else 1000.0, "MTR")])
        if edges:
            for i, amount in zip(inputs, (500.0, 300.0), strict=True):
                edges.link(i, batch, amount, "KGM")
        if story:
            per = s.story_lengths
            sites = list(range(s.sites))
            rng.shuffle(sites)
            dists = rng.sample(range(s.distributors), s.story_distributors)
            n = 0
            for d in dists:
                ship(when + 10 * minute, batch, 2.0 * per * s.story_contractors, "MTR", 2,
                     maker, 3, d)
                for k in rng.sample(range(s.contractors), s.story_contractors):
                    contractor(when + 20 * minute, batch, b, d, k, 2.0 * per, per,
                               sites[n:n + per])
                    n += per
            return batch
        pallet = intern(f"{DL}/00/" + (lambda body: body + check_digit(body))(
            f"0690{b:013d}"))
        w.add(when + minute, "packing", "AggregationEvent", s.org(2, maker), action="ADD",
              at=s.loc[2][maker], epcs=[("parent", pallet, None, ""),
                                        ("class_child", batch, 400.0, "MTR")])
        if edges:
            edges.link(batch, pallet, 400.0, "MTR")
        d0, d1 = rng.sample(range(s.distributors), 2)
        ship(when + 2 * minute, pallet, None, "", 2, maker, 3, d0, epc_role="epc")
        ship(when + 3 * minute, batch, 600.0, "MTR", 2, maker, 3, d1)
        for d in (d0, d1):
            for k in rng.sample(range(s.contractors), 3):
                contractor(when + 24 * 60 * minute, batch, b, d, k, 100.0, 2,
                           [rng.randrange(s.sites) for _ in range(2)])
        return batch

    story_at = s.batches // 2
    story = ""
    for b in range(s.batches):
        when = T0 + dt.timedelta(minutes=7 * b)
        if b == story_at:
            story = maker_batch(10_000_000 + b, when, story=True)
        batches.append(maker_batch(b, when))
    w.flush()
    return {"batches": batches, "story": story}


def places(conn, s: Shape) -> int:
    from zhijian.traceability.models import Place

    kinds = {1: "plant", 2: "plant", 3: "warehouse", 4: "warehouse", 5: "station"}
    lines, pk = [], 0
    now = T0.isoformat()
    for tier, idents in s.party.items():
        for i, ident in enumerate(idents):
            pk += 1
            lines.append(f"{pk}\t{ident}\tparty\tparty {tier}-{i}\t\\N\t\t\\N\t\\N\t\\N\tf\t\t{now}\n")
    for tier, idents in s.loc.items():
        for i, ident in enumerate(idents):
            pk += 1
            kind = ("station" if i % 2 else "building") if tier == 5 else kinds[tier]
            lines.append(f"{pk}\t{ident}\t{kind}\tplace {tier}-{i}\t\\N\t\t\\N\t\\N\t\\N\t"
                         f"{'t' if tier == 5 else 'f'}\t\t{now}\n")
    cols = ("id", "identifier", "kind", "name", "division_id", "address", "entity_id",
            "user_unit_id", "lab_id", "public", "org", "created_at")
    with conn.cursor() as cur, cur.copy(
            f"COPY {Place._meta.db_table} ({', '.join(cols)}) FROM STDIN") as copy:
        copy.write("".join(lines))
    conn.commit()
    return pk


TABLES = ("traceability_capture", "traceability_event", "traceability_eventkey",
          "traceability_eventepc", "traceability_eventsourcedest", "traceability_place")


def drop_indexes(conn) -> list[str]:
    """Drop the secondary indexes and unique constraints of the tables loaded; return the
    statements that rebuild them."""
    rebuild = []
    with conn.cursor() as cur:
        cur.execute("""
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c WHERE c.contype = 'u' AND c.conrelid::regclass::text = ANY(%s)
        """, [list(TABLES)])
        for table, name, definition in cur.fetchall():
            rebuild.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        cur.execute("""
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename = ANY(%s) AND i.indexname NOT LIKE '%%_pkey'
        """, [list(TABLES)])
        for name, definition in cur.fetchall():
            rebuild.append(definition)
            cur.execute(f'DROP INDEX "{name}"')
    conn.commit()
    return rebuild


def load(url: str, events: int, seed: int, with_graph: bool):
    import psycopg

    shape = Shape(events, seed)
    conn = psycopg.connect(url.replace("postgres://", "postgresql://", 1))
    with conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no FK triggers while loading
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '1GB'")
    rebuild = drop_indexes(conn)
    edges = Edges() if with_graph else None
    started = time.perf_counter()
    writer = Writer(conn, shape, edges)
    made = generate(writer, edges)
    place_count = places(conn, shape)
    copied = time.perf_counter() - started
    started = time.perf_counter()
    with conn.cursor() as cur:
        for statement in rebuild:
            cur.execute(statement)
        conn.commit()
        for table, seq_table in (("traceability_capture", writer.event // 1000 + 1),
                                 ("traceability_event", writer.event),
                                 ("traceability_eventkey", writer.event),
                                 ("traceability_eventepc", writer.epc),
                                 ("traceability_eventsourcedest", writer.sd),
                                 ("traceability_place", place_count)):
            cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                        [table, seq_table])
        conn.commit()
        cur.execute("SET session_replication_role = origin")
        conn.commit()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    indexed = time.perf_counter() - started
    conn.close()
    stats = {"events": writer.event, "epc_rows": writer.epc, "source_dest_rows": writer.sd,
             "places": place_count, "maker_batches": len(made["batches"]),
             "copy_s": round(copied, 1), "index_analyze_s": round(indexed, 1)}
    return made, edges, stats


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def baseline_trace(g, start: str):
    import networkx as nx

    back = nx.ancestors(g, start)
    fwd = nx.descendants(g, start)
    stops = [(u, v, d["quantity"], d["uom"]) for u, v, d in g.out_edges(fwd | {start}, data=True)
             if "how" in d]
    return back, fwd, stops


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/zhijian_bench",
                        help="PostgreSQL scratch database (its name is a prefix: <name>_trace)")
    parser.add_argument("-n", "--events", type=int, default=10_000_000)
    parser.add_argument("--traces", type=int, default=300, help="random batches to trace")
    parser.add_argument("--impacts", type=int, default=7, help="runs of the 10,000-site impact")
    parser.add_argument("--seed", type=int, default=20260722)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true",
                        help="trace an existing <name>_trace database (loaded with the same -n "
                             "and --seed); no baseline")
    parser.add_argument("--no-baseline", action="store_true", help="skip the networkx graph")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not common.is_postgres(args.database_url):
        parser.error("this benchmark needs PostgreSQL (--database-url postgres://...)")

    workdir = Path(tempfile.mkdtemp(prefix="zhijian-bench-trace-"))
    if args.reuse:
        _conn, base = common._pg_admin(args.database_url)
        urls = {"default": common._pg_url(args.database_url, f"{base}_trace")}
    else:
        urls = {"default": common.fresh_databases(args.database_url, ["trace"], workdir)["trace"]}
    common.setup_django(urls, workdir)
    print(f"machine: {common.machine_description()}")
    print(f"database: {common.database_description()}")

    with_graph = not (args.reuse or args.no_baseline)
    if args.reuse:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM traceability_event")
            stats = {"events": cur.fetchone()[0]}
            cur.execute("SELECT epc FROM traceability_eventepc WHERE role = 'class_output' "
                        "AND epc ~ '/10/L[0-9]{1,7}$' LIMIT 20000")
            made = {"batches": [r[0] for r in cur.fetchall()]}
            cur.execute("SELECT epc FROM traceability_eventepc WHERE role = 'class_output' "
                        "AND epc ~ '/10/L1[0-9]{7}$' LIMIT 1")
            made["story"] = cur.fetchone()[0]
        edges = None
    else:
        print(f"loading {args.events:,} events by COPY ...", flush=True)
        made, edges, stats = load(urls["default"], args.events, args.seed, with_graph)
        print(f"store: {json.dumps(stats)}", flush=True)

    from django.db import connection, reset_queries

    from zhijian.traceability import tracing

    # The set-up objects (the baseline's graph: millions) stay for the whole run, as a
    # server's start-up objects would: out of the garbage collector's sight, so that its
    # collections during the measured calls do not traverse them.
    gc.collect()
    gc.freeze()
    rng = random.Random(args.seed + 1)
    picks = [rng.choice(made["batches"]) for _ in range(args.traces)]
    for b in picks[:20]:  # warm-up: connection, plans, caches
        tracing.trace(start=[b])
    times, sizes = [], []
    for b in picks:
        started = time.perf_counter()
        result = tracing.trace(start=[b])
        times.append((time.perf_counter() - started) * 1000)
        sizes.append((len(result.nodes), len(result.steps), len(result.stops)))
    reset_queries()
    tracing.impact(start=[made["story"]])  # warm-up, as for the traces
    impact_times = []
    stops = []
    for _ in range(args.impacts):
        started = time.perf_counter()
        stops = tracing.impact(start=[made["story"]])
        impact_times.append(time.perf_counter() - started)
    installed = sum(1 for st in stops if st.kind == "installed")
    out = {
        "store": stats,
        "trace_ms": {"median": round(statistics.median(times), 2),
                     "p95": round(percentile(times, 0.95), 2), "max": round(max(times), 2),
                     "n": len(times)},
        "trace_size_median": {"nodes": statistics.median(s[0] for s in sizes),
                              "steps": statistics.median(s[1] for s in sizes),
                              "stops": statistics.median(s[2] for s in sizes)},
        "impact_s": {"median": round(statistics.median(impact_times), 3),
                     "max": round(max(impact_times), 3), "n": len(impact_times),
                     "stops": len(stops), "installed": installed},
    }
    print(f"trace (both ways) from {len(times)} random batches: median "
          f"{out['trace_ms']['median']} ms, p95 {out['trace_ms']['p95']} ms "
          f"(target <= {TARGET_TRACE_P95_MS} ms); median size {out['trace_size_median']}")
    print(f"impact of the story batch: median {out['impact_s']['median']} s, max "
          f"{out['impact_s']['max']} s over {len(impact_times)} runs, {len(stops)} stops, "
          f"{installed} installation sites (target <= {TARGET_IMPACT_S} s)")
    if edges is not None:
        g = edges.g
        base_times = []
        for b in picks:
            started = time.perf_counter()
            baseline_trace(g, b)
            base_times.append((time.perf_counter() - started) * 1000)
        base_impact = []
        for _ in range(args.impacts):
            started = time.perf_counter()
            _b, _f, st = baseline_trace(g, made["story"])
            base_impact.append(time.perf_counter() - started)
        out["baseline"] = {
            "graph": {"nodes": g.number_of_nodes(), "edges": g.number_of_edges()},
            "trace_ms": {"median": round(statistics.median(base_times), 3),
                         "p95": round(percentile(base_times, 0.95), 3)},
            "impact_s": {"median": round(statistics.median(base_impact), 4),
                         "stops": len(st)},
        }
        print(f"baseline networkx ({g.number_of_nodes():,} nodes, {g.number_of_edges():,} "
              f"edges in memory): trace median {out['baseline']['trace_ms']['median']} ms, p95 "
              f"{out['baseline']['trace_ms']['p95']} ms; impact median "
              f"{out['baseline']['impact_s']['median']} s")
        out["ratio_p95"] = round(out["trace_ms"]["p95"] / max(
            out["baseline"]["trace_ms"]["p95"], 1e-6), 1)
    if args.explain:
        from zhijian.traceability.tracing import (
            FRONTIER_SQL,
            LINKS_SQL,
            SOURCE_DEST_SQL,
            lateral,
        )

        with connection.cursor() as cur:
            cur.execute("SET jit = off")  # as tracing does, for its transaction
            for label, start in (("random batch", picks[0]), ("the story batch's lengths", "")):
                if start:
                    frontier = [start]
                else:
                    cur.execute("SELECT DISTINCT epc FROM traceability_eventepc WHERE epc LIKE %s",
                                [made["story"] + "-%"])
                    frontier = sorted(r[0] for r in cur.fetchall())
                print(f"-- plans for {label} ({len(frontier)} identifiers)")
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) "
                            + lateral(FRONTIER_SQL, "p.epc", "varchar"), [frontier])
                print("\n".join(r[0] for r in cur.fetchall()))
                cur.execute("SELECT event_id FROM traceability_eventepc WHERE epc = ANY(%s)",
                            [frontier])
                events = sorted({r[0] for r in cur.fetchall()})
                for sql, column in ((LINKS_SQL, "p.event_id"), (SOURCE_DEST_SQL, "s.event_id")):
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + lateral(sql, column, "bigint"),
                                [events])
                    print("\n".join(r[0] for r in cur.fetchall()))
    out["machine"] = common.machine_description()
    out["database"] = common.database_description()
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    if not (args.keep or args.reuse):
        from django.db import connections

        connections.close_all()
        common.drop_databases(args.database_url, urls)
    ok = (out["trace_ms"]["p95"] <= TARGET_TRACE_P95_MS
          and out["impact_s"]["max"] <= TARGET_IMPACT_S)
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
