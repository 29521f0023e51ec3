"""Hazard reports (M2.4): a lab reports a serious hazard found in testing, from a report or
naming the entity and category; it reaches the department the responsibility matrix
names; officers of that department acknowledge it. Who may file, acknowledge and see."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tests import factories as f
from tests.reports.helpers import issue_report
from zhijian.accounts.models import Role
from zhijian.core.access import Denied
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.registry.models import Department, Responsibility
from zhijian.reports import access, hazards
from zhijian.reports.models import HazardReport

pytestmark = pytest.mark.django_db

DESCRIPTION = "导体电阻超标40%，绝缘层厚度不均，通电后存在过热起火风险。"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def standard(world):
    std = f.StandardFactory(code="GB/T 5023.3-2008", title="额定电压450/750V及以下聚氯乙烯绝缘电缆")
    std.categories.set([world["categories"]["cable"]])
    return std


@pytest.fixture
def report(world, standard, lab_user):
    return issue_report(lab=world["lab"], producer=world["xian_entity"],
                        category=world["categories"]["cable"], standard=standard,
                        conclusion="fail", number="XA-2026-0001")


def state() -> tuple:
    return (list(HazardReport.objects.order_by("pk").values()), AuditEntry.objects.count(),
            OutboxEvent.objects.count())


def test_a_hazard_from_a_report_reaches_the_responsible_department(world, report, lab_user):
    audit_before = AuditEntry.objects.count()
    hazard = hazards.hazard_report(actor=lab_user, report_id=report.pk, description=DESCRIPTION)
    # No duty in the matrix for cable: the most local market bureau, Xi'an's (the entity
    # is in Yanta district, which has no department of its own).
    assert (hazard.lab, hazard.report, hazard.entity, hazard.category, hazard.department,
            hazard.status, hazard.reported_by, hazard.description) == (
        world["lab"], report, world["xian_entity"], world["categories"]["cable"],
        world["departments"]["xian"], "open", lab_user, DESCRIPTION)
    entry = AuditEntry.objects.order_by("-seq").first()
    assert AuditEntry.objects.count() == audit_before + 1
    assert (entry.action, entry.object_type, entry.object_id) == (
        "hazard.reported", "reports.hazardreport", str(hazard.pk))
    event = OutboxEvent.objects.get(name="hazard.reported")
    assert (event.aggregate_id, event.payload) == (str(hazard.pk), {
        "hazard": hazard.pk, "lab": world["lab"].pk, "entity": world["xian_entity"].pk,
        "category": "electrical.cable", "department": world["departments"]["xian"].pk})


def test_the_matrix_decides_the_department(world, lab_user):
    """A city-level housing duty for rebar sends a Baoji steel hazard to the Baoji housing
    bureau, not to the market bureau."""
    Responsibility.objects.create(category=world["categories"]["steel"], level="city",
                                  kind="housing", role="lead")
    baoji_housing = f.DepartmentFactory(division=f.division("610300"), kind="housing",
                                        code="6103-housing", name="宝鸡市住房和城乡建设局")
    hazard = hazards.hazard_report(actor=lab_user, entity_id=world["baoji_entity"].pk,
                                   category_id=world["categories"]["steel"].pk,
                                   description="钢筋屈服强度远低于标准值")
    assert hazard.department == baoji_housing
    assert hazard.report is None


def test_no_responsible_department_is_refused_with_a_clear_message(world, lab_user):
    Department.objects.filter(kind="market").update(kind="police")
    before = state()
    with pytest.raises(ValidationError) as exc:
        hazards.hazard_report(actor=lab_user, entity_id=world["xian_entity"].pk,
                              category_id=world["categories"]["cable"].pk,
                              description=DESCRIPTION)
    assert exc.value.message_dict == {"department": [
        "No department is responsible for electrical.cable in division 610113, so the report "
        "cannot be routed; ask the provincial market supervision bureau to complete the "
        "responsibility matrix."]}
    assert state() == before


def test_bad_input_names_the_fields(world, lab_user, report):
    before = state()
    with pytest.raises(ValidationError) as exc:
        hazards.hazard_report(actor=lab_user, description="  ")
    assert exc.value.message_dict == {
        "entity": ["Name the market entity whose product has the hazard."],
        "category": ["Choose the product category."],
        "description": ["Describe the hazard: what you found, in which product and batch, "
                        "and why it is serious."]}
    with pytest.raises(ValidationError) as exc:
        hazards.hazard_report(actor=lab_user, report_id=report.pk, description="x" * 5001)
    assert exc.value.message_dict == {
        "description": ["Keep the description within 5000 characters."]}
    assert state() == before


def test_another_labs_report_is_refused(world, report):
    other = f.LabFactory(division=f.division("610302"), name="宝鸡测试检测中心")
    other_user = f.UserFactory(username="baojilab", role=Role.LAB, lab=other)
    before = state()
    with pytest.raises(ValidationError) as exc:
        hazards.hazard_report(actor=other_user, report_id=report.pk, description=DESCRIPTION)
    assert exc.value.message_dict == {"report": [
        "Your laboratory has no report with this id; choose one of your own reports."]}
    assert state() == before


@pytest.mark.parametrize("persona", ["admin_user", "province_officer", "xian_officer",
                                     "enterprise_user", "user_unit_user"])
def test_only_lab_users_report(request, world, report, persona):
    user = request.getfixturevalue(persona)
    before = state()
    with pytest.raises(Denied) as exc:
        hazards.hazard_report(actor=user, report_id=report.pk, description=DESCRIPTION)
    assert exc.value.message == "Only a laboratory's own users report hazards found in testing."
    assert state() == before


def test_officers_of_the_department_acknowledge(world, report, lab_user, xian_officer):
    hazard = hazards.hazard_report(actor=lab_user, report_id=report.pk, description=DESCRIPTION)
    done = hazards.hazard_acknowledge(actor=xian_officer, hazard_id=hazard.pk)
    assert (done.status, done.acknowledged_by) == ("acknowledged", xian_officer)
    assert done.acknowledged_at is not None
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_id) == ("hazard.acknowledged", str(hazard.pk))
    event = OutboxEvent.objects.get(name="hazard.acknowledged")
    assert event.payload == {"hazard": hazard.pk, "lab": world["lab"].pk,
                             "entity": world["xian_entity"].pk, "category": "electrical.cable",
                             "department": world["departments"]["xian"].pk}
    before = state()
    with pytest.raises(ValidationError) as exc:
        hazards.hazard_acknowledge(actor=xian_officer, hazard_id=hazard.pk)
    assert exc.value.message_dict == {"status": [
        "The hazard report has already been acknowledged."]}
    assert state() == before


@pytest.mark.parametrize("persona", ["admin_user", "province_officer", "baoji_officer",
                                     "xian_housing_officer", "lab_user", "enterprise_user"])
def test_nobody_else_acknowledges(request, world, report, lab_user, persona):
    hazard = hazards.hazard_report(actor=lab_user, report_id=report.pk, description=DESCRIPTION)
    user = request.getfixturevalue(persona)
    before = state()
    with pytest.raises(Denied) as exc:
        hazards.hazard_acknowledge(actor=user, hazard_id=hazard.pk)
    assert exc.value.message == ("Only officers of the department the hazard was reported to "
                                 "may acknowledge it.")
    assert state() == before


def test_who_sees_a_hazard(request, world, report, lab_user):
    """The filing lab, the receiving department (Xi'an market) and the province above it,
    administrators; not a peer department of the same city, not Baoji, not firms."""
    hazard = hazards.hazard_report(actor=lab_user, report_id=report.pk, description=DESCRIPTION)
    other_lab = f.UserFactory(username="otherlab", role=Role.LAB,
                              lab=f.LabFactory(division=f.division("610113")))
    seen = {}
    for persona in ["admin_user", "province_officer", "xian_officer", "baoji_officer",
                    "xian_housing_officer", "enterprise_user", "lab_user", "user_unit_user"]:
        user = request.getfixturevalue(persona)
        seen[persona] = list(access.hazards_visible_to(user).values_list("pk", flat=True))
    seen["other_lab"] = list(access.hazards_visible_to(other_lab).values_list("pk", flat=True))
    assert seen == {"admin_user": [hazard.pk], "province_officer": [hazard.pk],
                    "xian_officer": [hazard.pk], "baoji_officer": [], "xian_housing_officer": [],
                    "enterprise_user": [], "lab_user": [hazard.pk], "user_unit_user": [],
                    "other_lab": []}


def test_a_sector_limited_department_above_sees_only_its_sectors(world, lab_user):
    """A provincial housing bureau (building materials only) sees the steel hazard sent to
    Baoji, not the cable hazard sent to Xi'an."""
    province_housing = f.DepartmentFactory(division=f.division("610000"), kind="housing",
                                           code="61-housing", name="陕西省住房和城乡建设厅",
                                           all_sectors=False)
    province_housing.sectors.set([world["categories"]["building"]])
    officer = f.UserFactory(username="province_housing", department=province_housing)
    steel = hazards.hazard_report(actor=lab_user, entity_id=world["baoji_entity"].pk,
                                  category_id=world["categories"]["steel"].pk,
                                  description="钢筋屈服强度远低于标准值")
    hazards.hazard_report(actor=lab_user, entity_id=world["xian_entity"].pk,
                          category_id=world["categories"]["cable"].pk, description=DESCRIPTION)
    assert steel.department == world["departments"]["baoji"]
    assert list(access.hazards_visible_to(officer).values_list("pk", flat=True)) == [steel.pk]
