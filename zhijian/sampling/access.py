"""Who sees and does what in supervisory sampling (docs/sampling.md, "Access").

- Plans: administrators; regulators whose jurisdiction covers the plan department's
  division (a sector-limited department only plans with a category in its sectors).
- Samples: administrators; regulators whose jurisdiction covers the plan department's
  division or the sample's division (sector-limited departments only for their sectors);
  users of the assigned lab; anyone who held the sample in its chain of custody; an
  enterprise sees the published results of samples taken from it or made by it.
- Disposals (follow-up of nonconforming results): administrators and regulators whose
  jurisdiction covers the responsible department's division.
- Batch results (mutual recognition, M3.3): every regulator of any department may look up
  the issued supervisory results of a producer's batch.
- The public sees published results only.
Services check who may act (officers of the department, the holder, the named receiver);
"absent" and "not yours" both give 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from zhijian.core.access import Denied, get_or_404, scope_of  # noqa: F401  (re-exported)
from zhijian.reports.choices import ReportKind
from zhijian.reports.models import Report

from .models import Disposal, Sample, SamplingPlan


def plans_visible_to(user) -> QuerySet[SamplingPlan]:
    scope = scope_of(user)
    qs = SamplingPlan.objects.all()
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        q = Q(department__division__code__startswith=scope.prefix)
        if scope.sectors is not None:
            q &= Q(categories__code__in=scope.sectors)
        return qs.filter(pk__in=SamplingPlan.objects.filter(q).values("pk"))
    return qs.none()


def _involved(user_id) -> Q:
    return (Q(sampled_by_id=user_id) | Q(handovers__given_by_id=user_id)
            | Q(handovers__received_by_id=user_id))


def samples_visible_to(user) -> QuerySet[Sample]:
    scope = scope_of(user)
    qs = Sample.objects.all()
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        q = (Q(plan__department__division__code__startswith=scope.prefix)
             | Q(division__code__startswith=scope.prefix))
        if scope.sectors is not None:
            q &= Q(category__code__in=scope.sectors)
        return qs.filter(pk__in=Sample.objects.filter(q | _involved(scope.user_id))
                         .values("pk"))
    if scope.role == "lab":
        return qs.filter(pk__in=Sample.objects.filter(
            Q(lab_id=scope.org_id) | _involved(scope.user_id)).values("pk"))
    if scope.role == "enterprise":
        return qs.published().filter(Q(entity_id=scope.org_id) | Q(producer_id=scope.org_id))
    return qs.none()


def disposals_visible_to(user) -> QuerySet[Disposal]:
    scope = scope_of(user)
    qs = Disposal.objects.all()
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        q = Q(department__division__code__startswith=scope.prefix)
        if scope.sectors is not None:
            q &= Q(report__category__code__in=scope.sectors)
        return qs.filter(q)
    return qs.none()


def results_public() -> QuerySet[Sample]:
    """What the portal shows: published sampling results."""
    return Sample.objects.published()


def batch_results(user, producer_uscc: str, batch: str) -> QuerySet[Report]:
    """Mutual recognition (M3.3): the issued (or since revoked or superseded) supervisory
    reports of a producer's batch, for any regulator of any department."""
    scope = scope_of(user)
    if not (scope.is_admin or scope.is_regulator):
        raise Denied(_("Batch results are looked up by regulators."))
    return Report.objects.issued().filter(
        kind=ReportKind.SUPERVISORY, producer__uscc=(producer_uscc or "").strip().upper(),
        batch=(batch or "").strip())




def can_manage_plan(user, plan: SamplingPlan) -> bool:
    """Officers of the plan's department (and administrators) change, activate and close
    it."""
    scope = scope_of(user)
    return scope.is_admin or (scope.is_regulator and user.department_id == plan.department_id)


def can_sample(user, plan: SamplingPlan) -> bool:
    """Officers of the plan's department take samples under it."""
    scope = scope_of(user)
    return scope.is_regulator and user.department_id == plan.department_id


def can_decide(user, disposal: Disposal) -> bool:
    scope = scope_of(user)
    return scope.is_regulator and user.department_id == disposal.department_id
