"""The tamper-evident audit log (全程留痕): append, history, checkpoints, verification.

The chain rule lives in `chain` (no Django) and in docs/audit.md. Appends are serialised
by a lock on the single AuditHead row (PostgreSQL: SELECT ... FOR UPDATE; SQLite: every
write transaction is BEGIN IMMEDIATE), so seq has no gaps and each entry links to the one
committed before it. Checkpoints sign "zhijian-audit-checkpoint:v1:<seq>:<hash>" with the
platform's Ed25519 audit key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from . import chain, signing
from .canonical import to_jsonable
from .chain import GENESIS, checkpoint_statement  # noqa: F401  (re-exported)
from .middleware import current_request_id
from .models import AuditCheckpoint, AuditEntry, AuditHead, PublicKey

log = logging.getLogger(__name__)
chain_hash = chain.chain_hash


def actor_fields(actor) -> tuple[int | None, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, "system" if actor is None else "anonymous"
    return actor.pk, actor.get_username()


def snapshot(instance, fields: Iterable[str] | None = None) -> dict:
    """A JSON-ready copy of a model instance's concrete fields (and M2M ids)."""
    data = {}
    opts = instance._meta
    for f in opts.concrete_fields:
        if fields is not None and f.name not in fields:
            continue
        value = f.value_from_object(instance)
        if isinstance(value, FieldFile):  # a stored file is audited by its name
            value = value.name or ""
        data[f.attname] = to_jsonable(value)
    if instance.pk is not None:
        for f in opts.many_to_many:
            if fields is not None and f.name not in fields:
                continue
            data[f.name] = sorted(
                str(pk) for pk in getattr(instance, f.name).values_list("pk", flat=True)
            )
    return data


@dataclass(frozen=True)
class Change:
    """One audited change, before it is given its place in the chain."""

    action: str
    object_type: str
    object_id: str
    before: dict | None
    after: dict | None
    reason: str = ""
    division: str = ""


def _lock_head() -> AuditHead:
    """Lock the chain head for the rest of the transaction.

    Migration 0004 creates the row; if it is missing anyway (a flushed test database),
    it is rebuilt from the last entry, and a concurrent rebuild loses on the primary key.
    """
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, digest = last or (0, GENESIS)
    try:
        with transaction.atomic():
            AuditHead.objects.create(pk=1, seq=seq, hash=digest)
    except IntegrityError:
        pass
    return AuditHead.objects.select_for_update().get(pk=1)


def append_many(changes: list[Change], *, actor) -> list[AuditEntry]:
    """Append entries in order, in the caller's transaction (one lock for the batch)."""
    if not changes:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Audit entries must be written inside the change's transaction.")
    actor_id, actor_name = actor_fields(actor)
    request_id = current_request_id()
    head = _lock_head()
    now = timezone.now()
    ts = chain.ts_text(now)
    stored_ts = AuditEntry._meta.get_field("ts").get_db_prep_save(now, connection)
    seq, prev = head.seq, head.hash
    rows = []
    for change in changes:
        seq += 1
        object_id = str(change.object_id)
        body = chain.make_body(
            {"action": change.action, "actor": actor_name, "actor_id": actor_id,
             "division": change.division, "object_id": object_id,
             "object_type": change.object_type, "seq": seq, "ts": ts},
            reason=change.reason, request_id=request_id,
            before=change.before, after=change.after,
        )
        digest = chain.chain_hash(prev, body)
        rows.append((seq, stored_ts, actor_id, actor_name, change.action, change.object_type,
                     object_id, change.division, body, prev, digest))
        prev = digest
    _insert(rows)
    AuditHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    every = _checkpoint_every()
    if every and seq // every > head.seq // every:
        # Signed after commit: a checkpoint must never name entries that roll back, and
        # a missing key or a slow disk must not fail the regulated write itself.
        # (robust: a failure is logged; the next checkpoint covers these entries too.)
        transaction.on_commit(lambda: checkpoint_create(seq=seq, hash_=prev), robust=True)
    db = connection.alias
    return [AuditEntry.from_db(db, chain.FULL_COLUMNS, (r[0], now, *r[2:])) for r in rows]


_INSERT = (f"INSERT INTO {chain.TABLE} ({', '.join(chain.FULL_COLUMNS)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(chain.FULL_COLUMNS))})")


def _insert(rows: list[tuple]) -> None:
    """Insert full rows (chain.FULL_COLUMNS order).

    Not bulk_create: on PostgreSQL, Django 5.2 sends a bulk insert as one array per column
    (INSERT ... SELECT * FROM UNNEST(...)), and psycopg, binding on the client, quotes
    every array element in Python with one regular-expression substitution per double
    quote in it. Audit bodies are JSON, full of double quotes: that quoting was most of the
    cost of an import. Here each value is quoted in C, and psycopg sends the rows in one
    pipeline (SQLite: one executemany loop in C)."""
    with connection.cursor() as cursor:
        cursor.executemany(_INSERT, rows)


