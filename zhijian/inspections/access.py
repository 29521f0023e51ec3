"""Who sees and does what in random inspections.

- Plans and their tasks: administrators; regulators whose jurisdiction contains a
  participating department (a provincial officer sees every plan, a Xi'an officer the
  plans in which a Xi'an department takes part); the drawn inspectors see their own tasks.
- Draws (commitment, seed, bundle) are public: publishing them is the point.
- Results are public once published; an enterprise sees its own results when published.
- Only officers of the lead department plan, publish, seed and redraw (services check it).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from zhijian.core.access import Denied, get_or_404, not_found, scope_of  # noqa: F401  (re-exported)

from .models import Draw, InspectionPlan, Task


def plans_visible_to(user) -> QuerySet[InspectionPlan]:
    scope = scope_of(user)
    qs = InspectionPlan.objects.all()
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        mine = Q(departments__division__code__startswith=scope.prefix)
        member = Q(tasks__members__inspector__user_id=scope.user_id)
        return qs.filter(pk__in=InspectionPlan.objects.filter(mine | member).values("pk"))
    return qs.none()


def tasks_visible_to(user) -> QuerySet[Task]:
    scope = scope_of(user)
    qs = Task.objects.all()
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        in_plans = Q(plan__in=plans_visible_to(user)) & Q(
            entity__division__code__startswith=scope.prefix)
        member = Q(members__inspector__user_id=scope.user_id)
        return qs.filter(pk__in=Task.objects.filter(in_plans | member).values("pk"))
    if scope.role == "enterprise":
        return qs.published().filter(entity_id=scope.org_id)
    return qs.none()


def results_public() -> QuerySet[Task]:
    """What the portal shows: completed and published results of live draws."""
    return Task.objects.published()


def draws_public() -> QuerySet[Draw]:
    return Draw.objects.public()




def can_manage_plan(user, plan: InspectionPlan) -> bool:
    scope = scope_of(user)
    return scope.is_admin or (scope.is_regulator
                              and user.department_id == plan.lead_department_id)


def is_task_member(user, task: Task) -> bool:
    return bool(user and user.is_authenticated
                and task.members.filter(inspector__user_id=user.pk).exists())


def require_task_member(user, task: Task) -> None:
    """Only the drawn inspectors record, sign and complete; others who may see the task get
    a refusal, those who may not see it get 404."""
    if is_task_member(user, task):
        return
    if tasks_visible_to(user).filter(pk=task.pk).exists():
        raise Denied(_("Only the inspectors drawn for this firm can record its inspection."))
    not_found()

