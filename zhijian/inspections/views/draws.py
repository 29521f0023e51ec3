"""Draws: the page of one draw (frame, exclusions, selection and teams, failures), the
seed entered after the commitment, a redraw with its published reason, and the bundle a
third party verifies with `python -m zhijian.verify draw bundle.json`."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhijian.core.models import Division
from zhijian.registry.models import Inspector
from zhijian.web.common import call_service, regulator_required

from .. import access, draw, services
from ..choices import DrawStatus
from ..forms import RedrawForm, SeedForm
from ..models import Draw
from .common import (
    MAX_ROWS_SHOWN,
    department_names,
    entity_names,
    failure_rows,
    require_manager,
)

SELECTED_PER_PAGE = 100
VERIFY_COMMAND = "python -m zhijian.verify draw bundle.json"

EXCLUSION_REASONS = {
    "open_task": gettext_lazy("Has an open inspection task"),
    "inspected_recently": gettext_lazy("Inspected within the exclusion period"),
    "no_department": gettext_lazy("No participating department serves it"),
}


def visible_draw(request, pk) -> Draw:
    qs = Draw.objects.filter(plan__in=access.plans_visible_to(request.user)).select_related(
        "plan__lead_department", "committed_by", "seeded_by", "redraw_of")
    return access.get_or_404(qs, pk)


def _strata(d: Draw, lang: str) -> list[dict]:
    population = Counter(e["stratum"] for e in d.frame["entities"])
    drawn = {c["stratum"]: c["drawn"] for c in (d.result or {}).get("counts", [])}
    cities = {s["key"][:6] for s in d.frame["strata"] if "-" in s["key"]}
    names = {x.code: x.display_name(lang) for x in Division.objects.filter(code__in=cities)}
    rows = []
    for s in d.frame["strata"]:
        key = s["key"]
        city, _sep, cls = key.rpartition("-")
        n = population.get(key, 0)
        rows.append({
            "key": key, "city": city, "city_name": names.get(city, ""), "class": cls,
            "population": n, "ratio_bp": s["ratio_bp"],
            "to_draw": draw.Stratum(key, s["ratio_bp"]).sample_size(n),
            "drawn": drawn.get(key),
        })
    return rows


def _selected(request, d: Draw):
    """One page of the selection, with firm names, team names and the task of each firm
    that the user may open."""
    selected = (d.result or {}).get("selected", [])
    page = Paginator(selected, SELECTED_PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    names = entity_names(s["uscc"] for s in rows)
    badges = {b for s in rows for b in s["inspectors"]}
    inspectors = dict(Inspector.objects.filter(badge_number__in=badges)
                      .values_list("badge_number", "name"))
    tasks = dict(access.tasks_visible_to(request.user).filter(
        draw=d, entity__uscc__in=[s["uscc"] for s in rows]).values_list("entity__uscc", "pk"))
    page.object_list = [{
        **s, "name": names.get(s["uscc"], ""), "task": tasks.get(s["uscc"]),
        "team": [(b, inspectors.get(b, "")) for b in s["inspectors"]],
    } for s in rows]
    return page


@regulator_required
def draw_detail(request, pk, scope):
    d = visible_draw(request, pk)
    excluded = d.frame["excluded"]
    shown = excluded[:MAX_ROWS_SHOWN]
    names = entity_names(x["uscc"] for x in shown)
    counts = Counter(x["reason"] for x in excluded)
    pool_departments = department_names(p["department"] for p in d.pool["inspectors"])
    return render(request, "inspections/draw_detail.html", {
        "draw": d, "plan": d.plan,
        "strata": _strata(d, request.LANGUAGE_CODE),
        "frame_total": len(d.frame["entities"]),
        "exclusion_counts": [(EXCLUSION_REASONS.get(r, r), n) for r, n in sorted(counts.items())],
        "excluded": [{**x, "name": names.get(x["uscc"], ""),
                      "reason_label": EXCLUSION_REASONS.get(x["reason"], x["reason"])}
                     for x in shown],
        "excluded_total": len(excluded),
        "pool_size": len(d.pool["inspectors"]),
        "pool_departments": sorted(set(pool_departments.values())),
        "conflict_count": len(d.pool["conflicts"]),
        "page": _selected(request, d) if d.result else None,
        "failures": failure_rows(d.failures),
        "failure_total": len(d.failures),
        "redrawn_as": Draw.objects.filter(redraw_of=d).only("pk", "number").first(),
        "can_manage": access.can_manage_plan(request.user, d.plan),
        "verify_command": VERIFY_COMMAND,
        "bundle_name": _bundle_name(d),
    })


def _bundle_name(d: Draw) -> str:
    return f"{d.plan.code}-draw-{d.number}.json"


@regulator_required
def draw_bundle(request, pk, scope):
    """The canonical JSON bundle (RFC 8785) of the draw, as a download."""
    d = visible_draw(request, pk)
    response = HttpResponse(draw.canonical(d.bundle()), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{_bundle_name(d)}"'
    return response


@regulator_required
def draw_seed(request, pk, scope):
    d = visible_draw(request, pk)
    require_manager(request.user, d.plan)
    if d.status != DrawStatus.COMMITTED:
        messages.info(request, _("This draw already has its seed; a draw is never made twice. "
                                 "Redraw with a reason if it must be repeated."))
        return redirect("inspections:draw_detail", pk=pk)
    form = SeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = call_service(form, services.draw_seed, actor=request.user, draw_id=d.pk,
                            **form.cleaned_data)
        if done is not None:
            if done.status == DrawStatus.DRAWN:
                messages.success(request, _("Draw made: %(n)d firms selected and their "
                                            "inspector teams drawn.")
                                 % {"n": len(done.result["selected"])})
            else:
                messages.error(request, _("The draw failed: inspector teams could not be "
                                          "formed for some firms (see below). Correct the "
                                          "pool, then redraw with a reason."))
            return redirect("inspections:draw_detail", pk=pk)
    return render(request, "inspections/seed_form.html", {
        "form": form, "draw": d, "plan": d.plan, "frame_total": len(d.frame["entities"]),
        "pool_size": len(d.pool["inspectors"]),
    })


@regulator_required
def draw_redraw(request, pk, scope):
    d = visible_draw(request, pk)
    require_manager(request.user, d.plan)
    if d.status == DrawStatus.SUPERSEDED:
        messages.info(request, _("This draw was already superseded."))
        return redirect("inspections:draw_detail", pk=pk)
    form = RedrawForm(request.POST or None)
    failures: list[dict] = []

    def redraw(**kwargs):
        try:
            return services.draw_redraw(**kwargs)
        except services.Infeasible as exc:
            failures.extend(exc.failures)
            raise

    if request.method == "POST" and form.is_valid():
        new = call_service(form, redraw, actor=request.user, draw_id=d.pk,
                           reason=form.cleaned_data["reason"])
        if new is not None:
            messages.success(request, _("Draw %(old)d is superseded and stays published with "
                                        "the reason. A new commitment is published: enter "
                                        "the seed of draw %(new)d.")
                             % {"old": d.number, "new": new.number})
            return redirect("inspections:draw_seed", pk=new.pk)
    return render(request, "inspections/redraw_form.html", {
        "form": form, "draw": d, "plan": d.plan,
        "failures": failure_rows(failures), "failure_total": len(failures),
    })
