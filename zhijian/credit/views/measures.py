"""Pages of joint punishment (M3.4) under /work/credit/ (docs/credit-measures.md).

- measures/: every department's measures with their state on the day; a regulator
  declares measures for their own department (administrators for any) and withdraws them.
- checks/new/: an officer checks a firm put forward for a licence, a tender, an honour or
  a subsidy; the stored check (outcome, measures, reasons) is printable at checks/<pk>/.
- checks/: the checks the officer or their department made (administrators: all; a user
  unit: the checks of its own supplier listings).

Every write goes through credit.services.measures.
"""

from __future__ import annotations

import functools
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhijian.core.access import scope_of
from zhijian.web.common import call_service, paginate, regulator_required

from ..choices import MeasureCode, MeasureEffect
from ..forms_measures import CheckFilterForm, CheckForm, MeasureForm, WithdrawForm
from ..models import Measure
from ..services import measures as services


def _login_required(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, scope=scope_of(request.user), **kwargs)

    return wrapper


def _may_declare(scope) -> bool:
    return scope.is_admin or scope.is_regulator


# --- measures ---------------------------------------------------------------------------------

def _measure_page(request, scope, *, withdraw_forms=None, status=200):
    today = timezone.localdate()
    measures = list(Measure.objects.select_related("department").order_by(
        "department__division_id", "department__kind", "code", "-effective_from", "pk"))
    withdraw_forms = withdraw_forms or {}
    groups = []
    for dept, rows in groupby(measures, key=lambda m: m.department):
        items = []
        for m in rows:
            state = services.measure_state(m, today)
            may_withdraw = state in ("in_force", "scheduled") and (
                scope.is_admin or scope.org_id == m.department_id)
            items.append({"measure": m, "state": state, "may_withdraw": may_withdraw,
                          "form": withdraw_forms.get(m.pk) or WithdrawForm(prefix=f"m{m.pk}")})
        groups.append({"department": dept, "items": items,
                       "own": scope.is_admin or scope.org_id == dept.pk})
    return render(request, "credit/measure_list.html", {
        "groups": groups, "today": today, "may_declare": _may_declare(scope),
        "nav_section": "credit:measures"}, status=status)


@regulator_required
def measure_list(request, scope):
    return _measure_page(request, scope)


@regulator_required
def measure_declare(request, scope):
    form = MeasureForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        m = call_service(form, services.measure_declare, actor=request.user,
                         department_id=d["department"].pk if d.get("department") else None,
                         code=d["code"], trigger=d["trigger"], effect=d["effect"],
                         contexts=d["contexts"], legal_basis=d["legal_basis"],
                         description=d["description"], effective_from=d["effective_from"],
                         effective_until=d["effective_until"])
        if m is not None:
            messages.success(request, _("Measure declared: %(measure)s of %(department)s.") % {
                "measure": m.get_code_display(), "department": m.department.name})
            return redirect("credit:measure_list")
    return render(request, "web/form.html", {
        "form": form, "title": _("Declare a joint punishment measure"),
        "submit": _("Declare"), "cancel": reverse("credit:measure_list"), "nav_section": "credit:measures"})


@require_POST
@regulator_required
def measure_withdraw(request, pk, scope):
    if not Measure.objects.filter(pk=pk).exists():
        raise Http404
    form = WithdrawForm(request.POST, prefix=f"m{pk}")
    if form.is_valid():
        m = call_service(form, services.measure_withdraw, actor=request.user, measure_id=pk,
                         reason=form.cleaned_data["reason"])
        if m is not None:
            messages.success(request, _("Measure withdrawn: %(measure)s of %(department)s.") % {
                "measure": m.get_code_display(), "department": m.department.name})
            return redirect("credit:measure_list")
    return _measure_page(request, scope, withdraw_forms={pk: form}, status=400)


# --- credit checks ----------------------------------------------------------------------------

@regulator_required
def check_new(request, scope):
    form = CheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        check = call_service(form, services.credit_check, actor=request.user, uscc=d["uscc"],
                             context=d["context"], reference=d["reference"])
        if check is not None:
            return redirect("credit:check_detail", pk=check.pk)
    return render(request, "credit/check_form.html", {
        "form": form, "nav_section": "credit:checks"})


@_login_required
def check_list(request, scope):
    form = CheckFilterForm(request.GET or None)
    qs = services.checks_visible_to(request.user).select_related(
        "entity", "requested_by", "token")
    if form.is_valid():
        d = form.cleaned_data
        if d["context"]:
            qs = qs.filter(context=d["context"])
        if d["outcome"]:
            qs = qs.filter(outcome=d["outcome"])
        if d["q"]:
            q = d["q"].strip()
            qs = qs.filter(Q(uscc__startswith=q.upper()) | Q(reference__icontains=q)
                           | Q(entity__name__icontains=q))
    return render(request, "credit/check_list.html", {
        "form": form, "page": paginate(request, qs.order_by("-checked_at", "-id")),
        "may_check": scope.is_admin or scope.is_regulator,
        "nav_section": "credit:checks"})


@_login_required
def check_detail(request, pk, scope):
    check = services.checks_visible_to(request.user).select_related(
        "entity", "requested_by", "token").filter(pk=pk).first()
    if check is None:
        raise Http404
    internal = services.may_see_class(request.user)
    rows = [{**r, "label": MeasureCode(r["code"]).label,
             "effect_label": MeasureEffect(r["effect"]).label,
             "shown_reason": r["reason"] if internal else r["public_reason"]}
            for r in check.measures]
    return render(request, "credit/check_detail.html", {
        "check": check, "rows": rows, "internal": internal, "nav_section": "credit:checks"})
