"""The public pages of random inspections: published results (抽查结果公示) with their
filters, and every draw with its commitment, seed, counts, teams by badge, bundle and
verifier (随机抽取公示). An anonymous citizen reads them, in Chinese and in English.

The world is built through the services, with explicit times: a Xi'an cable plan (three
inspections completed, two of them published) and a Baoji building-materials plan whose
first draw is superseded by a redraw (one inspection completed and published)."""

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

import zhijian.verify
from tests import factories as f
from tests.inspections.conftest import plan_data
from zhijian.accounts.models import Role
from zhijian.inspections import draw, services
from zhijian.inspections.choices import DrawStatus, TaskStatus
from zhijian.inspections.models import Draw, Task

TZ = ZoneInfo("Asia/Shanghai")
TITLE = re.compile(r'data-testid="page-title">\s*(.*?)\s*</h1>', re.S)
RESULT = re.compile(r'<li class="card mb-2" id="result-(\d+)"')


def at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=TZ)


def complete(task, outcome, summary, when, *, publish=True):
    members = [m.inspector.user for m in task.members.select_related("inspector__user")]
    items = {i.pk: ("conforms", "") for i in task.plan.items.all()}
    if outcome == "rectification":
        first = min(items)
        items[first] = ("nonconforms", summary)
    services.task_record(actor=members[0], task_id=task.pk, items=items, outcome=outcome,
                         summary=summary, now=when)
    for u in members:
        services.task_sign(actor=u, task_id=task.pk, now=when + dt.timedelta(hours=1))
    services.task_complete(actor=members[1], task_id=task.pk, now=when + dt.timedelta(hours=2))
    if publish:
        assert services.result_publish(task.pk, now=when + dt.timedelta(hours=3))
    task.refresh_from_db()
    return task


@pytest.fixture
def published(inspection_world, draft_plan, xian_officer, baoji_officer):
    w = inspection_world
    cable = services.plan_publish(actor=xian_officer, plan=draft_plan, now=at(2))
    cable = services.draw_seed(actor=xian_officer, draw_id=cable.pk, dice="3 5 1 6 2 4 4 1 5 3",
                               witnesses="公证员 张三", now=at(2, 10))
    a, b, c = Task.objects.filter(draw=cable).select_related("entity").order_by("id")[:3]
    a = complete(a, "no_problem", "", at(5))
    b = complete(b, "rectification", "出厂检验记录缺少导体电阻数据，已责令整改。", at(10))
    c = complete(c, "no_problem", "", at(12), publish=False)

    baoji = w["departments"]["baoji"]
    steel = w["categories"]["steel"]
    second = f.EntityFactory(division=f.division("610303"), name="宝鸡第二钢铁有限公司")
    second.categories.set([steel])
    xian_steel = f.EntityFactory(division=f.division("610113"), name="西安钢筋有限公司")
    xian_steel.categories.set([steel])  # outside a Baoji plan's jurisdiction
    for n in range(3):
        user = f.UserFactory(username=f"baoji_inspector{n}", role=Role.REGULATOR,
                             department=baoji)
        f.InspectorFactory(department=baoji, badge_number=f"6103-{n:03d}",
                           name=f"宝鸡检查员{n}", user=user)
    plan = services.plan_save(
        actor=baoji_officer,
        data=plan_data(w, title="2026年宝鸡市建筑用钢筋双随机抽查", lead_department=baoji,
                       division_prefixes=["6103"],
                       ratios={"A": 10000, "B": 10000, "C": 10000, "D": 10000}),
        departments=[baoji], categories=[w["categories"]["building"]],
        checklist=[(baoji.pk, "生产许可证在有效期内")])
    first = services.plan_publish(actor=baoji_officer, plan=plan, now=at(3))
    redraw = services.draw_redraw(actor=baoji_officer, draw_id=first.pk,
                                  reason="检查人员名录更新，重新冻结并公布", now=at(3, 11))
    redraw = services.draw_seed(actor=baoji_officer, draw_id=redraw.pk, dice="6543216543",
                                witnesses="公证员 李四", now=at(3, 14))
    d = Task.objects.get(draw=redraw, entity=w["baoji_entity"])
    d = complete(d, "no_problem", "", at(20))
    first.refresh_from_db()
    return {"cable": cable, "first": first, "redraw": redraw, "a": a, "b": b, "c": c, "d": d,
            "xian_steel": xian_steel}


