"""The random-inspection dashboard (/work/inspections/dashboard/): who may open it, each
figure with exact numbers for a Xi'an world, scoping by jurisdiction, and a query-count
pin that does not move when the data grows."""

from __future__ import annotations

import datetime as dt
import html as html_module
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import factories as f
from tests.inspections.conftest import plan_data
from zhijian.inspections import services, stats
from zhijian.inspections.models import Task

DICE = "3 5 1 6 2 4 4 1 5 3"
URL = "/work/inspections/dashboard/"
ALL_IN = {"A": 10000, "B": 10000, "C": 10000, "D": 10000}


def client_for(user, lang="en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    if user is not None:
        client.force_login(user)
    return client


def draw_plan(w, officer, category="cable", **over):
    xian = w["departments"]["xian"]
    today = timezone.localdate()
    over = {"period_start": today, "period_end": today + dt.timedelta(days=120), **over}
    plan = services.plan_save(
        actor=officer, data=plan_data(w, **over), departments=[xian],
        categories=[w["categories"][category]],
        checklist=[(xian.pk, "生产许可证在有效期内"), (xian.pk, "出厂检验记录完整")])
    d = services.plan_publish(actor=officer, plan=plan)
    return services.draw_seed(actor=officer, draw_id=d.pk, dice=DICE, witnesses="张三")


def complete(task: Task, publish: bool = True) -> Task:
    members = [m.inspector.user for m in task.members.select_related("inspector__user")]
    items = {i.pk: ("conforms", "") for i in task.plan.items.all()}
    services.task_record(actor=members[0], task_id=task.pk, items=items, outcome="no_problem")
    for u in members:
        services.task_sign(actor=u, task_id=task.pk)
    services.task_complete(actor=members[0], task_id=task.pk)
    if publish:
        services.result_publish(task.pk)
    task.refresh_from_db()
    return task


@pytest.fixture
def dashboard_world(inspection_world, xian_officer):
    """P1: the 12 Xi'an cable firms, all drawn. Firm A (the Xi'an test firm) inspected 40
    days ago and again today under P2; B (西安第0, Beilin) inspected today, published a day
    late; C (西安第1, Yanta) inspected today, not published and past its date; 西安第2 is 5
    days overdue. P3: 10 Xi'an steel firms of class B, 30 % drawn."""
    w = inspection_world
    today = timezone.localdate()
    for i in range(10):
        e = f.EntityFactory(division=f.division("610102"), name=f"西安第{i}钢筋有限公司",
                            risk_class="B")
        e.categories.set([w["categories"]["steel"]])
    d1 = draw_plan(w, xian_officer, ratios=ALL_IN)
    by_name = {t.entity.name: t for t in Task.objects.filter(draw=d1).select_related("entity")}
    a = complete(by_name["西安测试电缆有限公司"])
    Task.objects.filter(pk=a.pk).update(completed_at=timezone.now() - dt.timedelta(days=40))
    b = complete(by_name["西安第0电缆有限公司"])
    Task.objects.filter(pk=b.pk).update(publish_due=today - dt.timedelta(days=1))
    c = complete(by_name["西安第1电缆有限公司"], publish=False)
    Task.objects.filter(pk=c.pk).update(publish_due=today - dt.timedelta(days=3))
    Task.objects.filter(pk=by_name["西安第2电缆有限公司"].pk).update(
        due_on=today - dt.timedelta(days=5))
    d2 = draw_plan(w, xian_officer, ratios=ALL_IN, exclusion_months=0,
                   title="2026年西安市电线电缆复查")
    assert [t.entity.name for t in d2.tasks.all()] == ["西安测试电缆有限公司"]
    complete(d2.tasks.get())
    d3 = draw_plan(w, xian_officer, category="steel",
                   ratios={"A": 0, "B": 3000, "C": 0, "D": 0}, title="2026年西安市钢筋抽查")
    assert d3.result["counts"] == [{"drawn": 3, "population": 10, "ratio_bp": 3000,
                                    "stratum": "B"}]
    return w | {"today": today}


def period(w) -> dict:
    today = w["today"]
    return {"start": (today - dt.timedelta(days=60)).isoformat(),
            "end": (today + dt.timedelta(days=130)).isoformat()}


def table(html: str, table_id: str) -> list[list[str]]:
    """The body rows of a table as lists of cell texts (tags stripped, spaces squeezed)."""
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([plain(c) for c in cells])
    return rows


def plain(fragment: str) -> str:
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def text_of(html: str, element_id: str) -> str:
    return plain(re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:div|dd|p|span)>', html,
                           re.S).group(1))


