"""The audit hash chain: its rule, and its verification over database rows.

No Django here, so that verification can run in plain worker processes and so that the
rule stays small enough to reimplement from docs/audit.md:

- The body of entry n is the RFC 8785 canonical JSON of
  {"entry": {action, actor, actor_id, division, object_id, object_type, seq, ts},
   "reason": ..., "request_id": ..., "state": {"before": ..., "after": ...}}.
  "entry" sorts first, so the copies of the indexed columns are a prefix of the body:
  `{"entry":` + canonical(entry) + `,`.
- hash_n = lowercase hex SHA-256 of the UTF-8 bytes of (hash_{n-1} + body_n), where
  hash_0 = 64 zeros; every row stores prev_hash = hash_{n-1} and its own hash.
- Sequence numbers start at 1 and have no gaps.

Verification needs no order-dependent state beyond "this row's prev_hash is the previous
row's hash", so disjoint seq ranges can be checked in parallel and joined at the seams.
It reads the rows in chunks (on PostgreSQL aggregated by the database into one row each),
checks each chunk fast, and checks a chunk row by row (the exact scan, which names the
problem) only where the fast check does not pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from hashlib import sha256
from itertools import repeat
from operator import methodcaller
from typing import NamedTuple

GENESIS = "0" * 64
ENTRY_KEYS = ("action", "actor", "actor_id", "division", "object_id", "object_type", "seq", "ts")
# The columns of a full row, in this order, wherever a full row is passed around.
FULL_COLUMNS = ("seq", "ts", "actor_id", "actor", "action", "object_type", "object_id",
                "division", "body", "prev_hash", "hash")
TABLE = "core_auditentry"
STATEMENT_PREFIX = "zhijian-audit-checkpoint:v1:"


def checkpoint_statement(seq, hash_) -> str:
    """The exact text that a checkpoint signs (UTF-8, no newline)."""
    return f"{STATEMENT_PREFIX}{seq}:{hash_}"


def chain_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def make_body(entry: dict, *, reason: str, request_id: str, before, after) -> str:
    from .canonical import canonical_text  # (here: worker processes run this file bare)

    return canonical_text(
        {"entry": entry, "reason": reason, "request_id": request_id,
         "state": {"after": after, "before": before}}
    )


def entry_prefix(entry: dict) -> str:
    from .canonical import canonical_text

    return '{"entry":' + canonical_text(entry) + ","


def ts_text(value) -> str:
    """The body's spelling of a stored timestamp: ISO 8601 in UTC with a Z."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # SQLite rows read without converters are naive UTC
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    text = str(value)
    if text.endswith("Z"):
        return text
    return text.replace(" ", "T") + "Z"  # SQLite's stored text, "YYYY-MM-DD HH:MM:SS[.ffffff]"


def entry_of(row: tuple) -> dict:
    """The "entry" object a full row's indexed columns stand for."""
    seq, ts, actor_id, actor, action, object_type, object_id, division = row[:8]
    return {"action": action, "actor": actor, "actor_id": actor_id, "division": division,
            "object_id": object_id, "object_type": object_type, "seq": seq, "ts": ts_text(ts)}


# --- findings ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """The first thing wrong with the log. `seq` is the first entry that is not as written.

    Codes: missing (an entry was removed), hash (an entry's content, link or hash was
    changed), reordered (an entry sits at another position than the one it was written
    at), column (an indexed column differs from the body), malformed (the body is not an
    audit body), link (the previous entry was rewritten after this one was appended, so
    the two no longer chain), checkpoint (a signed checkpoint names another hash),
    signature (a checkpoint's signature or statement is invalid), truncated (the log ends
    before a signed checkpoint or the chain head), head (the chain head disagrees).
    """

    seq: int
    code: str
    detail: dict = field(default_factory=dict)


def check_columns(row: tuple) -> Finding | None:
    """Compare a full row's indexed columns with the copies in its body."""
    seq = row[0]
    try:
        entry = json.loads(row[8])["entry"]
        assert isinstance(entry, dict)
    except (ValueError, KeyError, TypeError, AssertionError):
        return Finding(seq, "malformed")
    stored = entry_of(row)
    if entry.get("seq") != seq:
        return Finding(seq, "reordered", {"body_seq": entry.get("seq")})
    for key in ENTRY_KEYS:
        if key not in entry or entry[key] != stored[key] or type(entry[key]) is not type(stored[key]):
            return Finding(seq, "column", {"column": key, "stored": stored[key],
                                           "body": entry.get(key)})
    if set(entry) != set(ENTRY_KEYS):
        return Finding(seq, "malformed")
    return None


