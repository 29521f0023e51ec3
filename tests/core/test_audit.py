"""The audit log (M3.7 全程留痕): entries written by real services, verification that names
the first entry altered, removed or reordered, signed checkpoints, the database triggers,
and the chain under concurrent writers.

Tampering goes around the triggers the way an intruder with database access would:
SQLite drops them, PostgreSQL disables them (`ALTER TABLE ... DISABLE TRIGGER USER`).
Run the module on both databases (DATABASE_URL=postgres://... for PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import os
import sqlite3
import threading
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories as f
from zhijian.core import audit, chain, signing
from zhijian.core.models import AuditCheckpoint, AuditEntry, AuditHead, PublicKey
from zhijian.registry import services

TRIGGERS = importlib.import_module("zhijian.core.migrations.0003_audit_append_only")


@pytest.fixture(autouse=True)
def audit_key(settings, tmp_path):
    settings.ZHIJIAN_AUDIT_KEY_FILE = tmp_path / "audit-key.pem"
    settings.ZHIJIAN_AUDIT_CHECKPOINT_EVERY = 0  # checkpoints only where a test asks
    with translation.override("en"):  # messages are compared as written in the source
        yield settings.ZHIJIAN_AUDIT_KEY_FILE


def pg() -> bool:
    return connection.vendor == "postgresql"


postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="needs PostgreSQL (run with DATABASE_URL=postgres://...)")
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite file path")


@contextmanager
def triggers_off():
    """Bypass the append-only triggers, as an intruder with database access can."""
    with connection.cursor() as cursor:
        if pg():
            cursor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER USER")
        else:
            for sql in TRIGGERS.SQLITE_DROP:
                cursor.execute(sql)
        try:
            yield cursor
        finally:
            if pg():
                cursor.execute("ALTER TABLE core_auditentry ENABLE TRIGGER USER")
            else:
                for sql in TRIGGERS.SQLITE:
                    cursor.execute(sql)


def tamper(sql: str, *params) -> None:
    with triggers_off() as cursor:
        cursor.execute(sql, params)


def row(seq: int) -> AuditEntry:
    return AuditEntry.objects.get(seq=seq)


def set_head(seq: int) -> None:
    AuditHead.objects.filter(pk=1).update(seq=seq, hash=row(seq).hash if seq else chain.GENESIS)


def rewrite_from(seq: int, new_body: str) -> None:
    """Replace entry seq's body and recompute every later hash and link, and the head:
    the chain is consistent again, and only a signed checkpoint can tell."""
    prev = row(seq).prev_hash
    entries = list(AuditEntry.objects.filter(seq__gte=seq).order_by("seq"))
    with triggers_off() as cursor:
        for e in entries:
            body = new_body if e.seq == seq else e.body
            digest = chain.chain_hash(prev, body)
            cursor.execute("UPDATE core_auditentry SET body = %s, prev_hash = %s, hash = %s "
                           "WHERE seq = %s", [body, prev, digest, e.seq])
            prev = digest
    AuditHead.objects.filter(pk=1).update(hash=prev)


def expect(result: audit.VerifyResult, seq: int, code: str) -> None:
    assert (result.ok, result.first_bad_seq, result.code) == (False, seq, code), result


# --- a log written by the registry services ---------------------------------------------------

@pytest.fixture
def logged(world, province_officer, xian_officer):
    """Eleven entries: four registrations, two updates with reasons, a lab, and an import of
    four entities in one batch (one lock, one append_many)."""
    cable = world["categories"]["cable"]
    entities = []
    for i, code in enumerate(["610113", "610104", "610302", "610113"]):
        entities.append(services.entity_register(actor=province_officer, data={
            "uscc": f.uscc_for(code), "name": f"陕西审计测试电缆第{i}有限公司",
            "division": code, "legal_representative": "张“引号”\\三",
            "address": "西安市雁塔区科技路1号\n二楼", "categories": [cable]}))
    services.entity_update(actor=xian_officer, entity_id=entities[0].pk,
                           data={"address": "西安市雁塔区科技路2号"}, reason="地址变更")
    services.entity_update(actor=xian_officer, entity_id=entities[3].pk,
                           data={"risk_class": "A"}, reason="风险复核")
    services.lab_register(actor=province_officer, data={
        "name": "陕西审计测试检测中心", "uscc": f.uscc_for("610113"), "division": "610113",
        "cma_number": "230000009999"})
    report = services.entities_import(actor=province_officer, rows=[
        {"uscc": f.uscc_for("610104"), "name": f"导入测试企业{i}", "division": "610104",
         "legal_representative": "李四", "categories": "electrical.cable"}
        for i in range(4)
    ])
    assert report.ok, report.errors
    assert AuditEntry.objects.count() == 11
    return {"entities": entities, "count": 11}


def test_services_write_a_valid_chain(logged, xian_officer):
    result = audit.verify()
    assert result == audit.VerifyResult(
        ok=True, checked=11, checkpoints=0, head_seq=11, head_hash=row(11).hash)
    first = logged["entities"][0]
    trail = audit.history("registry.marketentity", first.pk)
    assert [(e["seq"], e["action"], e["actor"], e["reason"]) for e in trail] == [
        (1, "entity.registered", "province", ""),
        (5, "entity.updated", "xian", "地址变更"),
    ]
    assert trail[0]["before"] is None
    assert trail[1]["before"]["address"] == "西安市雁塔区科技路1号\n二楼"
    assert trail[1]["after"]["address"] == "西安市雁塔区科技路2号"
    assert trail[1]["actor_id"] == xian_officer.pk
    assert trail[1]["division"] == "610113"
    # The chain rule of docs/audit.md, recomputed from the stored rows alone.
    prev = chain.GENESIS
    for e in AuditEntry.objects.order_by("seq"):
        body = json.loads(e.body)
        assert list(body) == ["entry", "reason", "request_id", "state"]
        assert e.body.startswith('{"entry":' + json.dumps(
            body["entry"], ensure_ascii=False, sort_keys=True, separators=(",", ":")) + ",")
        assert e.prev_hash == prev
        assert e.hash == hashlib.sha256((prev + e.body).encode()).hexdigest()
        prev = e.hash


def test_an_import_batch_shares_one_timestamp(logged):
    batch = list(AuditEntry.objects.filter(seq__gte=8).order_by("seq"))
    assert [e.object_type for e in batch] == ["registry.marketentity"] * 4
    assert len({e.ts for e in batch}) == 1
    assert [json.loads(e.body)["entry"]["seq"] for e in batch] == [8, 9, 10, 11]


def test_the_quick_column_check_agrees_with_the_exact_check(logged):
    """Ordinary rows pass the quick column check; a column value that JSON must escape
    fails it, so that its chunk is checked row by row (check_columns), and found right."""
    with transaction.atomic():
        audit.append(audit.Change("test.odd", "test.thing", 'a"b\\c\n', None, {"k": 1}),
                     actor=None)
    [chunk] = chain.fast_chunks(connection.connection, connection.vendor, 1, 12, 100)
    if isinstance(chunk, chain.RowChunk):  # SQLite: checked in SQL
        flags = [bool(r[4]) for r in chunk.rows]
    else:
        flags = chain.prefix_flags(chunk, chunk.texts.split(b"\n"))
    assert flags == [True] * 11 + [False]
    assert chain.check_chunk(chunk, 12, chain.GENESIS, {}, []) is None
    assert chain.check_columns(chain.full_row(connection.connection, connection.vendor, 12)) is None
    assert audit.verify() == audit.VerifyResult(
        ok=True, checked=12, checkpoints=0, head_seq=12, head_hash=row(12).hash)


@pytest.mark.parametrize("microsecond", [0, 120000, 5])
def test_the_quick_check_spells_the_time_as_the_body_does(logged, monkeypatch, microsecond):
    """No fraction when it is zero, else all six digits: rows like these pass the quick
    check without being read again row by row."""
    when = dt.datetime(2026, 3, 1, 8, 0, 7, microsecond, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: when)
    with transaction.atomic():
        audit.append(audit.Change("test.appended", "test.thing", "1", None, {}), actor=None)
    assert json.loads(row(12).body)["entry"]["ts"] == {
        0: "2026-03-01T08:00:07Z", 120000: "2026-03-01T08:00:07.120000Z",
        5: "2026-03-01T08:00:07.000005Z"}[microsecond]
    [chunk] = chain.fast_chunks(connection.connection, connection.vendor, 1, 12, 100)
    assert chain.check_chunk(chunk, 12, chain.GENESIS, {}, []) == row(12).hash


def test_a_value_holding_a_separator_is_checked_row_by_row(logged):
    """A column value with the separator of aggregated chunks in it cannot be split apart
    (PostgreSQL), so the chunk is checked row by row, and found to be right."""
    with transaction.atomic():
        audit.append(audit.Change("test.odd", "test.thing", f"a{chain.SEP}b", None, {"k": 1}),
                     actor=None)
    [chunk] = chain.fast_chunks(connection.connection, connection.vendor, 1, 12, 100)
    assert chain.check_chunk(chunk, 12, chain.GENESIS, {}, []) is None
    assert audit.verify() == audit.VerifyResult(
        ok=True, checked=12, checkpoints=0, head_seq=12, head_hash=row(12).hash)


@pytest.mark.parametrize("size", [1, 3, 4, 500])
def test_every_chunk_size_gives_the_same_answer(logged, monkeypatch, size):
    """Chunks of any size, their seams and (on PostgreSQL) several COPY windows."""
    monkeypatch.setattr(chain, "CHUNK", size)
    monkeypatch.setattr(chain, "WINDOW", 2 * size)
    audit.checkpoint_create(seq=6)
    audit.checkpoint_create()
    assert audit.verify() == audit.VerifyResult(
        ok=True, checked=11, checkpoints=2, head_seq=11, head_hash=row(11).hash)
    for sql, params, (seq, code) in [
        ("UPDATE core_auditentry SET object_id = 'x' WHERE seq = 9", (), (9, "column")),
        ("UPDATE core_auditentry SET hash = %s WHERE seq = 7", ("e" * 64,), (7, "hash")),
        ("DELETE FROM core_auditentry WHERE seq = 5", (), (5, "missing")),
        ("DELETE FROM core_auditentry WHERE seq = 4", (), (4, "missing")),
    ]:
        tamper(sql, *params)
        expect(audit.verify(), seq, code)


def test_append_many_returns_the_entries_as_stored(logged):
    with transaction.atomic():
        entries = audit.append_many([
            audit.Change("test.appended", "test.thing", str(i), None, {"i": i}, "", "610113")
            for i in range(3)], actor=None)
    assert [(e.seq, e.ts, e.actor_id, e.actor, e.object_id, e.body, e.prev_hash, e.hash)
            for e in entries] == [
        (e.seq, e.ts, e.actor_id, e.actor, e.object_id, e.body, e.prev_hash, e.hash)
        for e in AuditEntry.objects.filter(seq__gt=11).order_by("seq")]
    assert [e.seq for e in entries] == [12, 13, 14]
    with pytest.raises(RuntimeError, match="append-only"):
        entries[0].save()
    assert audit.verify().ok


# --- tampering: each finds the exact first bad entry -------------------------------------------

def test_altered_body(logged):
    body = row(5).body.replace("科技路2号", "科技路9号")
    tamper("UPDATE core_auditentry SET body = %s WHERE seq = 5", body)
    result = audit.verify()
    expect(result, 5, "hash")
    with translation.override("en"):
        assert audit.describe(chain.Finding(5, "hash")) == (
            "Entry 5 was altered: its content no longer matches its hash.")


def test_altered_body_with_its_hash_recomputed(logged):
    body = row(5).body.replace("科技路2号", "科技路9号")
    tamper("UPDATE core_auditentry SET body = %s, hash = %s WHERE seq = 5",
           body, chain.chain_hash(row(5).prev_hash, body))
    expect(audit.verify(), 5, "link")


def test_altered_hash_and_altered_link(logged):
    tamper("UPDATE core_auditentry SET hash = %s WHERE seq = 7", "a" * 64)
    expect(audit.verify(), 7, "hash")


def test_altered_prev_hash(logged):
    tamper("UPDATE core_auditentry SET prev_hash = %s WHERE seq = 3", "b" * 64)
    expect(audit.verify(), 3, "hash")


@pytest.mark.parametrize(("column", "value"), [
    ("actor", "someone-else"),
    ("actor_id", 999999),
    ("action", "entity.deleted"),
    ("object_type", "registry.lab"),
    ("object_id", "424242"),
    ("division", "610302"),
    ("ts", dt.datetime(2017, 12, 1, 8, 0, tzinfo=dt.UTC)),
])
def test_altered_indexed_column(logged, column, value):
    stored = connection.ops.adapt_datetimefield_value(value) if column == "ts" else value
    tamper(f"UPDATE core_auditentry SET {column} = %s WHERE seq = 6", stored)  # noqa: S608
    result = audit.verify()
    expect(result, 6, "column")
    body_value = json.loads(row(6).body)["entry"][column]
    shown = "2017-12-01T08:00:00Z" if column == "ts" else value
    assert result.problem == (
        f"Entry 6 was altered: its column “{column}” is {json.dumps(shown)} but the hashed "
        f"body says {json.dumps(body_value)}.")


def test_removed_middle_entry(logged):
    tamper("DELETE FROM core_auditentry WHERE seq = 4")
    result = audit.verify()
    expect(result, 4, "missing")
    with translation.override("en"):
        assert audit.verify().problem == (
            "Entry 4 is missing: the log jumps to entry 5. Entries were removed.")


def test_two_entries_swapped(logged):
    with triggers_off() as cursor:
        cursor.execute("UPDATE core_auditentry SET seq = -1 WHERE seq = 6")
        cursor.execute("UPDATE core_auditentry SET seq = 6 WHERE seq = 7")
        cursor.execute("UPDATE core_auditentry SET seq = 7 WHERE seq = -1")
    result = audit.verify()
    expect(result, 6, "reordered")
    with translation.override("en"):
        assert audit.verify().problem == (
            "Entry 6 is out of place: it was written as entry 7. Entries were reordered.")


def test_tail_truncated_after_a_checkpoint(logged):
    cp = audit.checkpoint_create()
    assert (cp.seq, cp.hash) == (11, row(11).hash)
    tamper("DELETE FROM core_auditentry WHERE seq > 8")
    set_head(8)  # the intruder also rewinds the head: the signed checkpoint still tells
    result = audit.verify()
    expect(result, 9, "truncated")
    with translation.override("en"):
        assert audit.verify().problem == (
            "The log ends after entry 8 but a signed checkpoint covers entry 11: entries "
            "from 9 on were removed.")


def test_tail_truncated_before_any_checkpoint_is_caught_by_the_head(logged):
    tamper("DELETE FROM core_auditentry WHERE seq > 9")
    expect(audit.verify(), 10, "truncated")


def test_rewritten_chain_is_caught_by_the_checkpoint(logged):
    audit.checkpoint_create()
    rewrite_from(3, row(3).body.replace("陕西审计测试电缆第2有限公司", "另一家公司"))
    result = audit.verify()
    expect(result, 11, "checkpoint")


def test_forged_checkpoint_signature(logged):
    cp = audit.checkpoint_create()
    forged = bytes.fromhex(cp.signature)
    forged = bytes([forged[0] ^ 1]) + forged[1:]
    AuditCheckpoint.objects.filter(seq=cp.seq).update(signature=forged.hex())
    result = audit.verify()
    expect(result, 11, "signature")


def test_checkpoint_signed_by_an_unpublished_key_is_refused(logged, tmp_path):
    intruder = signing.load_key(signing.keygen(tmp_path / "intruder.pem"))
    statement = chain.checkpoint_statement(11, row(11).hash)
    AuditCheckpoint.objects.create(
        seq=11, hash=row(11).hash, ts=dt.datetime.now(dt.UTC), key_id=intruder.key_id,
        statement=statement, signature=intruder.sign(statement.encode()).hex())
    expect(audit.verify(), 11, "signature")
    # Publishing the intruder's key in the database fools the default check, but not a
    # verifier that pins the key published elsewhere.
    PublicKey.objects.create(key_id=intruder.key_id, purpose=signing.AUDIT_PURPOSE,
                             public_key=intruder.public_hex)
    assert audit.verify().ok
    real = signing.audit_key()
    expect(audit.verify(trusted_keys={real.key_id: real.public_hex}), 11, "signature")


def test_checkpoint_statement_must_match_its_columns(logged):
    cp = audit.checkpoint_create()
    AuditCheckpoint.objects.filter(seq=cp.seq).update(hash="c" * 64)
    expect(audit.verify(), 11, "signature")


def test_a_valid_checkpoint_beyond_a_forged_one(logged):
    audit.checkpoint_create(seq=4)
    audit.checkpoint_create()
    AuditCheckpoint.objects.filter(seq=4).update(signature="00" * 64)
    expect(audit.verify(), 4, "signature")


# --- the database refuses changes ---------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "UPDATE core_auditentry SET actor = 'x' WHERE seq = 2",
    "DELETE FROM core_auditentry WHERE seq = 2",
    "DELETE FROM core_auditentry",
])
def test_triggers_refuse_update_and_delete(logged, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEntry.objects.count() == 11
    assert row(2).actor == "province"
    assert audit.verify().ok


@postgres_only
def test_postgres_refuses_truncate_outside_maintenance(logged):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL zhijian.audit_maintenance = 'off'")
            cursor.execute("TRUNCATE core_auditentry")
    assert AuditEntry.objects.count() == 11


def test_the_model_refuses_update_and_delete(logged):
    entry = row(3)
    entry.actor = "x"
    with pytest.raises(RuntimeError, match="append-only"):
        entry.save()
    with pytest.raises(RuntimeError, match="append-only"):
        entry.delete()
    assert row(3).actor == "province"


# --- checkpoints -----------------------------------------------------------------------------

def test_checkpoints_every_n_entries_after_commit(world, province_officer, settings,
                                                   django_capture_on_commit_callbacks):
    settings.ZHIJIAN_AUDIT_CHECKPOINT_EVERY = 3
    for i in range(7):
        with django_capture_on_commit_callbacks(execute=True):
            services.entity_register(actor=province_officer, data={
                "uscc": f.uscc_for("610113"), "name": f"检查点测试{i}",
                "division": "610113", "legal_representative": "王五"})
    assert list(AuditCheckpoint.objects.order_by("seq").values_list("seq", flat=True)) == [3, 6]
    cp = AuditCheckpoint.objects.get(seq=6)
    assert cp.hash == row(6).hash
    assert cp.statement == f"zhijian-audit-checkpoint:v1:6:{row(6).hash}"
    public = PublicKey.objects.get(key_id=cp.key_id)
    assert signing.verify_with_public(public.public_key, cp.statement.encode(), cp.signature)
    assert audit.verify() == audit.VerifyResult(
        ok=True, checked=7, checkpoints=2, head_seq=7, head_hash=row(7).hash)


def test_a_rolled_back_write_signs_nothing(world, province_officer, settings,
                                          django_capture_on_commit_callbacks):
    settings.ZHIJIAN_AUDIT_CHECKPOINT_EVERY = 1
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.entity_register(actor=province_officer, data={
                "uscc": f.uscc_for("610113"), "name": "回滚测试", "division": "610113",
                "legal_representative": "王五"})
            raise RuntimeError("the caller fails after the service")
    assert callbacks == []
    assert AuditEntry.objects.count() == 0
    assert AuditCheckpoint.objects.count() == 0
    assert AuditHead.objects.get(pk=1).seq == 0


def test_checkpoint_refuses_a_position_with_another_hash(logged):
    with pytest.raises(ValueError, match="not in the log"):
        audit.checkpoint_create(seq=5, hash_="d" * 64)
    with pytest.raises(ValueError, match="not in the log"):
        audit.checkpoint_create(seq=99, hash_="d" * 64)
    assert AuditCheckpoint.objects.count() == 0


def test_checkpoint_of_an_empty_log(db):
    assert audit.checkpoint_create() is None


# --- the command ---------------------------------------------------------------------------------

def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    with translation.override("en"):
        call_command("audit", *args, stdout=out)
    return out.getvalue()


def test_command_verify_ok_and_failed(logged):
    run("checkpoint")
    assert run("verify") == (
        f"OK: 11 entries, 1 signed checkpoints, head 11 {row(11).hash}\n")
    tamper("DELETE FROM core_auditentry WHERE seq = 2")
    with pytest.raises(CommandError) as failed, translation.override("en"):
        call_command("audit", "verify")
    assert failed.value.returncode == 1
    assert str(failed.value) == (
        "FAILED at entry 2 (missing): Entry 2 is missing: the log jumps to entry 3. "
        "Entries were removed.")


def test_command_verify_with_a_pinned_key(logged, tmp_path):
    run("checkpoint")
    real = signing.audit_key()
    assert run("verify", "--public-key", real.public_hex).startswith("OK: 11 entries")
    other = signing.load_key(signing.keygen(tmp_path / "other.pem"))
    with pytest.raises(CommandError, match=r"FAILED at entry 11 \(signature\)"):
        run("verify", "--public-key", other.public_hex)
    with pytest.raises(CommandError):
        run("verify", "--public-key", "not-hex")


def test_command_checkpoint(logged):
    out = run("checkpoint").splitlines()
    key = signing.audit_key()
    cp = AuditCheckpoint.objects.get()
    assert out == [
        f"Checkpoint at entry 11 signed with key {key.key_id}.",
        f"statement: zhijian-audit-checkpoint:v1:11:{row(11).hash}",
        f"signature: {cp.signature}",
    ]


def test_command_keygen_refuses_to_overwrite(db, audit_key):
    out = run("keygen").splitlines()
    key = signing.load_key(audit_key)
    assert out == [f"Wrote a new Ed25519 key to {audit_key}.", f"key id: {key.key_id}",
                   f"public key: {key.public_hex}"]
    assert oct(os.stat(audit_key).st_mode & 0o777) == "0o600"
    before = audit_key.read_bytes()
    with pytest.raises(CommandError, match="already exists; a signing key is never overwritten"):
        run("keygen")
    assert audit_key.read_bytes() == before


def test_command_show(logged):
    entity = logged["entities"][0]
    lines = run("show", "registry.marketentity", str(entity.pk)).splitlines()
    assert lines[0].startswith("#1 ") and lines[0].endswith(" province entity.registered")
    assert '    address: null → "西安市雁塔区科技路1号\\n二楼"' in lines
    assert any(line.startswith("#5 ") and line.endswith(" xian entity.updated — 地址变更")
               for line in lines)
    assert '    address: "西安市雁塔区科技路1号\\n二楼" → "西安市雁塔区科技路2号"' in lines
    assert lines[-1] == f"    hash {row(5).hash}"
    data = json.loads(run("show", "registry.marketentity", str(entity.pk), "--json"))
    assert [e["seq"] for e in data] == [1, 5]
    with pytest.raises(CommandError, match="No audit entries for registry.lab 0"):
        run("show", "registry.lab", "0")


# --- property: any single mutation is found at its entry ------------------------------------------

safe_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                    max_size=12)
changes = st.lists(
    st.builds(
        audit.Change,
        action=st.sampled_from(["entity.registered", "entity.updated", "lab.updated"]),
        object_type=st.sampled_from(["registry.marketentity", "registry.lab"]),
        object_id=safe_text.filter(bool),
        before=st.none() | st.dictionaries(st.sampled_from(["name", "a\"b", "地址"]), safe_text),
        after=st.dictionaries(st.sampled_from(["name", "n\\o", "地址", "id"]),
                              safe_text | st.integers(-(2**40), 2**40) | st.booleans()),
        reason=safe_text,
        division=st.text("0123456789", min_size=0, max_size=6),
    ),
    min_size=2, max_size=9,
)
MUTATIONS = ["body", "hash", "prev", "column", "delete", "swap", "rehash"]


def mutate(rows: list[list], kind: str, k: int, column: str) -> tuple[int, str]:
    """Apply one mutation to the full rows (lists in FULL_COLUMNS order) of a log of
    len(rows) entries; return the (seq, code) verification must report."""
    n = len(rows)
    r = rows[k - 1]
    col = chain.FULL_COLUMNS.index
    if kind == "body":
        r[col("body")] += " "
        return k, "hash"
    if kind == "hash":
        r[col("hash")] = hashlib.sha256(r[col("hash")].encode()).hexdigest()
        return k, "hash"
    if kind == "prev":
        r[col("prev_hash")] = hashlib.sha256(r[col("prev_hash")].encode()).hexdigest()
        return k, "hash"
    if kind == "column":
        old = r[col(column)]
        if column == "actor_id":
            r[col(column)] = (old or 0) + 1
        elif column == "ts":
            r[col(column)] = old + dt.timedelta(seconds=1)
        else:
            limit = {"division": 6}.get(column, 60)
            if old.endswith("x") or len(old) >= limit:  # change the last character
                r[col(column)] = old[:-1] + ("y" if old.endswith("x") else "x")
            else:
                r[col(column)] = old + "x"
        return k, "column"
    if kind == "delete":
        del rows[k - 1]
        return k, ("truncated" if k == n else "missing")
    if kind == "swap":
        if k == n:
            k -= 1
        rows[k - 1][0], rows[k][0] = k + 1, k
        return k, "reordered"
    r[col("body")] += " "  # rehash: a rewritten entry with a fresh hash of its own
    r[col("hash")] = chain.chain_hash(r[col("prev_hash")], r[col("body")])
    return k, ("head" if k == n else "link")


def full_rows() -> list[list]:
    return [list(r) for r in AuditEntry.objects.order_by("seq").values_list(*chain.FULL_COLUMNS)]


def write_rows(rows: list[list]) -> None:
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM core_auditentry")
        for r in rows:
            values = list(r)
            values[1] = connection.ops.adapt_datetimefield_value(values[1])
            cursor.execute(
                f"INSERT INTO core_auditentry ({', '.join(chain.FULL_COLUMNS)}) "  # noqa: S608
                f"VALUES ({', '.join(['%s'] * len(values))})", values)


class Rollback(Exception):
    pass


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batches=st.lists(changes, min_size=1, max_size=3), data=st.data())
def test_property_any_single_mutation_is_found_at_its_entry(province_officer, batches, data):
    chunk = chain.CHUNK
    try:
        with transaction.atomic():
            user = province_officer
            for i, batch in enumerate(batches):
                audit.append_many(batch, actor=user if i % 2 else None)
            n = sum(len(b) for b in batches)
            assert audit.verify().ok
            rows = full_rows()
            kind = data.draw(st.sampled_from(MUTATIONS), label="mutation")
            k = data.draw(st.integers(1, n), label="entry")
            column = data.draw(st.sampled_from(
                ["actor", "actor_id", "action", "object_type", "object_id", "division", "ts"]),
                label="column")
            seq, code = mutate(rows, kind, k, column)
            # The in-memory reference verifier and the database verifier agree, whatever
            # the size of the chunks that the database verifier checks at once.
            finding, _ = chain.verify_full_rows(
                [tuple(r) for r in rows], head=(n, AuditHead.objects.get(pk=1).hash))
            assert (finding.seq, finding.code) == (seq, code)
            write_rows(rows)
            chain.CHUNK = data.draw(st.sampled_from([1, 2, 3, 500]), label="chunk")
            expect(audit.verify(), seq, code)
            raise Rollback
    except Rollback:
        pass
    finally:
        chain.CHUNK = chunk


# --- concurrency and the parallel verifier ------------------------------------------------------

@postgres_only  # SQLite serialises whole write transactions; nothing to race
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_make_one_unbroken_chain():
    threads_n, rounds = 8, 12
    barrier = threading.Barrier(threads_n)
    errors = []

    def writer(t: int) -> None:
        try:
            barrier.wait()
            for i in range(rounds):
                with transaction.atomic():
                    audit.append_many([
                        audit.Change("test.appended", "test.thing", f"{t}-{i}-{j}", None,
                                     {"thread": t, "round": i}, division="610113")
                        for j in range(1 + (t + i) % 3)
                    ], actor=None)
        except Exception as exc:  # reported below, with the thread's number
            errors.append((t, exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert not any(t.is_alive() for t in threads)
    total = sum(1 + (t + i) % 3 for t in range(threads_n) for i in range(rounds))
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, total + 1))
    assert AuditEntry.objects.values("object_id").distinct().count() == total
    result = audit.verify(workers=1)
    assert (result.ok, result.checked, result.head_seq) == (True, total, total)
    assert audit.verify(workers=3, parallel_min=0) == result


@postgres_only  # worker processes cannot open the in-memory SQLite test database
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_verification_names_the_same_entry():
    with transaction.atomic():
        audit.append_many([audit.Change("test.appended", "test.thing", str(i), None, {"i": i})
                           for i in range(60)], actor=None)
    audit.checkpoint_create(seq=30)
    assert audit.verify(workers=4, parallel_min=0).ok
    tampered = [
        ("UPDATE core_auditentry SET object_id = 'x' WHERE seq = 47", (47, "column")),
        ("DELETE FROM core_auditentry WHERE seq = 16", (16, "missing")),
        ("UPDATE core_auditentry SET hash = repeat('e', 64) WHERE seq = 15", (15, "hash")),
    ]
    for sql, (seq, code) in tampered:
        tamper(sql)
        for workers in (1, 3):
            expect(audit.verify(workers=workers, parallel_min=0), seq, code)


@sqlite_only
def test_parallel_scan_of_a_sqlite_file(logged, tmp_path, monkeypatch):
    """The worker path on a SQLite file: a copy of the test log, checked in ranges."""
    path = tmp_path / "copy.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'core_auditentry'")
        ddl = cursor.fetchone()[0]
        cursor.execute(f"SELECT {', '.join(chain.FULL_COLUMNS)} FROM core_auditentry")  # noqa: S608
        rows = cursor.fetchall()
    copy = sqlite3.connect(path)
    copy.execute(ddl)
    copy.executemany(f"INSERT INTO core_auditentry ({', '.join(chain.FULL_COLUMNS)}) "  # noqa: S608
                     f"VALUES ({', '.join('?' * 11)})", rows)
    copy.commit()
    spec = chain.DbSpec("sqlite", str(path))
    checkpoints = {11: row(11).hash}
    done = chain.ScanState(next_seq=12, prev=row(11).hash, checked=11)
    assert chain.scan_parallel(spec, 11, 3, checkpoints) == done
    # Two entries for three workers: the third gets no job and exits.
    assert chain.scan_parallel(spec, 2, 3, {}) == chain.ScanState(
        next_seq=3, prev=row(2).hash, checked=2)
    copy.execute("UPDATE core_auditentry SET actor = 'intruder' WHERE seq = 9")
    copy.commit()
    # Ranges 1-4, 5-8, 9-11: the third fails at once, so the sequential scan starts at 9,
    # linking to the hash of entry 8 that the second range checked.
    state = chain.scan_parallel(spec, 11, 3, checkpoints)
    assert state == chain.ScanState(next_seq=9, prev=row(8).hash, checked=8)
    finding = chain.scan_database(copy, "sqlite", state, 11, checkpoints)
    assert finding == chain.Finding(9, "column", {"column": "actor", "stored": "intruder",
                                                  "body": "province"})
    # In chunks of two, the third range checks 9-10 and stops at the chunk of 11.
    copy.execute("UPDATE core_auditentry SET actor = 'province' WHERE seq = 9")
    copy.execute("UPDATE core_auditentry SET hash = 'f' WHERE seq = 11")
    copy.commit()
    monkeypatch.setattr(chain, "CHUNK", 2)
    state = chain.scan_parallel(spec, 11, 3, checkpoints)
    assert state == chain.ScanState(next_seq=11, prev=row(10).hash, checked=10)
    assert chain.scan_database(copy, "sqlite", state, 11, checkpoints) == chain.Finding(
        11, "hash")
    copy.close()
