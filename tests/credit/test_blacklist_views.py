"""Pages of the serious-dishonesty list and credit repair (/work/credit/blacklist/,
/work/credit/repairs/)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from tests.credit.test_blacklist_services import (
    at,
    heavy_penalty,
    listed_case,
    open_case,
    pdf,
    repair_commitment,
)
from zhijian.credit.models import BlacklistEntry, RepairApplication
from zhijian.credit.services import blacklist as bl
from zhijian.credit.services import records


@pytest.fixture
def case(world, xian_officer):
    heavy_penalty(xian_officer, world["xian_entity"])
    return open_case(world["xian_entity"])


def test_list_by_persona(client, case, xian_officer, baoji_officer, enterprise_user, lab_user):
    url = reverse("credit:blacklist_list")
    client.force_login(xian_officer)
    page = client.get(url)
    assert page.status_code == 200
    assert f'id="case-{case.pk}"' in page.content.decode()
    assert 'id="propose-link"' in page.content.decode()
    assert f'id="case-{case.pk}"' not in client.get(url + "?status=listed").content.decode()
    client.force_login(baoji_officer)
    assert f'id="case-{case.pk}"' not in client.get(url).content.decode()
    client.force_login(enterprise_user)
    body = client.get(url).content.decode()
    assert f'id="case-{case.pk}"' in body and 'id="propose-link"' not in body
    client.force_login(lab_user)
    assert client.get(url).status_code == 403


def test_detail_404_outside_jurisdiction(client, case, baoji_officer):
    client.force_login(baoji_officer)
    assert client.get(reverse("credit:blacklist_detail", args=[case.pk])).status_code == 404


def test_officer_serves_the_notice_and_the_firm_objects(client, case, xian_officer,
                                                        enterprise_user):
    url = reverse("credit:blacklist_detail", args=[case.pk])
    client.force_login(xian_officer)
    page = client.get(url).content.decode()
    assert 'id="notice-form"' in page and 'id="criteria"' in page
    r = client.post(reverse("credit:blacklist_notice", args=[case.pk]),
                    {"notice_text": "告知书：拟列入严重违法失信名单，可在期限内陈述申辩。"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == "noticed"
    assert case.notice_text == "告知书：拟列入严重违法失信名单，可在期限内陈述申辩。"
    # Listing while the period runs: refused on the page, nothing changes.
    r = client.post(reverse("credit:blacklist_decide", args=[case.pk]),
                    {"decision": "list", "reasons": "情节严重，依法列入名单"})
    assert r.status_code == 400
    assert case.objection_deadline.isoformat() in r.content.decode()
    assert BlacklistEntry.objects.get(pk=case.pk).status == "noticed"

    client.force_login(enterprise_user)
    page = client.get(url).content.decode()
    assert 'id="object-form"' in page and 'id="decide-form"' not in page
    r = client.post(reverse("credit:blacklist_object", args=[case.pk]),
                    {"text": "处罚过重，请求从轻处理。"})
    assert r.status_code == 302
    # The firm cannot decide.
    r = client.post(reverse("credit:blacklist_decide", args=[case.pk]),
                    {"decision": "not_list", "reasons": "证据不足，不予列入"})
    assert r.status_code == 403

    client.force_login(xian_officer)
    r = client.post(reverse("credit:blacklist_decide", args=[case.pk]),
                    {"decision": "list", "reasons": "异议不成立，依法列入"})
    assert r.status_code == 302
    page = client.get(url).content.decode()
    assert 'id="listing-period"' in page and 'id="objection-text"' in page


def test_officer_proposes_by_hand(client, world, xian_officer):
    rec = records.record_create(entity=world["xian_entity"], kind="sampling_failed",
                                date=dt.date(2026, 2, 1), source_type="sampling.sample",
                                source_id="S1", source_ref="抽检 S1")
    client.force_login(xian_officer)
    url = reverse("credit:blacklist_propose")
    assert client.get(url).status_code == 200
    r = client.post(url, {"entity": world["xian_entity"].uscc, "records": f"{rec.pk}",
                          "reasons": "多次抽检不合格且拒不整改"})
    entry = BlacklistEntry.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("credit:blacklist_detail",
                                                            args=[entry.pk])


def test_repair_refused_on_the_page_then_decided(client, world, xian_officer,
                                                 enterprise_user):
    entry, penalty = listed_case(xian_officer, world["xian_entity"])
    client.force_login(enterprise_user)
    url = reverse("credit:blacklist_detail", args=[entry.pk])
    page = client.get(url).content.decode()
    assert 'id="repair-form"' in page and "2027-03-10" in page
    r = client.post(reverse("credit:repair_apply", args=[entry.pk]),
                    {"rectification": "已召回全部不合格电缆。", "rectification_evidence": pdf(),
                     "training_certificate": pdf("t.pdf")})
    assert r.status_code == 400
    body = r.content.decode()
    assert penalty.decision_number in body  # the unpaid fine is named
    assert "2027-03-10" in body  # too early: the first possible day
    assert not RepairApplication.objects.exists()

    records.penalty_mark_paid(actor=xian_officer, penalty_id=penalty.pk,
                              paid_on=dt.date(2026, 4, 1))
    repair_commitment(enterprise_user, dt.date(2027, 3, 1))
    repair = bl.repair_apply(entry_id=entry.pk, actor=enterprise_user,
                             rectification="已召回全部不合格电缆并更换生产设备。",
                             rectification_evidence=pdf("r.pdf"),
                             training_certificate=pdf("t.pdf"), now=at(dt.date(2027, 3, 10)))
    detail = reverse("credit:repair_detail", args=[repair.pk])
    assert 'id="decide-form"' not in client.get(detail).content.decode()
    assert client.post(detail, {"decision": "approve", "reasons": "整改到位"}).status_code == 403
    client.force_login(xian_officer)
    page = client.get(detail).content.decode()
    assert 'id="condition-training"' in page and 'id="decide-form"' in page
    assert f'id="repair-{repair.pk}"' in client.get(reverse("credit:repair_list")).content.decode()
    r = client.post(detail, {"decision": "approve", "reasons": "整改到位，同意提前移出"})
    assert r.status_code == 302
    entry.refresh_from_db()
    assert (entry.status, entry.removal_reason) == ("removed", "repaired")
