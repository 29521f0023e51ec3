# ruff: noqa: F811  (fixtures imported from tests.sampling and tests.inspections)
"""Credit records from the domain events of the other modules (docs/credit-records.md):
a failed and a passed supervisory sample, a revoked report (and one revoked as false),
an inspection with and without problems, an opened recall. Each event applied twice makes
one record; a revoked source withdraws its record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from tests import factories as f
from tests.inspections.conftest import inspection_world  # noqa: F401  (fixture)
from tests.inspections.test_dashboard import ALL_IN, draw_plan
from tests.sampling.conftest import issue, plan, revoke, sample, sworld  # noqa: F401
from zhijian.core import events
from zhijian.core.models import EventDelivery, OutboxEvent
from zhijian.credit import handlers_records
from zhijian.credit.models import CreditRecord
from zhijian.inspections import services as inspections
from zhijian.inspections.models import Task
from zhijian.recalls.models import Recall
from zhijian.reports import services as reports


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in the source language (the zh_Hans catalogue is the
    translators' work)."""
    from django.utils import translation

    with translation.override("en"):
        yield


def settle() -> None:
    """Drain until no event is pending (a handler's own events wait for the next drain;
    in production the commit of that handler's transaction starts it)."""
    while events.drain():
        pass


def redeliver(name: str) -> None:
    """Apply every handler of the credit records module again to the events named, as a
    worker would after losing its deliveries."""
    mine = [fn for key, fn in events.handlers_for(name)
            if key.startswith(handlers_records.__name__ + ".")]
    assert mine
    for event in OutboxEvent.objects.filter(name=name):
        EventDelivery.objects.filter(event=event).delete()
        for fn in mine:
            with transaction.atomic():
                fn(event)


# --- supervisory sampling -------------------------------------------------------------------

def test_a_failed_sample_is_a_public_record_against_the_producer(sworld, sample):
    report = issue(sworld, sample=sample, conclusion="fail")
    settle()
    record = CreditRecord.objects.get()
    assert (record.entity, record.kind, record.date) == (
        sample.producer, "sampling_failed", dt.date(2026, 11, 10))
    assert (record.source_type, record.source_id) == ("sampling.sample", str(sample.pk))
    assert record.source_ref == f"Sample {sample.code}, report {report.number}"
    assert record.public is True
    assert record.status == "active"
    assert record.rule_version == "2021-09-01"
    # the department of the follow-up (no duty in the matrix: the plan's department)
    assert record.department == sworld["departments"]["xian"]
    assert record.event.name == "sample.nonconforming"
    redeliver("sample.nonconforming")
    assert CreditRecord.objects.count() == 1


def test_a_passed_sample_is_a_positive_record(sworld, sample):
    issue(sworld, sample=sample, conclusion="pass")
    record = CreditRecord.objects.get()
    assert (record.kind, record.entity, record.public) == (
        "sampling_passed", sample.producer, True)
    redeliver("report.issued")
    assert CreditRecord.objects.count() == 1


def test_a_report_without_a_sample_writes_no_record(sworld):
    issue(sworld, conclusion="fail")
    settle()
    assert CreditRecord.objects.count() == 0


def test_revoking_the_report_withdraws_the_sampling_record(sworld, sample):
    report = issue(sworld, sample=sample, conclusion="fail")
    settle()
    revoke(report, reason="检测数据错误")
    record = CreditRecord.objects.get()
    assert record.status == "withdrawn"
    assert record.withdrawn_reason == f"Report {report.number} revoked: 检测数据错误"
    assert not CreditRecord.objects.filter(kind="fake_report").exists()
    redeliver("report.revoked")
    assert CreditRecord.objects.count() == 1


@pytest.fixture
def audit_key(settings, tmp_path):
    settings.ZHIJIAN_AUDIT_KEY_FILE = tmp_path / "audit-key.pem"


def test_a_report_revoked_as_false_is_a_fake_report_record_against_the_lab(
        sworld, sample, xian_officer, audit_key):
    lab = sample.lab
    lab_entity = f.EntityFactory(uscc=lab.uscc, division=lab.division, name="西安测试检测中心")
    report = issue(sworld, sample=sample, conclusion="pass")
    revocation = reports.report_revoke(actor=xian_officer, report_id=report.pk,
                                       reason="经核查，该报告检测数据系伪造", ground="false")
    settle()
    fake = CreditRecord.objects.get(kind="fake_report")
    assert (fake.entity, fake.source_type, fake.source_id, fake.public) == (
        lab_entity, "reports.report", str(report.pk), True)
    assert fake.summary == "经核查，该报告检测数据系伪造"
    assert fake.source_ref == f"Report {report.number} revoked as false or forged"
    assert fake.date == timezone.localdate(revocation.revoked_at)
    assert fake.department == sworld["departments"]["xian"]
    assert CreditRecord.objects.get(kind="sampling_passed").status == "withdrawn"
    redeliver("report.revoked")
    assert CreditRecord.objects.filter(kind="fake_report").count() == 1


