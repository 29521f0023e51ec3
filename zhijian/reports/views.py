"""Test-report pages at /work/reports/: the report list (a lab's own reports, a regulator's
visible issued reports), the lab's report form, the report page with its verification,
PDF, signing, revocation and hazard report; the lab's signing keys and instruments; the
regulators' hazard list. Every write goes through reports.services or reports.hazards."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Prefetch, Q, When
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhijian.core.access import scope_of
from zhijian.web.common import ORG_ROLES, call_service, paginate

from . import access, hazards, services
from .choices import HazardStatus, KeyCustody, ReportStatus
from .forms import (
    ActionForm,
    CalibrationForm,
    HazardFilterForm,
    HazardForm,
    InstrumentForm,
    KeyGenerateForm,
    KeyRegisterForm,
    KeyRetireForm,
    PrepareForm,
    ReportFilterForm,
    ReportForm,
    RevokeForm,
    SignForm,
)
from .models import Calibration, LabKey, Report

# --- guards ---------------------------------------------------------------------------------


def signed_in(*, roles: set[str] | None = None):
    """Signed-in users of the given roles ("admin", "regulator", "lab", …; None: any role
    with an organisation or jurisdiction). Anonymous users go to the login page, others get
    403."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            scope = scope_of(request.user)
            allowed = roles or ({"admin", "regulator"} | ORG_ROLES)
            if scope.role not in allowed:
                raise PermissionDenied(_("This page is not for your role."))
            return view(request, *args, scope=scope, **kwargs)

        return wrapper

    return decorate


lab_only = signed_in(roles={"lab"})
STAFF_AND_LABS = {"admin", "regulator", "lab"}


def _visible_report(request, pk) -> Report:
    qs = access.reports_visible_to(request.user).select_related(
        "lab", "sample", "producer", "client", "category", "standard", "supersedes",
        "superseded_by", "key", "revocation__revoked_by", "created_by")
    return access.get_or_404(qs, pk)


def _require_lab_actor(request, report: Report) -> None:
    """Drafting, signing and issuing are for the lab's own users (administrators may act
    for any lab)."""
    scope = scope_of(request.user)
    if not (scope.is_admin or access.is_own_lab(request.user, report.lab_id)):
        raise PermissionDenied(_("Only the laboratory's own users may do this."))


# --- reports ------------------------------------------------------------------------------------

@signed_in()
def report_list(request, scope):
    form = ReportFilterForm(request.GET or None)
    qs = access.reports_visible_to(request.user).select_related("lab", "producer")
    if form.is_valid():
        d = form.cleaned_data
        q = (d["q"] or "").strip()
        if q:
            qs = qs.filter(Q(number__icontains=q) | Q(batch__icontains=q)
                           | Q(producer__name__contains=q)
                           | Q(producer__uscc__startswith=q.upper()))
        if d["status"]:
            qs = qs.filter(status=d["status"])
    return render(request, "reports/report_list.html", {
        "form": form,
        "page": paginate(request, qs.order_by("-created_at", "-id")),
        "is_lab": scope.role == "lab",
        "show_lab": scope.role != "lab",
        "can_see_hazards": scope.role in STAFF_AND_LABS,
    })


@lab_only
def report_create(request, scope):
    from zhijian.registry.models import Lab

    lab = Lab.objects.get(pk=scope.org_id)
    form = ReportForm(request.POST or None, lab=lab)
    if request.method == "POST" and form.is_valid():
        report = call_service(form, services.report_draft, actor=request.user,
                              **form.service_kwargs())
        if report is not None:
            messages.success(request, _("Report %(number)s saved as a draft. Check it, then "
                                        "issue it or prepare it for signing.")
                             % {"number": report.number})
            return redirect("reports:report_detail", pk=report.pk)
    return render(request, "reports/report_form.html", {"form": form})


def _instrument_rows(report: Report) -> list[dict]:
    """Each instrument with the calibration that covered the test (or, failing one, its
    latest certificate, flagged)."""
    rows = []
    for inst in report.instruments.order_by("serial_number").prefetch_related(
            Prefetch("calibrations", queryset=Calibration.objects.order_by("-calibrated_on"))):
        cals = list(inst.calibrations.all())
        covering = next((c for c in cals if c.calibrated_on <= report.tested_from
                         and c.valid_until >= report.tested_to), None)
        rows.append({"instrument": inst, "calibration": covering or (cals[0] if cals else None),
                     "covered": covering is not None})
    return rows


