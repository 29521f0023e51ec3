"""The public credit report (/credit/<uscc>/ and its JSON form), the public search and the
public list: exactly what the law makes public, never the class, a non-public record or
a penalty document."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from zhijian.credit import export
from zhijian.credit.choices import BlacklistStatus, RemovalReason
from zhijian.credit.models import BlacklistEntry, CreditRating
from zhijian.credit.services import records

TODAY = timezone.localdate()


def _doc(name="decision.pdf", body=b"%PDF-1.4 penalty decision SECRET-DOC-BODY"):
    return SimpleUploadedFile(name, body, "application/pdf")


@pytest.fixture
def file(world, xian_officer, enterprise_user):
    """The Xi'an cable maker's credit file: a public failed sample, a non-public
    inspection finding, a penalty, an expired public record, a withdrawn one, a
    commitment."""
    e = world["xian_entity"]
    sample = records.record_create(
        entity=e, kind="sampling_failed", date=TODAY - dt.timedelta(days=30),
        source_type="sampling.sample", source_id="S1", source_ref="抽样单 CY-2025-001",
        summary="导体电阻不合格", public=True, department=world["departments"]["xian"])
    hidden = records.record_create(
        entity=e, kind="inspection_problem", date=TODAY - dt.timedelta(days=20),
        source_type="inspections.task", source_id="T1", source_ref="检查任务 T1",
        summary="NON-PUBLIC-FINDING", public=False)
    old = records.record_create(
        entity=e, kind="sampling_failed", date=TODAY - dt.timedelta(days=900),
        source_type="sampling.sample", source_id="S0", source_ref="抽样单 OLD-EXPIRED",
        public=True)
    gone = records.record_create(
        entity=e, kind="recall_ordered", date=TODAY - dt.timedelta(days=10),
        source_type="recalls.recall", source_id="R1", source_ref="召回 WITHDRAWN-RECALL",
        public=True)
    records.record_withdraw(record_id=gone.pk, reason="录入错误")
    penalty = records.penalty_record(
        actor=xian_officer, entity_id=e.pk, decision_number="西市监罚〔2025〕17号",
        decided_on=TODAY - dt.timedelta(days=5), violation="生产销售不合格电线电缆",
        legal_basis="《中华人民共和国产品质量法》第四十九条", document=_doc(), fine="50000")
    commitment = records.commitment_sign(actor=enterprise_user, occasion="registration",
                                         signatory="王测试")
    return {"entity": e, "sample": sample, "hidden": hidden, "old": old, "gone": gone,
            "penalty": penalty, "commitment": commitment}


def test_report_json_shows_exactly_the_public_records_in_force(client, file):
    e = file["entity"]
    resp = client.get(f"/api/v1/public/credit/reports/{e.uscc}/")
    assert resp.status_code == 200
    data = resp.json()
    penalty_record = e.credit_records.get(source_type="credit.penalty")
    commitment_record = e.credit_records.get(source_type="credit.commitment")
    assert [r["id"] for r in data["records"]] == [
        commitment_record.pk, penalty_record.pk, file["sample"].pk]
    assert data["entity"] == {
        "uscc": e.uscc, "name": "西安测试电缆有限公司", "entity_type": e.entity_type,
        "entity_type_label": str(e.get_entity_type_display()),
        "division": {"code": "610113", "name": e.division.name}, "status": e.status,
        "status_label": str(e.get_status_display()),
        "registered_on": e.registered_on.isoformat() if e.registered_on else None}
    pen = next(r for r in data["records"] if r["id"] == penalty_record.pk)
    assert pen["penalty"] == {
        "decision_number": "西市监罚〔2025〕17号", "authority": "西安市市场监督管理局",
        "decided_on": (TODAY - dt.timedelta(days=5)).isoformat(),
        "violation": "生产销售不合格电线电缆",
        "legal_basis": "《中华人民共和国产品质量法》第四十九条", "fine": "50000.00",
        "heavy": False}
    assert data["credit_class"] is None
    assert data["listing"] is None
    assert data["measures"] == []
    [c] = data["commitments"]
    assert (c["id"], c["signatory"], c["statement"], c["occasion"]) == (
        file["commitment"].pk, "王测试", file["commitment"].text, "registration")
    text = resp.content.decode()
    for secret in ("NON-PUBLIC-FINDING", "OLD-EXPIRED", "WITHDRAWN-RECALL", "document",
                   "SECRET-DOC-BODY", "risk_class", "score"):
        assert secret not in text


def test_report_never_shows_the_class(client, file):
    e = file["entity"]
    CreditRating.objects.update_or_create(entity=e, defaults=dict(
        risk_class="D", score=12, on=TODAY, versions={}, trigger="test",
        computed_at=timezone.now()))
    page = client.get(f"/credit/{e.uscc}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    data = client.get(f"/api/v1/public/credit/reports/{e.uscc}/").json()
    assert data["credit_class"] is None and "score" not in data
    assert "企业信用风险分类结果原则上不对外公开" in page
    assert 'id="class-note"' in page
    for leak in ("Class D", "class D", ">D<", "12 points"):
        assert leak not in page


def test_report_page_shows_public_facts_only(client, file):
    e = file["entity"]
    resp = client.get(f"/credit/{e.uscc}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "抽样单 CY-2025-001" in html
    assert "西市监罚〔2025〕17号" in html and "第四十九条" in html
    assert file["commitment"].text.splitlines()[0] in html
    assert f'id="record-{file["sample"].pk}"' in html
    for secret in ("NON-PUBLIC-FINDING", "OLD-EXPIRED", "WITHDRAWN-RECALL", ".pdf",
                   "/media/", f'id="record-{file["hidden"].pk}"'):
        assert secret not in html
    assert 'id="print-button"' in html


def test_report_of_unknown_uscc_is_404(client, world):
    assert client.get("/credit/91610113MA6TEST00X/").status_code == 404
    assert client.get("/api/v1/public/credit/reports/91610113MA6TEST00X/").status_code == 404


def test_usccs_in_lower_case_are_found(client, file):
    e = file["entity"]
    assert client.get(f"/api/v1/public/credit/reports/{e.uscc.lower()}/").status_code == 200


def _listed(world, officer, *, until, status=BlacklistStatus.LISTED, entity=None):
    now = timezone.now()
    return BlacklistEntry.objects.create(
        entity=entity or world["xian_entity"], department=world["departments"]["xian"],
        status=status, rule_version="2021-09-01", proposed_at=now, decided_at=now,
        decided_by=officer, decision_reasons="一年内两次抽查不合格且拒不整改",
        listed_on=TODAY - dt.timedelta(days=3), listed_until=until, published_at=now)


def test_listing_is_public_while_listed(client, world, xian_officer):
    e = world["xian_entity"]
    entry = _listed(world, xian_officer, until=TODAY + dt.timedelta(days=1092))
    data = client.get(f"/api/v1/public/credit/reports/{e.uscc}/").json()
    assert data["listing"] == {
        "case": entry.pk, "listed_on": (TODAY - dt.timedelta(days=3)).isoformat(),
        "listed_until": (TODAY + dt.timedelta(days=1092)).isoformat(),
        "department": "西安市市场监督管理局", "reasons": "一年内两次抽查不合格且拒不整改"}
    html = client.get(f"/credit/{e.uscc}/").content.decode()
    assert 'id="listing"' in html and "一年内两次抽查不合格且拒不整改" in html


def test_removed_listing_is_no_longer_published(client, world, xian_officer):
    e = world["xian_entity"]
    entry = _listed(world, xian_officer, until=TODAY + dt.timedelta(days=30))
    entry.status = BlacklistStatus.REMOVED
    entry.removed_on = TODAY
    entry.removal_reason = RemovalReason.REPAIRED
    entry.save()
    data = client.get(f"/api/v1/public/credit/reports/{e.uscc}/").json()
    assert data["listing"] is None
    html = client.get(f"/credit/{e.uscc}/").content.decode()
    assert 'id="listing"' not in html and "一年内两次抽查不合格" not in html
    page = client.get("/credit/blacklist/").content.decode()
    assert e.uscc not in page and 'id="no-results"' in page


def test_blacklist_page_lists_the_firms_listed_now(client, world, xian_officer):
    listed = _listed(world, xian_officer, until=TODAY + dt.timedelta(days=10))
    _listed(world, xian_officer, until=TODAY - dt.timedelta(days=1),
            entity=world["baoji_entity"])  # its period is over
    resp = client.get("/credit/blacklist/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert f'id="listed-{listed.pk}"' in html and world["xian_entity"].uscc in html
    assert world["baoji_entity"].uscc not in html


def test_blacklist_page_is_paginated_without_n_plus_one(client, world, xian_officer,
                                                        django_assert_max_num_queries):
    from tests import factories as f

    for _ in range(55):
        _listed(world, xian_officer, until=None, entity=f.EntityFactory())
    with django_assert_max_num_queries(6):
        resp = client.get("/credit/blacklist/")
    html = resp.content.decode()
    assert html.count('id="listed-') == 50 and 'id="page-next"' in html
    assert client.get("/credit/blacklist/?page=2").content.decode().count('id="listed-') == 5


def test_measures_block_shows_listing_measures_only(client, world, admin_user,
                                                    xian_officer):
    from zhijian.credit.services import measures

    e = world["xian_entity"]
    measures.measures_seed(admin_user, list(world["departments"].values()),
                           on=TODAY - dt.timedelta(days=30))
    CreditRating.objects.update_or_create(entity=e, defaults=dict(
        risk_class="D", score=12, on=TODAY, versions={}, trigger="test",
        computed_at=timezone.now()))
    e.risk_class = "D"
    e.save(update_fields=["risk_class"])
    # Class D alone: the measures it triggers would disclose the class.
    assert export.public_report(e)["measures"] == []
    _listed(world, xian_officer, until=TODAY + dt.timedelta(days=30))
    with translation.override("en"):
        report = export.public_report(e)
    listing_measures = [m for m, _ in measures.measures_applying(e, on=TODAY)
                        if m.trigger == "blacklist"]
    assert [m["code"] for m in report["measures"]] == [m.code for m in listing_measures]
    assert report["measures"], "the seed declares measures for listed firms"
    for m in report["measures"]:
        assert m["reason"].startswith("Listed as seriously dishonest since")
        assert set(m) == {"code", "label", "department", "effect", "effect_label",
                          "contexts", "legal_basis", "reason"}
    html = client.get(f"/credit/{e.uscc}/").content.decode()
    assert html.count('<tr data-code="') == len(listing_measures)


def test_home_searches_by_name_and_uscc(client, world):
    e = world["xian_entity"]
    html = client.get("/credit/", {"q": "西安测试"}).content.decode()
    assert f'href="/credit/{e.uscc}/"' in html and world["baoji_entity"].name not in html
    html = client.get("/credit/", {"q": e.uscc}).content.decode()
    assert f'href="/credit/{e.uscc}/"' in html
    html = client.get("/credit/", {"q": "西"}).content.decode()
    assert 'id="q_error"' in html


def test_report_json_query_count(client, file, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert client.get(
            f"/api/v1/public/credit/reports/{file['entity'].uscc}/").status_code == 200