def results(client, query="") -> list[int]:
    response = client.get(f"/inspections/{query}")
    assert response.status_code == 200
    return [int(pk) for pk in RESULT.findall(response.content.decode())]


def title(response) -> str:
    return TITLE.search(response.content.decode()).group(1)


# --- results -------------------------------------------------------------------------------

def test_results_list_published_results_only_newest_first(as_user, published):
    p = published
    assert p["c"].status == TaskStatus.COMPLETED and p["c"].published_at is None
    client = as_user(None, "en")
    assert results(client) == [p["d"].pk, p["b"].pk, p["a"].pk]
    assert results(client, f"?q={p['c'].entity.uscc}") == []
    html = client.get("/inspections/").content.decode()
    b = html[html.index(f'id="result-{p["b"].pk}"'):]
    b = b[:b.index("</li>")]
    assert p["b"].entity.name in b and p["b"].entity.uscc in b
    assert "2026-11-10" in b and "出厂检验记录缺少导体电阻数据，已责令整改。" in b
    assert "Problems found, rectification ordered" in b
    assert "SJ-2026-0001" in b and "2026年西安市电线电缆产品质量双随机抽查" in b
    assert "西安市市场监督管理局" in b
    assert f'href="/draws/{p["cable"].pk}/#firm-{p["b"].entity.uscc}"' in b
    assert f'href="/draws/{p["cable"].pk}/bundle.json"' in b
    a = html[html.index(f'id="result-{p["a"].pk}"'):]
    a = a[:a.index("</li>")]
    assert "No problem found" in a and "zj-findings" not in a


def test_open_and_unpublished_tasks_never_appear(as_user, published):
    open_tasks = Task.objects.open()
    assert open_tasks.exists()
    html = as_user(None, "zh-hans").get("/inspections/").content.decode()
    for t in [*open_tasks, published["c"]]:
        assert f'id="result-{t.pk}"' not in html
        assert t.entity.uscc not in html


@pytest.mark.parametrize(("query", "expected"), [
    ("?q=宝鸡测试", ["d"]),
    ("?q=西安测试电缆", []),  # the fixture's own firm: drawn or not, its result is not
    ("?category=building", ["d"]),
    ("?category=building.steel", ["d"]),
    ("?category=electrical", ["b", "a"]),
    ("?category=electrical.cable", ["b", "a"]),
    ("?division=610300", ["d"]),
    ("?division=610302", ["d"]),
    ("?completed_from=2026-11-06&completed_to=2026-11-15", ["b"]),
    ("?completed_from=2026-11-10", ["d", "b"]),
    ("?completed_to=2026-11-05", ["a"]),
    ("?category=building&division=610100", []),
])
def test_result_filters_give_exact_sets(as_user, published, query, expected):
    p = published
    if "西安测试电缆" in query:
        expected = [k for k in ("b", "a") if p[k].entity.name == "西安测试电缆有限公司"]
    assert results(as_user(None, "en"), query) == [p[k].pk for k in expected]


def test_result_filters_by_uscc_and_county(as_user, published):
    p = published
    client = as_user(None, "en")
    assert results(client, f"?q={p['a'].entity.uscc}") == [p["a"].pk]
    assert results(client, f"?q={p['a'].entity.uscc[:10]}") == [
        p[k].pk for k in ("b", "a") if p[k].entity.uscc.startswith(p["a"].entity.uscc[:10])]
    county = p["a"].entity.division_id
    assert results(client, f"?division={county}") == [
        p[k].pk for k in ("b", "a") if p[k].entity.division_id == county]


def test_a_reversed_date_range_is_refused(as_user, published):
    html = as_user(None, "en").get(
        "/inspections/?completed_from=2026-11-15&completed_to=2026-11-01").content.decode()
    assert 'id="id_completed_to_error"' in html
    assert "The end of the range is before its start." in html
    assert RESULT.findall(html) == [] and 'id="no-results"' in html


def test_results_page_query_count_does_not_grow(as_user, published, django_assert_num_queries):
    client = as_user(None, "en")
    with django_assert_num_queries(4):  # categories, divisions, results, their departments
        client.get("/inspections/")


