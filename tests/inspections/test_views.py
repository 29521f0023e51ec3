"""The random-inspection pages: who may open what, the whole flow from plan to published
result through the forms, refusals shown next to their field, both languages, and a
query-count pin on the task list."""

import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import localtime

from tests import factories as f
from tests.web.conftest import _audit_key, compiled_messages, make_client  # noqa: F401
from zhijian.core.models import AuditEntry
from zhijian.inspections import draw, services
from zhijian.inspections.choices import DrawStatus, PlanStatus, TaskStatus
from zhijian.inspections.models import (
    Draw,
    Evidence,
    InspectionPlan,
    InspectorConflict,
    Task,
    TaskMember,
)
from zhijian.registry.models import Inspector

# Personas are requested by name (getfixturevalue), so the database need is declared here.
pytestmark = pytest.mark.django_db

DICE = "3 5 1 6 2 4 4 1 5 3"
TITLE = re.compile(r'data-testid="page-title">\s*(.*?)\s*</h1>', re.S)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def as_user():
    """as_user(persona, lang) -> a logged-in client with the language cookie set."""
    return make_client


def page_title(response) -> str:
    match = TITLE.search(response.content.decode())
    assert match, "page has no data-testid=page-title heading"
    return match.group(1)


def field_error(html: str, name: str) -> str:
    match = re.search(rf'id="id_{name}_error">(.*?)</div>\s*</div>', html, re.S)
    assert match, f"no error shown next to {name}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def block(html: str, element_id: str) -> str:
    """The text of the element with this id (up to its first closing tag of that kind)."""
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element #{element_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2))).strip()


