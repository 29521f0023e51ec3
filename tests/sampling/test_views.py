"""The sampling pages: who may open what (GET 200 for the right personas, 404/403 for the
others, the login page for anonymous users), the flow through the forms from plan to a
received sample, refusals shown next to their field, the custody timeline and its
problems on the sample page, and the lab's page."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.sampling.conftest import S2, fingerprint
from tests.web.conftest import make_client
from zhijian.sampling.models import Handover, Sample, SamplingPlan

pytestmark = pytest.mark.django_db

TITLE = re.compile(r'data-testid="page-title">\s*(.*?)\s*</h1>', re.S)
PERSONAS = ["anonymous", "admin_user", "province_officer", "xian_officer", "baoji_officer",
            "xian_housing_officer", "enterprise_user", "lab_user", "user_unit_user"]
JPEG = b"\xff\xd8\xff\xe0 a photo of the seal"


def client_for(request, persona, lang="en"):
    return make_client(None if persona == "anonymous" else request.getfixturevalue(persona),
                       lang)


def text(html: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element #{element_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2))).strip()


def field_error(html: str, name: str) -> str:
    match = re.search(rf'id="id_{name}_error">(.*?)</div>\s*</div>', html, re.S)
    assert match, f"no error shown next to {name}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# (url name, grid key or None, expected statuses in PERSONAS order)
R = [302, 200, 200, 200, 200, 200, 403, 403, 403]  # every regulator
PAGES = [
    ("plan_list", None, R),
    ("plan_create", None, R),
    ("sample_list", None, R),
    ("disposal_list", None, R),
    ("batch_lookup", None, R),
    ("plan_detail", "p1", [302, 200, 200, 200, 404, 404, 403, 403, 403]),
    ("plan_edit", "p2", [302, 200, 403, 200, 404, 403, 403, 403, 403]),
    ("sample_create", "p1", [302, 403, 403, 200, 404, 404, 403, 403, 403]),
    ("sample_detail", "s2", [302, 200, 200, 200, 404, 404, 404, 200, 404]),
    ("sample_detail", "s1", [302, 200, 200, 200, 404, 404, 200, 200, 404]),
    ("lab_samples", None, [302, 403, 403, 403, 403, 403, 403, 200, 403]),
    ("disposal_detail", "d1", [302, 200, 200, 200, 404, 404, 403, 403, 403]),
]


@pytest.mark.parametrize(("name", "key", "statuses"), PAGES,
                         ids=[f"{n}-{k}" if k else n for n, k, _ in PAGES])
def test_who_may_open_each_page(name, key, statuses, sgrid, request):
    from django.urls import reverse

    url = reverse(f"sampling:{name}", args=[sgrid[key].pk] if key else [])
    before = fingerprint()
    for persona, expected in zip(PERSONAS, statuses, strict=True):
        resp = client_for(request, persona).get(url)
        assert resp.status_code == expected, (persona, resp.status_code)
        if expected == 302:
            assert resp["Location"].startswith("/accounts/login/")
        if expected == 200:
            assert TITLE.search(resp.content.decode()), persona
    assert fingerprint() == before


def test_a_page_in_chinese_renders(sgrid, xian_officer):
    resp = make_client(xian_officer, "zh-hans").get(f"/work/sampling/samples/{sgrid['s3'].pk}/")
    assert resp.status_code == 200
    assert 'lang="zh-Hans"' in resp.content.decode()


def test_the_flow_through_the_forms(sworld, xian_officer, courier, lab_user):
    w = sworld
    officer = make_client(xian_officer, "en")
    resp = officer.post("/work/sampling/plans/new/", {
        "title": "2026年西安市电线电缆产品质量监督抽查", "period_start": "2026-11-01",
        "period_end": "2026-12-31", "categories": [w["categories"]["cable"].pk],
        "division_prefixes": ["6101"], "entities": "", "online": "on", "target_count": "5"})
    plan = SamplingPlan.objects.get()
    assert resp.status_code == 302
    assert resp["Location"] == f"/work/sampling/plans/{plan.pk}/"
    assert (plan.code, plan.online, plan.division_prefixes) == ("CJ2026-0001", True, ["6101"])
    resp = officer.post(f"/work/sampling/plans/{plan.pk}/activate/")
    assert resp.status_code == 302
    page = officer.get(f"/work/sampling/plans/{plan.pk}/").content.decode()
    assert text(page, "plan-status") == "Active"
    assert 'id="action-sample-create"' in page

    form = officer.get(f"/work/sampling/plans/{plan.pk}/samples/new/")
    assert form.status_code == 200
    assert 'name="viewport"' in form.content.decode()
    data = {"channel": "on_site", "entity": w["xian_entity"].uscc.lower(), "producer": "",
            "product_name": "电力电缆", "model": "YJV", "category": w["categories"]["cable"].pk,
            "batch": "B2026-11", "quantity": "30", "unit": "m",
            "place": "西安市雁塔区测试路1号", "seal_number": "FY-0001",
            "sampled_at": "2026-11-02T09:00", "lab": w["baoji_lab"].pk}
    resp = officer.post(f"/work/sampling/plans/{plan.pk}/samples/new/", data)
    assert resp.status_code == 200
    assert field_error(resp.content.decode(), "lab") == (
        "宝鸡测试检测中心 holds no accreditation scope line valid on 2026-11-02 for a standard "
        "of 电线电缆; assign a lab accredited to test it.")
    resp = officer.post(f"/work/sampling/plans/{plan.pk}/samples/new/",
                        data | {"entity": "91610000XXXXXXXXXX"})
    assert field_error(resp.content.decode(), "entity") == (
        "No market entity has the unified social credit code 91610000XXXXXXXXXX; check the "
        "code.")
    assert Sample.objects.count() == 0
    resp = officer.post(f"/work/sampling/plans/{plan.pk}/samples/new/",
                        data | {"lab": w["lab"].pk})
    sample = Sample.objects.get()
    assert resp["Location"] == f"/work/sampling/samples/{sample.pk}/"
    page = officer.get(resp["Location"]).content.decode()
    assert text(page, "custody-problems") == (
        "The chain of custody is not intact: The sample is held by xian, who is not a user of "
        "the assigned lab: hand it over to the lab.")
    resp = officer.post(f"/work/sampling/samples/{sample.pk}/photos/",
                        {"file": SimpleUploadedFile("封样.jpg", JPEG, "image/jpeg")})
    assert resp.status_code == 302
    page = officer.get(f"/work/sampling/samples/{sample.pk}/").content.decode()
    assert "封样" not in text(page, "photo-list")  # named by digest, not by file name
    photo = sample.photos.get()
    assert officer.get(f"/work/sampling/samples/{sample.pk}/photos/{photo.pk}/").status_code == 200

    resp = officer.post(f"/work/sampling/samples/{sample.pk}/give/", {"to_user": "nobody"})
    assert field_error(resp.content.decode(), "to_user") == (
        "No active user is called nobody; check the username of the person who takes the "
        "sample.")
    resp = officer.post(f"/work/sampling/samples/{sample.pk}/give/", {"to_user": "xian2",
                                                                      "note": "送检"})
    assert resp.status_code == 302
    carrier = make_client(courier, "en")
    page = carrier.get("/work/sampling/").content.decode()
    assert "CY2026-000001" in text(page, "waiting-handovers")
    resp = carrier.post(f"/work/sampling/samples/{sample.pk}/receive/", {"seal_number_seen": ""})
    html = resp.content.decode()
    assert field_error(html, "seal_intact") == "This field is required."
    resp = carrier.post(f"/work/sampling/samples/{sample.pk}/receive/",
                        {"seal_intact": "yes", "seal_number_seen": "FY-0001"})
    assert resp.status_code == 302
    carrier.post(f"/work/sampling/samples/{sample.pk}/give/", {"to_user": "lab"})

    lab = make_client(lab_user, "en")
    page = lab.get("/work/sampling/lab/").content.decode()
    assert "CY2026-000001" in text(page, "waiting-handovers")
    resp = lab.post(f"/work/sampling/samples/{sample.pk}/receive/",
                    {"seal_intact": "no", "seal_number_seen": "FY-0001"})
    assert resp.status_code == 302
    page = lab.get(resp["Location"]).content.decode()
    assert text(page, "custody-problems") == (
        "The chain of custody is not intact: Hand-over 2: lab found the seal broken.")
    assert text(page, "handover-2").startswith("Hand-over 2: xian2 → lab")
    assert Handover.objects.filter(sample=sample, seal_intact=False).count() == 1


def test_refusals_of_plans_show_next_to_their_field(sworld, xian_officer):
    officer = make_client(xian_officer, "en")
    before = fingerprint()
    resp = officer.post("/work/sampling/plans/new/", {
        "title": "x", "period_start": "2026-12-01", "period_end": "2026-11-01",
        "target_count": "0", "entities": "91610000XXXXXXXXXX"})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert field_error(html, "entities") == (
        "No market entity has the unified social credit code 91610000XXXXXXXXXX; check the "
        "code.")
    resp = officer.post("/work/sampling/plans/new/", {
        "title": "x", "period_start": "2026-12-01", "period_end": "2026-11-01",
        "target_count": "0"})
    html = resp.content.decode()
    assert field_error(html, "categories") == ("Choose at least one product category: the "
                                               "scope is empty.")
    assert field_error(html, "period_end") == "The period ends before it starts."
    assert fingerprint() == before


def test_activating_twice_is_refused_on_the_page(sgrid, xian_officer):
    resp = make_client(xian_officer, "en").post(f"/work/sampling/plans/{sgrid['p1'].pk}/activate/")
    assert resp.status_code == 200
    assert text(resp.content.decode(), "action-errors") == (
        "Plan CJ2026-0001 is Active; only a draft can be activated.")


def test_the_sample_page_shows_result_duplicate_and_timeline(sgrid, xian_officer):
    page = make_client(xian_officer, "en").get(
        f"/work/sampling/samples/{sgrid['s3'].pk}/").content.decode()
    assert text(page, "sample-result") == "Nonconforming"
    assert 'href="/verify/BG-3/"' in page
    assert text(page, "failing-items").startswith("Test item Requirement Measured value 导体电阻")
    assert "The chain of custody is intact" in text(page, "custody-intact")
    assert 'id="give"' not in page  # the result is out
    page = make_client(xian_officer, "en").get(
        f"/work/sampling/samples/{sgrid['s4'].pk}/").content.decode()
    assert text(page, "custody-problems") == (
        "The chain of custody is not intact: Hand-over 1: lab has not yet confirmed receipt.")
    assert 'id="receive"' not in page


def test_a_duplicate_is_flagged_on_its_page(sgrid, xian_officer):
    from tests.sampling.conftest import at, record

    s = record(sgrid, sgrid["p1"], xian_officer, batch="B-1", seal_number="FY-X",
               sampled_at=at(20), reason="群众举报")
    page = make_client(xian_officer, "en").get(f"/work/sampling/samples/{s.pk}/").content.decode()
    assert text(page, "duplicate-flag") == (
        "Duplicate sampling: this batch already had a recognised supervisory result (report "
        "BG-1 by 西安测试检测中心, issued on 2026-11-10). Reason for sampling again: 群众举报")
    listing = make_client(xian_officer, "en").get("/work/sampling/samples/").content.decode()
    assert text(listing, f"sample-{s.code}").startswith(f"{s.code} Duplicate")


def test_the_lab_page_lists_the_labs_samples_and_what_waits(sgrid, lab_user):
    page = make_client(lab_user, "en").get("/work/sampling/lab/").content.decode()
    assert re.findall(r'id="sample-(CY[\d-]+)"', page) == [
        "CY2026-000004", "CY2026-000003", "CY2026-000002", "CY2026-000001"]
    assert text(page, "waiting-CY2026-000004").startswith("CY2026-000004")
    assert text(page, "to-report") == "0"


def test_disposals_are_decided_and_closed_on_their_page(sgrid, xian_officer,
                                                       province_officer):
    d = sgrid["d1"]
    url = f"/work/sampling/disposals/{d.pk}/"
    page = make_client(province_officer, "en").get(url).content.decode()
    assert 'id="decide-form"' not in page
    officer = make_client(xian_officer, "en")
    resp = officer.post(url + "decide/", {"kind": "case", "decision": " "})
    assert field_error(resp.content.decode(), "decision") == "This field is required."
    resp = officer.post(url + "decide/", {"kind": "rectification", "decision": "责令整改"})
    assert resp.status_code == 302
    page = officer.get(url).content.decode()
    assert text(page, "disposal-kind") == "Rectification order"
    resp = officer.post(url + "close/", {"note": "复查合格"})
    assert resp.status_code == 302
    assert text(officer.get(url).content.decode(), "disposal-status") == "Closed"
    listing = officer.get("/work/sampling/disposals/?status=closed").content.decode()
    assert text(listing, f"disposal-{d.pk}").startswith("BG-3")
    resp = make_client(province_officer, "en").post(url + "close/", {"note": "x"})
    assert resp.status_code == 403


def test_the_batch_lookup_shows_recognised_results(sgrid, baoji_officer):
    page = make_client(baoji_officer, "en").get("/work/sampling/batch-results/", {
        "uscc": sgrid["xian_entity"].uscc, "batch": "B-3"}).content.decode()
    assert text(page, "batch-BG-3").startswith("BG-3 西安测试检测中心 2026-11-10 Nonconforming "
                                               "2027-05-09")
    page = make_client(baoji_officer, "en").get("/work/sampling/batch-results/", {
        "uscc": sgrid["xian_entity"].uscc, "batch": "nope"}).content.decode()
    assert text(page, "no-results") == "No supervisory result for this batch."


def test_a_sample_list_query(sgrid, xian_officer):
    page = make_client(xian_officer, "en").get("/work/sampling/samples/", {"q": "B-2"}).content.decode()
    assert re.findall(r'id="sample-(CY[\d-]+)"', page) == [S2]


@pytest.mark.parametrize(("persona", "suffix", "body"), [
    ("province_officer", "give/", {"to_user": "lab"}),
    ("lab_user", "give/", {"to_user": "lab"}),
    ("province_officer", "photos/", {"file": SimpleUploadedFile("x.jpg", JPEG)}),
])
def test_actions_refused_to_those_who_only_see_the_sample(persona, suffix, body, sgrid,
                                                          request):
    before = fingerprint()
    resp = client_for(request, persona).post(
        f"/work/sampling/samples/{sgrid['s2'].pk}/{suffix}", body)
    assert resp.status_code == 403
    assert fingerprint() == before


def test_receiving_is_refused_to_anyone_but_the_receiver(sgrid, xian_officer, baoji_officer):
    before = fingerprint()
    url = f"/work/sampling/samples/{sgrid['s4'].pk}/receive/"
    body = {"seal_intact": "yes", "seal_number_seen": "FY-4"}
    assert make_client(xian_officer, "en").post(url, body).status_code == 403
    assert make_client(baoji_officer, "en").post(url, body).status_code == 404
    assert fingerprint() == before
