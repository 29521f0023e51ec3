"""The authorization matrix of /api/v1/ (docs/access.md): every endpoint × every persona,
the exact status, the exact rows of every list, and for every refusal proof that nothing
changed (registers, audit log, outbox).

One table, one line per endpoint and target; `test_every_endpoint_is_in_the_matrix`
fails when the router gains an endpoint the table lacks.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.conftest import PERSONAS, fingerprint, rows_of, uscc
from tests.api.matrix import ALL, EVERYONE, Case, L, S
from zhijian.config.api_urls import router
from zhijian.core.models import Division
from zhijian.registry.models import AccreditationScope

# --- names of the rows in tests/api/conftest.py:grid --------------------------------------
XE, BE, XB = "西安测试电缆有限公司", "宝鸡测试钢铁有限公司", "西安测试建材有限公司"
PX, PB, PXB = "西安电缆产品", "宝鸡钢筋产品", "西安建材产品"
XL, BL = "西安测试检测中心", "宝鸡测试检测中心"
XU, BU = "西安测试地铁有限公司", "宝鸡测试电力有限公司"
IP, IX, IB, IH = "省检查员", "西安检查员", "宝鸡检查员", "住建检查员"
DEPTS = {"陕西省市场监督管理局", "西安市市场监督管理局", "宝鸡市市场监督管理局",
         "西安市住房和城乡建设局"}
NONE: set = set()
MISSING = 10**9

name = lambda row: row["name"]  # noqa: E731


def E(g, key="xian_entity"):
    return f"/api/v1/entities/{g[key].pk}/"


def scope_line(g) -> str:
    line = AccreditationScope.objects.get(lab=g["lab"], parameter="导体电阻")
    return f"/api/v1/labs/{g['lab'].pk}/scopes/{line.pk}/end/"


# Who sees a lab's monthly capacity: regulators and administrators, and a lab its own
# (as on the web pages; the public lab page hides it).
CAPACITY_LIST = L(NONE, {XL, BL}, {XL, BL}, {XL, BL}, {XL, BL}, {XL, BL}, NONE, {XL}, NONE)
CAPACITY_XL = L(NONE, {XL}, {XL}, {XL}, {XL}, {XL}, NONE, {XL}, NONE)
CAPACITY_BL = L(NONE, {BL}, {BL}, {BL}, {BL}, {BL}, NONE, NONE, NONE)


def import_file(g):
    text = ("uscc,name,division,legal_representative,categories\n"
            f"{uscc('610113', 'CQW00001')},西安导入电缆有限公司,610113,李导入,electrical.cable\n")
    return {"file": SimpleUploadedFile("entities.csv", text.encode(), "text/csv")}


CASES = [
    # --- market entities (regulators: jurisdiction and sectors; enterprise: itself) -----
    Case("entity:list", "get", lambda g: "/api/v1/entities/", key=name, expect=L(
        None, {XE, BE, XB}, {XE, BE, XB}, {XE, XB}, {BE}, {XB}, {XE}, NONE, NONE)),
    Case("entity:retrieve", "get", E, S(401, 200, 200, 200, 404, 404, 200, 404, 404),
         label="xian"),
    Case("entity:retrieve", "get", lambda g: E(g, "baoji_entity"),
         S(401, 200, 200, 404, 200, 404, 404, 404, 404), label="baoji"),
    Case("entity:retrieve", "get", lambda g: E(g, "xian_builder"),
         S(401, 200, 200, 200, 404, 200, 404, 404, 404), label="building-sector"),
    Case("entity:retrieve", "get", lambda g: f"/api/v1/entities/{MISSING}/",
         S(401, 404, 404, 404, 404, 404, 404, 404, 404), label="missing"),
    Case("entity:create", "post", lambda g: "/api/v1/entities/",
         S(401, 201, 201, 201, 403, 403, 403, 403, 403), writes=1, label="cable-in-yanta",
         body=lambda g: {"uscc": uscc("610113", "ENT00001"), "name": "西安新电缆有限公司",
                         "division": "610113", "legal_representative": "张新",
                         "categories": ["electrical.cable"]},
         attrs={"baoji": "division", "xian_housing": "categories", "enterprise": None,
                "lab": None, "user_unit": None}),
    Case("entity:create", "post", lambda g: "/api/v1/entities/",
         S(401, 201, 201, 201, 403, 201, 403, 403, 403), writes=1, label="steel-in-xincheng",
         body=lambda g: {"uscc": uscc("610102", "ENT00002"), "name": "西安新钢筋有限公司",
                         "division": "610102", "legal_representative": "赵新",
                         "categories": ["building.steel"]},
         attrs={"baoji": "division"}),
    Case("entity:partial_update", "patch", E, S(401, 200, 200, 200, 404, 404, 200, 404, 404),
         writes=1, label="self-field", body=lambda g: {"address": "西安市雁塔区新址1号"}),
    Case("entity:partial_update", "patch", E, S(401, 200, 200, 200, 404, 404, 403, 404, 404),
         writes=1, label="regulator-field", body=lambda g: {"name": "西安改名电缆有限公司"},
         attrs={"enterprise": "name"}),
    Case("entity:partial_update", "patch", lambda g: E(g, "xian_builder"),
         S(401, 200, 200, 200, 404, 200, 404, 404, 404), writes=1, label="building-sector",
         body=lambda g: {"chief_quality_officer": "钱质量"}),
    Case("entity:history", "get", lambda g: E(g) + "history/",
         S(401, 200, 200, 200, 404, 404, 200, 404, 404)),
    Case("entity:import_csv", "post", lambda g: "/api/v1/entities/import/",
         S(401, 201, 201, 201, 400, 400, 403, 403, 403), writes=1, fmt="multipart",
         body=import_file,
         attrs={"baoji": "rows.2.division", "xian_housing": "rows.2.categories"}),
    # --- products: visible and editable with their entity ------------------------------
    Case("product:list", "get", lambda g: "/api/v1/products/", key=name, expect=L(
        None, {PX, PB, PXB}, {PX, PB, PXB}, {PX, PXB}, {PB}, {PXB}, {PX}, NONE, NONE)),
    Case("product:retrieve", "get", lambda g: f"/api/v1/products/{g['products']['xian'].pk}/",
         S(401, 200, 200, 200, 404, 404, 200, 404, 404)),
    Case("product:create", "post", lambda g: "/api/v1/products/",
         S(401, 201, 201, 201, 400, 400, 201, 400, 400), writes=1,
         body=lambda g: {"entity": g["xian_entity"].pk, "name": "新电缆",
                         "category": "electrical.cable"},
         attrs={"baoji": "entity", "xian_housing": "entity", "lab": "entity",
                "user_unit": "entity"}),
    Case("product:partial_update", "patch",
         lambda g: f"/api/v1/products/{g['products']['xian'].pk}/",
         S(401, 200, 200, 200, 404, 404, 200, 404, 404), writes=1,
         body=lambda g: {"model": "YJV-3×95"}),
    Case("product:history", "get",
         lambda g: f"/api/v1/products/{g['products']['xian'].pk}/history/",
         S(401, 200, 200, 200, 404, 404, 200, 404, 404)),
    # --- laboratories: public to read; regulators of the division write; a lab keeps
    #     its address and capacity ---------------------------------------------------------
    Case("lab:list", "get", lambda g: "/api/v1/labs/", key=name, expect=EVERYONE({XL, BL}),
         private=("monthly_capacity", CAPACITY_LIST)),
    Case("lab:retrieve", "get", lambda g: f"/api/v1/labs/{g['lab'].pk}/", ALL(200),
         private=("monthly_capacity", CAPACITY_XL), label="xian"),
    Case("lab:retrieve", "get", lambda g: f"/api/v1/labs/{g['baoji_lab'].pk}/", ALL(200),
         private=("monthly_capacity", CAPACITY_BL), label="baoji"),
    Case("lab:create", "post", lambda g: "/api/v1/labs/",
         S(401, 201, 201, 201, 403, 201, 403, 403, 403), writes=1,
         body=lambda g: {"name": "西安新检测中心", "uscc": uscc("610113", "LAB00001"),
                         "division": "610113", "cma_number": "240000000001"},
         attrs={"baoji": "division", "enterprise": None}),
    Case("lab:partial_update", "patch", lambda g: f"/api/v1/labs/{g['lab'].pk}/",
         S(401, 200, 200, 200, 403, 200, 403, 200, 403), writes=1, label="self-field",
         body=lambda g: {"monthly_capacity": 800}),
    Case("lab:partial_update", "patch", lambda g: f"/api/v1/labs/{g['lab'].pk}/",
         S(401, 200, 200, 200, 403, 200, 403, 403, 403), writes=1, label="regulator-field",
         body=lambda g: {"status": "suspended"}, attrs={"lab": "status"}),
    Case("lab:partial_update", "patch", lambda g: f"/api/v1/labs/{g['baoji_lab'].pk}/",
         S(401, 200, 200, 403, 200, 403, 403, 403, 403), writes=1, label="other-lab",
         body=lambda g: {"monthly_capacity": 900}),
    Case("lab:history", "get", lambda g: f"/api/v1/labs/{g['lab'].pk}/history/",
         S(401, 200, 200, 200, 200, 200, 403, 200, 403)),
    Case("lab:scopes", "post", lambda g: f"/api/v1/labs/{g['lab'].pk}/scopes/",
         S(401, 201, 201, 201, 403, 201, 403, 403, 403), writes=1,
         body=lambda g: {"standard": "GB/T 3956-2008", "parameter": "绝缘厚度",
                         "valid_from": "2024-01-01"}),
    Case("lab:scope_end", "post", scope_line,
         S(401, 200, 200, 200, 403, 200, 403, 403, 403), writes=1,
         body=lambda g: {"valid_to": "2025-12-31", "reason": "资质认定范围缩小"}),
    # --- user units: regulators of the division and the unit itself ---------------------
    Case("userunit:list", "get", lambda g: "/api/v1/user-units/", key=name, expect=L(
        None, {XU, BU}, {XU, BU}, {XU}, {BU}, {XU}, NONE, NONE, {XU})),
    Case("userunit:retrieve", "get", lambda g: f"/api/v1/user-units/{g['user_unit'].pk}/",
         S(401, 200, 200, 200, 404, 200, 404, 404, 200)),
    Case("userunit:create", "post", lambda g: "/api/v1/user-units/",
         S(401, 201, 201, 201, 403, 201, 403, 403, 403), writes=1,
         body=lambda g: {"name": "西安新建设集团", "uscc": uscc("610100", "UNT00001"),
                         "division": "610100", "sector": "construction"},
         attrs={"baoji": "division"}),
    Case("userunit:partial_update", "patch",
         lambda g: f"/api/v1/user-units/{g['user_unit'].pk}/",
         S(401, 200, 200, 200, 404, 200, 404, 404, 200), writes=1, label="self-field",
         body=lambda g: {"contact_phone": "029-88888888"}),
    Case("userunit:partial_update", "patch",
         lambda g: f"/api/v1/user-units/{g['user_unit'].pk}/",
         S(401, 200, 200, 200, 404, 200, 404, 404, 403), writes=1, label="regulator-field",
         body=lambda g: {"sector": "power"}, attrs={"user_unit": "sector"}),
    Case("userunit:history", "get", lambda g: f"/api/v1/user-units/{g['user_unit'].pk}/history/",
         S(401, 200, 200, 200, 404, 200, 404, 404, 200)),
    # --- inspectors: regulators of the division -----------------------------------------
    Case("inspector:list", "get", lambda g: "/api/v1/inspectors/", key=name, expect=L(
        None, {IP, IX, IB, IH}, {IP, IX, IB, IH}, {IX, IH}, {IB}, {IX, IH}, NONE, NONE, NONE)),
    Case("inspector:retrieve", "get",
         lambda g: f"/api/v1/inspectors/{g['inspectors']['xian'].pk}/",
         S(401, 200, 200, 200, 404, 200, 404, 404, 404)),
    Case("inspector:create", "post", lambda g: "/api/v1/inspectors/",
         S(401, 201, 201, 201, 403, 201, 403, 403, 403), writes=1,
         body=lambda g: {"name": "新检查员", "badge_number": "6101000099",
                         "department": g["departments"]["xian"].pk},
         attrs={"baoji": "department", "enterprise": None}),
    Case("inspector:partial_update", "patch",
         lambda g: f"/api/v1/inspectors/{g['inspectors']['xian'].pk}/",
         S(401, 200, 200, 200, 404, 200, 404, 404, 404), writes=1,
         body=lambda g: {"active": False}),
    # --- departments and the responsibility matrix: public reads, admin writes ----------
    Case("department:list", "get", lambda g: "/api/v1/departments/", key=name,
         expect=EVERYONE(DEPTS)),
    Case("department:retrieve", "get",
         lambda g: f"/api/v1/departments/{g['departments']['xian'].pk}/", ALL(200)),
    Case("department:create", "post", lambda g: "/api/v1/departments/",
         S(401, 201, 403, 403, 403, 403, 403, 403, 403), writes=1,
         body=lambda g: {"code": "610102-market", "name": "西安市新城区市场监督管理局",
                         "kind": "market", "level": "county", "division": "610102",
                         "all_sectors": True}),
    Case("department:partial_update", "patch",
         lambda g: f"/api/v1/departments/{g['departments']['xian'].pk}/",
         S(401, 200, 403, 403, 403, 403, 403, 403, 403), writes=1,
         body=lambda g: {"phone": "029-12345678"}),
    Case("responsibility:list", "get", lambda g: "/api/v1/responsibilities/",
         key=lambda r: (r["category"], r["level"], r["kind"], r["role"]),
         expect=EVERYONE({("electrical.cable", "province", "market", "lead"),
                          ("building.steel", "city", "housing", "lead")})),
    Case("responsibility:create", "post", lambda g: "/api/v1/responsibilities/",
         S(401, 201, 403, 403, 403, 403, 403, 403, 403), writes=1,
         body=lambda g: {"category": "building.steel", "level": "province", "kind": "housing",
                         "role": "assist"}),
    Case("responsibility:destroy", "delete",
         lambda g: f"/api/v1/responsibilities/{g['duties'][1].pk}/?reason=合并职责",
         S(401, 204, 403, 403, 403, 403, 403, 403, 403), writes=1),
    Case("responsibility:report", "get", lambda g: "/api/v1/responsibilities/report/",
         ALL(200)),
    # --- public reference data and public search ----------------------------------------
    Case("division:list", "get", lambda g: "/api/v1/divisions/", key=lambda r: r["code"],
         expect=EVERYONE(lambda g: Division.objects.values_list("code", flat=True))),
    Case("division:retrieve", "get", lambda g: "/api/v1/divisions/610113/", ALL(200)),
    Case("category:list", "get", lambda g: "/api/v1/categories/", key=lambda r: r["code"],
         expect=EVERYONE({"electrical", "electrical.cable", "building", "building.steel"})),
    Case("category:retrieve", "get", lambda g: "/api/v1/categories/electrical.cable/",
         ALL(200)),
    Case("standard:list", "get", lambda g: "/api/v1/standards/", key=lambda r: r["code"],
         expect=EVERYONE({"GB/T 3956-2008"})),
    Case("standard:retrieve", "get", lambda g: "/api/v1/standards/GB/T 3956-2008/", ALL(200)),
    Case("public-entity:list", "get", lambda g: "/api/v1/public/entities/?q=测试", key=name,
         expect=EVERYONE({XE, BE, XB})),
    Case("public-entity:retrieve", "get",
         lambda g: f"/api/v1/public/entities/{g['baoji_entity'].uscc}/", ALL(200)),
    Case("checkpoint:list", "get", lambda g: "/api/v1/public/audit/checkpoints/",
         key=lambda r: r["seq"], expect=EVERYONE({1000})),
    Case("checkpoint:retrieve", "get", lambda g: "/api/v1/public/audit/checkpoints/1000/",
         ALL(200)),
    Case("publickey:list", "get", lambda g: "/api/v1/public/keys/", key=lambda r: r["key_id"],
         expect=EVERYONE({"0123456789abcdef"})),
    Case("publickey:retrieve", "get", lambda g: "/api/v1/public/keys/0123456789abcdef/",
         ALL(200)),
    # --- outside the router ---------------------------------------------------------------
    Case("schema", "get", lambda g: "/api/v1/schema/", ALL(200)),
    Case("docs", "get", lambda g: "/api/v1/docs/", ALL(200)),
]
NOT_ROUTED = {"schema", "docs"}


@pytest.mark.parametrize(
    ("case", "who"),
    [pytest.param(c, p, id=f"{c.id}-{p}") for c in CASES for p in PERSONAS],
)
def test_matrix(case, who, grid, persona, api):
    user = persona(who)
    if user is not None:
        api.force_authenticate(user)
    url = case.url(grid)
    body = case.body(grid) if case.body else None
    before = fingerprint()

    if case.method in {"get", "delete"}:
        resp = getattr(api, case.method)(url)
    else:
        resp = getattr(api, case.method)(url, body, format=case.fmt)

    expected = case.status_for(who)
    assert resp.status_code == expected, resp.content.decode()[:500]
    after = fingerprint()
    if expected >= 400 or case.method == "get":
        assert after["audit_entries"] == before["audit_entries"]
        assert after == before
    else:
        assert after["audit_entries"] == before["audit_entries"] + case.writes
        assert after != before
    if expected >= 400:
        data = resp.json()
        assert data["type"] == ("validation_error" if expected == 400 else "client_error")
        assert data["errors"], data
        if who in case.attrs:
            assert data["errors"][0]["attr"] == case.attrs[who], data
    rows = case.rows_for(who, grid)
    if rows is not None:
        assert {case.key(r) for r in rows_of(resp.json())} == rows
    if case.private is not None:
        private, shown = case.private
        data = resp.json()
        records = rows_of(data) if isinstance(data, list) or "results" in data else [data]
        assert {r["name"] for r in records if private in r} == shown[who]


def _routed_actions() -> set[str]:
    """"<basename>:<action>" for every action the router exposes."""
    found = set()
    for _prefix, viewset, basename in router.registry:
        for route in router.get_routes(viewset):
            for method, action in route.mapping.items():
                if hasattr(viewset, action) and method != "options":
                    found.add(f"{basename}:{action}")
    return found


def test_every_endpoint_is_in_the_matrix():
    in_table = {c.action for c in CASES}
    # PUT (`update`) is not offered: partial updates only.
    routed = {a for a in _routed_actions() if not a.endswith(":update")}
    assert routed - in_table == set(), "add these endpoints to CASES"
    assert in_table - routed == NOT_ROUTED
    assert {c.action.split(":")[0] for c in CASES} - NOT_ROUTED == {
        basename for _, _, basename in router.registry}


def test_put_is_not_offered(grid, admin_user, api):
    api.force_authenticate(admin_user)
    before = fingerprint()
    resp = api.put(E(grid), {"name": "x"}, format="json")
    assert resp.status_code == 405
    assert resp.json()["errors"][0]["code"] == "method_not_allowed"
    assert fingerprint() == before


@pytest.mark.parametrize(("method", "suffix", "body"), [
    ("get", "", None), ("get", "history/", None), ("patch", "", {"address": "宝鸡"})])
def test_not_yours_is_indistinguishable_from_absent(method, suffix, body, grid, xian_officer,
                                                   api):
    api.force_authenticate(xian_officer)
    before = fingerprint()
    kw = {"format": "json"} if body else {}
    theirs = getattr(api, method)(f"/api/v1/entities/{grid['baoji_entity'].pk}/{suffix}",
                                  body, **kw)
    absent = getattr(api, method)(f"/api/v1/entities/{MISSING}/{suffix}", body, **kw)
    assert theirs.status_code == absent.status_code == 404
    assert theirs.content == absent.content
    assert fingerprint() == before


def test_product_filters_do_not_reveal_other_jurisdictions(grid, xian_officer, api):
    api.force_authenticate(xian_officer)
    theirs = api.get("/api/v1/products/", {"entity": grid["baoji_entity"].pk})
    absent = api.get("/api/v1/products/", {"entity": MISSING})
    assert theirs.status_code == absent.status_code == 200
    assert theirs.json() == absent.json() == {"count": 0, "next": None, "previous": None,
                                              "results": []}
    refused = api.post("/api/v1/products/", {"entity": grid["baoji_entity"].pk, "name": "x",
                                             "category": "building.steel"}, format="json",
                       HTTP_ACCEPT_LANGUAGE="en")
    missing = api.post("/api/v1/products/", {"entity": MISSING, "name": "x",
                                             "category": "building.steel"}, format="json",
                       HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == missing.status_code == 400
    assert refused.json()["errors"][0]["detail"].replace(str(grid["baoji_entity"].pk), "N") == \
        missing.json()["errors"][0]["detail"].replace(str(MISSING), "N")


@pytest.mark.parametrize(("categories", "status"), [
    (["building.steel", "building"], 200),  # within the housing bureau's sectors
    (["building.steel", "electrical.cable"], 403),  # adds a sector it does not supervise
    ([], 403),  # would drop the entity out of its sectors
])
def test_sector_department_changes_categories_only_within_its_sectors(
        categories, status, grid, xian_housing_officer, api):
    api.force_authenticate(xian_housing_officer)
    before = fingerprint()
    resp = api.patch(f"/api/v1/entities/{grid['xian_builder'].pk}/",
                     {"categories": categories}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == status, resp.content
    if status == 403:
        assert resp.json()["errors"] == [{
            "code": "permission_denied", "attr": "categories",
            "detail": "Your department supervises only its own sectors: give product "
                      "categories within them."}]
        assert fingerprint() == before
    else:
        assert set(grid["xian_builder"].categories.values_list("code", flat=True)) == set(
            categories)


def test_regulator_keeps_other_sectors_when_editing_its_own(grid, xian_housing_officer, api):
    """A multi-sector entity: the housing bureau may add a building category without
    touching the cable category it does not supervise."""
    cats = grid["categories"]
    grid["xian_builder"].categories.set([cats["steel"], cats["cable"]])
    api.force_authenticate(xian_housing_officer)
    resp = api.patch(f"/api/v1/entities/{grid['xian_builder'].pk}/",
                     {"categories": ["building.steel", "electrical.cable", "building"]},
                     format="json")
    assert resp.status_code == 200, resp.content


def test_moving_a_lab_or_user_unit_out_of_jurisdiction_is_refused(grid, xian_officer, api):
    api.force_authenticate(xian_officer)
    before = fingerprint()
    for url in (f"/api/v1/labs/{grid['lab'].pk}/", f"/api/v1/user-units/{grid['user_unit'].pk}/"):
        resp = api.patch(url, {"division": "610302"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
        assert resp.status_code == 403
        assert resp.json()["errors"] == [{"code": "permission_denied", "attr": "division",
                                          "detail": "Division 610302 is outside your "
                                                    "jurisdiction."}]
    assert fingerprint() == before


def test_destroying_a_duty_needs_a_reason(grid, admin_user, api):
    api.force_authenticate(admin_user)
    before = fingerprint()
    resp = api.delete(f"/api/v1/responsibilities/{grid['duties'][0].pk}/",
                      HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert resp.json()["errors"] == [{"code": "invalid", "attr": "reason",
                                      "detail": "Give the reason for removing this duty."}]
    assert fingerprint() == before


def test_history_lists_the_changes(grid, xian_officer, api):
    api.force_authenticate(xian_officer)
    url = E(grid)
    api.patch(url, {"address": "一号", "reason": "搬迁"}, format="json")
    api.patch(url, {"address": "二号"}, format="json")
    rows = api.get(url + "history/").json()
    assert [(r["action"], r["actor"], r["before"]["address"], r["after"]["address"],
             r["reason"]) for r in rows] == [
        ("entity.updated", "xian", "", "一号", "搬迁"),
        ("entity.updated", "xian", "一号", "二号", ""),
    ]