def plan_post(world, **overrides) -> dict:
    xian = world["departments"]["xian"]
    data = {
        "title": "2026年西安市电线电缆产品质量双随机抽查", "kind": "routine",
        "period_start": "2026-12-01", "period_end": "2027-03-31",
        "categories": [world["categories"]["cable"].pk], "division_prefixes": ["6101"],
        "licence_filter": "any",
        "ratios_A": "50", "ratios_B": "50", "ratios_C": "50", "ratios_D": "100",
        "exclusion_months": "12", "team_size": "2", "workload_cap": "10", "task_days": "20",
        f"checklist_{xian.pk}": "生产许可证在有效期内\n\n出厂检验记录完整\n",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def published(draft_plan, xian_officer):
    return services.plan_publish(actor=xian_officer, plan=draft_plan)


@pytest.fixture
def drawn(published, xian_officer):
    return services.draw_seed(actor=xian_officer, draw_id=published.pk, dice=DICE,
                              witnesses="公证员 张三")


def team_of(task) -> list:
    return [m.inspector.user for m in task.members.select_related("inspector__user")
            .order_by("slot")]


def outsider_inspector(inspection_world, task):
    """A Xi'an inspector who is not on the task's team."""
    team = set(task.members.values_list("inspector_id", flat=True))
    return next(i.user for i in inspection_world["inspectors"] if i.pk not in team)


# --- authorization matrix -----------------------------------------------------------------

PERSONAS = ["admin_user", "province_officer", "xian_officer", "baoji_officer",
            "xian_housing_officer", "enterprise_user", "lab_user", "user_unit_user",
            "anonymous"]
ORG = {"enterprise_user", "lab_user", "user_unit_user"}
#: who manages the Xi'an plan (lead department or administrator)
MANAGERS = {"admin_user", "xian_officer"}
#: who sees it (a participating department in their jurisdiction)
VIEWERS = {"admin_user", "province_officer", "xian_officer", "xian_housing_officer"}


def expected(persona: str, kind: str) -> int:
    """kind: "open" (any regulator), "create" (a department's officer), "view" (sees the
    plan), "manage" (lead department)."""
    if persona == "anonymous":
        return 302
    if persona in ORG:
        return 403
    if kind == "open":
        return 200
    if kind == "create":
        return 403 if persona == "admin_user" else 200
    if persona not in VIEWERS:
        return 404
    if kind == "view" or persona in MANAGERS:
        return 200
    return 403


@pytest.mark.parametrize("persona", PERSONAS)
def test_authorization_matrix(request, as_user, inspection_world, draft_plan, xian_officer,
                              persona):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    client = as_user(user, "en")
    p = draft_plan.pk

    def check(url, kind):
        response = client.get(url)
        assert response.status_code == expected(persona, kind), (persona, url)
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/?next="), url

    check("/work/inspections/", "open")
    check("/work/inspections/plans/new/", "create")
    check(f"/work/inspections/plans/{p}/", "view")
    check(f"/work/inspections/plans/{p}/edit/", "manage")
    check("/work/inspections/tasks/", "open")
    check("/work/inspections/tasks/mine/", "open")
    check("/work/inspections/conflicts/", "open")

    d = services.plan_publish(actor=xian_officer, plan=draft_plan)
    check(f"/work/inspections/draws/{d.pk}/", "view")
    check(f"/work/inspections/draws/{d.pk}/bundle.json", "view")
    check(f"/work/inspections/draws/{d.pk}/seed/", "manage")
    check(f"/work/inspections/draws/{d.pk}/redraw/", "manage")

    services.draw_seed(actor=xian_officer, draw_id=d.pk, dice=DICE, witnesses="张三")
    task = Task.objects.filter(draw=d).order_by("id").first()
    members = team_of(task)
    services.task_record(actor=members[0], task_id=task.pk, items={}, outcome="")
    ev = services.evidence_add(actor=members[0], task_id=task.pk,
                               upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4 x"))
    check(f"/work/inspections/tasks/{task.pk}/", "view")
    check(f"/work/inspections/tasks/{task.pk}/evidence/{ev.pk}/", "view")


@pytest.mark.parametrize("persona", sorted(set(PERSONAS) - MANAGERS))
def test_only_the_lead_department_publishes_seeds_and_redraws(
        request, as_user, inspection_world, draft_plan, xian_officer, persona):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    client = as_user(user, "en")
    status = expected(persona, "manage")
    audit_before = AuditEntry.objects.count()

    response = client.post(f"/work/inspections/plans/{draft_plan.pk}/publish/")
    assert response.status_code == status
    response = client.post(f"/work/inspections/plans/{draft_plan.pk}/edit/",
                           plan_post(inspection_world, title="改掉的标题"))
    assert response.status_code == status
    draft_plan.refresh_from_db()
    assert (draft_plan.status, draft_plan.title) == (PlanStatus.DRAFT,
                                                    "2026年西安市电线电缆产品质量双随机抽查")
    assert not Draw.objects.exists()
    assert AuditEntry.objects.count() == audit_before

    d = services.plan_publish(actor=xian_officer, plan=draft_plan)
    audit_before = AuditEntry.objects.count()
    assert client.post(f"/work/inspections/draws/{d.pk}/seed/",
                       {"dice": DICE, "witnesses": "张三"}).status_code == status
    assert client.post(f"/work/inspections/draws/{d.pk}/redraw/",
                       {"reason": "检查人员库已经更新，需要重新抽取"}).status_code == status
    d.refresh_from_db()
    assert (d.status, d.seed) == (DrawStatus.COMMITTED, "")
    assert Draw.objects.count() == 1
    assert AuditEntry.objects.count() == audit_before


def test_only_the_team_records_signs_and_completes(as_user, inspection_world, drawn,
                                                   xian_officer, baoji_officer,
                                                   enterprise_user):
    task = Task.objects.filter(draw=drawn).order_by("id").first()
    outsider = outsider_inspector(inspection_world, task)
    item = drawn.plan.items.first()
    audit_before = AuditEntry.objects.count()
    for user, status in ((xian_officer, 403), (outsider, 403), (baoji_officer, 404),
                         (enterprise_user, 403), (None, 302)):
        client = as_user(user, "en")
        base = f"/work/inspections/tasks/{task.pk}/"
        assert client.post(base, {f"item_{item.pk}": "conforms",
                                  "outcome": "no_problem"}).status_code == status
        assert client.post(base + "evidence/", {"file": SimpleUploadedFile(
            "x.jpg", b"jpeg", content_type="image/jpeg")}).status_code == status
        assert client.post(base + "sign/").status_code == status
        assert client.post(base + "complete/").status_code == status
    task.refresh_from_db()
    assert (task.status, task.outcome) == (TaskStatus.ASSIGNED, "")
    assert not Evidence.objects.exists()
    assert not task.item_results.exists()
    assert AuditEntry.objects.count() == audit_before
    # the officer may look, without the record form
    html = as_user(xian_officer, "en").get(f"/work/inspections/tasks/{task.pk}/").content.decode()
    assert 'id="record-form"' not in html and 'id="sign-form"' not in html


# --- the whole flow through the pages ----------------------------------------------------

def test_plan_publish_seed_record_sign_complete_publish(
        as_user, inspection_world, xian_officer, django_capture_on_commit_callbacks):
    w = inspection_world
    officer = as_user(xian_officer, "en")
    form = officer.get("/work/inspections/plans/new/").content.decode()
    # default ratios from rule inspections.default_ratios, as percentages
    assert re.search(r'name="ratios_A" value="3"', form)
    assert re.search(r'name="ratios_D" value="100"', form)

    response = officer.post("/work/inspections/plans/new/", plan_post(w))
    plan = InspectionPlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/work/inspections/plans/{plan.pk}/"
    assert plan.ratios == {"A": 5000, "B": 5000, "C": 5000, "D": 10000}
    assert plan.division_prefixes == ["6101"]
    assert list(plan.departments.all()) == [w["departments"]["xian"]]
    assert list(plan.items.values_list("text", flat=True)) == ["生产许可证在有效期内",
                                                               "出厂检验记录完整"]
    detail = officer.get(response["Location"]).content.decode()
    assert block(detail, "plan-ratios") == "Class A: 50 % Class B: 50 % Class C: 50 % Class D: 100 %"
    assert 'id="action-plan-publish"' in detail

    response = officer.post(f"/work/inspections/plans/{plan.pk}/publish/")
    d = Draw.objects.get(plan=plan)
    assert response.status_code == 302
    assert response["Location"] == f"/work/inspections/draws/{d.pk}/seed/"
    seed_page = officer.get(response["Location"]).content.decode()
    # witnesses see the commitment before anything is rolled or typed
    assert block(seed_page, "commitment-sha256") == d.commitment_sha256
    assert seed_page.index(d.commitment_sha256) < seed_page.index('name="dice"')

    response = officer.post(f"/work/inspections/draws/{d.pk}/seed/",
                            {"dice": DICE, "beacon": "", "witnesses": "公证员 张三"})
    assert response.status_code == 302
    assert response["Location"] == f"/work/inspections/draws/{d.pk}/"
    d.refresh_from_db()
    assert (d.status, d.dice) == (DrawStatus.DRAWN, "3516244153")
    page = officer.get(f"/work/inspections/draws/{d.pk}/").content.decode()
    counts = {c["stratum"]: c for c in d.result["counts"]}
    for key, c in counts.items():
        assert block(page, f"stratum-{key}") == (
            f"Class {key} {c['population']} {c['ratio_bp'] // 100} % {c['drawn']} {c['drawn']}")
    assert block(page, "verify-command") == "python -m zhijian.verify draw bundle.json"
    assert page.count('href="/work/inspections/tasks/') == len(d.result["selected"])

    bundle = officer.get(f"/work/inspections/draws/{d.pk}/bundle.json")
    assert bundle["Content-Disposition"] == f'attachment; filename="{plan.code}-draw-1.json"'
    assert bundle["Content-Type"] == "application/json"
    assert bundle.content == draw.canonical(d.bundle())
    assert [c.name for c in draw.verify_bundle(draw.loads(bundle.content)) if not c.ok] == []

    task = Task.objects.filter(draw=d).order_by("id").first()
    first, second = team_of(task)
    mine = as_user(first, "en").get("/work/inspections/tasks/mine/").content.decode()
    assert f'href="/work/inspections/tasks/{task.pk}/"' in mine

    inspector = as_user(first, "en")
    url = f"/work/inspections/tasks/{task.pk}/"
    items = list(plan.items.order_by("position"))
    record = {f"item_{i.pk}": "conforms" for i in items}
    record.update({f"note_{items[1].pk}": "记录齐全", "outcome": "no_problem",
                   "summary": "", "firm_representative": "李厂长"})
    assert inspector.post(url, record).status_code == 302
    photo = b"\xff\xd8\xff\xe0 a photo of the production licence"
    response = inspector.post(url + "evidence/", {"file": SimpleUploadedFile(
        "licence.jpg", photo, content_type="image/jpeg")})
    assert response.status_code == 302
    ev = Evidence.objects.get(task=task)
    assert (ev.name, ev.size, ev.sha256) == ("licence.jpg", len(photo),
                                            hashlib.sha256(photo).hexdigest())
    html = inspector.get(url).content.decode()
    assert block(html, f"evidence-{ev.pk}").startswith(
        f"licence.jpg {len(photo)} bytes SHA-256 {hashlib.sha256(photo).hexdigest()}")
    download = inspector.get(url + f"evidence/{ev.pk}/")
    assert b"".join(download.streaming_content) == photo
    assert download["Content-Disposition"] == 'attachment; filename="licence.jpg"'

    for user in (first, second):
        assert as_user(user, "en").post(url + "sign/").status_code == 302
    html = inspector.get(url).content.decode()
    assert html.count('data-signature="valid"') == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(second, "en").post(url + "complete/")
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.outcome, task.firm_representative) == (
        TaskStatus.COMPLETED, "no_problem", "李厂长")
    assert task.published_at is not None
    assert task.record_sha256 == services.task_record_digest(task)
    html = inspector.get(url).content.decode()
    assert block(html, "task-published") == localtime(task.published_at).strftime(
        "%Y-%m-%d %H:%M")
    assert block(html, "task-outcome") == "No problem found"


def test_a_later_change_voids_a_signature_and_the_page_says_so(as_user, drawn):
    task = Task.objects.filter(draw=drawn).order_by("id").first()
    first, second = team_of(task)
    items = {i.pk: ("conforms", "") for i in drawn.plan.items.all()}
    services.task_record(actor=first, task_id=task.pk, items=items, outcome="no_problem")
    services.task_sign(actor=first, task_id=task.pk)
    badge = first.inspector.badge_number
    html = as_user(second, "en").get(f"/work/inspections/tasks/{task.pk}/").content.decode()
    assert 'data-signature="valid"' in block_html(html, f"member-{badge}")
    services.task_record(actor=second, task_id=task.pk, items=items, outcome="no_problem",
                         summary="补充：现场检查未发现问题")
    html = as_user(second, "en").get(f"/work/inspections/tasks/{task.pk}/").content.decode()
    member = block(html, f"member-{badge}")
    assert "voided by a later change to the record" in member
    assert 'data-signature="voided"' in block_html(html, f"member-{badge}")
    # completing is refused until both sign the record as it now stands
    response = as_user(second, "en").post(f"/work/inspections/tasks/{task.pk}/complete/")
    assert response.status_code == 200
    names = "、".join(m.inspector.name for m in task.members.order_by("slot"))
    assert block(response.content.decode(), "record-errors") == f"Not yet signed by {names}."
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS


def block_html(html: str, element_id: str) -> str:
    match = re.search(rf'<li[^>]*id="{element_id}"[^>]*>(.*?)</li>', html, re.S)
    assert match, element_id
    return match.group(1)


def test_lead_officer_changes_a_draft_and_it_is_audited(as_user, inspection_world, draft_plan,
                                                      xian_officer):
    client = as_user(xian_officer, "en")
    url = f"/work/inspections/plans/{draft_plan.pk}/edit/"
    form = client.get(url).content.decode()
    xian = inspection_world["departments"]["xian"]
    assert 'name="ratios_A" value="50"' in form and 'name="ratios_D" value="100"' in form
    assert "生产许可证在有效期内\n出厂检验记录完整</textarea>" in form
    response = client.post(url, plan_post(
        inspection_world, title="2026年西安市电线电缆产品质量飞行检查", kind="flying",
        ratios_A="2.5", **{f"checklist_{xian.pk}": "生产许可证在有效期内"}))
    assert response.status_code == 302
    draft_plan.refresh_from_db()
    assert (draft_plan.title, draft_plan.kind, draft_plan.ratios["A"]) == (
        "2026年西安市电线电缆产品质量飞行检查", "flying", 250)
    assert list(draft_plan.items.values_list("text", flat=True)) == ["生产许可证在有效期内"]
    entry = AuditEntry.objects.filter(action="plan.updated").get()
    assert (entry.object_id, entry.actor) == (str(draft_plan.pk), "xian")
    services.plan_publish(actor=xian_officer, plan=draft_plan)
    response = client.get(url)
    assert (response.status_code, response["Location"]) == (
        302, f"/work/inspections/plans/{draft_plan.pk}/")


def test_a_failed_draw_shows_why_and_offers_the_redraw(as_user, inspection_world,
                                                      xian_officer):
    from tests.inspections.conftest import plan_data

    w = inspection_world
    xian = w["departments"]["xian"]
    plan = services.plan_save(actor=xian_officer, data=plan_data(w, workload_cap=1),
                              departments=[xian], categories=[w["categories"]["cable"]],
                              checklist=[(xian.pk, "生产许可证在有效期内")])
    d = services.plan_publish(actor=xian_officer, plan=plan)
    client = as_user(xian_officer, "en")
    response = client.post(f"/work/inspections/draws/{d.pk}/seed/",
                           {"dice": DICE, "witnesses": "张三"})
    assert response["Location"] == f"/work/inspections/draws/{d.pk}/"
    d.refresh_from_db()
    assert d.status == DrawStatus.FAILED
    html = client.get(response["Location"]).content.decode()
    assert block(html, "draw-status") == "Failed: inspector teams could not be formed"
    assert "The draw failed: inspector teams could not be formed for some firms" in html
    rows = re.findall(r"<tr>\s*<td[^>]*>(\w{18})</td>", html[html.index('id="failures-table"'):])
    assert rows == [f["uscc"] for f in d.failures]
    assert 'id="action-draw-redraw"' in html
    assert not Task.objects.filter(draw=d).exists()


def test_draw_page_counts_and_lists_the_exclusions(as_user, inspection_world, drawn,
                                                   xian_officer):
    from tests.inspections.conftest import plan_data

    w = inspection_world
    xian = w["departments"]["xian"]
    second = services.plan_save(actor=xian_officer, data=plan_data(w, title="第二批抽查"),
                                departments=[xian], categories=[w["categories"]["cable"]],
                                checklist=[(xian.pk, "出厂检验记录完整")])
    d = services.plan_publish(actor=xian_officer, plan=second)
    busy = {s["uscc"] for s in drawn.result["selected"]}
    html = as_user(xian_officer, "en").get(f"/work/inspections/draws/{d.pk}/").content.decode()
    assert block(html, "exclusion-counts") == f"Has an open inspection task: {len(busy)}"
    listed = re.findall(r'<tr><td class="font-monospace">(\w{18})</td><td>[^<]*</td>'
                        r"<td>Has an open inspection task</td>", html)
    assert set(listed) == busy
    assert block(html, "stratum-A").split()[:3] == ["Class", "A",
                                                    str(sum(1 for e in d.frame["entities"]
                                                            if e["stratum"] == "A"))]


def test_redraw_refused_by_the_pool_shows_the_failures(as_user, inspection_world, drawn,
                                                      xian_officer):
    Inspector.objects.exclude(pk=inspection_world["inspectors"][0].pk).update(active=False)
    response = as_user(xian_officer, "en").post(
        f"/work/inspections/draws/{drawn.pk}/redraw/",
        {"reason": "两名检查员调离，检查人员库已更新"})
    assert response.status_code == 200
    html = response.content.decode()
    assert block(html, "form-errors").endswith("then publish again.")
    assert 'id="failures-table"' in html
    drawn.refresh_from_db()
    assert drawn.status == DrawStatus.DRAWN
    assert set(drawn.tasks.values_list("status", flat=True)) == {TaskStatus.ASSIGNED}


def test_redraw_keeps_the_old_draw_visible_as_superseded(as_user, drawn, xian_officer):
    client = as_user(xian_officer, "en")
    response = client.post(f"/work/inspections/draws/{drawn.pk}/redraw/",
                           {"reason": "两名检查员调离，检查人员库已更新"})
    new = Draw.objects.get(redraw_of=drawn)
    assert response.status_code == 302
    assert response["Location"] == f"/work/inspections/draws/{new.pk}/seed/"
    plan_page = client.get(f"/work/inspections/plans/{drawn.plan_id}/").content.decode()
    assert block(plan_page, "draw-1").startswith("#1 Superseded by a redraw")
    assert block(plan_page, "draw-2").startswith("#2 Committed, waiting for the seed")
    assert "两名检查员调离，检查人员库已更新" in block(plan_page, "draw-2")
    old_page = client.get(f"/work/inspections/draws/{drawn.pk}/").content.decode()
    assert block(old_page, "superseded") == "Superseded by a redraw: Draw 2"
    new_page = client.get(f"/work/inspections/draws/{new.pk}/").content.decode()
    assert block(new_page, "redraw-reason") == "两名检查员调离，检查人员库已更新"


def test_publication_refused_shows_the_failures_table(as_user, inspection_world, draft_plan,
                                                     xian_officer):
    keep = inspection_world["inspectors"][0]
    Inspector.objects.exclude(pk=keep.pk).update(active=False)
    response = as_user(xian_officer, "en").post(
        f"/work/inspections/plans/{draft_plan.pk}/publish/")
    assert response.status_code == 200
    html = response.content.decode()
    assert block(html, "publish-errors") == (
        "12 firms in scope could never be given a full inspector team; add or qualify "
        "inspectors, or narrow the scope, then publish again.")
    table = html[html.index('id="failures-table"'):]
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table[:table.index("</thead>")])
    assert headers == ["Unified social credit code", "Firm", "Slot", "Department",
                       "Inspectors in jurisdiction", "Already in the team", "Conflict declared",
                       "On the previous visit", "Lack the qualification", "At the workload cap"]
    firm = inspection_world["xian_entity"]
    row = re.search(rf"<tr>\s*<td[^>]*>{firm.uscc}</td>(.*?)</tr>", table, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>",
                                                                    row, re.S)]
    assert cells == [firm.name, "2", "西安市市场监督管理局", "1", "1", "0", "0", "0", "0"]
    draft_plan.refresh_from_db()
    assert draft_plan.status == PlanStatus.DRAFT
    assert not Draw.objects.exists()


