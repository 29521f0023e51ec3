"""QR labels for a batch (docs/capture-without-gs1.md §6): an A4 sheet of labels, each with
a QR code of the batch's public trace address on this site — a GS1 Digital Link on our own
domain, <ZHIJIAN_PUBLIC_URL>/01/<GTIN-14>/10/<lot> — and the product, maker, lot, quantity
and that address in letters. As a page to print from the browser (print CSS) or as a PDF
(WeasyPrint, with the report PDFs' fetcher that reads nothing but data: URIs).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string

from zhijian.reports import pdf as report_pdf

from . import steps

TEMPLATE = "traceability/label_sheet.html"
#: Labels per A4 sheet: 2 columns x 6 rows of 105 x 49.5 mm.
PER_PAGE = 12


def trace_url(gtin: str, lot: str) -> str:
    """The public trace address of a batch: the site's own GS1 Digital Link."""
    digital_link = steps.batch_class(gtin, lot)
    return settings.ZHIJIAN_PUBLIC_URL.rstrip("/") + digital_link[len(steps.DIGITAL_LINK):]


@dataclass(frozen=True)
class Sheet:
    product: str
    model: str
    maker: str
    gtin: str
    lot: str
    quantity: str
    unit: str
    url: str
    qr: str
    count: int

    @property
    def pages(self) -> list[range]:
        """Label numbers per A4 page."""
        return [range(start, min(start + PER_PAGE, self.count))
                for start in range(0, self.count, PER_PAGE)]


def sheet(*, product, lot: str, quantity: Decimal | None, unit: str, count: int) -> Sheet:
    url = trace_url(product.gtin, lot)
    amount = ""
    if quantity is not None:
        amount = format(quantity.normalize(), "f")
    words = steps.UNITS.get(unit, (unit,))
    return Sheet(product=product.name, model=product.model, maker=product.entity.name,
                 gtin=steps.gtin14(product.gtin), lot=lot.strip(), quantity=amount,
                 unit=words[0], url=url, qr=report_pdf.qr_svg_data_uri(url), count=count)


def render_html(s: Sheet, *, printable: bool = False) -> str:
    return render_to_string(TEMPLATE, {"sheet": s, "printable": printable})


def render_pdf(s: Sheet) -> bytes:
    return report_pdf.html_to_pdf(render_html(s))
