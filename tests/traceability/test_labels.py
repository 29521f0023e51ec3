"""QR labels for a batch (labels.py, docs/capture-without-gs1.md §6): the sheet's content,
the QR codes of the PDF decoded back to the batch's public trace address on this site, and
who may print labels of which product."""

from __future__ import annotations

import re
import subprocess

import pytest
import zxingcpp
from django.conf import settings
from PIL import Image

from tests.traceability import test_capture_ui
from tests.traceability.test_capture_ui import en, field_error
from tests.web.conftest import _audit_key, compiled_messages  # noqa: F401
from zhijian.traceability import labels

pytestmark = pytest.mark.django_db
tworld = test_capture_ui.tworld  # the shared fixture


def test_the_trace_address_is_a_digital_link_on_this_site(settings):
    settings.ZHIJIAN_PUBLIC_URL = "https://zhijian.example.cn"
    assert labels.trace_url("6901234000016", "L2026A") == (
        "https://zhijian.example.cn/01/06901234000016/10/L2026A")
    assert labels.trace_url("06901234000016", "A/B 1"[:3] + "1") == (
        "https://zhijian.example.cn/01/06901234000016/10/A%2FB1")


def test_the_printable_sheet(tworld, enterprise_user):
    resp = en(enterprise_user).post("/work/traceability/labels/", {
        "product": tworld["cable"].pk, "lot": "L2026A", "quantity": "500", "unit": "MTR",
        "count": "14", "fmt": "html"})
    assert resp.status_code == 200
    page = resp.content.decode()
    assert len(re.findall(r'id="label-\d+"', page)) == 14
    assert page.count('class="page"') == 2  # twelve to an A4 sheet
    url = f"{settings.ZHIJIAN_PUBLIC_URL}/01/06901234000016/10/L2026A"
    first = re.search(r'id="label-0">(.*?)</div>\s*</div>', page, re.S).group(1)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", first)).strip()
    assert text == (f"电力电缆 YJV 3x95 Maker: 西安测试电缆有限公司 GTIN: 06901234000016 "
                    f"Lot: L2026A Quantity: 500 m {url}")
    assert 'src="data:image/svg+xml' in first


@pytest.mark.real_pdf
def test_the_qr_codes_of_the_pdf_decode_to_the_trace_address(tworld, enterprise_user,
                                                              tmp_path):
    resp = en(enterprise_user).post("/work/traceability/labels/", {
        "product": tworld["cable"].pk, "lot": "L2026A-01", "unit": "MTR", "count": "3",
        "fmt": "pdf"})
    assert resp["Content-Type"] == "application/pdf"
    (tmp_path / "labels.pdf").write_bytes(resp.content)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile",
                    str(tmp_path / "labels.pdf"), str(tmp_path / "page")], check=True,
                   timeout=120)
    codes = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    url = f"{settings.ZHIJIAN_PUBLIC_URL}/01/06901234000016/10/L2026A-01"
    assert [(c.format, c.text) for c in codes] == [(zxingcpp.BarcodeFormat.QRCode, url)] * 3


def test_labels_only_for_your_own_products(tworld, enterprise_user):
    resp = en(enterprise_user).post("/work/traceability/labels/", {
        "product": tworld["rebar"].pk, "lot": "L1", "unit": "TNE", "count": "1",
        "fmt": "html"})
    assert field_error(resp.content.decode(), "product") == (
        "Select a valid choice. That choice is not one of the available choices.")
    resp = en(enterprise_user).post("/work/traceability/labels/", {
        "product": tworld["cable"].pk, "lot": "批次一", "unit": "MTR", "count": "1",
        "fmt": "html"})
    assert field_error(resp.content.decode(), "lot").startswith("The lot 批次一 cannot be used")


@pytest.mark.parametrize(("who", "status"), [
    (None, 302), ("user_unit_user", 403), ("xian_officer", 403), ("lab_user", 403),
    ("admin_user", 200), ("enterprise_user", 200)])
def test_who_may_print_labels(tworld, who, status, request):
    user = request.getfixturevalue(who) if who else None
    resp = en(user).post("/work/traceability/labels/", {
        "product": tworld["cable"].pk, "lot": "L2026A", "unit": "MTR", "count": "1",
        "fmt": "html"})
    assert resp.status_code == status