def test_failures_table_columns_in_chinese(as_user, inspection_world, draft_plan,
                                          xian_officer):
    Inspector.objects.exclude(pk=inspection_world["inspectors"][0].pk).update(active=False)
    html = as_user(xian_officer, "zh-hans").post(
        f"/work/inspections/plans/{draft_plan.pk}/publish/").content.decode()
    table = html[html.index('id="failures-table"'):]
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table[:table.index("</thead>")])
    assert headers == ["统一社会信用代码", "企业", "席位", "部门", "辖区内检查人员",
                       "已在本检查组", "已申报回避", "参加过上次检查", "缺少所需资格",
                       "已达工作量上限"]


def test_inspector_declares_a_conflict_from_the_task_page(as_user, inspection_world, drawn):
    task = Task.objects.filter(draw=drawn).order_by("id").first()
    first, _second = team_of(task)
    client = as_user(first, "en")
    page = client.get(f"/work/inspections/tasks/{task.pk}/").content.decode()
    link = re.search(r'href="([^"]+)" id="action-conflict"', page).group(1).replace("&amp;", "&")
    form = client.get(link).content.decode()
    assert f'value="{task.entity.uscc}"' in form
    response = client.post(link, {"inspector": first.inspector.pk, "entity": task.entity.uscc,
                                  "reason": "配偶在该企业任质量负责人",
                                  "next": f"/work/inspections/tasks/{task.pk}/"})
    assert response.status_code == 302
    assert response["Location"] == f"/work/inspections/tasks/{task.pk}/"
    c = InspectorConflict.objects.get()
    assert (c.inspector_id, c.entity_id, c.reason) == (first.inspector.pk, task.entity_id,
                                                       "配偶在该企业任质量负责人")