def test_no_result_yet(as_user, db):
    html = as_user(None, "en").get("/inspections/").content.decode()
    assert 'id="no-results"' in html and "No result has been published yet." in html


# --- draws ---------------------------------------------------------------------------------

def test_draw_list_shows_every_draw(as_user, published, django_assert_num_queries):
    p = published
    client = as_user(None, "en")
    with django_assert_num_queries(1):
        html = client.get("/draws/").content.decode()
    rows = re.findall(r'<tr id="draw-(\d+)">.*?data-status="(\w+)"', html, re.S)
    assert rows == [(str(p["redraw"].pk), "drawn"), (str(p["first"].pk), "superseded"),
                    (str(p["cable"].pk), "drawn")]
    assert "SJ-2026-0002" in html and "2026年宝鸡市建筑用钢筋双随机抽查" in html
    filtered = client.get("/draws/?q=SJ-2026-0001").content.decode()
    assert re.findall(r'<tr id="draw-(\d+)">', filtered) == [str(p["cable"].pk)]


def test_draw_detail_publishes_commitment_seed_counts_and_teams(as_user, published,
                                                                inspection_world):
    d = published["cable"]
    html = as_user(None, "en").get(f"/draws/{d.pk}/").content.decode()
    for part in ("plan", "frame", "pool", "sha256"):
        assert f'id="commitment-{part}">{d.commitment[part]}<' in html
    assert d.commitment["published_at"] == "2026-11-02T09:00:00+08:00"
    assert 'id="commitment-published-at">2026-11-02T09:00:00+08:00<' in html
    assert 'id="seed-dice">3516244153<' in html
    assert 'id="seed-witnesses">公证员 张三<' in html
    assert 'id="seed-entered-at">2026-11-02 10:00:00<' in html
    assert f'id="seed-sha256">{d.seed}<' in html
    for count in d.result["counts"]:
        row = re.search(rf'<tr data-stratum="{count["stratum"]}">(.*?)</tr>', html).group(1)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        assert cells == [count["stratum"], str(count["population"]),
                         f"{count['ratio_bp'] // 100} %", str(count["drawn"])]
    for s in d.result["selected"]:
        row = re.search(rf'<tr id="firm-{s["uscc"]}">(.*?)</tr>', html).group(1)
        assert " ".join(s["inspectors"]) in row
    for inspector in inspection_world["inspectors"]:
        assert inspector.name not in html  # names of inspectors are not public
    assert "Inspector pool: 6 inspectors." in html
    assert "No firm in scope was left out of the register." in html
    row = re.search(rf'<tr id="firm-{published["b"].entity.uscc}">(.*?)</tr>', html).group(1)
    assert "Problems found, rectification ordered" in row
    unpublished = re.search(rf'<tr id="firm-{published["c"].entity.uscc}">(.*?)</tr>',
                            html).group(1)
    assert "No problem found" not in unpublished  # completed, not yet published
    assert f'href="/draws/{d.pk}/bundle.json"' in html
    assert 'href="/draws/verifier/draw.py"' in html
    assert f"python3 draw.py zhijian-draw-SJ-2026-0001-{d.number}.json" in html


def test_superseded_draw_links_to_its_redraw_with_the_reason(as_user, published):
    p = published
    client = as_user(None, "en")
    old = client.get(f"/draws/{p['first'].pk}/").content.decode()
    assert p["first"].status == DrawStatus.SUPERSEDED
    assert 'data-status="superseded"' in old
    assert 'id="redraw-reason">检查人员名录更新，重新冻结并公布<' in old
    assert 'id="redrawn-as-link">' in old and f'href="/draws/{p["redraw"].pk}/"' in old
    assert 'id="no-seed"' in old and 'id="no-seed-check"' in old
    new = client.get(f"/draws/{p['redraw'].pk}/").content.decode()
    assert 'id="redraw-notice"' in new and f'href="/draws/{p["first"].pk}/"' in new
    # A Baoji plan stays in Baoji: the Xi'an steel firm is not even in its register.
    assert "No firm in scope was left out of the register." in new
    assert p["xian_steel"].uscc not in new


