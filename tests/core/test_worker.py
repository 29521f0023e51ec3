"""The outbox under real processes: a Celery worker against the Redis on the machine is
killed with SIGKILL in the middle of a batch and restarted, and every event's effect is
applied once and only once; with the broker down, writes still commit and the events
wait for `zhijian outbox drain`.

Each test gets a database of its own, shared with its subprocesses: a SQLite file, or
a dedicated PostgreSQL database when the suite runs on PostgreSQL (DATABASE_URL). The
worker test skips when Redis is not reachable at 127.0.0.1:6379, and fails under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EVENTS = 300
REDIS = ("127.0.0.1", 6379)
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def base_env(database_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CELERY_", "ZHIJIAN_", "DATABASE_URL", "DJANGO_"))}
    env |= {
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
        "ZHIJIAN_DATA_DIR": str(tmp / "var"),
        "LOG_LEVEL": "WARNING",
    }
    return env | extra


def zhijian(env: dict, *args: str, timeout: float = 180) -> str:
    done = subprocess.run([str(BIN / "zhijian"), *args], env=env, cwd=ROOT, timeout=timeout,
                          capture_output=True, text=True)
    assert done.returncode == 0, f"zhijian {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done.stdout


class Database:
    """A database shared by the test and its subprocesses, queried with plain SQL."""

    def __init__(self, url: str, drop=None):
        self.url = url
        self._drop = drop

    def query(self, sql: str) -> list[tuple]:
        if self.url.startswith("sqlite"):
            conn = sqlite3.connect(_sqlite_path(self.url), timeout=30)
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql).fetchall()

    def scalar(self, sql: str):
        return self.query(sql)[0][0]

    def drop(self) -> None:
        if self._drop:
            self._drop()


def _sqlite_path(url: str) -> str:
    """sqlite:////abs/path (four slashes: an absolute path) -> /abs/path"""
    return "/" + url.removeprefix("sqlite:////")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A migrated database to copy for each test (migrating once saves half a minute)."""
    tmp = tmp_path_factory.mktemp("outbox-template")
    test_url = os.environ.get("DATABASE_URL", "")
    if test_url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(test_url)
        name = f"zhijian_outbox_tmpl_{uuid.uuid4().hex[:8]}"
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = urlunsplit(parts._replace(path=f"/{name}"))
        try:
            zhijian(base_env(url, tmp), "migrate", "-v0")
            yield ("postgresql", url)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        url = f"sqlite:///{tmp / 'template.sqlite3'}"  # tmp is absolute: four slashes
        zhijian(base_env(url, tmp), "migrate", "-v0")
        yield ("sqlite", url)


@pytest.fixture
def database(template, tmp_path):
    vendor, url = template
    if vendor == "sqlite":
        path = tmp_path / "outbox.sqlite3"
        shutil.copy(_sqlite_path(url), path)
        yield Database(f"sqlite:///{path}")
        return
    import psycopg

    parts = urlsplit(url)
    name = f"zhijian_outbox_{uuid.uuid4().hex[:8]}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{parts.path[1:]}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    db = Database(urlunsplit(parts._replace(path=f"/{name}")), drop)
    try:
        yield db
    finally:
        db.drop()


def wait_until(condition, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def redis_db():
    """A Redis database of this test run's own (emptied before and after use)."""
    import redis

    number = 1 + os.getpid() % 15
    client = redis.Redis(*REDIS, db=number, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        message = f"Redis is not reachable at {REDIS[0]}:{REDIS[1]} ({exc})"
        if CI:
            pytest.fail(message)
        pytest.skip(message)
    client.flushdb()
    return client, f"redis://{REDIS[0]}:{REDIS[1]}/{number}"


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    # Its own session, so that SIGKILL reaches the pool's child processes too, as when a
    # machine or container dies.
    return subprocess.Popen(
        [str(BIN / "celery"), "-A", "zhijian", "worker", "--loglevel=INFO", "--concurrency=2",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


PROCESSED = "SELECT count(*) FROM core_outboxevent WHERE processed_at IS NOT NULL"


@pytest.mark.worker
def test_worker_killed_mid_batch_applies_every_event_once(database, tmp_path):
    client, broker = redis_db()
    env = base_env(database.url, tmp_path, CELERY_BROKER_URL=broker,
                   ZHIJIAN_OUTBOX_MODE="celery",
                   ZHIJIAN_EXTRA_HANDLERS="tests.core.worker_support",
                   ZHIJIAN_TEST_HANDLER_SLEEP_MS="20")
    log = tmp_path / "worker.log"
    workers = []
    try:
        # 300 registrations, each committing an event and queueing a drain task; no
        # worker runs yet, so everything waits in the outbox and in Redis.
        out = zhijian(env, "shell", "-c",
                      f"from tests.core.worker_support import seed; seed({EVENTS})")
        assert out.strip().endswith(f"seeded {EVENTS}")
        assert database.scalar("SELECT count(*) FROM core_outboxevent") == EVENTS
        assert database.scalar(PROCESSED) == 0
        assert client.llen("celery") == EVENTS

        workers.append(start_worker(env, log))
        at_kill = wait_until(lambda: (n := database.scalar(PROCESSED)) >= 20 and n,
                             timeout=120, what="the first worker to process 20 events")
        kill(workers[0])
        after_kill = database.scalar(PROCESSED)
        assert at_kill <= after_kill < EVENTS, "the worker finished before it was killed"
        print(f"killed the first worker after {after_kill} of {EVENTS} events")

        workers.append(start_worker(env, log))
        wait_until(lambda: database.scalar(PROCESSED) == EVENTS, timeout=240,
                   what=f"all {EVENTS} events to be processed after the restart")
        kill(workers[1], signal.SIGTERM)
    finally:
        for proc in workers:
            kill(proc)
        client.flushdb()

    handlers = ["tests.core.worker_support.slow_subscriber",
                "zhijian.registry.handlers.count_registered"]
    deliveries = database.query(
        "SELECT handler, count(*), count(DISTINCT event_id) FROM core_eventdelivery "
        "GROUP BY handler ORDER BY handler")
    assert deliveries == [(h, EVENTS, EVENTS) for h in handlers], log.read_text()[-3000:]
    assert database.query(
        "SELECT count(*) FROM core_outboxevent WHERE attempts > 0 OR last_error != ''"
    ) == [(0,)]
    # The effect: a counter that a second application would push past the truth.
    assert database.scalar("SELECT sum(entities) FROM registry_divisionstats") == EVENTS
    assert database.query(
        "SELECT division_id, entities FROM registry_divisionstats ORDER BY division_id"
    ) == [("610104", 120), ("610113", 120), ("610302", 60)]
    assert database.scalar("SELECT count(*) FROM registry_marketentity") == EVENTS
    # Exit status 0 is the verdict (1 names the first bad entry); the count is in the text
    # whatever the language.
    assert f"{EVENTS} " in zhijian(env, "audit", "verify")


def test_broker_down_writes_commit_and_events_wait(database, tmp_path):
    env = base_env(database.url, tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0",
                   ZHIJIAN_OUTBOX_MODE="celery")
    out = zhijian(env, "shell", "-c", "from tests.core.worker_support import seed; seed(3)")
    assert out.strip().endswith("seeded 3")
    assert database.scalar("SELECT count(*) FROM registry_marketentity") == 3
    assert database.scalar("SELECT count(*) FROM core_auditentry") == 3
    status = json.loads(zhijian(env, "outbox", "status", "--json"))
    assert {k: status[k] for k in ("pending", "failing", "processed")} == {
        "pending": 3, "failing": 0, "processed": 0}
    assert status["oldest_pending"] is not None
    assert database.query("SELECT count(*) FROM registry_divisionstats") == [(0,)]

    zhijian(env, "outbox", "drain")
    status = json.loads(zhijian(env, "outbox", "status", "--json"))
    assert (status["pending"], status["processed"], status["oldest_pending"]) == (0, 3, None)
    assert database.query(
        "SELECT division_id, entities FROM registry_divisionstats ORDER BY division_id"
    ) == [("610104", 1), ("610113", 1), ("610302", 1)]
    # Draining again applies nothing twice.
    zhijian(env, "outbox", "drain")
    assert database.scalar("SELECT sum(entities) FROM registry_divisionstats") == 3
