import pytest
from django.core.exceptions import ValidationError

from tests.inspections.conftest import plan_data
from zhijian.core.access import Denied
from zhijian.inspections import draw, services
from zhijian.inspections.choices import DrawStatus, PlanStatus, TaskStatus
from zhijian.inspections.models import InspectionPlan, Task


def test_plan_is_numbered_and_frozen_on_publication(draft_plan, xian_officer):
    assert draft_plan.code == "SJ-2026-0001"
    d = services.plan_publish(actor=xian_officer, plan=draft_plan)
    draft_plan.refresh_from_db()
    assert draft_plan.status == PlanStatus.PUBLISHED
    assert len(d.frame["entities"]) == 12
    assert d.commitment["sha256"] == draw.commitment(d.plan_snapshot, d.frame, d.pool)["sha256"]
    assert [s["key"] for s in d.frame["strata"]] == ["A", "B", "C", "D"]
    assert {p["badge"] for p in d.pool["inspectors"]} == {f"6101-{n:03d}" for n in range(6)}


def test_seed_draws_and_the_bundle_verifies(draft_plan, xian_officer):
    d = services.plan_publish(actor=xian_officer, plan=draft_plan)
    d = services.draw_seed(actor=xian_officer, draw_id=d.pk, dice="3 5 1 6 2 4 4 1 5 3",
                           witnesses="公证员 张三")
    assert d.status == DrawStatus.DRAWN
    bundle = draw.loads(draw.canonical(d.bundle()))
    checks = draw.verify_bundle(bundle)
    assert [c.name for c in checks if not c.ok] == []
    tasks = Task.objects.filter(draw=d)
    assert tasks.count() == len(d.result["selected"])
    assert all(t.members.count() == 2 for t in tasks)
    with pytest.raises(ValidationError):
        services.draw_seed(actor=xian_officer, draw_id=d.pk, dice="1111111111", witnesses="x")


def test_only_the_lead_department_plans(inspection_world, baoji_officer):
    w = inspection_world
    with pytest.raises(Denied):
        services.plan_save(actor=baoji_officer, data=plan_data(w),
                           departments=[w["departments"]["xian"]],
                           categories=[w["categories"]["cable"]],
                           checklist=[(w["departments"]["xian"].pk, "x")])
    assert InspectionPlan.objects.count() == 0


def test_empty_scope_and_bad_ratios_are_refused(inspection_world, xian_officer):
    w = inspection_world
    xian = w["departments"]["xian"]
    with pytest.raises(ValidationError) as e:
        services.plan_save(actor=xian_officer,
                           data=plan_data(w, ratios={"A": 12000, "B": 0, "C": 0, "D": 0},
                                          division_prefixes=[]),
                           departments=[xian], categories=[], checklist=[(xian.pk, "x")])
    assert set(e.value.message_dict) == {"categories", "division_prefixes", "ratios"}


def test_redraw_supersedes_with_a_reason(draft_plan, xian_officer):
    d = services.plan_publish(actor=xian_officer, plan=draft_plan)
    d = services.draw_seed(actor=xian_officer, draw_id=d.pk, dice="3516244153",
                           witnesses="张三")
    with pytest.raises(ValidationError):
        services.draw_redraw(actor=xian_officer, draw_id=d.pk, reason="短")
    new = services.draw_redraw(actor=xian_officer, draw_id=d.pk,
                               reason="两名检查员调离，检查人员库已更新")
    d.refresh_from_db()
    assert (d.status, new.number, new.redraw_of_id) == (DrawStatus.SUPERSEDED, 2, d.pk)
    assert set(d.tasks.values_list("status", flat=True)) == {TaskStatus.CANCELLED}
    assert new.plan_snapshot["redraw_of"]["reason"] == "两名检查员调离，检查人员库已更新"


