"""The recalls API (/api/v1/recalls/, recall-items/, recall-notices/): the authorization
matrix of every endpoint and method for every persona (exact statuses, exact rows, and for
every refusal proof that nothing changed), bad input naming the field, and query-count
pins on the lists."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.api.conftest import PERSONAS, rows_of
from tests.api.matrix import Case, L, S, check_case
from tests.recalls.conftest import (
    CONTR_P,
    DISTR_WH,
    LOT,
    MAKER_PLANT,
    METRO_DEPOT,
    S1,
    S2,
    capture_chain,
)
from zhijian.accounts.models import User
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.recalls import services
from zhijian.recalls.api import router
from zhijian.recalls.models import Recall, RecallItem, RecallItemUpdate, RecallNotice
from zhijian.traceability.models import Place

MISSING = 10**9
NONE: set = set()


@pytest.fixture
def persona(request):
    from tests.api.conftest import _FIXTURE

    return lambda name: None if name == "anonymous" else request.getfixturevalue(_FIXTURE[name])


@pytest.fixture
def agrid(chain, xian_officer):
    """An open recall of the chain's batch (6 items, 4 notices) and a proposed recall of
    another batch of the maker (no events: no items)."""
    w = chain
    opened = services.recall_propose(actor=xian_officer, source_kind="manual",
                                     maker_id=w["maker"].pk, category_code="electrical.cable",
                                     lot=LOT, reason="监督抽查发现该批次导体电阻不合格。")
    services.recall_open(actor=xian_officer, recall_id=opened.pk, severity="1")
    proposed = services.recall_propose(actor=xian_officer, source_kind="manual",
                                       maker_id=w["maker"].pk,
                                       category_code="electrical.cable", lot="C2026-02",
                                       reason="同一工艺批次存在相同隐患。")
    return w | {"open": Recall.objects.get(pk=opened.pk), "proposed": proposed}


def fingerprint() -> dict:
    def rows(model):
        return list(model.objects.order_by("pk").values())

    return {"recalls": rows(Recall), "items": rows(RecallItem), "notices": rows(RecallNotice),
            "updates": rows(RecallItemUpdate), "places": rows(Place),
            "audit_entries": AuditEntry.objects.count(),
            "outbox_events": OutboxEvent.objects.count()}


def recall_url(key, suffix=""):
    return lambda g: f"/api/v1/recalls/{MISSING if key == 'missing' else g[key].pk}/{suffix}"


def item_url(place, suffix=""):
    return lambda g: f"/api/v1/recall-items/{g['open'].items.get(place=place).pk}/{suffix}"


def notice_url(which, suffix=""):
    def build(g):
        notices = g["open"].notices
        n = notices.get(role="maker") if which == "maker" else notices.get(user_unit=g["metro"])
        return f"/api/v1/recall-notices/{n.pk}/{suffix}"

    return build


number = lambda row: row["number"]  # noqa: E731
place = lambda row: row["place"]  # noqa: E731
addressee = lambda row: row["addressee"]  # noqa: E731
YEAR = timezone.localdate().year
OPEN, PROPOSED = f"ZJ-RC-{YEAR}-0001", f"ZJ-RC-{YEAR}-0002"
BOTH = {OPEN, PROPOSED}
ITEMS = {MAKER_PLANT, DISTR_WH, METRO_DEPOT, CONTR_P, S1, S2}
METRO_ITEMS = {METRO_DEPOT, S1, S2}
MAKER, DISTR, CONTR, METRO = ("西安测试电缆有限公司", "宝鸡测试线缆经销有限公司",
                              "西安测试机电安装有限公司", "西安测试地铁有限公司")
NOTICES = {MAKER, DISTR, CONTR, METRO}


CASES = [
    Case("recall:list", "get", lambda g: "/api/v1/recalls/", key=number, expect=L(
        None, BOTH, BOTH, BOTH, {OPEN}, NONE, {OPEN}, NONE, {OPEN})),
    Case("recall:retrieve", "get", recall_url("open"),
         expect=S(401, 200, 200, 200, 200, 404, 200, 404, 200)),
    Case("recall:retrieve", "get", recall_url("proposed"), label="proposed",
         expect=S(401, 200, 200, 200, 404, 404, 404, 404, 404)),
    Case("recall:create", "post", lambda g: "/api/v1/recalls/", writes=1,
         body=lambda g: {"maker": g["maker"].uscc, "category": "electrical.cable",
                         "lot": "C2026-77", "reason": "市民举报该批次电缆发热。"},
         expect=S(401, 403, 201, 201, 403, 403, 403, 403, 403)),
    Case("recall:open", "post", recall_url("proposed", "open/"), writes=1,
         body=lambda g: {"severity": "2"},
         expect=S(401, 403, 200, 200, 404, 404, 404, 404, 404)),
    Case("recall:dismiss", "post", recall_url("proposed", "dismiss/"), writes=1,
         body=lambda g: {"reason": "复检合格，原检测报告已撤销。"},
         expect=S(401, 403, 200, 200, 404, 404, 404, 404, 404)),
    Case("recall:refresh", "post", recall_url("open", "refresh/"), writes=1,
         expect=S(401, 403, 200, 200, 403, 404, 403, 404, 403)),
    Case("recall:complete", "post", recall_url("open", "complete/"), writes=1,
         body=lambda g: {"note": "生产者已停产，剩余产品由属地部门跟踪。"},
         expect=S(401, 403, 200, 200, 403, 404, 403, 404, 403)),
    Case("recall:items", "get", recall_url("open", "items/"), key=place, expect=L(
        None, ITEMS, ITEMS, ITEMS, ITEMS, 404, ITEMS, 404, METRO_ITEMS)),
    Case("recall-item:list", "get", lambda g: "/api/v1/recall-items/", key=place, expect=L(
        None, ITEMS, ITEMS, ITEMS, ITEMS, NONE, ITEMS, NONE, METRO_ITEMS)),
    Case("recall-item:retrieve", "get", item_url(S1),
         expect=S(401, 200, 200, 200, 200, 404, 200, 404, 200)),
    Case("recall-item:progress", "post", item_url(S1, "progress/"), writes=1,
         body=lambda g: {"status": "located", "located": "300"},
         expect=S(401, 403, 200, 200, 403, 404, 403, 404, 200)),
    Case("recall-notice:list", "get", lambda g: "/api/v1/recall-notices/", key=addressee,
         expect=L(None, NOTICES, NOTICES, NOTICES, NOTICES, NONE, NOTICES, NONE, {METRO})),
    Case("recall-notice:retrieve", "get", notice_url("metro"),
         expect=S(401, 200, 200, 200, 200, 404, 200, 404, 200)),
    Case("recall-notice:acknowledge", "post", notice_url("metro", "acknowledge/"), writes=1,
         expect=S(401, 403, 403, 403, 403, 404, 403, 404, 200)),
]


@pytest.mark.parametrize(
    ("case", "who"),
    [pytest.param(c, p, id=f"{c.id}-{p}") for c in CASES for p in PERSONAS],
)
def test_matrix(case, who, agrid, persona, api):
    check_case(case, who, agrid, persona(who), api, fingerprint)


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


def test_a_recall_not_yours_is_indistinguishable_from_absent(agrid, baoji_officer, api):
    api.force_authenticate(baoji_officer)
    before = fingerprint()
    theirs = api.post(recall_url("proposed", "open/")(agrid), {"severity": "1"},
                      format="json")
    absent = api.post(recall_url("missing", "open/")(agrid), {"severity": "1"},
                      format="json")
    assert theirs.status_code == absent.status_code == 404
    assert theirs.content == absent.content
    assert fingerprint() == before


def test_bad_input_names_the_field_and_changes_nothing(agrid, xian_officer, user_unit_user,
                                                       api):
    g = agrid
    before = fingerprint()
    api.force_authenticate(xian_officer)
    for target, body, attr in [
        (recall_url("proposed", "open/")(g), {"severity": "9"}, "severity"),
        (recall_url("proposed", "open/")(g), {"severity": "1", "reason": "短"}, "reason"),
        (recall_url("proposed", "dismiss/")(g), {"reason": ""}, "reason"),
        (recall_url("open", "complete/")(g), {}, "note"),
        ("/api/v1/recalls/", {"maker": "91610000XXXXXXXXXX", "category": "electrical.cable",
                              "lot": "X", "reason": "理由足够长的说明文字。"}, "maker"),
        ("/api/v1/recalls/", {"maker": g["maker"].uscc, "category": "electrical.cable",
                              "lot": "X", "gtin": "12345", "reason": "理由足够长的说明文字。"},
         "gtin"),
    ]:
        resp = api.post(target, body, format="json")
        assert resp.status_code == 400, resp.content
        data = resp.json()
        assert data["type"] == "validation_error"
        assert data["errors"][0]["attr"] == attr, data
    api.force_authenticate(user_unit_user)
    for body, attr in [({"status": "located", "located": "301"}, "located"),
                       ({"status": "removed", "located": "10", "removed": "20"}, "removed"),
                       ({"status": "gone"}, "status")]:
        resp = api.post(item_url(S1, "progress/")(g), body, format="json")
        assert resp.status_code == 400
        assert resp.json()["errors"][0]["attr"] == attr
    assert fingerprint() == before


def test_the_flow_through_the_api(agrid, xian_officer, user_unit_user, api):
    g = agrid
    api.force_authenticate(user_unit_user)
    ack = api.post(notice_url("metro", "acknowledge/")(g), {}, format="json")
    assert ack.status_code == 200 and ack.json()["acknowledged_at"]
    for place_, qty in ((METRO_DEPOT, "200"), (S1, "300"), (S2, "200")):
        resp = api.post(item_url(place_, "progress/")(g), {
            "status": "destroyed", "located": qty, "removed": qty, "destroyed": qty},
            format="json")
        assert resp.status_code == 200, resp.content
        assert resp.json()["status"] == "destroyed"
    api.force_authenticate(xian_officer)
    detail = api.get(recall_url("open")(g)).json()
    overall = [r for r in detail["rates"] if r["tier"] is None]
    assert overall == [{"tier": None, "uom": "MTR", "listed": "3000.000",
                        "removed": "700.000", "corrected": "700.000",
                        "removal_rate": "23.3", "correction_rate": "23.3", "items": 6,
                        "closed": 3}]
    assert (detail["item_count"], detail["closed_count"]) == (6, 3)


@pytest.fixture
def crowd(agrid, xian_officer):
    """More recalls, items and notices: five further batches traced and opened."""
    for n in range(5):
        lot = f"C2026-1{n}"
        capture_chain(agrid, lot=lot, base=100 * (n + 1))
        r = services.recall_propose(actor=xian_officer, source_kind="manual",
                                    maker_id=agrid["maker"].pk,
                                    category_code="electrical.cable", lot=lot,
                                    reason="同一工艺批次存在相同隐患。")
        services.recall_open(actor=xian_officer, recall_id=r.pk, severity="2",
                             now=None)
    return agrid


PINS = [
    ("/api/v1/recalls/", "xian_officer", 8, 7),
    ("/api/v1/recalls/", "enterprise_user", 8, 6),
    ("/api/v1/recall-items/", "xian_officer", 6, 36),
    ("/api/v1/recall-items/", "user_unit_user", 6, 18),
    ("/api/v1/recall-notices/", "xian_officer", 6, 24),
    ("/api/v1/recall-notices/", "enterprise_user", 6, 24),
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


def test_the_schema_documents_the_recall_endpoints(api, admin_user):
    api.force_authenticate(admin_user)
    schema = api.get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    for path in ["/api/v1/recalls/", "/api/v1/recalls/{id}/open/",
                 "/api/v1/recalls/{id}/dismiss/", "/api/v1/recalls/{id}/items/",
                 "/api/v1/recall-items/{id}/progress/",
                 "/api/v1/recall-notices/{id}/acknowledge/"]:
        assert path in paths, path