def test_officer_declares_for_own_inspectors_only(as_user, inspection_world, xian_officer,
                                                 province_officer):
    inspector = inspection_world["inspectors"][2]
    firm = inspection_world["firms"][3]
    refused = as_user(province_officer, "en").post("/work/inspections/conflicts/", {
        "inspector": inspector.pk, "entity": firm.uscc, "reason": "曾在该企业任职"})
    assert refused.status_code == 200
    assert field_error(refused.content.decode(), "inspector") == (
        "Select a valid choice. That choice is not one of the available choices.")
    assert not InspectorConflict.objects.exists()
    response = as_user(xian_officer, "en").post("/work/inspections/conflicts/", {
        "inspector": inspector.pk, "entity": firm.uscc, "reason": "曾在该企业任职"})
    assert response.status_code == 302
    assert InspectorConflict.objects.get().inspector == inspector


# --- bad input ------------------------------------------------------------------------------

def test_empty_scope_is_refused_next_to_each_field(as_user, inspection_world, xian_officer):
    response = as_user(xian_officer, "en").post("/work/inspections/plans/new/", plan_post(
        inspection_world, categories=None, division_prefixes=None))
    assert response.status_code == 200
    html = response.content.decode()
    assert field_error(html, "categories") == (
        "Choose at least one product category: the scope is empty.")
    assert field_error(html, "division_prefixes") == (
        "Choose at least one city or county: the scope is empty.")
    assert not InspectionPlan.objects.exists()


