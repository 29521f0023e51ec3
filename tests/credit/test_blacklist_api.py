"""/api/v1/credit/blacklist-cases/ and /api/v1/credit/repairs/: authorization matrix,
the workflow over HTTP, query pins."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.credit.test_blacklist_services import (
    at,
    heavy_penalty,
    listed_case,
    open_case,
    pdf,
    repair_commitment,
)
from zhijian.core import events
from zhijian.credit.models import BlacklistEntry, RepairApplication
from zhijian.credit.services import blacklist as bl
from zhijian.credit.services import records

CASES = "/api/v1/credit/blacklist-cases/"
REPAIRS = "/api/v1/credit/repairs/"


@pytest.fixture
def case(world, xian_officer):
    heavy_penalty(xian_officer, world["xian_entity"])
    return open_case(world["xian_entity"])


@pytest.mark.parametrize("persona,sees", [
    ("admin_user", True), ("province_officer", True), ("xian_officer", True),
    ("baoji_officer", False), ("enterprise_user", True), ("lab_user", False),
    ("user_unit_user", False)])
def test_who_sees_a_case(request, api, case, persona, sees):
    api.force_authenticate(request.getfixturevalue(persona))
    listed = api.get(CASES)
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["results"]] == ([case.pk] if sees else [])
    assert api.get(f"{CASES}{case.pk}/").status_code == (200 if sees else 404)


def test_anonymous_gets_401(api, case):
    assert api.get(CASES).status_code in (401, 403)
    assert api.get(REPAIRS).status_code in (401, 403)


def test_the_workflow_over_http(api, case, xian_officer, enterprise_user):
    api.force_authenticate(xian_officer)
    r = api.post(f"{CASES}{case.pk}/notice/", {}, format="json")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["status"] == "noticed"
    assert body["objection_deadline"] == case.__class__.objects.get(
        pk=case.pk).objection_deadline.isoformat()
    assert body["criteria"][0]["criterion"] == "heavy_penalty"

    api.force_authenticate(enterprise_user)
    r = api.post(f"{CASES}{case.pk}/object/", {"text": "处罚过重，请求从轻处理。"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["objection_text"] == "处罚过重，请求从轻处理。"
    # The firm cannot decide its own case.
    r = api.post(f"{CASES}{case.pk}/decide/", {"listed": False, "reasons": "证据不足，不予列入"},
                 format="json")
    assert r.status_code == 403
    assert BlacklistEntry.objects.get(pk=case.pk).status == "noticed"

    api.force_authenticate(xian_officer)
    r = api.post(f"{CASES}{case.pk}/decide/", {"listed": True, "reasons": "异议不成立，依法列入"},
                 format="json")
    assert r.status_code == 200, r.json()
    body = r.json()
    today = timezone.localdate()
    assert (body["status"], body["listed_on"]) == ("listed", today.isoformat())


def test_listing_before_the_deadline_is_400(api, case, xian_officer):
    api.force_authenticate(xian_officer)
    api.post(f"{CASES}{case.pk}/notice/", {}, format="json")
    r = api.post(f"{CASES}{case.pk}/decide/", {"listed": True, "reasons": "情节严重，依法列入"},
                 format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400
    deadline = BlacklistEntry.objects.get(pk=case.pk).objection_deadline
    assert [(e["attr"], e["detail"]) for e in r.json()["errors"]] == [(
        "listed", f"The objection period runs until {deadline} and the firm has not "
        f"objected: the firm can be listed from {deadline + dt.timedelta(days=1)}, or as "
        "soon as it has objected.")]
    assert BlacklistEntry.objects.get(pk=case.pk).status == "noticed"


def test_officer_of_another_city_gets_404_and_nothing_changes(api, case, baoji_officer):
    api.force_authenticate(baoji_officer)
    r = api.post(f"{CASES}{case.pk}/notice/", {}, format="json")
    assert r.status_code == 404
    assert BlacklistEntry.objects.get(pk=case.pk).status == "proposed"


def test_officer_proposes_over_http(api, world, xian_officer, baoji_officer):
    rec = records.record_create(entity=world["xian_entity"], kind="sampling_failed",
                                date=dt.date(2026, 2, 1), source_type="sampling.sample",
                                source_id="S1", source_ref="抽检 S1")
    payload = {"entity": world["xian_entity"].uscc, "records": [rec.pk],
               "reasons": "多次抽检不合格且拒不整改"}
    api.force_authenticate(baoji_officer)
    assert api.post(CASES, payload, format="json").status_code == 403
    assert not BlacklistEntry.objects.exists()
    api.force_authenticate(xian_officer)
    r = api.post(CASES, payload, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["criteria"] == [{"criterion": "officer", "records": [rec.pk],
                                     "reasons": "多次抽检不合格且拒不整改"}]


def test_repair_over_http(api, world, xian_officer, enterprise_user, lab_user):
    entry, penalty = listed_case(xian_officer, world["xian_entity"])
    records.penalty_mark_paid(actor=xian_officer, penalty_id=penalty.pk,
                              paid_on=dt.date(2026, 4, 1))
    api.force_authenticate(enterprise_user)
    # Today is less than a year after the listing: refused with every unmet condition.
    r = api.post(REPAIRS, {"entry": entry.pk, "rectification": "已整改"}, format="multipart")
    assert r.status_code == 400
    assert {e["attr"] for e in r.json()["errors"]} == {
        "entry", "rectification", "commitment", "training_certificate"}
    assert not RepairApplication.objects.exists()

    repair_commitment(enterprise_user, dt.date(2026, 4, 1))
    repair = bl.repair_apply(entry_id=entry.pk, actor=enterprise_user,
                             rectification="已召回全部不合格电缆并更换生产设备。",
                             rectification_evidence=pdf("r.pdf"),
                             training_certificate=pdf("t.pdf"), now=at(dt.date(2027, 3, 10)))
    r = api.get(f"{REPAIRS}{repair.pk}/")
    assert r.status_code == 200
    assert [c["code"] for c in r.json()["conditions"]][:2] == ["min_listed", "rectification"]
    r = api.post(f"{REPAIRS}{repair.pk}/decide/", {"approve": True, "reasons": "整改到位，同意"},
                 format="json")
    assert r.status_code == 403
    api.force_authenticate(lab_user)
    assert api.get(f"{REPAIRS}{repair.pk}/").status_code == 404
    api.force_authenticate(xian_officer)
    r = api.post(f"{REPAIRS}{repair.pk}/decide/", {"approve": True, "reasons": "整改到位，同意"},
                 format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "approved"
    events.drain()
    assert BlacklistEntry.objects.get(pk=entry.pk).status == "removed"


def test_list_query_pins(api, world, xian_officer, province_officer,
                         django_assert_max_num_queries):
    from tests import factories as f

    for n in range(6):
        entity = f.EntityFactory(division=f.division("610113"))
        rec = records.record_create(entity=entity, kind="sampling_failed",
                                    date=dt.date(2026, 2, 1), source_type="sampling.sample",
                                    source_id=f"Q{n}", source_ref=f"抽检 Q{n}")
        bl.blacklist_propose(entity=entity, actor=xian_officer, record_ids=[rec.pk],
                             reasons="多次抽检不合格且拒不整改")
    api.force_authenticate(province_officer)
    api.get(CASES)  # the scope is cached per request; warm the session
    with django_assert_max_num_queries(8):
        r = api.get(CASES)
    assert r.json()["count"] == 6
    with django_assert_max_num_queries(8):
        assert api.get(REPAIRS).status_code == 200
