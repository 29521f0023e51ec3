"""Helpers the random-inspection pages share: finding a visible record, the lead
department's right to act, service errors under other names, and the failures table."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zhijian.registry.models import Department, MarketEntity

from .. import access

MAX_ROWS_SHOWN = 500

#: the reasons a slot of a team cannot be filled (draw.py §6.4), in table order
FAILURE_REASONS = ["in_jurisdiction", "already_in_team", "conflict_declared",
                   "on_previous_visit", "lacks_qualification", "at_workload_cap"]


def visible_plan(request, pk, *related):
    qs = access.plans_visible_to(request.user).select_related(
        "lead_department__division", *related)
    return access.get_or_404(qs, pk)


def require_manager(user, plan) -> None:
    """Only officers of the lead department plan, publish, seed and redraw."""
    if not access.can_manage_plan(user, plan):
        raise PermissionDenied(_("Only officers of the lead department can do this."))


def renamed(fn, aliases: dict[str, str]):
    """Run a service, moving its errors on keys that are not form fields to the field
    that shows them."""

    def run(**kwargs):
        try:
            return fn(**kwargs)
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            raise ValidationError({aliases.get(k, k): v for k, v in exc.error_dict.items()}
                                  ) from exc

    return run


def department_names(codes) -> dict[str, str]:
    lang = get_language()
    return {d.code: (d.name_en if lang == "en" and d.name_en else d.name)
            for d in Department.objects.filter(code__in=set(codes)).only("code", "name",
                                                                         "name_en")}


def entity_names(usccs) -> dict[str, str]:
    return dict(MarketEntity.objects.filter(uscc__in=set(usccs)).values_list("uscc", "name"))


def failure_rows(failures: list[dict]) -> list[dict]:
    """The failures of a feasibility check or a draw, with firm and department names: for
    each firm the slot that could not be filled and, per reason, how many inspectors of
    the department's jurisdiction it ruled out."""
    shown = failures[:MAX_ROWS_SHOWN]
    names = entity_names(f["uscc"] for f in shown)
    departments = department_names(f["department"] for f in shown)
    return [{**f, "name": names.get(f["uscc"], ""),
             "department_name": departments.get(f["department"], f["department"]),
             "slot_number": f["slot"] + 1,
             "counts": [f.get(reason, 0) for reason in FAILURE_REASONS]}
            for f in shown]