def test_ratio_above_100_percent_is_refused_in_chinese(as_user, inspection_world,
                                                      xian_officer):
    response = as_user(xian_officer, "zh-hans").post(
        "/work/inspections/plans/new/", plan_post(inspection_world, ratios_A="120"))
    assert response.status_code == 200
    html = response.content.decode()
    assert field_error(html, "ratios") == "A 类：请输入 0 到 100 之间的百分数，例如 3 或 2.5。"
    assert block(html, "form-errors") == "请更正下列错误。"
    assert not InspectionPlan.objects.exists()


def test_ratio_above_100_percent_is_refused_in_english(as_user, inspection_world,
                                                      xian_officer):
    response = as_user(xian_officer, "en").post(
        "/work/inspections/plans/new/", plan_post(inspection_world, ratios_A="120"))
    assert field_error(response.content.decode(), "ratios") == (
        "Class A: enter a percentage from 0 to 100, for example 3 or 2.5.")


def test_lead_department_needs_checklist_items(as_user, inspection_world, xian_officer):
    xian = inspection_world["departments"]["xian"]
    response = as_user(xian_officer, "en").post("/work/inspections/plans/new/", plan_post(
        inspection_world, **{f"checklist_{xian.pk}": "  \n"}))
    assert field_error(response.content.decode(), f"checklist_{xian.pk}") == (
        "Add at least one checklist item.")
    assert not InspectionPlan.objects.exists()