def append(change: Change, *, actor) -> AuditEntry:
    return append_many([change], actor=actor)[0]


def record(instance, *, action: str, actor, before: dict | None, reason: str = "",
           division: str = "") -> AuditEntry:
    """Audit one change to a model instance; `after` is taken from the saved instance."""
    after = None if action.endswith(".deleted") else snapshot(instance)
    return append(
        Change(
            action=action,
            object_type=instance._meta.label_lower,
            object_id=str(instance.pk),
            before=before,
            after=after,
            reason=reason,
            division=division,
        ),
        actor=actor,
    )


def _checkpoint_every() -> int:
    from django.conf import settings

    return settings.ZHIJIAN_AUDIT_CHECKPOINT_EVERY


def checkpoint_create(*, seq: int | None = None, hash_: str | None = None) -> AuditCheckpoint | None:
    """Sign the chain head now (or a given committed position) and store the checkpoint.

    The hash signed is the one stored on the entry itself, so a checkpoint can only
    vouch for an entry that exists; a position whose hash differs is refused."""
    if seq is None:
        head = AuditHead.objects.filter(pk=1).first()
        if head is None or head.seq == 0:
            return None
        seq, hash_ = head.seq, head.hash
    stored = AuditEntry.objects.filter(seq=seq).values_list("hash", flat=True).first()
    if stored is None or (hash_ is not None and stored != hash_):
        raise ValueError(f"cannot sign entry {seq}: it is not in the log with that hash")
    existing = AuditCheckpoint.objects.filter(seq=seq).first()
    if existing:
        return existing
    statement = checkpoint_statement(seq, stored)
    key = signing.audit_key()
    try:
        with transaction.atomic():
            return AuditCheckpoint.objects.create(
                seq=seq, hash=stored, ts=timezone.now(), key_id=key.key_id,
                statement=statement, signature=key.sign(statement.encode()).hex(),
            )
    except IntegrityError:  # signed concurrently by another process
        return AuditCheckpoint.objects.get(seq=seq)


def history(object_type: str, object_id) -> list[dict]:
    """The audit trail of one record, oldest first: seq, ts, actor_id, actor, action,
    object_type, object_id, division, before, after, reason, request_id and hash."""
    rows = AuditEntry.objects.filter(object_type=object_type, object_id=str(object_id))
    return [parse_body(e.body) | {"hash": e.hash} for e in rows.order_by("seq")]


def parse_body(body: str) -> dict:
    data = json.loads(body)
    return data["entry"] | {
        "before": data["state"]["before"], "after": data["state"]["after"],
        "reason": data["reason"], "request_id": data["request_id"],
    }


# --- verification -------------------------------------------------------------------------

@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""
    code: str = ""
    checkpoints: int = 0
    head_seq: int = 0
    head_hash: str = ""


def describe(finding: chain.Finding) -> str:
    """The finding in words, in the active language."""
    d = finding.detail | {"seq": finding.seq}
    code = finding.code
    if code == "missing":
        return _("Entry %(seq)s is missing: the log jumps to entry %(next_present)s. "
                 "Entries were removed.") % d
    if code == "hash":
        return _("Entry %(seq)s was altered: its content no longer matches its hash.") % d
    if code == "reordered":
        return _("Entry %(seq)s is out of place: it was written as entry %(body_seq)s. "
                 "Entries were reordered.") % d
    if code == "column":
        return _("Entry %(seq)s was altered: its column “%(column)s” is %(stored)s but the "
                 "hashed body says %(body)s.") % {
                     **d, "stored": json.dumps(d["stored"], ensure_ascii=False),
                     "body": json.dumps(d["body"], ensure_ascii=False)}
    if code == "malformed":
        return _("Entry %(seq)s was altered: its body is not an audit entry.") % d
    if code == "link":
        return _("Entry %(seq)s was altered: its hash is no longer the one that entry "
                 "%(entry)s recorded for it.") % d
    if code == "checkpoint":
        return _("Entry %(seq)s differs from the signed checkpoint at that position: the "
                 "log was rewritten up to here.") % d
    if code == "signature":
        return _("The checkpoint at entry %(seq)s has an invalid signature or statement.") % d
    if code == "truncated":
        what = _("a signed checkpoint") if d["by"] == "checkpoint" else _("the chain head")
        return _("The log ends after entry %(last)s but %(what)s covers entry %(until)s: "
                 "entries from %(seq)s on were removed.") % (d | {"what": what})
    if code == "head":
        return _("The chain head does not match entry %(seq)s.") % d
    if code == "outside":
        return _("Entry %(seq)s lies outside the chain, which starts at entry 1.") % d
    return _("Entry %(seq)s could not be verified.") % d