# --- the exact scan, row by row ----------------------------------------------------------------

# A row as the exact scan takes it: (seq, body as UTF-8 bytes, prev_hash, hash, prefix_ok),
# where prefix_ok says whether the body starts with exactly the canonical "entry" of the
# row's own columns (fast_from_full).
FastRow = tuple[int, bytes, str, str, bool]


@dataclass
class ScanState:
    next_seq: int = 1          # the seq the next row must have
    prev: str = GENESIS        # the hash the next row must link to
    checked: int = 0


def scan(
    rows: Iterable[FastRow],
    state: ScanState,
    checkpoints: dict[int, str | None],
    fetch_full: Callable[[int], tuple],
) -> Finding | None:
    """Check rows in seq order, continuing from `state`; return the first finding.

    `checkpoints` maps seq to the signed hash (None: the checkpoint's signature is bad);
    `fetch_full` gives the full row of a seq, to name what is wrong with a column."""
    sha = hashlib.sha256
    expected, prev = state.next_seq, state.prev
    cps = sorted(s for s in checkpoints if s >= expected)
    cp_i, next_cp = 0, (cps[0] if cps else -1)
    try:
        for seq, body, prev_hash, digest, prefix_ok in rows:
            if (
                seq != expected
                or prev_hash != prev
                or not prefix_ok
                or sha(prev_hash.encode() + body).hexdigest() != digest
            ):
                finding = _diagnose(seq, expected, prev, body, prev_hash, digest, prefix_ok,
                                    fetch_full)
                if finding is not None:
                    return finding
            if seq == next_cp:
                signed = checkpoints[seq]
                if signed is None:
                    return Finding(seq, "signature")
                if signed != digest:
                    return Finding(seq, "checkpoint", {"signed": signed, "stored": digest})
                cp_i += 1
                next_cp = cps[cp_i] if cp_i < len(cps) else -1
            prev = digest
            expected += 1
    finally:
        state.checked += expected - state.next_seq
        state.next_seq, state.prev = expected, prev
    return None


def _diagnose(seq, expected, prev, body, prev_hash, digest, prefix_ok, fetch_full):
    if seq != expected:  # rows come in seq order, so seq > expected: entries are gone
        return Finding(expected, "missing", {"next_present": seq})
    if hashlib.sha256(prev_hash.encode() + body).hexdigest() != digest:
        return Finding(seq, "hash")
    if not prefix_ok:
        finding = check_columns(fetch_full(seq))
        if finding is not None:
            return finding
    if prev_hash != prev:
        # This entry is intact on its own, so what changed is the entry before it: it no
        # longer has the hash this entry recorded when it was appended.
        return Finding(max(seq - 1, 1), "link", {"entry": seq})
    return None


# --- chunks: the fast check --------------------------------------------------------------------

# Entries are checked CHUNK at a time. A chunk that passes every check is done with; one
# that does not is read again and checked row by row (scan_exact), which names the problem.
#
# PostgreSQL aggregates a chunk into one row (AggChunk): each column's values joined by
# SEP, and the hashed texts (prev_hash ‖ body) joined by a newline, so that Python checks
# the chunk with a few calls that each run over all of its entries in C (split, map, join,
# compare) and does little more per entry than the SHA-256 itself. A separator inside a
# value (never in a valid row: canonical JSON escapes control characters) changes the
# count of pieces, so such a chunk is simply checked row by row.
#
# SQLite runs in this process, where handing over a row costs little, so it gives the rows
# themselves (RowChunk) and computes the column check in SQL; measured, that is faster
# there than aggregating (docs/benchmarks.md, "Audit verification").
CHUNK = 500
SEP = "\x1f"


