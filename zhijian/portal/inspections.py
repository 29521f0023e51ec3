"""Public pages of random inspections (双随机、一公开, MISSION M3.2): the published results
(抽查结果公示) and every draw with what a third party needs to check it (随机抽取公示):
the commitment, the seed inputs, the counts, the selection with the teams by badge
number, the bundle and the stand-alone verifier. Reads go through
`zhijian.inspections.access` (results_public, draws_public) only."""

from __future__ import annotations

import hashlib
from collections import Counter
from functools import cache
from pathlib import Path

from django import forms
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

import zhijian.verify
from zhijian.core.models import Division
from zhijian.inspections import access
from zhijian.inspections import draw as draw_module
from zhijian.inspections.choices import PROBLEM_OUTCOMES, DrawStatus, Outcome
from zhijian.inspections.models import Draw, Task
from zhijian.registry.models import MarketEntity, ProductCategory
from zhijian.web.common import paginate, window
from zhijian.web.forms import BootstrapMixin, DateInput

RESULTS_PAGE_SIZE = 20
DRAWS_PAGE_SIZE = 50
SELECTED_PAGE_SIZE = 100

EXCLUSION_REASONS = {
    "open_task": _("an inspection of it is still open"),
    "inspected_recently": _("inspected within the exclusion period"),
    "no_department": _("no participating department serves it"),
}
# The stand-alone verifiers, served from the installed modules (standard library only).
VERIFIERS = {"draw.py": draw_module, "verify.py": zhijian.verify}
ENTITY_FIELDS = ("entity__uscc", "entity__name", "entity__entity_type", "entity__division__code",
                 "entity__division__name", "entity__division__name_en")


def _separator() -> str:
    """Between names in a list: the enumeration comma in Chinese, a semicolon in English."""
    return "; " if get_language() == "en" else "、"


def _localised(obj, field: str = "name") -> str:
    value = getattr(obj, f"{field}_en", "") if get_language() == "en" else ""
    return value or getattr(obj, field)


# --- results -------------------------------------------------------------------------------

class ResultFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Enterprise name or unified social credit code"),
                        required=False, max_length=60)
    category = forms.ChoiceField(label=_("Product category"), required=False)
    division = forms.ChoiceField(label=_("City or county"), required=False)
    completed_from = forms.DateField(label=_("Completed from"), required=False,
                                     widget=DateInput())
    completed_to = forms.DateField(label=_("Completed until"), required=False,
                                   widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All categories"))] + [
            (c.code, "\u2003" * c.code.count(".") + _localised(c))
            for c in ProductCategory.objects.order_by("code").only("code", "name", "name_en")]
        lang = get_language()
        self.fields["division"].choices = [("", _("All of Shaanxi"))] + [
            (d.code, ("\u2003" if d.level == "county" else "") + d.display_name(lang))
            for d in Division.objects.current().exclude(level="province")
            .only("code", "name", "name_en", "level")]

    def clean(self):
        data = super().clean()
        start, end = data.get("completed_from"), data.get("completed_to")
        if start and end and end < start:
            self.add_error("completed_to", _("The end of the range is before its start."))
        return data


def results_filter(qs, data: dict):
    """Apply the result filters (cleaned form data) to a queryset of tasks."""
    if q := data.get("q"):
        qs = qs.filter(entity__in=MarketEntity.objects.search(q).values("pk"))
    if code := data.get("category"):
        # The firm is in the category (or below it) and the plan's scope covers it.
        below = ProductCategory.objects.expand([code])
        parts = code.split(".")
        above = {".".join(parts[:i]) for i in range(1, len(parts))}
        qs = qs.filter(pk__in=Task.objects.filter(
            entity__categories__code__in=below,
            plan__categories__code__in=below | above).values("pk"))
    if code := data.get("division"):
        qs = qs.filter(entity__division__code__startswith=Division(code=code).prefix)
    if start := data.get("completed_from"):
        qs = qs.filter(completed_at__date__gte=start)
    if end := data.get("completed_to"):
        qs = qs.filter(completed_at__date__lte=end)
    return qs


def inspection_results(request):
    form = ResultFilterForm(request.GET or None)
    qs = (access.results_public()
          .select_related("entity__division", "plan")
          .only("pk", "outcome", "summary", "completed_at", "published_at", "draw_id",
                "plan__code", "plan__title", "plan__kind", "plan__lead_department_id",
                *ENTITY_FIELDS)
          .prefetch_related("plan__departments")
          .order_by("-completed_at", "-id"))
    if form.is_bound:
        qs = results_filter(qs, form.cleaned_data) if form.is_valid() else qs.none()
    page = window(request, qs, per_page=RESULTS_PAGE_SIZE)
    for t in page.items:  # the lead department first
        t.departments = sorted(t.plan.departments.all(),
                               key=lambda d, lead=t.plan.lead_department_id: d.pk != lead)
    return render(request, "portal/inspection_results.html", {
        "form": form, "page": page, "problem_outcomes": {str(o) for o in PROBLEM_OUTCOMES},
        "filtered": form.is_bound, "sep": _separator(),
    })


