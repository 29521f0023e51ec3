"""Services of purchasing and acceptance: lists and suppliers, facts from the platform,
re-rating, appeals, deliveries, witness inspections, referrals. Every refusal with its
exact message and nothing written. (Acceptance checks: test_acceptance.py.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import override

from tests import factories as f
from tests.procurement.conftest import cable_report, delivery_data
from zhijian.core import audit
from zhijian.core.access import Denied
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.credit.models import CreditCheck
from zhijian.procurement import services
from zhijian.procurement.models import (
    Appeal,
    Delivery,
    Referral,
    Supplier,
    SupplierList,
    WitnessInspection,
)
from zhijian.reports import services as report_services
from zhijian.reports.models import Report

pytestmark = pytest.mark.django_db


def state() -> dict:
    """Everything a refused write must leave as it was."""
    def rows(model):
        return list(model.objects.order_by("pk").values())

    return {"lists": rows(SupplierList), "suppliers": rows(Supplier), "appeals": rows(Appeal),
            "deliveries": rows(Delivery),
            "links": sorted(Delivery.reports.through.objects.values_list(
                "delivery_id", "report_id")),
            "witnesses": rows(WitnessInspection), "referrals": rows(Referral),
            "audit": AuditEntry.objects.count(), "events": OutboxEvent.objects.count()}


def refused(exc_type, fn, **kwargs):
    """Run a service expected to refuse (in English); return its messages by field and
    check that nothing was written."""
    before = state()
    with override("en"), pytest.raises(exc_type) as info:
        fn(**kwargs)
    assert state() == before
    exc = info.value
    if isinstance(exc, ValidationError):
        return exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    if isinstance(exc, Denied):
        return exc.message
    return None


def revoke(report, w):
    signer = report.lab.users.first()
    report_services.report_revoke(actor=signer, report_id=report.pk,
                                  reason="检验原始记录与报告不符")


# --- lists -----------------------------------------------------------------------------------

def test_a_user_unit_opens_a_list_per_category(world, user_unit_user):
    cable = world["categories"]["cable"]
    sl = services.supplier_list_create(actor=user_unit_user, category_id=cable.pk)
    assert (sl.user_unit, sl.category) == (world["user_unit"], cable)
    entry = AuditEntry.objects.get(object_type="procurement.supplierlist")
    assert (entry.action, entry.actor_id) == ("supplier_list.created", user_unit_user.pk)
    assert refused(ValidationError, services.supplier_list_create, actor=user_unit_user,
                   category_id=cable.pk) == {
        "category": ["Your unit already has a qualified-supplier list for 电线电缆."]}
    assert refused(ValidationError, services.supplier_list_create, actor=user_unit_user,
                   category_id=10**9) == {
        "category": ["Choose a product category from the catalogue."]}


@pytest.mark.parametrize("who", ["admin_user", "xian_officer", "enterprise_user", "lab_user"])
def test_only_a_user_unit_keeps_lists(who, world, request):
    actor = request.getfixturevalue(who)
    assert refused(Denied, services.supplier_list_create, actor=actor,
                   category_id=world["categories"]["cable"].pk) == (
        "Only a user unit keeps qualified-supplier lists.")


# --- suppliers -------------------------------------------------------------------------------

def test_a_supplier_is_added_rated(pworld, user_unit_user):
    s = pworld["cable_supplier"]
    assert (s.entity, s.standing, s.score, s.reasons, s.rule_version, s.added_by) == (
        pworld["xian_entity"], "qualified", 100, [], "2017-01-01", user_unit_user)
    assert s.computed_at is not None
    assert AuditEntry.objects.filter(object_type="procurement.supplier",
                                     action="supplier.added").count() == 2


def test_adding_a_supplier_twice_or_unknown_is_refused(pworld, user_unit_user):
    assert refused(ValidationError, services.supplier_add, actor=user_unit_user,
                   list_id=pworld["cable_list"].pk, entity_id=pworld["xian_entity"].pk) == {
        "entity": ["西安测试电缆有限公司 is already on this list."]}
    assert refused(ValidationError, services.supplier_add, actor=user_unit_user,
                   list_id=pworld["cable_list"].pk, entity_id="x") == {
        "entity": ["No market entity has this identifier; choose the supplier from the "
                   "register."]}


def test_a_supplier_with_a_revoked_report_cannot_be_added(pworld, user_unit_user):
    maker = f.EntityFactory(name="西安另一电缆有限公司")
    report = cable_report(pworld, producer=maker, number="T2026-R0001")
    revoke(report, pworld)
    day = timezone.localdate()
    before = state()
    with override("en"), pytest.raises(ValidationError) as info:
        services.supplier_add(actor=user_unit_user, list_id=pworld["cable_list"].pk,
                              entity_id=maker.pk)
    reason = (f"西安另一电缆有限公司 cannot be put on the list: Test report revoked: "
              f"T2026-R0001 {day.isoformat()} (hard rule hard.revoked_report).")
    assert info.value.message_dict == {"entity": [reason]}
    # Nothing of the list changed; only the credit check made before the listing stays
    # stored, with the refusal as its decision (audited when made and when settled).
    after = state()
    assert after == {**before, "audit": before["audit"] + 2, "events": before["events"] + 1}
    check = CreditCheck.objects.get(uscc=maker.uscc)
    assert (check.uscc, check.outcome, check.object_type, check.object_id) == (
        maker.uscc, "clear", "", "")
    assert check.decision == (
        f"Not put on the qualified-supplier list for 电线电缆 of 西安测试地铁有限公司: {reason}")


def test_lists_of_other_units_are_absent(pworld, user_unit_user, enterprise_user, admin_user):
    other = f.UserUnitFactory(name="宝鸡测试电力有限公司")
    other_user = f.UserFactory(username="power", role="user_unit", user_unit=other)
    maker = f.EntityFactory()
    with pytest.raises(Http404):
        services.supplier_add(actor=other_user, list_id=pworld["cable_list"].pk,
                              entity_id=maker.pk)
    with pytest.raises(Http404):
        services.supplier_add(actor=enterprise_user, list_id=pworld["cable_list"].pk,
                              entity_id=maker.pk)
    assert refused(Denied, services.supplier_add, actor=admin_user,
                   list_id=pworld["cable_list"].pk, entity_id=maker.pk) == (
        "Only the user unit that keeps this list can change it.")
    assert not Supplier.objects.filter(entity=maker).exists()


# --- facts and re-rating ---------------------------------------------------------------------

def test_facts_come_from_reports_signals_inspections_and_own_deliveries(pworld):
    from zhijian.reports.models import Signal

    w = pworld
    entity = w["xian_entity"]
    day = timezone.localdate()
    failed = cable_report(w, conclusion="fail", number="T2026-F0001")
    # A supervisory report needs a sample from the sampling app; the kind is what counts.
    Report.objects.filter(pk=failed.pk).update(kind="supervisory")
    commissioned_fail = cable_report(w, conclusion="fail", number="T2026-F0002")
    revoked = cable_report(w, number="T2026-R0002")
    revoke(revoked, w)
    Signal.objects.create(report=commissioned_fail, number=commissioned_fail.number,
                          lab=w["lab"], kind="over_coverage", key="k1", explanation="…",
                          found_at=timezone.now())
    Signal.objects.create(report=commissioned_fail, number=commissioned_fail.number,
                          lab=w["lab"], kind="identical_values", key="k2", explanation="…",
                          found_at=timezone.now(), closed_at=timezone.now())
    facts = services.supplier_facts(entity_id=entity.pk, user_unit_id=w["user_unit"].pk,
                                    category_code="electrical.cable", on=day)
    assert facts == {
        "category": "electrical.cable",
        "failed_samplings": [{"date": day, "ref": "T2026-F0001",
                              "category": "electrical.cable"}],
        "revoked_reports": [{"date": day, "ref": "T2026-R0002"}],
        "fake_report_signals": [{"date": day, "ref": "T2026-F0002 over_coverage"}],
        "inspection_problems": [], "penalties": [], "blacklist": [],
        "rejected_deliveries": [],
    }


def test_a_provider_of_unknown_facts_is_refused(pworld, monkeypatch):
    monkeypatch.setattr(services, "FACT_PROVIDERS",
                        [*services.FACT_PROVIDERS, lambda **kw: {"fines": []}])
    with pytest.raises(ValueError, match="gave unknown facts 'fines'"):
        services.supplier_facts(entity_id=1, user_unit_id=1, category_code="x",
                                on=timezone.localdate())


def test_a_provider_added_later_is_used(pworld, user_unit_user):
    """The extension point of the quality-credit module: its blacklist removes."""
    day = timezone.localdate()

    def credit(*, entity_id, user_unit_id, on):
        if entity_id != pworld["xian_entity"].pk:
            return {}
        return {"blacklist": [{"date": day, "until": None, "ref": "HMD-2026-001"}]}

    services.FACT_PROVIDERS.append(credit)
    try:
        s = services.supplier_rerate(pworld["cable_supplier"])
    finally:
        services.FACT_PROVIDERS.remove(credit)
    assert (s.standing, [r["code"] for r in s.reasons]) == ("removed", ["blacklist"])


def test_rerating_stores_audits_and_announces_a_removal(pworld):
    w = pworld
    s = w["cable_supplier"]
    revoked = cable_report(w, number="T2026-R0003")
    revoke(revoked, w)
    audits = AuditEntry.objects.count()
    s = services.supplier_rerate(s)
    day = timezone.localdate().isoformat()
    assert (s.standing, s.score) == ("removed", 100)
    assert s.reasons == [{"code": "revoked_report", "rule": "hard.revoked_report", "count": 1,
                          "points": 0, "hard": True,
                          "detail": {"facts": [f"T2026-R0003 {day}"], "threshold": 1}}]
    entry = audit.history("procurement.supplier", s.pk)[-1]
    assert AuditEntry.objects.count() == audits + 1
    assert (entry["action"], entry["actor_id"], entry["before"]["standing"],
            entry["after"]["standing"]) == ("supplier.rerated", None, "qualified", "removed")
    event = OutboxEvent.objects.filter(name="supplier.removed").get()
    assert event.payload == {"supplier": s.pk, "entity": w["xian_entity"].pk,
                             "user_unit": w["user_unit"].pk, "reasons": ["revoked_report"]}
    # Again: nothing changed, nothing audited, no second announcement.
    services.supplier_rerate(s)
    assert AuditEntry.objects.count() == audits + 1
    assert OutboxEvent.objects.filter(name="supplier.removed").count() == 1


def test_rerate_entity_and_all(pworld):
    other = f.UserUnitFactory(name="西安测试电力有限公司")
    other_user = f.UserFactory(username="power", role="user_unit", user_unit=other)
    sl = services.supplier_list_create(actor=other_user,
                                       category_id=pworld["categories"]["electrical"].pk)
    services.supplier_add(actor=other_user, list_id=sl.pk, entity_id=pworld["xian_entity"].pk)
    assert services.suppliers_rerate_entity(pworld["xian_entity"].pk) == 2
    assert services.suppliers_rerate_all() == 3


# --- handlers --------------------------------------------------------------------------------

def test_handlers_rerate_the_suppliers_of_the_firm(pworld, django_capture_on_commit_callbacks):
    w = pworld
    report = cable_report(w, number="T2026-R0004")
    with django_capture_on_commit_callbacks(execute=True):
        revoke(report, w)
    s = Supplier.objects.get(pk=w["cable_supplier"].pk)
    assert (s.standing, [r["code"] for r in s.reasons]) == ("removed", ["revoked_report"])
    assert Supplier.objects.get(pk=w["steel_supplier"].pk).standing == "qualified"
    assert OutboxEvent.objects.filter(name="supplier.removed").count() == 1


@pytest.mark.parametrize(("name", "key"), [
    ("report.nonconforming", "producer"), ("report.revoked", "producer"),
    ("signal.raised", "producer"), ("inspection.problem_found", "entity"),
    ("delivery.rejected", "supplier")])
def test_every_event_about_a_firm_rerates_it(name, key, pworld):
    from zhijian.core import events

    handlers = {k: fn for k, fn in events.handlers_for(name)
                if k.startswith("zhijian.procurement.")}
    assert len(handlers) == 1
    (fn,) = handlers.values()
    Supplier.objects.filter(pk=pworld["cable_supplier"].pk).update(standing="watch", score=1)
    event = OutboxEvent(name=name, aggregate_type="x", aggregate_id="1",
                        payload={key: pworld["xian_entity"].pk})
    fn(event)
    fn(event)  # idempotent
    s = Supplier.objects.get(pk=pworld["cable_supplier"].pk)
    assert (s.standing, s.score) == ("qualified", 100)
    fn(OutboxEvent(name=name, aggregate_type="x", aggregate_id="1", payload={key: None}))


def test_a_problem_found_by_a_random_inspection_lowers_the_score(pworld, inspected):
    s = Supplier.objects.get(pk=pworld["cable_supplier"].pk)
    day = timezone.localdate().isoformat()
    assert (s.standing, s.score) == ("qualified", 90)
    assert s.reasons == [{"code": "inspection_problem", "rule": "deductions.inspection_problem",
                          "count": 1, "points": 10, "hard": False,
                          "detail": {"facts": [f"SJ-2026-0001 {day}"], "per_fact": 10}}]


# --- appeals ---------------------------------------------------------------------------------

@pytest.fixture
def removed(pworld):
    report = cable_report(pworld, number="T2026-R0005")
    revoke(report, pworld)
    return services.supplier_rerate(pworld["cable_supplier"])


def test_the_supplier_appeals_and_the_unit_upholds(removed, enterprise_user, user_unit_user):
    appeal = services.appeal_file(actor=enterprise_user, supplier_id=removed.pk,
                                  grounds="该报告因笔误撤销，已重新出具报告 T2026-R0006。")
    assert (appeal.status, appeal.filed_by) == ("open", enterprise_user)
    assert OutboxEvent.objects.filter(name="appeal.filed").get().payload == {
        "appeal": appeal.pk, "supplier": removed.pk, "entity": removed.entity_id,
        "user_unit": removed.supplier_list.user_unit_id}
    until = timezone.localdate() + dt.timedelta(days=90)
    appeal = services.appeal_decide(actor=user_unit_user, appeal_id=appeal.pk, upheld=True,
                                    decision="经核实属实，暂予保留。", until=until)
    assert (appeal.status, appeal.decided_by, appeal.set_aside_rules, appeal.set_aside_until) == (
        "upheld", user_unit_user, ["revoked_report"], until)
    s = Supplier.objects.get(pk=removed.pk)
    assert (s.standing, s.override_rules, s.override_until) == (
        "qualified", ["revoked_report"], until)
    assert s.reasons[0]["hard"] is False
    assert s.reasons[0]["detail"]["set_aside_until"] == until.isoformat()
    assert [e.action for e in AuditEntry.objects.order_by("-seq")[:3]][::-1] == [
        "supplier.set_aside", "appeal.decided", "supplier.rerated"]


def test_an_upheld_appeal_lapses_on_its_day(removed, enterprise_user, user_unit_user):
    appeal = services.appeal_file(actor=enterprise_user, supplier_id=removed.pk,
                                  grounds="该报告因笔误撤销，已重新出具报告。")
    today = timezone.localdate()
    services.appeal_decide(actor=user_unit_user, appeal_id=appeal.pk, upheld=True,
                           decision="暂予保留。", until=today + dt.timedelta(days=1))
    later = timezone.now() + dt.timedelta(days=2)
    s = services.supplier_rerate(removed, now=later)
    assert (s.standing, s.override_rules, s.override_until) == ("removed", [], None)


def test_a_dismissed_appeal_changes_nothing(removed, enterprise_user, user_unit_user):
    appeal = services.appeal_file(actor=enterprise_user, supplier_id=removed.pk,
                                  grounds="我们认为撤销理由不成立。")
    appeal = services.appeal_decide(actor=user_unit_user, appeal_id=appeal.pk, upheld=False,
                                    decision="撤销理由成立，维持移出。")
    assert appeal.status == "dismissed"
    s = Supplier.objects.get(pk=removed.pk)
    assert (s.standing, s.override_rules) == ("removed", [])


def test_appeal_refusals(removed, pworld, enterprise_user, user_unit_user):
    grounds = "该报告因笔误撤销，已重新出具。"
    assert refused(ValidationError, services.appeal_file, actor=enterprise_user,
                   supplier_id=removed.pk, grounds="不服") == {
        "grounds": ["Explain in at least 10 characters why the removal should be set "
                    "aside."]}
    assert refused(Denied, services.appeal_file, actor=user_unit_user, supplier_id=removed.pk,
                   grounds=grounds) == "Only the supplier itself can appeal against its removal."
    baoji = f.UserFactory(username="baoji-steel", role="enterprise",
                          entity=pworld["baoji_entity"])
    with pytest.raises(Http404):
        services.appeal_file(actor=baoji, supplier_id=removed.pk, grounds=grounds)
    assert refused(ValidationError, services.appeal_file, actor=baoji,
                   supplier_id=pworld["steel_supplier"].pk, grounds=grounds) == {
        "supplier": ["宝鸡测试钢铁有限公司 is on the list; only a removal can be appealed."]}
    appeal = services.appeal_file(actor=enterprise_user, supplier_id=removed.pk, grounds=grounds)
    assert refused(ValidationError, services.appeal_file, actor=enterprise_user,
                   supplier_id=removed.pk, grounds=grounds) == {
        "supplier": ["An appeal against this removal is already waiting for the user unit's "
                     "decision."]}
    today = timezone.localdate()
    assert refused(ValidationError, services.appeal_decide, actor=user_unit_user,
                   appeal_id=appeal.pk, upheld=True, decision="", until=today) == {
        "decision": ["Write the decision and its reasons; the supplier reads them."],
        "until": ["The day until which the removal is set aside must be after today."]}
    assert refused(ValidationError, services.appeal_decide, actor=user_unit_user,
                   appeal_id=appeal.pk, upheld=True, decision="保留", until=None) == {
        "until": ["Give the day until which the removal is set aside."]}
    assert refused(Denied, services.appeal_decide, actor=enterprise_user, appeal_id=appeal.pk,
                   upheld=True, decision="保留", until=today + dt.timedelta(days=9)) == (
        "Only the user unit that keeps the list decides this appeal.")
    services.appeal_decide(actor=user_unit_user, appeal_id=appeal.pk, upheld=False,
                           decision="维持")
    assert refused(ValidationError, services.appeal_decide, actor=user_unit_user,
                   appeal_id=appeal.pk, upheld=False, decision="维持") == {
        "appeal": ["This appeal was already decided."]}


# --- deliveries ------------------------------------------------------------------------------

def test_a_delivery_keeps_every_number_and_links_those_found(pworld, user_unit_user,
                                                             signals_scan_calls):
    report = cable_report(pworld, number="T2026-00042")
    d = services.delivery_record(actor=user_unit_user, data=delivery_data(pworld),
                                 report_numbers=[" T2026-00042", "XX-404", "", "T2026-00042"])
    assert (d.user_unit, d.status, d.claimed_numbers, list(d.reports.all())) == (
        pworld["user_unit"], "pending", ["T2026-00042", "XX-404"], [report])
    assert (d.quantity, d.unit, d.site, d.created_by) == (
        Decimal("800"), "m", "地铁8号线 长延堡站", user_unit_user)
    assert signals_scan_calls == [["T2026-00042", "XX-404"]]
    assert audit.history("procurement.delivery", d.pk)[0]["action"] == "delivery.recorded"


def test_a_delivery_under_a_parent_category_list_is_accepted(pworld, user_unit_user):
    """A list for "electrical" covers cable deliveries."""
    maker = f.EntityFactory(name="西安第三电缆有限公司")
    sl = SupplierList.objects.create(user_unit=pworld["user_unit"],
                                     category=pworld["categories"]["electrical"])
    services.supplier_add(actor=user_unit_user, list_id=sl.pk, entity_id=maker.pk)
    d = services.delivery_record(actor=user_unit_user,
                                 data=delivery_data(pworld, supplier=maker, producer=maker),
                                 report_numbers=["T1"])
    assert d.supplier == maker


def test_a_delivery_from_a_supplier_not_on_the_list_is_refused(pworld, user_unit_user):
    maker = f.EntityFactory(name="西安无名电缆厂")
    assert refused(ValidationError, services.delivery_record, actor=user_unit_user,
                   data=delivery_data(pworld, supplier=maker), report_numbers=["T1"]) == {
        "supplier": ["西安无名电缆厂 is not on your qualified-supplier list for 电线电缆: put it "
                     "on the list first."]}
    # On the steel list but not on the cable list.
    assert refused(ValidationError, services.delivery_record, actor=user_unit_user,
                   data=delivery_data(pworld, supplier=pworld["baoji_entity"]),
                   report_numbers=["T1"]) == {
        "supplier": ["宝鸡测试钢铁有限公司 is not on your qualified-supplier list for 电线电缆: "
                     "put it on the list first."]}


def test_a_delivery_from_a_removed_supplier_is_refused(removed, pworld, user_unit_user):
    day = timezone.localdate().isoformat()
    assert refused(ValidationError, services.delivery_record, actor=user_unit_user,
                   data=delivery_data(pworld), report_numbers=["T1"]) == {
        "supplier": [f"西安测试电缆有限公司 was removed from your qualified-supplier list: Test "
                     f"report revoked: T2026-R0005 {day} (hard rule hard.revoked_report)."]}


def test_bad_delivery_input_names_every_field(pworld, user_unit_user):
    services.delivery_record(actor=user_unit_user, data=delivery_data(pworld),
                             report_numbers=["T1"])
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert refused(ValidationError, services.delivery_record, actor=user_unit_user,
                   data=delivery_data(pworld, quantity=Decimal("0"), unit=" ", site="",
                                      batch="", product_name="", delivered_on=tomorrow),
                   report_numbers=[" ", ""]) == {
        "number": ["Your unit already recorded a delivery with note number DN-2026-0001."],
        "product_name": ["Give the product name."],
        "batch": ["Give the batch number."],
        "quantity": ["Give the quantity delivered (more than zero)."],
        "unit": ["Give the unit of the quantity, as on the reports (m, t, …)."],
        "site": ["Say where the goods are for (the project or site)."],
        "delivered_on": ["The delivery date is in the future."],
        "report_numbers": ["Give the number of at least one test report that covers this "
                           "delivery, as printed on its papers."]}
    other_product = f.ProductFactory(entity=pworld["baoji_entity"],
                                     category=pworld["categories"]["steel"])
    assert refused(ValidationError, services.delivery_record, actor=user_unit_user,
                   data=delivery_data(pworld, number="DN-2", product=other_product,
                                      quantity="abc"),
                   report_numbers=["T1"]) == {
        "product": ["This product is not one of the producer's products."],
        "quantity": ["Give the quantity delivered (more than zero)."]}


@pytest.mark.parametrize("who", ["admin_user", "xian_officer", "enterprise_user", "lab_user"])
def test_only_a_user_unit_records_deliveries(who, pworld, request):
    assert refused(Denied, services.delivery_record, actor=request.getfixturevalue(who),
                   data=delivery_data(pworld), report_numbers=["T1"]) == (
        "Only a user unit records deliveries to it.")


def test_without_the_fake_report_screen_a_delivery_is_not_recorded(pworld, user_unit_user,
                                                                   monkeypatch):
    monkeypatch.delattr(report_services, "signals_scan")
    before = state()
    with pytest.raises(ImportError, match="needs zhijian.reports.services.signals_scan"):
        with transaction.atomic():
            services.delivery_record(actor=user_unit_user, data=delivery_data(pworld),
                                     report_numbers=["T1"])
    assert state() == before


# --- witness inspections ---------------------------------------------------------------------

@pytest.fixture
def delivery(pworld, user_unit_user):
    cable_report(pworld, number="T2026-00001")
    return services.delivery_record(actor=user_unit_user, data=delivery_data(pworld),
                                    report_numbers=["T2026-00001"])


def test_a_witness_inspection_is_recorded(delivery, pworld, user_unit_user):
    witness_report = cable_report(pworld, number="T2026-W0001", kind="witness")
    w = services.witness_record(actor=user_unit_user, delivery_id=delivery.pk,
                                lab_id=pworld["lab"].pk, witness="监理 李工",
                                witnessed_on=timezone.localdate(), result="pass",
                                report_number="T2026-W0001")
    assert (w.delivery, w.lab, w.witness, w.result, w.report, w.recorded_by) == (
        delivery, pworld["lab"], "监理 李工", "pass", witness_report, user_unit_user)
    assert audit.history("procurement.witnessinspection", w.pk)[0]["action"] == (
        "witness.recorded")


def test_bad_witness_input_names_every_field(delivery, pworld, user_unit_user, enterprise_user):
    other = f.LabFactory(name="宝鸡测试检测中心")
    cable_report(pworld, number="T2026-W0002", batch="C2025-99")
    before_delivery = delivery.delivered_on - dt.timedelta(days=1)
    assert refused(ValidationError, services.witness_record, actor=user_unit_user,
                   delivery_id=delivery.pk, lab_id="", witness=" ",
                   witnessed_on=before_delivery, result="ok", report_number="NOPE") == {
        "lab": ["Choose the laboratory that tested the witnessed sample."],
        "witness": ["Name the witness present when the sample was taken."],
        "witnessed_on": [f"The witness inspection cannot come before the delivery "
                         f"({delivery.delivered_on.isoformat()})."],
        "result": ["Choose the result: conforming or nonconforming."],
        "report_number": ["No issued report has the number NOPE on the platform."]}
    assert refused(ValidationError, services.witness_record, actor=user_unit_user,
                   delivery_id=delivery.pk, lab_id=other.pk, witness="李工",
                   witnessed_on=timezone.localdate() + dt.timedelta(days=1), result="pass",
                   report_number="T2026-W0002") == {
        "witnessed_on": ["The witness inspection cannot be in the future."],
        "report_number": ["Report T2026-W0002 was issued by 西安测试检测中心, not by the "
                          "laboratory named."]}
    assert refused(ValidationError, services.witness_record, actor=user_unit_user,
                   delivery_id=delivery.pk, lab_id=pworld["lab"].pk, witness="李工",
                   witnessed_on=timezone.localdate(), result="pass",
                   report_number="T2026-W0002") == {
        "report_number": ["Report T2026-W0002 is not about this delivery's producer and "
                          "batch."]}
    with pytest.raises(Http404):
        services.witness_record(actor=enterprise_user, delivery_id=delivery.pk,
                                lab_id=pworld["lab"].pk, witness="李工",
                                witnessed_on=timezone.localdate(), result="pass")


def test_the_nightly_task_rerates_every_entry(pworld):
    from zhijian.procurement.tasks import suppliers_rerate_task

    Supplier.objects.update(standing="watch", score=50)
    assert suppliers_rerate_task.apply().get() == 2
    assert set(Supplier.objects.values_list("standing", "score")) == {("qualified", 100)}


def test_the_nightly_task_is_scheduled(settings):
    assert settings.CELERY_BEAT_SCHEDULE["supplier-standing"] == {
        "task": "procurement.suppliers_rerate_task", "schedule": 86400.0}
