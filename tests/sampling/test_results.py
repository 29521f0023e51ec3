"""Results of samples through the reports app: a real report issued on a sample (through
the report services) gives the sample its result and publishes it; a revocation shows on
it; a failure raises sample.nonconforming and opens one disposal task for the responsible
department. Every handler applied twice changes nothing. Then the disposal itself."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from tests.reports.helpers import issue_report
from tests.sampling.conftest import TZ, deliver, fingerprint, record
from zhijian.core import calendar, events
from zhijian.core.access import Denied
from zhijian.core.models import OutboxEvent
from zhijian.registry.models import Responsibility
from zhijian.reports import services as report_services
from zhijian.sampling import handlers, services
from zhijian.sampling.models import Disposal, Sample

ISSUED_ON = dt.date(2026, 11, 10)


def report_on(sworld, sample, conclusion="pass", number="BG2026-0001", **kw):
    report = issue_report(lab=sample.lab, producer=sample.producer, category=sample.category,
                          standard=sworld["standard"], batch=sample.batch, sample=sample,
                          conclusion=conclusion, number=number, issued_on=ISSUED_ON, **kw)
    events.drain()
    return report


def event(name, report):
    return OutboxEvent.objects.get(name=name, aggregate_id=str(report.pk))


def test_an_issued_report_gives_the_sample_its_result_and_publishes_it(sworld, received):
    report = report_on(sworld, received)
    s = Sample.objects.get(pk=received.pk)
    due, provisional = calendar.deadline(ISSUED_ON, 20)
    assert (s.report, s.result, s.result_on, s.status, s.publish_by) == (
        report, "pass", ISSUED_ON, "published", due)
    assert s.publication_rule == f"2014-10-01/{calendar.data_version()}" + (
        "/provisional" if provisional else "")
    assert s.published_at is not None
    assert Disposal.objects.count() == 0
    before = fingerprint()
    handlers.record_result(event("report.issued", report))
    assert services.sample_result_record(report.pk) == s
    assert services.sample_result_publish(s.pk) is False
    assert services.samples_publish_due() == 0
    assert fingerprint() == before


def test_a_report_on_a_sample_with_a_broken_chain_is_refused(sworld, sample, xian_officer,
                                                             lab_user):
    deliver(sample, xian_officer, lab_user, seal_intact=False)
    with pytest.raises(ValidationError) as info:
        report_on(sworld, sample)
    assert info.value.message_dict["sample"] == [
        "The sample's chain of custody is broken: Hand-over 1: lab found the seal broken."]
    assert Sample.objects.get(pk=sample.pk).result == ""


def test_a_sample_not_yet_at_the_lab_cannot_be_reported(sworld, sample, lab_user):
    with pytest.raises(ValidationError) as info:
        report_on(sworld, sample)
    assert info.value.message_dict["sample"] == [
        "The sample's chain of custody is broken: The sample is held by xian, who is not a "
        "user of the assigned lab: hand it over to the lab."]


def test_a_result_held_back_is_published_when_its_date_comes(sworld, received):
    # The report is issued, but the subscriber has not run yet (a worker was down) and
    # then only the result was taken: the hourly task publishes it by its date.
    report = issue_report(lab=received.lab, producer=received.producer,
                          category=received.category, standard=sworld["standard"],
                          batch=received.batch, sample=received, issued_on=ISSUED_ON)
    services.sample_result_record(report.pk)
    s = Sample.objects.get(pk=received.pk)
    assert (s.status, s.published_at) == ("reported", None)
    day_before = dt.datetime.combine(s.publish_by - dt.timedelta(days=1), dt.time(9), TZ)
    assert services.samples_publish_due(now=day_before) == 0
    on_the_day = dt.datetime.combine(s.publish_by, dt.time(9), TZ)
    assert services.samples_publish_due(now=on_the_day) == 1
    s.refresh_from_db()
    assert (s.status, s.published_at) == ("published", on_the_day)
    assert services.samples_publish_due(now=on_the_day) == 0


def test_a_revoked_report_shows_on_the_result(sworld, received, lab_user):
    report = report_on(sworld, received)
    report_services.report_revoke(actor=lab_user, report_id=report.pk, reason="检测数据录入错误")
    events.drain()
    s = Sample.objects.get(pk=received.pk)
    assert s.report_revoked_at is not None
    assert (s.result, s.published_at is not None) == ("pass", True)
    before = fingerprint()
    handlers.mark_revoked(event("report.revoked", report))
    assert fingerprint() == before


def test_a_failure_opens_one_disposal_for_the_responsible_department(sworld, received):
    report = report_on(sworld, received, conclusion="fail")
    s = Sample.objects.get(pk=received.pk)
    assert (s.result, s.status) == ("fail", "published")
    disposal = Disposal.objects.get()
    due, provisional = calendar.deadline(ISSUED_ON, 15)
    assert (disposal.report, disposal.sample, disposal.entity, disposal.department,
            disposal.status, disposal.kind, disposal.due_on) == (
        report, s, sworld["xian_entity"], sworld["departments"]["xian"], "open", "", due)
    assert disposal.rule_version.startswith("2017-01-01/")
    nonconforming = OutboxEvent.objects.get(name="sample.nonconforming")
    assert (nonconforming.aggregate_type, nonconforming.aggregate_id) == (
        "sampling.sample", str(s.pk))
    assert nonconforming.payload == {
        "sample": s.pk, "entity": sworld["xian_entity"].pk,
        "producer": sworld["xian_entity"].pk, "category": "electrical.cable",
        "batch": "B2026-11", "report": report.pk, "division": "610113"}
    before = fingerprint()
    handlers.open_disposal(event("report.nonconforming", report))
    handlers.record_result(event("report.issued", report))
    assert fingerprint() == before


def test_the_responsibility_matrix_names_the_department(sworld, received):
    Responsibility.objects.create(category=sworld["categories"]["cable"], level="province",
                                  kind="market", role="lead")
    report_on(sworld, received, conclusion="fail")
    assert Disposal.objects.get().department == sworld["departments"]["province"]


def test_reports_without_a_sample_are_not_the_sampling_apps(sworld, xian_officer):
    issue_report(lab=sworld["lab"], producer=sworld["xian_entity"],
                 category=sworld["categories"]["cable"], standard=sworld["standard"],
                 conclusion="fail", issued_on=ISSUED_ON)
    events.drain()
    assert (Disposal.objects.count(), Sample.objects.exclude(result="").count()) == (0, 0)
    assert not OutboxEvent.objects.filter(name="sample.nonconforming").exists()


def test_mutual_recognition_with_a_real_report(sworld, plan, received, xian_officer):
    report = report_on(sworld, received)
    with pytest.raises(ValidationError) as info:
        record(sworld, plan, xian_officer, sampled_at=dt.datetime(2026, 11, 20, 9, tzinfo=TZ),
               seal_number="FY-0002")
    assert info.value.message_dict == {"batch": [
        "Batch B2026-11 of 西安测试电缆有限公司 already has a recognised supervisory result: "
        "report BG2026-0001 by 西安测试检测中心, issued on 2026-11-10 (recognised for 180 "
        "days). Give a reason to sample it again."]}
    again = record(sworld, plan, xian_officer, reason="消费者投诉同批次产品发热",
                   sampled_at=dt.datetime(2026, 11, 20, 9, tzinfo=TZ), seal_number="FY-0002")
    assert (again.duplicate_of, again.code) == (report, "CY2026-000002")


# --- disposals -------------------------------------------------------------------------------

@pytest.fixture
def disposal(sworld, received):
    report_on(sworld, received, conclusion="fail")
    return Disposal.objects.get()


def refused(exc, fn, **kwargs):
    before = fingerprint()
    with pytest.raises(exc) as info:
        fn(**kwargs)
    assert fingerprint() == before
    return info.value


def test_the_department_decides_and_closes(disposal, xian_officer):
    d = services.disposal_decide(actor=xian_officer, disposal_id=disposal.pk,
                                 kind="rectification", decision="责令30日内整改并召回该批次")
    assert (d.status, d.kind, d.decision, d.decided_by) == (
        "decided", "rectification", "责令30日内整改并召回该批次", xian_officer)
    d = services.disposal_close(actor=xian_officer, disposal_id=disposal.pk,
                                note="复查合格，召回完成")
    assert (d.status, d.closing_note, d.closed_at is not None) == (
        "closed", "复查合格，召回完成", True)
    assert [(e.name, e.payload["kind"]) for e in OutboxEvent.objects.filter(
        name__startswith="disposal.").order_by("id")] == [
        ("disposal.decided", "rectification"), ("disposal.closed", "rectification")]


def test_disposal_refusals(disposal, xian_officer, province_officer, baoji_officer,
                           admin_user):
    error = refused(Denied, services.disposal_decide, actor=province_officer,
                    disposal_id=disposal.pk, kind="case", decision="立案")
    assert error.message == "Only officers of 西安市市场监督管理局 decide this follow-up."
    refused(Denied, services.disposal_decide, actor=admin_user, disposal_id=disposal.pk,
            kind="case", decision="立案")
    refused(Http404, services.disposal_decide, actor=baoji_officer, disposal_id=disposal.pk,
            kind="case", decision="立案")
    error = refused(ValidationError, services.disposal_decide, actor=xian_officer,
                    disposal_id=disposal.pk, kind="warning", decision=" ")
    assert error.message_dict == {
        "kind": ["Choose a rectification order or a case."],
        "decision": ["Write down the decision: what the firm must do, or the case number."]}
    error = refused(ValidationError, services.disposal_close, actor=xian_officer,
                    disposal_id=disposal.pk, note="结束")
    assert error.messages == ["Decide the measure before closing the follow-up."]
    services.disposal_decide(actor=xian_officer, disposal_id=disposal.pk, kind="case",
                             decision="立案 西市监立〔2026〕12号")
    error = refused(ValidationError, services.disposal_decide, actor=xian_officer,
                    disposal_id=disposal.pk, kind="case", decision="再次")
    assert error.messages == ["This follow-up was already decided."]
    error = refused(ValidationError, services.disposal_close, actor=xian_officer,
                    disposal_id=disposal.pk, note="")
    assert error.message_dict == {"note": [
        "Say how the follow-up ended: the rectification verified, or the outcome of the "
        "case."]}
    services.disposal_close(actor=xian_officer, disposal_id=disposal.pk, note="结案")
    error = refused(ValidationError, services.disposal_close, actor=xian_officer,
                    disposal_id=disposal.pk, note="结案")
    assert error.messages == ["This follow-up is already closed."]


def test_today_is_not_used_when_the_report_has_a_date(disposal):
    assert disposal.due_on > ISSUED_ON
    assert disposal.opened_at <= timezone.now()