# --- draws ---------------------------------------------------------------------------------

def draw_list(request):
    q = request.GET.get("q", "").strip()[:60]
    qs = (access.draws_public().select_related("plan")
          .defer("plan_snapshot", "frame", "pool", "result", "failures")
          .annotate(firms=Count("tasks"))
          .order_by("-committed_at", "-id"))
    if q:
        qs = qs.filter(Q(plan__code__icontains=q) | Q(plan__title__contains=q))
    return render(request, "portal/draw_list.html", {
        "q": q, "page": window(request, qs, per_page=DRAWS_PAGE_SIZE)})


def _draw(pk) -> Draw:
    return access.get_or_404(access.draws_public().select_related("plan__lead_department"), pk)


def _stratum_label(key: str, cities: dict[str, str]) -> str:
    if "-" in key:
        city, risk = key.rsplit("-", 1)
        return f"{cities.get(city, city)} · {risk}"
    return key


def _percent(bp: int) -> str:
    return f"{bp / 100:g} %"


def draw_detail(request, pk):
    d = _draw(pk)
    if not d.disclosed():
        d = d.masked()
    plan = d.plan
    lang = get_language()
    population = Counter(e["stratum"] for e in d.frame["entities"])
    drawn = {c["stratum"]: c["drawn"] for c in (d.result or {}).get("counts", [])}
    cities = {div.code: div.display_name(lang) for div in Division.objects.filter(
        code__in={s["key"].rsplit("-", 1)[0] for s in d.frame["strata"] if "-" in s["key"]})}
    strata = [{"key": s["key"], "label": _stratum_label(s["key"], cities),
               "ratio": _percent(s["ratio_bp"]), "population": population[s["key"]],
               "drawn": drawn.get(s["key"])} for s in d.frame["strata"]]
    reasons = Counter(x["reason"] for x in d.frame["excluded"])
    exclusions = [{"reason": r, "label": EXCLUSION_REASONS.get(r, r), "count": n}
                  for r, n in sorted(reasons.items())]

    selected = paginate(request, (d.result or {}).get("selected", []), SELECTED_PAGE_SIZE)
    usccs = [s["uscc"] for s in selected.object_list]
    firms = {e.uscc: e for e in MarketEntity.objects.filter(uscc__in=usccs)
             .select_related("division").only("uscc", "name", "division__code",
                                              "division__name", "division__name_en")}
    outcomes = dict(Task.objects.published().filter(draw=d, entity__uscc__in=usccs)
                    .values_list("entity__uscc", "outcome"))
    labels = dict(Outcome.choices)
    rows = [{**s, "firm": firms.get(s["uscc"]),
             "stratum_label": _stratum_label(s["stratum"], cities),
             "outcome": labels.get(outcomes.get(s["uscc"]))} for s in selected.object_list]

    redrawn_as = Draw.objects.filter(redraw_of=d).only("pk", "number", "redraw_reason").first()
    divisions = [div.display_name(lang) for div in Division.objects.filter(
        code__in=[p.ljust(6, "0") for p in plan.division_prefixes])]
    return render(request, "portal/draw_detail.html", {
        "draw": d, "plan": plan, "departments": sorted(plan.departments.all(), key=lambda x: x.pk != plan.lead_department_id),
        "categories": plan.categories.all(), "strata": strata, "exclusions": exclusions,
        "excluded_total": sum(reasons.values()), "frame_total": len(d.frame["entities"]),
        "pool_total": len(d.pool["inspectors"]), "page": selected, "rows": rows,
        "redrawn_as": redrawn_as, "bundle_name": bundle_name(d), "divisions": divisions,
        "verifier_sha256": verifier_sha256("draw.py"), "Status": DrawStatus,
        "ratios": [(k, _percent(v)) for k, v in d.plan_snapshot["ratios_bp"].items()],
        "sep": _separator(),
    })


def bundle_name(d: Draw) -> str:
    return f"zhijian-draw-{d.plan.code}-{d.number}.json"


def draw_bundle(request, pk):
    """The published bundle, canonical JSON (docs/draw-algorithm.md §2), as a download."""
    d = _draw(pk)
    if not d.disclosed():
        raise Http404  # a flying inspection's frame itself would tell who is visited
    response = HttpResponse(draw_module.canonical(d.bundle()),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{bundle_name(d)}"'
    return response


def _verifier_path(name: str) -> Path:
    module = VERIFIERS.get(name)
    if module is None:
        raise Http404
    return Path(module.__file__)


@cache
def verifier_sha256(name: str) -> str:
    return hashlib.sha256(_verifier_path(name).read_bytes()).hexdigest()


def draw_verifier(request, name):
    """The verifier's source, exactly as installed: draw.py runs alone on a bundle."""
    response = HttpResponse(_verifier_path(name).read_bytes(),
                            content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