def test_joint_plan_with_the_housing_bureau(as_user, inspection_world, xian_officer):
    housing = inspection_world["departments"]["xian_housing"]
    response = as_user(xian_officer, "en").post("/work/inspections/plans/new/", plan_post(
        inspection_world, **{f"checklist_{housing.pk}": "施工现场进场材料检验记录"}))
    assert response.status_code == 302
    plan = InspectionPlan.objects.get()
    assert set(plan.departments.values_list("code", flat=True)) == {"6101-market",
                                                                    "6101-housing"}
    assert list(plan.items.values_list("department__code", "text")) == [
        ("6101-market", "生产许可证在有效期内"), ("6101-market", "出厂检验记录完整"),
        ("6101-housing", "施工现场进场材料检验记录")]


def test_seed_with_a_7_is_refused_next_to_the_dice(as_user, published, xian_officer):
    response = as_user(xian_officer, "en").post(f"/work/inspections/draws/{published.pk}/seed/",
                                                {"dice": "3 5 1 7 2 4 4 1 5 3",
                                                 "witnesses": "张三"})
    assert response.status_code == 200
    assert field_error(response.content.decode(), "dice") == (
        "Enter the dice rolls as digits 1 to 6, for example “3 5 1 6 2 4 4 1 5 3”.")
    published.refresh_from_db()
    assert (published.status, published.seed) == (DrawStatus.COMMITTED, "")


