"""Sampling plans: list (with the hand-overs waiting for the officer), plan (create and
change while a draft), detail with its samples, activation and closing; and recording a
sample under an active plan."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from zhijian.core.models import Division
from zhijian.registry.models import Department
from zhijian.web.common import call_service, paginate, regulator_required

from .. import access, services
from ..choices import SamplingPlanStatus
from ..forms import ActionForm, PlanFilterForm, SampleForm, SamplingPlanForm, localised
from ..models import Handover


def visible_plan(request, pk, *related):
    qs = access.plans_visible_to(request.user).select_related("department__division",
                                                              *related)
    return access.get_or_404(qs, pk)


def waiting_for(user):
    """Hand-overs addressed to the user and not yet received."""
    return (Handover.objects.filter(received_by=user, received_at__isnull=True)
            .select_related("sample__lab", "sample__entity", "given_by")
            .order_by("given_at"))


@regulator_required
def plan_list(request, scope):
    form = PlanFilterForm(request.GET or None)
    qs = access.plans_visible_to(request.user).select_related("department").annotate(
        sample_count=Count("samples"))
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            qs = qs.filter(Q(code__icontains=d["q"]) | Q(title__contains=d["q"]))
        if d["status"]:
            qs = qs.filter(status=d["status"])
    return render(request, "sampling/plan_list.html", {
        "form": form, "page": paginate(request, qs.order_by("-created_at", "-id")),
        "can_create": scope.is_regulator or scope.is_admin,
        "waiting": list(waiting_for(request.user)[:50]),
    })


def _form_page(request, form, title, cancel):
    return render(request, "sampling/plan_form.html", {
        "form": form, "title": title, "cancel": cancel})


@regulator_required
def plan_create(request, scope):
    if scope.is_admin:
        departments = Department.objects.select_related("division").order_by("division_id",
                                                                              "kind")
        chosen = request.POST.get("department") or request.GET.get("department")
        department = departments.filter(pk=chosen).first() if str(chosen).isdigit() else None
        form = SamplingPlanForm(request.POST or None, department=department,
                                departments=departments)
    else:
        department = Department.objects.select_related("division").get(
            pk=request.user.department_id)
        form = SamplingPlanForm(request.POST or None, department=department)
    if request.method == "POST" and form.is_valid():
        plan = call_service(form, services.sampling_plan_save, actor=request.user,
                            **form.service_kwargs())
        if plan is not None:
            messages.success(request, _("Plan %(code)s saved as a draft. Activate it to start "
                                        "sampling.") % {"code": plan.code})
            return redirect("sampling:plan_detail", pk=plan.pk)
    return _form_page(request, form, _("Plan supervisory sampling"),
                      reverse("sampling:plan_list"))


@regulator_required
def plan_edit(request, pk, scope):
    plan = visible_plan(request, pk)
    if not access.can_manage_plan(request.user, plan):
        raise PermissionDenied(_("Only officers of the plan's department can change it."))
    if plan.status != SamplingPlanStatus.DRAFT:
        messages.info(request, _("Plan %(code)s is no longer a draft and cannot be changed.")
                      % {"code": plan.code})
        return redirect("sampling:plan_detail", pk=pk)
    form = SamplingPlanForm(request.POST or None, department=plan.department, plan=plan)
    if request.method == "POST" and form.is_valid():
        saved = call_service(form, services.sampling_plan_save, actor=request.user, plan=plan,
                             **form.service_kwargs())
        if saved is not None:
            messages.success(request, _("Changes saved and recorded in the audit log."))
            return redirect("sampling:plan_detail", pk=pk)
    return _form_page(request, form, _("Change plan %(code)s") % {"code": plan.code},
                      reverse("sampling:plan_detail", args=[pk]))


def _plan_page(request, plan, action_form=None, status=200):
    lang = request.LANGUAGE_CODE
    samples = (access.samples_visible_to(request.user).filter(plan=plan)
               .select_related("entity", "producer", "lab", "category", "duplicate_of")
               .order_by("-sampled_at", "-id"))
    divisions = {d.code: d.display_name(lang) for d in Division.objects.filter(
        code__in=[p.ljust(6, "0") for p in plan.division_prefixes])}
    return render(request, "sampling/plan_detail.html", {
        "plan": plan,
        "department": localised(plan.department),
        "categories": [localised(c) for c in plan.categories.order_by("code")],
        "divisions": [(p.ljust(6, "0"), divisions.get(p.ljust(6, "0"), ""))
                      for p in plan.division_prefixes],
        "entities": plan.entities.order_by("uscc"),
        "page": paginate(request, samples),
        "can_manage": access.can_manage_plan(request.user, plan),
        "can_sample": access.can_sample(request.user, plan)
        and plan.status == SamplingPlanStatus.ACTIVE,
        "action_form": action_form or ActionForm(),
    }, status=status)


@regulator_required
def plan_detail(request, pk, scope):
    return _plan_page(request, visible_plan(request, pk, "created_by"))


def _transition(request, pk, service, done: str):
    plan = visible_plan(request, pk, "created_by")
    if not access.can_manage_plan(request.user, plan):
        raise PermissionDenied(_("Only officers of the plan's department can change it."))
    if request.method != "POST":
        return redirect("sampling:plan_detail", pk=pk)
    form = ActionForm(request.POST)
    result = call_service(form, service, actor=request.user, plan_id=plan.pk)
    if result is None:
        plan.refresh_from_db()
        return _plan_page(request, plan, action_form=form)
    messages.success(request, done % {"code": plan.code})
    return redirect("sampling:plan_detail", pk=pk)


@regulator_required
def plan_activate(request, pk, scope):
    return _transition(request, pk, services.sampling_plan_activate,
                       _("Plan %(code)s is active: samples can now be recorded under it."))


@regulator_required
def plan_close(request, pk, scope):
    return _transition(request, pk, services.sampling_plan_close,
                       _("Plan %(code)s is closed. Samples already taken go on to the lab."))


@regulator_required
def sample_create(request, pk, scope):
    plan = visible_plan(request, pk)
    if not access.can_sample(request.user, plan):
        raise PermissionDenied(_("Only officers of the plan's department take samples under "
                                 "it."))
    form = SampleForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        sample = call_service(form, services.sample_record, actor=request.user,
                              **form.service_kwargs())
        if sample is not None:
            messages.success(request, _("Sample %(code)s recorded. Hand it over to the lab "
                                        "(%(lab)s) with its seal intact.")
                             % {"code": sample.code, "lab": sample.lab.name})
            return redirect("sampling:sample_detail", pk=sample.pk)
    return render(request, "sampling/sample_form.html", {"form": form, "plan": plan})