def _detail_page(request, report: Report, status: int = 200, **forms):
    scope = scope_of(request.user)
    own = access.is_own_lab(request.user, report.lab_id)
    lab_actor = own or scope.is_admin
    verification = None
    if report.status != ReportStatus.DRAFT:
        verification = services.report_verify(report.number)
    lab_keys = LabKey.objects.filter(lab_id=report.lab_id, retired_at__isnull=True)
    draft = report.status == ReportStatus.DRAFT
    return render(request, "reports/report_detail.html", {
        "report": report,
        "items": report.items.order_by("position"),
        "instruments": _instrument_rows(report),
        "verification": verification,
        "checks": verification.messages() if verification else [],
        "custody_note": (services.CUSTODY_NOTE if verification is not None
                         and verification.custody == KeyCustody.PLATFORM else ""),
        "revocation": getattr(report, "revocation", None),
        "superseded_by": getattr(report, "superseded_by", None),
        # A refused action keeps its section on the page, with the reason, even when the
        # report has meanwhile left the state the section is offered in.
        "lab_actor": lab_actor and (draft or any(
            forms.get(name) is not None for name in ("issue_form", "prepare_form",
                                                     "sign_form"))),
        "has_platform_key": lab_keys.filter(custody=KeyCustody.PLATFORM).exists(),
        "has_lab_key": lab_keys.filter(custody=KeyCustody.LAB).exists(),
        "awaiting_signature": draft and bool(report.payload) and report.key_id is not None
        and report.key.custody == KeyCustody.LAB,
        "can_revoke": (access.can_revoke(request.user, report)
                       or forms.get("revoke_form") is not None),
        "can_report_hazard": own,
        "issue_form": forms.get("issue_form") or ActionForm(),
        "prepare_form": forms.get("prepare_form") or PrepareForm(lab_id=report.lab_id),
        "sign_form": forms.get("sign_form") or SignForm(),
        "revoke_form": forms.get("revoke_form") or RevokeForm(regulator=scope.is_regulator),
        "hazard_form": forms.get("hazard_form") or HazardForm(),
        "hazards": (report.hazards.select_related("department").order_by("-reported_at")
                    if own or scope.is_admin else []),
    }, status=status)


@signed_in()
def report_detail(request, pk, scope):
    return _detail_page(request, _visible_report(request, pk))


@signed_in()
def report_pdf(request, pk, scope):
    report = _visible_report(request, pk)
    if not report.pdf:
        raise Http404
    response = FileResponse(report.pdf.open("rb"), content_type="application/pdf")
    name = report.number.replace("/", "_")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return response


@require_POST
@signed_in()
def report_issue(request, pk, scope):
    report = _visible_report(request, pk)
    _require_lab_actor(request, report)
    form = ActionForm(request.POST)
    done = call_service(form, services.report_issue, actor=request.user, report_id=report.pk)
    if done is None:
        return _detail_page(request, _visible_report(request, pk), issue_form=form)
    messages.success(request, _("Report %(number)s issued, signed with the key the platform "
                                "holds for your laboratory.") % {"number": report.number})
    return redirect("reports:report_detail", pk=pk)


@require_POST
@signed_in()
def report_prepare(request, pk, scope):
    report = _visible_report(request, pk)
    _require_lab_actor(request, report)
    form = PrepareForm(request.POST, lab_id=report.lab_id)
    if form.is_valid():
        payload = call_service(form, services.report_prepare, actor=request.user,
                               report_id=report.pk, key_id=form.cleaned_data["key"].key_id)
        if payload is not None:
            messages.info(request, _("The payload is ready: sign it with key %(key)s and "
                                     "paste the signature below.")
                          % {"key": form.cleaned_data["key"].key_id})
            return redirect("reports:report_detail", pk=pk)
    return _detail_page(request, _visible_report(request, pk), prepare_form=form)