def test_redraw_without_reason_is_refused_next_to_the_reason(as_user, drawn, xian_officer):
    response = as_user(xian_officer, "en").post(f"/work/inspections/draws/{drawn.pk}/redraw/",
                                                {"reason": ""})
    assert response.status_code == 200
    assert field_error(response.content.decode(), "reason") == (
        "Explain in at least 10 characters why the draw is repeated; the reason is "
        "published.")
    drawn.refresh_from_db()
    assert drawn.status == DrawStatus.DRAWN
    assert Draw.objects.count() == 1


def test_nonconformity_needs_a_note(as_user, drawn):
    task = Task.objects.filter(draw=drawn).order_by("id").first()
    first, _ = team_of(task)
    item = drawn.plan.items.order_by("position").first()
    response = as_user(first, "en").post(f"/work/inspections/tasks/{task.pk}/", {
        f"item_{item.pk}": "nonconforms", "outcome": "rectification"})
    assert response.status_code == 200
    assert field_error(response.content.decode(), f"item_{item.pk}") == (
        "Describe what does not conform.")
    assert not task.item_results.exists()


# --- languages --------------------------------------------------------------------------------

def test_task_page_in_chinese_and_english(as_user, drawn):
    task = Task.objects.filter(draw=drawn).order_by("id").first()
    first, _ = team_of(task)
    zh = as_user(first, "zh-hans").get(f"/work/inspections/tasks/{task.pk}/").content.decode()
    en = as_user(first, "en").get(f"/work/inspections/tasks/{task.pk}/").content.decode()
    assert '<html lang="zh-Hans">' in zh and '<html lang="en">' in en
    assert block(zh, "record-heading") == "检查记录"
    assert block(en, "record-heading") == "Inspection record"
    assert block(zh, "signatures-heading") == "检查组与签名"
    assert block(en, "signatures-heading") == "Team and signatures"
    assert block(zh, "record-submit") == "保存记录"
    assert block(en, "record-submit") == "Save the record"
    assert block(zh, "nav-my-tasks") == "我的检查任务"
    assert block(en, "nav-my-tasks") == "My inspection tasks"
    assert block(zh, "nav-inspections") == "双随机抽查"
    assert block(en, "nav-inspections") == "Random inspections"


