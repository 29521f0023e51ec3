"""A Xi'an world for random inspections: cable firms in two Xi'an districts, the Xi'an
market bureau's inspectors (with accounts), a joint plan with the housing bureau."""

import datetime as dt

import pytest

from tests import factories as f
from zhijian.accounts.models import Role
from zhijian.inspections import services


@pytest.fixture
def inspection_world(world):
    cable = world["categories"]["cable"]
    firms = [world["xian_entity"]]
    for i in range(11):
        e = f.EntityFactory(division=f.division("610113" if i % 2 else "610104"),
                            name=f"西安第{i}电缆有限公司", risk_class="ABCD"[i % 4])
        e.categories.set([cable])
        firms.append(e)
    xian = world["departments"]["xian"]
    inspectors = []
    for n in range(6):
        user = f.UserFactory(username=f"inspector{n}", role=Role.REGULATOR, department=xian)
        inspectors.append(f.InspectorFactory(department=xian, badge_number=f"6101-{n:03d}",
                                             name=f"检查员{n}", user=user))
    return {**world, "firms": firms, "inspectors": inspectors}


def plan_data(world, **over):
    data = {
        "title": "2026年西安市电线电缆产品质量双随机抽查",
        "kind": "routine",
        "lead_department": world["departments"]["xian"],
        "division_prefixes": ["6101"],
        "entity_types": [],
        "licence_filter": "any",
        "period_start": dt.date(2026, 12, 1),
        "period_end": dt.date(2027, 3, 31),
        "ratios": {"A": 5000, "B": 5000, "C": 5000, "D": 10000},
        "stratify_by_city": False,
        "exclusion_months": 12,
        "team_size": 2,
        "workload_cap": 10,
        "task_days": 20,
    }
    data.update(over)
    return data


@pytest.fixture
def draft_plan(inspection_world, xian_officer):
    w = inspection_world
    xian = w["departments"]["xian"]
    return services.plan_save(
        actor=xian_officer, data=plan_data(w), departments=[xian],
        categories=[w["categories"]["cable"]],
        checklist=[(xian.pk, "生产许可证在有效期内"), (xian.pk, "出厂检验记录完整")])