@require_POST
@signed_in()
def report_sign(request, pk, scope):
    report = _visible_report(request, pk)
    _require_lab_actor(request, report)
    form = SignForm(request.POST)
    if form.is_valid():
        done = call_service(form, services.report_sign, actor=request.user,
                            report_id=report.pk, signature_hex=form.cleaned_data["signature"])
        if done is not None:
            messages.success(request, _("The signature verifies: report %(number)s is issued.")
                             % {"number": report.number})
            return redirect("reports:report_detail", pk=pk)
    return _detail_page(request, _visible_report(request, pk), sign_form=form)


@require_POST
@signed_in()
def report_revoke(request, pk, scope):
    report = _visible_report(request, pk)
    if not (scope.is_admin or access.is_own_lab(request.user, report.lab_id)
            or (scope.is_regulator and scope.covers_division(report.lab.division_id))):
        raise PermissionDenied(_("Only the issuing laboratory or a regulator responsible for "
                                 "it may revoke a report."))
    form = RevokeForm(request.POST, regulator=scope.is_regulator)
    if form.is_valid():
        done = call_service(form, services.report_revoke, actor=request.user,
                            report_id=report.pk, reason=form.cleaned_data["reason"],
                            ground=form.cleaned_data["ground"])
        if done is not None:
            messages.success(request, _("Report %(number)s is revoked; the revocation and "
                                        "its reason are public.") % {"number": report.number})
            return redirect("reports:report_detail", pk=pk)
    return _detail_page(request, _visible_report(request, pk), revoke_form=form)


@require_POST
@signed_in()
def report_hazard(request, pk, scope):
    report = _visible_report(request, pk)
    if not access.is_own_lab(request.user, report.lab_id):
        raise PermissionDenied(_("Only a laboratory's own users report hazards found in "
                                 "testing."))
    form = HazardForm(request.POST)
    if form.is_valid():
        hazard = call_service(form, hazards.hazard_report, actor=request.user,
                              report_id=report.pk,
                              description=form.cleaned_data["description"])
        if hazard is not None:
            name = hazard.department.name
            messages.success(request, _("The hazard was reported to %(department)s.")
                             % {"department": name})
            return redirect("reports:report_detail", pk=pk)
    return _detail_page(request, _visible_report(request, pk), hazard_form=form)


# --- signing keys -------------------------------------------------------------------------------

def _keys_page(request, status: int = 200, **forms):
    keys = access.keys_visible_to(request.user).select_related("registered_by").order_by(
        "retired_at", "-registered_at")
    return render(request, "reports/keys.html", {
        "keys": keys,
        "register_form": forms.get("register_form") or KeyRegisterForm(),
        "generate_form": forms.get("generate_form") or KeyGenerateForm(),
        "retire_form": KeyRetireForm(),
        "retire_errors": forms.get("retire_errors"),
    }, status=status)


@lab_only
def key_list(request, scope):
    if request.method == "POST":
        form = KeyRegisterForm(request.POST)
        if form.is_valid():
            key = call_service(form, services.key_register, actor=request.user,
                               public_key_hex=form.cleaned_data["public_key"])
            if key is not None:
                messages.success(request, _("Key %(key)s registered. Sign reports with its "
                                            "private half.") % {"key": key.key_id})
                return redirect("reports:key_list")
        return _keys_page(request, register_form=form)
    return _keys_page(request)


@require_POST
@lab_only
def key_generate(request, scope):
    form = KeyGenerateForm(request.POST)
    if form.is_valid():
        key = call_service(form, services.key_generate_custodial, actor=request.user)
        if key is not None:
            messages.warning(request, _("Key %(key)s created. The platform holds its private "
                                        "key on your laboratory's behalf; every report it "
                                        "signs says so.") % {"key": key.key_id})
            return redirect("reports:key_list")
    return _keys_page(request, generate_form=form)


