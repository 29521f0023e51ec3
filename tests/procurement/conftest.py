"""A purchasing world: the metro user unit of `world` keeps a cable list with the Xi'an
cable maker on it and a steel list with the Baoji steel maker; a standard for each;
reports issued through the report services (tests/reports/helpers.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests import factories as f
from tests.api.conftest import grid  # noqa: F401  (the API tests' province, as a fixture)
from tests.reports.helpers import issue_report
from zhijian.procurement import services
from zhijian.reports import services as report_services

TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ZHIJIAN_LAB_KEY_DIR = tmp_path / "lab-keys"
    settings.ZHIJIAN_AUDIT_KEY_FILE = tmp_path / "audit-key.pem"


@pytest.fixture(autouse=True)
def signals_scan_calls(monkeypatch):
    """The numbers each delivery_record passed to reports.services.signals_scan (the
    fake-report screen of the reports app, which still runs)."""
    calls = []
    real = report_services.signals_scan

    def spy(*, numbers):
        calls.append(list(numbers))
        return real(numbers=numbers)

    monkeypatch.setattr(report_services, "signals_scan", spy)
    return calls


@pytest.fixture
def pworld(world, user_unit_user):
    cats = world["categories"]
    cable_std = f.StandardFactory(code="GB/T 5023.3-2008", title="聚氯乙烯绝缘电缆")
    cable_std.categories.set([cats["cable"]])
    steel_std = f.StandardFactory(code="GB/T 1499.2-2018", title="钢筋混凝土用热轧带肋钢筋")
    steel_std.categories.set([cats["steel"]])
    cable_list = services.supplier_list_create(actor=user_unit_user,
                                               category_id=cats["cable"].pk)
    cable_supplier = services.supplier_add(actor=user_unit_user, list_id=cable_list.pk,
                                           entity_id=world["xian_entity"].pk)
    steel_list = services.supplier_list_create(actor=user_unit_user,
                                               category_id=cats["steel"].pk)
    steel_supplier = services.supplier_add(actor=user_unit_user, list_id=steel_list.pk,
                                           entity_id=world["baoji_entity"].pk)
    return world | {"cable_std": cable_std, "steel_std": steel_std,
                    "cable_list": cable_list, "steel_list": steel_list,
                    "cable_supplier": cable_supplier, "steel_supplier": steel_supplier}


def cable_report(w, **over):
    kwargs = {"lab": w["lab"], "producer": w["xian_entity"], "category": w["categories"]["cable"],
              "standard": w["cable_std"], "batch": "C2026-01", "quantity": Decimal("1000")}
    kwargs.update(over)
    return issue_report(**kwargs)


def steel_report(w, **over):
    kwargs = {"lab": w["lab"], "producer": w["baoji_entity"], "category": w["categories"]["steel"],
              "standard": w["steel_std"], "batch": "S2026-07", "quantity": Decimal("50"),
              "unit": "t"}
    kwargs.update(over)
    return issue_report(**kwargs)


def delivery_data(w, **over):
    data = {"number": "DN-2026-0001", "supplier": w["xian_entity"], "producer": w["xian_entity"],
            "product": None, "product_name": "聚氯乙烯绝缘电缆 BV 2.5",
            "category": w["categories"]["cable"], "batch": "C2026-01",
            "quantity": Decimal("800"), "unit": "m", "site": "地铁8号线 长延堡站",
            "delivered_on": TODAY() - dt.timedelta(days=1)}
    data.update(over)
    return data


def steel_data(w, **over):
    data = {"number": "DN-2026-0100", "supplier": w["baoji_entity"], "producer": w["baoji_entity"],
            "product": None, "product_name": "热轧带肋钢筋 HRB400E",
            "category": w["categories"]["steel"], "batch": "S2026-07",
            "quantity": Decimal("40"), "unit": "t", "site": "地铁8号线 长延堡站",
            "delivered_on": TODAY() - dt.timedelta(days=1)}
    data.update(over)
    return data


@pytest.fixture
def inspected(pworld, xian_officer):
    """A random inspection of the Xi'an cable maker that found problems (rectification
    ordered), completed through the inspection services; its event re-rates the maker."""
    from zhijian.accounts.models import Role
    from zhijian.core import events
    from zhijian.inspections import services as inspections

    xian = pworld["departments"]["xian"]
    team = []
    for n in range(2):
        user = f.UserFactory(username=f"inspector{n}", role=Role.REGULATOR, department=xian)
        team.append(f.InspectorFactory(department=xian, badge_number=f"6101-{n:03d}",
                                       name=f"检查员{n}", user=user))
    today = timezone.localdate()
    plan = inspections.plan_save(
        actor=xian_officer, data={
            "title": "电线电缆双随机抽查", "kind": "routine", "lead_department": xian,
            "division_prefixes": ["6101"], "entity_types": [], "licence_filter": "any",
            "period_start": today, "period_end": today + dt.timedelta(days=60),
            "ratios": {"A": 10000, "B": 10000, "C": 10000, "D": 10000},
            "stratify_by_city": False, "exclusion_months": 12, "team_size": 2,
            "workload_cap": 10, "task_days": 20},
        departments=[xian], categories=[pworld["categories"]["cable"]],
        checklist=[(xian.pk, "出厂检验记录完整")])
    draw = inspections.plan_publish(actor=xian_officer, plan=plan)
    inspections.draw_seed(actor=xian_officer, draw_id=draw.pk, dice="3 5 1 6 2 4 4 1 5 3",
                          witnesses="公证员 张三")
    task = plan.tasks.get(entity=pworld["xian_entity"])
    members = [m.inspector.user for m in task.members.select_related("inspector__user")]
    inspections.task_record(actor=members[0], task_id=task.pk,
                            items={i.pk: ("nonconforms", "缺两批次记录")
                                   for i in plan.items.all()},
                            outcome="rectification", summary="出厂检验记录缺失")
    for u in members:
        inspections.task_sign(actor=u, task_id=task.pk)
    inspections.task_complete(actor=members[0], task_id=task.pk)
    events.drain()  # the test's transaction never commits: apply the events here
    return task