class AggChunk(NamedTuple):
    """Entries lo .. lo + n - 1 as the database aggregated them, in seq order."""

    lo: int                 # the first seq asked for
    n: int                  # rows found
    seqs: str | None        # "lo,lo+1,..."
    actor_ids: str | None   # decimal, or "null"
    actions: str | None
    actors: str | None
    divisions: str | None
    object_ids: str | None
    object_types: str | None
    tss: str | None         # "YYYY-MM-DD HH:MM:SS[.ffffff]", UTC
    prev_hashes: str | None
    hashes: str | None
    texts: bytes | None     # prev_hash ‖ body of each row, UTF-8, joined by b"\n"


class RowChunk(NamedTuple):
    """The rows of entries lo .. lo + len(rows) - 1, each with its column check done in
    SQL (FastRow)."""

    lo: int
    rows: list

    @property
    def n(self) -> int:
        return len(self.rows)


# The pieces of the canonical "entry" prefix around the eight values, and a NUL after each
# entry's prefix to split them apart (no database text holds a NUL).
_PREFIX_PARTS = ('{"entry":{"action":"', '","actor":"', '","actor_id":', ',"division":"',
                 '","object_id":"', '","object_type":"', '","seq":', ',"ts":"', 'Z"},\0')
_hexdigest = methodcaller("hexdigest")


def prefix_flags(c: AggChunk, texts: list[bytes],
                 seqs: list[str] | None = None) -> list[bool] | None:
    """For each entry of the chunk: does its body start with exactly the canonical entry
    prefix built from the row's own columns by plain concatenation, and do its string
    columns hold no backslash? (See SQLITE_FAST for why that test is exact where it
    passes.) None if the column values cannot be split apart."""
    n, sep = c.n, SEP
    strings = (c.actions, c.actors, c.divisions, c.object_ids, c.object_types, c.tss)
    columns = [c.actions.split(sep), c.actors.split(sep), c.actor_ids.split(sep),
               c.divisions.split(sep), c.object_ids.split(sep), c.object_types.split(sep),
               seqs or list(map(str, range(c.lo, c.lo + n))), c.tss.replace(" ", "T").split(sep)]
    if any(len(values) != n for values in columns):
        return None
    parts = []
    for part, values in zip(_PREFIX_PARTS[:-1], columns, strict=True):
        parts += (repeat(part), values)
    parts.append(repeat(_PREFIX_PARTS[-1]))
    rows = zip(*parts, strict=False)  # the repeats are endless; the columns have n values
    prefixes = "".join(itertools.chain.from_iterable(rows)).encode().split(b"\0")
    if len(prefixes) != n + 1:
        return None
    flags = list(map(bytes.startswith, texts, prefixes, repeat(64)))
    if any("\\" in s for s in strings):
        action, actor, _, division, object_id, object_type, _, ts = columns
        for k in range(n):
            if "\\" in (action[k] + actor[k] + division[k] + object_id[k] + object_type[k]
                        + ts[k]):
                flags[k] = False
    return flags


def check_chunk(c: AggChunk | RowChunk, size: int, prev: str,
                checkpoints: dict[int, str | None], cp_seqs: list[int]) -> str | None:
    """Check the `size` entries of chunk c, which must link to `prev`; return the hash of
    its last entry if every check passes, or None if any does not (or cannot be decided
    here): the caller then checks the chunk row by row and names the problem.

    The checks are those of the exact scan: the seqs are exactly lo..lo+size-1 in this
    order; each SHA-256(prev_hash ‖ body) is the entry's hash; each prev_hash is the
    previous hash; each body starts with the canonical entry prefix of the row's columns;
    and each checkpoint in the chunk signs its entry's hash."""
    lo = c.lo
    if isinstance(c, RowChunk):  # SQLite: the column check was done in SQL
        rows = c.rows
        if len(rows) != size:
            return None
        sha, expected = sha256, lo
        for seq, body, prev_hash, digest, prefix_ok in rows:
            if (seq != expected or prev_hash != prev or not prefix_ok
                    or sha(prev_hash.encode() + body).hexdigest() != digest):
                return None
            prev = digest
            expected += 1
        for s in _checkpoints_in(cp_seqs, lo, size):
            if checkpoints[s] != rows[s - lo][3]:
                return None
        return prev
    n = c.n
    if n != size:
        return None
    texts = c.texts.split(b"\n")
    seqs = list(map(str, range(lo, lo + n)))
    if len(texts) != n or c.seqs != ",".join(seqs):
        return None
    # With a separator between the values, equal joined lists mean equal values.
    joined = SEP.join(map(_hexdigest, map(sha256, texts)))
    if c.hashes != joined or c.prev_hashes != (prev + SEP + joined)[:-65]:
        return None
    flags = prefix_flags(c, texts, seqs)
    if flags is None or not all(flags):
        return None
    for s in _checkpoints_in(cp_seqs, lo, size):
        if checkpoints[s] != joined[(s - lo) * 65:(s - lo) * 65 + 64]:
            return None
    return joined[-64:]


