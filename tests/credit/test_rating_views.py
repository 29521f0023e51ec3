"""Pages and API of the credit class: the overview, the credit file with its explanation
and the rating as of a past day, the firm's own file, supervision by class, sampling
priority; each with its access matrix and query pins."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories as f
from zhijian.core import events
from zhijian.credit.models import CreditRating, RatingChange
from zhijian.credit.services import rating as svc
from zhijian.credit.services.records import record_create
from zhijian.sampling.models import SamplingPlan

TODAY = timezone.localdate()


def add(entity, kind, days_ago, n):
    return record_create(entity=entity, kind=kind, date=TODAY - dt.timedelta(days=days_ago),
                         source_type="test.source", source_id=str(n), source_ref=f"SRC-{n}")


@pytest.fixture
def rated(world):
    """The Xi'an firm is D (a forged report), the Baoji firm A (an award)."""
    fake = add(world["xian_entity"], "fake_report", 5, 1)
    add(world["xian_entity"], "sampling_passed", 800, 2)  # expired
    add(world["baoji_entity"], "award", 10, 3)
    events.drain()
    return {**world, "fake": fake}


def login(client, user):
    client.force_login(user)
    return client


# --- overview -------------------------------------------------------------------------------

def test_home_counts_classes_in_the_jurisdiction(client, rated, xian_officer):
    resp = login(client, xian_officer).get(reverse("credit:home"))
    assert resp.status_code == 200
    assert resp.context["classes"] == [("A", 0), ("B", 0), ("C", 0), ("D", 1)]
    assert [e.uscc for e in resp.context["page"]] == [rated["xian_entity"].uscc]
    assert [(c.from_class, c.to_class) for c in resp.context["changes"]] == []  # first rating


def test_home_province_filters_by_class(client, rated, province_officer):
    c = login(client, province_officer)
    resp = c.get(reverse("credit:home"))
    assert resp.context["classes"] == [("A", 1), ("B", 0), ("C", 0), ("D", 1)]
    resp = c.get(reverse("credit:home"), {"risk_class": "A"})
    assert [e.uscc for e in resp.context["page"]] == [rated["baoji_entity"].uscc]


def test_home_lists_class_changes(client, rated, xian_officer):
    from zhijian.credit.services.records import record_withdraw

    record_withdraw(record_id=rated["fake"].pk, reason="撤销")
    events.drain()
    resp = login(client, xian_officer).get(reverse("credit:home"))
    assert [(c.from_class, c.to_class) for c in resp.context["changes"]] == [("D", "B")]


def test_home_access(client, rated, enterprise_user, lab_user):
    assert client.get(reverse("credit:home")).status_code == 302
    resp = login(client, enterprise_user).get(reverse("credit:home"))
    assert resp.status_code == 302 and resp.url == reverse("credit:mine")
    assert login(client, lab_user).get(reverse("credit:home")).status_code == 403


def test_home_query_pin(client, world, province_officer, django_assert_max_num_queries):
    for _ in range(30):
        e = f.EntityFactory()
        svc.entity_rerate(entity_id=e.pk, trigger="test")
    c = login(client, province_officer)
    c.get(reverse("credit:home"))
    with django_assert_max_num_queries(12):
        resp = c.get(reverse("credit:home"))
    assert len(resp.context["page"]) == 32


# --- the credit file ------------------------------------------------------------------------

def test_file_explains_every_record(client, rated, xian_officer):
    firm = rated["xian_entity"]
    resp = login(client, xian_officer).get(reverse("credit:entity", args=[firm.uscc]))
    assert resp.status_code == 200
    rows = [(r["kind"], r["counted"], r["points"], r["reason"])
            for r in resp.context["contributions"]]
    assert rows == [("sampling_passed", False, 0, "expired"), ("fake_report", True, -40, None)]
    assert [h["id"] for h in resp.context["hard"]] == ["severe_open"]
    assert [r["key"] for r in resp.context["rule_rows"]] == [
        "credit.record_kinds", "credit.classes", "credit.blacklist_criteria",
        "credit.supervision", "inspections.default_ratios"]
    assert "国家市场监督管理总局令第44号" in resp.content.decode()
    assert resp.context["stored"].risk_class == "D"
    assert len(resp.context["history"]) == 1
    assert resp.context["stale"] is False


