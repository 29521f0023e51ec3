"""Joint punishment through the services (zhijian/credit/services/measures.py,
docs/credit-measures.md): declaring and withdrawing measures, which measures apply (by
trigger, context and dates), credit checks stored with their outcome, and the supplier
listing of procurement refused or flagged with the check kept.

The other test_measures_* modules import the helpers below."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import override

from tests import factories as f
from zhijian.core import audit
from zhijian.core.access import Denied
from zhijian.core.identifiers import make_uscc
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.credit.models import BlacklistEntry, CreditCheck, CreditRating, Measure, Penalty
from zhijian.credit.services import measures as svc
from zhijian.procurement import services as procurement
from zhijian.procurement.models import Supplier

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
#: A well-formed USCC of a firm that is not in the register.
UNKNOWN = make_uscc(division="610113", org_body8="MA6T0001")
BASIS = "《中华人民共和国政府采购法》第二十二条"


def day(offset: int = 0) -> dt.date:
    return TODAY() + dt.timedelta(days=offset)


def declare(actor, *, code="bar_tender", trigger="blacklist", effect="block",
            contexts=("tender",), start=None, until=None, department=None, basis=BASIS):
    return svc.measure_declare(actor=actor, code=code, trigger=trigger, effect=effect,
                               contexts=list(contexts), legal_basis=basis,
                               description="", effective_from=start or day(-30),
                               effective_until=until,
                               department_id=department.pk if department else None)


def list_entity(entity, department, *, since=None, until=None, status="listed"):
    """A listed case as the list workflow leaves it (made through the model here)."""
    return BlacklistEntry.objects.create(
        entity=entity, department=department, status=status, criteria=[],
        rule_version="test", proposed_at=timezone.now() - dt.timedelta(days=60),
        listed_on=since or day(-10), listed_until=until)


def rate(entity, letter: str, *, on=None):
    on = on or day(-5)
    CreditRating.objects.update_or_create(entity=entity, defaults={
        "risk_class": letter, "score": 40, "on": on, "versions": {}, "trigger": "test",
        "computed_at": timezone.now()})


def counts() -> dict:
    return {"measures": list(Measure.objects.order_by("pk").values()),
            "checks": CreditCheck.objects.count(), "audit": AuditEntry.objects.count(),
            "events": OutboxEvent.objects.count()}


def refused(exc_type, fn, **kwargs):
    before = counts()
    with override("en"), pytest.raises(exc_type) as info:
        fn(**kwargs)
    assert counts() == before
    exc = info.value
    if isinstance(exc, ValidationError):
        return exc.message_dict
    return exc.message


@pytest.fixture
def officer(province_officer):
    return province_officer


# --- declaring and withdrawing -----------------------------------------------------------------

def test_a_regulator_declares_for_their_own_department(world, officer):
    m = declare(officer, contexts=["tender", "licence", "tender"])
    assert (m.department, m.code, m.trigger, m.effect, m.contexts, m.legal_basis,
            m.effective_from, m.effective_until, m.active, m.created_by) == (
        world["departments"]["province"], "bar_tender", "blacklist", "block",
        ["licence", "tender"], BASIS, day(-30), None, True, officer)
    entry = AuditEntry.objects.get(object_type="credit.measure", object_id=str(m.pk))
    assert (entry.action, entry.actor_id) == ("measure.declared", officer.pk)
    event = OutboxEvent.objects.get(name="measure.declared")
    assert event.payload == {"measure": m.pk, "department": m.department_id,
                             "code": "bar_tender", "trigger": "blacklist", "effect": "block",
                             "contexts": ["licence", "tender"]}


def test_an_admin_declares_for_any_department_and_must_name_it(world, admin_user):
    housing = world["departments"]["xian_housing"]
    assert declare(admin_user, department=housing).department == housing
    assert refused(ValidationError, declare, actor=admin_user) == {
        "department": ["Choose the department that declares the measure."]}


def test_others_may_not_declare(world, xian_officer, enterprise_user, user_unit_user):
    assert refused(Denied, declare, actor=xian_officer,
                   department=world["departments"]["province"]) == (
        "You can declare measures only for your own department.")
    for user in (enterprise_user, user_unit_user):
        assert refused(Denied, declare, actor=user) == (
            "Only a regulator declares joint punishment measures, for their own department.")


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"code": "jail"}, {"code": ["Choose a measure from the list."]}),
    ({"trigger": "class_b"}, {"trigger": [
        "Choose to whom the measure applies: listed firms, class D, or class C or D."]}),
    ({"effect": "fine"}, {"effect": ["Choose the effect: refuse, or allow with closer "
                                     "scrutiny."]}),
    ({"contexts": []}, {"contexts": [
        "Choose where the measure applies, from: supplier_listing, licence, tender, honour, "
        "subsidy, inspection."]}),
    ({"contexts": ["tender", "lottery"]}, {"contexts": [
        "Choose where the measure applies, from: supplier_listing, licence, tender, honour, "
        "subsidy, inspection."]}),
    ({"legal_basis": "  "}, {"legal_basis": [
        "Give the legal basis of the measure: the law, regulation or policy document and its "
        "article."]}),
    ({"effective_from": None}, {"effective_from": [
        "Give the day the measure takes effect; a measure without an effective date cannot "
        "be applied."]}),
    ({"effective_from": "2026-13-01"}, {"effective_from": [
        "Give the day the measure takes effect as YYYY-MM-DD."]}),
    ({"effective_until": "2020-01-01"}, {"effective_until": [
        "The last day of the measure is before the day it takes effect."]}),
])
def test_bad_declarations_are_refused_with_the_reason(officer, kwargs, expected):
    args = {"actor": officer, "code": "bar_tender", "trigger": "blacklist", "effect": "block",
            "contexts": ["tender"], "legal_basis": BASIS, "effective_from": day(-1)} | kwargs
    assert refused(ValidationError, svc.measure_declare, **args) == expected


def test_the_same_measure_twice_for_overlapping_periods_is_refused(officer):
    first = declare(officer, start=day(-30), until=day(30))
    assert refused(ValidationError, declare, actor=officer, start=day(10)) == {"code": [
        f"陕西省市场监督管理局 already has this measure for the same firms from "
        f"{first.effective_from.isoformat()}; withdraw it first or choose other dates."]}
    # After it ends, or for other firms, it may be declared again.
    assert declare(officer, start=day(31)).effective_from == day(31)
    assert declare(officer, trigger="class_d", effect="flag").trigger == "class_d"


def test_withdrawal_ends_the_measure_yesterday_and_keeps_the_past(world, officer):
    entity = world["xian_entity"]
    list_entity(entity, world["departments"]["xian"], since=day(-20))
    m = declare(officer, start=day(-30))
    withdrawn = svc.measure_withdraw(actor=officer, measure_id=m.pk, reason="政策调整，停止执行")
    assert (withdrawn.active, withdrawn.effective_until) == (True, day(-1))
    assert svc.measures_applying(entity, on=day(), context="tender") == []
    assert [mm for mm, _ in svc.measures_applying(entity, on=day(-1), context="tender")] == [m]
    entry = AuditEntry.objects.filter(object_id=str(m.pk)).order_by("seq").last()
    assert (entry.action, audit.parse_body(entry.body)["reason"]) == (
        "measure.withdrawn", "政策调整，停止执行")
    assert refused(ValidationError, svc.measure_withdraw, actor=officer, measure_id=m.pk,
                   reason="again please") == {"measure": ["This measure is no longer in force."]}


def test_a_scheduled_measure_withdrawn_never_applies(officer):
    m = declare(officer, start=day(5))
    assert svc.measure_withdraw(actor=officer, measure_id=m.pk, reason="declared by mistake"
                                ).active is False
    assert svc.measure_state(Measure.objects.get(pk=m.pk), day(10)) == "withdrawn"


def test_only_the_declaring_department_withdraws(officer, xian_officer, admin_user):
    m = declare(officer)
    assert refused(Denied, svc.measure_withdraw, actor=xian_officer, measure_id=m.pk,
                   reason="not mine to end") == (
        "Only the department that declared a measure (or an administrator) can withdraw it.")
    assert refused(ValidationError, svc.measure_withdraw, actor=officer, measure_id=m.pk,
                   reason="no") == {"reason": [
        "Say why the measure is withdrawn (at least 5 characters)."]}
    assert refused(ValidationError, svc.measure_withdraw, actor=officer, measure_id="x",
                   reason="whatever it is") == {"measure": [
        "No joint punishment measure has this number."]}
    assert svc.measure_withdraw(actor=admin_user, measure_id=m.pk,
                                reason="ended by the administrator").effective_until == day(-1)


# --- which measures apply ----------------------------------------------------------------------

@pytest.fixture
def catalogue(world, officer):
    """One measure of each trigger, in different contexts."""
    return {
        "bar_tender": declare(officer, code="bar_tender", contexts=["tender"]),
        "bar_supplier": declare(officer, code="bar_supplier", contexts=["supplier_listing"]),
        "inspect_d": declare(officer, code="more_inspections", trigger="class_d",
                             effect="flag", contexts=["inspection", "licence"]),
        "licence_cd": declare(officer, code="restrict_licence", trigger="class_c_or_d",
                              effect="flag", contexts=["licence"]),
        "later": declare(officer, code="no_subsidy", contexts=["subsidy"], start=day(1)),
        "ended": declare(officer, code="no_honours", contexts=["honour"], start=day(-90),
                         until=day(-1)),
    }


def test_measures_by_trigger_and_context(world, catalogue):
    listed, d_firm, c_firm = world["xian_entity"], world["baoji_entity"], f.EntityFactory()
    entry = list_entity(listed, world["departments"]["xian"], since=day(-10), until=day(100))
    rate(d_firm, "D", on=day(-3))
    rate(c_firm, "C", on=day(-4))
    with override("en"):
        assert svc.measures_applying(listed, on=day(), context="tender") == [(
            catalogue["bar_tender"],
            f"Listed as seriously dishonest since {day(-10).isoformat()} until "
            f"{day(100).isoformat()} by 西安市市场监督管理局, case #{entry.pk}.")]
        assert [m for m, _ in svc.measures_applying(listed, on=day())] == [
            catalogue["bar_supplier"], catalogue["bar_tender"]]
        assert svc.measures_applying(d_firm.uscc, on=day(), context="licence") == [
            (catalogue["inspect_d"], f"Credit class D since {day(-3).isoformat()}."),
            (catalogue["licence_cd"], f"Credit class D since {day(-3).isoformat()}.")]
        assert svc.measures_applying(c_firm, on=day(), context="licence") == [
            (catalogue["licence_cd"], f"Credit class C since {day(-4).isoformat()}.")]
    assert svc.measures_applying(c_firm, on=day(), context="tender") == []
    assert svc.measures_applying(f.EntityFactory(), on=day()) == []  # class B, not listed
    assert svc.measures_applying(UNKNOWN, on=day()) == []  # not in the register


def test_effective_dates_of_measures_and_listings(world, catalogue, officer):
    listed = world["xian_entity"]
    list_entity(listed, world["departments"]["xian"], since=day(-10), until=day(5))
    assert svc.measures_applying(listed, on=day(), context="subsidy") == []   # from tomorrow
    assert [m for m, _ in svc.measures_applying(listed, on=day(1), context="subsidy")] == [
        catalogue["later"]]
    assert svc.measures_applying(listed, on=day(), context="honour") == []    # ended
    # listed_until is the day the listing ends (the case is removed that day).
    assert svc.measures_applying(listed, on=day(5), context="tender") == []   # no longer listed
    assert svc.measures_applying(listed, on=day(-11), context="tender") == []  # not yet listed
    assert len(svc.measures_applying(listed, on=day(4), context="tender")) == 1
    assert len(svc.measures_applying(listed, on=day(-10), context="tender")) == 1


def test_only_a_listed_case_counts(world, catalogue):
    entity = world["xian_entity"]
    list_entity(entity, world["departments"]["xian"], status="noticed")
    assert svc.measures_applying(entity, on=day(), context="tender") == []


# --- credit checks -----------------------------------------------------------------------------

def test_a_check_of_a_listed_firm_is_stored_blocked(world, catalogue, officer):
    entity = world["xian_entity"]
    entry = list_entity(entity, world["departments"]["xian"], since=day(-10))
    rate(entity, "D", on=day(-2))
    with override("en"):
        check = svc.credit_check(uscc=entity.uscc.lower(), context="licence",
                                 reference="XK2026-0042", actor=officer)
    reason_d = f"Credit class D since {day(-2).isoformat()}."
    hidden = ("Applies under the firm's credit risk classification, which is for internal "
              "use and not disclosed.")
    assert (check.uscc, check.entity, check.context, check.reference, check.on,
            check.requested_by, check.risk_class, check.blacklisted, check.outcome,
            check.decision) == (entity.uscc, entity, "licence", "XK2026-0042", day(), officer,
                                "D", True, "flagged", "")
    assert check.measures == [
        {"measure": catalogue["inspect_d"].pk, "code": "more_inspections",
         "trigger": "class_d", "department": "陕西省市场监督管理局",
         "department_id": catalogue["inspect_d"].department_id, "effect": "flag",
         "legal_basis": BASIS, "reason": reason_d, "public_reason": hidden},
        {"measure": catalogue["licence_cd"].pk, "code": "restrict_licence",
         "trigger": "class_c_or_d", "department": "陕西省市场监督管理局",
         "department_id": catalogue["licence_cd"].department_id, "effect": "flag",
         "legal_basis": BASIS, "reason": reason_d, "public_reason": hidden}]
    with override("en"):
        tender = svc.credit_check(uscc=entity.uscc, context="tender", actor=officer)
    assert (tender.outcome, [r["measure"] for r in tender.measures]) == (
        "blocked", [catalogue["bar_tender"].pk])
    assert f"case #{entry.pk}" in tender.measures[0]["reason"]
    assert AuditEntry.objects.filter(action="credit_check.made").count() == 2
    assert OutboxEvent.objects.get(name="credit_check.made", aggregate_id=str(tender.pk)
                                   ).payload == {
        "check": tender.pk, "uscc": entity.uscc, "entity": entity.pk, "context": "tender",
        "outcome": "blocked"}


def test_a_usc_code_not_in_the_register_is_checked_clear(catalogue, officer):
    check = svc.credit_check(uscc=UNKNOWN, context="tender", actor=officer)
    assert (check.entity, check.uscc, check.outcome, check.measures, check.blacklisted,
            check.risk_class) == (None, UNKNOWN, "clear", [], False, "")


def test_a_malformed_uscc_or_context_is_refused_naming_the_field(officer):
    assert refused(ValidationError, svc.credit_check, uscc="9161", context="tender",
                   actor=officer) == {"uscc": [
        "A unified social credit code has 18 characters; this one has 4."]}
    assert refused(ValidationError, svc.credit_check, uscc="", context="tender",
                   actor=officer) == {"uscc": [
        "Give the firm's unified social credit code (18 characters)."]}
    assert refused(ValidationError, svc.credit_check, uscc=UNKNOWN,
                   context="lottery", actor=officer) == {"context": [
        "Choose where the firm is put forward, from: supplier_listing, licence, tender, "
        "honour, subsidy, inspection."]}


def test_who_may_check(world, enterprise_user, lab_user, user_unit_user):
    uscc = world["xian_entity"].uscc
    for user in (enterprise_user, lab_user, None):
        assert refused(Denied, svc.credit_check, uscc=uscc, context="tender", actor=user) == (
            "Only regulators and authorised services make credit checks.")
    assert refused(Denied, svc.credit_check, uscc=uscc, context="tender",
                   actor=user_unit_user) == (
        "Only regulators and authorised services make credit checks.")
    assert svc.credit_check(uscc=uscc, context="supplier_listing",
                            actor=user_unit_user).outcome == "clear"


def test_checks_are_seen_by_their_officer_department_jurisdiction_and_admins(
        world, officer, xian_officer, baoji_officer, admin_user, user_unit_user):
    mine = svc.credit_check(uscc=world["xian_entity"].uscc, context="tender", actor=xian_officer)
    colleague = f.UserFactory(username="xian2", department=world["departments"]["xian"])
    theirs = svc.credit_check(uscc=world["xian_entity"].uscc, context="licence",
                              actor=colleague)
    # A user unit's listing of a Xi'an firm: seen by Xi'an (its jurisdiction), not Baoji.
    unit = svc.credit_check(uscc=world["xian_entity"].uscc, context="supplier_listing",
                            actor=user_unit_user)
    baoji_firm = svc.credit_check(uscc=world["baoji_entity"].uscc, context="supplier_listing",
                                  actor=user_unit_user)
    # Xi'an's own check of a Baoji firm stays visible to Xi'an, and Baoji sees it too.
    xian_of_baoji = svc.credit_check(uscc=world["baoji_entity"].uscc, context="licence",
                                     actor=xian_officer)
    assert set(svc.checks_visible_to(xian_officer)) == {mine, theirs, unit, xian_of_baoji}
    assert set(svc.checks_visible_to(baoji_officer)) == {baoji_firm, xian_of_baoji}
    assert set(svc.checks_visible_to(admin_user)) == {mine, theirs, unit, baoji_firm,
                                                       xian_of_baoji}
    assert set(svc.checks_visible_to(user_unit_user)) == {unit, baoji_firm}


# --- procurement ---------------------------------------------------------------------------------

@pytest.fixture
def cable_list(world, user_unit_user):
    return procurement.supplier_list_create(actor=user_unit_user,
                                            category_id=world["categories"]["cable"].pk)


def test_a_listed_firm_is_refused_as_supplier_and_the_check_is_kept(
        world, catalogue, cable_list, user_unit_user):
    entity = world["xian_entity"]
    entry = list_entity(entity, world["departments"]["xian"], since=day(-10))
    with override("en"), pytest.raises(ValidationError) as info:
        procurement.supplier_add(actor=user_unit_user, list_id=cable_list.pk,
                                 entity_id=entity.pk)
    line = (f"Not accepted as a qualified supplier (陕西省市场监督管理局; {BASIS}): Listed as "
            f"seriously dishonest since {day(-10).isoformat()} by 西安市市场监督管理局, "
            f"case #{entry.pk}.")
    message = (f"西安测试电缆有限公司 cannot be put on the list: joint punishment measures "
               f"apply: {line}")
    assert info.value.message_dict == {"entity": [message]}
    assert not Supplier.objects.exists()
    check = CreditCheck.objects.get()
    assert (check.context, check.entity, check.outcome, check.requested_by, check.reference,
            check.object_type, check.object_id) == (
        "supplier_listing", entity, "blocked", user_unit_user,
        f"list {cable_list.pk} (electrical.cable)", "", "")
    assert check.decision == ("Not put on the qualified-supplier list for 电线电缆 of "
                              f"西安测试地铁有限公司: {message}")
    assert [r["code"] for r in check.measures] == ["bar_supplier"]
    assert list(AuditEntry.objects.filter(object_type="credit.creditcheck").values_list(
        "action", flat=True).order_by("seq")) == ["credit_check.made", "credit_check.settled"]


def test_a_flagged_firm_is_listed_with_the_reasons_and_the_check_linked(
        world, officer, cable_list, user_unit_user):
    flag = declare(officer, code="bar_supplier", trigger="class_d", effect="flag",
                   contexts=["supplier_listing"])
    entity = world["xian_entity"]
    rate(entity, "D", on=day(-2))
    with override("en"):
        supplier = procurement.supplier_add(actor=user_unit_user, list_id=cable_list.pk,
                                            entity_id=entity.pk)
    check = CreditCheck.objects.get()
    assert (check.outcome, check.object_type, check.object_id) == (
        "flagged", "procurement.supplier", str(supplier.pk))
    assert check.decision == ("Put on the qualified-supplier list for 电线电缆 of 西安测试地铁有限公司 "
                              "as Qualified (score 100).")
    [screen] = supplier.screens
    assert (screen.refused, screen.flagged, screen.ref, screen.refusals) == (
        False, True, check.pk, [])
    # A user unit reads the public reason: the class stays internal.
    assert screen.flags == [
        f"Not accepted as a qualified supplier (陕西省市场监督管理局; {BASIS}): Applies under the "
        "firm's credit risk classification, which is for internal use and not disclosed."]
    assert check.measures[0]["measure"] == flag.pk


def test_a_clear_listing_links_its_check(world, cable_list, user_unit_user):
    supplier = procurement.supplier_add(actor=user_unit_user, list_id=cable_list.pk,
                                        entity_id=world["xian_entity"].pk)
    check = CreditCheck.objects.get()
    assert (check.outcome, check.object_id, supplier.screens[0].flagged) == (
        "clear", str(supplier.pk), False)


def test_a_listing_refused_before_the_check_stores_none(world, cable_list, user_unit_user,
                                                        enterprise_user):
    with pytest.raises(ValidationError):
        procurement.supplier_add(actor=user_unit_user, list_id=cable_list.pk, entity_id="x")
    with pytest.raises(Http404):
        procurement.supplier_add(actor=enterprise_user, list_id=cable_list.pk,
                                 entity_id=world["xian_entity"].pk)
    procurement.supplier_add(actor=user_unit_user, list_id=cable_list.pk,
                             entity_id=world["xian_entity"].pk)
    assert CreditCheck.objects.count() == 1
    with pytest.raises(ValidationError):  # already on the list: no second check
        procurement.supplier_add(actor=user_unit_user, list_id=cable_list.pk,
                                 entity_id=world["xian_entity"].pk)
    assert CreditCheck.objects.count() == 1


def test_penalties_and_list_cases_are_facts_of_supplier_standings(world, officer, cable_list,
                                                                  user_unit_user):
    entity = world["xian_entity"]
    Penalty.objects.create(decision_number="西市监罚〔2026〕7号", entity=entity,
                           department=world["departments"]["xian"], decided_on=day(-40),
                           violation="v", legal_basis="b", document="x.pdf",
                           document_sha256="0" * 64, created_by=officer)
    entry = list_entity(entity, world["departments"]["xian"], since=day(-10), until=day(300))
    with override("en"):
        facts = procurement.supplier_facts(entity_id=entity.pk,
                                           user_unit_id=cable_list.user_unit_id,
                                           category_code="electrical.cable", on=day())
    assert facts["penalties"] == [{"date": day(-40), "ref": "西市监罚〔2026〕7号"}]
    assert facts["blacklist"] == [{"date": day(-10), "until": day(299),  # the last day listed
                                   "ref": f"list case #{entry.pk}"}]
    # No measure is declared: the standing's own blacklist rule still refuses the firm.
    with pytest.raises(ValidationError):
        procurement.supplier_add(actor=user_unit_user, list_id=cable_list.pk,
                                 entity_id=entity.pk)
    assert CreditCheck.objects.get().outcome == "clear"


def test_the_hooks_are_registered_once():
    svc.register_procurement_hooks()
    assert procurement.FACT_PROVIDERS.count(svc.procurement_facts) == 1
    assert procurement.LISTING_SCREENS.count(svc.supplier_listing_screen) == 1


# --- seed ----------------------------------------------------------------------------------------

def test_the_seed_declares_measures_for_the_departments_it_knows(world, admin_user):
    depts = world["departments"]
    made = svc.measures_seed(admin_user, [depts["province"], depts["xian_housing"]])
    assert sorted((m.department.code, m.code, m.trigger) for m in made) == sorted([
        ("61-market", "restrict_licence", "blacklist"), ("61-market", "no_honours", "blacklist"),
        ("61-market", "more_inspections", "blacklist"),
        ("61-market", "more_inspections", "class_c_or_d"),
        ("61-market", "bar_tender", "blacklist"), ("61-market", "bar_supplier", "blacklist"),
        ("61-market", "bar_supplier", "class_d"), ("61-market", "no_subsidy", "blacklist"),
        ("6101-housing", "bar_tender", "blacklist")])
    assert all(m.legal_basis and m.effective_from == day() for m in made)
    assert svc.measures_seed(admin_user, [depts["province"], depts["xian_housing"]]) == []
