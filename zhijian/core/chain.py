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
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

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


# --- the scan ------------------------------------------------------------------------------

# A fast row: (seq, body as UTF-8 bytes, prev_hash, hash, prefix_ok). prefix_ok says whether
# the body starts with exactly the canonical "entry" built from the row's own columns; the
# database computes it (SQL below) so that the columns need not cross into Python.
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
    fetch_full: Callable[[int], tuple] | None,
) -> Finding | None:
    """Check rows in seq order, continuing from `state`; return the first finding.

    `checkpoints` maps seq to the signed hash (None: the checkpoint's signature is bad).
    Without `fetch_full` (worker processes) a suspicious row is reported as a bare
    "suspect" finding and the caller re-scans sequentially to name the problem.
    """
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
                if fetch_full is None:
                    return Finding(seq if seq == expected else expected, "suspect")
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


# --- rows from the database ------------------------------------------------------------------

# prefix_ok in SQL: the body starts with the "entry" built from the row's own columns by
# plain concatenation, and no string column holds a backslash. That is exactly the
# canonical prefix whenever it matters: a value with a quote or a control character can
# never match (the canonical body holds those escaped, and a raw quote cannot line up with
# the fixed separators, whose keys each occur once), and a backslash -- the only way an
# escaped form could be spelled out in a column -- sends the row to the exact check in
# Python (check_columns), as does any mismatch. Plain concatenation is several times
# cheaper than JSON quoting in either database.
SQLITE_FAST = f"""
SELECT seq, CAST(body AS BLOB), prev_hash, hash,
  instr(action || actor || division || object_id || object_type || ts, '\\') = 0
  AND instr(body, '{{"entry":{{"action":"' || action || '","actor":"' || actor
    || '","actor_id":' || ifnull(actor_id, 'null') || ',"division":"' || division
    || '","object_id":"' || object_id || '","object_type":"' || object_type
    || '","seq":' || seq || ',"ts":"' || replace(ts, ' ', 'T') || 'Z"}},') = 1
FROM {TABLE} WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"""  # noqa: S608 (constants)

# ts: PostgreSQL's ISO text of the UTC time drops trailing zeros of the fraction, which
# Python's isoformat keeps (6 digits, or none when zero); rpad restores them.
POSTGRES_SELECT = f"""
SELECT e.seq, e.body, e.prev_hash, e.hash,
  strpos(e.action || e.actor || e.division || e.object_id || e.object_type, '\\') = 0
  AND starts_with(e.body, '{{"entry":{{"action":"' || e.action || '","actor":"' || e.actor
    || '","actor_id":' || coalesce(e.actor_id::text, 'null') || ',"division":"' || e.division
    || '","object_id":"' || e.object_id || '","object_type":"' || e.object_type
    || '","seq":' || e.seq::text || ',"ts":"'
    || replace(CASE WHEN length(t.v) = 19 THEN t.v ELSE rpad(t.v, 26, '0') END, ' ', 'T')
    || 'Z"}},')
  FROM {TABLE} e, LATERAL (SELECT (e.ts AT TIME ZONE 'UTC')::text AS v) t
  WHERE e.seq > %(after)d AND e.seq <= %(upto)d ORDER BY e.seq"""  # noqa: S608
POSTGRES_FAST = f"COPY ({POSTGRES_SELECT}) TO STDOUT (FORMAT BINARY)"
# The body is read as bytea: in binary COPY a text value is its UTF-8 bytes, exactly what
# is hashed, so neither side converts it.
POSTGRES_TYPES = ["int8", "bytea", "text", "text", "bool"]

FULL_SQL = f"SELECT {', '.join(FULL_COLUMNS)} FROM {TABLE} WHERE seq = "  # noqa: S608


def fast_rows(conn, vendor: str, after: int, upto: int) -> Iterator[FastRow]:
    """Rows with after < seq <= upto, in seq order, in constant memory.

    SQLite: keyset-paginated batches (each an index range scan). PostgreSQL: one binary
    COPY per 50,000 entries (an index range scan each), which streams -- the server
    computes the next rows while this process hashes -- with no round trip per batch."""
    if vendor == "sqlite":
        batch = 5000
        while True:
            rows = conn.execute(SQLITE_FAST, (after, upto, batch)).fetchall()
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1][0]
    else:
        import psycopg

        chunk = 50_000
        with psycopg.Cursor(conn) as cur:
            while after < upto:
                end = min(after + chunk, upto)
                with cur.copy(POSTGRES_FAST % {"after": after, "upto": end}) as copy:
                    copy.set_types(POSTGRES_TYPES)
                    yield from copy.rows()
                after = end