def _checkpoints_in(cp_seqs: list[int], lo: int, size: int) -> list[int]:
    """The checkpoint seqs (sorted) among lo .. lo + size - 1."""
    return cp_seqs[bisect_left(cp_seqs, lo):bisect_left(cp_seqs, lo + size)]


def scan_chunks(chunks: Iterable[AggChunk | RowChunk], state: ScanState,
                checkpoints: dict[int, str | None], last: int, size: int) -> bool:
    """Check chunks from state.next_seq on; True once every entry up to `last` passed,
    False at the first chunk that did not (state is then at that chunk's start)."""
    cp_seqs = sorted(checkpoints)
    for c in chunks:
        lo = state.next_seq
        want = min(size, last - lo + 1)
        digest = check_chunk(c, want, state.prev, checkpoints, cp_seqs) if c.lo == lo else None
        if digest is None:
            return False
        state.next_seq, state.prev = lo + want, digest
        state.checked += want
    return state.next_seq > last


# --- chunks from the database ------------------------------------------------------------------

# prefix_ok in SQL: the body starts with the "entry" built from the row's own columns by
# plain concatenation, and no string column holds a backslash. That is exactly the
# canonical prefix whenever it matters: a value with a quote or a control character can
# never match (the canonical body holds those escaped, and a raw quote cannot line up with
# the fixed separators, whose keys each occur once), and a backslash -- the only way an
# escaped form could be spelled out in a column -- sends the chunk to the row-by-row check
# (scan_exact, where check_columns compares each value exactly), as does any mismatch.
# Plain concatenation is several times cheaper than JSON quoting. PostgreSQL builds the
# same prefix in Python (prefix_flags).
SQLITE_FAST = f"""
SELECT seq, CAST(body AS BLOB), prev_hash, hash,
  instr(action || actor || division || object_id || object_type || ts, '\\') = 0
  AND instr(body, '{{"entry":{{"action":"' || action || '","actor":"' || actor
    || '","actor_id":' || ifnull(actor_id, 'null') || ',"division":"' || division
    || '","object_id":"' || object_id || '","object_type":"' || object_type
    || '","seq":' || seq || ',"ts":"' || replace(ts, ' ', 'T') || 'Z"}},') = 1
FROM {TABLE} WHERE seq >= ? AND seq <= ? ORDER BY seq"""  # noqa: S608

# One COPY streams the chunks of up to WINDOW entries, so that the server aggregates the
# next chunk while this process checks one, with no round trip per chunk. In binary COPY a
# text value is its UTF-8 bytes, so the hashed texts arrive with nothing converted. The
# rows of a chunk are aggregated in the order of the ordered subquery: PostgreSQL keeps it,
# though SQL does not promise it, and as the seqs are compared too, another order could
# only send the chunk to the row-by-row check. ts: the ISO text of the UTC time drops
# trailing zeros of the fraction, which Python's isoformat keeps (6 digits, or none when
# zero); rpad restores them, and where the fraction is zero the reader removes the seven
# zeros that rpad added (the only run of seven zeros such a text can hold).
POSTGRES_CHUNKS = f"""COPY (
SELECT c.lo, a.* FROM generate_series(%(first)d::int8, %(last)d::int8, %(size)d) AS c(lo)
CROSS JOIN LATERAL (
  SELECT count(*), string_agg(e.seq::text, ','),
    string_agg(coalesce(e.actor_id::text, 'null'), E'\\x1f'),
    string_agg(e.action, E'\\x1f'), string_agg(e.actor, E'\\x1f'),
    string_agg(e.division, E'\\x1f'), string_agg(e.object_id, E'\\x1f'),
    string_agg(e.object_type, E'\\x1f'),
    string_agg(rpad((e.ts AT TIME ZONE 'UTC')::text, 26, '0'), E'\\x1f'),
    string_agg(e.prev_hash, E'\\x1f'), string_agg(e.hash, E'\\x1f'),
    string_agg(e.prev_hash || e.body, E'\\n')
  FROM (SELECT * FROM {TABLE} e WHERE e.seq >= c.lo AND e.seq < c.lo + %(size)d
        AND e.seq <= %(last)d ORDER BY e.seq LIMIT %(size)d) e
) a) TO STDOUT (FORMAT BINARY)"""  # noqa: S608
POSTGRES_TYPES = ["int8", "int8"] + ["text"] * 10 + ["bytea"]
WINDOW = 100_000