def test_file_as_of(client, rated, xian_officer):
    firm = rated["xian_entity"]
    url = reverse("credit:entity", args=[firm.uscc])
    c = login(client, xian_officer)
    resp = c.get(url, {"as_of": TODAY.isoformat()})
    assert resp.status_code == 200
    as_of = resp.context["as_of"]
    assert (as_of.rating.risk_class, as_of.rating.score, as_of.matches) == ("D", 60, True)
    assert 'data-match="yes"' in resp.content.decode()
    yesterday = c.get(url, {"as_of": (TODAY - dt.timedelta(days=1)).isoformat()})
    assert yesterday.context["as_of"].matches is None  # records entered today
    assert yesterday.context["as_of"].rating.score == 100
    bad = c.get(url, {"as_of": "2026-02-30"})
    assert bad.status_code == 400 and "as_of" in bad.context["form"].errors
    early = c.get(url, {"as_of": "2019-01-01"})
    assert early.status_code == 400 and "as_of" in early.context["form"].errors


@pytest.mark.parametrize("who,status", [
    ("admin_user", 200), ("province_officer", 200), ("xian_officer", 200),
    ("baoji_officer", 404), ("enterprise_user", 200), ("lab_user", 404),
    ("user_unit_user", 404)])
def test_file_access_matrix(client, rated, request, who, status):
    user = request.getfixturevalue(who)
    firm = rated["xian_entity"]
    before = list(CreditRating.objects.values_list("entity_id", "risk_class", "score"))
    resp = login(client, user).get(reverse("credit:entity", args=[firm.uscc]))
    assert resp.status_code == status
    assert list(CreditRating.objects.values_list("entity_id", "risk_class", "score")) == before


def test_file_of_another_firm_is_404_for_an_enterprise(client, rated, enterprise_user):
    resp = login(client, enterprise_user).get(
        reverse("credit:entity", args=[rated["baoji_entity"].uscc]))
    assert resp.status_code == 404


def test_file_anonymous_goes_to_login(client, rated):
    resp = client.get(reverse("credit:entity", args=[rated["xian_entity"].uscc]))
    assert resp.status_code == 302


def test_mine(client, rated, enterprise_user, xian_officer, lab_user):
    resp = login(client, enterprise_user).get(reverse("credit:mine"))
    assert resp.status_code == 200 and resp.context["entity"] == rated["xian_entity"]
    assert resp.context["own"] is True
    resp = login(client, xian_officer).get(reverse("credit:mine"))
    assert resp.status_code == 302 and resp.url == reverse("credit:home")
    assert login(client, lab_user).get(reverse("credit:mine")).status_code == 404


# --- supervision ----------------------------------------------------------------------------

def test_supervision_per_class(client, rated, province_officer):
    resp = login(client, province_officer).get(reverse("credit:supervision"))
    assert resp.status_code == 200
    rows = {r["class"]: r for r in resp.context["rows"]}
    assert [(c, rows[c]["ratio_bp"], rows[c]["priority"], rows[c]["count"]) for c in "ABCD"] == [
        ("A", 300, 4, 1), ("B", 500, 3, 0), ("C", 1000, 2, 0), ("D", 10000, 1, 1)]
    assert len(rows["D"]["measures"]) == 6
    assert "国市监信发〔2022〕6号" in resp.content.decode()


def test_supervision_access(client, rated, enterprise_user):
    assert client.get(reverse("credit:supervision")).status_code == 302
    assert login(client, enterprise_user).get(reverse("credit:supervision")).status_code == 403


@pytest.fixture
def plan(rated, xian_officer):
    p = SamplingPlan.objects.create(
        code="CJ-2026-001", title="电线电缆监督抽查", department=rated["departments"]["xian"],
        division_prefixes=["6101"], period_start=TODAY, period_end=TODAY,
        created_by=xian_officer)
    p.categories.set([rated["categories"]["electrical"]])
    return p


def test_sampling_priority_orders_by_class(client, rated, plan, xian_officer,
                                           django_assert_max_num_queries):
    cable = rated["categories"]["cable"]
    good = f.EntityFactory(division=f.division("610104"))
    good.categories.set([cable])
    other = f.EntityFactory(division=f.division("610302"))  # Baoji: out of the plan's scope
    other.categories.set([cable])
    c = login(client, xian_officer)
    url = reverse("credit:supervision_sampling", args=[plan.pk])
    c.get(url)
    with django_assert_max_num_queries(12):
        resp = c.get(url)
    assert resp.status_code == 200
    assert [(e.uscc, e.priority) for e in resp.context["page"]] == [
        (rated["xian_entity"].uscc, 1), (good.uscc, 3)]
    plan.entities.set([good])
    resp = c.get(url)
    assert [e.uscc for e in resp.context["page"]] == [good.uscc]


