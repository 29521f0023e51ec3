"""The regulator workbench: dashboard, departments directory, responsibility matrix."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.translation import get_language

from zhijian.core.access import scope_of
from zhijian.core.models import Division
from zhijian.registry import access
from zhijian.registry.models import DivisionStats

from ..common import ORG_ROLES, paginate
from ..forms import DepartmentFilterForm
from ..matrix import matrix_grid


def _group_code(code: str, prefix: str | None) -> str:
    """Province-wide dashboards group by city, a city's by county."""
    if not prefix or len(prefix) <= 2:
        return code[:4] + "00"
    return code


def entity_counts(user, scope) -> tuple[int, list[dict]]:
    """Entities per city (or county) in the user's jurisdiction. Uses the per-division
    counters kept by the registry's event subscriber; a department limited to some
    sectors counts its own visible set instead."""
    if scope.sectors is None:
        stats = DivisionStats.objects.all()
        if scope.prefix:
            stats = stats.filter(division__code__startswith=scope.prefix)
        pairs = stats.values_list("division_id", "entities")
    else:
        pairs = (access.entities_visible_to(user).order_by().values("division_id")
                 .annotate(n=Count("id")).values_list("division_id", "n"))
    groups: dict[str, int] = {}
    for code, n in pairs:
        key = _group_code(code, scope.prefix)
        groups[key] = groups.get(key, 0) + n
    lang = get_language()
    names = {d.code: d.display_name(lang) for d in Division.objects.filter(pk__in=list(groups))}
    total = sum(groups.values())
    top = max(groups.values(), default=0)
    rows = [
        {"code": code, "name": names.get(code, code), "count": n,
         "percent": round(100 * n / top) if top else 0}
        for code, n in sorted(groups.items())
    ]
    return total, rows


@login_required
def home(request):
    scope = scope_of(request.user)
    if scope.role in ORG_ROLES:
        return redirect("web:org_home")
    if not (scope.is_admin or scope.is_regulator):
        raise PermissionDenied
    user = request.user
    total, by_division = entity_counts(user, scope)
    grid = matrix_grid()
    context = {
        "entity_total": total,
        "by_division": by_division,
        "lab_count": access.labs_visible_to(user).count(),
        "unit_count": access.user_units_visible_to(user).count(),
        "inspector_count": access.inspectors_visible_to(user).filter(active=True).count(),
        "department_count": access.departments_visible_to(user).count(),
        "blind_count": grid["matrix_blind"],
        "overlap_count": grid["matrix_overlap"],
        "department": getattr(user, "department", None),
    }
    return render(request, "web/home.html", context)


def department_queryset(request):
    form = DepartmentFilterForm(request.GET or None)
    qs = access.departments_visible_to(request.user).select_related("division").prefetch_related(
        "sectors")
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            qs = qs.filter(Q(name__contains=d["q"]) | Q(name_en__icontains=d["q"])
                           | Q(code__startswith=d["q"]))
        if d["level"]:
            qs = qs.filter(level=d["level"])
        if d["kind"]:
            qs = qs.filter(kind=d["kind"])
        if d["division"]:
            from zhijian.core.divisions import prefix

            qs = qs.in_division(prefix(d["division"]))
    return form, qs.order_by("division_id", "kind")


@login_required
def departments(request):
    scope = scope_of(request.user)
    if not (scope.is_admin or scope.is_regulator):
        raise PermissionDenied
    form, qs = department_queryset(request)
    return render(request, "web/department_list.html",
                  {"form": form, "page": paginate(request, qs)})


@login_required
def matrix(request):
    scope = scope_of(request.user)
    if not (scope.is_admin or scope.is_regulator):
        raise PermissionDenied
    return render(request, "web/matrix.html", matrix_grid(problems_only=request.GET.get("problems") == "1"))