def fast_row(conn, vendor: str, after: int) -> FastRow | None:
    """The first fast row with seq > after, by a plain query."""
    if vendor == "sqlite":
        return conn.execute(SQLITE_FAST, (after, 2**62, 1)).fetchone()
    import psycopg

    with psycopg.Cursor(conn) as cur:
        cur.execute(POSTGRES_SELECT % {"after": after, "upto": 2**62} + " LIMIT 1",
                    binary=True)
        row = cur.fetchone()
    return None if row is None else (row[0], row[1].encode("utf-8"), *row[2:])


def scan_database(conn, vendor: str, state: ScanState, last: int,
                  checkpoints: dict[int, str | None]) -> Finding | None:
    """Check entries state.next_seq..last on one connection and name the first problem.

    A PostgreSQL COPY stream cannot be interrupted by other queries on its connection,
    so the scan stops at the first suspicious row, closes the stream, and looks at that
    row with plain queries: either it names the problem, or the quick check in SQL was
    merely conservative (a value with a backslash), and the scan goes on after it."""

    def fetch_full(seq):
        return full_row(conn, vendor, seq)

    while state.next_seq <= last:
        rows = fast_rows(conn, vendor, state.next_seq - 1, last)
        try:
            suspect = scan(rows, state, checkpoints, None)
        finally:
            rows.close()
        if suspect is None:
            return None
        row = fast_row(conn, vendor, state.next_seq - 1)
        if row is None:
            return None
        finding = scan([row], state, checkpoints, fetch_full)
        if finding is not None:
            return finding
    return None


def full_row(conn, vendor: str, seq: int) -> tuple | None:
    if vendor == "sqlite":
        return conn.execute(FULL_SQL + "?", (seq,)).fetchone()
    import psycopg

    with psycopg.Cursor(conn) as cur:
        cur.execute(FULL_SQL + "%s", (seq,))
        return cur.fetchone()


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
    lo: int
    hi: int
    ok: bool
    first_prev: str | None
    last_hash: str | None


def scan_range(spec: DbSpec, lo: int, hi: int, checkpoints: dict[int, str | None]) -> RangeResult:
    """Check entries lo..hi on a connection of this process's own (a worker's job).

    The range's first entry is taken to link to whatever its prev_hash says; the caller
    checks that against the previous range's last hash."""
    conn = spec.connect()
    try:
        rows = fast_rows(conn, spec.vendor, lo - 1, hi)
        first = next(rows, None)
        if first is None or first[0] != lo:
            return RangeResult(lo, hi, False, None, None)
        state = ScanState(next_seq=lo, prev=first[2])
        finding = scan(_chain_first(first, rows), state, checkpoints, None)
        rows.close()
        ok = finding is None and state.next_seq == hi + 1
        return RangeResult(lo, hi, ok, first[2], state.prev)
    finally:
        conn.close()


def _chain_first(first, rows):
    yield first
    yield from rows


def plan_ranges(last: int, workers: int) -> list[tuple[int, int]]:
    size = -(-last // workers)
    return [(lo, min(lo + size - 1, last)) for lo in range(1, last + 1, size)]


def scan_parallel(spec: DbSpec, last: int, workers: int,
                  checkpoints: dict[int, str | None]) -> int:
    """Check entries 1..last in `workers` processes. Returns the seq from which a
    sequential re-scan must start to name a problem, or 0 if everything checked out.

    The workers run this file as a plain script (`python -I chain.py`, which imports
    neither Django nor the rest of Zhijian, so they start fast) and get their job on
    stdin, so that a password in the connection string stays out of the process list.
    Unlike a multiprocessing pool they work from any parent -- a daemonic Celery worker,
    a script without a __main__ guard -- and share nothing with it."""
    import subprocess
    import sys
    import tempfile

    procs = []
    try:
        for lo, hi in plan_ranges(last, workers):
            job = {"vendor": spec.vendor, "target": spec.target, "lo": lo, "hi": hi,
                   "checkpoints": [[s, h] for s, h in checkpoints.items() if lo <= s <= hi]}
            err = tempfile.TemporaryFile("w+")
            proc = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
                [sys.executable, "-I", os.path.abspath(__file__)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=err, text=True)
            procs.append((proc, err))
            proc.stdin.write(json.dumps(job))
            proc.stdin.close()
        results = []
        for proc, err in procs:
            out = proc.stdout.read()
            if proc.wait() != 0:
                err.seek(0)
                raise RuntimeError(f"audit verification worker failed: {err.read()[-2000:]}")
            results.append(RangeResult(**json.loads(out)))
    finally:
        for proc, err in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            err.close()
    for i, r in enumerate(results):
        expected_prev = GENESIS if i == 0 else results[i - 1].last_hash
        if not r.ok or r.first_prev != expected_prev:
            return max(r.lo - 1, 1)
    return 0


def _worker_main() -> None:
    import sys
    from dataclasses import asdict

    job = json.loads(sys.stdin.read())
    result = scan_range(DbSpec(job["vendor"], job["target"]), job["lo"], job["hi"],
                        {s: h for s, h in job["checkpoints"]})
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
