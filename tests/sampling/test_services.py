"""Sampling services: plans, samples, mutual recognition, photos, the chain of custody and
the follow-up of nonconforming results. Every refusal is checked with its exact message
and with proof that nothing was written."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from tests import factories as f
from tests.sampling.conftest import (
    PLAN,
    at,
    deliver,
    fingerprint,
    issue,
    plan_data,
    record,
    sample_data,
)
from zhijian.accounts.models import Role
from zhijian.core import audit, canonical
from zhijian.core.access import Denied
from zhijian.core.models import OutboxEvent
from zhijian.sampling import custody, services
from zhijian.sampling.models import Handover, Sample, SamplePhoto, SamplingPlan

JPEG = b"\xff\xd8\xff\xe0" + b"a sample photo" * 10
PNG = b"\x89PNG\r\n\x1a\n" + b"a sample photo"


def refused(exc, fn, **kwargs):
    """Run a service that must refuse; return the error, having checked nothing changed."""
    before = fingerprint()
    with pytest.raises(exc) as info:
        fn(**kwargs)
    assert fingerprint() == before
    return info.value


def messages(error: ValidationError) -> dict:
    return error.message_dict if hasattr(error, "error_dict") else {"": error.messages}


# --- plans -----------------------------------------------------------------------------------

def test_a_plan_is_numbered_saved_activated_and_closed(sworld, xian_officer):
    w = sworld
    p = services.sampling_plan_save(actor=xian_officer, data=plan_data(w),
                                    categories=[w["categories"]["cable"]],
                                    entities=[w["xian_entity"]])
    assert (p.code, p.status, p.department, p.created_by) == (
        PLAN, "draft", w["departments"]["xian"], xian_officer)
    assert list(p.entities.all()) == [w["xian_entity"]]
    p = services.sampling_plan_save(actor=xian_officer, data={"title": "改名"}, plan=p,
                                    categories=[w["categories"]["cable"]])
    assert (p.title, list(p.entities.all())) == ("改名", [])
    second = services.sampling_plan_save(actor=xian_officer, data=plan_data(w),
                                         categories=[w["categories"]["electrical"]])
    assert second.code == "CJ2026-0002"
    p = services.sampling_plan_activate(actor=xian_officer, plan_id=p.pk)
    assert p.status == "active"
    p = services.sampling_plan_close(actor=xian_officer, plan_id=p.pk)
    assert p.status == "closed"
    actions = [e["action"] for e in audit.history("sampling.samplingplan", p.pk)]
    assert actions == ["sampling_plan.created", "sampling_plan.updated",
                       "sampling_plan.activated", "sampling_plan.closed"]
    assert list(OutboxEvent.objects.filter(aggregate_id=str(p.pk)).values_list(
        "name", flat=True).order_by("id")) == ["sampling_plan.activated", "sampling_plan.closed"]


def test_an_admin_plans_for_a_named_department(sworld, admin_user):
    p = services.sampling_plan_save(actor=admin_user, data=plan_data(sworld),
                                    categories=[sworld["categories"]["cable"]])
    assert p.department == sworld["departments"]["xian"]


@pytest.mark.parametrize(("who", "message"), [
    ("baoji_officer", "Only officers of 西安市市场监督管理局 can plan its sampling."),
    ("province_officer", "Only officers of 西安市市场监督管理局 can plan its sampling."),
    ("lab_user", "Only officers of 西安市市场监督管理局 can plan its sampling."),
])
def test_only_the_departments_officers_plan(who, message, sworld, request):
    actor = request.getfixturevalue(who)
    error = refused(Denied, services.sampling_plan_save, actor=actor, data=plan_data(sworld),
                    categories=[sworld["categories"]["cable"]])
    assert (error.message, error.field) == (message, "department")


def test_bad_plans_are_refused_naming_each_field(sworld, xian_officer, xian_housing_officer):
    w = sworld
    error = refused(ValidationError, services.sampling_plan_save, actor=xian_officer,
                    data=plan_data(w, title=" ", division_prefixes=["6103", "6199"],
                                   period_end=dt.date(2026, 10, 1)),
                    categories=[])
    assert messages(error) == {
        "title": ["Give the plan a title."],
        "categories": ["Choose at least one product category: the scope is empty."],
        "division_prefixes": ["6199 is not a current division code; use a 2-, 4- or 6-digit "
                              "GB/T 2260 code of the province, a city or a county."],
        "period_end": ["The period ends before it starts."],
    }
    error = refused(ValidationError, services.sampling_plan_save, actor=xian_officer,
                    data=plan_data(w, division_prefixes=["6103"]),
                    categories=[w["categories"]["cable"]], entities=[w["baoji_entity"]])
    assert messages(error) == {"division_prefixes": [
        "6103 is outside the jurisdiction of 西安市市场监督管理局 (6101…); choose divisions "
        "within it."]}
    error = refused(ValidationError, services.sampling_plan_save, actor=xian_officer,
                    data=plan_data(w), categories=[w["categories"]["cable"]],
                    entities=[w["baoji_entity"]])
    assert messages(error) == {"entities": [
        "宝鸡测试钢铁有限公司 is outside the plan's divisions; name firms within them or add "
        "their division."]}
    error = refused(ValidationError, services.sampling_plan_save, actor=xian_housing_officer,
                    data=plan_data(w, department=w["departments"]["xian_housing"]),
                    categories=[w["categories"]["cable"], w["categories"]["steel"]])
    assert messages(error) == {"categories": [
        "电线电缆 is outside the sectors 西安市住房和城乡建设局 supervises; choose categories "
        "within them."]}


def test_only_a_draft_changes_and_transitions_follow_the_table(plan, xian_officer, sworld):
    error = refused(ValidationError, services.sampling_plan_save, actor=xian_officer,
                    data={"title": "改"}, plan=plan, categories=[sworld["categories"]["cable"]])
    assert messages(error) == {"": [f"Plan {PLAN} is no longer a draft and cannot be changed."]}
    error = refused(ValidationError, services.sampling_plan_activate, actor=xian_officer,
                    plan_id=plan.pk)
    assert messages(error) == {"": [f"Plan {PLAN} is Active; only a draft can be activated."]}
    closed = services.sampling_plan_close(actor=xian_officer, plan_id=plan.pk)
    error = refused(ValidationError, services.sampling_plan_close, actor=xian_officer,
                    plan_id=closed.pk)
    assert messages(error) == {"": [f"Plan {PLAN} is Closed; only an active plan can be "
                                    "closed."]}


def test_a_plan_not_yours_is_absent_and_a_visible_one_refused(plan, baoji_officer,
                                                              province_officer):
    refused(Http404, services.sampling_plan_close, actor=baoji_officer, plan_id=plan.pk)
    refused(Http404, services.sampling_plan_close, actor=baoji_officer, plan_id=10**9)
    error = refused(Denied, services.sampling_plan_close, actor=province_officer,
                    plan_id=plan.pk)
    assert error.message == "Only officers of 西安市市场监督管理局 can do this."


# --- samples ---------------------------------------------------------------------------------

def test_a_sample_is_recorded_with_the_assigned_lab(sample, sworld, xian_officer):
    assert (sample.code, sample.status, sample.lab, sample.sampled_by, sample.division_id,
            sample.duplicate_of, sample.rule_version) == (
        "CY2026-000001", "sampled", sworld["lab"], xian_officer, "610113", None, "2017-01-01")
    assert sample.custody_problems() == [
        "The sample is held by xian, who is not a user of the assigned lab: hand it over to "
        "the lab."]
    entry = audit.history("sampling.sample", sample.pk)[0]
    assert (entry["action"], entry["after"]["lab_id"], entry["after"]["seal_number"]) == (
        "sample.recorded", sworld["lab"].pk, "FY-0001")
    event = OutboxEvent.objects.get(name="sample.recorded")
    assert event.payload == {"plan": sample.plan_id, "entity": sworld["xian_entity"].pk,
                             "producer": sworld["xian_entity"].pk,
                             "category": "electrical.cable", "batch": "B2026-11",
                             "lab": sworld["lab"].pk, "division": "610113",
                             "duplicate_of": None}


def test_an_online_purchase_keeps_shop_and_order_number(sworld, plan, xian_officer):
    s = services.sample_record(actor=xian_officer, plan_id=plan.pk, lab_id=sworld["lab"].pk,
                               data=sample_data(sworld, channel="online", place="",
                                                entity=sworld["shop"], shop="某电缆旗舰店",
                                                order_number="TB20261102-889"))
    assert (s.channel, s.place, s.entity, s.producer, s.division_id) == (
        "online", "某电缆旗舰店 · TB20261102-889", sworld["shop"], sworld["xian_entity"],
        "610104")


def test_bad_samples_are_refused_naming_each_field(sworld, plan, xian_officer):
    w = sworld
    error = refused(ValidationError, services.sample_record, actor=xian_officer,
                    plan_id=plan.pk, lab_id=None,
                    data=sample_data(w, sampled_at=at(2) + dt.timedelta(days=365 * 3),
                                     batch=" ", quantity=Decimal("0"), seal_number="",
                                     product_name="", unit="", place=""))
    assert messages(error) == {
        "sampled_at": ["The sampling time is in the future; enter when the sample was "
                       "taken."],
        "product_name": ["Give the product name as on the product or its label."],
        "batch": ["Give the batch number as on the product or its label."],
        "unit": ["Give the unit of the quantity, for example m, kg or pieces."],
        "seal_number": ["Give the number of the seal put on the sample."],
        "quantity": ["Give the quantity taken, more than 0."],
        "place": ["Give the address where the sample was taken."],
        "lab": ["Choose the lab the department assigns to test the sample."],
    }
    error = refused(ValidationError, services.sample_record, actor=xian_officer,
                    plan_id=plan.pk, lab_id=w["lab"].pk,
                    data=sample_data(w, sampled_at=dt.datetime(2026, 10, 31, 9, tzinfo=at(1).tzinfo),
                                     entity=w["baoji_entity"], producer=w["baoji_entity"],
                                     category=w["categories"]["steel"]))
    assert messages(error) == {
        "sampled_at": ["The sample was taken on 2026-10-31, outside the plan's period "
                       "(2026-11-01 – 2026-12-31)."],
        "entity": ["宝鸡测试钢铁有限公司 is in 610302, outside the plan's divisions (6101)."],
        "category": [f"钢筋 is not in the categories of plan {PLAN}; choose one of: 电线电缆."],
    }
    error = refused(ValidationError, services.sample_record, actor=xian_officer,
                    plan_id=plan.pk, lab_id=w["lab"].pk,
                    data=sample_data(w, channel="online", shop=" ", order_number=""))
    assert messages(error) == {
        "shop": ["Give the name of the online shop the sample was bought from."],
        "order_number": ["Give the order number of the online purchase."]}
    product = f.ProductFactory(entity=w["baoji_entity"], name="钢筋",
                               category=w["categories"]["steel"])
    error = refused(ValidationError, services.sample_record, actor=xian_officer,
                    plan_id=plan.pk, lab_id=w["lab"].pk, data=sample_data(w, product=product))
    assert messages(error) == {"product": [
        "钢筋 is not a product of 西安测试电缆有限公司; choose one of the producer's products "
        "or leave it empty."]}


def test_online_purchases_need_a_plan_that_includes_them(sworld, xian_officer):
    p = services.sampling_plan_save(actor=xian_officer, data=plan_data(sworld, online=False),
                                    categories=[sworld["categories"]["cable"]])
    services.sampling_plan_activate(actor=xian_officer, plan_id=p.pk)
    error = refused(ValidationError, services.sample_record, actor=xian_officer,
                    plan_id=p.pk, lab_id=sworld["lab"].pk,
                    data=sample_data(sworld, channel="online", shop="店", order_number="1"))
    assert messages(error) == {"channel": [
        f"Plan {PLAN} does not include online purchases; record an on-site sample or use a "
        "plan that does."]}


def test_named_firms_only_when_the_plan_names_any(sworld, xian_officer):
    p = services.sampling_plan_save(actor=xian_officer, data=plan_data(sworld),
                                    categories=[sworld["categories"]["electrical"]],
                                    entities=[sworld["xian_entity"]])
    services.sampling_plan_activate(actor=xian_officer, plan_id=p.pk)
    error = refused(ValidationError, services.sample_record, actor=xian_officer,
                    plan_id=p.pk, lab_id=sworld["lab"].pk,
                    data=sample_data(sworld, entity=sworld["shop"]))
    assert messages(error) == {"entity": [
        f"西安测试电缆经销部 is not among the firms named in plan {PLAN}; sample a named firm."]}
    # A subcategory of the plan's category is in scope.
    s = record(sworld, p, xian_officer)
    assert s.category.code == "electrical.cable"


@pytest.mark.parametrize(("lab_key", "message"), [
    ("baoji_lab", "宝鸡测试检测中心 holds no accreditation scope line valid on 2026-11-02 for "
                  "a standard of 电线电缆; assign a lab accredited to test it."),
    ("suspended_lab", "西安停业检测中心 is Suspended and cannot be assigned samples; assign an "
                      "active lab."),
])
def test_the_assigned_lab_must_be_active_and_accredited(lab_key, message, sworld, plan,
                                                        xian_officer):
    error = refused(ValidationError, services.sample_record, actor=xian_officer,
                    plan_id=plan.pk, lab_id=sworld[lab_key].pk, data=sample_data(sworld))
    assert messages(error) == {"lab": [message]}


def test_a_scope_line_that_ended_does_not_count(sworld, plan, xian_officer):
    sworld["lab"].scopes.update(valid_to=dt.date(2026, 11, 1))
    error = refused(ValidationError, services.sample_record, actor=xian_officer,
                    plan_id=plan.pk, lab_id=sworld["lab"].pk, data=sample_data(sworld))
    assert messages(error) == {"lab": [
        "西安测试检测中心 holds no accreditation scope line valid on 2026-11-02 for a standard "
        "of 电线电缆; assign a lab accredited to test it."]}


@pytest.mark.parametrize(("who", "exc", "message"), [
    ("admin_user", Denied, "Only officers of 西安市市场监督管理局 take samples under its plans."),
    ("province_officer", Denied,
     "Only officers of 西安市市场监督管理局 take samples under its plans."),
    ("baoji_officer", Http404, None),
    ("enterprise_user", Http404, None),
    ("lab_user", Http404, None),
])
def test_only_the_departments_officers_take_samples(who, exc, message, sworld, plan, request):
    error = refused(exc, services.sample_record, actor=request.getfixturevalue(who),
                    plan_id=plan.pk, lab_id=sworld["lab"].pk, data=sample_data(sworld))
    if message:
        assert error.message == message


def test_no_sample_under_a_draft_or_closed_plan(sworld, plan, xian_officer):
    services.sampling_plan_close(actor=xian_officer, plan_id=plan.pk)
    error = refused(ValidationError, services.sample_record, actor=xian_officer,
                    plan_id=plan.pk, lab_id=sworld["lab"].pk, data=sample_data(sworld))
    assert messages(error) == {"": [f"Plan {PLAN} is Closed; samples are recorded only while "
                                    "a plan is active."]}


# --- mutual recognition ----------------------------------------------------------------------

def test_a_recognised_batch_needs_a_reason_and_is_flagged(sworld, plan, xian_officer):
    w = sworld
    report = issue(w, batch="B2026-11", number="BG2026-0007", issued_on=dt.date(2026, 10, 20))
    error = refused(ValidationError, services.sample_record, actor=xian_officer,
                    plan_id=plan.pk, lab_id=w["lab"].pk, data=sample_data(w))
    assert messages(error) == {"batch": [
        "Batch B2026-11 of 西安测试电缆有限公司 already has a recognised supervisory result: "
        "report BG2026-0007 by 西安测试检测中心, issued on 2026-10-20 (recognised for 180 "
        "days). Give a reason to sample it again."]}
    s = record(w, plan, xian_officer, reason="举报称该批次产品存在质量问题")
    assert (s.duplicate_of, s.duplicate_reason, s.rule_version, s.is_duplicate) == (
        report, "举报称该批次产品存在质量问题", "2017-01-01", True)
    assert audit.history("sampling.sample", s.pk)[0]["reason"] == "举报称该批次产品存在质量问题"


@pytest.mark.parametrize(("status", "issued_on", "batch"), [
    ("issued", dt.date(2026, 5, 5), "B2026-11"),    # 181 days before: no longer recognised
    ("revoked", dt.date(2026, 10, 20), "B2026-11"),  # a revoked report is no result
    ("issued", dt.date(2026, 10, 20), "B2026-12"),  # another batch
    ("issued", dt.date(2026, 11, 3), "B2026-11"),   # issued after the sampling
])
def test_what_is_not_a_recognised_result(status, issued_on, batch, sworld, plan, xian_officer):
    report = issue(sworld, batch=batch, issued_on=issued_on)
    report.status = status
    report.save()
    s = record(sworld, plan, xian_officer, reason="再抽")
    assert (s.duplicate_of, s.duplicate_reason) == (None, "")


def test_the_last_day_of_the_recognition_period_counts(sworld, plan, xian_officer):
    issue(sworld, batch="B2026-11", issued_on=dt.date(2026, 5, 6))  # 180 days before
    with pytest.raises(ValidationError) as info:
        record(sworld, plan, xian_officer)
    assert list(info.value.message_dict) == ["batch"]


# --- photos ----------------------------------------------------------------------------------

def test_photos_are_kept_with_their_digest(sample, xian_officer, lab_user):
    photo = services.sample_photo_add(actor=xian_officer, sample_id=sample.pk,
                                      upload=SimpleUploadedFile("封样.jpg", JPEG, "image/jpeg"))
    assert (photo.sha256, photo.uploaded_by) == (hashlib.sha256(JPEG).hexdigest(), xian_officer)
    assert photo.file.read() == JPEG
    photo = services.sample_photo_add(actor=lab_user, sample_id=sample.pk,
                                      upload=SimpleUploadedFile("收样.png", PNG, "image/png"))
    assert photo.sha256 == hashlib.sha256(PNG).hexdigest()
    assert sample.photos.count() == 2


def test_bad_photos_are_refused(sample, xian_officer, courier, province_officer,
                                 other_lab_user, settings):
    error = refused(ValidationError, services.sample_photo_add, actor=xian_officer,
                    sample_id=sample.pk,
                    upload=SimpleUploadedFile("x.jpg", b"GIF89a not a jpeg", "image/jpeg"))
    assert messages(error) == {"file": ["Only JPEG and PNG photos are accepted; this file is "
                                        "neither."]}
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024), "image/jpeg")
    error = refused(ValidationError, services.sample_photo_add, actor=xian_officer,
                    sample_id=sample.pk, upload=big)
    assert messages(error) == {"file": ["The photo is larger than 10 MB; take a smaller one."]}
    error = refused(Denied, services.sample_photo_add, actor=province_officer,
                    sample_id=sample.pk, upload=SimpleUploadedFile("x.jpg", JPEG))
    assert error.message == ("Only officers of the sampling department and users of the "
                             "assigned lab add photos of this sample.")
    refused(Http404, services.sample_photo_add, actor=other_lab_user, sample_id=sample.pk,
            upload=SimpleUploadedFile("x.jpg", JPEG))
    assert SamplePhoto.objects.count() == 0


# --- chain of custody ------------------------------------------------------------------------

def test_a_chain_from_sampler_through_courier_to_the_lab(sample, xian_officer, courier,
                                                         lab_user):
    first = deliver(sample, xian_officer, courier)
    sample.refresh_from_db()
    assert (sample.status, sample.received_at) == ("in_transit", None)
    assert sample.custody_problems() == [
        "The sample is held by xian2, who is not a user of the assigned lab: hand it over to "
        "the lab."]
    h = services.handover_give(actor=courier, sample_id=sample.pk, to_user_id=lab_user.pk,
                               note="冷藏运输", now=at(3, 9))
    assert sample.custody_problems() == ["Hand-over 2: lab has not yet confirmed receipt."]
    h = services.handover_receive(actor=lab_user, handover_id=h.pk, seal_intact=True,
                                  seal_number_seen="FY-0001", now=at(3, 10, 30))
    sample.refresh_from_db()
    assert (sample.status, sample.received_at) == ("received", at(3, 10, 30))
    assert (sample.custody_problems(), sample.custody_intact) == ([], True)
    chain = sample.custody_chain()
    assert chain["handovers"][1] == {
        "position": 2, "giver": "xian2", "receiver": "lab", "given_at": "2026-11-03T01:00:00Z",
        "note": "冷藏运输", "giver_digest": h.giver_digest,
        "received_at": "2026-11-03T02:30:00Z", "seal_intact": True,
        "seal_number_seen": "FY-0001", "receiver_digest": h.receiver_digest}
    # The digests are SHA-256 of the canonical statements docs/sampling.md spells out.
    assert h.giver_digest == hashlib.sha256(canonical.canonical_bytes({
        "attests": "handover.given", "sample": "CY2026-000001", "seal_number": "FY-0001",
        "position": 2, "giver": "xian2", "receiver": "lab",
        "given_at": "2026-11-03T01:00:00Z", "note": "冷藏运输"})).hexdigest()
    assert h.receiver_digest == hashlib.sha256(canonical.canonical_bytes({
        "attests": "handover.received", "sample": "CY2026-000001", "seal_number": "FY-0001",
        "position": 2, "giver": "xian2", "receiver": "lab",
        "given_at": "2026-11-03T01:00:00Z", "giver_digest": h.giver_digest,
        "received_at": "2026-11-03T02:30:00Z", "seal_intact": True,
        "seal_number_seen": "FY-0001"})).hexdigest()
    assert first.position == 1
    assert [e.name for e in OutboxEvent.objects.filter(
        aggregate_type="sampling.sample").order_by("id")] == [
        "sample.recorded", "handover.given", "handover.received", "handover.given",
        "handover.received", "sample.received"]
    assert OutboxEvent.objects.get(name="sample.received").payload == {
        "lab": sample.lab_id, "custody_intact": True}


def test_a_broken_seal_is_recorded_and_flagged(sample, xian_officer, lab_user):
    deliver(sample, xian_officer, lab_user, seal_intact=False, seal="FY-0002")
    sample.refresh_from_db()
    assert sample.status == "received"
    assert sample.custody_problems() == [
        "Hand-over 1: lab found the seal broken.",
        "Hand-over 1: the seal number read was FY-0002, not FY-0001."]
    assert not sample.custody_intact


def test_a_record_changed_after_signing_is_caught(received):
    Handover.objects.filter(sample=received).update(seal_number_seen="FY-0009")
    received.refresh_from_db()
    assert received.custody_problems() == [
        "Hand-over 1: the signature of lab, who received the sample, does not match the "
        "recorded receipt; it was changed after signing.",
        "Hand-over 1: the seal number read was FY-0009, not FY-0001."]
    Sample.objects.filter(pk=received.pk).update(seal_number="FY-0009")
    received.refresh_from_db()
    assert received.custody_problems() == [
        "Hand-over 1: the signature of xian, who gave the sample, does not match the recorded "
        "hand-over; it was changed after signing.",
        "Hand-over 1: the signature of lab, who received the sample, does not match the "
        "recorded receipt; it was changed after signing."]


def test_only_the_holder_gives_and_an_open_hand_over_blocks(sample, xian_officer, courier,
                                                             lab_user):
    error = refused(Denied, services.handover_give, actor=courier, sample_id=sample.pk,
                    to_user_id=lab_user.pk)
    assert error.message == "Only the current holder of the sample can hand it over."
    h = services.handover_give(actor=xian_officer, sample_id=sample.pk, to_user_id=courier.pk,
                               now=at(2, 11))
    error = refused(ValidationError, services.handover_give, actor=xian_officer,
                    sample_id=sample.pk, to_user_id=lab_user.pk)
    assert messages(error) == {"": [
        "Hand-over 1 to xian2 has not been received yet; it must be received before the "
        "sample is handed on."]}
    services.handover_receive(actor=courier, handover_id=h.pk, seal_intact=True,
                              seal_number_seen="FY-0001", now=at(2, 12))
    error = refused(Denied, services.handover_give, actor=xian_officer, sample_id=sample.pk,
                    to_user_id=lab_user.pk)
    assert error.message == "Only the current holder of the sample can hand it over."


@pytest.mark.parametrize(("to", "message"), [
    ("other_lab_user", "baojilab works for another lab (宝鸡测试检测中心); only the assigned "
                       "lab, 西安测试检测中心, receives this sample."),
    ("enterprise_user", "enterprise cannot receive samples: hand them only to regulators or to "
                        "users of the assigned lab (西安测试检测中心)."),
    ("xian_officer", "You already hold the sample; choose the person you hand it to."),
    (None, "Choose an active user to hand the sample to."),
])
def test_who_may_receive(to, message, sample, xian_officer, request):
    target = request.getfixturevalue(to).pk if to else 10**9
    error = refused(ValidationError, services.handover_give, actor=xian_officer,
                    sample_id=sample.pk, to_user_id=target)
    assert messages(error) == {"to_user": [message]}


def test_only_the_named_receiver_confirms(sample, xian_officer, courier, lab_user,
                                         other_lab_user):
    h = services.handover_give(actor=xian_officer, sample_id=sample.pk, to_user_id=lab_user.pk,
                               now=at(2, 11))
    error = refused(Denied, services.handover_receive, actor=courier, handover_id=h.pk,
                    seal_intact=True, seal_number_seen="FY-0001")
    assert error.message == "Only lab, to whom the sample was handed, can confirm receipt."
    refused(Http404, services.handover_receive, actor=other_lab_user, handover_id=h.pk,
            seal_intact=True, seal_number_seen="FY-0001")
    error = refused(ValidationError, services.handover_receive, actor=lab_user,
                    handover_id=h.pk, seal_intact=None, seal_number_seen=" ")
    assert messages(error) == {"seal_intact": ["Say whether the seal was intact."],
                               "seal_number_seen": ["Read the seal number on the sample and "
                                                    "enter it."]}
    services.handover_receive(actor=lab_user, handover_id=h.pk, seal_intact=True,
                              seal_number_seen="FY-0001", now=at(2, 12))
    error = refused(ValidationError, services.handover_receive, actor=lab_user,
                    handover_id=h.pk, seal_intact=True, seal_number_seen="FY-0001")
    assert messages(error) == {"": ["Hand-over 1 was already received."]}


def test_a_lab_user_moved_to_another_lab_cannot_receive(sample, xian_officer, lab_user,
                                                        sworld):
    h = services.handover_give(actor=xian_officer, sample_id=sample.pk, to_user_id=lab_user.pk,
                               now=at(2, 11))
    lab_user.lab = sworld["baoji_lab"]
    lab_user.save()
    error = refused(Denied, services.handover_receive, actor=lab_user, handover_id=h.pk,
                    seal_intact=True, seal_number_seen="FY-0001")
    assert error.message == ("lab works for another lab (宝鸡测试检测中心); only the assigned "
                             "lab, 西安测试检测中心, receives this sample.")
    assert not Handover.objects.get(pk=h.pk).is_received


def test_the_chain_closes_with_the_result(received, lab_user, sworld):
    issue(sworld, sample=received)
    error = refused(ValidationError, services.handover_give, actor=lab_user,
                    sample_id=received.pk, to_user_id=f.UserFactory(
                        username="lab2", role=Role.LAB, lab=sworld["lab"]).pk)
    assert messages(error) == {"": ["The result of sample CY2026-000001 is out; its chain of "
                                    "custody is closed."]}


def test_custody_problems_match_the_pure_module(received):
    assert received.custody_problem_list() == custody.problems(received.custody_chain()) == []


def test_plan_rows_unchanged_by_sampling(plan):
    assert SamplingPlan.objects.get(pk=plan.pk).status == "active"
