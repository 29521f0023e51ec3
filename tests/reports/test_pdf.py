"""The report PDF (zhijian/reports/pdf.py): Chinese text layer, page numbering, the QR code
decoded from a rasterised page, the custody sentence, and no fetching of anything but data:
URIs."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import urllib.parse
import urllib.request

import pypdf
import pytest
import weasyprint
import zxingcpp
from django.template import Context, Template
from PIL import Image

from zhijian.reports import pdf

pytestmark = pytest.mark.real_pdf

SITE = "https://zhijian.shaanxi.example.cn"
KEY_ID = "3f2a9c0e4b1d7a65"

PARAMETERS = [
    ("导体直流电阻（20 ℃）", "≤ 1.83", "1.79", "Ω/km"),
    ("绝缘厚度平均值", "≥ 0.70", "0.74", "mm"),
    ("绝缘最薄处厚度", "≥ 0.53", "0.61", "mm"),
    ("护套厚度平均值", "≥ 1.20", "1.26", "mm"),
    ("绝缘老化前抗张强度", "≥ 12.5", "15.8", "MPa"),
    ("绝缘老化前断裂伸长率", "≥ 150", "262", "%"),
    ("护套老化前抗张强度", "≥ 10.0", "13.1", "MPa"),
    ("成束阻燃性能（C 类）", "炭化高度 ≤ 2.5 m", "1.6 m", ""),
    ("电压试验（3.5 kV，5 min）", "不击穿", "不击穿", ""),
    ("绝缘电阻（70 ℃）", "≥ 0.0037", "0.0110", "MΩ·km"),
    ("标志耐擦性", "清晰可辨", "清晰可辨", ""),
    ("成品电缆外径", "≤ 14.5", "13.9", "mm"),
]


def report_data(items: int = 12, **changes) -> dict:
    """A typical supervisory-sampling report of low-voltage cable, in Chinese."""
    data = {
        "format": "zhijian-report/1",
        "number": "SXZJ-2026-WT-000123",
        "kind": "supervisory",
        "lab": {"name": "陕西省产品质量监督检验研究院", "uscc": "12610000435200123X",
                "cma_number": "231612340567", "cnas_number": "L1234",
                "address": "陕西省西安市雁塔区科技路 1 号"},
        "producer": {"uscc": "91610113MA6TXXXX1K", "name": "西安秦川电缆有限公司",
                     "address": "陕西省西安市雁塔区电子城街道 88 号"},
        "client": {"uscc": "11610000MB1234567P", "name": "陕西省市场监督管理局"},
        "sample": {"code": "CY-2026-0042", "seal_number": "FY-2026-0042-01",
                   "sampled_at": "2026-03-02T02:15:00Z", "place": "西安地铁十号线物资仓库",
                   "channel": "on_site"},
        "product": {"name": "聚氯乙烯绝缘电缆", "model": "ZC-YJV 0.6/1kV 3×95+1×50",
                    "category": "electrical.cable", "category_name": "电线电缆"},
        "batch": "QC20260215-07",
        "quantity_covered": "1000.000",
        "unit": "m",
        "standard": {"code": "GB/T 12706.1-2020",
                     "title": "额定电压 1 kV 到 35 kV 挤包绝缘电力电缆及附件 第 1 部分"},
        "received_on": "2026-03-03",
        "tested_from": "2026-03-04",
        "tested_to": "2026-03-10",
        "issued_on": "2026-03-12",
        "items": [
            {"position": i + 1, "parameter": PARAMETERS[i % 12][0],
             "requirement": PARAMETERS[i % 12][1], "measured": PARAMETERS[i % 12][2],
             "unit": PARAMETERS[i % 12][3], "verdict": "pass"}
            for i in range(items)],
        "instruments": [
            {"name": "直流电阻测试仪", "model": "QJ57", "serial_number": "DZ-0907",
             "calibration": {"certificate_number": "JL2025-11873",
                             "calibrated_by": "陕西省计量科学研究院",
                             "calibrated_on": "2025-06-01", "valid_until": "2026-05-31"}},
            {"name": "电子万能试验机", "model": "WDW-10", "serial_number": "WN-2211",
             "calibration": None},
        ],
        "conclusion": "pass",
        "remarks": "样品由抽样人员现场封样，送达时封样完好。",
        "authorised_by": "张建国",
        "supersedes": None,
    }
    data.update(changes)
    return data


def render(data: dict | None = None, custody: str = "lab") -> tuple[bytes, str]:
    data = data or report_data()
    url = pdf.verify_url(SITE, data)
    return pdf.render(data, verify_url=url, key_id=KEY_ID, custody=custody), url


def page_texts(document: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(document)).pages]


def squash(text: str) -> str:
    """The text without whitespace: a sentence may wrap anywhere in the PDF."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def lab_report() -> tuple[bytes, str]:
    return render(custody="lab")


