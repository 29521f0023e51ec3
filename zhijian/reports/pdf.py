"""The PDF of a signed test report (检验检测报告): A4, Simplified Chinese, with a QR code
that leads to the public verification page.

The content follows ISO/IEC 17025:2017 §7.8.2.1 (GB/T 27025-2019): title, the lab's name
and address, its CMA and CNAS numbers, the report number and "第 x 页 共 y 页" on every
page, a clear end-of-report mark, the product, producer, client, sample and seal, batch and
quantity covered, the standard (method), the dates of receipt, testing and issue, the
results, the instruments with their calibration, the conclusion, remarks, the statement
that the results relate only to the items tested, the authorised signatory, and the
signing key and who holds it. The PDF is the Chinese legal document, so its labels are
Chinese and not translated.

`data` is the report data that is signed (docs/report-signing.md); the PDF's SHA-256 goes
into the signed payload, so nothing here may depend on the signature. WeasyPrint fetches
nothing but `data:` URIs (the QR code): any other URL in the HTML — http, file, ftp — is
refused, so report text can never make the server read a file or call a host (SSRF).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal, InvalidOperation
from urllib.parse import quote
from zoneinfo import ZoneInfo

import segno
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from zhijian.core.canonical import canonical_bytes

TEMPLATE = "reports/report_pdf.html"
CUSTODY = ("lab", "platform")
KIND_LABELS = {"supervisory": "监督抽检", "commissioned": "委托检验", "witness": "见证检验"}
VERDICT_LABELS = {"pass": "合格", "fail": "不合格", "na": "不适用"}
CONCLUSION_LABELS = {"pass": "合格", "fail": "不合格"}
CHANNEL_LABELS = {"on_site": "现场抽样", "online": "网络购买（隐蔽抽样）"}
# What the report says about who holds the private half of the signing key.
LAB_CUSTODY_TEXT = "签名私钥由本机构自行保管，平台不持有该私钥。"
PLATFORM_CUSTODY_TEXT = "本报告的签名私钥由质监平台代本机构保管，电子签名由平台以本机构名义生成。"
# Sampling times are shown in China Standard Time, whatever offset the data carry.
CHINA = ZoneInfo("Asia/Shanghai")


class FetchRefused(ValueError):
    """WeasyPrint asked for a URL that is not a data: URI."""


class DataOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves `data:` URIs and refuses every other URL
    before anything is opened (WeasyPrint logs the refusal and leaves the resource out)."""

    def __init__(self):
        super().__init__(allowed_protocols=("data",), allow_redirects=False)

    def fetch(self, url, headers=None):
        if not url[:5].lower() == "data:":
            raise FetchRefused(f"only data: URIs may be fetched, refused {url[:80]!r}")
        return super().fetch(url, headers)


def data_digest(data: dict) -> str:
    """SHA-256 (hex) of the RFC 8785 canonical JSON of the report data."""
    return hashlib.sha256(canonical_bytes(data)).hexdigest()


def verify_url(site: str, data: dict) -> str:
    """The URL in the QR code: <site>/verify/<number>/?h=<first 16 hex of data_digest>."""
    number = quote(str(data["number"]), safe="")
    return f"{site.rstrip('/')}/verify/{number}/?h={data_digest(data)[:16]}"


def qr_svg_data_uri(text: str) -> str:
    """A QR code of `text` (error correction level M, never a Micro QR) as an SVG data URI."""
    qr = segno.make(text, error="m", boost_error=False, micro=False)
    return qr.svg_data_uri(scale=4, border=4)


def _label(labels: dict, value, field: str) -> str:
    try:
        return labels[value]
    except (KeyError, TypeError):
        raise ValueError(f"{field}: {value!r} is not one of {', '.join(labels)}") from None


def _quantity(value: str) -> str:
    """'1000.000' -> '1000', '12.500' -> '12.5' (the stored decimal, trailing zeros off)."""
    try:
        Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"quantity_covered: {value!r} is not a decimal number") from None
    return value.rstrip("0").rstrip(".") if "." in value else value


def _local_time(value: str) -> str:
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(CHINA)
    return moment.strftime("%Y-%m-%d %H:%M")


def context(data: dict, *, verify_url: str, key_id: str, custody: str) -> dict:
    """The template context: the data, and their Chinese labels and display forms."""
    if custody not in CUSTODY:
        raise ValueError(f"custody: {custody!r} is not one of {', '.join(CUSTODY)}")
    sample = data.get("sample")
    items = [{**item, "verdict_label": _label(VERDICT_LABELS, item.get("verdict"),
                                              f"items[{i}].verdict")}
             for i, item in enumerate(data["items"])]
    return {
        "r": data,
        "kind_label": _label(KIND_LABELS, data.get("kind"), "kind"),
        "conclusion_label": _label(CONCLUSION_LABELS, data.get("conclusion"), "conclusion"),
        "channel_label": (CHANNEL_LABELS.get(sample.get("channel"), sample.get("channel") or "")
                          if sample else ""),
        "sampled_at": _local_time(sample["sampled_at"]) if sample and sample.get("sampled_at")
        else "",
        "quantity": _quantity(data["quantity_covered"]),
        "items": items,
        "failed": sum(1 for item in items if item.get("verdict") == "fail"),
        "verify_url": verify_url,
        "qr": qr_svg_data_uri(verify_url),
        "key_id": key_id,
        "custody": custody,
        "custody_text": PLATFORM_CUSTODY_TEXT if custody == "platform" else LAB_CUSTODY_TEXT,
    }


def render_html(data: dict, *, verify_url: str, key_id: str, custody: str) -> str:
    return render_to_string(TEMPLATE, context(data, verify_url=verify_url, key_id=key_id,
                                              custody=custody))


def html_to_pdf(html: str) -> bytes:
    """PDF bytes of an HTML document; only data: URIs are fetched, relative URLs resolve to
    nothing (no base URL)."""
    return HTML(string=html, base_url=None, url_fetcher=DataOnlyFetcher()).write_pdf()


def render(data: dict, *, verify_url: str, key_id: str, custody: str) -> bytes:
    """The report as PDF bytes (A4, Chinese). Deterministic: the same arguments give the
    same bytes, so that the SHA-256 in the signed payload can be recomputed."""
    return html_to_pdf(render_html(data, verify_url=verify_url, key_id=key_id,
                                   custody=custody))