# --- access ------------------------------------------------------------------------------------

def test_the_url_name():
    assert reverse("inspections_dashboard:index") == URL


@pytest.mark.parametrize(("who", "status"), [
    ("admin_user", 200), ("province_officer", 200), ("xian_officer", 200),
    ("baoji_officer", 200), ("xian_housing_officer", 200), ("enterprise_user", 403),
    ("lab_user", 403), ("user_unit_user", 403)])
def test_who_may_open_it(who, status, world, request):
    resp = client_for(request.getfixturevalue(who)).get(URL)
    assert resp.status_code == status


def test_anonymous_users_sign_in_first(world):
    resp = client_for(None).get(URL)
    assert resp.status_code == 302
    assert resp["Location"] == f"{reverse('login')}?next={URL}"


# --- the figures ----------------------------------------------------------------------------------

def over_inspected(html: str) -> list[str]:
    block = re.search(r'id="over-inspected".*?</div>', html, re.S).group(0)
    return [plain(li) for li in re.findall(r"<li>(.*?)</li>", block, re.S)]


NOT_TESTABLE = "Not testable: the draws took all or none of this stratum"


def test_xian_dashboard(dashboard_world, xian_officer):
    w = dashboard_world
    today = w["today"]
    resp = client_for(xian_officer).get(URL, period(w))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert text_of(html, "count-in-scope") == "22"
    assert text_of(html, "count-inspected") == "3 (13.6 %)"
    assert text_of(html, "count-overdue") == "1"
    assert text_of(html, "count-unpublished") == "1"
    # Coverage: the cable plans cover the 12 cable firms (A, B and C inspected), the
    # steel plan the 10 steel firms (drawn, not yet inspected).
    assert table(html, "coverage-by-category") == [
        ["Rebar building.steel", "10", "0", "0.0 %"],
        ["Wires and cables electrical.cable", "12", "3", "25.0 %"]]
    assert table(html, "coverage-by-division") == [  # a city officer sees its districts
        ["Xincheng District 610102", "10", "0", "0.0 %"],
        ["Lianhu District 610104", "6", "1", "16.7 %"],
        ["Yanta District 610113", "6", "2", "33.3 %"]]
    # Share per class: P1 (all 12), P2 (firm A again, class B), P3 (3 of 10 steel, B).
    assert table(html, "share-by-class") == [
        ["A", "1", "3", "3", "100.0 %", "100 %"],
        ["B", "3", "15", "8", "53.3 %", "30–100 %"],
        ["C", "1", "3", "3", "100.0 %", "100 %"],
        ["D", "1", "2", "2", "100.0 %", "100 %"]]
    # Firm A inspected twice in 12 months, B and C once.
    assert table(html, "inspections-per-firm") == [["1", "2"], ["2", "1"]]
    assert "1 firm was inspected more than once in 12 months." in html
    assert over_inspected(html) == [
        f"西安测试电缆有限公司 {w['xian_entity'].uscc} · Yanta District · 2 inspections"]
    assert table(html, "overdue-tasks") == [
        ["SJ-2026-0001", "西安第2电缆有限公司", "Lianhu District",
         (today - dt.timedelta(days=5)).isoformat(), "5", "Assigned"]]
    assert (text_of(html, "published-completed"), text_of(html, "published-on-time"),
            text_of(html, "published-late"), text_of(html, "published-waiting")) == (
        "4", "2", "1", "0")
    assert table(html, "unpublished-results") == [
        ["SJ-2026-0001", "西安第1电缆有限公司", (today - dt.timedelta(days=3)).isoformat(), "3"]]
    # Fairness: B pools the cable firms of class B (drawn every time: no information) and
    # the steel draw, 3 of 10 at 30 %, for which T = N = 10 whoever was drawn (docs).
    b = stats.fairness("B", [stats.StratumDraw(10, 3000, 3)],
                       [stats.Exposure((0,), 1)] * 3 + [stats.Exposure((0,), 0)] * 7)
    assert (b.statistic, b.df, round(b.p_value, 4)) == (10.0, pytest.approx(26.25), 0.4633)
    assert table(html, "fairness") == [
        ["A", "1", "3", "3", "3.0", "—", "—", "—", NOT_TESTABLE],
        ["B", "3", "14", "8", "8.0", "10.00", "26.2", "0.463", "Consistent with a fair draw"],
        ["C", "1", "3", "3", "3.0", "—", "—", "—", NOT_TESTABLE],
        ["D", "1", "2", "2", "2.0", "—", "—", "—", NOT_TESTABLE]]


