"""Outside systems (a tendering platform) make credit checks with a credit service key:
POST /api/v1/credit/checks/ stores the check under the key, answers from public data only
(list-triggered measures, no class), and the key lists only its own checks."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.credit.test_measures_services import day, declare, list_entity, rate
from tests.factories import EntityFactory
from zhijian.credit import tokens
from zhijian.credit.models import CreditCheck

pytestmark = pytest.mark.django_db

CHECKS = "/api/v1/credit/checks/"


@pytest.fixture(autouse=True)
def _clear():
    cache.clear()


@pytest.fixture
def key(admin_user):
    return tokens.token_create(actor=admin_user, name="公共资源交易平台（测试）")


def _bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def firms(world, province_officer):
    declare(province_officer, code="bar_tender", contexts=["tender"])
    declare(province_officer, code="more_inspections", trigger="class_d", effect="block",
            contexts=["tender"])
    listed = EntityFactory(division_id="610113")
    list_entity(listed, world["departments"]["xian"], since=day(-10), until=day(300))
    rate(listed, "D")
    only_d = EntityFactory(division_id="610113")
    rate(only_d, "D")
    return listed, only_d


def test_a_key_checks_a_bid_and_the_check_is_stored_under_it(client, firms, key):
    token, raw = key
    listed, _only_d = firms
    resp = client.post(CHECKS, {"uscc": listed.uscc, "context": "tender",
                                "reference": "ZB-2026-0001"},
                       content_type="application/json", **_bearer(raw))
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert (data["outcome"], data["blacklisted"], data["risk_class"], data["token"]) == (
        "blocked", True, "", token.pk)
    assert [m["code"] for m in data["measures"]] == ["bar_tender"]
    assert data["measures"][0]["reason"] == data["measures"][0]["public_reason"]
    check = CreditCheck.objects.get(pk=data["id"])
    assert (check.token_id, check.requested_by_id, check.risk_class, check.reference) == (
        token.pk, None, "", "ZB-2026-0001")


def test_a_key_never_learns_the_class(client, firms, key):
    _token, raw = key
    _listed, only_d = firms
    resp = client.post(CHECKS, {"uscc": only_d.uscc, "context": "tender"},
                       content_type="application/json", **_bearer(raw))
    assert resp.status_code == 201
    assert (resp.json()["outcome"], resp.json()["measures"], resp.json()["risk_class"]) == (
        "clear", [], "")


def test_an_officer_sees_the_class_measure(client, firms, xian_officer):
    _listed, only_d = firms
    client.force_login(xian_officer)
    resp = client.post(CHECKS, {"uscc": only_d.uscc, "context": "tender"},
                       content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 201
    assert (resp.json()["outcome"], resp.json()["risk_class"]) == ("blocked", "D")
    assert [m["code"] for m in resp.json()["measures"]] == ["more_inspections"]


def test_a_key_lists_only_its_own_checks(client, firms, key, admin_user, xian_officer):
    token, raw = key
    listed, only_d = firms
    _other, raw2 = tokens.token_create(actor=admin_user, name="另一平台")
    for r, uscc in ((raw, listed.uscc), (raw2, only_d.uscc)):
        assert client.post(CHECKS, {"uscc": uscc, "context": "tender"},
                           content_type="application/json", **_bearer(r)).status_code == 201
    resp = client.get(CHECKS, **_bearer(raw))
    assert resp.status_code == 200
    assert [r["uscc"] for r in resp.json()["results"]] == [listed.uscc]


def test_a_revoked_key_cannot_check_and_nothing_is_stored(client, firms, key, admin_user):
    token, raw = key
    tokens.token_revoke(actor=admin_user, token_id=token.pk, reason="合同终止")
    resp = client.post(CHECKS, {"uscc": firms[0].uscc, "context": "tender"},
                       content_type="application/json", **_bearer(raw))
    assert resp.status_code == 401
    assert CreditCheck.objects.count() == 0