def checkpoints_checked(trusted_keys: dict[str, str] | None = None) -> dict[int, str | None]:
    """seq -> signed hash for every checkpoint, or None where the signature, the statement
    or the key id is not valid. By default the published keys are trusted; pass
    trusted_keys {key_id: public key hex} to accept only keys known from elsewhere."""
    keys = trusted_keys if trusted_keys is not None else dict(
        PublicKey.objects.values_list("key_id", "public_key"))
    result: dict[int, str | None] = {}
    for cp in AuditCheckpoint.objects.all():
        pub = keys.get(cp.key_id)
        good = (
            pub is not None
            and _key_id_matches(cp.key_id, pub)
            and cp.statement == checkpoint_statement(cp.seq, cp.hash)
            and signing.verify_with_public(pub, cp.statement.encode(), cp.signature)
        )
        result[cp.seq] = cp.hash if good else None
    return result


def _key_id_matches(key_id: str, public_hex: str) -> bool:
    try:
        return signing.key_id_for(bytes.fromhex(public_hex)) == key_id
    except ValueError:
        return False


def _db_spec() -> chain.DbSpec | None:
    """How worker processes reach this database, or None if they cannot (in-memory
    SQLite) or must not (uncommitted rows of an open transaction)."""
    if connection.in_atomic_block:
        return None
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            return None
        return chain.DbSpec("sqlite", str(connection.settings_dict["NAME"]))
    if connection.vendor == "postgresql":
        from psycopg.conninfo import make_conninfo

        s = connection.settings_dict
        params = {"dbname": s["NAME"], "user": s["USER"], "password": s["PASSWORD"],
                  "host": s["HOST"], "port": s["PORT"]}
        params |= {k: v for k, v in s.get("OPTIONS", {}).items()
                   if isinstance(v, str | int) and not isinstance(v, bool)
                   and k not in {"server_side_binding", "isolation_level", "assume_role"}}
        return chain.DbSpec("postgresql", make_conninfo(
            **{k: str(v) for k, v in params.items() if v not in ("", None)}))
    return None


def verify(*, workers: int | None = None, parallel_min: int = 200_000,
           trusted_keys: dict[str, str] | None = None) -> VerifyResult:
    """Check the whole log: seq contiguity, every hash and link, the indexed columns
    against the bodies, every checkpoint's signature and hash, and the end of the log
    against the last checkpoint and the chain head. Names the first entry that is wrong.

    Logs of at least `parallel_min` entries are checked in `workers` processes (seq
    ranges joined at the seams); the first problem is then named by a sequential scan."""
    connection.ensure_connection()
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"audit verification does not support {vendor}")
    # Read the head and checkpoints before the rows: entries are only ever appended, so
    # the rows read afterwards include everything these refer to.
    head_row = AuditHead.objects.filter(pk=1).values_list("seq", "hash").first()
    head = tuple(head_row) if head_row else None
    workers = chain.default_workers() if workers is None else workers
    spec = _db_spec() if workers > 1 else None
    # A log that large will be checked by worker processes: start them now, so that they
    # start up while this process checks the checkpoint signatures.
    pool = None
    if spec is not None and head is not None and head[0] >= parallel_min:
        try:
            pool = chain.WorkerPool(spec.vendor, workers)
        except OSError:
            log.warning("audit: could not start verification workers", exc_info=True)
    try:
        return _verify(vendor, head, checkpoints_checked(trusted_keys), spec, workers,
                       parallel_min, pool)
    finally:
        if pool is not None:
            pool.close()


def _verify(vendor: str, head: tuple[int, str] | None, checkpoints: dict[int, str | None],
            spec: chain.DbSpec | None, workers: int, parallel_min: int,
            pool: chain.WorkerPool | None) -> VerifyResult:
    bounds = AuditEntry.objects.aggregate(lo=Min("seq"), last=Max("seq"))
    lo, last = bounds["lo"], bounds["last"]
    raw = connection.connection

    def result(finding: chain.Finding | None, checked: int) -> VerifyResult:
        common = {"checked": checked, "checkpoints": len(checkpoints),
                  "head_seq": head[0] if head else 0, "head_hash": head[1] if head else ""}
        if finding is None:
            return VerifyResult(True, **common)
        return VerifyResult(False, first_bad_seq=finding.seq, problem=describe(finding),
                            code=finding.code, **common)

    if lo is not None and lo < 1:
        return result(chain.Finding(lo, "outside"), 0)
    last = last or 0
    state = chain.ScanState()
    if spec is not None and last >= parallel_min:
        try:
            state = chain.scan_parallel(spec, last, workers, checkpoints, pool)
        except (OSError, RuntimeError, ValueError):
            log.warning("audit: parallel verification failed; checking sequentially",
                        exc_info=True)
            state = chain.ScanState()
    finding = None
    if state.next_seq <= last:
        finding = chain.scan_database(raw, vendor, state, last, checkpoints)
    if finding is None:
        end = state.next_seq - 1  # = last, unless rows vanished while they were read
        at_head = None
        if head and 0 < head[0] <= end:
            row = chain.full_row(raw, vendor, head[0])
            at_head = row[10] if row else None
        finding = chain.tail_finding(end, checkpoints, head, at_head)
    return result(finding, state.checked)
