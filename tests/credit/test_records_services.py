"""Records by hand, penalty decisions and credit commitments through the services: what
is written, audited and announced; bad input and the wrong person refused with nothing
changed."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from zhijian.core import audit
from zhijian.core.access import Denied
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.credit.models import Commitment, CreditRecord, Penalty
from zhijian.credit.services import records as services

DAY = dt.date(2026, 10, 12)
PDF = b"%PDF-1.4 decision"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def upload(name="decision.pdf", body=PDF):
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def fingerprint():
    return (CreditRecord.objects.count(), Penalty.objects.count(), Commitment.objects.count(),
            AuditEntry.objects.count(), OutboxEvent.objects.count())


def enter(actor, entity, **over):
    data = {"actor": actor, "entity_id": entity.pk, "kind": "award", "date": DAY,
            "evidence": upload("award.pdf"), "summary": "省质量奖", "source_ref": "陕政函〔2026〕1号",
            "public": True}
    data.update(over)
    return services.record_enter(**data)


def penalise(actor, entity, **over):
    data = {"actor": actor, "entity_id": entity.pk, "decision_number": "西市监罚〔2026〕101号",
            "decided_on": DAY, "violation": "生产不合格电线电缆", "fine": Decimal("50000.00"),
            "legal_basis": "《中华人民共和国产品质量法》第四十九条", "heavy": False,
            "document": upload()}
    data.update(over)
    return services.penalty_record(**data)


# --- records by hand ------------------------------------------------------------------------

def test_an_officer_enters_an_award_with_evidence(world, xian_officer):
    record = enter(xian_officer, world["xian_entity"], weight=15,
                   expires_on=dt.date(2029, 10, 12))
    assert (record.kind, record.date, record.weight, record.expires_on) == (
        "award", DAY, 15, dt.date(2029, 10, 12))
    assert (record.source_type, record.source_id, record.source_ref) == (
        "manual", "", "陕政函〔2026〕1号")
    assert record.evidence_sha256 == hashlib.sha256(b"%PDF-1.4 decision").hexdigest()
    assert (record.public, record.department, record.created_by) == (
        True, world["departments"]["xian"], xian_officer)
    [entry] = audit.history("credit.creditrecord", record.pk)
    assert (entry["action"], entry["actor_id"]) == ("credit_record.created", xian_officer.pk)
    assert OutboxEvent.objects.get(name="credit.record_changed").payload == {
        "record": record.pk, "entity": world["xian_entity"].pk, "kind": "award",
        "change": "created"}


@pytest.mark.parametrize("over, field, message", [
    ({"evidence": None}, "evidence",
     "A record entered by hand needs its evidence: attach the document."),
    ({"expires_on": dt.date(2026, 10, 1)}, "expires_on",
     "The expiry must be after the date of the fact; leave it empty for the rule's."),
    ({"kind": "bribery"}, "kind", "Choose one of the kinds of credit record."),
    ({"summary": " "}, "summary", "Say what the record is about."),
    ({"date": dt.date(2099, 1, 1)}, "date", "The date cannot be in the future."),
])
def test_bad_records_are_refused_and_nothing_changes(world, xian_officer, over, field,
                                                     message):
    before = fingerprint()
    with pytest.raises(ValidationError) as err:
        enter(xian_officer, world["xian_entity"], **over)
    assert err.value.message_dict == {field: [message]}
    assert fingerprint() == before


@pytest.mark.parametrize("who", ["baoji_officer", "enterprise_user", "lab_user",
                                 "user_unit_user"])
def test_only_an_officer_of_the_jurisdiction_enters_records(request, world, who):
    actor = request.getfixturevalue(who)
    before = fingerprint()
    with pytest.raises(Denied):
        enter(actor, world["xian_entity"])
    assert fingerprint() == before


def test_withdrawing_a_record_keeps_it_with_the_reason(world, xian_officer, baoji_officer):
    record = enter(xian_officer, world["xian_entity"])
    before = fingerprint()
    with pytest.raises(Denied):
        services.record_withdraw_by_officer(actor=baoji_officer, record_id=record.pk,
                                            reason="错录")
    with pytest.raises(ValidationError) as err:
        services.record_withdraw_by_officer(actor=xian_officer, record_id=record.pk,
                                            reason=" ")
    assert err.value.message_dict == {"reason": ["Give the reason for the withdrawal."]}
    assert fingerprint() == before
    services.record_withdraw_by_officer(actor=xian_officer, record_id=record.pk,
                                        reason="奖项被撤销")
    record.refresh_from_db()
    assert (record.status, record.withdrawn_reason) == ("withdrawn", "奖项被撤销")
    assert [e["action"] for e in audit.history("credit.creditrecord", record.pk)] == [
        "credit_record.created", "credit_record.withdrawn"]
    with pytest.raises(ValidationError):
        services.record_withdraw_by_officer(actor=xian_officer, record_id=record.pk,
                                            reason="again")


# --- penalties ------------------------------------------------------------------------------

def test_a_penalty_decision_is_public_and_a_record(world, xian_officer):
    penalty = penalise(xian_officer, world["xian_entity"], heavy=True)
    assert (penalty.department, penalty.status, penalty.fine) == (
        world["departments"]["xian"], "in_force", Decimal("50000.00"))
    assert penalty.document_sha256 == hashlib.sha256(PDF).hexdigest()
    record = CreditRecord.objects.get()
    assert (record.kind, record.date, record.public, record.source_type, record.source_id) == (
        "penalty_heavy", DAY, True, "credit.penalty", str(penalty.pk))
    assert record.source_ref == "Penalty decision 西市监罚〔2026〕101号"
    assert OutboxEvent.objects.get(name="penalty.decided").payload == {
        "penalty": penalty.pk, "entity": world["xian_entity"].pk, "heavy": True,
        "department": world["departments"]["xian"].pk, "record": record.pk}
    assert [e["action"] for e in audit.history("credit.penalty", penalty.pk)] == [
        "penalty.recorded"]


@pytest.mark.parametrize("over, field, message", [
    ({"document": None}, "document",
     "Attach the penalty decision document: it is the evidence of the record."),
    ({"decision_number": ""}, "decision_number",
     "Give the number of the penalty decision (行政处罚决定书文号)."),
    ({"decided_on": dt.date(2099, 1, 1)}, "decided_on", "The date cannot be in the future."),
    ({"fine": Decimal("-1")}, "fine",
     "The fine is an amount in yuan, 0 or more, with at most two decimals."),
    ({"legal_basis": ""}, "legal_basis",
     "Give the legal basis of the penalty (law and article)."),
])
def test_bad_penalties_are_refused(world, xian_officer, over, field, message):
    before = fingerprint()
    with pytest.raises(ValidationError) as err:
        penalise(xian_officer, world["xian_entity"], **over)
    assert err.value.message_dict == {field: [message]}
    assert fingerprint() == before


def test_a_penalty_number_is_registered_once(world, xian_officer):
    penalise(xian_officer, world["xian_entity"])
    before = fingerprint()
    with pytest.raises(ValidationError) as err:
        penalise(xian_officer, world["xian_entity"])
    assert err.value.message_dict == {"decision_number": [
        "A penalty decision with the number 西市监罚〔2026〕101号 is already registered."]}
    assert fingerprint() == before


def test_another_jurisdiction_may_not_penalise(world, baoji_officer, enterprise_user):
    before = fingerprint()
    for actor in (baoji_officer, enterprise_user):
        with pytest.raises(Denied):
            penalise(actor, world["xian_entity"])
    assert fingerprint() == before


def test_paying_and_revoking_a_penalty(world, xian_officer, baoji_officer):
    penalty = penalise(xian_officer, world["xian_entity"])
    with pytest.raises(ValidationError) as err:
        services.penalty_mark_paid(actor=xian_officer, penalty_id=penalty.pk,
                                   paid_on=DAY - dt.timedelta(days=1))
    assert err.value.message_dict == {"paid_on": ["The date cannot be before 2026-10-12."]}
    with pytest.raises(Denied):
        services.penalty_revoke(actor=baoji_officer, penalty_id=penalty.pk, reason="复议撤销")
    services.penalty_mark_paid(actor=xian_officer, penalty_id=penalty.pk,
                               paid_on=dt.date(2026, 10, 20))
    penalty.refresh_from_db()
    assert penalty.paid_on == dt.date(2026, 10, 20)
    services.penalty_revoke(actor=xian_officer, penalty_id=penalty.pk,
                            reason="行政复议决定撤销")
    penalty.refresh_from_db()
    record = CreditRecord.objects.get()
    assert (penalty.status, record.status) == ("revoked", "withdrawn")
    assert record.withdrawn_reason == ("Penalty decision 西市监罚〔2026〕101号 revoked: "
                                       "行政复议决定撤销")
    assert [e["action"] for e in audit.history("credit.penalty", penalty.pk)] == [
        "penalty.recorded", "penalty.paid", "penalty.revoked"]
    with pytest.raises(ValidationError):
        services.penalty_revoke(actor=xian_officer, penalty_id=penalty.pk, reason="again")


# --- commitments ----------------------------------------------------------------------------

def test_a_firm_signs_the_statement_in_force(world, enterprise_user):
    entity = world["xian_entity"]
    commitment = services.commitment_sign(actor=enterprise_user, occasion="licensing",
                                          reference="SC2026-0042", signatory="王法人")
    assert commitment.entity == entity
    assert commitment.template_version == "2019-07-16"
    assert commitment.text.startswith(
        f"本单位{entity.name}（统一社会信用代码：{entity.uscc}）在申请行政许可（申请编号："
        "SC2026-0042）时郑重承诺：一、")
    assert commitment.text_sha256 == hashlib.sha256(commitment.text.encode()).hexdigest()
    record = CreditRecord.objects.get()
    assert (record.kind, record.public, record.source_type, record.source_id) == (
        "commitment_made", True, "credit.commitment", str(commitment.pk))
    assert record.date == timezone.localdate()


@pytest.mark.parametrize("who", ["xian_officer", "lab_user", "admin_user"])
def test_only_the_firm_signs(request, world, who):
    actor = request.getfixturevalue(who)
    before = fingerprint()
    with pytest.raises(Denied):
        services.commitment_sign(actor=actor, occasion="registration", signatory="某人")
    assert fingerprint() == before


def test_a_commitment_needs_its_reference_and_signatory(world, enterprise_user):
    before = fingerprint()
    with pytest.raises(ValidationError) as err:
        services.commitment_sign(actor=enterprise_user, occasion="tender", signatory="")
    assert set(err.value.message_dict) == {"reference", "signatory"}
    assert fingerprint() == before


def test_a_breach_is_a_public_record_with_evidence(world, enterprise_user, xian_officer,
                                                    baoji_officer):
    commitment = services.commitment_sign(actor=enterprise_user, occasion="registration",
                                          signatory="王法人")
    today = timezone.localdate()
    before = fingerprint()
    with pytest.raises(Denied):
        services.commitment_breach(actor=baoji_officer, commitment_id=commitment.pk,
                                   breached_on=today, reason="x", evidence=upload())
    with pytest.raises(ValidationError) as err:
        services.commitment_breach(actor=xian_officer, commitment_id=commitment.pk,
                                   breached_on=today, reason="提交虚假材料", evidence=None)
    assert err.value.message_dict == {"evidence": ["Attach the evidence of the breach."]}
    assert fingerprint() == before
    services.commitment_breach(actor=xian_officer, commitment_id=commitment.pk,
                               breached_on=today, reason="提交虚假材料", evidence=upload())
    commitment.refresh_from_db()
    assert (commitment.status, commitment.breached_on, commitment.breach_reason) == (
        "breached", today, "提交虚假材料")
    breach = CreditRecord.objects.get(kind="commitment_breached")
    assert (breach.public, breach.summary, breach.department) == (
        True, "提交虚假材料", world["departments"]["xian"])
    assert breach.evidence_sha256 == hashlib.sha256(PDF).hexdigest()
    assert [e["action"] for e in audit.history("credit.commitment", commitment.pk)] == [
        "commitment.signed", "commitment.breached"]
