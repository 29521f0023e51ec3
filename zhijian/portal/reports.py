"""Public verification of test reports (检验检测报告真伪查询, M2.4): anyone who scans a
report's QR code or types its number sees whether it is genuine (signed with the lab's
registered key, data unchanged) and valid (accreditation, lab status, calibration, not
revoked or superseded), the public facts of the report, whether a printed copy matches the
record, and what a third party needs to check it offline: the bundle, the stand-alone
verifier, and a comparison of a PDF copy with the digest that was signed.

Report numbers may contain "/", so the routes take the number as a path."""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from zhijian.core import canonical, signing
from zhijian.core.models import PublicKey
from zhijian.reports import offline, services
from zhijian.reports.choices import KeyCustody, ReportStatus, RevocationGround
from zhijian.reports.models import Report
from zhijian.reports.signals import quantity_text
from zhijian.web.forms import BootstrapMixin

MAX_PDF_BYTES = 20 * 1024 * 1024
HEX_FRAGMENT = re.compile(r"^[0-9a-f]{16,64}$")
VERIFIER_NAME = "offline.py"


class NumberForm(BootstrapMixin, forms.Form):
    number = forms.CharField(
        label=_("Report number"), max_length=40,
        help_text=_("As printed at the top of every page of the report."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "font-monospace",
                                      "autofocus": True}))

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        if not services.NUMBER_RE.match(number):
            raise forms.ValidationError(_(
                "A report number has 3 to 40 letters, digits, '-', '_' or '.'; type it as "
                "printed on the report."))
        return number


class PdfCheckForm(BootstrapMixin, forms.Form):
    pdf = forms.FileField(
        label=_("PDF copy of the report"),
        help_text=_("At most 20 MB. The file is compared and not kept."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}))

    def clean_pdf(self):
        upload = self.cleaned_data["pdf"]
        if upload.size > MAX_PDF_BYTES:
            raise forms.ValidationError(_(
                "The file is larger than 20 MB, so it cannot be the report's PDF; upload the "
                "PDF file of the report as you received it."))
        return upload


# --- the report and its verification ----------------------------------------------------------

def _lookup(number: str):
    """(verification, report); the report is None for drafts and unknown numbers."""
    v = services.report_verify(number)
    if not v.found:
        return v, None
    return v, (Report.objects.select_related("lab", "producer", "standard", "key")
               .get(pk=v.report_id))


def _verified(number: str):
    """(verification, report) of an issued report; Http404 for drafts and unknown numbers."""
    v, report = _lookup(number)
    if report is None:
        raise Http404
    return v, report


def _signed_pdf_sha256(report: Report) -> str:
    """The PDF digest the signed payload names (the column if the payload is unreadable)."""
    try:
        return str(json.loads(report.payload)["pdf_sha256"])
    except (ValueError, KeyError, TypeError):
        return report.pdf_sha256


def signed_ground(statement: str) -> str | None:
    """The ground a revocation statement was signed with; None for a statement signed
    before the ground was introduced (it names only the reason)."""
    try:
        body = json.loads(statement)
    except ValueError:
        return None
    ground = body.get("ground") if isinstance(body, dict) else None
    return ground if isinstance(ground, str) else None


def _revocation(report: Report) -> dict | None:
    if report.status != ReportStatus.REVOKED:
        return None
    revocation = getattr(report, "revocation", None)
    if revocation is None:
        return None
    key = PublicKey.objects.filter(key_id=revocation.key_id).first()
    ground = signed_ground(revocation.statement)
    return {
        "reason": revocation.reason, "revoked_at": revocation.revoked_at,
        "ground": ground,
        "ground_label": RevocationGround(ground).label if ground in RevocationGround.values
        else "",
        "statement": revocation.statement, "signature": revocation.signature,
        "key_id": revocation.key_id, "public_key": key.public_key if key else None,
        "signature_ok": signing.verify_statement(revocation.key_id, revocation.statement,
                                                 revocation.signature),
        "key_url": reverse("publickey-detail", kwargs={"key_id": revocation.key_id}),
    }


def _copy_matches(request, report: Report) -> bool | None:
    """None without ?h=; else whether the printed copy's digest fragment is that of the
    data as the platform holds them now."""
    fragment = request.GET.get("h", "").strip().lower()
    if not fragment:
        return None
    if not HEX_FRAGMENT.match(fragment):
        return False
    return services.data_digest(services.report_data(report)).startswith(fragment)


def _not_found(request, number: str, v):
    return render(request, "portal/report_detail.html", {
        "number": number, "v": v, "found": False,
        "form": NumberForm(initial={"number": number}),
    }, status=404)


