"""The whole public check of a printed report: issue it through the services, rasterise the
first page of the stored PDF, decode its QR code, open that address on the portal (genuine,
valid, the printed copy matches), download the bundle and check it with the offline
verifier, compare the PDF and a changed copy, and see a changed payload fail."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import urllib.parse

import pytest
import zxingcpp
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from tests import factories as f
from tests.reports.helpers import issue_report
from zhijian.reports import offline
from zhijian.reports.models import Report

pytestmark = [pytest.mark.django_db, pytest.mark.real_pdf]


@pytest.fixture(autouse=True)
def _keys(settings, tmp_path):
    settings.ZHIJIAN_AUDIT_KEY_FILE = tmp_path / "audit-key.pem"


def verdict(html: str) -> str:
    return re.search(r'id="verdict" data-verdict="([\w-]+)"', html).group(1)


def test_scan_the_qr_code_and_check_everything(world, tmp_path):
    standard = f.StandardFactory(code="GB/T 5023.3-2008", title="聚氯乙烯绝缘电缆")
    standard.categories.set([world["categories"]["cable"]])
    report = issue_report(lab=world["lab"], producer=world["xian_entity"],
                          category=world["categories"]["cable"], standard=standard,
                          batch="2026-11-A", issued_on=dt.date(2026, 11, 20),
                          number="SXZJ-2026-WT-000123")
    with report.pdf.open("rb") as fh:
        pdf = fh.read()
    (tmp_path / "report.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile",
                    str(tmp_path / "report.pdf"), str(tmp_path / "page")], check=True,
                   timeout=120)
    codes = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    assert [c.format for c in codes] == [zxingcpp.BarcodeFormat.QRCode]
    url = urllib.parse.urlsplit(codes[0].text)
    assert f"{url.scheme}://{url.netloc}" == settings.ZHIJIAN_PUBLIC_URL
    assert url.path == "/verify/SXZJ-2026-WT-000123/"
    assert re.fullmatch(r"h=[0-9a-f]{16}", url.query)

    client = Client()
    client.cookies["django_language"] = "en"
    html = client.get(f"{url.path}?{url.query}").content.decode()
    assert verdict(html) == "valid"
    assert "Genuine and valid" in html
    assert 'id="copy-check" data-match="1"' in html
    assert "This printed copy matches the record" in html

    # The PDF as stored is the one signed; one flipped byte is not.
    check = f"{url.path}pdf-check/"
    html = client.post(check, {"pdf": _upload("report.pdf", pdf)}).content.decode()
    assert 'id="pdf-result" data-match="1"' in html
    flipped = bytearray(pdf)
    flipped[len(pdf) // 2] ^= 0x01
    html = client.post(check, {"pdf": _upload("report.pdf", bytes(flipped))}).content.decode()
    assert 'id="pdf-result" data-match="0"' in html

    # The bundle checks offline, with the PDF, by the stand-alone verifier.
    bundle = json.loads(client.get(f"{url.path}bundle.json").content)
    checks = offline.verify_bundle(bundle, pdf)
    assert [(name, ok) for name, ok, _ in checks] == [
        ("key_id", True), ("payload", True), ("signature", True), ("pdf_sha256", True)]
    assert not all(ok for _, ok, _ in offline.verify_bundle(bundle, bytes(flipped)))

    # One byte of the stored payload changed: no longer genuine, so not valid.
    payload = bytearray(report.payload.encode("utf-8"))
    at = report.payload.index('"batch":"2026-11-A"') + len('"batch":"2026-11-')
    payload[at] = ord("B")
    Report.objects.filter(pk=report.pk).update(payload=payload.decode("utf-8"))
    html = client.get(f"{url.path}?{url.query}").content.decode()
    assert verdict(html) == "not-genuine"
    assert re.search(r'data-check="signature" data-ok="0"', html)
    api = client.get(f"/api/v1/public/reports/{report.number}/verify/").json()
    assert (api["genuine"], api["valid"]) == (False, False)


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "application/pdf")
