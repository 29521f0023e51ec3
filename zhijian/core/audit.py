"""The tamper-evident audit log: append, verify, checkpoints.

Chain rule (docs/audit.md): entry n has body B_n, the RFC 8785 canonical JSON of
{seq, ts, actor_id, actor, action, object_type, object_id, division, before, after,
reason, request_id}; hash_n = hex(SHA-256(hash_{n-1} ‖ B_n)) over UTF-8 text, with
hash_0 = 64 zeros. Checkpoints sign "zhijian-audit-checkpoint:v1:<seq>:<hash>".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from . import signing
from .canonical import canonical_text, to_jsonable
from .middleware import current_request_id
from .models import AuditCheckpoint, AuditEntry, AuditHead

GENESIS = "0" * 64


def chain_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


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
        data[f.attname] = to_jsonable(f.value_from_object(instance))
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
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditHead.objects.get_or_create(pk=1)
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


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
    ts = to_jsonable(now)
    seq, prev = head.seq, head.hash
    entries = []
    for change in changes:
        seq += 1
        body = canonical_text(
            {
                "seq": seq,
                "ts": ts,
                "actor_id": actor_id,
                "actor": actor_name,
                "action": change.action,
                "object_type": change.object_type,
                "object_id": str(change.object_id),
                "division": change.division,
                "before": change.before,
                "after": change.after,
                "reason": change.reason,
                "request_id": request_id,
            }
        )
        digest = chain_hash(prev, body)
        entries.append(
            AuditEntry(
                seq=seq,
                ts=now,
                actor_id=actor_id,
                actor=actor_name,
                action=change.action,
                object_type=change.object_type,
                object_id=str(change.object_id),
                division=change.division,
                body=body,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    AuditEntry.objects.bulk_create(entries, batch_size=500)
    AuditHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    every = _checkpoint_every()
    if every and seq // every > head.seq // every:
        checkpoint_create(seq=seq, hash_=prev)
    return entries


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


def checkpoint_statement(seq: int, hash_: str) -> str:
    return f"zhijian-audit-checkpoint:v1:{seq}:{hash_}"


def checkpoint_create(*, seq: int | None = None, hash_: str | None = None) -> AuditCheckpoint | None:
    """Sign the chain head (or a given position) and store the checkpoint."""
    if seq is None:
        head = AuditHead.objects.filter(pk=1).first()
        if head is None or head.seq == 0:
            return None
        seq, hash_ = head.seq, head.hash
    existing = AuditCheckpoint.objects.filter(seq=seq).first()
    if existing:
        return existing
    statement = checkpoint_statement(seq, hash_)
    key = signing.audit_key()
    return AuditCheckpoint.objects.create(
        seq=seq,
        hash=hash_,
        ts=timezone.now(),
        key_id=key.key_id,
        statement=statement,
        signature=key.sign(statement.encode()).hex(),
    )


def history(object_type: str, object_id) -> list[dict]:
    """The audit trail of one record, oldest first, as parsed bodies."""
    rows = AuditEntry.objects.filter(object_type=object_type, object_id=str(object_id))
    return [json.loads(e.body) | {"hash": e.hash} for e in rows.order_by("seq")]


# --- verification -------------------------------------------------------------------------

@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def iter_rows(batch: int = 20000) -> Iterator[tuple]:
    """Stream (seq, body, prev_hash, hash, object_type, object_id, action) in seq order."""
    # The table name is a constant of the model, not input.
    sql = (
        "SELECT seq, body, prev_hash, hash, object_type, object_id, action "  # noqa: S608
        f"FROM {AuditEntry._meta.db_table} ORDER BY seq"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield from rows


def verify_rows(rows: Iterable[tuple], checkpoints: dict[int, str] | None = None) -> VerifyResult:
    """Check the chain: contiguous seq, prev links, hashes, and the copies of the body.

    Altered rows fail their hash (or the next row's link), removed or reordered rows
    break contiguity or the link, and a truncated tail is caught by a later checkpoint.
    """
    prev = GENESIS
    expected_seq = 1
    checked = 0
    sha = hashlib.sha256
    for seq, body, prev_hash, digest, object_type, object_id, action in rows:
        if seq != expected_seq:
            bad = min(seq, expected_seq)
            return VerifyResult(False, checked, bad, f"entry {expected_seq} is missing or out of order")
        if prev_hash != prev:
            return VerifyResult(False, checked, seq, "link to the previous entry is broken")
        if sha((prev + body).encode()).hexdigest() != digest:
            return VerifyResult(False, checked, seq, "content does not match its hash")
        # The body is canonical JSON with sorted keys, so the copies must appear verbatim.
        if (
            f'"seq":{seq},' not in body
            or f'"object_id":{json.dumps(object_id, ensure_ascii=False)}' not in body
            or f'"object_type":{json.dumps(object_type, ensure_ascii=False)}' not in body
            or f'"action":{json.dumps(action, ensure_ascii=False)}' not in body
        ):
            return VerifyResult(False, checked, seq, "indexed columns differ from the signed body")
        if checkpoints and seq in checkpoints and checkpoints[seq] != digest:
            return VerifyResult(False, checked, seq, "hash differs from the signed checkpoint")
        prev = digest
        expected_seq += 1
        checked += 1
    if checkpoints:
        beyond = [s for s in checkpoints if s >= expected_seq]
        if beyond:
            return VerifyResult(
                False, checked, expected_seq, f"log ends before signed checkpoint {min(beyond)}"
            )
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and head.seq != checked:
        return VerifyResult(False, checked, checked + 1, "log length differs from the chain head")
    return VerifyResult(True, checked)


def verify() -> VerifyResult:
    checkpoints = {}
    for cp in AuditCheckpoint.objects.all():
        if not signing.verify_statement(cp.key_id, cp.statement, cp.signature):
            return VerifyResult(False, 0, cp.seq, "checkpoint signature is invalid")
        if cp.statement != checkpoint_statement(cp.seq, cp.hash):
            return VerifyResult(False, 0, cp.seq, "checkpoint statement does not match")
        checkpoints[cp.seq] = cp.hash
    return verify_rows(iter_rows(), checkpoints)