def _page(request, number: str, *, found=None, pdf_form=None, pdf_result=None):
    v, report = found or _lookup(number)
    if report is None:
        return _not_found(request, number, v)
    revocation = _revocation(report)
    newer = (Report.objects.filter(supersedes=report).values_list("number", flat=True).first()
             if report.status == ReportStatus.SUPERSEDED else None)
    return render(request, "portal/report_detail.html", {
        "number": report.number, "v": v, "found": True, "report": report,
        "checks": v.messages(), "platform_custody": v.custody == KeyCustody.PLATFORM,
        "custody_note": services.CUSTODY_NOTE, "copy_matches": _copy_matches(request, report),
        "revocation": revocation, "newer": newer,
        "quantity": quantity_text(report.quantity_covered),
        "pdf_form": pdf_form or PdfCheckForm(), "pdf_result": pdf_result,
        "signed_pdf_sha256": _signed_pdf_sha256(report),
        "bundle_name": bundle_name(report.number), "verifier_name": VERIFIER_NAME,
        "verifier_sha256": verifier_sha256(),
    })


def report_verify(request):
    """The form: type a report number."""
    form = NumberForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return redirect("portal:report_detail", number=form.cleaned_data["number"])
    return render(request, "portal/report_verify.html", {"form": form},
                  status=400 if form.is_bound else 200)


def report_detail(request, number):
    """The result page the QR code leads to (with ?h=<first 16 hex digits of the digest of
    the report's data>)."""
    return _page(request, number)


def report_pdf_check(request, number):
    """Compare the SHA-256 of an uploaded PDF with the digest the lab signed."""
    if request.method != "POST":
        return redirect("portal:report_detail", number=number)
    v, report = _lookup(number)
    if report is None:
        return _not_found(request, number, v)
    form = PdfCheckForm(request.POST, request.FILES)
    result = None
    if form.is_valid():
        digest = hashlib.sha256()
        for chunk in form.cleaned_data["pdf"].chunks():
            digest.update(chunk)
        expected = _signed_pdf_sha256(report)
        result = {"ok": digest.hexdigest() == expected, "sha256": digest.hexdigest(),
                  "expected": expected, "name": form.cleaned_data["pdf"].name}
        form = None
    return _page(request, number, found=(v, report), pdf_form=form, pdf_result=result)


# --- what a third party needs -----------------------------------------------------------------

def bundle_name(number: str) -> str:
    return f"zhijian-report-{re.sub(r'[^A-Za-z0-9._-]', '_', number)}.json"


def report_bundle_data(report: Report) -> dict:
    """The verification bundle of zhijian/reports/offline.py: the signed payload, the
    signature, the lab's public key and its id, and the signed revocation statement of a
    revoked report."""
    bundle = {"payload": report.payload, "signature": report.signature,
              "public_key": report.key.public_key, "key_id": report.key.key_id}
    revocation = _revocation(report)
    if revocation is not None:
        bundle["revocation"] = {name: revocation[name] for name in (
            "statement", "signature", "public_key", "key_id")}
    return bundle


def _json_download(data: dict, filename: str) -> HttpResponse:
    response = HttpResponse(canonical.canonical_text(data),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def report_bundle(request, number):
    _, report = _verified(number)
    return _json_download(report_bundle_data(report), bundle_name(report.number))


def revocation_data(report: Report) -> dict | None:
    revocation = _revocation(report)
    if revocation is None:
        return None
    return {"number": report.number, "reason": revocation["reason"],
            "ground": revocation["ground"],
            "revoked_at": canonical.to_jsonable(revocation["revoked_at"]),
            "statement": revocation["statement"], "signature": revocation["signature"],
            "key_id": revocation["key_id"], "public_key": revocation["public_key"]}


def report_revocation(request, number):
    """The signed revocation statement of a revoked report (404 for any other)."""
    _, report = _verified(number)
    data = revocation_data(report)
    if data is None:
        raise Http404
    return _json_download(data, bundle_name(report.number).replace(".json",
                                                                     ".revocation.json"))


@cache
def verifier_sha256() -> str:
    return hashlib.sha256(Path(offline.__file__).read_bytes()).hexdigest()


def report_verifier(request):
    """The offline verifier's source, exactly as installed: it runs alone (standard
    library only) on a bundle and, if given, the PDF."""
    response = HttpResponse(Path(offline.__file__).read_bytes(),
                            content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{VERIFIER_NAME}"'
    return response


urlpatterns = [
    path("verify/", report_verify, name="report_verify"),
    path(f"verify/{VERIFIER_NAME}", report_verifier, name="report_verifier"),
    path("verify/<str:number>/", report_detail, name="report_detail"),
    path("verify/<str:number>/bundle.json", report_bundle, name="report_bundle"),
    path("verify/<str:number>/pdf-check/", report_pdf_check, name="report_pdf_check"),
    path("verify/<str:number>/revocation.json", report_revocation, name="report_revocation"),
]
