"""Laboratories, user units and inspectors in the regulator workbench."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhijian.registry import access, services
from zhijian.registry.choices import LabStatus
from zhijian.registry.models import Standard

from ..common import call_service, changed_values, history_rows, paginate, regulator_required
from ..forms import (
    InspectorFilterForm,
    InspectorForm,
    LabEditForm,
    LabForm,
    ScopeEndForm,
    ScopeForm,
    SimpleFilterForm,
    UserUnitEditForm,
    UserUnitFilterForm,
    UserUnitForm,
)


def _can_change_scope(scope, lab) -> bool:
    return scope.is_admin or (scope.is_regulator and scope.covers_division(lab.division_id))


def standard_codes():
    return Standard.objects.order_by("code").values_list("code", flat=True)[:1000]


# --- laboratories --------------------------------------------------------------------------

def lab_queryset(request):
    form = SimpleFilterForm(request.GET or None)
    qs = access.labs_visible_to(request.user).select_related("division")
    if form.is_valid() and form.cleaned_data["q"]:
        q = form.cleaned_data["q"]
        qs = qs.filter(Q(name__contains=q) | Q(cma_number__startswith=q)
                       | Q(cnas_number__startswith=q) | Q(uscc__startswith=q.upper()))
    return form, qs.annotate(scope_lines=Count("scopes")).order_by("name")


@regulator_required
def lab_list(request, scope):
    form, qs = lab_queryset(request)
    return render(request, "web/lab_list.html", {"form": form, "page": paginate(request, qs)})


def _lab_page(request, scope, lab, scope_form):
    scopes = access.scopes_visible_to(request.user).filter(lab=lab).select_related("standard")
    return render(request, "web/lab_detail.html", {
        "lab": lab,
        "scopes": scopes,
        "history": history_rows(lab),
        "can_edit": access.can_edit_lab(request.user, lab),
        "can_change_scope": _can_change_scope(scope, lab),
        "today": timezone.localdate(),
        "scope_form": scope_form,
        "standard_codes": standard_codes(),
    })


@regulator_required
def lab_detail(request, pk, scope):
    lab = access.get_or_404(access.labs_visible_to(request.user).select_related("division"), pk)
    return _lab_page(request, scope, lab, ScopeForm())


@regulator_required
def lab_scope_add(request, pk, scope):
    lab = access.get_or_404(access.labs_visible_to(request.user).select_related("division"), pk)
    if not _can_change_scope(scope, lab):
        raise PermissionDenied(
            _("Only the regulator of the laboratory's division can change its scope."))
    if request.method != "POST":
        return redirect("web:lab_detail", pk=pk)
    form = ScopeForm(request.POST)
    if form.is_valid():
        line = call_service(form, services.lab_scope_add, actor=request.user, lab_id=lab.pk,
                            data=dict(form.cleaned_data))
        if line is not None:
            messages.success(request, _("Scope line %(line)s added.") % {"line": str(line)})
            return redirect("web:lab_detail", pk=pk)
    return _lab_page(request, scope, lab, form)


@regulator_required
def lab_scope_end(request, pk, scope_pk, scope):
    """End one line of the lab's accredited scope (last valid day and reason)."""
    lab = access.get_or_404(access.labs_visible_to(request.user).select_related("division"), pk)
    line = access.get_or_404(access.scopes_visible_to(request.user).filter(lab=lab)
                             .select_related("standard"), scope_pk)
    if not _can_change_scope(scope, lab):
        raise PermissionDenied(
            _("Only the regulator of the laboratory's division can change its scope."))
    label = f"{line.standard.code} {line.parameter or _('all parameters')}"
    form = ScopeEndForm(request.POST or None,
                        initial={"valid_to": line.valid_to or timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        ended = call_service(form, services.lab_scope_end, actor=request.user, scope_id=line.pk,
                             valid_to=form.cleaned_data["valid_to"],
                             reason=form.cleaned_data["reason"])
        if ended is not None:
            messages.success(request, _("Scope line %(line)s ends on %(date)s.") % {
                "line": label, "date": ended.valid_to.isoformat()})
            return redirect("web:lab_detail", pk=pk)
    return render(request, "web/form.html", {
        "form": form, "title": _("End the scope line %(line)s of %(name)s") % {
            "line": label, "name": lab.name},
        "cancel": reverse("web:lab_detail", args=[pk]), "submit": _("End scope line"),
    })


@regulator_required
def lab_create(request, scope):
    form = LabForm(request.POST or None, scope=scope, initial={"status": LabStatus.ACTIVE})
    if request.method == "POST" and form.is_valid():
        lab = call_service(form, services.lab_register, actor=request.user,
                           data=dict(form.cleaned_data))
        if lab is not None:
            messages.success(request, _("Laboratory %(name)s registered.") % {"name": lab.name})
            return redirect("web:lab_detail", pk=lab.pk)
    return render(request, "web/form.html", {
        "form": form, "title": _("Register a laboratory"), "cancel": reverse("web:lab_list"),
        "submit": _("Register"),
    })


@regulator_required
def lab_edit(request, pk, scope):
    lab = access.get_or_404(access.labs_visible_to(request.user), pk)
    if not access.can_edit_lab(request.user, lab):
        raise PermissionDenied(_("You cannot change this laboratory."))
    form = LabEditForm(request.POST or None, instance=lab, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = changed_values(form)
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect("web:lab_detail", pk=pk)
        saved = call_service(form, services.lab_update, actor=request.user, lab_id=pk, data=data,
                             reason=form.cleaned_data["reason"])
        if saved is not None:
            messages.success(request, _("Changes saved and recorded in the audit log."))
            return redirect("web:lab_detail", pk=pk)
    return render(request, "web/form.html", {
        "form": form, "title": _("Change %(name)s") % {"name": lab.name},
        "cancel": reverse("web:lab_detail", args=[pk]), "submit": _("Save changes"),
    })


# --- user units ----------------------------------------------------------------------------

@regulator_required
def unit_list(request, scope):
    form = UserUnitFilterForm(request.GET or None)
    qs = access.user_units_visible_to(request.user).select_related("division")
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            qs = qs.filter(Q(name__contains=d["q"]) | Q(uscc__startswith=d["q"].upper()))
        if d["sector"]:
            qs = qs.filter(sector=d["sector"])
    return render(request, "web/unit_list.html",
                  {"form": form, "page": paginate(request, qs.order_by("name"))})


@regulator_required
def unit_detail(request, pk, scope):
    unit = access.get_or_404(access.user_units_visible_to(request.user)
                             .select_related("division").prefetch_related("categories"), pk)
    return render(request, "web/unit_detail.html", {
        "unit": unit, "history": history_rows(unit),
        "can_edit": access.can_edit_user_unit(request.user, unit),
    })


@regulator_required
def unit_create(request, scope):
    form = UserUnitForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        unit = call_service(form, services.user_unit_register, actor=request.user,
                            data=dict(form.cleaned_data))
        if unit is not None:
            messages.success(request, _("User unit %(name)s registered.") % {"name": unit.name})
            return redirect("web:unit_detail", pk=unit.pk)
    return render(request, "web/form.html", {
        "form": form, "title": _("Register a user unit"), "cancel": reverse("web:unit_list"),
        "submit": _("Register"),
    })


@regulator_required
def unit_edit(request, pk, scope):
    unit = access.get_or_404(access.user_units_visible_to(request.user), pk)
    if not access.can_edit_user_unit(request.user, unit):
        raise PermissionDenied(_("You cannot change this user unit."))
    form = UserUnitEditForm(request.POST or None, instance=unit, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = changed_values(form)
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect("web:unit_detail", pk=pk)
        saved = call_service(form, services.user_unit_update, actor=request.user, unit_id=pk,
                             data=data, reason=form.cleaned_data["reason"])
        if saved is not None:
            messages.success(request, _("Changes saved and recorded in the audit log."))
            return redirect("web:unit_detail", pk=pk)
    return render(request, "web/form.html", {
        "form": form, "title": _("Change %(name)s") % {"name": unit.name},
        "cancel": reverse("web:unit_detail", args=[pk]), "submit": _("Save changes"),
    })


# --- inspectors ----------------------------------------------------------------------------

@regulator_required
def inspector_list(request, scope):
    form = InspectorFilterForm(request.GET or None)
    qs = access.inspectors_visible_to(request.user).select_related("department")
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            qs = qs.filter(Q(name__contains=d["q"]) | Q(badge_number__startswith=d["q"]))
        if d["active"]:
            qs = qs.filter(active=d["active"] == "1")
    return render(request, "web/inspector_list.html",
                  {"form": form, "page": paginate(request, qs.order_by("department_id",
                                                                       "badge_number"))})


@regulator_required
def inspector_create(request, scope):
    form = InspectorForm(request.POST or None, scope=scope, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        inspector = call_service(form, services.inspector_register, actor=request.user,
                                 data=dict(form.cleaned_data))
        if inspector is not None:
            messages.success(request, _("Inspector %(name)s registered.")
                             % {"name": inspector.name})
            return redirect("web:inspector_list")
    return render(request, "web/form.html", {
        "form": form, "title": _("Register an inspector"),
        "cancel": reverse("web:inspector_list"), "submit": _("Register"),
    })
