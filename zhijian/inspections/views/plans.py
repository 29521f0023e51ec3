"""Random inspection plans: list, plan (create and change while a draft), detail and
publication, which freezes the register and the inspector pool and publishes their
commitment."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from zhijian.core.models import Division
from zhijian.registry.choices import EntityType
from zhijian.registry.models import Department
from zhijian.web.common import call_service, paginate, regulator_required

from .. import access, services
from ..choices import DrawStatus, PlanStatus, TaskStatus
from ..forms import ActionForm, PlanFilterForm, PlanForm, department_name
from .common import failure_rows, renamed, require_manager, visible_plan


def _candidates(lead: Department, plan=None) -> list[Department]:
    """Departments that may join the lead's plan: those of the lead's division (one per
    kind), and any already in the plan; the lead first."""
    q = Q(division_id=lead.division_id)
    if plan is not None:
        q |= Q(pk__in=plan.departments.values("pk"))
    others = Department.objects.filter(q).exclude(pk=lead.pk).select_related("division")
    return [lead, *others.order_by("kind", "code")]


@regulator_required
def plan_list(request, scope):
    form = PlanFilterForm(request.GET or None)
    qs = access.plans_visible_to(request.user).select_related("lead_department")
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            qs = qs.filter(Q(code__icontains=d["q"]) | Q(title__contains=d["q"]))
        if d["status"]:
            qs = qs.filter(status=d["status"])
    return render(request, "inspections/plan_list.html", {
        "form": form, "page": paginate(request, qs.order_by("-created_at", "-id")),
        "can_create": scope.is_regulator,
    })


def _plan_form_page(request, form, title, cancel):
    return render(request, "inspections/plan_form.html", {
        "form": form, "title": title, "cancel": cancel,
    })


@regulator_required
def plan_create(request, scope):
    if not scope.is_regulator:
        raise PermissionDenied(_("Plans are made by the officers of the lead department; "
                                 "sign in with a department account."))
    lead = Department.objects.select_related("division").get(pk=request.user.department_id)
    form = PlanForm(request.POST or None, lead=lead, candidates=_candidates(lead))
    if request.method == "POST" and form.is_valid():
        plan = call_service(form, renamed(services.plan_save, form.aliases()),
                            actor=request.user, **form.service_kwargs())
        if plan is not None:
            messages.success(request, _("Plan %(code)s saved as a draft. Publish it when "
                                        "the scope and checklist are final.")
                             % {"code": plan.code})
            return redirect("inspections:plan_detail", pk=plan.pk)
    return _plan_form_page(request, form, _("Plan a random inspection"),
                           reverse("inspections:plan_list"))


@regulator_required
def plan_edit(request, pk, scope):
    plan = visible_plan(request, pk)
    require_manager(request.user, plan)
    if plan.status != PlanStatus.DRAFT:
        messages.info(request, _("A published plan cannot be changed; redraw it with a "
                                 "reason instead."))
        return redirect("inspections:plan_detail", pk=pk)
    lead = plan.lead_department
    form = PlanForm(request.POST or None, lead=lead, candidates=_candidates(lead, plan),
                    plan=plan)
    if request.method == "POST" and form.is_valid():
        saved = call_service(form, renamed(services.plan_save, form.aliases()),
                             actor=request.user, plan=plan, **form.service_kwargs())
        if saved is not None:
            messages.success(request, _("Changes saved and recorded in the audit log."))
            return redirect("inspections:plan_detail", pk=pk)
    return _plan_form_page(request, form, _("Change plan %(code)s") % {"code": plan.code},
                           reverse("inspections:plan_detail", args=[pk]))


def _plan_page(request, plan, publish_form=None, failures=None, status=200):
    lang = request.LANGUAGE_CODE
    items = plan.items.select_related("department").order_by("position")
    checklist: list[tuple[str, list[str]]] = []
    for item in items:
        name = department_name(item.department)
        if not checklist or checklist[-1][0] != name:
            checklist.append((name, []))
        checklist[-1][1].append(item.text)
    draws = list(plan.draws.select_related("committed_by").order_by("number"))
    current = next((d for d in reversed(draws) if d.status != DrawStatus.SUPERSEDED), None)
    task_counts = Counter()
    if current is not None:
        visible = access.tasks_visible_to(request.user).filter(draw=current)
        task_counts = Counter(visible.values_list("status", flat=True))
    divisions = {d.code: d.display_name(lang) for d in Division.objects.filter(
        code__in=[p.ljust(6, "0") for p in plan.division_prefixes])}
    return render(request, "inspections/plan_detail.html", {
        "plan": plan,
        "departments": [department_name(d) for d in plan.departments.order_by("kind")],
        "categories": plan.categories.order_by("code"),
        "divisions": [(p.ljust(6, "0"), divisions.get(p.ljust(6, "0"), ""))
                      for p in plan.division_prefixes],
        "entity_types": [str(EntityType(t).label) for t in plan.entity_types
                         if t in EntityType.values],
        "ratios": [(c, plan.ratios.get(c)) for c in services.CLASSES],
        "checklist": checklist,
        "draws": draws,
        "current": current,
        "task_counts": [(label, task_counts.get(value, 0))
                        for value, label in TaskStatus.choices],
        "task_total": sum(task_counts.values()),
        "can_manage": access.can_manage_plan(request.user, plan),
        "publish_form": publish_form or ActionForm(),
        "failures": failure_rows(failures) if failures else [],
        "failure_total": len(failures or []),
    }, status=status)


@regulator_required
def plan_detail(request, pk, scope):
    plan = visible_plan(request, pk, "created_by")
    return _plan_page(request, plan)


@regulator_required
def plan_publish(request, pk, scope):
    plan = visible_plan(request, pk, "created_by")
    require_manager(request.user, plan)
    if request.method != "POST":
        return redirect("inspections:plan_detail", pk=pk)
    form = ActionForm(request.POST)
    failures: list[dict] = []

    def publish(**kwargs):
        try:
            return services.plan_publish(**kwargs)
        except services.Infeasible as exc:
            failures.extend(exc.failures)
            raise

    d = call_service(form, publish, actor=request.user, plan=plan)
    if d is None:
        plan.refresh_from_db()
        return _plan_page(request, plan, publish_form=form, failures=failures)
    messages.success(request, _("Plan published: the register and the inspector pool are "
                                "frozen and their commitment is public. Show the commitment "
                                "to the witnesses, then roll the dice and enter the seed."))
    return redirect("inspections:draw_seed", pk=d.pk)