@require_POST
@lab_only
def key_retire(request, key_id, scope):
    key = access.get_or_404(access.keys_visible_to(request.user), key_id, field="key_id")
    form = KeyRetireForm(request.POST)
    if form.is_valid():
        done = call_service(form, services.key_retire, actor=request.user, key_id=key.key_id,
                            reason=form.cleaned_data["reason"])
        if done is not None:
            messages.success(request, _("Key %(key)s retired: no new report can be signed "
                                        "with it; reports it signed still verify.")
                             % {"key": key.key_id})
            return redirect("reports:key_list")
    return _keys_page(request, retire_errors=form.errors.get("__all__") or [
        e for errors in form.errors.values() for e in errors])


# --- instruments --------------------------------------------------------------------------------

def _instruments_page(request, status: int = 200, *, instrument_form=None,
                      calibration_form=None, calibration_for=None):
    instruments = access.instruments_visible_to(request.user).prefetch_related(
        Prefetch("calibrations", queryset=Calibration.objects.order_by("-calibrated_on", "-id")))
    return render(request, "reports/instruments.html", {
        "instruments": instruments.order_by("name", "serial_number"),
        "instrument_form": instrument_form or InstrumentForm(),
        "calibration_form": calibration_form,
        "calibration_for": calibration_for,
        "blank_calibration_form": CalibrationForm(),
    }, status=status)


@lab_only
def instrument_list(request, scope):
    if request.method == "POST":
        form = InstrumentForm(request.POST)
        if form.is_valid():
            instrument = call_service(form, services.instrument_add, actor=request.user,
                                      data=form.cleaned_data)
            if instrument is not None:
                messages.success(request, _("Instrument %(serial)s added. Record its "
                                            "calibration certificate before using it.")
                                 % {"serial": instrument.serial_number})
                return redirect("reports:instrument_list")
        return _instruments_page(request, instrument_form=form)
    return _instruments_page(request)


@require_POST
@lab_only
def calibration_add(request, pk, scope):
    instrument = access.get_or_404(access.instruments_visible_to(request.user), pk)
    form = CalibrationForm(request.POST, prefix=f"cal{instrument.pk}")
    if form.is_valid():
        cal = call_service(form, services.calibration_add, actor=request.user,
                           instrument_id=instrument.pk, data=form.cleaned_data)
        if cal is not None:
            messages.success(request, _("Calibration certificate %(number)s recorded for "
                                        "%(serial)s.") % {"number": cal.certificate_number,
                                                         "serial": instrument.serial_number})
            return redirect("reports:instrument_list")
    return _instruments_page(request, calibration_form=form, calibration_for=instrument.pk)


# --- hazard reports -----------------------------------------------------------------------------

@signed_in(roles=STAFF_AND_LABS)
def hazard_list(request, scope):
    return _hazard_page(request, scope)


def _hazard_page(request, scope, ack_form=None, ack_for=None):
    form = HazardFilterForm(request.GET or None)
    qs = access.hazards_visible_to(request.user).select_related(
        "lab", "report", "entity", "category", "department", "acknowledged_by")
    if form.is_valid() and form.cleaned_data["status"]:
        qs = qs.filter(status=form.cleaned_data["status"])
    # Unacknowledged first, newest first within each.
    page = paginate(request, qs.order_by(
        Case(When(status=HazardStatus.OPEN, then=0), default=1), "-reported_at", "-id"))
    for hazard in page:
        hazard.can_acknowledge = (hazard.status == HazardStatus.OPEN
                                  and access.can_acknowledge(request.user, hazard))
    return render(request, "reports/hazard_list.html", {
        "form": form, "page": page, "ack_form": ack_form, "ack_for": ack_for,
        "is_lab": scope.role == "lab",
    })


@require_POST
@signed_in(roles=STAFF_AND_LABS)
def hazard_acknowledge(request, pk, scope):
    hazard = access.get_or_404(access.hazards_visible_to(request.user), pk)
    if not access.can_acknowledge(request.user, hazard):
        raise PermissionDenied(_("Only officers of the department the hazard was reported "
                                 "to may acknowledge it."))
    form = ActionForm(request.POST)
    done = call_service(form, hazards.hazard_acknowledge, actor=request.user,
                        hazard_id=hazard.pk)
    if done is None:
        return _hazard_page(request, scope, ack_form=form, ack_for=hazard.pk)
    messages.success(request, _("Hazard report acknowledged."))
    return redirect("reports:hazard_list")