FULL_SQL = f"SELECT {', '.join(FULL_COLUMNS)} FROM {TABLE} WHERE seq = "  # noqa: S608
FULL_RANGE_SQL = (f"SELECT {', '.join(FULL_COLUMNS)} FROM {TABLE} "  # noqa: S608
                  "WHERE seq >= {p} AND seq <= {p} ORDER BY seq LIMIT {p}")


def fast_chunks(conn, vendor: str, first: int, last: int,
                size: int) -> Iterator[AggChunk | RowChunk]:
    """The chunks of entries first..last (the last one may be short), in order, in constant
    memory: SQLite one query per chunk (an index range scan each); PostgreSQL one binary
    COPY per WINDOW entries."""
    if vendor == "sqlite":
        while first <= last:
            end = min(first + size - 1, last)
            yield RowChunk(first, conn.execute(SQLITE_FAST, (first, end)).fetchall())
            first = end + 1
        return
    import psycopg

    window = max(WINDOW // size, 1) * size
    with psycopg.Cursor(conn) as cur:
        while first <= last:
            end = min(first + window - 1, last)
            with cur.copy(POSTGRES_CHUNKS % {"first": first, "last": end, "size": size}) as copy:
                copy.set_types(POSTGRES_TYPES)
                for row in copy.rows():
                    c = AggChunk._make(row)
                    yield c._replace(tss=c.tss.replace("0000000", "")) if c.tss else c
            first = end + 1


def full_row(conn, vendor: str, seq: int) -> tuple | None:
    if vendor == "sqlite":
        return conn.execute(FULL_SQL + "?", (seq,)).fetchone()
    import psycopg

    with psycopg.Cursor(conn) as cur:
        cur.execute(FULL_SQL + "%s", (seq,))
        return cur.fetchone()


def full_rows(conn, vendor: str, first: int, last: int, limit: int) -> list[tuple]:
    """Up to `limit` full rows with first <= seq <= last, in seq order."""
    if vendor == "sqlite":
        return conn.execute(FULL_RANGE_SQL.format(p="?"), (first, last, limit)).fetchall()
    import psycopg

    with psycopg.Cursor(conn) as cur:
        cur.execute(FULL_RANGE_SQL.format(p="%s"), (first, last, limit))
        return cur.fetchall()


def scan_exact(conn, vendor: str, state: ScanState, last: int,
               checkpoints: dict[int, str | None], size: int) -> Finding | None:
    """Check up to `size` entries from state.next_seq row by row, as verify_full_rows
    does, and name the first problem. Reading on past a gap shows where the log resumes."""
    rows = full_rows(conn, vendor, state.next_seq, last, size)
    by_seq = {r[0]: r for r in rows}
    return scan(map(fast_from_full, rows), state, checkpoints, by_seq.__getitem__)


def scan_database(conn, vendor: str, state: ScanState, last: int,
                  checkpoints: dict[int, str | None], size: int | None = None) -> Finding | None:
    """Check entries state.next_seq..last on one connection and name the first problem.

    Chunks are checked fast until one does not pass; that chunk is then read again row by
    row, which either names the problem or finds the chunk right after all (a column with
    a backslash, say), and the fast check goes on after it. (A PostgreSQL COPY stream
    cannot be interrupted by other queries on its connection, so it is closed first.)
    Stops early, with no finding, only if the rows up to `last` vanished meanwhile."""
    size = size or CHUNK
    while state.next_seq <= last:
        chunks = fast_chunks(conn, vendor, state.next_seq, last, size)
        try:
            if scan_chunks(chunks, state, checkpoints, last, size):
                return None
        finally:
            chunks.close()
        start = state.next_seq
        finding = scan_exact(conn, vendor, state, last, checkpoints, size)
        if finding is not None or state.next_seq == start:
            return finding
    return None


# --- parallel scan of seq ranges ---------------------------------------------------------------

@dataclass(frozen=True)
class DbSpec:
    """How a worker process opens its own connection: vendor and a path or conninfo."""

    vendor: str
    target: str

    def connect(self):
        if self.vendor == "sqlite":
            import sqlite3

            return sqlite3.connect(f"file:{self.target}?mode=ro", uri=True, timeout=30,
                                   check_same_thread=False)
        import psycopg

        return psycopg.connect(self.target, autocommit=False)


@dataclass(frozen=True)
class RangeResult:
    """What a worker found in entries lo..hi: they chain from first_prev (the prev_hash of
    entry lo, taken as written), and every check passed up to entry next_seq - 1, whose
    hash is last_hash; ok means up to hi."""

    lo: int
    hi: int
    ok: bool
    first_prev: str | None
    last_hash: str | None
    next_seq: int


def scan_range(spec: DbSpec, lo: int, hi: int, checkpoints: dict[int, str | None],
               size: int = CHUNK) -> RangeResult:
    """Check entries lo..hi on a connection of this process's own (a worker's job).

    The range's first entry is taken to link to whatever its prev_hash says; the caller
    checks that against the previous range's last hash."""
    conn = spec.connect()
    try:
        chunks = fast_chunks(conn, spec.vendor, lo, hi, size)
        first = next(chunks)
        if isinstance(first, RowChunk):
            first_prev = first.rows[0][2] if first.rows else ""
        else:
            first_prev = (first.prev_hashes or "").partition(SEP)[0]
        state = ScanState(next_seq=lo, prev=first_prev)
        ok = scan_chunks(itertools.chain([first], chunks), state, checkpoints, hi, size)
        chunks.close()
        return RangeResult(lo, hi, ok, first_prev, state.prev, state.next_seq)
    finally:
        conn.close()


def plan_ranges(last: int, workers: int) -> list[tuple[int, int]]:
    size = -(-last // workers)
    return [(lo, min(lo + size - 1, last)) for lo in range(1, last + 1, size)]


class WorkerPool:
    """Worker processes for scan_parallel, started ahead of their jobs so that their
    start-up (an interpreter, and psycopg) overlaps with the parent's own reading.

    The workers run this file as a plain script (`python -I chain.py`, which imports
    neither Django nor the rest of Zhijian, so they start fast) and get their job on
    stdin, so that a password in the connection string stays out of the process list.
    Unlike a multiprocessing pool they work from any parent -- a daemonic Celery worker,
    a script without a __main__ guard -- and share nothing with it. A worker that gets
    no job (its stdin is closed empty) exits at once."""

    def __init__(self, vendor: str, size: int):
        import subprocess
        import sys
        import tempfile

        self.procs = []
        try:
            for _ in range(size):
                err = tempfile.TemporaryFile("w+")
                proc = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
                    [sys.executable, "-I", os.path.abspath(__file__), vendor],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True)
                self.procs.append((proc, err))
        except BaseException:
            self.close()
            raise

    def __len__(self) -> int:
        return len(self.procs)

    def run(self, jobs: list[dict]) -> list[RangeResult]:
        """Give each worker its job (workers beyond the jobs get none), and collect the
        results in the order of the jobs."""
        for i, (proc, _) in enumerate(self.procs):
            if i < len(jobs):
                proc.stdin.write(json.dumps(jobs[i]))
            proc.stdin.close()
        results = []
        for proc, err in self.procs[:len(jobs)]:
            out = proc.stdout.read()
            if proc.wait() != 0:
                err.seek(0)
                raise RuntimeError(f"audit verification worker failed: {err.read()[-2000:]}")
            results.append(RangeResult(**json.loads(out)))
        return results

    def close(self) -> None:
        for proc, err in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe and not pipe.closed:
                    pipe.close()
            err.close()
        self.procs = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def scan_parallel(spec: DbSpec, last: int, workers: int, checkpoints: dict[int, str | None],
                  pool: WorkerPool | None = None) -> ScanState:
    """Check entries 1..last in `workers` processes (those of `pool`, if given: it is
    used up). Returns the state after the entries that checked out from the start:
    next_seq is last + 1 if all did, else where a sequential scan must go on to name the
    first problem (the first chunk that did not pass, or the start of a range whose
    first entry does not link to the end of the range before it)."""
    with pool or WorkerPool(spec.vendor, workers) as pool:
        jobs = [{"vendor": spec.vendor, "target": spec.target, "lo": lo, "hi": hi,
                 "size": CHUNK,
                 "checkpoints": [[s, h] for s, h in checkpoints.items() if lo <= s <= hi]}
                for lo, hi in plan_ranges(last, len(pool))]
        results = pool.run(jobs)
    prev = GENESIS
    for r in results:
        if r.next_seq == r.lo or r.first_prev != prev:  # nothing checked, or the seam broke
            return ScanState(next_seq=r.lo, prev=prev, checked=r.lo - 1)
        if not r.ok:
            return ScanState(next_seq=r.next_seq, prev=r.last_hash, checked=r.next_seq - 1)
        prev = r.last_hash
    return ScanState(next_seq=last + 1, prev=prev, checked=last)


def _worker_main() -> None:
    import sys
    from dataclasses import asdict

    if sys.argv[1:] == ["postgresql"]:
        import psycopg  # noqa: F401 (loaded while the parent gets the job ready)
    data = sys.stdin.read()
    if not data:
        return
    job = json.loads(data)
    result = scan_range(DbSpec(job["vendor"], job["target"]), job["lo"], job["hi"],
                        {s: h for s, h in job["checkpoints"]}, job["size"])
    sys.stdout.write(json.dumps(asdict(result)))


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


# --- verification of rows held in memory (tests, outside tools) ---------------------------------

def fast_from_full(row: tuple) -> FastRow:
    body = row[8]
    return (row[0], body.encode("utf-8"), row[9], row[10],
            body.startswith(entry_prefix(entry_of(row))))


def verify_full_rows(
    rows: list[tuple], checkpoints: dict[int, str | None] | None = None,
    head: tuple[int, str] | None = None,
) -> tuple[Finding | None, int]:
    """Verify full rows (FULL_COLUMNS order, any order of rows as stored by seq).

    The same checks as the database path, for a log held in memory: returns the first
    finding (or None) and the number of entries checked."""
    rows = sorted(rows, key=lambda r: r[0])
    checkpoints = checkpoints or {}
    by_seq = {r[0]: r for r in rows}
    if rows and rows[0][0] < 1:
        return Finding(rows[0][0], "outside"), 0
    state = ScanState()
    finding = scan((fast_from_full(r) for r in rows), state, checkpoints, by_seq.__getitem__)
    if finding is None:
        finding = tail_finding(state.next_seq - 1, checkpoints, head,
                               by_seq[head[0]][10] if head and head[0] in by_seq else None)
    return finding, state.checked


def tail_finding(last: int, checkpoints: dict[int, str | None], head: tuple[int, str] | None,
                 hash_at_head: str | None) -> Finding | None:
    """What the end of the log must satisfy: no valid checkpoint and no chain head beyond
    it, and the head's hash is the hash of the entry it points at."""
    beyond = [s for s, h in checkpoints.items() if s > last and h is not None]
    if beyond:
        return Finding(last + 1, "truncated", {"last": last, "until": max(beyond),
                                               "by": "checkpoint"})
    if head is not None and head[0] > last:
        return Finding(last + 1, "truncated", {"last": last, "until": head[0], "by": "head"})
    forged = [s for s, h in checkpoints.items() if s > last and h is None]
    if forged:
        return Finding(min(forged), "signature")
    if head is not None and head[0] and hash_at_head != head[1]:
        return Finding(head[0], "head")
    return None


if __name__ == "__main__":
    _worker_main()