@pytest.fixture(scope="module")
def platform_report() -> tuple[bytes, str]:
    return render(custody="platform")


@pytest.fixture(scope="module")
def long_report() -> bytes:
    return render(report_data(items=60))[0]


# --- what the report says -------------------------------------------------------------------

def test_the_text_layer_is_chinese_and_numbers_every_page(lab_report):
    document, url = lab_report
    pages = page_texts(document)
    n = len(pages)
    assert n == 2
    box = pypdf.PdfReader(io.BytesIO(document)).pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (
        210, 297)  # A4, in millimetres
    text = "\n".join(pages)
    for expected in ("检验检测报告", "SXZJ-2026-WT-000123", "西安秦川电缆有限公司",
                     "陕西省产品质量监督检验研究院", "地址：陕西省西安市雁塔区科技路 1 号",
                     "资质认定（CMA）证书编号：231612340567", "CNAS 认可编号：L1234",
                     "聚氯乙烯绝缘电缆", "ZC-YJV 0.6/1kV 3×95+1×50", "陕西省市场监督管理局",
                     "CY-2026-0042", "FY-2026-0042-01", "QC20260215-07", "1000 m",
                     "GB/T 12706.1-2020", "收样日期 2026-03-03",
                     "检验日期 2026-03-04 至 2026-03-10", "签发日期 2026-03-12",
                     "导体直流电阻（20 ℃）", "≤ 1.83 1.79 Ω/km 合格",
                     "直流电阻测试仪 QJ57 DZ-0907 JL2025-11873 陕西省计量科学研究院 "
                     "2025-06-01 2026-05-31", "电子万能试验机 WDW-10 WN-2211 无检定/校准记录",
                     "检验结论：合格", "所检项目符合 GB/T 12706.1-2020 的要求",
                     "授权签字人：张建国", f"密钥标识（kid）：{KEY_ID}",
                     "本报告仅对所检样品负责。", "（以下空白）", "— 报告结束 —"):
        assert expected in text, expected
    # Sampled at 02:15 UTC = 10:15 in Xi'an.
    assert "抽样时间 2026-03-02 10:15" in text
    assert squash(url) in squash(text)
    for i, page in enumerate(pages, start=1):
        assert f"报告编号：SXZJ-2026-WT-000123 第 {i} 页 共 {n} 页" in page
    # The end-of-report mark comes once, on the last page, after the statements.
    assert "以下空白" not in pages[0] and pages[-1].count("以下空白") == 1
    assert pages[-1].index("本报告仅对所检样品负责") < pages[-1].index("以下空白")


def test_the_qr_code_on_the_first_page_decodes_to_the_verify_url(lab_report, tmp_path):
    document, url = lab_report
    assert url == (f"{SITE}/verify/SXZJ-2026-WT-000123/?h="
                   f"{pdf.data_digest(report_data())[:16]}")
    (tmp_path / "report.pdf").write_bytes(document)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile",
                    str(tmp_path / "report.pdf"), str(tmp_path / "page")], check=True,
                   timeout=120)
    image = Image.open(tmp_path / "page.png")
    codes = zxingcpp.read_barcodes(image)
    assert [(c.format, c.text, c.ec_level) for c in codes] == [
        (zxingcpp.BarcodeFormat.QRCode, url, "M")]


