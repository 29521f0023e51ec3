"""The transactional outbox: events commit or roll back with the change, failing
handlers leave the event pending for the next drain, every (event, handler) is applied
once, and events are drained in order. Real workers: tests/core/test_worker.py."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import translation

from tests import factories as f
from zhijian.core import events
from zhijian.core.models import EventDelivery, OutboxEvent
from zhijian.registry import handlers, services
from zhijian.registry.models import DivisionStats, MarketEntity

COUNT = "zhijian.registry.handlers.count_registered"


@pytest.fixture
def inline(settings):
    settings.ZHIJIAN_OUTBOX_MODE = "inline"


def register(officer, name: str, division: str = "610113") -> MarketEntity:
    return services.entity_register(actor=officer, data={
        "uscc": f.uscc_for(division), "name": name, "division": division,
        "legal_representative": "王五"})


def stats() -> dict[str, int]:
    return dict(DivisionStats.objects.values_list("division_id", "entities"))


# Test-only subscribers on event names no service publishes.
calls: list[tuple[str, int]] = []
broken = {"on": False}


@events.subscribe("test.flaky")
def flaky(event) -> None:
    if broken["on"]:
        raise ValueError("the credit service is unreachable")
    calls.append(("flaky", event.pk))


@events.subscribe("test.flaky")
def steady(event) -> None:
    calls.append(("steady", event.pk))


@events.subscribe("test.ordered")
def ordered(event) -> None:
    if event.payload.get("fail") and broken["on"]:
        raise ValueError("not yet")
    calls.append(("ordered", event.pk))


@pytest.fixture(autouse=True)
def reset_calls():
    calls.clear()
    broken["on"] = False
    yield
    broken["on"] = False


def publish(name: str, aggregate, **payload) -> OutboxEvent:
    with transaction.atomic():
        return events.publish(name, aggregate=aggregate, payload=payload)


def test_service_write_publishes_and_inline_drain_applies(world, province_officer, inline,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        entity = register(province_officer, "发布测试电缆有限公司", "610104")
    event = OutboxEvent.objects.get(name="entity.registered")
    assert (event.aggregate_type, event.aggregate_id) == ("registry.marketentity", str(entity.pk))
    assert event.payload == {"division": "610104"}
    assert event.processed_at is not None
    assert list(EventDelivery.objects.values_list("handler", flat=True)) == [COUNT]
    assert stats() == {"610104": 1}


def test_rolled_back_transaction_leaves_no_event(world, province_officer, inline,
                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            register(province_officer, "回滚测试电缆有限公司")
            assert OutboxEvent.objects.count() == 1
            raise RuntimeError("a later step of the same request fails")
    assert callbacks == []
    assert OutboxEvent.objects.count() == 0
    assert MarketEntity.objects.filter(name="回滚测试电缆有限公司").count() == 0
    assert stats() == {}


def test_one_transaction_schedules_one_drain_however_many_events(
        world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for i in range(3):
            events.publish("test.flaky", aggregate=world["lab"], payload={"i": i})
        with pytest.raises(RuntimeError), transaction.atomic():
            events.publish("test.flaky", aggregate=world["lab"], payload={"i": 3})
            raise RuntimeError("the savepoint rolls back")
    assert [c.__name__ for c in callbacks] == ["schedule_drain"]
    assert OutboxEvent.objects.filter(name="test.flaky").count() == 3


def test_a_drain_is_scheduled_again_if_only_a_savepoint_had_asked(
        world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            events.publish("test.flaky", aggregate=world["lab"], payload={"i": 0})
            raise RuntimeError("the savepoint rolls back, and its callback with it")
        events.publish("test.flaky", aggregate=world["lab"], payload={"i": 1})
    assert [c.__name__ for c in callbacks] == ["schedule_drain"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_publish_outside_a_transaction_is_refused():
    from zhijian.core.models import Division

    with pytest.raises(RuntimeError, match="inside the change's transaction"):
        events.publish("test.flaky", aggregate=Division(code="610113"))
    assert OutboxEvent.objects.count() == 0


def test_failing_handler_leaves_the_event_pending_and_the_next_drain_retries(world):
    event = publish("test.flaky", world["lab"])
    broken["on"] = True
    assert events.drain() == 0
    event.refresh_from_db()
    assert event.processed_at is None
    assert event.attempts == 1
    assert event.last_error == (
        "tests.core.test_events.flaky: ValueError('the credit service is unreachable')")
    assert calls == []
    assert events.drain() == 0
    event.refresh_from_db()
    assert event.attempts == 2

    broken["on"] = False
    assert events.drain() == 1
    event.refresh_from_db()
    assert event.processed_at is not None
    assert event.attempts == 2  # the history of failures stays visible
    assert calls == [("flaky", event.pk), ("steady", event.pk)]
    assert sorted(event.deliveries.values_list("handler", flat=True)) == [
        "tests.core.test_events.flaky", "tests.core.test_events.steady"]
    assert events.drain() == 0
    assert calls == [("flaky", event.pk), ("steady", event.pk)]


def test_a_handler_that_succeeded_is_not_run_again_when_a_later_one_fails(world):
    # steady runs after flaky; make the first handler succeed and the second fail.
    event = publish("test.flaky", world["lab"])
    original = events._handlers["test.flaky"][:]
    try:
        def failing_second(e):
            raise ValueError("second handler down")

        events._handlers["test.flaky"] = [original[0], ("tests.second", failing_second)]
        assert events.drain() == 0
        assert calls == [("flaky", event.pk)]
        assert list(event.deliveries.values_list("handler", flat=True)) == [
            "tests.core.test_events.flaky"]
        events._handlers["test.flaky"] = [original[0], ("tests.second", lambda e: None)]
        assert events.drain() == 1
        assert calls == [("flaky", event.pk)]
    finally:
        events._handlers["test.flaky"] = original


def test_apply_twice_has_the_effect_once(world, province_officer):
    register(province_officer, "幂等测试电缆有限公司", "610302")
    event = OutboxEvent.objects.get(name="entity.registered")
    assert events.apply(event, COUNT, handlers.count_registered) is True
    assert events.apply(event, COUNT, handlers.count_registered) is False
    assert stats() == {"610302": 1}
    assert EventDelivery.objects.filter(event=event, handler=COUNT).count() == 1
    # The drain finds the delivery and does not count again either.
    assert events.drain() == 1
    assert stats() == {"610302": 1}


def test_apply_loses_the_race_to_another_worker_and_undoes_its_effect(world, province_officer):
    register(province_officer, "并发测试电缆有限公司", "610302")
    event = OutboxEvent.objects.get(name="entity.registered")

    def count_while_another_worker_commits(e):
        handlers.count_registered(e)
        # Another worker applies the same event between our check and our insert.
        EventDelivery.objects.create(event=e, handler=COUNT)

    assert events.apply(event, COUNT, count_while_another_worker_commits) is False
    assert stats() == {}  # our increment was rolled back with our attempt
    assert EventDelivery.objects.filter(event=event).count() == 0  # it was inside our savepoint


def test_events_drain_in_order(world):
    aggregates = [world["lab"], world["xian_entity"], world["baoji_entity"], world["user_unit"]]
    published = [publish("test.ordered", a, n=i).pk for i, a in enumerate(aggregates * 2)]
    assert events.drain(batch=3) == 8
    assert calls == [("ordered", pk) for pk in published]


def test_later_events_of_a_record_wait_for_its_failing_event(world):
    lab, entity = world["lab"], world["xian_entity"]
    first = publish("test.ordered", lab, fail=True).pk
    other = publish("test.ordered", entity).pk
    second = publish("test.ordered", lab).pk
    broken["on"] = True
    assert events.drain() == 1
    assert calls == [("ordered", other)]
    assert OutboxEvent.objects.get(pk=second).processed_at is None
    broken["on"] = False
    assert events.drain() == 2
    assert calls == [("ordered", other), ("ordered", first), ("ordered", second)]


def test_celery_mode_with_the_broker_down_keeps_the_event(world, province_officer, settings,
                                                          monkeypatch,
                                                          django_capture_on_commit_callbacks):
    """In process, the broker refuses the connection; test_worker.py does the same with a
    real refused port and separate processes."""
    from kombu.exceptions import OperationalError

    from zhijian.core import tasks

    def refused(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    settings.ZHIJIAN_OUTBOX_MODE = "celery"
    monkeypatch.setattr(tasks.outbox_drain_task, "apply_async", refused)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        register(province_officer, "断网测试电缆有限公司")
    assert len(callbacks) == 1
    assert MarketEntity.objects.filter(name="断网测试电缆有限公司").count() == 1
    assert events.status()["pending"] == 1
    out = StringIO()
    with translation.override("en"):
        call_command("outbox", "status", stdout=out)
    assert out.getvalue().splitlines()[:3] == ["pending: 1", "failing: 0", "processed: 0"]
    out = StringIO()
    with translation.override("en"):
        call_command("outbox", "drain", stdout=out)
    assert out.getvalue() == "Processed 1 events; 0 pending, 0 of them failing.\n"
    assert stats() == {"610113": 1}


def test_status_lists_failing_events(world):
    event = publish("test.flaky", world["lab"])
    broken["on"] = True
    events.drain()
    out = StringIO()
    with translation.override("en"):
        call_command("outbox", "status", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["pending: 1", "failing: 1", "processed: 0"]
    assert lines[3].startswith("oldest pending since: ")
    assert lines[4] == (f"  #{event.pk} test.flaky, 1 attempts: tests.core.test_events.flaky: "
                        "ValueError('the credit service is unreachable')")


def test_extra_handler_modules_are_loaded_before_the_first_drain(world, settings, monkeypatch,
                                                                  tmp_path):
    import sys

    name = "zhijian_test_extra_handlers"
    (tmp_path / f"{name}.py").write_text(
        "from zhijian.core.events import subscribe\n"
        "seen = []\n\n"
        "@subscribe('test.extra')\n"
        "def extra(event):\n"
        "    seen.append(event.pk)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(events, "_extra_loaded", False)
    settings.ZHIJIAN_EXTRA_HANDLERS = f" {name} , "
    assert events.extra_handler_modules() == [name]
    event = publish("test.extra", world["lab"])
    assert name not in sys.modules
    try:
        assert events.drain() == 1
        assert sys.modules[name].seen == [event.pk]
    finally:
        sys.modules.pop(name, None)
