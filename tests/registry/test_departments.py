"""A department's level follows from its division code (GB/T 2260), and it supervises
every sector or a list of them; refusals name the field, in the user's language."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from zhijian.core import audit
from zhijian.core.models import AuditEntry
from zhijian.registry import services
from zhijian.registry.models import Department

pytestmark = pytest.mark.django_db


def register(admin_user, **data):
    base = {"code": "test-dept", "name": "测试局", "kind": "transport", "level": "city",
            "division": "610300", "all_sectors": True}
    return services.department_register(actor=admin_user, data=base | data,
                                        reason="新设机构")


@pytest.mark.parametrize(("division", "level"), [
    ("610000", "province"), ("610300", "city"), ("610302", "county")])
def test_the_level_of_the_division_is_accepted(division, level, admin_user):
    dept = register(admin_user, division=division, level=level)
    assert (dept.division_id, dept.level) == (division, level)


@pytest.mark.parametrize(("division", "level", "expected"), [
    ("610000", "city", "Province"),
    ("610300", "county", "City"),
    ("610300", "province", "City"),
    ("610302", "city", "County"),
])
def test_another_level_is_refused_naming_level(division, level, expected, admin_user):
    before = AuditEntry.objects.count()
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        register(admin_user, division=division, level=level)
    assert exc.value.message_dict == {"level": [
        f"The level must match the division: {division} is at the level “{expected}”."]}
    assert not Department.objects.filter(code="test-dept").exists()
    assert AuditEntry.objects.count() == before


def test_a_department_with_no_sector_is_refused_naming_sectors(admin_user):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        register(admin_user, all_sectors=False, sectors=[])
    assert exc.value.message_dict == {"sectors": [
        "Choose the sectors (product categories) the department supervises, or tick "
        "“supervises every sector”."]}
    assert not Department.objects.filter(code="test-dept").exists()


def test_a_department_with_its_sectors_is_accepted(world, admin_user):
    dept = register(admin_user, all_sectors=False, sectors=[world["categories"]["building"]])
    assert list(dept.sectors.values_list("code", flat=True)) == ["building"]


def test_public_security_supervises_no_sector(admin_user):
    """行刑衔接: the public security bureau takes criminal referrals, not product sectors."""
    dept = register(admin_user, kind="public_security", all_sectors=False, sectors=[])
    assert (dept.all_sectors, list(dept.sectors.all())) == (False, [])


@pytest.mark.parametrize("data", [
    {"sectors": []},  # the housing bureau loses its only sector
    {"all_sectors": False},  # the Xi'an market bureau stops supervising every sector
])
def test_a_change_that_leaves_no_sector_is_refused(data, world, admin_user):
    dept = world["departments"]["xian_housing" if "sectors" in data else "xian"]
    before = (dept.all_sectors, sorted(dept.sectors.values_list("code", flat=True)))
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.department_update(actor=admin_user, department_id=dept.pk, data=data,
                                   reason="调整")
    assert list(exc.value.message_dict) == ["sectors"]
    dept.refresh_from_db()
    assert (dept.all_sectors, sorted(dept.sectors.values_list("code", flat=True))) == before


def test_a_change_of_division_must_keep_the_level(world, admin_user):
    dept = world["departments"]["baoji"]
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.department_update(actor=admin_user, department_id=dept.pk,
                                   data={"division": "610302"})
    assert exc.value.message_dict == {"level": [
        "The level must match the division: 610302 is at the level “County”."]}
    moved = services.department_update(actor=admin_user, department_id=dept.pk,
                                       data={"division": "610302", "level": "county"})
    assert (moved.division_id, moved.level) == ("610302", "county")


def test_the_api_refusal_names_level(world, admin_user, api):
    api.force_authenticate(admin_user)
    before = AuditEntry.objects.count()
    response = api.post("/api/v1/departments/", {
        "code": "610102-market", "name": "西安市新城区市场监督管理局", "kind": "market",
        "level": "city", "division": "610102", "all_sectors": True}, format="json")
    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == ["level"]
    assert not Department.objects.filter(code="610102-market").exists()
    assert AuditEntry.objects.count() == before


def test_department_register_audits_its_reason(admin_user):
    dept = register(admin_user)
    assert [(e["action"], e["reason"]) for e in audit.history("registry.department", dept.pk)] \
        == [("department.registered", "新设机构")]
