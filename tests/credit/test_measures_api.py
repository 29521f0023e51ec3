"""Joint punishment in the REST API (zhijian/credit/api/measures.py): measures, credit
checks, the public measures answer (class not disclosed, throttled), the procurement
listing's screens, and bad input."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils.translation import override

from tests.credit.test_measures_services import (
    BASIS,
    UNKNOWN,
    day,
    declare,
    list_entity,
    rate,
)
from zhijian.core.models import AuditEntry
from zhijian.credit.api.measures import PublicMeasuresThrottle
from zhijian.credit.models import CreditCheck, Measure
from zhijian.procurement import services as procurement

pytestmark = pytest.mark.django_db

PUBLIC = "/api/v1/public/credit/measures/"


@pytest.fixture(autouse=True)
def _throttle_counts():
    cache.clear()


@pytest.fixture
def measures(world, province_officer):
    return {"tender": declare(province_officer, code="bar_tender", contexts=["tender"]),
            "class_d": declare(province_officer, code="more_inspections", trigger="class_d",
                               effect="flag", contexts=["tender", "inspection"])}


def body(**kw):
    return {"code": "no_subsidy", "trigger": "blacklist", "effect": "block",
            "contexts": ["subsidy"], "legal_basis": BASIS,
            "effective_from": day(-1).isoformat()} | kw


# --- measures ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("who", "status"), [
    (None, 401), ("enterprise_user", 403), ("user_unit_user", 403), ("lab_user", 403),
    ("xian_officer", 200), ("admin_user", 200)])
def test_who_reads_measures(request, api, measures, who, status):
    if who:
        api.force_authenticate(request.getfixturevalue(who))
    resp = api.get("/api/v1/credit/measures/")
    assert resp.status_code == status
    if status == 200:
        assert [r["id"] for r in resp.json()["results"]] == [
            measures["tender"].pk, measures["class_d"].pk]  # by department, then code
        assert resp.json()["results"][0]["state"] == "in_force"


def test_a_regulator_declares_and_withdraws_through_the_api(api, world, xian_officer):
    api.force_authenticate(xian_officer)
    resp = api.post("/api/v1/credit/measures/", body(), format="json")
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert (data["department"], data["code"], data["contexts"], data["state"]) == (
        world["departments"]["xian"].pk, "no_subsidy", ["subsidy"], "in_force")
    resp = api.post(f"/api/v1/credit/measures/{data['id']}/withdraw/",
                    {"reason": "改由省局统一实施"}, format="json")
    assert resp.status_code == 200
    assert (resp.json()["effective_until"], resp.json()["state"]) == (
        day(-1).isoformat(), "ended")


def test_declaring_for_another_department_is_forbidden_and_changes_nothing(
        api, world, xian_officer, enterprise_user):
    api.force_authenticate(xian_officer)
    before = AuditEntry.objects.count()
    resp = api.post("/api/v1/credit/measures/",
                    body(department=world["departments"]["baoji"].pk), format="json")
    assert resp.status_code == 403
    assert resp.json()["errors"][0]["attr"] == "department"
    api.force_authenticate(enterprise_user)
    assert api.post("/api/v1/credit/measures/", body(), format="json").status_code == 403
    assert (Measure.objects.count(), AuditEntry.objects.count()) == (0, before)


def test_bad_declarations_name_the_field(api, xian_officer):
    api.force_authenticate(xian_officer)
    with override("en"):
        resp = api.post("/api/v1/credit/measures/",
                        body(effective_until=day(-5).isoformat()), format="json",
                        HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["attr"] == "effective_until"
    resp = api.post("/api/v1/credit/measures/", body(contexts=[]), format="json")
    assert (resp.status_code, resp.json()["errors"][0]["attr"]) == (400, "contexts")
    assert not Measure.objects.exists()


# --- credit checks ---------------------------------------------------------------------------------

def test_a_regulator_posts_a_check_and_gets_it_stored(api, world, measures, xian_officer):
    entity = world["xian_entity"]
    list_entity(entity, world["departments"]["xian"], since=day(-3))
    api.force_authenticate(xian_officer)
    resp = api.post("/api/v1/credit/checks/", {"uscc": entity.uscc, "context": "tender",
                                               "reference": "ZB-2026-118"}, format="json")
    assert resp.status_code == 201, resp.content
    data = resp.json()
    check = CreditCheck.objects.get()
    assert (data["id"], data["outcome"], data["blacklisted"], data["reference"],
            data["entity_name"], data["requested_by"]) == (
        check.pk, "blocked", True, "ZB-2026-118", entity.name, "xian")
    assert [(m["code"], m["effect"], m["department"]) for m in data["measures"]] == [
        ("bar_tender", "block", "陕西省市场监督管理局")]
    assert api.get(f"/api/v1/credit/checks/{check.pk}/").json()["outcome"] == "blocked"


@pytest.mark.parametrize(("who", "status"), [
    (None, 401), ("enterprise_user", 403), ("lab_user", 403), ("user_unit_user", 403)])
def test_others_may_not_post_checks(request, api, world, who, status):
    if who:
        api.force_authenticate(request.getfixturevalue(who))
    resp = api.post("/api/v1/credit/checks/", {"uscc": world["xian_entity"].uscc,
                                               "context": "tender"}, format="json")
    assert resp.status_code == status
    assert not CreditCheck.objects.exists()


def test_a_malformed_uscc_is_refused_naming_it(api, xian_officer):
    api.force_authenticate(xian_officer)
    resp = api.post("/api/v1/credit/checks/", {"uscc": "123", "context": "tender"},
                    format="json")
    assert (resp.status_code, resp.json()["errors"][0]["attr"]) == (400, "uscc")
    resp = api.post("/api/v1/credit/checks/", {"uscc": UNKNOWN, "context": "x"}, format="json")
    assert (resp.status_code, resp.json()["errors"][0]["attr"]) == (400, "context")
    assert not CreditCheck.objects.exists()


def test_the_check_list_is_scoped_and_pinned(api, world, xian_officer, baoji_officer,
                                             django_assert_max_num_queries):
    from zhijian.credit.services import measures as svc

    for i in range(5):
        svc.credit_check(uscc=world["xian_entity"].uscc, context="tender",
                         reference=f"B{i}", actor=xian_officer)
    api.force_authenticate(xian_officer)
    with django_assert_max_num_queries(8):
        resp = api.get("/api/v1/credit/checks/")
    assert [r["reference"] for r in resp.json()["results"]] == ["B4", "B3", "B2", "B1", "B0"]
    api.force_authenticate(baoji_officer)
    assert api.get("/api/v1/credit/checks/").json()["results"] == []
    check = CreditCheck.objects.first()
    assert api.get(f"/api/v1/credit/checks/{check.pk}/").status_code == 404


# --- the public answer -----------------------------------------------------------------------------

def test_the_public_answer_for_a_listed_firm(api, world, measures):
    entity = world["xian_entity"]
    entry = list_entity(entity, world["departments"]["xian"], since=day(-3), until=day(700))
    rate(entity, "D")
    with override("en"):
        resp = api.get(PUBLIC, {"uscc": entity.uscc.lower(), "context": "tender"},
                       HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 200
    m = measures["tender"]
    assert resp.json() == {
        "uscc": entity.uscc, "registered": True, "name": entity.name,
        "on": day().isoformat(), "context": "tender", "listed": True,
        "listed_since": day(-3).isoformat(), "listed_until": day(700).isoformat(),
        "listing_department": "西安市市场监督管理局", "listing_case": entry.pk,
        "outcome": "blocked",
        "measures": [{"measure": m.pk, "code": "bar_tender",
                      "label": "Barred from public tenders", "department": "陕西省市场监督管理局",
                      "effect": "block", "contexts": ["tender"], "legal_basis": BASIS,
                      "effective_from": day(-30).isoformat(), "effective_until": None,
                      "reason": f"Listed as seriously dishonest since {day(-3).isoformat()} "
                                f"until {day(700).isoformat()} by 西安市市场监督管理局, "
                                f"case #{entry.pk}."}]}
    assert not CreditCheck.objects.exists()  # a public look-up is not a stored check


def test_the_public_answer_does_not_disclose_the_class(api, world, measures):
    entity = world["baoji_entity"]
    rate(entity, "D")
    data = api.get(PUBLIC, {"uscc": entity.uscc}).json()
    assert (data["listed"], data["measures"], data["outcome"]) == (False, [], "clear")
    assert "D" not in str({k: v for k, v in data.items() if k not in ("uscc", "name")})
    assert "risk_class" not in data


def test_the_public_answer_for_an_unknown_firm_and_bad_input(api, measures):
    data = api.get(PUBLIC, {"uscc": UNKNOWN}).json()
    assert (data["registered"], data["name"], data["measures"], data["listed"]) == (
        False, "", [], False)
    for params, attr in [({}, "uscc"), ({"uscc": "91610"}, "uscc"),
                         ({"uscc": UNKNOWN, "context": "lottery"}, "context")]:
        resp = api.get(PUBLIC, params)
        assert (resp.status_code, resp.json()["errors"][0]["attr"]) == (400, attr)


def test_the_public_answer_is_anonymous_and_throttled(api, measures, monkeypatch, xian_officer):
    monkeypatch.setattr(PublicMeasuresThrottle, "THROTTLE_RATES", {"public": "2/min"})
    assert [api.get(PUBLIC, {"uscc": UNKNOWN}).status_code for _ in range(3)] == [200, 200, 429]
    assert api.get(PUBLIC, {"uscc": UNKNOWN}).json()["errors"][0]["code"] == "throttled"
    assert api.post(PUBLIC, {"uscc": UNKNOWN}).status_code in (405, 429)


# --- procurement ------------------------------------------------------------------------------------

def test_the_supplier_api_refuses_a_listed_firm_and_keeps_the_check(
        api, world, province_officer, user_unit_user):
    declare(province_officer, code="bar_supplier", contexts=["supplier_listing"])
    sl = procurement.supplier_list_create(actor=user_unit_user,
                                          category_id=world["categories"]["cable"].pk)
    entity = world["xian_entity"]
    list_entity(entity, world["departments"]["xian"])
    api.force_authenticate(user_unit_user)
    resp = api.post("/api/v1/suppliers/", {"supplier_list": sl.pk, "entity": entity.uscc},
                    format="json")
    assert (resp.status_code, resp.json()["errors"][0]["attr"]) == (400, "entity")
    assert "joint punishment" in resp.json()["errors"][0]["detail"] or \
        "联合惩戒" in resp.json()["errors"][0]["detail"]
    assert CreditCheck.objects.get().outcome == "blocked"


def test_the_supplier_api_shows_the_flags(api, world, province_officer, user_unit_user):
    declare(province_officer, code="bar_supplier", trigger="class_d", effect="flag",
            contexts=["supplier_listing"])
    sl = procurement.supplier_list_create(actor=user_unit_user,
                                          category_id=world["categories"]["cable"].pk)
    rate(world["xian_entity"], "D")
    api.force_authenticate(user_unit_user)
    resp = api.post("/api/v1/suppliers/", {"supplier_list": sl.pk,
                                           "entity": world["xian_entity"].uscc}, format="json")
    assert resp.status_code == 201
    [screen] = resp.json()["screens"]
    check = CreditCheck.objects.get()
    assert (screen["ref"], screen["refused"], screen["flagged"], len(screen["flags"])) == (
        str(check.pk), False, True, 1)
    assert check.object_id == str(resp.json()["id"])