def test_a_false_report_of_a_lab_not_registered_as_a_market_entity_writes_nothing(
        sworld, sample, xian_officer, audit_key):
    report = issue(sworld, sample=sample, conclusion="pass")
    reports.report_revoke(actor=xian_officer, report_id=report.pk, reason="forged test data",
                          ground="false")
    settle()
    assert not CreditRecord.objects.filter(kind="fake_report").exists()
    assert CreditRecord.objects.get(kind="sampling_passed").status == "withdrawn"


def test_a_reason_naming_forgery_on_the_ground_error_is_no_finding(
        sworld, sample, lab_user, audit_key):
    """The words of a reason decide nothing (the keyword rule credit.fake_report_terms is
    gone): only the regulator's ground "false" is a finding."""
    lab = sample.lab
    f.EntityFactory(uscc=lab.uscc, division=lab.division, name="西安测试检测中心")
    report = issue(sworld, sample=sample, conclusion="pass")
    reports.report_revoke(actor=lab_user, report_id=report.pk,
                          reason="原始记录被篡改，报告系伪造，现予撤回")
    settle()
    assert not CreditRecord.objects.filter(kind="fake_report").exists()
    assert CreditRecord.objects.get(kind="sampling_passed").status == "withdrawn"


# --- random inspections ---------------------------------------------------------------------

def _complete(task: Task, outcome: str, summary: str = "") -> None:
    members = [m.inspector.user for m in task.members.select_related("inspector__user")]
    items = {i.pk: ("conforms", "") for i in task.plan.items.all()}
    inspections.task_record(actor=members[0], task_id=task.pk, items=items, outcome=outcome,
                            summary=summary)
    for u in members:
        inspections.task_sign(actor=u, task_id=task.pk)
    inspections.task_complete(actor=members[0], task_id=task.pk)
    settle()


@pytest.mark.parametrize("outcome, kind", [("no_problem", "inspection_clean"),
                                           ("rectification", "inspection_problem")])
def test_an_inspection_is_a_record(inspection_world, xian_officer, outcome, kind):
    w = inspection_world
    draw_plan(w, xian_officer, ratios=ALL_IN)
    task = Task.objects.filter(entity=w["xian_entity"]).get()
    _complete(task, outcome, "出厂检验记录不全" if outcome != "no_problem" else "")
    record = CreditRecord.objects.get(entity=w["xian_entity"])
    task.refresh_from_db()
    assert (record.kind, record.source_type, record.source_id) == (
        kind, "inspections.task", str(task.pk))
    assert record.date == timezone.localdate(task.completed_at)
    assert record.public is True
    assert record.department == task.plan.lead_department
    redeliver("inspection.completed")
    redeliver("inspection.problem_found")
    assert CreditRecord.objects.filter(entity=w["xian_entity"]).count() == 1


# --- recalls --------------------------------------------------------------------------------

def test_an_opened_recall_is_a_record_against_the_maker(world):
    maker = world["xian_entity"]
    opened = timezone.now() - dt.timedelta(days=1)
    with transaction.atomic():
        recall = Recall.objects.create(
            number="ZJ-RC-2026-0001", status="open", maker=maker, product_name="电力电缆",
            category=world["categories"]["cable"], lot="B2026-11",
            department=world["departments"]["xian"], reason="导体电阻不合格，须召回",
            severity="2", proposed_at=opened, opened_at=opened)
        events.publish("recall.opened", aggregate=recall, payload={
            "recall": recall.pk, "number": recall.number, "maker": maker.pk,
            "department": recall.department_id, "severity": "2", "items": 0, "notices": 0})
    events.drain()
    record = CreditRecord.objects.get()
    assert (record.entity, record.kind, record.date, record.source_type, record.source_id) == (
        maker, "recall_ordered", timezone.localdate(opened), "recalls.recall", str(recall.pk))
    assert record.source_ref == "Recall ZJ-RC-2026-0001"
    assert (record.public, record.department) == (True, world["departments"]["xian"])
    redeliver("recall.opened")
    assert CreditRecord.objects.count() == 1