def test_sampling_priority_access(client, plan, baoji_officer, enterprise_user):
    url = reverse("credit:supervision_sampling", args=[plan.pk])
    assert login(client, baoji_officer).get(url).status_code == 404
    assert login(client, enterprise_user).get(url).status_code == 403


# --- API ------------------------------------------------------------------------------------

def test_api_list_and_filter(api, rated, province_officer, django_assert_max_num_queries):
    api.force_authenticate(province_officer)
    resp = api.get("/api/v1/credit/ratings/")
    assert resp.status_code == 200
    got = {r["uscc"]: (r["risk_class"], r["score"]) for r in resp.json()["results"]}
    assert got == {rated["xian_entity"].uscc: ("D", 60), rated["baoji_entity"].uscc: ("A", 110)}
    resp = api.get("/api/v1/credit/ratings/", {"risk_class": "A"})
    assert [r["uscc"] for r in resp.json()["results"]] == [rated["baoji_entity"].uscc]
    bad = api.get("/api/v1/credit/ratings/", {"risk_class": "E"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "risk_class"
    for _ in range(20):
        f.EntityFactory()
    with django_assert_max_num_queries(6):
        resp = api.get("/api/v1/credit/ratings/")
    assert len(resp.json()["results"]) == 22


@pytest.mark.parametrize("who,seen", [
    ("xian_officer", ["xian"]), ("baoji_officer", ["baoji"]), ("enterprise_user", ["xian"]),
    ("lab_user", []), ("user_unit_user", [])])
def test_api_list_access(api, rated, request, who, seen):
    api.force_authenticate(request.getfixturevalue(who))
    resp = api.get("/api/v1/credit/ratings/")
    assert [r["uscc"] for r in resp.json()["results"]] == [
        rated[f"{k}_entity"].uscc for k in seen]


def test_api_anonymous_refused(api, rated):
    assert api.get("/api/v1/credit/ratings/").status_code in (401, 403)


def test_api_detail_explains_and_reproduces(api, rated, xian_officer):
    api.force_authenticate(xian_officer)
    firm = rated["xian_entity"]
    resp = api.get(f"/api/v1/credit/ratings/{firm.uscc}/", {"as_of": TODAY.isoformat()})
    assert resp.status_code == 200
    data = resp.json()
    assert (data["risk_class"], data["score"]) == ("D", 60)
    ex = data["explanation"]
    assert (ex["risk_class"], ex["score"], ex["score_class"]) == ("D", 60, "D")
    assert [(c["kind"], c["counted"], c["reason"]) for c in ex["contributions"]] == [
        ("sampling_passed", False, "expired"), ("fake_report", True, None)]
    assert [h["id"] for h in ex["hard_rules"]] == ["severe_open"]
    assert data["rules"][0]["key"] == "credit.record_kinds"
    assert [(h["from_class"], h["to_class"]) for h in data["history"]] == [("", "D")]
    assert data["as_of"]["matches"] is True
    assert data["as_of"]["rating"]["score"] == 60


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday"])
def test_api_bad_as_of_names_the_field(api, rated, xian_officer, value):
    api.force_authenticate(xian_officer)
    resp = api.get(f"/api/v1/credit/ratings/{rated['xian_entity'].uscc}/", {"as_of": value})
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["attr"] == "as_of"


def test_api_future_as_of_refused(api, rated, xian_officer):
    api.force_authenticate(xian_officer)
    resp = api.get(f"/api/v1/credit/ratings/{rated['xian_entity'].uscc}/",
                   {"as_of": (TODAY + dt.timedelta(days=1)).isoformat()})
    assert resp.status_code == 400 and resp.json()["errors"][0]["attr"] == "as_of"


def test_api_detail_not_yours_is_404(api, rated, baoji_officer, lab_user):
    count = RatingChange.objects.count()
    for user in (baoji_officer, lab_user):
        api.force_authenticate(user)
        assert api.get(f"/api/v1/credit/ratings/{rated['xian_entity'].uscc}/").status_code == 404
    assert RatingChange.objects.count() == count
