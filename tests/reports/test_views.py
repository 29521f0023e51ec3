"""The test-report pages (/work/reports/): who may open what (200, 403, or 404 like an
absent record), the lab's flows through the forms — draft then issue with the platform-held
key, prepare then sign with its own key, keys, instruments and calibrations, a hazard —
the regulators' revocation and hazard acknowledgement, and refusals shown next to their
field. The grid is tests/reports/test_api.py's."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re

import pytest
from django.utils import timezone

from tests.reports.test_api import (
    BJ,
    DRAFT,
    SUP,
    XA,
    build,
    lab_key_pair,
    received_sample,
)
from tests.web.conftest import _audit_key, compiled_messages, make_client  # noqa: F401
from zhijian.core.models import AuditEntry
from zhijian.reports.models import Calibration, HazardReport, Instrument, LabKey, Report

pytestmark = pytest.mark.django_db

TITLE = re.compile(r'data-testid="page-title">\s*(.*?)\s*</h1>', re.S)
PERSONAS = ["anonymous", "admin_user", "province_officer", "xian_officer", "baoji_officer",
            "xian_housing_officer", "enterprise_user", "lab_user", "user_unit_user"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def rgrid(world, lab_user, xian_officer, user_unit_user):
    return build(world, lab_user, xian_officer, user_unit_user)


def user_of(request, persona):
    return None if persona == "anonymous" else request.getfixturevalue(persona)


def page_title(response) -> str:
    match = TITLE.search(response.content.decode())
    assert match, "page has no data-testid=page-title heading"
    return match.group(1)


def block(html: str, element_id: str) -> str:
    """The text of the element with this id (up to its first closing tag of that kind)."""
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element #{element_id}"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2))).strip()
    return htmllib.unescape(text)


def field_error(html: str, name: str) -> str:
    match = re.search(rf'id="id_{name}_error">(.*?)</div>\s*</div>', html, re.S)
    assert match, f"no error shown next to {name}"
    return htmllib.unescape(re.sub(r"<[^>]+>", "", match.group(1)).strip())


def state() -> tuple:
    return (list(Report.objects.order_by("pk").values()), list(LabKey.objects.values()),
            list(Instrument.objects.values()), list(Calibration.objects.values()),
            list(HazardReport.objects.values()), AuditEntry.objects.count())


# --- who may open what -------------------------------------------------------------------------

EVERY_ROLE = dict.fromkeys(PERSONAS[1:], 200)
LAB_PAGE = {p: 403 for p in PERSONAS[1:]} | {"lab_user": 200}
XA_PAGE = {"admin_user": 200, "province_officer": 200, "xian_officer": 200,
           "baoji_officer": 404, "xian_housing_officer": 404, "enterprise_user": 200,
           "lab_user": 200, "user_unit_user": 404}
DRAFT_PAGE = dict.fromkeys(PERSONAS[1:], 404) | {"admin_user": 200, "lab_user": 200}
BJ_PAGE = {"admin_user": 200, "province_officer": 200, "xian_officer": 404, "baoji_officer": 200,
           "xian_housing_officer": 404, "enterprise_user": 200, "lab_user": 404,
           "user_unit_user": 200}
HAZARD_PAGE = EVERY_ROLE | {"enterprise_user": 403, "user_unit_user": 403}


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_open_each_page(request, rgrid, persona):
    client = make_client(user_of(request, persona), "en")
    pages = [
        ("/work/reports/", EVERY_ROLE),
        ("/work/reports/new/", LAB_PAGE),
        (f"/work/reports/{rgrid['xa'].pk}/", XA_PAGE),
        (f"/work/reports/{rgrid['xa'].pk}/pdf/", XA_PAGE),
        (f"/work/reports/{rgrid['draft'].pk}/", DRAFT_PAGE),
        (f"/work/reports/{rgrid['bj'].pk}/", BJ_PAGE),
        (f"/work/reports/{10**9}/", dict.fromkeys(PERSONAS[1:], 404)),
        ("/work/reports/keys/", LAB_PAGE),
        ("/work/reports/instruments/", LAB_PAGE),
        ("/work/reports/hazards/", HAZARD_PAGE),
    ]
    for url, expect in pages:
        response = client.get(url)
        if persona == "anonymous":
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/?next="), url
        else:
            assert response.status_code == expect[persona], (persona, url)


def rows(html: str, table: str) -> set[str]:
    body = re.search(rf'id="{table}".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return set(re.findall(r'<td class="font-monospace text-nowrap"><a [^>]*>([^<]+)</a>', body))


@pytest.mark.parametrize(("persona", "numbers"), [
    ("admin_user", {XA, SUP, DRAFT, BJ}), ("province_officer", {XA, SUP, BJ}),
    ("xian_officer", {XA, SUP}), ("baoji_officer", {SUP, BJ}), ("xian_housing_officer", {SUP}),
    ("enterprise_user", {XA, SUP, BJ}), ("lab_user", {XA, SUP, DRAFT}),
    ("user_unit_user", {BJ}),
])
def test_the_list_shows_what_each_role_may_see(request, rgrid, persona, numbers):
    client = make_client(user_of(request, persona), "en")
    html = client.get("/work/reports/").content.decode()
    assert rows(html, "report-table") == numbers


def test_the_list_searches_number_producer_and_batch(rgrid, admin_user):
    client = make_client(admin_user, "en")

    def found(query):
        return rows(client.get(f"/work/reports/?{query}").content.decode(), "report-table")

    assert found("q=SUP") == {SUP}
    assert found("q=宝鸡测试钢铁") == {BJ}
    assert found(f"q={rgrid['xian_entity'].uscc}") == {XA, SUP, DRAFT}
    assert found("q=B2026-11") == {XA, DRAFT, BJ}
    assert found("q=S2026") == {SUP}
    assert found("q=XA&status=draft") == {DRAFT}
    html = client.get("/work/reports/?q=NOTHING").content.decode()
    assert block(html, "no-results") == "No test reports match."


def test_the_pages_render_in_chinese(rgrid, lab_user):
    client = make_client(lab_user)
    for url in ("/work/reports/", "/work/reports/new/", f"/work/reports/{rgrid['xa'].pk}/",
                f"/work/reports/{rgrid['draft'].pk}/", "/work/reports/keys/",
                "/work/reports/instruments/", "/work/reports/hazards/"):
        response = client.get(url)
        assert (response.status_code, response["Content-Language"]) == (200, "zh-hans"), url


# --- the lab's report form ----------------------------------------------------------------------

def report_post(g, **over) -> dict:
    day = timezone.localdate()
    data = {
        "number": "XA-WEB-1", "kind": "commissioned", "sample": "",
        "producer": g["xian_entity"].uscc, "client": "", "product_name": "聚氯乙烯绝缘电缆",
        "model": "BV 2.5", "category": g["categories"]["cable"].pk, "batch": "W2026-11",
        "quantity_covered": "800", "unit": "m", "standard": g["cable_std"].pk,
        "received_on": str(day - dt.timedelta(days=5)),
        "tested_from": str(day - dt.timedelta(days=4)),
        "tested_to": str(day - dt.timedelta(days=1)), "conclusion": "pass", "remarks": "",
        "authorised_by": "王工", "supersedes": "", "instruments": [g["instrument"].pk],
        # Row 1 and row 4 filled, the rest empty (ignored).
        "item_1_parameter": "导体电阻", "item_1_requirement": "≤1.83 Ω/km",
        "item_1_measured": "1.79", "item_1_unit": "Ω/km", "item_1_verdict": "pass",
        "item_4_parameter": "绝缘厚度", "item_4_requirement": "≥0.7 mm",
        "item_4_measured": "0.74", "item_4_unit": "mm", "item_4_verdict": "pass",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_has_twelve_item_rows_and_lists_own_received_samples(rgrid, lab_user,
                                                                     xian_officer):
    fresh = received_sample(rgrid, xian_officer, lab_user, batch="S2026-12", seal="FY-0002")
    html = make_client(lab_user, "en").get("/work/reports/new/").content.decode()
    assert page_title(make_client(lab_user, "en").get("/work/reports/new/")) == "New test report"
    assert len(re.findall(r'<tr id="item-row-\d+">', html)) == 12
    sample_select = re.search(r'<select name="sample".*?</select>', html, re.S).group(0)
    # The supervisory sample already has its issued report: a new one would replace it.
    assert fresh.code in sample_select
    assert rgrid["sample"].code not in sample_select
    instruments = re.search(r'id="field-instruments".*?</fieldset>', html, re.S).group(0)
    assert rgrid["instrument"].serial_number in instruments
    assert rgrid["baoji_instrument"].serial_number not in instruments


def test_draft_then_issue_with_the_platform_held_key(rgrid, lab_user):
    client = make_client(lab_user, "en")
    response = client.post("/work/reports/new/", report_post(rgrid))
    report = Report.objects.get(number="XA-WEB-1")
    assert response.status_code == 302
    assert response["Location"] == f"/work/reports/{report.pk}/"
    assert report.status == "draft"
    assert list(report.items.values_list("position", "parameter", "verdict")) == [
        (1, "导体电阻", "pass"), (2, "绝缘厚度", "pass")]
    html = client.get(response["Location"]).content.decode()
    assert 'id="action-issue"' in html
    assert 'id="verification"' not in html
    response = client.post(f"/work/reports/{report.pk}/issue/")
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.key.custody) == ("issued", "platform")
    html = client.get(f"/work/reports/{report.pk}/").content.decode()
    assert block(html, "verification-result") == "Genuine and valid"
    assert block(html, "check-signature") == (
        f"passed Signed with the laboratory's registered key {report.key.key_id}.")
    assert block(html, "custody-note") == ("The signing key is held by the platform on the "
                                           "laboratory's behalf, not by the laboratory itself.")
    assert 'id="action-pdf"' in html
    assert 'id="signing"' not in html


def test_prepare_shows_the_payload_and_the_signature_issues(rgrid, lab_user):
    client = make_client(lab_user, "en")
    draft = rgrid["draft"]
    key = rgrid["own_key"]
    response = client.post(f"/work/reports/{draft.pk}/prepare/", {"key": key.key_id})
    assert response.status_code == 302
    draft.refresh_from_db()
    html = client.get(f"/work/reports/{draft.pk}/").content.decode()
    shown = re.search(r'<textarea[^>]*id="payload"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert shown.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<") \
        .replace("&gt;", ">").replace("&#x27;", "'") == draft.payload
    before = state()
    response = client.post(f"/work/reports/{draft.pk}/sign/", {"signature": "ab" * 64})
    assert response.status_code == 200
    assert field_error(response.content.decode(), "signature") == (
        f"The signature does not verify with key {key.key_id} over the prepared payload; sign "
        "exactly the payload you were given, with that key.")
    assert state() == before
    signature = rgrid["private"].sign(draft.payload.encode("utf-8")).hex()
    response = client.post(f"/work/reports/{draft.pk}/sign/", {"signature": signature})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.signature) == ("issued", signature)
    html = client.get(f"/work/reports/{draft.pk}/").content.decode()
    assert block(html, "verification-result") == "Genuine and valid"
    assert 'id="custody-note"' not in html


def test_form_refusals_are_shown_next_to_their_field(rgrid, lab_user):
    client = make_client(lab_user, "en")
    before = state()
    response = client.post("/work/reports/new/", report_post(
        rgrid, producer="91610000XXXXXXXXXX", supersedes="NOPE-1",
        item_2_parameter="外径", item_2_verdict="", **{"item_2_requirement": "≤5 mm"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert field_error(html, "producer") == (
        "No market entity has the USCC 91610000XXXXXXXXXX; check the code (18 characters) or "
        "ask a regulator to register the entity.")
    assert field_error(html, "supersedes") == (
        "Your laboratory has no current issued report numbered NOPE-1; give the number of the "
        "report this one replaces, or leave the field empty.")
    assert block(html, "item-errors") == ("Row 2: fill in measured value, or empty the whole "
                                          "row. Row 2: fill in verdict, or empty the whole row.")
    # The service's refusals land next to their fields too.
    response = client.post("/work/reports/new/", report_post(
        rgrid, number=XA, conclusion="pass", item_1_verdict="fail"))
    html = response.content.decode()
    assert field_error(html, "number") == "A report with this number already exists."
    assert field_error(html, "conclusion") == ("An item failed, so the conclusion cannot be "
                                               "conforming.")
    response = client.post("/work/reports/new/", report_post(
        rgrid, item_1_parameter="", item_1_requirement="", item_1_measured="", item_1_unit="",
        item_1_verdict="", item_4_parameter="", item_4_requirement="", item_4_measured="",
        item_4_unit="", item_4_verdict=""))
    assert block(response.content.decode(), "form-errors") == (
        "Add at least one test item in the table.")
    assert state() == before


# --- revocation ---------------------------------------------------------------------------------

def test_a_regulator_revokes_with_a_reason(rgrid, xian_officer):
    client = make_client(xian_officer, "en")
    url = f"/work/reports/{rgrid['xa'].pk}/"
    assert 'id="revoke-form"' in client.get(url).content.decode()
    before = state()
    response = client.post(url + "revoke/", {"reason": ""})
    assert field_error(response.content.decode(), "reason") == "This field is required."
    assert state() == before
    response = client.post(url + "revoke/", {"reason": "检测数据录入错误，报告作废"})
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert block(html, "report-status") == "Revoked"
    assert "检测数据录入错误，报告作废" in block(html, "revocation")
    assert block(html, "check-revocation") == "failed The report was revoked: 检测数据录入错误，报告作废"
    assert 'id="revoke-form"' not in html


@pytest.mark.parametrize(("persona", "status"), [("baoji_officer", 404),
                                                 ("xian_housing_officer", 404),
                                                 ("enterprise_user", 403),
                                                 ("user_unit_user", 404)])
def test_others_cannot_revoke(request, rgrid, persona, status):
    client = make_client(request.getfixturevalue(persona), "en")
    before = state()
    response = client.post(f"/work/reports/{rgrid['xa'].pk}/revoke/", {"reason": "不应允许撤销"})
    assert response.status_code == status
    assert state() == before


@pytest.mark.parametrize("suffix", ["issue/", "prepare/", "sign/", "hazard/"])
@pytest.mark.parametrize(("persona", "status"), [("province_officer", 403),
                                                 ("enterprise_user", 403),
                                                 ("baoji_officer", 404)])
def test_only_the_lab_acts_on_its_report(request, rgrid, suffix, persona, status):
    client = make_client(request.getfixturevalue(persona), "en")
    before = state()
    response = client.post(f"/work/reports/{rgrid['xa'].pk}/{suffix}",
                           {"signature": "ab" * 64, "description": "隐患", "key": "x"})
    assert response.status_code == status
    assert state() == before


# --- hazards ------------------------------------------------------------------------------------

def test_a_hazard_from_the_report_page_reaches_the_department(rgrid, lab_user, xian_officer,
                                                             province_officer):
    client = make_client(lab_user, "en")
    url = f"/work/reports/{rgrid['sup'].pk}/"
    response = client.post(url + "hazard/", {"description": "  "})
    assert field_error(response.content.decode(), "description") == "This field is required."
    response = client.post(url + "hazard/", {"description": "护套开裂，存在触电风险"})
    assert response.status_code == 302
    hazard = HazardReport.objects.get(report=rgrid["sup"])
    assert (hazard.department, hazard.status) == (rgrid["departments"]["xian"], "open")
    assert "西安市市场监督管理局" in block(client.get(url).content.decode(), "hazards-filed")

    html = make_client(province_officer, "en").get("/work/reports/hazards/").content.decode()
    assert "护套开裂，存在触电风险" in html
    assert f'id="action-acknowledge-{hazard.pk}"' not in html
    before = state()
    response = make_client(province_officer, "en").post(
        f"/work/reports/hazards/{hazard.pk}/acknowledge/")
    assert response.status_code == 403
    assert state() == before

    officer = make_client(xian_officer, "en")
    html = officer.get("/work/reports/hazards/?status=open").content.decode()
    assert f'id="action-acknowledge-{hazard.pk}"' in html
    response = officer.post(f"/work/reports/hazards/{hazard.pk}/acknowledge/")
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert (hazard.status, hazard.acknowledged_by) == ("acknowledged", xian_officer)
    html = officer.get("/work/reports/hazards/?status=open").content.decode()
    assert f'id="hazard-{hazard.pk}"' not in html


def test_the_hazard_list_shows_what_each_role_may_see(request, rgrid):
    expected = {"admin_user": {"h_xian", "h_baoji"}, "province_officer": {"h_xian", "h_baoji"},
                "xian_officer": {"h_xian"}, "baoji_officer": {"h_baoji"},
                "xian_housing_officer": set(), "lab_user": {"h_xian", "h_baoji"}}
    for persona, keys in expected.items():
        html = make_client(request.getfixturevalue(persona), "en").get(
            "/work/reports/hazards/").content.decode()
        shown = {k for k in ("h_xian", "h_baoji") if f'id="hazard-{rgrid[k].pk}"' in html}
        assert shown == keys, persona


def test_a_hazard_not_yours_is_404(rgrid, baoji_officer):
    before = state()
    response = make_client(baoji_officer, "en").post(
        f"/work/reports/hazards/{rgrid['h_xian'].pk}/acknowledge/")
    assert response.status_code == 404
    assert state() == before


# --- keys ---------------------------------------------------------------------------------------

def test_register_generate_and_retire_keys(rgrid, lab_user):
    client = make_client(lab_user, "en")
    html = client.get("/work/reports/keys/").content.decode()
    assert block(html, "custody-warning").startswith(
        "Warning: with a platform-held key, the platform, not your laboratory, holds the "
        "private key and signs in your laboratory's name.")
    before = state()
    response = client.post("/work/reports/keys/", {"public_key": "zz"})
    assert field_error(response.content.decode(), "public_key") == (
        "Give the raw Ed25519 public key: 32 bytes as 64 hexadecimal digits.")
    response = client.post("/work/reports/keys/generate/", {})
    assert field_error(response.content.decode(), "confirm") == (
        "Tick the box to confirm that the platform will hold the private key.")
    assert state() == before

    _, public_hex = lab_key_pair()
    response = client.post("/work/reports/keys/", {"public_key": public_hex.upper()})
    assert response.status_code == 302
    key = LabKey.objects.get(public_key=public_hex)
    assert (key.lab, key.custody, key.registered_by) == (rgrid["lab"], "lab", lab_user)
    response = client.post("/work/reports/keys/generate/", {"confirm": "on"})
    assert response.status_code == 302
    assert LabKey.objects.filter(lab=rgrid["lab"], custody="platform").count() == 2

    response = client.post(f"/work/reports/keys/{key.key_id}/retire/", {"reason": "轮换"})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.retired_at is not None
    html = client.get("/work/reports/keys/").content.decode()
    assert f'id="action-retire-{key.key_id}"' not in html
    assert f'id="action-retire-{rgrid["own_key"].key_id}"' in html


def test_another_labs_key_cannot_be_retired(rgrid, lab_user):
    before = state()
    response = make_client(lab_user, "en").post(
        f"/work/reports/keys/{rgrid['baoji_key'].key_id}/retire/", {"reason": "x"})
    assert response.status_code == 404
    assert state() == before


# --- instruments --------------------------------------------------------------------------------

def test_add_an_instrument_and_its_calibration(rgrid, lab_user):
    client = make_client(lab_user, "en")
    before = state()
    response = client.post("/work/reports/instruments/",
                           {"name": "测厚仪", "serial_number": rgrid["instrument"].serial_number})
    assert field_error(response.content.decode(), "serial_number") == (
        "The laboratory already has an instrument with this serial number.")
    assert state() == before
    response = client.post("/work/reports/instruments/",
                           {"name": "数字测厚仪", "model": "CH-2", "serial_number": "CH-0007"})
    assert response.status_code == 302
    instrument = Instrument.objects.get(serial_number="CH-0007")
    prefix = f"cal{instrument.pk}-"
    url = f"/work/reports/instruments/{instrument.pk}/calibrations/"
    response = client.post(url, {prefix + "certificate_number": "JZ-7",
                                 prefix + "calibrated_by": "陕西省计量科学研究院",
                                 prefix + "calibrated_on": "2026-06-01",
                                 prefix + "valid_until": "2026-05-01"})
    assert response.status_code == 200
    assert field_error(response.content.decode(), "valid_until") == (
        "The validity must end on or after the calibration date.")
    response = client.post(url, {prefix + "certificate_number": "JZ-7",
                                 prefix + "calibrated_by": "陕西省计量科学研究院",
                                 prefix + "calibrated_on": "2026-06-01",
                                 prefix + "valid_until": "2027-05-31"})
    assert response.status_code == 302
    assert list(instrument.calibrations.values_list("certificate_number", "valid_until")) == [
        ("JZ-7", dt.date(2027, 5, 31))]
    html = client.get("/work/reports/instruments/").content.decode()
    assert "JZ-7" in block(html, f"instrument-{instrument.pk}")


def test_another_labs_instrument_is_404(rgrid, lab_user):
    before = state()
    response = make_client(lab_user, "en").post(
        f"/work/reports/instruments/{rgrid['baoji_instrument'].pk}/calibrations/", {})
    assert response.status_code == 404
    assert state() == before


def test_the_detail_page_shows_items_instruments_and_calibration(rgrid, enterprise_user):
    html = make_client(enterprise_user, "en").get(
        f"/work/reports/{rgrid['bj'].pk}/").content.decode()
    cal = rgrid["baoji_instrument"].calibrations.get()
    assert block(html, "report-batch") == "B2026-11"
    table = re.search(r'id="instrument-table".*?</table>', html, re.S).group(0)
    assert cal.certificate_number in table
    assert "导体电阻" in re.search(r'id="item-table".*?</table>', html, re.S).group(0)
    # A firm sees the report and its verification but none of the lab's or regulator's
    # actions.
    for element in ("signing", "revoke-form", "hazard-form"):
        assert f'id="{element}"' not in html


def test_a_refused_issue_shows_its_reason(rgrid, lab_user):
    from zhijian.reports import services

    services.key_retire(actor=lab_user, key_id=rgrid["platform_key"].key_id)
    client = make_client(lab_user, "en")
    html = client.get(f"/work/reports/{rgrid['draft'].pk}/").content.decode()
    assert 'id="action-issue"' not in html
    assert 'id="action-prepare"' in html
    before = state()
    response = client.post(f"/work/reports/{rgrid['draft'].pk}/issue/")
    assert response.status_code == 200
    assert block(response.content.decode(), "issue-errors") == (
        "The laboratory has no key held by the platform. Prepare the report and sign it with "
        "your own key, or create a platform-held key first.")
    assert state() == before


@pytest.mark.parametrize("model", ["report", "labkey", "instrument", "revocation",
                                   "hazardreport"])
def test_the_admin_shows_the_records_read_only(rgrid, admin_user, model):
    client = make_client(admin_user, "en")
    assert client.get(f"/admin/reports/{model}/").status_code == 200
    assert client.get(f"/admin/reports/{model}/add/").status_code == 403
