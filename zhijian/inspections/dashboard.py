"""The random-inspection dashboard (/work/inspections/dashboard/) for regulators:
coverage by category and division, the share drawn per class, how often each firm was
inspected, overdue tasks, publication timeliness and the fairness of the draws.

Everything is scoped by the user's jurisdiction through the access functions (plans and
tasks of inspections/access.py, entities of registry/access.py) and aggregated in the
database: the number of queries does not grow with the data. docs/inspections-dashboard.md
says what each figure means and how the fairness test works.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django import forms
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zhijian.core.models import Division
from zhijian.registry import access as registry_access
from zhijian.registry.choices import EntityStatus
from zhijian.registry.models import MarketEntity, ProductCategory
from zhijian.web.common import regulator_required

from . import access, stats
from .choices import LicenceFilter, PlanStatus
from .models import Draw, InspectionPlan, Task
from .services import months_before

LIST_LIMIT = 50  # rows of each list on the page; the counts are always complete
LIVE_PLANS = [PlanStatus.PUBLISHED, PlanStatus.DRAWN, PlanStatus.CLOSED]
VERDICTS = {
    stats.CONSISTENT: _("Consistent with a fair draw"),
    stats.WATCH_VERDICT: _("Borderline: keep watching as more draws come in"),
    stats.UNLIKELY: _("Unlikely under a fair draw: examine these draws and their redraws"),
    stats.NOT_TESTABLE: _("Not testable: the draws took all or none of this stratum"),
    stats.RATIO_BROKEN: _("The numbers drawn do not follow the declared ratio: check the "
                          "bundles of these draws"),
}
VERDICT_STYLE = {stats.CONSISTENT: "success", stats.WATCH_VERDICT: "warning",
                 stats.UNLIKELY: "danger", stats.NOT_TESTABLE: "secondary",
                 stats.RATIO_BROKEN: "danger"}


class PeriodForm(forms.Form):
    # <input type="date"> takes ISO dates whatever the language of the page.
    start = forms.DateField(label=_("From"), widget=forms.DateInput(
        format="%Y-%m-%d", attrs={"type": "date", "class": "form-control form-control-sm"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(
        format="%Y-%m-%d", attrs={"type": "date", "class": "form-control form-control-sm"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The period ends before it starts."))
        return data


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """Plans are made per calendar year (年度抽查计划): the current year."""
    return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# --- coverage ---------------------------------------------------------------------------------

@dataclass
class CoverageRow:
    code: str
    name: str
    in_scope: int
    inspected: int

    @property
    def percent(self) -> float | None:
        return _share(self.inspected, self.in_scope)


def inspections_seen(user):
    """Inspections the user may count: the tasks they see and every published result (a
    firm is protected from over-inspection whoever inspected it)."""
    return Task.objects.filter(Q(pk__in=access.tasks_visible_to(user).values("pk"))
                               | Q(pk__in=access.results_public().values("pk")))


def _descendants(code: str, catalogue: list[str]) -> list[str]:
    return [c for c in catalogue if c == code or c.startswith(code + ".")]


def coverage(user, scope, plans, inspected, lang: str):
    """Entities in scope of the period's plans (in the user's jurisdiction and sectors) and
    how many of them were inspected in the period, by planned category and by division;
    the total; the number of plans."""
    plan_rows = list(plans.values_list("pk", "division_prefixes", "entity_types",
                                       "licence_filter"))
    planned: dict[int, list[str]] = defaultdict(list)
    for plan_id, code in InspectionPlan.categories.through.objects.filter(
            inspectionplan_id__in=[p[0] for p in plan_rows]).values_list(
            "inspectionplan_id", "productcategory__code"):
        planned[plan_id].append(code)
    if not plan_rows:
        return [], [], CoverageRow("", "", 0, 0), 0
    catalogue = {code: (name, name_en) for code, name, name_en in
                 ProductCategory.objects.values_list("code", "name", "name_en")}
    codes = sorted(catalogue)
    filed = MarketEntity.categories.through.objects

    in_scope = Q()
    for plan_id, prefixes, types, licence in plan_rows:
        cats = {d for c in planned[plan_id] for d in _descendants(c, codes)}
        q = Q(pk__in=filed.filter(productcategory__code__in=cats).values("marketentity_id"))
        where = Q()
        for p in prefixes:
            where |= Q(division__code__startswith=p)
        q &= where
        if types:
            q &= Q(entity_type__in=types)
        if licence != LicenceFilter.ANY:
            q &= Q(licence_holder=licence == LicenceFilter.HOLDERS)
        in_scope |= q
    base = registry_access.entities_visible_to(user).filter(in_scope, status=EntityStatus.ACTIVE)
    was_inspected = Q(pk__in=inspected.values("entity_id"))

    top = sorted({c for cats in planned.values() for c in cats})
    sums = {}
    for i, c in enumerate(top):
        under = Q(pk__in=filed.filter(productcategory__code__in=_descendants(c, codes))
                  .values("marketentity_id"))
        sums[f"s{i}"] = Count("pk", filter=under)
        sums[f"i{i}"] = Count("pk", filter=under & was_inspected)
    sums["s"] = Count("pk")
    sums["i"] = Count("pk", filter=was_inspected)
    totals = base.aggregate(**sums)
    by_category = [
        CoverageRow(c, catalogue[c][1] if lang == "en" and catalogue[c][1] else catalogue[c][0],
                    totals[f"s{i}"], totals[f"i{i}"])
        for i, c in enumerate(top)]

    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for code, n, m in (base.order_by().values("division_id")
                       .annotate(n=Count("pk"), m=Count("pk", filter=was_inspected))
                       .values_list("division_id", "n", "m")):
        key = code[:4] + "00" if not scope.prefix or len(scope.prefix) <= 2 else code
        groups[key][0] += n
        groups[key][1] += m
    names = {d.code: d.display_name(lang)
             for d in Division.objects.filter(pk__in=list(groups)).only("code", "name",
                                                                         "name_en")}
    by_division = [CoverageRow(code, names.get(code, code), n, m)
                   for code, (n, m) in sorted(groups.items())]
    return (by_category, by_division, CoverageRow("", "", totals["s"], totals["i"]),
            len(plan_rows))


# --- draws: share per class and fairness --------------------------------------------------------

@dataclass
class ClassShare:
    risk_class: str
    draws: int
    population: int
    drawn: int
    ratios: list[int]  # declared, basis points

    @property
    def percent(self) -> float | None:
        return _share(self.drawn, self.population)

    @property
    def declared(self) -> str:
        low, high = min(self.ratios) / 100, max(self.ratios) / 100
        return f"{low:g} %" if low == high else f"{low:g}–{high:g} %"


def draw_figures(plans, start: dt.date, end: dt.date):
    """One read of the draws that stand in the visible plans: per class the population,
    the number drawn and the declared ratios of the draws seeded in the period; and the
    fairness check of every stratum over all of them (stats.fairness_of_draws)."""
    rows = list(Draw.objects.drawn().filter(plan__in=plans.values("pk"))
                .order_by("seeded_at", "pk").values_list("seeded_at", "frame", "result"))
    classes: dict[str, ClassShare] = {}
    for seeded_at, _frame, result in rows:
        if not start <= timezone.localtime(seeded_at).date() <= end:
            continue
        seen = set()
        for c in result["counts"]:
            key = c["stratum"][-1]
            share = classes.setdefault(key, ClassShare(key, 0, 0, 0, []))
            if key not in seen:
                share.draws += 1
                seen.add(key)
            share.population += c["population"]
            share.drawn += c["drawn"]
            share.ratios.append(c["ratio_bp"])
    fairness = stats.fairness_of_draws((frame, result) for _s, frame, result in rows)
    return [classes[k] for k in sorted(classes)], fairness, len(rows)


# --- firms inspected more than once --------------------------------------------------------------

def inspections_per_firm(user, seen, window_start: dt.date, window_end: dt.date):
    """How many firms of the jurisdiction were inspected once, twice, … in the 12 months
    ending at `window_end`, and the firms inspected more than once."""
    window = seen.completed_between(window_start, window_end)
    times = Subquery(window.filter(entity_id=OuterRef("pk")).order_by().values("entity_id")
                     .annotate(n=Count("pk")).values("n"))
    firms = (registry_access.entities_visible_to(user)
             .filter(pk__in=window.values("entity_id")).annotate(times=times))
    distribution = list(firms.order_by().values("times").annotate(firms=Count("pk"))
                        .order_by("times").values_list("times", "firms"))
    repeated = list(firms.filter(times__gt=1).select_related("division")
                    .order_by("-times", "name")[:LIST_LIMIT])
    return distribution, repeated, sum(n for t, n in distribution if t > 1)


# --- the page -------------------------------------------------------------------------------------

@regulator_required
def index(request, scope):
    user = request.user
    today = timezone.localdate()
    start, end = default_period(today)
    form = PeriodForm(request.GET or None, initial={"start": start, "end": end})
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    lang = get_language()

    plans = access.plans_visible_to(user)
    tasks = access.tasks_visible_to(user)
    seen = inspections_seen(user)
    inspected = seen.completed_between(start, end)
    period_plans = plans.overlapping(start, end).filter(status__in=LIVE_PLANS)
    by_category, by_division, total, plan_count = coverage(user, scope, period_plans,
                                                           inspected, lang)
    shares, fairness, draws = draw_figures(plans, start, end)

    window_end = min(end, today)
    window_start = months_before(window_end, 12) + dt.timedelta(days=1)
    distribution, repeated, repeated_count = inspections_per_firm(user, seen, window_start,
                                                                  window_end)
    for e in repeated:
        e.division_name = e.division.display_name(lang)
    overdue = tasks.overdue(today)
    overdue_rows = list(overdue.select_related("plan", "entity__division")
                        .order_by("due_on", "pk")[:LIST_LIMIT])
    for t in overdue_rows:
        t.days_late = (today - t.due_on).days
        t.division_name = t.entity.division.display_name(lang)
    publication = tasks.completed_between(start, end).aggregate(
        completed=Count("pk"),
        on_time=Count("pk", filter=Q(published_at__date__lte=F("publish_due"))),
        late=Count("pk", filter=Q(published_at__date__gt=F("publish_due"))),
        waiting=Count("pk", filter=Q(published_at__isnull=True, publish_due__gte=today)))
    unpublished = tasks.publication_overdue(today)
    unpublished_rows = list(unpublished.select_related("plan", "entity__division")
                            .order_by("publish_due", "pk")[:LIST_LIMIT])
    for t in unpublished_rows:
        t.days_late = (today - t.publish_due).days

    context = {
        "form": form, "start": start, "end": end, "today": today,
        "plan_count": plan_count,
        "by_category": by_category, "by_division": by_division, "coverage_total": total,
        "shares": shares, "draw_count": draws,
        "fairness": [{"result": r, "verdict": VERDICTS[r.verdict],
                      "style": VERDICT_STYLE[r.verdict]} for r in fairness],
        "window_start": window_start, "window_end": window_end,
        "distribution": distribution, "repeated": repeated, "repeated_count": repeated_count,
        "overdue_count": overdue.count(), "overdue": overdue_rows,
        "publication": publication, "unpublished_count": unpublished.count(),
        "unpublished": unpublished_rows, "list_limit": LIST_LIMIT,
    }
    return render(request, "inspections/dashboard.html", context)
