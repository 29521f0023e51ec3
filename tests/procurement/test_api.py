"""The procurement API (/api/v1/supplier-lists/, suppliers/, appeals/, deliveries/,
acceptance-checks/, referrals/): the authorization matrix of every endpoint and method
for every persona (exact statuses, exact rows, and for every refusal proof that nothing
changed), bad input naming the field, the flow through the API, and query-count pins on
the lists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests import factories as f
from tests.api.conftest import _FIXTURE, PERSONAS, rows_of
from tests.api.matrix import Case, L, S, check_case
from tests.procurement.conftest import cable_report
from zhijian.accounts.models import Role, User
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.procurement import services
from zhijian.procurement.api import router
from zhijian.procurement.models import (
    AcceptanceCheck,
    Appeal,
    Delivery,
    Referral,
    Supplier,
    SupplierList,
    WitnessInspection,
)

MISSING = 10**9
XE, BE, BUILDER = "西安测试电缆有限公司", "宝鸡测试钢铁有限公司", "西安测试建材有限公司"
NONE: set = set()


@pytest.fixture
def persona(request):
    return lambda name: None if name == "anonymous" else request.getfixturevalue(_FIXTURE[name])


def blacklisted(entity_id):
    """A quality-credit provider stand-in: the entity is on the blacklist."""
    def provider(*, entity_id: int, user_unit_id: int, on):
        if entity_id != wanted:
            return {}
        return {"blacklist": [{"date": on, "until": None, "ref": "HMD-2026-001"}]}

    wanted = entity_id
    return provider


@pytest.fixture
def prgrid(grid, user_unit_user, enterprise_user, monkeypatch):
    """The metro keeps lists for cable (the Xi'an cable maker, removed: blacklisted),
    electrical (the same maker, removed, with an open appeal) and steel (the Baoji steel
    maker). Three steel deliveries: `pending`; `referred` (rejected, referred to the Xi'an
    housing bureau, which leads steel at city level); `rejected` (not referred). The
    Baoji power company keeps a steel list with the Baoji maker."""
    g = grid
    cats = g["categories"]
    u = user_unit_user
    lists = {key: services.supplier_list_create(actor=u, category_id=cats[key].pk)
             for key in ("cable", "electrical", "steel")}
    entries = {
        "cable": services.supplier_add(actor=u, list_id=lists["cable"].pk,
                                       entity_id=g["xian_entity"].pk),
        "electrical": services.supplier_add(actor=u, list_id=lists["electrical"].pk,
                                            entity_id=g["xian_entity"].pk),
        "steel": services.supplier_add(actor=u, list_id=lists["steel"].pk,
                                       entity_id=g["baoji_entity"].pk),
    }
    power = f.UserFactory(username="power", role=Role.USER_UNIT, user_unit=g["baoji_unit"])
    power_list = services.supplier_list_create(actor=power, category_id=cats["steel"].pk)
    services.supplier_add(actor=power, list_id=power_list.pk, entity_id=g["baoji_entity"].pk)
    monkeypatch.setattr(services, "FACT_PROVIDERS",
                        [*services.FACT_PROVIDERS, blacklisted(g["xian_entity"].pk)])
    yesterday = timezone.localdate() - dt.timedelta(days=1)

    def steel(number):
        return services.delivery_record(actor=u, data={
            "number": number, "supplier": g["baoji_entity"], "producer": g["baoji_entity"],
            "product": None, "product_name": "热轧带肋钢筋", "category": cats["steel"],
            "batch": "S2026-07", "quantity": "40", "unit": "t", "site": "地铁8号线",
            "delivered_on": yesterday}, report_numbers=[f"GB-{number}"])

    deliveries = {key: steel(f"DN-{i}") for i, key in enumerate(
        ("pending", "referred", "rejected"), start=1)}
    for key in ("referred", "rejected"):
        services.acceptance_check(actor=u, delivery_id=deliveries[key].pk)
    referral = services.delivery_refer(actor=u, delivery_id=deliveries["referred"].pk)
    services.suppliers_rerate_all()
    appeal = services.appeal_file(actor=enterprise_user, supplier_id=entries["electrical"].pk,
                                  grounds="黑名单已于本月移出，请求恢复。")
    return g | {"lists": lists, "entries": entries, "power_list": power_list,
                "deliveries": deliveries, "referral": referral, "appeal": appeal,
                "check": deliveries["referred"].checks.get()}


def fingerprint() -> dict:
    def rows(model):
        return list(model.objects.order_by("pk").values())

    return {"lists": rows(SupplierList), "suppliers": rows(Supplier), "appeals": rows(Appeal),
            "deliveries": rows(Delivery),
            "links": sorted(Delivery.reports.through.objects.values_list(
                "delivery_id", "report_id")),
            "witnesses": rows(WitnessInspection), "checks": rows(AcceptanceCheck),
            "referrals": rows(Referral), "audit_entries": AuditEntry.objects.count(),
            "outbox_events": OutboxEvent.objects.count()}


# --- the matrix ----------------------------------------------------------------------------

UNIT_ONLY = S(401, 200, 404, 404, 404, 404, 404, 404, 200)
UNIT_WRITES = S(401, 403, 404, 404, 404, 404, 404, 404, 201)
REFERRED = S(401, 200, 404, 404, 404, 200, 404, 404, 200)  # and the housing bureau
ALL_404 = S(401, 404, 404, 404, 404, 404, 404, 404, 404)
unit_list = lambda row: (row["user_unit_name"], row["category"])  # noqa: E731
METRO, POWER = "西安测试地铁有限公司", "宝鸡测试电力有限公司"
METRO_LISTS = {(METRO, "electrical.cable"), (METRO, "electrical"), (METRO, "building.steel")}
entry = lambda row: (row["user_unit_name"], row["category"], row["entity_name"])  # noqa: E731
number = lambda row: row["delivery_number"]  # noqa: E731
METRO_ENTRIES = {(METRO, "electrical.cable", XE), (METRO, "electrical", XE),
                 (METRO, "building.steel", BE)}


def url(kind, key=None, suffix=""):
    def build(g):
        if key is None:
            return f"/api/v1/{kind}/"
        pk = MISSING if key == "missing" else {
            "supplier-lists": lambda: g["lists"][key].pk,
            "suppliers": lambda: g["entries"][key].pk,
            "appeals": lambda: g["appeal"].pk,
            "deliveries": lambda: g["deliveries"][key].pk,
            "acceptance-checks": lambda: g["check"].pk,
            "referrals": lambda: g["referral"].pk,
        }[kind]()
        return f"/api/v1/{kind}/{pk}/{suffix}"
    return build


def delivery_body(g):
    return {"number": "DN-9", "supplier": g["baoji_entity"].uscc,
            "producer": g["baoji_entity"].uscc, "product_name": "热轧带肋钢筋",
            "category": "building.steel", "batch": "S2026-07", "quantity": "12.5", "unit": "t",
            "site": "地铁8号线", "delivered_on": timezone.localdate().isoformat(),
            "report_numbers": ["GB-DN-9"]}


def witness_body(g):
    return {"lab": g["lab"].pk, "witness": "监理 李工",
            "witnessed_on": timezone.localdate().isoformat(), "result": "pass"}


CASES = [
    Case("supplier-list:list", "get", url("supplier-lists"), key=unit_list,
         expect=L(None, METRO_LISTS | {(POWER, "building.steel")}, NONE, NONE, NONE, NONE,
                  NONE, NONE, METRO_LISTS)),
    Case("supplier-list:retrieve", "get", url("supplier-lists", "cable"), UNIT_ONLY),
    Case("supplier-list:retrieve", "get", url("supplier-lists", "missing"), ALL_404,
         label="missing"),
    Case("supplier-list:create", "post", url("supplier-lists"),
         S(401, 403, 403, 403, 403, 403, 403, 403, 201), writes=1,
         body=lambda g: {"category": "building"}),
    Case("supplier:list", "get", url("suppliers"), key=entry,
         expect=L(None, METRO_ENTRIES | {(POWER, "building.steel", BE)}, NONE, NONE, NONE,
                  NONE, {(METRO, "electrical.cable", XE), (METRO, "electrical", XE)}, NONE,
                  METRO_ENTRIES)),
    Case("supplier:retrieve", "get", url("suppliers", "cable"),
         S(401, 200, 404, 404, 404, 404, 200, 404, 200)),
    Case("supplier:retrieve", "get", url("suppliers", "steel"), UNIT_ONLY,
         label="other-firm"),
    # The listing, and the credit check (joint punishment) made before it and settled
    # with its decision after it (credit/services/measures.py).
    Case("supplier:create", "post", url("suppliers"),
         S(401, 403, 404, 404, 404, 404, 404, 404, 201), writes=3,
         body=lambda g: {"supplier_list": g["lists"]["steel"].pk,
                         "entity": g["xian_builder"].uscc}),
    Case("supplier:appeal", "post", url("suppliers", "cable", "appeal/"),
         S(401, 403, 404, 404, 404, 404, 201, 404, 403), writes=1,
         body=lambda g: {"grounds": "黑名单已于本月移出，请求恢复。"}),
    Case("appeal:list", "get", url("appeals"), key=lambda r: (r["category"], r["status"]),
         expect=L(None, {("electrical", "open")}, NONE, NONE, NONE, NONE,
                  {("electrical", "open")}, NONE, {("electrical", "open")})),
    Case("appeal:retrieve", "get", url("appeals", "x"),
         S(401, 200, 404, 404, 404, 404, 200, 404, 200)),
    Case("appeal:decide", "post", url("appeals", "x", "decide/"),
         S(401, 403, 404, 404, 404, 404, 403, 404, 200), writes=1,
         body=lambda g: {"upheld": False, "decision": "黑名单仍在有效期内，维持移出。"}),
    Case("delivery:list", "get", url("deliveries"), key=lambda r: r["number"],
         expect=L(None, {"DN-1", "DN-2", "DN-3"}, NONE, NONE, NONE, {"DN-2"}, NONE, NONE,
                  {"DN-1", "DN-2", "DN-3"})),
    Case("delivery:retrieve", "get", url("deliveries", "pending"), UNIT_ONLY),
    Case("delivery:retrieve", "get", url("deliveries", "referred"), REFERRED,
         label="referred"),
    Case("delivery:create", "post", url("deliveries"),
         S(401, 403, 403, 403, 403, 403, 403, 403, 201), writes=1, body=delivery_body),
    Case("delivery:acceptance_check", "post",
         url("deliveries", "pending", "acceptance-check/"), UNIT_WRITES, writes=2,
         body=lambda g: {"note": "外观良好"}),
    Case("delivery:acceptance_check", "post",
         url("deliveries", "referred", "acceptance-check/"),
         S(401, 403, 404, 404, 404, 403, 404, 404, 201), writes=2, label="referred"),
    Case("delivery:witness", "post", url("deliveries", "pending", "witness/"), UNIT_WRITES,
         writes=1, body=witness_body),
    Case("delivery:refer", "post", url("deliveries", "rejected", "refer/"), UNIT_WRITES,
         writes=1, body=lambda g: {"text": ""}),
    Case("delivery:refer", "post", url("deliveries", "referred", "refer/"),
         S(401, 403, 404, 404, 404, 403, 404, 404, 400), label="already-referred",
         attrs={"user_unit": "delivery"}),
    Case("acceptance-check:list", "get", url("acceptance-checks"), key=number,
         expect=L(None, {"DN-2", "DN-3"}, NONE, NONE, NONE, {"DN-2"}, NONE, NONE,
                  {"DN-2", "DN-3"})),
    Case("acceptance-check:retrieve", "get", url("acceptance-checks", "x"), REFERRED),
    Case("referral:list", "get", url("referrals"), key=number,
         expect=L(None, {"DN-2"}, NONE, NONE, NONE, {"DN-2"}, NONE, NONE, {"DN-2"})),
    Case("referral:retrieve", "get", url("referrals", "x"), REFERRED),
    Case("referral:acknowledge", "post", url("referrals", "x", "acknowledge/"),
         S(401, 403, 404, 404, 404, 200, 404, 404, 403), writes=1),
]


@pytest.mark.parametrize(
    ("case", "who"),
    [pytest.param(c, p, id=f"{c.id}-{p}") for c in CASES for p in PERSONAS],
)
def test_matrix(case, who, prgrid, persona, api):
    check_case(case, who, prgrid, persona(who), api, fingerprint)


def _routed_actions() -> set[str]:
    found = set()
    for _prefix, viewset, basename in router.registry:
        for route in router.get_routes(viewset):
            for method, action in route.mapping.items():
                if hasattr(viewset, action) and method != "options":
                    found.add(f"{basename}:{action}")
    return found


def test_every_endpoint_is_in_the_matrix():
    assert _routed_actions() == {c.action for c in CASES}


def test_a_record_not_yours_is_indistinguishable_from_absent(prgrid, baoji_officer, api):
    api.force_authenticate(baoji_officer)
    before = fingerprint()
    for kind, key, suffix in [("deliveries", "referred", "refer/"),
                              ("deliveries", "pending", "acceptance-check/"),
                              ("suppliers", "cable", "appeal/"),
                              ("referrals", "x", "acknowledge/")]:
        theirs = api.post(url(kind, key, suffix)(prgrid), {}, format="json")
        absent = api.post(url(kind, "missing", suffix)(prgrid), {}, format="json")
        assert theirs.status_code == absent.status_code == 404
        assert theirs.content == absent.content
    assert fingerprint() == before


def test_put_patch_and_delete_are_not_offered(prgrid, user_unit_user, api):
    api.force_authenticate(user_unit_user)
    before = fingerprint()
    for method, kind, key in [("put", "supplier-lists", "cable"), ("delete", "suppliers", "cable"),
                              ("patch", "deliveries", "pending"), ("delete", "referrals", "x"),
                              ("post", "acceptance-checks", None)]:
        resp = getattr(api, method)(url(kind, key)(prgrid), {}, format="json")
        assert resp.status_code == 405, (method, kind)
        assert resp.json()["errors"][0]["code"] == "method_not_allowed"
    assert fingerprint() == before


def test_the_schema_describes_the_endpoints_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ["/api/v1/supplier-lists/", "/api/v1/supplier-lists/{id}/",
                 "/api/v1/suppliers/", "/api/v1/suppliers/{id}/",
                 "/api/v1/suppliers/{id}/appeal/", "/api/v1/appeals/",
                 "/api/v1/appeals/{id}/", "/api/v1/appeals/{id}/decide/",
                 "/api/v1/deliveries/", "/api/v1/deliveries/{id}/",
                 "/api/v1/deliveries/{id}/acceptance-check/",
                 "/api/v1/deliveries/{id}/witness/", "/api/v1/deliveries/{id}/refer/",
                 "/api/v1/acceptance-checks/", "/api/v1/acceptance-checks/{id}/",
                 "/api/v1/referrals/", "/api/v1/referrals/{id}/",
                 "/api/v1/referrals/{id}/acknowledge/"]:
        assert f"  {path}:" in text, path
    for enum in ["SupplierStandingEnum:", "AppealStatusEnum:", "DeliveryStatusEnum:",
                 "WitnessResultEnum:"]:
        assert f"    {enum}" in text, enum


# --- bad input -------------------------------------------------------------------------------

def errors(resp) -> list[tuple[str | None, str]]:
    return [(e["attr"], e["detail"]) for e in resp.json()["errors"]]


def test_bad_input_names_the_fields(prgrid, user_unit_user, api):
    api.force_authenticate(user_unit_user)
    before = fingerprint()
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    resp = api.post("/api/v1/supplier-lists/", {"category": "nope"}, format="json", **en)
    assert (resp.status_code, errors(resp)) == (
        400, [("category", "Object with code=nope does not exist.")])
    resp = api.post("/api/v1/supplier-lists/", {"category": "building.steel"}, format="json",
                    **en)
    assert errors(resp) == [("category", "Your unit already has a qualified-supplier list "
                                         "for 钢筋.")]
    resp = api.post("/api/v1/deliveries/", delivery_body(prgrid) | {
        "supplier": prgrid["xian_builder"].uscc, "quantity": "-1", "report_numbers": []},
        format="json", **en)
    assert errors(resp) == [
        ("quantity", "Give the quantity delivered (more than zero)."),
        ("report_numbers", "Give the number of at least one test report that covers this "
                           "delivery, as printed on its papers."),
        ("supplier", "西安测试建材有限公司 is not on your qualified-supplier list for 钢筋: put "
                     "it on the list first.")]
    resp = api.post("/api/v1/deliveries/", delivery_body(prgrid) | {
        "delivered_on": "2026-02-30", "category": "x"}, format="json", **en)
    assert [a for a, _ in errors(resp)] == ["category", "delivered_on"]
    resp = api.post(url("deliveries", "pending", "witness/")(prgrid),
                    witness_body(prgrid) | {"result": "ok", "witness": ""}, format="json", **en)
    assert errors(resp) == [("witness", "This field may not be blank."),
                            ("result", '"ok" is not a valid choice.')]
    resp = api.post(url("deliveries", "pending", "refer/")(prgrid), {}, format="json", **en)
    assert errors(resp) == [("delivery", "Only a rejected delivery can be reported to the "
                                         "competent department.")]
    resp = api.post(url("appeals", "x", "decide/")(prgrid),
                    {"upheld": True, "decision": "恢复"}, format="json", **en)
    assert errors(resp) == [("until", "Give the day until which the removal is set aside.")]
    assert fingerprint() == before


def test_service_refusals_are_403_with_their_message(prgrid, admin_user, api):
    api.force_authenticate(admin_user)
    resp = api.post("/api/v1/deliveries/", delivery_body(prgrid), format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert resp.json() == {"type": "client_error", "errors": [{
        "code": "permission_denied", "attr": None,
        "detail": "Only a user unit records deliveries to it."}]}


# --- the flow through the API ----------------------------------------------------------------

def test_the_whole_flow_through_the_api(pworld, user_unit_user, enterprise_user, xian_officer,
                                        api, django_capture_on_commit_callbacks):
    w = pworld
    report = cable_report(w, number="T2026-00001")
    api.force_authenticate(user_unit_user)
    resp = api.get("/api/v1/suppliers/", {"category": "electrical.cable"})
    (row,) = rows_of(resp.json())
    assert (row["entity_name"], row["standing"], row["score"], row["reasons"], row["note"]) == (
        XE, "qualified", 100, [], "")
    body = {"number": "DN-2026-0001", "supplier": w["xian_entity"].uscc,
            "producer": w["xian_entity"].uscc, "product_name": "聚氯乙烯绝缘电缆",
            "category": "electrical.cable", "batch": "C2026-01", "quantity": "800",
            "unit": "m", "site": "地铁8号线 长延堡站",
            "delivered_on": timezone.localdate().isoformat(),
            "report_numbers": [report.number, "GB-FAKE-1"]}
    resp = api.post("/api/v1/deliveries/", body, format="json")
    assert resp.status_code == 201, resp.content
    d = resp.json()
    assert (d["status"], d["claimed_numbers"], d["reports"], d["quantity"]) == (
        "pending", ["T2026-00001", "GB-FAKE-1"], ["T2026-00001"], "800.000")
    durl = f"/api/v1/deliveries/{d['id']}/"
    with django_capture_on_commit_callbacks(execute=True):
        resp = api.post(durl + "acceptance-check/", {"note": "第一次验收"}, format="json",
                        HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 201, resp.content
    check = resp.json()
    assert (check["accepted"], [x["code"] for x in check["findings"]]) == (
        False, ["report_not_found", "witness_missing"])
    assert api.get(durl).json()["status"] == "rejected"
    # The rejection re-rated the supplier (its subscriber ran after the commit).
    row = rows_of(api.get("/api/v1/suppliers/", {"category": "electrical.cable"},
                          HTTP_ACCEPT_LANGUAGE="en").json())[0]
    assert (row["standing"], row["score"], [r["code"] for r in row["reasons"]]) == (
        "qualified", 90, ["rejected_delivery"])
    day = timezone.localdate().isoformat()
    assert row["reasons"][0]["text"] == (
        f"Delivery rejected by this unit: DN-2026-0001 {day} (−10 points)")
    resp = api.post(durl + "refer/", {}, format="json")
    assert resp.status_code == 201, resp.content
    referral = resp.json()
    assert (referral["department_name"], referral["delivery_number"]) == (
        "西安市市场监督管理局", "DN-2026-0001")
    api.force_authenticate(xian_officer)
    assert [r["id"] for r in rows_of(api.get("/api/v1/referrals/").json())] == [referral["id"]]
    assert api.get(durl).status_code == 200
    checks = rows_of(api.get("/api/v1/acceptance-checks/", {"delivery": d["id"]}).json())
    assert [c["id"] for c in checks] == [check["id"]]
    resp = api.post(f"/api/v1/referrals/{referral['id']}/acknowledge/")
    assert resp.status_code == 200
    assert resp.json()["acknowledged_at"] is not None
    # The supplier sees its entry, not the unit's note.
    api.force_authenticate(enterprise_user)
    rows = rows_of(api.get("/api/v1/suppliers/").json())
    assert [(r["category"], r["score"], r["note"]) for r in rows] == [
        ("electrical.cable", 90, None)]


# --- query-count pins ------------------------------------------------------------------------

@pytest.fixture
def crowd(prgrid, user_unit_user):
    for i in range(8):
        maker = f.EntityFactory(name=f"西安第{i}钢铁有限公司")
        services.supplier_add(actor=user_unit_user, list_id=prgrid["lists"]["steel"].pk,
                              entity_id=maker.pk)
    return prgrid


PINS = [
    ("/api/v1/supplier-lists/", "user_unit_user", 5, 3),
    ("/api/v1/suppliers/", "user_unit_user", 5, 11),
    ("/api/v1/suppliers/", "enterprise_user", 5, 2),
    ("/api/v1/appeals/", "user_unit_user", 5, 1),
    ("/api/v1/deliveries/", "user_unit_user", 8, 3),
    ("/api/v1/deliveries/", "xian_housing_officer", 8, 1),
    ("/api/v1/acceptance-checks/", "user_unit_user", 5, 2),
    ("/api/v1/referrals/", "xian_housing_officer", 7, 1),
]


@pytest.mark.parametrize(("target", "who", "most", "rows"), PINS,
                         ids=[f"{u}-{w}" for u, w, _, _ in PINS])
def test_list_query_count(target, who, most, rows, crowd, api, request,
                          django_assert_max_num_queries):
    user = User.objects.get(pk=request.getfixturevalue(who).pk)  # no cached scope
    api.force_authenticate(user)
    with django_assert_max_num_queries(most):
        resp = api.get(target)
    assert resp.status_code == 200
    assert len(rows_of(resp.json())) == rows


def test_every_list_endpoint_is_pinned():
    lists = {f"/api/v1/{prefix}/" for prefix, viewset, _ in router.registry
             if hasattr(viewset, "list")}
    assert lists - {u for u, *_ in PINS} == set()