def test_verify_url_hashes_the_canonical_data():
    data = report_data()
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert pdf.data_digest(data) == digest
    assert pdf.verify_url(SITE + "/", data) == (
        f"{SITE}/verify/SXZJ-2026-WT-000123/?h={digest[:16]}")
    assert pdf.verify_url(SITE, {**data, "number": "SX/2026 7"}).startswith(
        f"{SITE}/verify/SX%2F2026%207/?h=")
    assert pdf.verify_url(SITE, {**data, "batch": "QC20260215-08"}) != pdf.verify_url(SITE, data)


def test_platform_custody_is_stated_plainly_only_when_the_platform_holds_the_key(
        lab_report, platform_report):
    lab_text = squash("".join(page_texts(lab_report[0])))
    platform_text = squash("".join(page_texts(platform_report[0])))
    assert squash(pdf.PLATFORM_CUSTODY_TEXT) == (
        "本报告的签名私钥由质监平台代本机构保管，电子签名由平台以本机构名义生成。")
    assert squash(pdf.PLATFORM_CUSTODY_TEXT) in platform_text
    assert squash(pdf.LAB_CUSTODY_TEXT) not in platform_text
    assert squash(pdf.LAB_CUSTODY_TEXT) in lab_text
    assert squash(pdf.PLATFORM_CUSTODY_TEXT) not in lab_text
    assert "代本机构保管" not in lab_text


def test_a_sixty_item_report_runs_over_pages_that_all_carry_the_number(long_report):
    pages = page_texts(long_report)
    n = len(pages)
    assert n > 1
    for i, page in enumerate(pages, start=1):
        assert f"报告编号：SXZJ-2026-WT-000123 第 {i} 页 共 {n} 页" in page
    text = "\n".join(pages)
    # Every row is there once, and the table header repeats on each page with rows.
    rows = re.findall(r"^(\d+) \S", text, flags=re.MULTILINE)
    assert [int(r) for r in rows] == list(range(1, 61))
    assert sum("序号 检验项目 标准要求 实测值 单位 单项判定" in page for page in pages) >= 2
    assert "（以下空白）" in pages[-1] and "（以下空白）" not in "".join(pages[:-1])


def test_rendering_is_deterministic(lab_report):
    assert render(custody="lab")[0] == lab_report[0]


def test_a_report_without_sample_or_client_and_with_a_failed_item():
    data = report_data(kind="commissioned", sample=None, client=None, conclusion="fail",
                       supersedes="SXZJ-2026-WT-000100", remarks="")
    data["items"][2] = {**data["items"][2], "measured": "0.49", "verdict": "fail"}
    data["items"][4] = {**data["items"][4], "verdict": "na"}
    text = "\n".join(page_texts(render(data)[0]))
    assert "报告类别：委托检验" in text
    assert "样品来源 委托方送样（本机构未抽样）" in text
    assert "委托单位 —" in text
    assert "封样编号" not in text
    assert "3 绝缘最薄处厚度 ≥ 0.53 0.49 mm 不合格" in text
    assert "5 绝缘老化前抗张强度 ≥ 12.5 15.8 MPa 不适用" in text
    assert "检验结论：不合格" in text
    assert "经检验，所检项目中有 1 项不符合 GB/T 12706.1-2020 的要求。" in text
    assert "本报告替代报告 SXZJ-2026-WT-000100，原报告自本报告签发之日起作废。" in text
    assert "备注" not in text


def test_report_text_is_escaped_not_interpreted(monkeypatch):
    opened = record_opens(monkeypatch)
    data = report_data(remarks='<img src="http://127.0.0.1:9/x.png"><b>粗体</b>')
    document, _ = render(data)
    assert opened == []
    assert '备注：<img src="http://127.0.0.1:9/x.png"><b>粗体</b>' in "".join(
        page_texts(document))


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "routine"}, "kind: 'routine' is not one of supervisory, commissioned, witness"),
    ({"conclusion": "ok"}, "conclusion: 'ok' is not one of pass, fail"),
    ({"quantity_covered": "many"}, "quantity_covered: 'many' is not a decimal number"),
])
def test_bad_data_are_refused_with_the_field_named(change, message):
    data = report_data(**change)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        pdf.render(data, verify_url=SITE, key_id=KEY_ID, custody="lab")