def test_unknown_draw_is_not_found(as_user, db):
    assert as_user(None).get("/draws/999/").status_code == 404
    assert as_user(None).get("/draws/999/bundle.json").status_code == 404


# --- bundle and verifier -------------------------------------------------------------------

def test_bundle_download_is_the_canonical_bundle_and_verifies(as_user, published, tmp_path):
    client = as_user(None)
    verifier = client.get("/draws/verifier/draw.py").content
    (tmp_path / "draw.py").write_bytes(verifier)
    for d in Draw.objects.order_by("id"):
        response = client.get(f"/draws/{d.pk}/bundle.json")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        name = f"zhijian-draw-{d.plan.code}-{d.number}.json"
        assert response["Content-Disposition"] == f'attachment; filename="{name}"'
        assert response.content == draw.canonical(d.bundle())
        (tmp_path / name).write_bytes(response.content)
        run = subprocess.run([sys.executable, "draw.py", name], cwd=tmp_path,
                             capture_output=True, text=True, check=False)
        if d.seed:
            assert [c.name for c in draw.verify_bundle(draw.loads(response.content))
                    if not c.ok] == []
            assert run.returncode == 0, run.stdout
            assert run.stdout.splitlines()[-1] == (
                f"draw verified: {len(d.result['selected'])} firms and their teams "
                "recomputed and equal")
        else:  # the superseded draw never had a seed: only its commitment checks out
            assert run.returncode == 1
            assert "OK   commitment.sha256" in run.stdout
            assert "FAIL bundle: bundle.seed: missing" in run.stdout


@pytest.mark.parametrize(("name", "module"), [("draw.py", draw), ("verify.py", zhijian.verify)])
def test_verifier_download_serves_the_module_source(as_user, db, name, module):
    response = as_user(None).get(f"/draws/verifier/{name}")
    assert response.status_code == 200
    assert response.content == Path(module.__file__).read_bytes()
    assert response["Content-Type"] == "text/x-python; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'


def test_unknown_verifier_is_not_found(as_user, db):
    assert as_user(None).get("/draws/verifier/settings.py").status_code == 404
    assert as_user(None).get("/draws/verifier/..%2Fsettings.py").status_code == 404


# --- languages and navigation --------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_pages_render_in_both_languages_for_anonymous_citizens(as_user, published, lang):
    client = as_user(None, lang)
    pages = [("/inspections/", "Random inspection results"), ("/draws/", "Random draws"),
             (f"/draws/{published['cable'].pk}/", "Draw #%(number)s of %(code)s")]
    for url, source in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'<html lang="{"zh-Hans" if lang == "zh-hans" else "en"}">' in html
        with translation.override(lang):
            expected = translation.gettext(source)
        if "%(" in expected:
            expected = expected % {"number": published["cable"].number, "code": "SJ-2026-0001"}
        assert title(response) == expected, url
    outcome = client.get("/inspections/").content.decode()
    with translation.override(lang):
        assert translation.gettext("No problem found") in outcome
    division = published["d"].entity.division
    assert division.display_name(lang) in outcome


def test_home_and_navigation_link_both_pages(as_user, db):
    html = as_user(None, "en").get("/").content.decode()
    assert re.search(r'href="/inspections/" id="home-inspection-results"', html)
    assert re.search(r'href="/draws/" id="home-draws"', html)
    assert re.search(r'href="/inspections/" id="nav-inspection-results"', html)
    assert re.search(r'href="/draws/" id="nav-draws"', html)
    page = as_user(None, "en").get("/draws/").content.decode()
    assert re.search(r'class="nav-link active" href="/draws/" id="nav-draws"', page)


@pytest.mark.parametrize("persona", [None, "xian_officer", "enterprise_user", "lab_user"])
def test_the_pages_are_public_for_every_persona(request, as_user, published, persona):
    user = request.getfixturevalue(persona) if persona else None
    client = as_user(user, "en")
    d = published["cable"]
    for url in ("/inspections/", "/draws/", f"/draws/{d.pk}/", f"/draws/{d.pk}/bundle.json",
                "/draws/verifier/draw.py"):
        assert client.get(url).status_code == 200, (persona, url)
    # Signed in or not, the list is the same: published results only.
    assert results(client) == [published[k].pk for k in ("d", "b", "a")]
