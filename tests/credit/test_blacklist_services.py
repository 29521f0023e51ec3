"""The serious-dishonesty list and credit repair through the services
(zhijian/credit/services/blacklist.py, docs/credit-blacklist.md).

The other test_blacklist_* modules import the helpers below."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone, translation

from zhijian.core import events
from zhijian.core.access import Denied
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.credit.models import BlacklistEntry, Commitment, CreditRecord, RepairApplication
from zhijian.credit.services import blacklist as bl
from zhijian.credit.services import records
from zhijian.credit.tasks_blacklist import blacklist_expire_task

TZ = ZoneInfo("Asia/Shanghai")


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def pdf(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 " + name.encode(), "application/pdf")


def heavy_penalty(officer, entity, *, number="西市监罚〔2026〕101号", decided_on=None,
                  fine="200000.00"):
    """A heavy penalty decision (and its penalty_heavy record), then the drain."""
    decided_on = decided_on or timezone.localdate() - dt.timedelta(days=30)
    penalty = records.penalty_record(
        actor=officer, entity_id=entity.pk, decision_number=number, decided_on=decided_on,
        violation="生产销售导体电阻不合格的电缆", legal_basis="《中华人民共和国产品质量法》第四十九条",
        document=pdf("decision.pdf"), fine=fine, heavy=True)
    events.drain()
    return penalty


def sampling_failed(entity, n: int, day: dt.date):
    return records.record_create(entity=entity, kind="sampling_failed", date=day,
                                 source_type="sampling.sample", source_id=f"S{n}",
                                 source_ref=f"抽检 S{n}")


def repair_commitment(user, day: dt.date) -> Commitment:
    return records.commitment_sign(actor=user, occasion="repair", signatory="王测试",
                                   now=at(day, 9))


def open_case(entity) -> BlacklistEntry:
    return BlacklistEntry.objects.open().get(entity=entity)


def listed_case(officer, entity, *, on: dt.date = dt.date(2026, 3, 10),
                number: str = "西市监罚〔2026〕101号"):
    """An officer's proposal, noticed on the working day before `on` minus the objection
    period, listed on `on` (records: one heavy penalty)."""
    penalty = heavy_penalty(officer, entity, number=number,
                            decided_on=on - dt.timedelta(days=40))
    entry = BlacklistEntry.objects.filter(entity=entity).first()
    if entry is None:
        record = CreditRecord.objects.get(source_type="credit.penalty", source_id=penalty.pk)
        entry = bl.blacklist_propose(entity=entity, actor=officer, record_ids=[record.pk],
                                     reasons="伪造合格证明，情节严重", now=at(on - dt.timedelta(days=20)))
    notice_day = on - dt.timedelta(days=14)
    bl.blacklist_notice(entry_id=entry.pk, actor=officer, now=at(notice_day))
    entry = bl.blacklist_decide(entry_id=entry.pk, listed=True, reasons="情节严重，依法列入名单",
                                actor=officer, now=at(on))
    events.drain()
    return entry, penalty


# --- the rule ---------------------------------------------------------------------------------

def test_the_procedure_rule_is_dated_data_with_references():
    rule = bl.procedure(dt.date(2026, 1, 1))
    assert rule.version == "2021-09-01"
    assert rule.value["objection_working_days"] == 5
    assert rule.value["listing_months"] == 36
    assert rule.value["repair_after_months"] == 12
    assert rule.value["repair_conditions"] == [
        "rectification", "penalty_paid", "no_new_heavy_penalty", "commitment", "training"]
    refs = rule.value["references"]
    for key in ("objection_working_days", "listing_months", "repair_after_months",
                *rule.value["repair_conditions"]):
        assert refs[key]
    assert "国家市场监督管理总局令第44号" in refs["listing_months"]
    assert "示范省份设定" in refs["objection_working_days"]
    assert "示范省份设定" in refs["training"]


# --- automatic proposal -----------------------------------------------------------------------

def test_a_heavy_penalty_proposes_a_case_to_the_market_department(
        world, xian_officer):
    entity = world["xian_entity"]
    penalty = heavy_penalty(xian_officer, entity)
    entry = open_case(entity)
    record = CreditRecord.objects.get(source_type="credit.penalty", source_id=penalty.pk)
    assert entry.status == "proposed"
    assert entry.department == world["departments"]["xian"]
    assert entry.criteria == [{"criterion": "heavy_penalty", "records": [record.pk]}]
    assert entry.rule_version == "2021-09-01"
    assert entry.proposed_by is None
    assert OutboxEvent.objects.filter(name="blacklist.proposed",
                                      aggregate_id=str(entry.pk)).count() == 1
    assert AuditEntry.objects.filter(action="blacklist.proposed",
                                     object_id=str(entry.pk)).count() == 1


def test_no_second_open_case_and_redelivery_changes_nothing(world, xian_officer):
    entity = world["xian_entity"]
    heavy_penalty(xian_officer, entity)
    heavy_penalty(xian_officer, entity, number="西市监罚〔2026〕102号")
    assert BlacklistEntry.objects.filter(entity=entity).count() == 1
    # The handler applied again (a redelivered event) finds the open case.
    assert bl.blacklist_propose(entity=entity) is None
    assert BlacklistEntry.objects.filter(entity=entity).count() == 1


def test_criteria_not_met_propose_nothing(world):
    entity = world["xian_entity"]
    today = timezone.localdate()
    for n in range(2):
        sampling_failed(entity, n, today - dt.timedelta(days=10 + n))
    events.drain()
    assert not BlacklistEntry.objects.filter(entity=entity).exists()
    sampling_failed(entity, 3, today - dt.timedelta(days=5))
    events.drain()
    entry = open_case(entity)
    assert entry.criteria[0]["criterion"] == "repeated_failed_sampling"
    assert len(entry.criteria[0]["records"]) == 3


def test_records_weighed_in_a_closed_case_do_not_propose_again(world, xian_officer):
    entity = world["xian_entity"]
    heavy_penalty(xian_officer, entity)
    entry = open_case(entity)
    bl.blacklist_decide(entry_id=entry.pk, listed=False, reasons="当事人已主动整改，不予列入",
                        actor=xian_officer)
    events.drain()
    sampling_failed(entity, 1, timezone.localdate())  # any new record re-evaluates
    events.drain()
    assert list(BlacklistEntry.objects.filter(entity=entity).values_list("status", flat=True)) \
        == ["not_listed"]
    # A new heavy penalty is a new fact: a new case.
    heavy_penalty(xian_officer, entity, number="西市监罚〔2026〕103号")
    assert open_case(entity).pk != entry.pk


# --- officer proposal -------------------------------------------------------------------------

def test_officer_proposes_with_reasons_and_records(world, xian_officer):
    entity = world["xian_entity"]
    rec = sampling_failed(entity, 1, dt.date(2026, 2, 1))
    entry = bl.blacklist_propose(entity=entity, actor=xian_officer, record_ids=[rec.pk],
                                 reasons="多次抽检不合格且拒不整改", now=at(dt.date(2026, 3, 2)))
    assert entry.criteria == [{"criterion": "officer", "records": [rec.pk],
                               "reasons": "多次抽检不合格且拒不整改"}]
    assert entry.proposed_by == xian_officer
    assert entry.department == world["departments"]["xian"]


def test_officer_proposal_refusals(world, xian_officer, baoji_officer, xian_housing_officer,
                                   enterprise_user):
    entity = world["xian_entity"]
    other = sampling_failed(world["baoji_entity"], 9, dt.date(2026, 2, 1))
    rec = sampling_failed(entity, 1, dt.date(2026, 2, 1))
    with translation.override("en"):
        with pytest.raises(ValidationError) as err:
            bl.blacklist_propose(entity=entity, actor=xian_officer, record_ids=[other.pk],
                                 reasons="多次抽检不合格且拒不整改")
        assert err.value.message_dict == {"records": [
            f"Records {other.pk} are not active records of this firm."]}
        with pytest.raises(ValidationError) as err:
            bl.blacklist_propose(entity=entity, actor=xian_officer, record_ids=[rec.pk],
                                 reasons="short")
        assert err.value.message_dict == {"reasons": [
            "Say in at least 6 characters why the firm should be listed."]}
        for user in (baoji_officer, xian_housing_officer, enterprise_user):
            with pytest.raises(Denied):
                bl.blacklist_propose(entity=entity, actor=user, record_ids=[rec.pk],
                                     reasons="多次抽检不合格且拒不整改")
    assert not BlacklistEntry.objects.exists()


# --- notice, objection, decision --------------------------------------------------------------

@pytest.fixture
def proposed(world, xian_officer):
    rec = sampling_failed(world["xian_entity"], 1, dt.date(2026, 2, 1))
    return bl.blacklist_propose(entity=world["xian_entity"], actor=xian_officer,
                                record_ids=[rec.pk], reasons="多次抽检不合格且拒不整改",
                                now=at(dt.date(2026, 3, 2), 9))


def test_notice_sets_the_deadline_in_working_days(proposed, xian_officer):
    entry = bl.blacklist_notice(entry_id=proposed.pk, actor=xian_officer,
                                now=at(dt.date(2026, 9, 30)))
    # Five working days after 30 September 2026, across the National Day holiday.
    assert entry.objection_deadline == dt.date(2026, 10, 13)
    assert entry.status == "noticed"
    assert "2026-10-13" in entry.notice_text
    assert "抽检 S1" in entry.notice_text
    assert OutboxEvent.objects.filter(name="blacklist.noticed").count() == 1


def test_notice_text_is_editable(proposed, xian_officer):
    entry = bl.blacklist_notice(entry_id=proposed.pk, actor=xian_officer,
                                notice_text="告知书：拟列入严重违法失信名单。", now=at(dt.date(2026, 3, 2)))
    assert entry.notice_text == "告知书：拟列入严重违法失信名单。"
    assert entry.objection_deadline == dt.date(2026, 3, 9)


def test_objection_before_the_deadline_then_listing_at_once(proposed, xian_officer,
                                                            enterprise_user):
    bl.blacklist_notice(entry_id=proposed.pk, actor=xian_officer, now=at(dt.date(2026, 3, 2)))
    entry = bl.objection_file(entry_id=proposed.pk, actor=enterprise_user,
                              text="抽检样品并非本公司产品，申请复核。", now=at(dt.date(2026, 3, 9), 23))
    assert entry.objection_text == "抽检样品并非本公司产品，申请复核。"
    # The firm has objected: the department may decide before the period ends.
    entry = bl.blacklist_decide(entry_id=proposed.pk, listed=True, reasons="异议不成立，依法列入",
                                actor=xian_officer, now=at(dt.date(2026, 3, 9), 23))
    assert entry.status == "listed"


def test_objection_after_the_deadline_is_refused(proposed, xian_officer, enterprise_user):
    bl.blacklist_notice(entry_id=proposed.pk, actor=xian_officer, now=at(dt.date(2026, 3, 2)))
    with translation.override("en"), pytest.raises(ValidationError) as err:
        bl.objection_file(entry_id=proposed.pk, actor=enterprise_user,
                          text="抽检样品并非本公司产品，申请复核。", now=at(dt.date(2026, 3, 10), 0))
    assert err.value.message_dict == {"text": [
        "The objection period ended on 2026-03-09; an objection can no longer be filed."]}
    proposed.refresh_from_db()
    assert proposed.objection_text == "" and proposed.objection_at is None


def test_objection_only_by_the_firm(proposed, xian_officer, lab_user, baoji_officer):
    bl.blacklist_notice(entry_id=proposed.pk, actor=xian_officer, now=at(dt.date(2026, 3, 2)))
    for user in (xian_officer, lab_user, baoji_officer):
        with pytest.raises(Denied):
            bl.objection_file(entry_id=proposed.pk, actor=user, text="抽检样品并非本公司产品。",
                              now=at(dt.date(2026, 3, 3)))
    proposed.refresh_from_db()
    assert proposed.objection_at is None


def test_listing_while_the_objection_period_runs_is_refused(proposed, xian_officer):
    bl.blacklist_notice(entry_id=proposed.pk, actor=xian_officer, now=at(dt.date(2026, 3, 2)))
    with translation.override("en"), pytest.raises(ValidationError) as err:
        bl.blacklist_decide(entry_id=proposed.pk, listed=True, reasons="情节严重，依法列入名单",
                            actor=xian_officer, now=at(dt.date(2026, 3, 9), 18))
    assert err.value.message_dict == {"listed": [
        "The objection period runs until 2026-03-09 and the firm has not objected: the firm "
        "can be listed from 2026-03-10, or as soon as it has objected."]}
    proposed.refresh_from_db()
    assert proposed.status == "noticed"
    assert not CreditRecord.objects.filter(kind="blacklist_listed").exists()


def test_listing_needs_a_notice_and_reasons(proposed, xian_officer):
    with translation.override("en"):
        with pytest.raises(ValidationError) as err:
            bl.blacklist_decide(entry_id=proposed.pk, listed=True, reasons="情节严重，依法列入名单",
                                actor=xian_officer)
        assert err.value.message_dict == {"status": [
            "The case is Proposed; it cannot become Listed."]}
        bl.blacklist_notice(entry_id=proposed.pk, actor=xian_officer,
                            now=at(dt.date(2026, 3, 2)))
        with pytest.raises(ValidationError) as err:
            bl.blacklist_decide(entry_id=proposed.pk, listed=True, reasons="",
                                actor=xian_officer, now=at(dt.date(2026, 3, 10)))
        assert err.value.message_dict == {"reasons": [
            "Give the reasons for the decision in at least 6 characters."]}


def test_listing_publishes_a_record_and_the_event(proposed, xian_officer):
    bl.blacklist_notice(entry_id=proposed.pk, actor=xian_officer, now=at(dt.date(2026, 3, 2)))
    entry = bl.blacklist_decide(entry_id=proposed.pk, listed=True, reasons="情节严重，依法列入名单",
                                actor=xian_officer, now=at(dt.date(2026, 3, 10)))
    assert (entry.status, entry.listed_on, entry.listed_until) == (
        "listed", dt.date(2026, 3, 10), dt.date(2029, 3, 10))
    assert entry.published_at == at(dt.date(2026, 3, 10))
    assert entry.decided_by == xian_officer
    record = bl.listing_record(entry)
    assert (record.kind, record.date, record.expires_on, record.public, record.source_type,
            record.source_id) == ("blacklist_listed", dt.date(2026, 3, 10),
                                  dt.date(2029, 3, 10), True, "credit.blacklistentry",
                                  str(entry.pk))
    event = OutboxEvent.objects.get(name="blacklist.listed")
    assert event.payload == {
        "entry": entry.pk, "entity": entry.entity_id, "status": "listed",
        "department": entry.department_id, "listed_on": "2026-03-10",
        "listed_until": "2029-03-10", "record": record.pk}


def test_not_listed(proposed, xian_officer):
    entry = bl.blacklist_decide(entry_id=proposed.pk, listed=False, reasons="证据不足，不予列入",
                                actor=xian_officer)
    assert entry.status == "not_listed"
    assert OutboxEvent.objects.filter(name="blacklist.not_listed").count() == 1
    with pytest.raises(ValidationError):
        bl.blacklist_notice(entry_id=proposed.pk, actor=xian_officer)


def test_decision_denied_to_other_jurisdictions(proposed, xian_officer, baoji_officer,
                                                xian_housing_officer, enterprise_user):
    bl.blacklist_notice(entry_id=proposed.pk, actor=xian_officer, now=at(dt.date(2026, 3, 2)))
    for user in (baoji_officer, xian_housing_officer, enterprise_user):
        with pytest.raises(Denied):
            bl.blacklist_decide(entry_id=proposed.pk, listed=True, reasons="情节严重，依法列入名单",
                                actor=user, now=at(dt.date(2026, 3, 10)))
    proposed.refresh_from_db()
    assert proposed.status == "noticed" and proposed.decided_at is None


def test_the_province_decides_too(proposed, province_officer):
    entry = bl.blacklist_decide(entry_id=proposed.pk, listed=False, reasons="证据不足，不予列入",
                                actor=province_officer)
    assert entry.decided_by == province_officer


# --- credit repair ----------------------------------------------------------------------------

def test_end_to_end_listing_repair_and_removal(world, xian_officer, enterprise_user):
    entity = world["xian_entity"]
    heavy_penalty(xian_officer, entity)
    entry = open_case(entity)
    today = timezone.localdate()
    bl.blacklist_notice(entry_id=entry.pk, actor=xian_officer, now=at(today))
    bl.objection_file(entry_id=entry.pk, actor=enterprise_user, text="处罚过重，请求从轻处理。",
                      now=at(today, 11))
    bl.blacklist_decide(entry_id=entry.pk, listed=True, reasons="异议不成立，情节严重，依法列入",
                        actor=xian_officer, now=at(today, 15))
    events.drain()
    entry.refresh_from_db()
    assert entry.status == "listed"
    assert BlacklistEntry.objects.filter(entity=entity).count() == 1  # no new proposal

    penalty = entity.penalties.get()
    records.penalty_mark_paid(actor=xian_officer, penalty_id=penalty.pk, paid_on=today)
    later = entry.listed_on.replace(year=entry.listed_on.year + 1)
    commitment = repair_commitment(enterprise_user, later)
    repair = bl.repair_apply(entry_id=entry.pk, actor=enterprise_user,
                             rectification="已召回全部不合格电缆并更换生产设备。",
                             rectification_evidence=pdf("rectify.pdf"),
                             training_certificate=pdf("training.pdf"), now=at(later, 11))
    assert repair.status == "submitted"
    assert repair.commitment == commitment
    assert repair.penalty_paid_on == today
    assert [c["code"] for c in repair.conditions] == [
        "min_listed", "rectification", "penalty_paid", "no_new_heavy_penalty", "commitment",
        "training"]
    assert all(c["met"] for c in repair.conditions)
    repair = bl.repair_decide(repair_id=repair.pk, approve=True, reasons="整改到位，同意提前移出",
                              actor=xian_officer, now=at(later, 16))
    events.drain()
    entry.refresh_from_db()
    assert (repair.status, entry.status, entry.removal_reason, entry.removed_on) == (
        "approved", "removed", "repaired", later)
    assert bl.listing_record(entry).repaired_on == later
    assert OutboxEvent.objects.filter(name="blacklist.removed").get().payload["reason"] \
        == "repaired"


def _apply(entry, user, day, **kw):
    data = {"rectification": "已召回全部不合格电缆并更换生产设备。",
            "rectification_evidence": pdf("rectify.pdf"),
            "training_certificate": pdf("training.pdf")}
    data.update(kw)
    return bl.repair_apply(entry_id=entry.pk, actor=user, now=at(day), **data)


def test_repair_refused_naming_each_unmet_condition(world, xian_officer, enterprise_user):
    entity = world["xian_entity"]
    entry, penalty = listed_case(xian_officer, entity)
    with translation.override("en"), pytest.raises(ValidationError) as err:
        _apply(entry, enterprise_user, dt.date(2027, 3, 9), rectification="",
               rectification_evidence=None, training_certificate=None)
    assert err.value.message_dict == {
        "entry": ["Too early: the firm was listed on 2026-03-10 and may apply from "
                  "2027-03-10."],
        "rectification": ["No rectification evidence: describe what was rectified (at "
                          "least 6 characters); attach the rectification evidence."],
        "penalty": [f"Penalty unpaid: the fine of decision {penalty.decision_number} is not "
                    "recorded as paid; pay it and have the deciding department record the "
                    "payment."],
        "commitment": ["No repair commitment: sign a credit commitment for credit repair at "
                       f"{bl.commitment_sign_url()}, then choose it here."],
        "training_certificate": ["No training certificate: attach the certificate of the "
                                 "credit repair training."],
    }
    assert not RepairApplication.objects.exists()


@pytest.mark.parametrize("missing", ["too_early", "rectification", "penalty", "new_heavy",
                                     "commitment", "training"])
def test_repair_refused_for_each_single_condition(world, xian_officer, enterprise_user,
                                                  missing):
    entity = world["xian_entity"]
    entry, penalty = listed_case(xian_officer, entity)
    day = dt.date(2027, 3, 10)
    if missing != "penalty":
        records.penalty_mark_paid(actor=xian_officer, penalty_id=penalty.pk,
                                  paid_on=dt.date(2026, 4, 1))
    if missing != "commitment":
        repair_commitment(enterprise_user, dt.date(2027, 3, 1))
    if missing == "new_heavy":
        heavy_penalty(xian_officer, entity, number="西市监罚〔2026〕900号",
                      decided_on=dt.date(2026, 11, 1))
    kw = {}
    if missing == "too_early":
        day = dt.date(2027, 3, 9)
    elif missing == "rectification":
        kw["rectification_evidence"] = None
    elif missing == "training":
        kw["training_certificate"] = None
    with translation.override("en"), pytest.raises(ValidationError) as err:
        _apply(entry, enterprise_user, day, **kw)
    expected = {
        "too_early": {"entry": ["Too early: the firm was listed on 2026-03-10 and may apply "
                                "from 2027-03-10."]},
        "rectification": {"rectification_evidence": [
            "No rectification evidence: attach the rectification evidence."]},
        "penalty": {"penalty": [
            f"Penalty unpaid: the fine of decision {penalty.decision_number} is not recorded "
            "as paid; pay it and have the deciding department record the payment."]},
        "new_heavy": {"penalty": [
            "A new heavy penalty since the listing: 西市监罚〔2026〕900号."]},
        "commitment": {"commitment": [
            "No repair commitment: sign a credit commitment for credit repair at "
            f"{bl.commitment_sign_url()}, then choose it here."]},
        "training": {"training_certificate": [
            "No training certificate: attach the certificate of the credit repair "
            "training."]},
    }[missing]
    assert err.value.message_dict == expected
    assert not RepairApplication.objects.exists()
    entry.refresh_from_db()
    assert entry.status == "listed"


def test_repair_only_by_the_firm_and_only_once_at_a_time(world, xian_officer,
                                                         enterprise_user):
    entity = world["xian_entity"]
    entry, penalty = listed_case(xian_officer, entity)
    records.penalty_mark_paid(actor=xian_officer, penalty_id=penalty.pk,
                              paid_on=dt.date(2026, 4, 1))
    repair_commitment(enterprise_user, dt.date(2027, 3, 1))
    with pytest.raises(Denied):
        _apply(entry, xian_officer, dt.date(2027, 3, 10))
    first = _apply(entry, enterprise_user, dt.date(2027, 3, 10))
    with translation.override("en"), pytest.raises(ValidationError) as err:
        _apply(entry, enterprise_user, dt.date(2027, 3, 11))
    assert err.value.message_dict == {"entry": [
        "Your application of 2027-03-10 is still being decided."]}
    assert list(RepairApplication.objects.values_list("pk", flat=True)) == [first.pk]


def test_repair_refused_by_the_officer(world, xian_officer, baoji_officer, enterprise_user):
    entity = world["xian_entity"]
    entry, penalty = listed_case(xian_officer, entity)
    records.penalty_mark_paid(actor=xian_officer, penalty_id=penalty.pk,
                              paid_on=dt.date(2026, 4, 1))
    repair_commitment(enterprise_user, dt.date(2027, 3, 1))
    repair = _apply(entry, enterprise_user, dt.date(2027, 3, 10))
    with pytest.raises(Denied):
        bl.repair_decide(repair_id=repair.pk, approve=True, reasons="整改到位，同意提前移出",
                         actor=baoji_officer)
    repair.refresh_from_db()
    assert repair.status == "submitted"
    repair = bl.repair_decide(repair_id=repair.pk, approve=False, reasons="整改材料不实，不予移出",
                              actor=xian_officer, now=at(dt.date(2027, 3, 20)))
    entry.refresh_from_db()
    assert (repair.status, entry.status) == ("refused", "listed")
    assert bl.listing_record(entry).repaired_on is None
    # A refused application does not stop a new one.
    again = _apply(entry, enterprise_user, dt.date(2027, 4, 1))
    assert again.status == "submitted"


# --- expiry -----------------------------------------------------------------------------------

def test_expiry_removes_due_cases_once(world, xian_officer, baoji_officer):
    entry, _p = listed_case(xian_officer, world["xian_entity"])
    other, _q = listed_case(baoji_officer, world["baoji_entity"], on=dt.date(2026, 6, 1),
                           number="宝市监罚〔2026〕7号")
    assert bl.blacklist_expire_due(on=dt.date(2029, 3, 9)) == 0
    assert bl.blacklist_expire_due(on=dt.date(2029, 3, 10)) == 1
    assert bl.blacklist_expire_due(on=dt.date(2029, 3, 10)) == 0
    entry.refresh_from_db()
    other.refresh_from_db()
    assert (entry.status, entry.removal_reason, entry.removed_on) == (
        "removed", "expired", dt.date(2029, 3, 10))
    assert other.status == "listed"
    assert OutboxEvent.objects.filter(name="blacklist.removed").count() == 1


def test_the_task_and_the_command(world, xian_officer, monkeypatch):
    entry, _p = listed_case(xian_officer, world["xian_entity"])
    assert blacklist_expire_task() == 0  # today is before 2029
    from io import StringIO

    out = StringIO()
    call_command("credit_blacklist_expire", "--on", "2029-03-10", stdout=out)
    assert out.getvalue() == "1 case(s) removed: listing period ended.\n"
    entry.refresh_from_db()
    assert entry.status == "removed"
