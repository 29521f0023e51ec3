"""The random-inspection API (/api/v1/inspection-plans/, draws/, inspection-tasks/,
public/inspection-results/): the authorization matrix of every endpoint and method for
every persona (exact statuses, exact rows, and for every refusal proof that nothing
changed), bad input naming the field, the whole flow through the API, and query-count
pins on the lists."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from tests.api.conftest import _FIXTURE, PERSONAS, rows_of
from tests.api.matrix import ALL, EVERYONE, Case, L, S, check_case
from tests.inspections.conftest import plan_data
from zhijian.accounts.models import User
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.inspections import draw, services
from zhijian.inspections.api import router
from zhijian.inspections.choices import DrawStatus, PlanStatus, TaskStatus
from zhijian.inspections.models import (
    ChecklistItem,
    Draw,
    Evidence,
    InspectionPlan,
    InspectorConflict,
    Task,
    TaskItem,
    TaskMember,
)

ALL_IN = {"A": 10000, "B": 10000, "C": 10000, "D": 10000}
DICE = "3 5 1 6 2 4 4 1 5 3"
XE = "西安测试电缆有限公司"
CABLE_FIRMS = {XE} | {f"西安第{i}电缆有限公司" for i in range(11)}
P1, P2, P3 = "SJ-2026-0001", "SJ-2026-0002", "SJ-2026-0003"
MISSING = 10**9


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def save_plan(w, officer, **over):
    xian = w["departments"]["xian"]
    category = over.pop("category", "cable")
    return services.plan_save(
        actor=officer, data=plan_data(w, **over), departments=[xian],
        categories=[w["categories"][category]],
        checklist=[(xian.pk, "生产许可证在有效期内"), (xian.pk, "出厂检验记录完整")])


def complete(task: Task) -> Task:
    """The drawn team records, signs and completes the task; the result is published."""
    members = [m.inspector.user for m in task.members.select_related("inspector__user")]
    items = {i.pk: ("conforms", "") for i in task.plan.items.all()}
    services.task_record(actor=members[0], task_id=task.pk, items=items,
                         outcome="no_problem", firm_representative="王厂长")
    for u in members:
        services.task_sign(actor=u, task_id=task.pk)
    services.task_complete(actor=members[0], task_id=task.pk)
    services.result_publish(task.pk)
    task.refresh_from_db()
    return task


@pytest.fixture
def igrid(inspection_world, xian_officer):
    """P1: the Xi'an cable plan, every firm drawn (ratios 100 %), the Xi'an test firm's
    inspection completed and published. P2: a draft steel plan. P3: a published steel
    plan whose draw waits for its seed."""
    w = inspection_world
    steel = w["categories"]["steel"]
    for i in range(2):
        e = f.EntityFactory(division=f.division("610102"), name=f"西安第{i}钢筋有限公司")
        e.categories.set([steel])
    p1 = save_plan(w, xian_officer, ratios=ALL_IN)
    d1 = services.plan_publish(actor=xian_officer, plan=p1)
    d1 = services.draw_seed(actor=xian_officer, draw_id=d1.pk, dice=DICE, witnesses="公证员 张三")
    done = complete(Task.objects.get(draw=d1, entity=w["xian_entity"]))
    open_task = Task.objects.filter(draw=d1).exclude(pk=done.pk).order_by("pk").first()
    p2 = save_plan(w, xian_officer, category="steel", title="2026年西安市钢筋双随机抽查")
    p3 = save_plan(w, xian_officer, category="steel", title="2026年西安市钢筋专项抽查")
    d3 = services.plan_publish(actor=xian_officer, plan=p3)
    assert [p.code for p in (p1, p2, p3)] == [P1, P2, P3]
    return w | {"p1": p1, "p2": p2, "p3": p3, "d1": d1, "d3": d3, "done": done,
                "open": open_task}


@pytest.fixture
def persona(request):
    """persona("xian") -> the user of that persona (None for anonymous)."""
    return lambda name: None if name == "anonymous" else request.getfixturevalue(_FIXTURE[name])


def fingerprint() -> dict:
    """Everything a refused request must leave as it was."""
    def rows(model):
        return list(model.objects.order_by("pk").values())

    def links(name):
        through = getattr(InspectionPlan, name).through
        return sorted(through.objects.values_list(*[x.attname for x in through._meta.fields]))

    return {
        "plans": rows(InspectionPlan), "plan_departments": links("departments"),
        "plan_categories": links("categories"), "checklist": rows(ChecklistItem),
        "draws": rows(Draw), "tasks": rows(Task), "members": rows(TaskMember),
        "task_items": rows(TaskItem), "evidence": rows(Evidence),
        "conflicts": rows(InspectorConflict),
        "audit_entries": AuditEntry.objects.count(), "outbox_events": OutboxEvent.objects.count(),
    }


# --- the matrix ----------------------------------------------------------------------------

NONE: set = set()
code = lambda row: row["code"]  # noqa: E731
entity_name = lambda row: row["entity"]["name"]  # noqa: E731
# Who may plan for the Xi'an market bureau: its officers and administrators. The others
# who may see the plan are refused (403); those who may not see it get 404.
LEAD_WRITE = S(401, 200, 403, 200, 404, 403, 404, 404, 404)
MEMBERS_ONLY = S(401, 403, 403, 403, 404, 403, 404, 404, 404)


def plan_url(g, key="p1", suffix=""):
    return f"/api/v1/inspection-plans/{g[key].pk}/{suffix}"


def task_url(g, key="open", suffix=""):
    return f"/api/v1/inspection-tasks/{g[key].pk}/{suffix}"


def new_plan_body(g):
    xian = g["departments"]["xian"].pk
    return {"title": "2027年西安市钢筋双随机抽查", "lead_department": xian,
            "departments": [xian], "categories": ["building.steel"],
            "division_prefixes": ["6101"], "period_start": "2027-01-04",
            "period_end": "2027-06-30", "ratios": {"A": 300, "B": 500, "C": 1000, "D": 10000},
            "checklist": [{"department": xian, "text": "钢筋屈服强度检验报告齐全"}]}


def record_body(g):
    return {"outcome": "no_problem",
            "items": [{"item": i.pk, "result": "conforms"} for i in g["p1"].items.all()]}


def evidence_body(g):
    return {"file": SimpleUploadedFile("现场.jpg", b"\xff\xd8photo", "image/jpeg")}


def with_status(expect: dict, ok: int) -> dict:
    return {who: ok if status == 200 else status for who, status in expect.items()}


CASES = [
    # --- plans: regulators whose jurisdiction holds a participating department --------
    Case("inspection-plan:list", "get", lambda g: "/api/v1/inspection-plans/", key=code,
         expect=L(None, {P1, P2, P3}, {P1, P2, P3}, {P1, P2, P3}, NONE, {P1, P2, P3}, NONE,
                  NONE, NONE)),
    Case("inspection-plan:retrieve", "get", plan_url,
         S(401, 200, 200, 200, 404, 200, 404, 404, 404)),
    Case("inspection-plan:retrieve", "get", lambda g: f"/api/v1/inspection-plans/{MISSING}/",
         S(401, 404, 404, 404, 404, 404, 404, 404, 404), label="missing"),
    Case("inspection-plan:create", "post", lambda g: "/api/v1/inspection-plans/",
         S(401, 201, 403, 201, 403, 403, 403, 403, 403), writes=1, body=new_plan_body,
         attrs={who: "lead_department" for who in ("province", "baoji", "xian_housing",
                                                   "enterprise", "lab", "user_unit")}),
    Case("inspection-plan:partial_update", "patch", lambda g: plan_url(g, "p2"), LEAD_WRITE,
         writes=1, body=lambda g: {"title": "2026年西安市钢筋产品质量双随机抽查"},
         attrs={"province": "lead_department", "xian_housing": "lead_department"}),
    Case("inspection-plan:partial_update", "patch", plan_url, with_status(LEAD_WRITE, 400),
         label="published-plan-is-frozen", body=lambda g: {"title": "改"},
         attrs={"admin": "non_field_errors", "xian": "non_field_errors"}),
    Case("inspection-plan:publish", "post", lambda g: plan_url(g, "p2", "publish/"),
         with_status(LEAD_WRITE, 201), writes=1),
    Case("inspection-plan:seed", "post", lambda g: plan_url(g, "p3", "seed/"), LEAD_WRITE,
         writes=1, body=lambda g: {"dice": DICE, "witnesses": "公证员 张三"}),
    Case("inspection-plan:seed", "post", lambda g: plan_url(g, "p2", "seed/"),
         with_status(LEAD_WRITE, 400), label="draft-has-no-draw",
         body=lambda g: {"dice": DICE, "witnesses": "公证员 张三"},
         attrs={"admin": "non_field_errors", "xian": "non_field_errors"}),
    Case("inspection-plan:redraw", "post", lambda g: plan_url(g, "p3", "redraw/"),
         with_status(LEAD_WRITE, 201), writes=1,
         body=lambda g: {"reason": "两名检查员调离，检查人员库已更新"}),
    Case("inspection-plan:redraw", "post", lambda g: plan_url(g, "p1", "redraw/"),
         with_status(LEAD_WRITE, 400),
         label="started", body=lambda g: {"reason": "两名检查员调离，检查人员库已更新"},
         attrs={"admin": "non_field_errors", "xian": "non_field_errors"}),
    # --- draws: public ----------------------------------------------------------------
    Case("draw:list", "get", lambda g: "/api/v1/draws/",
         key=lambda r: (r["plan_code"], r["number"], r["status"]),
         expect=EVERYONE({(P1, 1, "drawn"), (P3, 1, "committed")})),
    Case("draw:retrieve", "get", lambda g: f"/api/v1/draws/{g['d3'].pk}/", ALL(200)),
    Case("draw:retrieve", "get", lambda g: f"/api/v1/draws/{MISSING}/", ALL(404),
         label="missing"),
    Case("draw:bundle", "get", lambda g: f"/api/v1/draws/{g['d1'].pk}/bundle/", ALL(200)),
    Case("draw:bundle", "get", lambda g: f"/api/v1/draws/{g['d3'].pk}/bundle/", ALL(404),
         label="before-the-seed"),
    # --- tasks: visible with their plan in jurisdiction; an enterprise its own results;
    #     only the drawn inspectors write (none of the personas is one) --------------------
    Case("inspection-task:list", "get", lambda g: "/api/v1/inspection-tasks/", key=entity_name,
         expect=L(None, CABLE_FIRMS, CABLE_FIRMS, CABLE_FIRMS, NONE, CABLE_FIRMS, {XE},
                  NONE, NONE)),
    Case("inspection-task:retrieve", "get", task_url,
         S(401, 200, 200, 200, 404, 200, 404, 404, 404), label="open"),
    Case("inspection-task:retrieve", "get", lambda g: task_url(g, "done"),
         S(401, 200, 200, 200, 404, 200, 200, 404, 404), label="published"),
    Case("inspection-task:record", "post", lambda g: task_url(g, suffix="record/"),
         MEMBERS_ONLY, body=record_body),
    Case("inspection-task:record", "post", lambda g: task_url(g, "done", "record/"),
         S(401, 403, 403, 403, 404, 403, 403, 404, 404), body=record_body,
         label="own-result"),
    Case("inspection-task:sign", "post", lambda g: task_url(g, suffix="sign/"), MEMBERS_ONLY),
    Case("inspection-task:complete", "post", lambda g: task_url(g, suffix="complete/"),
         MEMBERS_ONLY),
    Case("inspection-task:evidence", "post", lambda g: task_url(g, suffix="evidence/"),
         MEMBERS_ONLY, body=evidence_body, fmt="multipart"),
    # --- public results ------------------------------------------------------------------
    Case("public-inspection-result:list", "get",
         lambda g: "/api/v1/public/inspection-results/", key=lambda r: r["entity_name"],
         expect=EVERYONE({XE})),
    Case("public-inspection-result:retrieve", "get",
         lambda g: f"/api/v1/public/inspection-results/{g['done'].pk}/", ALL(200)),
    Case("public-inspection-result:retrieve", "get",
         lambda g: f"/api/v1/public/inspection-results/{g['open'].pk}/", ALL(404),
         label="not-published"),
]


@pytest.mark.parametrize(
    ("case", "who"),
    [pytest.param(c, p, id=f"{c.id}-{p}") for c in CASES for p in PERSONAS],
)
def test_matrix(case, who, igrid, persona, api):
    check_case(case, who, igrid, persona(who), api, fingerprint)


def _routed_actions() -> set[str]:
    found = set()
    for _prefix, viewset, basename in router.registry:
        for route in router.get_routes(viewset):
            for method, action in route.mapping.items():
                if hasattr(viewset, action) and method != "options":
                    found.add(f"{basename}:{action}")
    return found


def test_every_endpoint_is_in_the_matrix():
    assert _routed_actions() == {c.action for c in CASES}


def test_put_and_delete_are_not_offered(igrid, admin_user, api):
    api.force_authenticate(admin_user)
    before = fingerprint()
    for method, url in [("put", plan_url(igrid, "p2")), ("delete", plan_url(igrid, "p2")),
                        ("post", f"/api/v1/draws/{igrid['d1'].pk}/bundle/"),
                        ("patch", task_url(igrid)), ("delete", f"/api/v1/draws/{igrid['d1'].pk}/")]:
        resp = getattr(api, method)(url, {}, format="json")
        assert resp.status_code == 405, (method, url)
        assert resp.json()["errors"][0]["code"] == "method_not_allowed"
    assert fingerprint() == before


@pytest.mark.parametrize("suffix", ["", "publish/", "seed/", "redraw/"])
def test_a_plan_not_yours_is_indistinguishable_from_absent(suffix, igrid, baoji_officer, api):
    api.force_authenticate(baoji_officer)
    before = fingerprint()
    method = api.post if suffix else api.get
    theirs = method(plan_url(igrid, "p3", suffix))
    absent = method(f"/api/v1/inspection-plans/{MISSING}/{suffix}")
    assert theirs.status_code == absent.status_code == 404
    assert theirs.content == absent.content
    assert fingerprint() == before


def test_service_refusals_are_403_with_their_message(igrid, province_officer, api):
    api.force_authenticate(province_officer)
    before = fingerprint()
    resp = api.post(plan_url(igrid, "p2", "publish/"), HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 403
    assert resp.json() == {"type": "client_error", "errors": [{
        "code": "permission_denied", "attr": "lead_department",
        "detail": "Only officers of the lead department can plan and change this inspection."}]}
    resp = api.post(task_url(igrid, suffix="sign/"), HTTP_ACCEPT_LANGUAGE="en")
    assert resp.json()["errors"] == [{
        "code": "permission_denied", "attr": None,
        "detail": "Only the inspectors drawn for this firm can record its inspection."}]
    assert fingerprint() == before


def test_the_bundle_waits_for_the_seed(igrid, api):
    resp = api.get(f"/api/v1/draws/{igrid['d3'].pk}/bundle/", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 404
    assert resp.json() == {"type": "client_error", "errors": [{
        "code": "not_found", "attr": None,
        "detail": "This draw has no seed yet; its bundle is published once the seed is "
                  "entered."}]}


def test_the_schema_describes_the_endpoints_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ["/api/v1/inspection-plans/", "/api/v1/inspection-plans/{id}/",
                 "/api/v1/inspection-plans/{id}/publish/", "/api/v1/inspection-plans/{id}/seed/",
                 "/api/v1/inspection-plans/{id}/redraw/", "/api/v1/draws/",
                 "/api/v1/draws/{id}/", "/api/v1/draws/{id}/bundle/",
                 "/api/v1/inspection-tasks/", "/api/v1/inspection-tasks/{id}/",
                 "/api/v1/inspection-tasks/{id}/record/", "/api/v1/inspection-tasks/{id}/sign/",
                 "/api/v1/inspection-tasks/{id}/complete/",
                 "/api/v1/inspection-tasks/{id}/evidence/",
                 "/api/v1/public/inspection-results/",
                 "/api/v1/public/inspection-results/{id}/"]:
        assert f"  {path}:" in text, path
    for enum in ["PlanKindEnum:", "PlanStatusEnum:", "DrawStatusEnum:", "TaskStatusEnum:",
                 "OutcomeEnum:", "ItemResultEnum:"]:
        assert f"    {enum}" in text, enum


# --- bad input ---------------------------------------------------------------------------------

def errors(resp) -> list[tuple[str | None, str]]:
    return [(e["attr"], e["detail"]) for e in resp.json()["errors"]]


def test_bad_plan_input_names_the_fields(igrid, xian_officer, api):
    api.force_authenticate(xian_officer)
    before = fingerprint()
    body = new_plan_body(igrid) | {"ratios": {"A": 12000, "B": 0, "C": 0, "D": 0},
                                   "division_prefixes": ["6199"], "categories": []}
    resp = api.post("/api/v1/inspection-plans/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert resp.json()["type"] == "validation_error"
    assert sorted(errors(resp)) == [
        ("categories", "Choose at least one product category: the scope is empty."),
        ("division_prefixes", "6199 is not a current division code; use a 2-, 4- or 6-digit "
                              "GB/T 2260 code of the province, a city or a county."),
        ("ratios", "Each ratio must be between 0 % and 100 %."),
    ]
    resp = api.post("/api/v1/inspection-plans/",
                    new_plan_body(igrid) | {"period_start": "2027-13-01", "categories": ["nope"],
                                            "team_size": "two"},
                    format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert [a for a, _ in errors(resp)] == ["categories", "period_start", "team_size"]
    resp = api.patch(plan_url(igrid, "p2"), {"period_end": "2026-01-01"}, format="json",
                     HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("period_end", "The period ends before it starts.")]
    assert fingerprint() == before


def test_bad_seed_and_redraw_input_names_the_fields(igrid, xian_officer, api):
    api.force_authenticate(xian_officer)
    before = fingerprint()
    resp = api.post(plan_url(igrid, "p3", "seed/"), {"dice": "3 5 7", "witnesses": "张三"},
                    format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert errors(resp) == [("dice", "Enter the dice rolls as digits 1 to 6, for example "
                                     "“3 5 1 6 2 4 4 1 5 3”.")]
    resp = api.post(plan_url(igrid, "p3", "seed/"), {"dice": "351"}, format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("witnesses", "This field is required.")]
    resp = api.post(plan_url(igrid, "p3", "redraw/"), {"reason": "太短"}, format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("reason", "Explain in at least 10 characters why the draw is "
                                       "repeated; the reason is published.")]
    assert fingerprint() == before


def test_bad_task_input_names_the_fields(igrid, api):
    task = igrid["open"]
    member = task.members.first().inspector.user
    api.force_authenticate(member)
    before = fingerprint()
    item = igrid["p1"].items.first()
    resp = api.post(task_url(igrid, suffix="record/"),
                    {"outcome": "fine", "items": [{"item": item.pk, "result": "maybe"}]},
                    format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert errors(resp) == [("outcome", '"fine" is not a valid choice.'),
                            ("items.0.result", '"maybe" is not a valid choice.')]
    resp = api.post(task_url(igrid, suffix="record/"),
                    {"outcome": "no_problem", "items": [{"item": item.pk,
                                                         "result": "nonconforms"}]},
                    format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [(f"item_{item.pk}", "Describe what does not conform.")]
    resp = api.post(task_url(igrid, suffix="record/"),
                    {"items": [{"item": MISSING, "result": "conforms"}]}, format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("items", f"Checklist item {MISSING} is not in this plan.")]
    resp = api.post(task_url(igrid, suffix="evidence/"), {}, format="multipart",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("file", "Attach the file.")]
    resp = api.post(task_url(igrid, suffix="complete/"), HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("non_field_errors",
                             "Record the inspection before completing it.")]
    assert fingerprint() == before


def test_bad_result_filters_name_the_field(igrid, api):
    resp = api.get("/api/v1/public/inspection-results/", {"completed_from": "2026-02-30"},
                   HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert errors(resp) == [("completed_from", "Enter a valid date.")]


# --- the whole flow ------------------------------------------------------------------------------

def test_the_whole_flow_through_the_api(inspection_world, xian_officer, api,
                                        django_capture_on_commit_callbacks):
    w = inspection_world
    xian = w["departments"]["xian"].pk
    api.force_authenticate(xian_officer)
    body = {"title": "2026年西安市电线电缆产品质量双随机抽查", "lead_department": xian,
            "departments": [xian], "categories": ["electrical.cable"],
            "division_prefixes": ["6101"], "period_start": "2026-12-01",
            "period_end": "2027-03-31", "ratios": {"A": 5000, "B": 5000, "C": 5000, "D": 10000},
            "checklist": [{"department": xian, "text": "生产许可证在有效期内"},
                          {"department": xian, "text": "出厂检验记录完整"}]}
    resp = api.post("/api/v1/inspection-plans/", body, format="json")
    assert resp.status_code == 201, resp.content
    plan = resp.json()
    assert (plan["code"], plan["status"], plan["current_draw"], plan["team_size"]) == (
        P1, "draft", None, 2)
    assert [c["text"] for c in plan["checklist"]] == ["生产许可证在有效期内", "出厂检验记录完整"]
    url = f"/api/v1/inspection-plans/{plan['id']}/"

    resp = api.patch(url, {"team_size": 3}, format="json")
    assert (resp.status_code, resp.json()["team_size"]) == (200, 3)
    assert [c["text"] for c in resp.json()["checklist"]] == [
        "生产许可证在有效期内", "出厂检验记录完整"]  # kept when not sent

    resp = api.post(url + "publish/")
    assert resp.status_code == 201, resp.content
    committed = resp.json()
    assert (committed["status"], committed["seed"], committed["bundle_url"],
            committed["counts"]) == ("committed", "", None, None)
    assert api.get(url).json()["current_draw"] == committed["id"]
    assert api.get(f"/api/v1/draws/{committed['id']}/bundle/").status_code == 404

    resp = api.post(url + "seed/", {"dice": DICE, "beacon": "", "witnesses": "公证员 张三"},
                    format="json")
    assert resp.status_code == 200, resp.content
    drawn = resp.json()
    assert (drawn["status"], drawn["dice"], drawn["witnesses"]) == (
        "drawn", "3516244153", "公证员 张三")
    assert drawn["bundle_url"] == f"http://testserver/api/v1/draws/{drawn['id']}/bundle/"
    assert sum(c["drawn"] for c in drawn["counts"]) == drawn["selected"]
    assert api.get(url).json()["status"] == "drawn"

    api.force_authenticate(None)
    bundle_resp = api.get(drawn["bundle_url"])
    assert bundle_resp.status_code == 200
    assert bundle_resp["Content-Type"] == "application/json; charset=utf-8"
    bundle = draw.loads(bundle_resp.content)
    assert bundle_resp.content == draw.canonical(bundle)
    assert [(c.name, c.ok) for c in draw.verify_bundle(bundle)] == [
        ("format", True), ("commitment.format", True), ("commitment.plan", True),
        ("commitment.frame", True),
        ("commitment.pool", True), ("commitment.sha256", True), ("seed", True),
        ("seed entered after the commitment", True), ("result.counts", True),
        ("result.selected", True)]
    public = api.get(f"/api/v1/draws/{drawn['id']}/").json()
    assert public["commitment_sha256"] == bundle["commitment"]["sha256"]

    # The team of one task does the inspection.
    task = Task.objects.filter(draw_id=drawn["id"]).order_by("pk").first()
    team = [m.inspector.user for m in task.members.select_related("inspector__user")]
    assert len(team) == 3
    items = list(ChecklistItem.objects.filter(plan_id=plan["id"]).order_by("position"))
    turl = f"/api/v1/inspection-tasks/{task.pk}/"
    api.force_authenticate(team[0])
    assert task.pk in {t["id"] for t in rows_of(api.get("/api/v1/inspection-tasks/").json())}
    resp = api.post(turl + "record/", {
        "outcome": "rectification", "summary": "出厂检验记录缺失两批次",
        "firm_representative": "王厂长",
        "items": [{"item": items[0].pk, "result": "conforms"},
                  {"item": items[1].pk, "result": "nonconforms", "note": "缺两批次记录"}]},
        format="json")
    assert resp.status_code == 200, resp.content
    assert (resp.json()["status"], resp.json()["outcome"]) == ("in_progress", "rectification")
    photo = b"\xff\xd8\xff\xe0 a photo of the register"
    resp = api.post(turl + "evidence/",
                    {"file": SimpleUploadedFile("记录.jpg", photo, "image/jpeg")},
                    format="multipart")
    assert resp.status_code == 201, resp.content
    assert (resp.json()["name"], resp.json()["size"], resp.json()["sha256"]) == (
        "记录.jpg", len(photo), hashlib.sha256(photo).hexdigest())
    for member in team:
        api.force_authenticate(member)
        assert api.post(turl + "sign/").status_code == 200
    resp = api.get(turl)
    assert all(m["signed_at"] for m in resp.json()["team"])
    with django_capture_on_commit_callbacks(execute=True):
        resp = api.post(turl + "complete/")
    assert resp.status_code == 200, resp.content
    assert (resp.json()["status"], resp.json()["published_at"]) == ("completed", None)
    done = api.get(turl).json()  # published by the subscriber, after the commit
    assert done["published_at"] is not None
    assert [(i["result"], i["note"]) for i in done["items"]] == [
        ("conforms", ""), ("nonconforms", "缺两批次记录")]

    # The public finds the result and, from it, the draw that chose the firm.
    api.force_authenticate(None)
    results = api.get("/api/v1/public/inspection-results/", {"q": task.entity.uscc}).json()
    assert results["count"] == 1
    row = results["results"][0]
    assert (row["plan"], row["draw"], row["entity_name"], row["outcome"], row["summary"]) == (
        P1, drawn["id"], task.entity.name, "rectification", "出厂检验记录缺失两批次")
    assert row["bundle_url"] == drawn["bundle_url"]
    assert draw.verify_bundle(draw.loads(api.get(row["bundle_url"]).content))[-1].ok


def test_redraw_through_the_api(draft_plan, xian_officer, api):
    api.force_authenticate(xian_officer)
    url = f"/api/v1/inspection-plans/{draft_plan.pk}/"
    first = api.post(url + "publish/").json()
    api.post(url + "seed/", {"dice": DICE, "witnesses": "张三"}, format="json")
    resp = api.post(url + "redraw/", {"reason": "两名检查员调离，检查人员库已更新"}, format="json")
    assert resp.status_code == 201, resp.content
    new = resp.json()
    assert (new["number"], new["status"], new["redraw_of"], new["redraw_reason"]) == (
        2, "committed", first["id"], "两名检查员调离，检查人员库已更新")
    old = api.get(f"/api/v1/draws/{first['id']}/").json()
    assert old["status"] == DrawStatus.SUPERSEDED
    assert api.get(url).json()["current_draw"] == new["id"]
    assert set(Task.objects.filter(draw_id=first["id"]).values_list("status", flat=True)) == {
        TaskStatus.CANCELLED}
    assert InspectionPlan.objects.get(pk=draft_plan.pk).status == PlanStatus.PUBLISHED


def test_public_results_search(igrid, api):
    done = igrid["done"]
    q = "/api/v1/public/inspection-results/"

    def found(**params):
        return [r["entity_uscc"] for r in api.get(q, params).json()["results"]]

    uscc = done.entity.uscc
    day = done.completed_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert found(q="测试电缆") == [uscc]
    assert found(q=uscc[:8].lower()) == [uscc]
    assert found(q="宝鸡") == []
    assert found(category="electrical.cable") == [uscc]
    assert found(category="electrical") == [uscc]  # a parent category
    assert found(category="building.steel") == []
    assert found(division="6101") == [uscc]
    assert found(division="610100") == [uscc]  # a city code reads as its prefix
    assert found(division="610113") == [uscc]
    assert found(division="6103") == []
    assert found(completed_from=day.isoformat(), completed_to=day.isoformat()) == [uscc]
    assert found(completed_from=(day + dt.timedelta(days=1)).isoformat()) == []
    assert found(completed_to=(day - dt.timedelta(days=1)).isoformat()) == []
    assert found(outcome="no_problem", plan=P1) == [uscc]
    assert found(outcome="case_opened") == []
    row = api.get(f"{q}{done.pk}/").json()
    assert row == {
        "id": done.pk, "plan": P1, "plan_title": "2026年西安市电线电缆产品质量双随机抽查",
        "department": "西安市市场监督管理局", "draw": igrid["d1"].pk,
        "bundle_url": f"http://testserver/api/v1/draws/{igrid['d1'].pk}/bundle/",
        "entity_uscc": uscc, "entity_name": XE, "division": "610113",
        "division_name": done.entity.division.name, "outcome": "no_problem", "summary": "",
        "completed_on": day.isoformat(),
        "published_at": row["published_at"], "record_sha256": done.record_sha256}
    assert row["published_at"] is not None


# --- query-count pins ------------------------------------------------------------------------

@pytest.fixture
def crowd(igrid, xian_officer):
    """More of everything: 8 more draft plans, 6 redraws of P3 (8 draws in all), and every
    task of P1 completed and published."""
    w = igrid
    for i in range(8):
        save_plan(w, xian_officer, category="steel", title=f"钢筋抽查{i}")
    d = w["d3"]
    for _ in range(6):
        d = services.draw_redraw(actor=xian_officer, draw_id=d.pk,
                                 reason="检查人员库已更新，重新抽取")
    for task in Task.objects.filter(draw=w["d1"]).exclude(pk=w["done"].pk):
        complete(task)
    return w


# (url, persona, most queries allowed, rows the page holds)
PINS = [
    ("/api/v1/inspection-plans/", "admin_user", 6, 11),
    ("/api/v1/inspection-plans/", "xian_officer", 8, 11),
    ("/api/v1/inspection-plans/", "xian_housing_officer", 10, 11),
    ("/api/v1/draws/", None, 2, 8),
    ("/api/v1/draws/", "admin_user", 2, 8),
    ("/api/v1/inspection-tasks/", "admin_user", 6, 12),
    ("/api/v1/inspection-tasks/", "xian_officer", 8, 12),
    ("/api/v1/inspection-tasks/", "enterprise_user", 6, 1),
    ("/api/v1/public/inspection-results/", None, 2, 12),
    ("/api/v1/public/inspection-results/?category=electrical&division=6101", None, 3, 12),
]


@pytest.mark.parametrize(("url", "who", "most", "rows"), PINS,
                         ids=[f"{u}-{w or 'anonymous'}" for u, w, _, _ in PINS])
def test_list_query_count(url, who, most, rows, crowd, api, request,
                          django_assert_max_num_queries):
    if who:
        user = User.objects.get(pk=request.getfixturevalue(who).pk)  # no cached scope
        api.force_authenticate(user)
    with django_assert_max_num_queries(most):
        resp = api.get(url)
    assert resp.status_code == 200
    assert len(rows_of(resp.json())) == rows


def test_every_list_endpoint_is_pinned():
    lists = {f"/api/v1/{prefix}/" for prefix, viewset, _ in router.registry
             if hasattr(viewset, "list")}
    assert lists - {url.split("?")[0] for url, *_ in PINS} == set()


def test_draw_lists_do_not_load_frames(crowd, api):
    with CaptureQueriesContext(connection) as ctx:
        api.get("/api/v1/draws/")
    assert all('"frame"' not in q["sql"] and '"pool"' not in q["sql"]
               for q in ctx.captured_queries)
