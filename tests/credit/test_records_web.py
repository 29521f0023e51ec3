"""Pages and API of credit records, penalty decisions and commitments: who sees what, who
may write, refusals next to their field, evidence downloads behind access, query counts
that do not grow with the rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from zhijian.credit.models import Commitment, CreditRecord, Penalty
from zhijian.credit.services import records as services

DAY = dt.date(2026, 10, 12)


def client_for(user) -> Client:
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        c.force_login(user)
    return c


def pdf(name="e.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


@pytest.fixture
def data(world, xian_officer, baoji_officer, enterprise_user):
    secret = services.record_enter(actor=xian_officer, entity_id=world["xian_entity"].pk,
                                   kind="inspection_problem", date=DAY, evidence=pdf(),
                                   summary="内部记录", public=False)
    public = services.record_enter(actor=baoji_officer, entity_id=world["baoji_entity"].pk,
                                   kind="award", date=DAY, evidence=pdf(), summary="质量奖",
                                   public=True)
    penalty = services.penalty_record(
        actor=xian_officer, entity_id=world["xian_entity"].pk, decision_number="P-1",
        decided_on=DAY, violation="违法", legal_basis="产品质量法第四十九条", document=pdf())
    commitment = services.commitment_sign(actor=enterprise_user, occasion="registration",
                                          signatory="王法人")
    return {"secret": secret, "public": public, "penalty": penalty, "commitment": commitment}


# --- pages ----------------------------------------------------------------------------------

@pytest.mark.parametrize("who, sees", [
    ("admin_user", {"secret", "public"}),
    ("xian_officer", {"secret"}),
    ("province_officer", {"secret", "public"}),
    ("baoji_officer", {"public"}),
    ("enterprise_user", {"secret", "public"}),
    ("lab_user", {"public"}),
])
def test_record_list_is_scoped(request, data, who, sees):
    user = request.getfixturevalue(who)
    body = client_for(user).get("/work/credit/records/").content.decode()
    shown = {k for k in ("secret", "public") if f'id="record-{data[k].pk}"' in body}
    # the penalty and commitment records are there too; only the two by hand are compared
    assert shown == sees


def test_record_list_filters(data, xian_officer, world):
    c = client_for(xian_officer)
    body = c.get("/work/credit/records/", {"kind": "penalty"}).content.decode()
    penalty_record = CreditRecord.objects.get(kind="penalty")
    assert f'id="record-{penalty_record.pk}"' in body
    assert f'id="record-{data["secret"].pk}"' not in body
    body = c.get("/work/credit/records/", {"date_from": "2026-10-13"}).content.decode()
    assert f'id="record-{data["secret"].pk}"' not in body


def test_record_list_query_count_does_not_grow(data, xian_officer, world,
                                               django_assert_max_num_queries):
    c = client_for(xian_officer)
    for n in range(15):
        services.record_enter(actor=xian_officer, entity_id=world["xian_entity"].pk,
                              kind="award", date=DAY, evidence=pdf(), summary=f"奖{n}")
    with django_assert_max_num_queries(12):
        assert c.get("/work/credit/records/").status_code == 200


def test_the_anonymous_are_sent_to_log_in():
    assert Client().get("/work/credit/records/").status_code == 302


def test_record_detail_evidence_and_withdraw(data, xian_officer, baoji_officer,
                                             enterprise_user, lab_user):
    pk = data["secret"].pk
    page = client_for(xian_officer).get(f"/work/credit/records/{pk}/")
    body = page.content.decode()
    assert 'id="evidence-link"' in body and 'id="withdraw-form"' in body
    assert 'id="history"' in body
    assert client_for(baoji_officer).get(f"/work/credit/records/{pk}/").status_code == 404
    assert client_for(lab_user).get(f"/work/credit/records/{pk}/").status_code == 404
    own = client_for(enterprise_user)
    assert 'id="withdraw-form"' not in own.get(f"/work/credit/records/{pk}/").content.decode()
    assert own.get(f"/work/credit/records/{pk}/evidence/").status_code == 200
    public_pk = data["public"].pk
    assert client_for(lab_user).get(f"/work/credit/records/{public_pk}/").status_code == 200
    assert client_for(lab_user).get(
        f"/work/credit/records/{public_pk}/evidence/").status_code == 404
    c = client_for(xian_officer)
    r = c.post(f"/work/credit/records/{pk}/withdraw/", {"reason": ""})
    assert r.status_code == 400
    assert CreditRecord.objects.get(pk=pk).status == "active"
    r = c.post(f"/work/credit/records/{pk}/withdraw/", {"reason": "错录"})
    assert r.status_code == 302
    assert CreditRecord.objects.get(pk=pk).status == "withdrawn"


def test_record_new_page_refuses_without_evidence(world, xian_officer, enterprise_user):
    c = client_for(xian_officer)
    form = {"entity": world["xian_entity"].uscc, "kind": "award", "date": "2026-10-12",
            "summary": "省质量奖"}
    r = c.post("/work/credit/records/new/", form)
    assert r.status_code == 400
    assert "A record entered by hand needs its evidence" in r.content.decode()
    assert CreditRecord.objects.count() == 0
    r = c.post("/work/credit/records/new/", {**form, "evidence": pdf()})
    record = CreditRecord.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/work/credit/records/{record.pk}/"
    assert client_for(enterprise_user).get("/work/credit/records/new/").status_code == 403


def test_source_link_of_a_penalty_record(data, xian_officer):
    record = CreditRecord.objects.get(kind="penalty")
    body = client_for(xian_officer).get(f"/work/credit/records/{record.pk}/").content.decode()
    assert f'href="/work/credit/penalties/{data["penalty"].pk}/" id="source-link"' in body


def test_penalty_pages(data, world, xian_officer, baoji_officer, lab_user):
    pk = data["penalty"].pk
    c = client_for(xian_officer)
    assert 'id="paid-form"' in c.get(f"/work/credit/penalties/{pk}/").content.decode()
    assert client_for(lab_user).get(f"/work/credit/penalties/{pk}/").status_code == 200
    assert client_for(lab_user).get(f"/work/credit/penalties/{pk}/document/").status_code == 404
    assert c.get(f"/work/credit/penalties/{pk}/document/").status_code == 200
    assert client_for(baoji_officer).post(f"/work/credit/penalties/{pk}/revoke/",
                                          {"reason": "x"}).status_code == 404
    r = c.post(f"/work/credit/penalties/{pk}/paid/", {"paid_on": "2026-10-20"})
    assert r.status_code == 302
    r = c.post(f"/work/credit/penalties/{pk}/revoke/", {"reason": "复议撤销"})
    assert r.status_code == 302
    assert Penalty.objects.get(pk=pk).status == "revoked"
    r = c.post("/work/credit/penalties/new/", {
        "entity": world["xian_entity"].uscc, "decision_number": "P-2", "decided_on": "2026-10-01",
        "violation": "违法", "legal_basis": "第四十九条"})
    assert r.status_code == 400
    assert "Attach the penalty decision document" in r.content.decode()
    assert not Penalty.objects.filter(decision_number="P-2").exists()


def test_commitment_pages(data, world, enterprise_user, xian_officer):
    c = client_for(enterprise_user)
    body = c.get("/work/credit/commitments/sign/").content.decode()
    assert 'id="statement-registration"' in body and world["xian_entity"].uscc in body
    r = c.post("/work/credit/commitments/sign/", {"occasion": "tender", "reference": "ZB-7",
                                                  "signatory": "王法人", "agree": "on"})
    commitment = Commitment.objects.get(reference="ZB-7")
    assert r.status_code == 302 and r["Location"] == f"/work/credit/commitments/{commitment.pk}/"
    assert client_for(xian_officer).get("/work/credit/commitments/sign/").status_code == 403
    o = client_for(xian_officer)
    r = o.post(f"/work/credit/commitments/{commitment.pk}/breach/",
               {"breached_on": "2026-11-20", "reason": "提交虚假材料"})
    assert r.status_code == 400 and "Attach the evidence of the breach." in r.content.decode()
    r = o.post(f"/work/credit/commitments/{commitment.pk}/breach/",
               {"breached_on": "2026-11-26", "reason": "提交虚假材料", "evidence": pdf()})
    assert r.status_code == 302
    assert Commitment.objects.get(pk=commitment.pk).status == "breached"


# --- API ------------------------------------------------------------------------------------

@pytest.mark.parametrize("who, status", [
    (None, 401), ("lab_user", 403), ("enterprise_user", 403), ("baoji_officer", 403),
    ("xian_officer", 201), ("province_officer", 201), ("admin_user", 201),
])
def test_api_record_create_matrix(request, api, world, who, status):
    if who:
        api.force_authenticate(request.getfixturevalue(who))
    r = api.post("/api/v1/credit/records/", {
        "entity": world["xian_entity"].uscc, "kind": "award", "date": "2026-10-12",
        "summary": "省质量奖", "evidence": pdf()}, format="multipart")
    assert r.status_code == status, r.content
    assert CreditRecord.objects.count() == (1 if status == 201 else 0)


def test_api_refuses_a_record_without_evidence(api, world, xian_officer):
    api.force_authenticate(xian_officer)
    r = api.post("/api/v1/credit/records/", {
        "entity": world["xian_entity"].uscc, "kind": "award", "date": "2026-10-12",
        "summary": "省质量奖"}, format="multipart", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400
    assert [(e["attr"], e["detail"]) for e in r.json()["errors"]] == [
        ("evidence", "A record entered by hand needs its evidence: attach the document.")]
    assert CreditRecord.objects.count() == 0


def test_api_lists_are_scoped_and_pinned(api, data, world, xian_officer, baoji_officer,
                                         django_assert_max_num_queries):
    api.force_authenticate(baoji_officer)
    ids = {r["id"] for r in api.get("/api/v1/credit/records/").json()["results"]}
    assert ids == {data["public"].pk}
    api.force_authenticate(xian_officer)
    for n in range(10):
        services.record_enter(actor=xian_officer, entity_id=world["xian_entity"].pk,
                              kind="award", date=DAY, evidence=pdf(), summary=f"奖{n}")
    for url in ("/api/v1/credit/records/", "/api/v1/credit/penalties/",
                "/api/v1/credit/commitments/"):
        with django_assert_max_num_queries(8):
            assert api.get(url).status_code == 200
    api.force_authenticate(None)
    body = api.get("/api/v1/credit/penalties/").json()
    assert [p["decision_number"] for p in body["results"]] == ["P-1"]
    assert api.get(f"/api/v1/credit/records/{data['secret'].pk}/").status_code == 404


def test_api_penalty_and_commitment_flow(api, world, xian_officer, enterprise_user,
                                         baoji_officer):
    api.force_authenticate(xian_officer)
    r = api.post("/api/v1/credit/penalties/", {
        "entity": world["xian_entity"].uscc, "decision_number": "P-9", "decided_on": "2026-10-01",
        "violation": "违法", "legal_basis": "第四十九条", "heavy": "true", "fine": "1000.00",
        "document": pdf()}, format="multipart")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["heavy"] is True
    assert CreditRecord.objects.get(source_type="credit.penalty").kind == "penalty_heavy"
    api.force_authenticate(baoji_officer)
    assert api.post(f"/api/v1/credit/penalties/{pk}/revoke/", {"reason": "x"}).status_code == 404
    api.force_authenticate(xian_officer)
    r = api.post(f"/api/v1/credit/penalties/{pk}/paid/", {"paid_on": "2026-10-05"})
    assert r.json()["paid_on"] == "2026-10-05"
    r = api.post(f"/api/v1/credit/penalties/{pk}/revoke/", {"reason": "复议撤销"})
    assert r.json()["status"] == "revoked"
    assert CreditRecord.objects.get(source_type="credit.penalty").status == "withdrawn"
    r = api.post("/api/v1/credit/commitments/sign/", {"occasion": "registration",
                                                      "signatory": "王法人"})
    assert r.status_code == 403
    api.force_authenticate(enterprise_user)
    r = api.post("/api/v1/credit/commitments/sign/", {"occasion": "registration",
                                                      "signatory": "王法人"})
    assert r.status_code == 201
    cpk = r.json()["id"]
    assert r.json()["template_version"] == "2019-07-16"
    api.force_authenticate(xian_officer)
    r = api.post(f"/api/v1/credit/commitments/{cpk}/breach/", {
        "breached_on": "2026-11-26", "reason": "虚假材料", "evidence": pdf()},
        format="multipart")
    assert r.status_code == 200 and r.json()["status"] == "breached"
    made = CreditRecord.objects.get(kind="commitment_made")
    r = api.post(f"/api/v1/credit/records/{made.pk}/withdraw/", {"reason": "错录"})
    assert (r.status_code, r.json()["status"]) == (200, "withdrawn")


def test_the_workspace_asks_an_unsigned_firm_to_sign_and_links_the_occasion(
        world, enterprise_user):
    c = client_for(enterprise_user)
    body = c.get("/work/org/").content.decode()
    assert 'id="sign-commitment"' in body
    assert 'href="/work/credit/commitments/sign/?occasion=registration"' in body
    form = c.get("/work/credit/commitments/sign/?occasion=repair").context["form"]
    assert form["occasion"].value() == "repair"
    # An unknown occasion preselects nothing valid; the statement shown is registration's.
    r = c.get("/work/credit/commitments/sign/?occasion=nonsense")
    assert [s["occasion"] for s in r.context["statements"] if s["selected"]] == [
        "registration"]
    assert c.post("/work/credit/commitments/sign/", {"occasion": "registration",
                                                     "signatory": "王法人", "agree": "on"}
                  ).status_code == 302
    body = c.get("/work/org/").content.decode()
    assert 'id="sign-commitment"' not in body and 'id="entity-commitment"' in body