def test_a_provincial_officer_sees_cities(dashboard_world, province_officer):
    html = client_for(province_officer).get(URL, period(dashboard_world)).content.decode()
    assert table(html, "coverage-by-division") == [["Xi'an City 610100", "22", "3", "13.6 %"]]
    assert text_of(html, "count-overdue") == "1"


def test_a_sector_department_counts_only_its_sectors(dashboard_world, xian_housing_officer):
    html = client_for(xian_housing_officer).get(URL, period(dashboard_world)).content.decode()
    assert table(html, "coverage-by-category") == [
        ["Rebar building.steel", "10", "0", "0.0 %"],
        ["Wires and cables electrical.cable", "0", "0", "—"]]
    assert text_of(html, "count-in-scope") == "10"
    assert "per-firm-empty" in html  # the cable firms are outside its sectors


def test_baoji_sees_nothing_of_xian(dashboard_world, baoji_officer):
    html = client_for(baoji_officer).get(URL, period(dashboard_world)).content.decode()
    for empty in ("coverage-empty", "shares-empty", "per-firm-empty", "overdue-none",
                  "unpublished-none", "fairness-empty"):
        assert f'id="{empty}"' in html, empty
    assert (text_of(html, "count-in-scope"), text_of(html, "count-overdue")) == ("0", "0")
    assert "西安" not in html.split('id="main"')[1]


def test_the_period_narrows_coverage_and_shares(dashboard_world, xian_officer):
    today = dashboard_world["today"]
    before = {"start": (today - dt.timedelta(days=60)).isoformat(),
              "end": (today - dt.timedelta(days=1)).isoformat()}
    html = client_for(xian_officer).get(URL, before).content.decode()
    assert "coverage-empty" in html  # the plans start today
    assert "shares-empty" in html  # no draw seeded before today
    assert table(html, "inspections-per-firm") == [["1", "1"]]  # A, 40 days ago
    assert text_of(html, "published-completed") == "1"
    assert len(table(html, "fairness")) == 4  # fairness always covers every draw


def test_a_bad_period_is_refused_and_the_default_shown(dashboard_world, xian_officer):
    today = dashboard_world["today"]
    resp = client_for(xian_officer).get(URL, {"start": today.isoformat(),
                                              "end": (today - dt.timedelta(days=1)).isoformat()})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert text_of(html, "period-errors") == "The period ends before it starts."
    assert (resp.context["start"], resp.context["end"]) == (
        dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))


def test_nobody_over_inspected(inspection_world, xian_officer):
    d = draw_plan(inspection_world, xian_officer, ratios=ALL_IN)
    complete(d.tasks.order_by("pk").first())
    html = client_for(xian_officer).get(URL).content.decode()
    assert table(html, "inspections-per-firm") == [["1", "1"]]
    assert 'id="nobody-over-inspected"' in html
    assert 'id="over-inspected"' not in html


def test_chinese_page(dashboard_world, xian_officer):
    resp = client_for(xian_officer, "zh-hans").get(URL, period(dashboard_world))
    assert resp.status_code == 200
    assert table(resp.content.decode(), "coverage-by-division")[0] == [
        "新城区 610102", "10", "0", "0.0 %"]


# --- bounded queries -------------------------------------------------------------------------------

def count_queries(user, params) -> int:
    client = client_for(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL, params).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_data(dashboard_world, xian_officer):
    w = dashboard_world
    small = count_queries(xian_officer, period(w))
    assert small <= 20  # 19 today: session, user and scope 4, coverage 6, draws 1, …
    # More of everything: 6 more cable firms, two more plans and draws, more inspections.
    for i in range(6):
        e = f.EntityFactory(division=f.division("610111"), name=f"西安新{i}电缆有限公司",
                            risk_class="ABCD"[i % 4])
        e.categories.set([w["categories"]["cable"]])
    d = draw_plan(w, xian_officer, ratios={"A": 5000, "B": 5000, "C": 5000, "D": 5000},
                  exclusion_months=0, title="再抽")
    for task in d.tasks.order_by("pk")[:2]:
        complete(task)
    draw_plan(w, xian_officer, category="steel", ratios={"A": 0, "B": 5000, "C": 0, "D": 0},
              title="钢筋再抽", exclusion_months=0)
    Task.objects.filter(status="assigned").update(due_on=w["today"] - dt.timedelta(days=2))
    assert count_queries(xian_officer, period(w)) == small


def test_the_period_inputs_keep_iso_dates_in_chinese(client, province_officer):
    client.force_login(province_officer)
    page = client.get("/work/inspections/dashboard/?start=2026-01-01&end=2026-12-31",
                      HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'value="2026-01-01"' in page and 'value="2026-12-31"' in page
