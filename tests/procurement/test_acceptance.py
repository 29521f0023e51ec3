"""Acceptance checks (docs/acceptance.md): each case of the brief, with the exact findings,
what is stored, the decision and its event; and one-step referrals of rejected
deliveries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import override

from tests import factories as f
from tests.procurement.conftest import cable_report, delivery_data, steel_data, steel_report
from tests.procurement.test_services import refused, revoke
from zhijian.core import audit
from zhijian.core.access import Denied
from zhijian.core.models import OutboxEvent
from zhijian.procurement import services
from zhijian.procurement.models import AcceptanceCheck, Delivery, Referral, Supplier
from zhijian.reports import services as report_services
from zhijian.reports.models import Report

pytestmark = pytest.mark.django_db
N1 = "T2026-00001"


def record(w, actor, numbers=(N1,), **over):
    return services.delivery_record(actor=actor, data=delivery_data(w, **over),
                                    report_numbers=list(numbers))


def witness(w, actor, delivery, result="pass"):
    return services.witness_record(actor=actor, delivery_id=delivery.pk, lab_id=w["lab"].pk,
                                   witness="监理 李工", witnessed_on=timezone.localdate(),
                                   result=result)


def check(actor, delivery, **kw):
    with override("en"):
        return services.acceptance_check(actor=actor, delivery_id=delivery.pk, **kw)


def codes(c) -> list[str]:
    return [x["code"] for x in c.findings]


@pytest.fixture
def good(pworld, user_unit_user):
    """A cable delivery of 800 m covered by a 1000 m report, witnessed."""
    report = cable_report(pworld, number=N1)
    d = record(pworld, user_unit_user)
    w = witness(pworld, user_unit_user, d)
    return {"report": report, "delivery": d, "witness": w}


def test_all_good_is_accepted_and_everything_checked_is_stored(pworld, good, user_unit_user):
    d = good["delivery"]
    c = check(user_unit_user, d, note="到货外观良好")
    d.refresh_from_db()
    assert (c.accepted, c.findings, d.status, c.note, c.checked_by) == (
        True, [], "accepted", "到货外观良好", user_unit_user)
    assert c.rule_version == "2017-01-01"
    (row,) = c.checked["reports"]
    assert row["counted"] is True
    assert row["matches"] == {"producer": True, "batch": True, "category": True, "unit": True,
                              "conclusion": True}
    assert row["report"] == {"producer": pworld["xian_entity"].uscc, "batch": "C2026-01",
                             "category": "electrical.cable", "conclusion": "pass",
                             "quantity_covered": "1000", "unit": "m"}
    v = row["verification"]
    assert (v["number"], v["found"], v["genuine"], v["valid"], v["custody"]) == (
        N1, True, True, True, "platform")
    assert [(x["key"], x["ok"]) for x in v["checks"]] == [
        ("found", True), ("signature", True), ("accreditation", True), ("lab_status", True),
        ("calibration", True), ("revocation", True), ("superseded", True)]
    assert c.checked["quantities"] == {"delivered": "800", "unit": "m", "covered": "1000",
                                       "claims": {N1: {"covers": "1000", "claimed": "800",
                                                       "deliveries": 1}}}
    s = pworld["cable_supplier"]
    assert c.checked["standing"] == {
        "supplier": s.pk, "list": s.supplier_list_id, "entity": pworld["xian_entity"].uscc,
        "standing": "qualified", "score": 100, "reasons": [], "rule": "procurement.standing",
        "rule_version": "2017-01-01", "computed_at": c.checked["standing"]["computed_at"]}
    assert c.checked["witness"] == {"required": True, "inspection": {
        "id": good["witness"].pk, "lab": "西安测试检测中心", "lab_cma": pworld["lab"].cma_number,
        "witness": "监理 李工", "witnessed_on": timezone.localdate().isoformat(),
        "result": "pass", "report": ""}}
    event = OutboxEvent.objects.get(name="delivery.accepted")
    assert event.payload == {"delivery": d.pk, "supplier": pworld["xian_entity"].pk,
                             "producer": pworld["xian_entity"].pk,
                             "category": "electrical.cable", "batch": "C2026-01",
                             "user_unit": pworld["user_unit"].pk}
    assert [e["action"] for e in audit.history("procurement.delivery", d.pk)] == [
        "delivery.recorded", "delivery.accepted"]
    assert audit.history("procurement.acceptancecheck", c.pk)[0]["action"] == (
        "acceptance.checked")
    assert refused(ValidationError, services.acceptance_check, actor=user_unit_user,
                   delivery_id=d.pk) == {"delivery": ["This delivery was already accepted."]}


def test_a_tampered_report_is_rejected_with_the_signature_finding(pworld, good, user_unit_user):
    # Someone with database access raises the quantity the report covers.
    Report.objects.filter(number=N1).update(quantity_covered=Decimal("5000"))
    c = check(user_unit_user, good["delivery"])
    assert (c.accepted, Delivery.objects.get(pk=good["delivery"].pk).status) == (
        False, "rejected")
    assert c.findings == [
        {"code": "report_not_genuine", "blocking": True,
         "message": f"Report {N1}: The record differs from what the laboratory signed in: "
                    "quantity_covered."},
        {"code": "quantity_not_covered", "blocking": True,
         "message": "The delivery is 800 m, but its valid reports cover only 0 m."}]
    v = c.checked["reports"][0]["verification"]
    assert (v["genuine"], v["valid"], c.checked["reports"][0]["counted"]) == (
        False, False, False)
    assert OutboxEvent.objects.get(name="delivery.rejected").payload["delivery"] == (
        good["delivery"].pk)


def test_a_revoked_report_is_rejected(pworld, good, user_unit_user):
    revoke(good["report"], pworld)
    c = check(user_unit_user, good["delivery"])
    day = timezone.localdate().isoformat()
    assert c.findings == [
        {"code": "report_revocation", "blocking": True,
         "message": f"Report {N1}: The report was revoked: 检验原始记录与报告不符"},
        {"code": "quantity_not_covered", "blocking": True,
         "message": "The delivery is 800 m, but its valid reports cover only 0 m."},
        {"code": "supplier_removed", "blocking": True,
         "message": f"西安测试电缆有限公司 was removed from your qualified-supplier list: Test "
                    f"report revoked: {N1} {day} (hard rule hard.revoked_report)."}]
    assert c.checked["standing"]["standing"] == "removed"
    assert Supplier.objects.get(pk=pworld["cable_supplier"].pk).standing == "removed"


def test_an_unknown_number_is_rejected(pworld, good, user_unit_user):
    d = record(pworld, user_unit_user, numbers=[N1, "GB-FAKE-001"], number="DN-2026-0002",
               quantity=Decimal("100"))
    witness(pworld, user_unit_user, d)
    c = check(user_unit_user, d)
    assert c.findings == [
        {"code": "report_not_found", "blocking": True,
         "message": "Report GB-FAKE-001 is not on the platform: ask the supplier for the "
                    "genuine report or check the number with the laboratory."}]
    assert [r["verification"]["found"] for r in c.checked["reports"]] == [True, False]
    assert c.accepted is False


def test_a_quantity_over_the_coverage_is_rejected(pworld, user_unit_user):
    cable_report(pworld, number=N1, quantity=Decimal("1000"))
    cable_report(pworld, number="T2026-00002", quantity=Decimal("150.5"))
    d = record(pworld, user_unit_user, numbers=[N1, "T2026-00002"], quantity=Decimal("1200"))
    witness(pworld, user_unit_user, d)
    c = check(user_unit_user, d)
    # The delivery draws on each report in proportion (1000 and 150.5 m: each fully,
    # none beyond its cover), so recording it raised no fake-report signal; it is
    # rejected for the 49.5 m no report covers.
    assert c.findings == [
        {"code": "quantity_not_covered", "blocking": True,
         "message": "The delivery is 1200 m, but its valid reports cover only 1150.5 m."}]
    assert c.checked["quantities"] == {
        "delivered": "1200", "unit": "m", "covered": "1150.5",
        "claims": {N1: {"covers": "1000", "claimed": "1000", "deliveries": 1},
                   "T2026-00002": {"covers": "150.5", "claimed": "150.5", "deliveries": 1}}}
    assert c.accepted is False


def test_a_delivery_draws_on_its_reports_in_proportion(pworld, user_unit_user, monkeypatch):
    # The reports app's screen adds each delivery's whole quantity to every report it
    # cites; the acceptance check shares it out (docs/acceptance.md). Without the screen,
    # this test sees the acceptance check alone.
    monkeypatch.setattr(report_services, "signals_scan", lambda *, numbers: [])
    cable_report(pworld, number=N1, quantity=Decimal("1000"))
    cable_report(pworld, number="T2026-00002", quantity=Decimal("1000"))
    first = record(pworld, user_unit_user, numbers=[N1, "T2026-00002"],
                   quantity=Decimal("1100"))
    witness(pworld, user_unit_user, first)
    c = check(user_unit_user, first)
    assert (c.accepted, c.checked["quantities"]["claims"]) == (True, {
        N1: {"covers": "1000", "claimed": "550", "deliveries": 1},
        "T2026-00002": {"covers": "1000", "claimed": "550", "deliveries": 1}})
    second = record(pworld, user_unit_user, number="DN-2026-0002", quantity=Decimal("450"))
    witness(pworld, user_unit_user, second)
    c = check(user_unit_user, second)
    assert (c.accepted, c.checked["quantities"]["claims"]) == (True, {
        N1: {"covers": "1000", "claimed": "1000", "deliveries": 2}})
    third = record(pworld, user_unit_user, number="DN-2026-0003", quantity=Decimal("0.5"))
    witness(pworld, user_unit_user, third)
    c = check(user_unit_user, third)
    assert c.findings == [
        {"code": "report_overclaimed", "blocking": True,
         "message": "Report T2026-00001 covers 1000 m, but 3 deliveries together claim "
                    "1000.5 m of it."}]


def test_a_report_claimed_by_several_deliveries_beyond_its_coverage(pworld, good,
                                                                    user_unit_user):
    assert check(user_unit_user, good["delivery"]).accepted is True  # 800 of 1000 m
    other = f.UserUnitFactory(name="西安测试电力有限公司")
    power = f.UserFactory(username="power", role="user_unit", user_unit=other)
    sl = services.supplier_list_create(actor=power, category_id=pworld["categories"]["cable"].pk)
    services.supplier_add(actor=power, list_id=sl.pk, entity_id=pworld["xian_entity"].pk)
    d2 = record(pworld, power, number="PW-001", quantity=Decimal("300"))
    witness(pworld, power, d2)
    c = check(power, d2)
    day = timezone.localdate().isoformat()
    assert c.findings == [
        {"code": "report_overclaimed", "blocking": True,
         "message": "Report T2026-00001 covers 1000 m, but 2 deliveries together claim "
                    "1100 m of it."},
        {"code": "supplier_removed", "blocking": True,
         "message": f"西安测试电缆有限公司 was removed from your qualified-supplier list: Open "
                    f"fake-report signal: T2026-00001 over_coverage {day} (hard rule "
                    f"hard.fake_report_signal)."}]
    assert c.checked["quantities"]["claims"] == {
        N1: {"covers": "1000", "claimed": "1100", "deliveries": 2}}


def test_a_cable_delivery_without_witness_inspection_is_rejected(pworld, user_unit_user):
    cable_report(pworld, number=N1)
    d = record(pworld, user_unit_user)
    c = check(user_unit_user, d)
    assert c.findings == [{"code": "witness_missing", "blocking": True,
                           "message": "电线电缆 is a key material: record a witness inspection "
                                      "by a third-party laboratory before accepting it."}]
    assert c.checked["witness"] == {"required": True, "inspection": None}
    # The witness inspection is done, and failed.
    witness(pworld, user_unit_user, d, result="fail")
    c = check(user_unit_user, d)
    assert c.findings == [{"code": "witness_failed", "blocking": True,
                           "message": f"The witness inspection of "
                                      f"{timezone.localdate().isoformat()} found the product "
                                      f"nonconforming."}]
    # Then a passing one: the latest counts, and a rejected delivery may be checked again.
    witness(pworld, user_unit_user, d, result="pass")
    c = check(user_unit_user, d)
    assert (c.accepted, c.findings) == (True, [])
    assert AcceptanceCheck.objects.filter(delivery=d).count() == 3


def test_a_category_that_is_no_key_material_needs_no_witness(pworld, user_unit_user):
    switch = f.CategoryFactory(code="electrical.switch", name="开关", name_en="Switches",
                               parent=pworld["categories"]["electrical"])
    sl = services.supplier_list_create(actor=user_unit_user, category_id=switch.pk)
    services.supplier_add(actor=user_unit_user, list_id=sl.pk, entity_id=pworld["xian_entity"].pk)
    cable_report(pworld, number=N1, category=switch)
    d = record(pworld, user_unit_user, category=switch)
    c = check(user_unit_user, d)
    assert (c.accepted, c.findings, c.checked["witness"]) == (
        True, [], {"required": False, "inspection": None})


def test_a_removed_supplier_is_rejected(pworld, good, user_unit_user):
    other = cable_report(pworld, number="T2026-00009", batch="C2025-12")
    revoke(other, pworld)
    c = check(user_unit_user, good["delivery"])
    day = timezone.localdate().isoformat()
    assert c.findings == [{
        "code": "supplier_removed", "blocking": True,
        "message": f"西安测试电缆有限公司 was removed from your qualified-supplier list: Test "
                   f"report revoked: T2026-00009 {day} (hard rule hard.revoked_report)."}]
    assert c.checked["standing"]["reasons"][0]["code"] == "revoked_report"


def test_a_supplier_under_watch_is_accepted_with_a_note(pworld, good, user_unit_user):
    def problems(*, entity_id, user_unit_id, on):
        return {"penalties": [{"date": on, "ref": f"P{i}"} for i in range(3)]}

    services.FACT_PROVIDERS.append(problems)
    try:
        c = check(user_unit_user, good["delivery"])
    finally:
        services.FACT_PROVIDERS.remove(problems)
    day = timezone.localdate().isoformat()
    assert (c.accepted, c.findings) == (True, [{
        "code": "supplier_watch", "blocking": False,
        "message": f"西安测试电缆有限公司 is under watch (score 70): Administrative penalty: "
                   f"P0 {day}、P1 {day}、P2 {day} (−30 points)."}])


def test_a_report_of_another_producer_batch_or_conclusion(pworld, user_unit_user):
    steel_report(pworld, number="T2026-S0001")
    cable_report(pworld, number="T2026-00003", batch="C2025-99", conclusion="fail")
    d = record(pworld, user_unit_user, numbers=["T2026-S0001", "T2026-00003"])
    witness(pworld, user_unit_user, d)
    c = check(user_unit_user, d)
    assert c.findings == [
        {"code": "report_producer", "blocking": True,
         "message": "Report T2026-S0001 is about products of 宝鸡测试钢铁有限公司, not of the "
                    "delivery's producer 西安测试电缆有限公司."},
        {"code": "report_batch", "blocking": True,
         "message": "Report T2026-S0001 covers batch S2026-07, not the delivered batch "
                    "C2026-01."},
        {"code": "report_category", "blocking": True,
         "message": "Report T2026-S0001 is about category building.steel, not "
                    "electrical.cable."},
        {"code": "report_unit", "blocking": False,
         "message": "Report T2026-S0001 counts in t, the delivery in m: its quantity is not "
                    "counted."},
        {"code": "report_batch", "blocking": True,
         "message": "Report T2026-00003 covers batch C2025-99, not the delivered batch "
                    "C2026-01."},
        {"code": "report_nonconforming", "blocking": True,
         "message": "Report T2026-00003 concludes that the product is nonconforming."},
        {"code": "quantity_not_covered", "blocking": True,
         "message": "The delivery is 800 m, but its valid reports cover only 0 m."},
        # Citing a report for another batch raised a fake-report signal on recording.
        {"code": "supplier_removed", "blocking": True,
         "message": f"西安测试电缆有限公司 was removed from your qualified-supplier list: Open "
                    f"fake-report signal: T2026-00003 over_coverage "
                    f"{timezone.localdate().isoformat()} (hard rule hard.fake_report_signal)."}]


def test_only_the_unit_checks_its_deliveries(pworld, good, enterprise_user, admin_user,
                                             xian_officer):
    assert refused(Denied, services.acceptance_check, actor=admin_user,
                   delivery_id=good["delivery"].pk) == (
        "Only the user unit that took the delivery checks it.")
    for actor in (enterprise_user, xian_officer):
        with pytest.raises(Http404):
            services.acceptance_check(actor=actor, delivery_id=good["delivery"].pk)
    assert not AcceptanceCheck.objects.exists()


# --- referrals -------------------------------------------------------------------------------

@pytest.fixture
def rejected(pworld, user_unit_user):
    cable_report(pworld, number=N1)
    d = record(pworld, user_unit_user)
    check(user_unit_user, d)  # no witness inspection: rejected
    return Delivery.objects.get(pk=d.pk)


def test_a_rejected_delivery_is_referred_in_one_step(pworld, rejected, user_unit_user,
                                                     xian_officer):
    with override("en"):
        r = services.delivery_refer(actor=user_unit_user, delivery_id=rejected.pk)
    xian = pworld["departments"]["xian"]
    assert (r.department, r.referred_by, r.acknowledged_at) == (xian, user_unit_user, None)
    assert r.text == (
        "Delivery DN-2026-0001 of 聚氯乙烯绝缘电缆 BV 2.5, batch C2026-01, 800 m, from "
        "西安测试电缆有限公司 (producer 西安测试电缆有限公司), for 地铁8号线 长延堡站, was rejected on "
        "acceptance:\n- 电线电缆 is a key material: record a witness inspection by a "
        "third-party laboratory before accepting it.")
    assert OutboxEvent.objects.get(name="delivery.referred").payload == {
        "referral": r.pk, "delivery": rejected.pk, "department": xian.pk,
        "supplier": pworld["xian_entity"].pk, "producer": pworld["xian_entity"].pk,
        "category": "electrical.cable", "batch": "C2026-01",
        "user_unit": pworld["user_unit"].pk}
    r = services.referral_acknowledge(actor=xian_officer, referral_id=r.pk)
    assert r.acknowledged_at is not None
    assert refused(ValidationError, services.referral_acknowledge, actor=xian_officer,
                   referral_id=r.pk) == {"referral": ["This referral was already acknowledged."]}


def test_the_referral_goes_to_the_department_of_the_responsibility_matrix(
        pworld, rejected, user_unit_user):
    from zhijian.registry.models import Responsibility

    Responsibility.objects.create(category=pworld["categories"]["cable"], level="province",
                                  kind="market", role="lead")
    r = services.delivery_refer(actor=user_unit_user, delivery_id=rejected.pk,
                                text="  电缆到货无见证取样检测报告。 ")
    assert (r.department, r.text) == (pworld["departments"]["province"],
                                      "电缆到货无见证取样检测报告。")


def test_referral_refusals(pworld, good, user_unit_user, baoji_officer, province_officer,
                           admin_user):
    pending = good["delivery"]
    rejected = record(pworld, user_unit_user, number="DN-2026-0002", quantity=Decimal("10"))
    assert check(user_unit_user, rejected).accepted is False  # not witnessed
    assert refused(ValidationError, services.delivery_refer, actor=user_unit_user,
                   delivery_id=pending.pk) == {"delivery": [
        "Only a rejected delivery can be reported to the competent department."]}
    assert refused(Denied, services.delivery_refer, actor=admin_user,
                   delivery_id=rejected.pk) == (
        "Only the user unit that took the delivery reports it.")
    r = services.delivery_refer(actor=user_unit_user, delivery_id=rejected.pk)
    day = timezone.localdate().isoformat()
    assert refused(ValidationError, services.delivery_refer, actor=user_unit_user,
                   delivery_id=rejected.pk) == {"delivery": [
        f"This delivery was already reported to 西安市市场监督管理局 on {day}."]}
    for officer in (baoji_officer, province_officer):
        with pytest.raises(Http404):
            services.referral_acknowledge(actor=officer, referral_id=r.pk)
    assert refused(Denied, services.referral_acknowledge, actor=admin_user,
                   referral_id=r.pk) == (
        "Only officers of the department it was referred to acknowledge it.")
    assert Referral.objects.get(pk=r.pk).acknowledged_at is None


def test_no_department_for_the_category(pworld, rejected, user_unit_user):
    from zhijian.registry.models import Department

    Department.objects.filter(kind="market").update(kind="customs")
    assert refused(ValidationError, services.delivery_refer, actor=user_unit_user,
                   delivery_id=rejected.pk) == {"delivery": [
        "No department on the platform answers for 电线电缆 in your division; report the "
        "delivery to your market supervision bureau directly."]}


def test_steel_is_witnessed_too(pworld, user_unit_user):
    steel_report(pworld, number="T2026-S0002")
    d = services.delivery_record(actor=user_unit_user, data=steel_data(pworld),
                                 report_numbers=["T2026-S0002"])
    assert codes(check(user_unit_user, d)) == ["witness_missing"]
    witness(pworld, user_unit_user, d)
    c = check(user_unit_user, d)
    assert (c.accepted, c.checked["quantities"]["covered"], c.checked["quantities"]["unit"]) == (
        True, "50", "t")
