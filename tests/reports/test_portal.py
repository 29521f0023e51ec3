"""Public verification of test reports: the portal pages (the number form, the result page
with its verdict, checks, facts, printed-copy check, revocation, downloads and PDF
comparison; 404 for drafts and unknown numbers) and the public API (verification, bundle,
revocation statement) with its authorization matrix, throttle and schema."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from django.utils.html import escape

from tests import factories as f
from tests.api.conftest import _FIXTURE, PERSONAS
from tests.api.matrix import ALL, Case
from tests.reports.helpers import DEFAULT_ITEMS, issue_report, ready_lab
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.portal import reports as portal
from zhijian.reports import offline, services
from zhijian.reports.models import Report, Revocation, Signal
from zhijian.reports.public_api import PublicReportThrottle, router

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 20)
TITLE = re.compile(r'data-testid="page-title">\s*(?:<i [^>]*></i>)?\s*(.*?)\s*</h1>', re.S)


@pytest.fixture(autouse=True)
def _keys(settings, tmp_path):
    settings.ZHIJIAN_AUDIT_KEY_FILE = tmp_path / "audit-key.pem"
    cache.clear()  # the throttle's counts


@pytest.fixture
def standard(world):
    std = f.StandardFactory(code="GB/T 5023.3-2008", title="额定电压450/750V及以下聚氯乙烯绝缘电缆")
    std.categories.set([world["categories"]["cable"]])
    return std


def issue(world, standard, **over):
    kwargs = {"lab": world["lab"], "producer": world["xian_entity"],
              "category": world["categories"]["cable"], "standard": standard,
              "batch": "2026-11-A", "issued_on": TODAY}
    kwargs.update(over)
    return issue_report(**kwargs)


@pytest.fixture
def issued(world, standard):
    return issue(world, standard, number="JC2026-0001")


def client(lang="en") -> Client:
    c = Client()
    c.cookies["django_language"] = lang
    return c


def page(response) -> str:
    return response.content.decode()


def title(response) -> str:
    return TITLE.search(page(response)).group(1)


def fragment(report) -> str:
    return services.data_digest(services.report_data(report))[:16]


def nothing_written() -> tuple:
    return (AuditEntry.objects.count(), OutboxEvent.objects.count(), Signal.objects.count(),
            list(Report.objects.order_by("pk").values()))


# --- the number form ---------------------------------------------------------------------------

def test_the_form_redirects_to_the_result_page():
    c = client()
    response = c.get("/verify/")
    assert response.status_code == 200
    assert title(response) == "Verify a test report"
    assert 'name="number"' in page(response)
    response = c.get("/verify/", {"number": "  JC2026-001 "})
    assert response.status_code == 302
    assert response["Location"] == "/verify/JC2026-001/"


@pytest.mark.parametrize("number", ["", "a", "JC 2026 01", "JC/2026/001", "报告2026",
                                    "x" * 41])
def test_a_malformed_number_is_refused_on_the_field(number):
    response = client().get("/verify/", {"number": number})
    assert response.status_code == 400
    error = re.search(r'id="id_number_error"><div>(.*?)</div>', page(response)).group(1)
    expected = {"": "This field is required.",
                "x" * 41: "Ensure this value has at most 40 characters (it has 41)."}.get(
        number, "A report number has 3 to 40 letters, digits, &#x27;-&#x27;, &#x27;_&#x27; "
                "or &#x27;.&#x27;; type it as printed on the report.")
    assert error == expected


# --- the result page ----------------------------------------------------------------------------

def test_a_genuine_valid_report_shows_every_check_its_facts_and_the_downloads(world, issued):
    response = client().get(f"/verify/{issued.number}/")
    assert response.status_code == 200
    html = page(response)
    assert title(response) == "Genuine and valid"
    assert 'data-verdict="valid"' in html
    checks = re.findall(r'data-check="(\w+)" data-ok="(\d)"', html)
    assert checks == [("found", "1"), ("signature", "1"), ("accreditation", "1"),
                      ("lab_status", "1"), ("calibration", "1"), ("revocation", "1"),
                      ("superseded", "1")]
    with translation.override("en"):
        messages = services.report_verify(issued.number).messages()
    for _key, _ok, message in messages:
        assert escape(message) in html
    assert "Signed with the laboratory&#x27;s registered key " + issued.key.key_id in html
    assert 'id="custody-note"' in html and str(services.CUSTODY_NOTE).replace(
        "'", "&#x27;") in html
    facts = dict(re.findall(r'<dd class="col-7[^"]*" id="fact-(\w+(?:-\w+)?)">(.*?)</dd>',
                            html, re.S))
    assert facts["number"] == "JC2026-0001"
    assert f'href="/labs/{world["lab"].pk}/"' in facts["lab"] and "西安测试检测中心" in facts["lab"]
    assert "西安测试电缆有限公司" in facts["producer"] and world["xian_entity"].uscc in facts[
        "producer"]
    assert facts["product"] == "聚氯乙烯绝缘电缆 BV 2.5"
    assert facts["batch"] == "2026-11-A"
    assert facts["quantity"] == "1,000 m"
    assert facts["standard"] == "GB/T 5023.3-2008 额定电压450/750V及以下聚氯乙烯绝缘电缆"
    assert facts["issued-on"] == "2026-11-20"
    assert facts["conclusion"] == "Conforming"
    assert 'id="copy-check"' not in html  # no ?h= given
    assert 'href="/verify/JC2026-0001/bundle.json"' in html
    assert 'href="/verify/offline.py"' in html
    assert hashlib.sha256(Path(offline.__file__).read_bytes()).hexdigest() in html
    assert issued.pdf_sha256 in html
    assert 'action="/verify/JC2026-0001/pdf-check/"' in html


def test_the_page_is_in_chinese_by_default(issued):
    response = client("zh-hans").get(f"/verify/{issued.number}/")
    assert response.status_code == 200
    assert 'lang="zh-Hans"' in page(response)


def test_the_printed_copy_matches_or_not(issued):
    c = client()
    good = page(c.get(f"/verify/{issued.number}/", {"h": fragment(issued)}))
    assert 'id="copy-check" data-match="1"' in good
    assert "This printed copy matches the record" in good
    full = page(c.get(f"/verify/{issued.number}/", {"h": services.data_digest(
        services.report_data(issued)).upper()}))
    assert 'id="copy-check" data-match="1"' in full
    for wrong in ["0" * 16, fragment(issued)[:15], "not-hex-at-all!!"]:
        html = page(c.get(f"/verify/{issued.number}/", {"h": wrong}))
        assert 'id="copy-check" data-match="0"' in html, wrong
        assert "This printed copy does not match the record" in html


def test_a_changed_record_is_not_genuine_and_the_copy_no_longer_matches(issued):
    h = fragment(issued)
    Report.objects.filter(pk=issued.pk).update(batch="2026-11-B")
    response = client().get(f"/verify/{issued.number}/", {"h": h})
    html = page(response)
    assert title(response) == "Not genuine"
    assert re.search(r'data-check="signature" data-ok="0"', html)
    assert "The record differs from what the laboratory signed in: batch." in html
    assert 'id="copy-check" data-match="0"' in html


@pytest.mark.parametrize("number", ["JC2026-9999", "draft"])
def test_drafts_and_unknown_numbers_are_404_in_the_same_style(world, standard, number):
    if number == "draft":
        signer, instrument = ready_lab(world["lab"], standard, day=TODAY)
        services.report_draft(actor=signer, data={
            "number": "JC2026-0500", "producer": world["xian_entity"],
            "category": world["categories"]["cable"], "product_name": "电缆", "batch": "A1",
            "quantity_covered": Decimal("10"), "unit": "m", "standard": standard,
            "received_on": TODAY - dt.timedelta(days=3),
            "tested_from": TODAY - dt.timedelta(days=2), "tested_to": TODAY,
            "conclusion": "pass", "authorised_by": "王工"},
            items=DEFAULT_ITEMS, instrument_ids=[instrument.pk], today=TODAY)
        number = "JC2026-0500"
    c = client()
    response = c.get(f"/verify/{number}/")
    assert response.status_code == 404
    assert title(response) == "No issued report with this number"
    assert f"No issued report has the number {number} on the platform." in page(response)
    assert 'id="verify-form"' in page(response)
    for suffix in ["bundle.json", "revocation.json"]:
        assert c.get(f"/verify/{number}/{suffix}").status_code == 404
        assert client().get(f"/api/v1/public/reports/{number}/verify/").status_code == 404
    response = c.post(f"/verify/{number}/pdf-check/", {"pdf": SimpleUploadedFile(
        "r.pdf", b"%PDF-1.7", "application/pdf")})
    assert response.status_code == 404
    assert title(response) == "No issued report with this number"


def test_a_number_with_dots_has_its_pages(world, standard):
    report = issue(world, standard, number="JC.2026.001")
    c = client()
    response = c.get("/verify/JC.2026.001/")
    assert response.status_code == 200 and title(response) == "Genuine and valid"
    assert 'href="/verify/JC.2026.001/bundle.json"' in page(response)
    bundle = json.loads(c.get("/verify/JC.2026.001/bundle.json").content)
    assert bundle["signature"] == report.signature
    response = client().get("/api/v1/public/reports/JC.2026.001/verify/")
    assert response.status_code == 200 and response.json()["number"] == "JC.2026.001"


# --- revoked and superseded ---------------------------------------------------------------------

def test_a_revoked_report_shows_its_reason_and_signed_statement(world, issued, xian_officer):
    revocation = services.report_revoke(actor=xian_officer, report_id=issued.pk,
                                        reason="样品与送检批次不符，报告作废")
    c = client()
    response = c.get(f"/verify/{issued.number}/")
    html = page(response)
    assert response.status_code == 200
    assert title(response) == "Genuine, but not valid"
    assert re.search(r'data-check="revocation" data-ok="0"', html)
    assert '<span id="revocation-reason">样品与送检批次不符，报告作废</span>' in html
    assert revocation.signature in html
    assert f'href="/api/v1/public/keys/{revocation.key_id}/"' in html
    assert 'id="revocation-signature-ok">signature verified' in html
    statement = json.loads(c.get(f"/verify/{issued.number}/revocation.json").content)
    assert statement["reason"] == "样品与送检批次不符，报告作废"
    assert statement["statement"] == revocation.statement
    assert statement["key_id"] == revocation.key_id
    assert client().get(f"/api/v1/public/keys/{revocation.key_id}/").json()["public_key"] \
        == statement["public_key"]
    bundle = json.loads(c.get(f"/verify/{issued.number}/bundle.json").content)
    checks = offline.verify_bundle(bundle)
    assert [(name, ok) for name, ok, _ in checks] == [
        ("key_id", True), ("payload", True), ("signature", True), ("revocation", False)]
    assert "样品与送检批次不符，报告作废" in checks[-1][2]


def test_revocation_of_a_current_report_is_404(issued):
    assert client().get(f"/verify/{issued.number}/revocation.json").status_code == 404
    response = client().get(f"/api/v1/public/reports/{issued.number}/revocation/",
                            HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == "Report JC2026-0001 has not been revoked."


def test_a_superseded_report_links_to_its_replacement(world, standard, issued):
    issue(world, standard, number="JC2026-0002", supersedes=issued)
    html = page(client().get(f"/verify/{issued.number}/"))
    assert "Genuine, but not valid" in html
    assert '<a href="/verify/JC2026-0002/" id="newer-link"' in html


# --- downloads and the PDF comparison -----------------------------------------------------------

def test_the_bundle_and_the_verifier_check_offline(issued):
    c = client()
    response = c.get(f"/verify/{issued.number}/bundle.json")
    assert response["Content-Disposition"] == \
        'attachment; filename="zhijian-report-JC2026-0001.json"'
    bundle = json.loads(response.content)
    assert bundle == {"payload": issued.payload, "signature": issued.signature,
                      "public_key": issued.key.public_key, "key_id": issued.key.key_id}
    with issued.pdf.open("rb") as fh:
        pdf = fh.read()
    assert all(ok for _, ok, _ in offline.verify_bundle(bundle, pdf))
    response = c.get("/verify/offline.py")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="offline.py"'
    assert response.content == Path(offline.__file__).read_bytes()


def test_a_pdf_copy_is_compared_with_the_signed_digest(issued):
    with issued.pdf.open("rb") as fh:
        pdf = fh.read()
    c = client()
    response = c.post(f"/verify/{issued.number}/pdf-check/",
                      {"pdf": SimpleUploadedFile("报告.pdf", pdf, "application/pdf")})
    assert response.status_code == 200
    assert 'id="pdf-result" data-match="1">报告.pdf matches: it is the PDF the laboratory ' \
           'signed.</div>' in page(response)
    changed = pdf[:-10] + bytes([pdf[-10] ^ 1]) + pdf[-9:]
    response = c.post(f"/verify/{issued.number}/pdf-check/",
                      {"pdf": SimpleUploadedFile("copy.pdf", changed, "application/pdf")})
    assert (f'id="pdf-result" data-match="0">copy.pdf does not match: its SHA-256 is '
            f'{hashlib.sha256(changed).hexdigest()}, not the signed digest.') in page(response)
    assert c.get(f"/verify/{issued.number}/pdf-check/").status_code == 302


def test_a_missing_or_oversized_pdf_is_refused_on_the_field(issued, monkeypatch):
    before = nothing_written()
    c = client()
    response = c.post(f"/verify/{issued.number}/pdf-check/", {})
    assert re.search(r'id="id_pdf_error"><div>(.*?)</div>', page(response)).group(1) == \
        "This field is required."
    monkeypatch.setattr(portal, "MAX_PDF_BYTES", 8)
    response = c.post(f"/verify/{issued.number}/pdf-check/",
                      {"pdf": SimpleUploadedFile("big.pdf", b"%PDF-1.7 ", "application/pdf")})
    assert re.search(r'id="id_pdf_error"><div>(.*?)</div>', page(response)).group(1) == (
        "The file is larger than 20 MB, so it cannot be the report&#x27;s PDF; upload the "
        "PDF file of the report as you received it.")
    assert 'id="pdf-result"' not in page(response)
    assert nothing_written() == before


# --- the public API -----------------------------------------------------------------------------

@pytest.fixture
def persona(request):
    return lambda name: None if name == "anonymous" else request.getfixturevalue(_FIXTURE[name])


@pytest.fixture
def revoked(world, standard, xian_officer):
    report = issue(world, standard, number="JC2026-0003", batch="2026-11-C")
    services.report_revoke(actor=xian_officer, report_id=report.pk, reason="数据造假")
    return report


CASES = [
    Case("public-report:verify", "get",
         lambda g: f"/api/v1/public/reports/{g['issued'].number}/verify/", ALL(200)),
    Case("public-report:verify", "get", lambda g: "/api/v1/public/reports/JC2026-9999/verify/",
         ALL(404), label="unknown"),
    Case("public-report:bundle", "get",
         lambda g: f"/api/v1/public/reports/{g['issued'].number}/bundle/", ALL(200)),
    Case("public-report:bundle", "get", lambda g: "/api/v1/public/reports/JC2026-9999/bundle/",
         ALL(404), label="unknown"),
    Case("public-report:revocation", "get",
         lambda g: f"/api/v1/public/reports/{g['revoked'].number}/revocation/", ALL(200)),
    Case("public-report:revocation", "get",
         lambda g: f"/api/v1/public/reports/{g['issued'].number}/revocation/", ALL(404),
         label="not-revoked"),
]


def test_matrix(issued, revoked, persona, api):
    """Every case for every persona (one set-up: issuing reports renders PDFs)."""
    grid = {"issued": issued, "revoked": revoked}
    for case in CASES:
        for who in PERSONAS:
            user = persona(who)
            api.force_authenticate(user)
            before = nothing_written()
            response = api.get(case.url(grid))
            assert response.status_code == case.status_for(who), (case.id, who)
            if response.status_code == 404:
                assert response.json()["type"] == "client_error"
                assert response.json()["errors"][0]["code"] == "not_found"
            assert nothing_written() == before, (case.id, who)
            cache.clear()  # the throttle counts every request of this loop


def test_every_endpoint_is_in_the_matrix():
    routed = {f"{basename}:{action}" for _prefix, viewset, basename in router.registry
              for route in router.get_routes(viewset)
              for method, action in route.mapping.items()
              if hasattr(viewset, action) and method != "options"}
    assert routed == {c.action for c in CASES}


def test_the_api_verification_is_the_services(issued, api):
    response = api.get(f"/api/v1/public/reports/{issued.number}/verify/",
                       HTTP_ACCEPT_LANGUAGE="en")
    data = response.json()
    assert data == json.loads(json.dumps(services.report_verify(issued.number).as_dict()))
    assert (data["found"], data["genuine"], data["valid"], data["custody"]) == (
        True, True, True, "platform")
    assert [c["key"] for c in data["checks"]] == ["found", "signature", "accreditation",
                                                  "lab_status", "calibration", "revocation",
                                                  "superseded"]
    assert data["checks"][1]["message"] == ("Signed with the laboratory's registered key "
                                            f"{issued.key.key_id}.")
    bundle = api.get(f"/api/v1/public/reports/{issued.number}/bundle/").content
    assert bundle == client().get(f"/verify/{issued.number}/bundle.json").content
    assert api.get("/api/v1/public/reports/JC2026-9999/verify/", HTTP_ACCEPT_LANGUAGE="en"
                   ).json() == {"type": "client_error", "errors": [{
                       "code": "not_found", "attr": None,
                       "detail": "No issued report has the number JC2026-9999 on the "
                                 "platform."}]}


def test_the_revocation_statement_in_the_api(revoked, api):
    data = api.get(f"/api/v1/public/reports/{revoked.number}/revocation/").json()
    stored = Revocation.objects.get(report=revoked)
    assert data["statement"] == stored.statement and data["signature"] == stored.signature
    assert data["reason"] == "数据造假" and data["number"] == "JC2026-0003"


def test_anonymous_verification_is_throttled(issued, api, monkeypatch):
    monkeypatch.setattr(PublicReportThrottle, "THROTTLE_RATES", {"public": "2/min"})
    url = f"/api/v1/public/reports/{issued.number}/verify/"
    assert [api.get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert api.get(url).json()["errors"][0]["code"] == "throttled"


def test_the_schema_describes_the_public_endpoints(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ["/api/v1/public/reports/{number}/verify/",
                 "/api/v1/public/reports/{number}/bundle/",
                 "/api/v1/public/reports/{number}/revocation/"]:
        assert f"  {path}:" in text, path
    assert "    Verification:" in text