def test_a_bad_verdict_or_custody_is_refused_with_the_field_named():
    data = report_data()
    data["items"][1]["verdict"] = "ok"
    with pytest.raises(ValueError, match=r"^items\[1\]\.verdict: 'ok' is not one of pass, "
                                         r"fail, na$"):
        pdf.render(data, verify_url=SITE, key_id=KEY_ID, custody="lab")
    with pytest.raises(ValueError, match="^custody: 'lab-ish' is not one of lab, platform$"):
        pdf.render(report_data(), verify_url=SITE, key_id=KEY_ID, custody="lab-ish")


def test_qr_svg_data_uri_is_an_svg_data_uri():
    uri = pdf.qr_svg_data_uri("https://example.cn/verify/A-1/?h=0123456789abcdef")
    prefix = "data:image/svg+xml;charset=utf-8,"
    assert uri.startswith(prefix)
    svg = urllib.parse.unquote(uri[len(prefix):])
    assert svg.startswith("<svg xmlns='http://www.w3.org/2000/svg'") and svg.endswith("</svg>")


# --- nothing but data: URIs is fetched (SSRF) ------------------------------------------------

def record_opens(monkeypatch) -> list[str]:
    """Record every URL that urllib is asked to open; let data: URIs through and refuse the
    rest, so that no test ever reaches the network or reads a file."""
    opened: list[str] = []
    original = urllib.request.OpenerDirector.open

    def open_(self, fullurl, data=None, timeout=None):
        url = fullurl.full_url if isinstance(fullurl, urllib.request.Request) else fullurl
        if url.startswith("data:"):
            return original(self, fullurl, data, timeout)
        opened.append(url)
        raise OSError("tests: no fetching")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", open_)
    return opened


PROBE = Template('<!DOCTYPE html><html><head><link rel="stylesheet" href="{{ url }}"></head>'
                 '<body style="background: url(\'{{ url }}\')"><p>探针</p>'
                 '<img src="{{ url }}" alt=""></body></html>')


@pytest.fixture
def png_file(tmp_path):
    path = tmp_path / "secret.png"
    Image.new("RGB", (8, 8), "red").save(path)
    return path


@pytest.mark.parametrize("scheme", ["http", "file", "ftp"])
def test_urls_in_the_html_are_not_fetched(monkeypatch, png_file, scheme):
    url = {"http": "http://169.254.169.254/latest/meta-data.png",
           "file": png_file.as_uri(),
           "ftp": "ftp://127.0.0.1/pub/x.png"}[scheme]
    html = PROBE.render(Context({"url": url}))
    assert html.count(url) == 3

    # The probe works: WeasyPrint's own fetcher asks urllib for the URL.
    opened = record_opens(monkeypatch)
    weasyprint.HTML(string=html).write_pdf()
    assert url in opened

    # The report's renderer refuses before urllib is asked, and embeds nothing.
    opened.clear()
    document = pdf.html_to_pdf(html)
    assert opened == []
    page = pypdf.PdfReader(io.BytesIO(document)).pages[0]
    assert "探针" in page.extract_text()
    assert list(page.images) == []


def test_the_fetcher_refuses_everything_but_data_uris(png_file):
    fetcher = pdf.DataOnlyFetcher()
    for url in ("http://127.0.0.1/", "https://example.cn/", png_file.as_uri(),
                "ftp://127.0.0.1/x", "FILE:///etc/passwd", "javascript:alert(1)"):
        with pytest.raises(pdf.FetchRefused, match="^only data: URIs may be fetched, refused"):
            fetcher.fetch(url)
    response = fetcher.fetch("data:text/plain;base64,5o6i6ZKI")
    assert response.read().decode("utf-8") == "探针"


def test_the_report_itself_fetches_only_its_qr_code(monkeypatch):
    seen: list[str] = []
    original = pdf.DataOnlyFetcher.fetch

    def fetch(self, url, headers=None):
        seen.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(pdf.DataOnlyFetcher, "fetch", fetch)
    opened = record_opens(monkeypatch)
    data = report_data()
    url = pdf.verify_url(SITE, data)
    pdf.render(data, verify_url=url, key_id=KEY_ID, custody="lab")
    assert seen == [pdf.qr_svg_data_uri(url)]
    assert opened == []