def test_task_flow_publishes_the_result(draft_plan, xian_officer, django_capture_on_commit_callbacks):
    d = services.plan_publish(actor=xian_officer, plan=draft_plan)
    d = services.draw_seed(actor=xian_officer, draw_id=d.pk, dice="3516244153", witnesses="张三")
    task = d.tasks.first()
    members = [m.inspector.user for m in task.members.all()]
    items = {i.pk: ("conforms", "") for i in draft_plan.items.all()}
    services.task_record(actor=members[0], task_id=task.pk, items=items, outcome="no_problem")
    for u in members:
        services.task_sign(actor=u, task_id=task.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.task_complete(actor=members[1], task_id=task.pk)
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
    assert task.published_at is not None
    assert task.publish_due > task.completed_at.date()



def test_a_flying_inspection_keeps_its_selection_until_the_visits_are_over(
        inspection_world, xian_officer, client):
    import datetime as dt

    from zhijian.inspections.models import Draw

    w = inspection_world
    xian = w["departments"]["xian"]
    plan = services.plan_save(
        actor=xian_officer, data=plan_data(w, kind="flying", period_end=dt.date(2099, 12, 31)),
        departments=[xian], categories=[w["categories"]["cable"]],
        checklist=[(xian.pk, "现场检查生产记录")])
    d = services.plan_publish(actor=xian_officer, plan=plan)
    d = services.draw_seed(actor=xian_officer, draw_id=d.pk, dice="3516244153", witnesses="张三")
    assert not d.disclosed()
    public = d.masked().bundle()
    assert ("seed" in public, "result" in public) == (False, False)
    assert public["commitment"] == d.commitment
    page = client.get(f"/draws/{d.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert d.seed not in page.content.decode()
    assert b'id="withheld"' in page.content
    assert client.get(f"/api/v1/draws/{d.pk}/bundle/").status_code == 404
    assert client.get(f"/api/v1/draws/{d.pk}/").json()["seed"] == ""
    Task.objects.filter(draw=d).update(status=TaskStatus.COMPLETED)
    assert Draw.objects.get(pk=d.pk).disclosed()
    assert client.get(f"/api/v1/draws/{d.pk}/bundle/").status_code == 200


def test_a_flying_inspection_publishes_its_results_together_when_the_visits_are_over(
        inspection_world, xian_officer, client, django_capture_on_commit_callbacks):
    import datetime as dt

    w = inspection_world
    xian = w["departments"]["xian"]
    plan = services.plan_save(
        actor=xian_officer, data=plan_data(w, kind="flying", period_end=dt.date(2099, 12, 31),
                                           ratios={"A": 2000, "B": 2000, "C": 2000, "D": 2000}),
        departments=[xian], categories=[w["categories"]["cable"]],
        checklist=[(xian.pk, "现场检查生产记录")])
    d = services.plan_publish(actor=xian_officer, plan=plan)
    d = services.draw_seed(actor=xian_officer, draw_id=d.pk, dice="3516244153", witnesses="张三")
    assert client.get(f"/draws/{d.pk}/bundle.json").status_code == 404
    tasks = list(d.tasks.order_by("pk"))
    assert len(tasks) == 4
    for i, task in enumerate(tasks):
        members = [m.inspector.user for m in task.members.all()]
        services.task_record(actor=members[0], task_id=task.pk, outcome="no_problem",
                             items={item.pk: ("conforms", "") for item in plan.items.all()})
        for u in members:
            services.task_sign(actor=u, task_id=task.pk)
        with django_capture_on_commit_callbacks(execute=True):
            services.task_complete(actor=members[0], task_id=task.pk)
        published = Task.objects.filter(draw=d, published_at__isnull=False).count()
        assert published == (0 if i < 3 else 4)
    assert client.get(f"/draws/{d.pk}/bundle.json").status_code == 200


def test_a_plan_stays_within_the_lead_departments_jurisdiction(inspection_world, xian_officer):
    w = inspection_world
    xian, baoji = w["departments"]["xian"], w["departments"]["baoji"]
    with pytest.raises(ValidationError) as e:
        services.plan_save(actor=xian_officer, data=plan_data(w, division_prefixes=["6103"]),
                           departments=[xian], categories=[w["categories"]["cable"]],
                           checklist=[(xian.pk, "x")])
    assert list(e.value.message_dict) == ["division_prefixes"]
    with pytest.raises(ValidationError) as e:
        services.plan_save(actor=xian_officer, data=plan_data(w),
                           departments=[xian, w["departments"]["xian_housing"], baoji],
                           categories=[w["categories"]["cable"]],
                           checklist=[(xian.pk, "x"), (baoji.pk, "y")])
    assert "departments" in e.value.message_dict
    assert InspectionPlan.objects.count() == 0


def test_a_held_back_result_is_published_by_its_legal_date(
        inspection_world, xian_officer, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    w = inspection_world
    xian = w["departments"]["xian"]
    plan = services.plan_save(
        actor=xian_officer, data=plan_data(w, kind="flying", period_end=dt.date(2099, 12, 31),
                                           ratios={"A": 2000, "B": 2000, "C": 2000, "D": 2000}),
        departments=[xian], categories=[w["categories"]["cable"]],
        checklist=[(xian.pk, "现场检查生产记录")])
    d = services.plan_publish(actor=xian_officer, plan=plan)
    d = services.draw_seed(actor=xian_officer, draw_id=d.pk, dice="3516244153", witnesses="张三")
    task = d.tasks.order_by("pk").first()
    members = [m.inspector.user for m in task.members.all()]
    services.task_record(actor=members[0], task_id=task.pk, outcome="no_problem",
                         items={item.pk: ("conforms", "") for item in plan.items.all()})
    for u in members:
        services.task_sign(actor=u, task_id=task.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.task_complete(actor=members[0], task_id=task.pk)
    task.refresh_from_db()
    assert task.published_at is None
    assert services.results_publish_due() == 0
    due = timezone.make_aware(dt.datetime.combine(task.publish_due, dt.time(9)))
    assert services.results_publish_due(now=due) == 1
    task.refresh_from_db()
    assert task.published_at == due
    assert Task.objects.filter(draw=d, published_at__isnull=False).count() == 1
