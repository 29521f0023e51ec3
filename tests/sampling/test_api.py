"""The sampling API (/api/v1/sampling-plans/, samples/, disposals/, batch-results/,
public/sampling-results/): the authorization matrix of every endpoint and method for every
persona (exact statuses, exact rows, and for every refusal proof that nothing changed),
bad input naming the field, the whole flow through the API, and query-count pins."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.conftest import _FIXTURE, PERSONAS, rows_of
from tests.api.matrix import ALL, EVERYONE, Case, L, S, check_case
from tests.reports.helpers import issue_report
from tests.sampling.conftest import P1, P2, P3, S1, S2, S3, S4, deliver, fingerprint, record
from zhijian.accounts.models import User
from zhijian.core import events
from zhijian.sampling.api import router
from zhijian.sampling.models import Sample, SamplingPlan

MISSING = 10**9
NONE: set = set()
JPEG = b"\xff\xd8\xff\xe0 a photo of the sealed sample"


@pytest.fixture
def persona(request):
    return lambda name: None if name == "anonymous" else request.getfixturevalue(_FIXTURE[name])


code = lambda row: row["code"]  # noqa: E731
PLAN_VIEW = S(401, 200, 200, 200, 404, 404, 404, 404, 404)
DEPT_WRITE = S(401, 200, 403, 200, 404, 404, 404, 404, 404)
SAMPLE_VIEW = S(401, 200, 200, 200, 404, 404, 404, 200, 404)


def url(prefix, g, key=None, suffix=""):
    return f"/api/v1/{prefix}/{g[key].pk if key else MISSING}/{suffix}"


def new_plan_body(g):
    return {"title": "2027年西安市电线电缆监督抽查", "department": g["departments"]["xian"].pk,
            "categories": ["electrical.cable"], "division_prefixes": ["6101"],
            "entities": [g["xian_entity"].uscc], "online": True,
            "period_start": "2026-11-01", "period_end": "2026-12-31", "target_count": 10}


def new_sample_body(g):
    return {"plan": g["p1"].pk, "entity": g["xian_entity"].uscc, "product_name": "电力电缆",
            "model": "YJV 3×95", "category": "electrical.cable", "batch": "B-9",
            "quantity": "30", "unit": "m", "place": "西安市雁塔区测试路1号",
            "seal_number": "FY-9", "sampled_at": "2026-11-05T10:00:00+08:00",
            "lab": g["lab"].pk}


def with_status(expect: dict, ok: int) -> dict:
    return {who: ok if status == 200 else status for who, status in expect.items()}


def photo_body(g):
    return {"file": SimpleUploadedFile("封样.jpg", JPEG, "image/jpeg")}


CASES = [
    # --- plans --------------------------------------------------------------------------
    Case("sampling-plan:list", "get", lambda g: "/api/v1/sampling-plans/", key=code,
         expect=L(None, {P1, P2, P3}, {P1, P2, P3}, {P1, P2}, {P3}, {P2}, NONE, NONE, NONE)),
    Case("sampling-plan:retrieve", "get", lambda g: url("sampling-plans", g, "p1"), PLAN_VIEW),
    Case("sampling-plan:retrieve", "get", lambda g: url("sampling-plans", g), ALL(404) | {
        "anonymous": 401}, label="missing"),
    Case("sampling-plan:create", "post", lambda g: "/api/v1/sampling-plans/",
         S(401, 201, 403, 201, 403, 403, 403, 403, 403), body=new_plan_body, writes=1,
         attrs={who: "department" for who in ("province", "baoji", "xian_housing",
                                              "enterprise", "lab", "user_unit")}),
    Case("sampling-plan:partial_update", "patch", lambda g: url("sampling-plans", g, "p2"),
         S(401, 200, 403, 200, 404, 403, 404, 404, 404), writes=1,
         body=lambda g: {"title": "2026年西安市钢筋产品质量监督抽查"}),
    Case("sampling-plan:activate", "post", lambda g: url("sampling-plans", g, "p2",
                                                           "activate/"),
         S(401, 200, 403, 200, 404, 403, 404, 404, 404), writes=1),
    Case("sampling-plan:close", "post", lambda g: url("sampling-plans", g, "p1", "close/"),
         DEPT_WRITE, writes=1),
    Case("sampling-plan:activate", "post", lambda g: url("sampling-plans", g, "p1",
                                                           "activate/"),
         with_status(DEPT_WRITE, 400), label="already-active",
         attrs={"admin": "non_field_errors", "xian": "non_field_errors"}),
    # --- samples ------------------------------------------------------------------------
    Case("sample:list", "get", lambda g: "/api/v1/samples/", key=code,
         expect=L(None, {S1, S2, S3, S4}, {S1, S2, S3, S4}, {S1, S2, S3, S4}, NONE, NONE,
                  {S1, S3}, {S1, S2, S3, S4}, NONE)),
    Case("sample:retrieve", "get", lambda g: url("samples", g, "s2"), SAMPLE_VIEW,
         label="unpublished"),
    Case("sample:retrieve", "get", lambda g: url("samples", g, "s1"),
         S(401, 200, 200, 200, 404, 404, 200, 200, 404), label="published"),
    Case("sample:create", "post", lambda g: "/api/v1/samples/",
         S(401, 403, 403, 201, 404, 404, 404, 404, 404), body=new_sample_body, writes=1),
    Case("sample:give", "post", lambda g: url("samples", g, "s2", "give/"),
         S(401, 403, 403, 201, 404, 404, 404, 403, 404), writes=1,
         body=lambda g: {"to_user": "lab", "note": "专人送检"}),
    Case("sample:give", "post", lambda g: url("samples", g, "s4", "give/"),
         S(401, 403, 403, 400, 404, 404, 404, 400, 404), label="hand-over-waiting",
         body=lambda g: {"to_user": "xian2"},
         attrs={"xian": "non_field_errors", "lab": "non_field_errors"}),
    Case("sample:receive", "post", lambda g: url("samples", g, "s4", "receive/"),
         S(401, 403, 403, 403, 404, 404, 404, 200, 404), writes=1,
         body=lambda g: {"seal_intact": True, "seal_number_seen": "FY-4"}),
    Case("sample:photos", "post", lambda g: url("samples", g, "s2", "photos/"),
         S(401, 403, 403, 201, 404, 404, 404, 201, 404), writes=1, body=photo_body,
         fmt="multipart"),
    # --- disposals ----------------------------------------------------------------------
    Case("disposal:list", "get", lambda g: "/api/v1/disposals/", key=lambda r: r["report_number"],
         expect=L(None, {"BG-3"}, {"BG-3"}, {"BG-3"}, NONE, NONE, NONE, NONE, NONE)),
    Case("disposal:retrieve", "get", lambda g: url("disposals", g, "d1"), PLAN_VIEW),
    Case("disposal:decide", "post", lambda g: url("disposals", g, "d1", "decide/"),
         S(401, 403, 403, 200, 404, 404, 404, 404, 404), writes=1,
         body=lambda g: {"kind": "rectification", "decision": "责令整改并召回该批次"}),
    Case("disposal:close", "post", lambda g: url("disposals", g, "d1", "close/"),
         S(401, 403, 403, 400, 404, 404, 404, 404, 404), label="not-decided",
         body=lambda g: {"note": "复查合格"}, attrs={"xian": "non_field_errors"}),
    # --- batch results: every regulator ------------------------------------------------
    Case("batch-result:list", "get",
         lambda g: f"/api/v1/batch-results/?uscc={g['xian_entity'].uscc}&batch=B-1",
         key=lambda r: r["number"],
         expect=L(None, {"BG-1"}, {"BG-1"}, {"BG-1"}, {"BG-1"}, {"BG-1"}, 403, 403, 403)),
    # --- public results ------------------------------------------------------------------
    Case("public-sampling-result:list", "get", lambda g: "/api/v1/public/sampling-results/",
         key=code, expect=EVERYONE({S1, S3})),
    Case("public-sampling-result:retrieve", "get",
         lambda g: url("public/sampling-results", g, "s3"), ALL(200)),
    Case("public-sampling-result:retrieve", "get",
         lambda g: url("public/sampling-results", g, "s2"), ALL(404), label="not-published"),
]


@pytest.mark.parametrize(
    ("case", "who"),
    [pytest.param(c, p, id=f"{c.id}-{p}") for c in CASES for p in PERSONAS],
)
def test_matrix(case, who, sgrid, persona, api):
    check_case(case, who, sgrid, persona(who), api, fingerprint)


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


def test_put_and_delete_are_not_offered(sgrid, admin_user, api):
    api.force_authenticate(admin_user)
    before = fingerprint()
    for method, target in [("put", url("sampling-plans", sgrid, "p2")),
                           ("delete", url("sampling-plans", sgrid, "p2")),
                           ("patch", url("samples", sgrid, "s2")),
                           ("delete", url("samples", sgrid, "s2")),
                           ("patch", url("disposals", sgrid, "d1")),
                           ("post", "/api/v1/batch-results/")]:
        resp = getattr(api, method)(target, {}, format="json")
        assert resp.status_code == 405, (method, target)
    assert fingerprint() == before


@pytest.mark.parametrize("suffix", ["", "give/", "receive/", "photos/"])
def test_a_sample_not_yours_is_indistinguishable_from_absent(suffix, sgrid, baoji_officer,
                                                              api):
    api.force_authenticate(baoji_officer)
    before = fingerprint()
    method = api.post if suffix else api.get
    theirs = method(url("samples", sgrid, "s2", suffix))
    absent = method(url("samples", sgrid, None, suffix))
    assert theirs.status_code == absent.status_code == 404
    assert theirs.content == absent.content
    assert fingerprint() == before


def errors(resp) -> list[tuple[str | None, str]]:
    return [(e["attr"], e["detail"]) for e in resp.json()["errors"]]


def test_service_refusals_are_403_with_their_message(sgrid, province_officer, api):
    api.force_authenticate(province_officer)
    before = fingerprint()
    resp = api.post(url("samples", sgrid, "s2", "give/"), {"to_user": "lab"}, format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert resp.json() == {"type": "client_error", "errors": [{
        "code": "permission_denied", "attr": None,
        "detail": "Only the current holder of the sample can hand it over."}]}
    resp = api.post(url("disposals", sgrid, "d1", "decide/"),
                    {"kind": "case", "decision": "立案"}, format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [(None, "Only officers of 西安市市场监督管理局 decide this follow-up.")]
    assert fingerprint() == before


def test_bad_sample_input_names_the_fields(sgrid, xian_officer, api):
    api.force_authenticate(xian_officer)
    before = fingerprint()
    resp = api.post("/api/v1/samples/", new_sample_body(sgrid) | {
        "batch": "B-1", "lab": sgrid["baoji_lab"].pk}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert errors(resp) == [("lab", "宝鸡测试检测中心 holds no accreditation scope line valid "
                                    "on 2026-11-05 for a standard of 电线电缆; assign a lab "
                                    "accredited to test it.")]
    resp = api.post("/api/v1/samples/", new_sample_body(sgrid) | {
        "batch": "B-1", "sampled_at": "2026-11-20T10:00:00+08:00"},
        format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("batch", "Batch B-1 of 西安测试电缆有限公司 already has a "
                                      "recognised supervisory result: report BG-1 by "
                                      "西安测试检测中心, issued on 2026-11-10 (recognised for "
                                      "180 days). Give a reason to sample it again.")]
    resp = api.post("/api/v1/samples/", new_sample_body(sgrid) | {
        "entity": "91610000XXXXXXXXXX", "quantity": "-1", "sampled_at": "yesterday"},
        format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert [a for a, _ in errors(resp)] == ["entity", "sampled_at"]
    resp = api.post(url("samples", sgrid, "s2", "give/"), {"to_user": "nobody"}, format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("to_user", "Object with username=nobody does not exist.")]
    resp = api.post(url("samples", sgrid, "s2", "receive/"), {}, format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("non_field_errors",
                             "No hand-over of this sample is waiting to be received.")]
    resp = api.post(url("samples", sgrid, "s2", "photos/"), {}, format="multipart",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("file", "Attach the photo.")]
    assert fingerprint() == before


def test_batch_results_need_both_keys(sgrid, baoji_officer, api):
    api.force_authenticate(baoji_officer)
    resp = api.get("/api/v1/batch-results/", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert errors(resp) == [("uscc", "Give the producer's unified social credit code."),
                            ("batch", "Give the batch number.")]
    resp = api.get("/api/v1/batch-results/", {"uscc": sgrid["xian_entity"].uscc.lower(),
                                              "batch": "B-3"})
    row = resp.json()[0]
    assert {k: row[k] for k in ("number", "lab_name", "batch", "issued_on", "conclusion",
                                "status", "recognised_until", "sample_code")} == {
        "number": "BG-3", "lab_name": "西安测试检测中心", "batch": "B-3",
        "issued_on": "2026-11-10", "conclusion": "fail", "status": "issued",
        "recognised_until": "2027-05-09", "sample_code": S3}
    assert row["verify_url"] == "http://testserver/verify/BG-3/"


def test_the_whole_flow_through_the_api(sworld, xian_officer, courier, lab_user, api):
    w = sworld
    api.force_authenticate(xian_officer)
    body = {k: v for k, v in new_plan_body(w).items() if k != "department"}
    resp = api.post("/api/v1/sampling-plans/", body | {"department": None}, format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("department", "This field may not be null.")]
    resp = api.post("/api/v1/sampling-plans/", body, format="json")
    assert resp.status_code == 201, resp.content
    plan = resp.json()
    assert (plan["code"], plan["status"], plan["department_name"], plan["entities"],
            plan["sample_count"]) == (P1, "draft", "西安市市场监督管理局",
                                      [w["xian_entity"].uscc], 0)
    purl = f"/api/v1/sampling-plans/{plan['id']}/"
    assert api.patch(purl, {"target_count": 12}, format="json").json()["target_count"] == 12
    assert api.post(purl + "activate/").json()["status"] == "active"

    resp = api.post("/api/v1/samples/", new_sample_body(w | {"p1": SamplingPlan.objects.get(
        pk=plan["id"])}), format="json")
    assert resp.status_code == 201, resp.content
    sample = resp.json()
    assert (sample["code"], sample["status"], sample["lab_name"], sample["custody_intact"],
            sample["custody_problems"]) == (
        S1, "sampled", "西安测试检测中心", False,
        ["样品由 xian 持有，其不是指定检验机构的用户：请将样品移交检验机构。"])
    surl = f"/api/v1/samples/{sample['id']}/"
    resp = api.post(surl + "photos/", {"file": SimpleUploadedFile("封样.jpg", JPEG)},
                    format="multipart")
    assert resp.json()["sha256"] == hashlib.sha256(JPEG).hexdigest()
    resp = api.post(surl + "give/", {"to_user": "xian2", "note": "送检"}, format="json")
    assert (resp.status_code, resp.json()["position"], resp.json()["received_by"]) == (
        201, 1, "xian2")
    api.force_authenticate(courier)
    resp = api.post(surl + "receive/", {"seal_intact": True, "seal_number_seen": "FY-9"},
                    format="json")
    assert resp.status_code == 200, resp.content
    api.post(surl + "give/", {"to_user": "lab"}, format="json")
    api.force_authenticate(lab_user)
    assert sample["id"] in {r["id"] for r in rows_of(api.get("/api/v1/samples/").json())}
    resp = api.post(surl + "receive/", {"seal_intact": True, "seal_number_seen": "FY-9"},
                    format="json")
    assert resp.status_code == 200, resp.content
    detail = api.get(surl).json()
    assert (detail["status"], detail["custody_intact"], detail["custody_problems"],
            [(h["given_by"], h["received_by"]) for h in detail["handovers"]],
            len(detail["photos"])) == (
        "received", True, [], [("xian", "xian2"), ("xian2", "lab")], 1)

    s = Sample.objects.get(pk=sample["id"])
    issue_report(lab=s.lab, producer=s.producer, category=s.category, standard=w["standard"],
                 batch=s.batch, sample=s, conclusion="fail", number="BG-9",
                 issued_on=dt.date(2026, 11, 10))
    events.drain()
    api.force_authenticate(None)
    results = api.get("/api/v1/public/sampling-results/", {"q": w["xian_entity"].uscc}).json()
    assert results["count"] == 1
    row = results["results"][0]
    assert (row["code"], row["result"], row["report_number"], row["report_revoked"],
            row["verify_url"], row["duplicate"]) == (
        S1, "fail", "BG-9", False, "http://testserver/verify/BG-9/", False)
    assert row["failing_items"] == [{"parameter": "导体电阻", "requirement": "≤1.83 Ω/km",
                                     "measured": "2.41", "unit": "Ω/km"}]
    api.force_authenticate(xian_officer)
    disposal = rows_of(api.get("/api/v1/disposals/").json())[0]
    assert (disposal["status"], disposal["sample_code"], disposal["entity"]["uscc"]) == (
        "open", S1, w["xian_entity"].uscc)
    durl = f"/api/v1/disposals/{disposal['id']}/"
    resp = api.post(durl + "decide/", {"kind": "case", "decision": "立案调查"}, format="json")
    assert (resp.json()["status"], resp.json()["kind"]) == ("decided", "case")
    resp = api.post(durl + "close/", {"note": "已作出行政处罚决定"}, format="json")
    assert resp.json()["status"] == "closed"


def test_public_results_search(sgrid, api):
    q = "/api/v1/public/sampling-results/"

    def found(**params):
        return sorted(r["code"] for r in api.get(q, params).json()["results"])

    assert found() == [S1, S3]
    assert found(q="测试电缆") == [S1, S3]
    assert found(q="宝鸡") == []
    assert found(result="fail") == [S3]
    assert found(result="pass") == [S1]
    assert found(category="electrical") == [S1, S3]
    assert found(category="building") == []
    assert found(division="610100") == [S1, S3]
    assert found(division="6103") == []
    assert found(result_from="2026-11-10", result_to="2026-11-10") == [S1, S3]
    assert found(result_from="2026-11-11") == []
    resp = api.get(q, {"result_from": "2026-02-30"}, HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("result_from", "Enter a valid date.")]


# --- query-count pins ------------------------------------------------------------------------

@pytest.fixture
def crowd(sgrid, xian_officer, lab_user):
    w = sgrid
    for i in range(6):
        s = record(w, w["p1"], xian_officer, batch=f"C-{i}", seal_number=f"FY-C{i}")
        deliver(s, xian_officer, lab_user)
        s.refresh_from_db()
        issue_report(lab=s.lab, producer=s.producer, category=s.category,
                     standard=w["standard"], batch=s.batch, sample=s,
                     conclusion="fail" if i % 2 else "pass", number=f"BG-C{i}",
                     issued_on=dt.date(2026, 11, 12))
    events.drain()
    return w


PINS = [
    ("/api/v1/sampling-plans/", "admin_user", 5, 3),
    ("/api/v1/sampling-plans/", "xian_housing_officer", 8, 1),
    ("/api/v1/samples/", "admin_user", 3, 10),
    ("/api/v1/samples/", "xian_officer", 5, 10),
    ("/api/v1/samples/", "lab_user", 4, 10),
    ("/api/v1/disposals/", "xian_officer", 4, 4),
    ("/api/v1/batch-results/?uscc={uscc}&batch=C-1", "baoji_officer", 4, 1),
    ("/api/v1/public/sampling-results/", None, 4, 8),
]


@pytest.mark.parametrize(("path", "who", "most", "rows"), PINS,
                         ids=[f"{p}-{w or 'anonymous'}" for p, w, _, _ in PINS])
def test_list_query_count(path, who, most, rows, crowd, api, request,
                          django_assert_max_num_queries):
    if who:
        user = User.objects.get(pk=request.getfixturevalue(who).pk)  # no cached scope
        api.force_authenticate(user)
    target = path.format(uscc=crowd["xian_entity"].uscc)
    with django_assert_max_num_queries(most):
        resp = api.get(target)
    assert resp.status_code == 200
    assert len(rows_of(resp.json())) == rows


def test_every_list_endpoint_is_pinned():
    lists = {f"/api/v1/{prefix}/" for prefix, viewset, _ in router.registry
             if hasattr(viewset, "list")}
    assert lists - {p.split("?")[0] for p, *_ in PINS} == set()

