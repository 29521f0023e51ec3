"""The export of credit records for the provincial public credit platform: the JSON format
(every record validates against the JSON Schema), the change feed (no record lost or
repeated across pages, changes come again), who may read it, and the command."""

import datetime as dt
import json

import jsonschema
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from tests import factories as f
from zhijian.credit import export, tokens
from zhijian.credit.choices import RecordKind
from zhijian.credit.models import CreditRecord
from zhijian.credit.services import records

TODAY = timezone.localdate()
URL = "/api/v1/credit/export/records/"


@pytest.fixture(autouse=True)
def _no_settle(settings):
    settings.ZHIJIAN_CREDIT_FEED_SETTLE_SECONDS = 0


def _validator():
    return jsonschema.Draft202012Validator(
        export.schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _record(entity, n, *, public=True, kind="sampling_failed", dept=None):
    return records.record_create(
        entity=entity, kind=kind, date=TODAY - dt.timedelta(days=n + 1),
        source_type="sampling.sample", source_id=f"S{n}", source_ref=f"抽样单 CY-{n:04d}",
        summary=f"第{n}批次不合格", public=public, department=dept)


def _walk(api, limit, since=None):
    """Read the feed to its end; return the records and the last cursor."""
    got = []
    while True:
        params = {"limit": limit, **({"since": since} if since else {})}
        page = api.get(URL, params).json()
        _validator().validate(page)
        got += page["records"]
        since = page["next"]
        if not page["more"]:
            return got, since


def test_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(export.schema())


def test_every_exported_record_validates_against_the_schema(world, xian_officer):
    e, dept = world["xian_entity"], world["departments"]["xian"]
    active = _record(e, 1, dept=dept)
    repaired = _record(e, 2)
    records.record_repair(record_id=repaired.pk, on=TODAY, reason="整改完成")
    withdrawn = _record(e, 3)
    records.record_withdraw(record_id=withdrawn.pk, reason="录入错误")
    hidden = _record(e, 4, public=False)
    award = records.record_create(entity=e, kind="award", date=TODAY, source_type="manual_award",
                                  source_id="A1", source_ref="省质量奖", public=True)
    page = export.feed()
    _validator().validate(page)
    rows = {r["id"]: r for r in page["records"]}
    for row in page["records"]:
        _validator().validate({**page, "records": [row]})
    assert rows[active.pk] == {
        "id": active.pk, "status": "active", "uscc": e.uscc, "entity_name": e.name,
        "kind": {"code": "sampling_failed",
                 "label": translation.override("zh-hans")(
                     lambda: str(RecordKind.SAMPLING_FAILED.label))()},
        "date": (TODAY - dt.timedelta(days=2)).isoformat(),
        "expires_on": export.add_months(TODAY - dt.timedelta(days=2), 24).isoformat(),
        "repaired_on": None,
        "authority": {"name": "西安市市场监督管理局", "code": "6101-market"},
        "source": {"type": "sampling.sample", "reference": "抽样单 CY-0001"},
        "summary": "第1批次不合格", "rule_version": "2021-09-01",
        "updated_at": active.updated_at.astimezone(dt.UTC).isoformat().replace(
            "+00:00", "Z")}
    assert (rows[repaired.pk]["status"], rows[repaired.pk]["repaired_on"]) == (
        "repaired", TODAY.isoformat())
    assert set(rows[withdrawn.pk]) == {"id", "status", "updated_at"}
    assert rows[withdrawn.pk]["status"] == "withdrawn"
    assert set(rows[hidden.pk]) == {"id", "status", "updated_at"}
    assert rows[hidden.pk]["status"] == "withdrawn"
    assert rows[award.pk]["authority"] is None and rows[award.pk]["kind"]["code"] == "award"
    assert "第4批次" not in json.dumps(page, ensure_ascii=False)


def test_feed_pages_lose_and_repeat_nothing_even_with_equal_timestamps(world, admin_user,
                                                                       api):
    e = world["xian_entity"]
    made = [_record(e, n) for n in range(23)]
    # Seven records changed in the same microsecond straddle page boundaries.
    same = timezone.now() - dt.timedelta(minutes=5)
    CreditRecord.objects.filter(pk__in=[r.pk for r in made[5:12]]).update(updated_at=same)
    api.force_authenticate(admin_user)
    got, cursor = _walk(api, limit=4)
    ids = [r["id"] for r in got]
    assert sorted(ids) == sorted(r.pk for r in made) and len(ids) == len(set(ids)) == 23
    expected = list(CreditRecord.objects.order_by("updated_at", "id").values_list(
        "id", flat=True))
    assert ids == expected
    # Nothing new: the same cursor comes back and no record.
    page = api.get(URL, {"since": cursor}).json()
    assert (page["records"], page["next"], page["more"]) == ([], cursor, False)


def test_changed_records_come_again_with_their_new_status(world, admin_user, api):
    e = world["xian_entity"]
    a, b, c = _record(e, 1), _record(e, 2), _record(e, 3)
    api.force_authenticate(admin_user)
    _got, cursor = _walk(api, limit=1000)
    records.record_withdraw(record_id=a.pk, reason="抽样程序违法，撤销")
    records.record_repair(record_id=b.pk, on=TODAY, reason="信用修复")
    CreditRecord.objects.filter(pk=c.pk).update(public=False, updated_at=timezone.now())
    got, cursor2 = _walk(api, limit=2, since=cursor)
    assert [(r["id"], r["status"]) for r in got] == [
        (a.pk, "withdrawn"), (b.pk, "repaired"), (c.pk, "withdrawn")]
    assert cursor2 != cursor
    assert _walk(api, limit=2, since=cursor2)[0] == []


def test_recent_changes_wait_for_the_settle_time(world, settings):
    settings.ZHIJIAN_CREDIT_FEED_SETTLE_SECONDS = 60
    r = _record(world["xian_entity"], 1)
    assert export.feed()["records"] == []
    later = export.feed(now=r.updated_at + dt.timedelta(seconds=60))
    assert [x["id"] for x in later["records"]] == [r.pk]


def test_bad_cursor_and_limit_are_refused(world, admin_user, api):
    api.force_authenticate(admin_user)
    resp = api.get(URL, {"since": "not-a-cursor"}, HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert resp.json()["errors"] == [{
        "code": "invalid", "attr": "since",
        "detail": "This is not a cursor of the credit record feed: give the \"next\" value "
                  "of an earlier page, or leave it out to start from the beginning."}]
    resp = api.get(URL, {"limit": "1001"}, HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["attr"] == "limit"


@pytest.mark.parametrize("who,status", [
    (None, 401), ("enterprise_user", 403), ("lab_user", 403), ("user_unit_user", 403),
    ("xian_officer", 200), ("baoji_officer", 200), ("admin_user", 200)])
def test_who_may_read_the_feed(who, status, world, api, request):
    _record(world["xian_entity"], 1)
    if who:
        api.force_authenticate(request.getfixturevalue(who))
    resp = api.get(URL)
    assert resp.status_code == status
    if status == 200:
        assert len(resp.json()["records"]) == 1


def test_a_service_key_reads_the_feed(world, admin_user, client):
    _record(world["xian_entity"], 1)
    _token, raw = tokens.token_create(actor=admin_user, name="信用服务机构甲")
    resp = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert resp.status_code == 200 and len(resp.json()["records"]) == 1


def test_feed_query_count(world, admin_user, api, django_assert_max_num_queries):
    for n in range(30):
        _record(f.EntityFactory() if n % 2 else world["xian_entity"], n)
    api.force_authenticate(admin_user)
    with django_assert_max_num_queries(6):
        resp = api.get(URL, {"limit": 100})
    assert len(resp.json()["records"]) == 30


def test_command_writes_the_same_json(world, admin_user, api, tmp_path, capsys):
    e = world["xian_entity"]
    for n in range(5):
        _record(e, n)
    hidden = _record(e, 9, public=False)
    out = tmp_path / "export.json"
    call_command("credit_export", "--out", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    _validator().validate(data)
    api.force_authenticate(admin_user)
    page = api.get(URL).json()
    assert data["records"] == page["records"] and data["next"] == page["next"]
    assert data["more"] is False and len(data["records"]) == 6
    assert {"id": hidden.pk, "status": "withdrawn",
            "updated_at": data["records"][-1]["updated_at"]} == data["records"][-1]
    # The next export starts where this one ended.
    new = _record(e, 20)
    call_command("credit_export", "--since", data["next"], "--out", str(out))
    again = json.loads(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in again["records"]] == [new.pk]
    assert again["since"] == data["next"]


def test_command_pages_through_more_than_one_page(world, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "PAGE_MAX", 2)
    made = [_record(world["xian_entity"], n) for n in range(5)]
    out = tmp_path / "all.json"
    call_command("credit_export", "--out", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(r["id"] for r in data["records"]) == sorted(r.pk for r in made)


def test_command_refuses_a_bad_cursor(world, tmp_path):
    with pytest.raises(CommandError, match="not a cursor"):
        with translation.override("en"):
            call_command("credit_export", "--since", "xyz", "--out", str(tmp_path / "x"))