# --- lists --------------------------------------------------------------------------------------

def test_overdue_tasks_come_first_and_stand_out(as_user, drawn, xian_officer):
    tasks = list(Task.objects.filter(draw=drawn).order_by("id"))
    late = tasks[-1]
    Task.objects.filter(pk=late.pk).update(due_on=late.due_on.replace(year=2025))
    html = as_user(xian_officer, "en").get("/work/inspections/tasks/").content.decode()
    rows = re.findall(r'<tr([^>]*) id="task-(\d+)">', html)
    assert rows[0] == (' class="table-danger" data-overdue="1"', str(late.pk))
    assert [int(pk) for _attrs, pk in rows[1:]] == [t.pk for t in tasks[:-1]]
    assert "Overdue" in block(html, f"task-{late.pk}")
    only = as_user(xian_officer, "en").get("/work/inspections/tasks/?overdue=on").content.decode()
    assert re.findall(r'id="task-(\d+)"', only) == [str(late.pk)]

    member = team_of(late)[0]
    mine = as_user(member, "en").get("/work/inspections/tasks/mine/").content.decode()
    assert re.findall(r'id="task-(\d+)"', mine)[0] == str(late.pk)
    assert block(mine, "overdue-count") == "1 task overdue"


def test_task_list_queries_do_not_grow_with_rows(as_user, inspection_world, drawn,
                                                 province_officer):
    client = as_user(province_officer, "en")
    client.get("/work/inspections/tasks/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        response = client.get("/work/inspections/tasks/")
    shown = len(re.findall(r'id="task-\d+"', response.content.decode()))
    cable = inspection_world["categories"]["cable"]
    for task in list(Task.objects.filter(draw=drawn)):
        entity = f.EntityFactory(division=f.division("610113"))
        entity.categories.set([cable])
        clone = Task.objects.create(draw=drawn, plan=drawn.plan, entity=entity,
                                    stratum=task.stratum, rank=task.rank + 100,
                                    due_on=task.due_on)
        for m in task.members.all():
            TaskMember.objects.create(task=clone, inspector=m.inspector, slot=m.slot)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/work/inspections/tasks/")
    assert len(re.findall(r'id="task-\d+"', response.content.decode())) == 2 * shown
    # session, user, department, division, plans for the filter, count, inspector
    # record (navigation), tasks with firm and plan, teams
    assert len(many) == len(few) == 9


def test_not_an_inspector_sees_why_the_list_is_empty(as_user, inspection_world, xian_officer):
    html = as_user(xian_officer, "en").get("/work/inspections/tasks/mine/").content.decode()
    assert block(html, "not-an-inspector").startswith(
        "Your account is not linked to an inspector record")
    assert 'id="nav-my-tasks"' not in html


# --- admin ----------------------------------------------------------------------------------

def test_admin_shows_inspection_records_read_only(as_user, admin_user, drawn):
    client = as_user(admin_user, "en")
    task = Task.objects.filter(draw=drawn).first()
    for url in ("/admin/inspections/inspectionplan/", f"/admin/inspections/inspectionplan/{drawn.plan_id}/change/",
                "/admin/inspections/draw/", f"/admin/inspections/draw/{drawn.pk}/change/",
                "/admin/inspections/task/", f"/admin/inspections/task/{task.pk}/change/",
                "/admin/inspections/inspectorconflict/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'name="_save"' not in response.content.decode(), url
    for url in ("/admin/inspections/inspectionplan/add/", "/admin/inspections/draw/add/",
                "/admin/inspections/task/add/"):
        assert client.get(url).status_code == 403, url
    before = (drawn.plan.title, Draw.objects.count())
    client.post(f"/admin/inspections/inspectionplan/{drawn.plan_id}/change/",
                {"title": "admin edit"})
    drawn.plan.refresh_from_db()
    assert (drawn.plan.title, Draw.objects.count()) == before
