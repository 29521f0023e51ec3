"""Who sees and does what with test reports, signing keys, instruments and hazard reports
(docs/reports.md, "Who sees what").

- Reports: administrators all; a lab its own, drafts included; a regulator the issued
  (not draft) reports whose producer or lab is in its jurisdiction (a sector-limited
  department only for its sectors), and every issued supervisory report of any lab
  (mutual recognition of sampling results, M3.3); an enterprise the issued reports that
  name it as producer or client; a user unit the issued reports attached to its
  deliveries. Revoked and superseded reports stay visible to the same people.
- Signing keys and instruments (with their calibrations): administrators; the lab's own
  users; regulators whose jurisdiction covers the lab.
- Hazard reports: the lab that filed them; officers of the department they went to and
  regulators above it (a wider jurisdiction that covers that department's division,
  sector-limited departments only for their sectors); administrators.

The services check who may act; "absent" and "not yours" both give 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from zhijian.core.access import get_or_404, not_found, scope_of  # noqa: F401  (re-exported)

from .choices import KeyCustody, ReportKind, ReportStatus
from .models import HazardReport, Instrument, LabKey, Report


def reports_visible_to(user) -> QuerySet[Report]:
    scope = scope_of(user)
    qs = Report.objects.all()
    if scope.is_admin:
        return qs
    if scope.role == "lab":
        return qs.filter(lab_id=scope.org_id)
    issued = qs.issued()
    if scope.is_regulator:
        mine = (Q(producer__division__code__startswith=scope.prefix)
                | Q(lab__division__code__startswith=scope.prefix))
        if scope.sectors is not None:
            mine &= Q(category__code__in=scope.sectors)
        return issued.filter(mine | Q(kind=ReportKind.SUPERVISORY))
    if scope.role == "enterprise":
        return issued.filter(Q(producer_id=scope.org_id) | Q(client_id=scope.org_id))
    if scope.role == "user_unit":
        from zhijian.procurement.models import Delivery

        attached = Delivery.reports.through.objects.filter(
            delivery__user_unit_id=scope.org_id).values("report_id")
        return issued.filter(pk__in=attached)
    return qs.none()


def _lab_scoped(qs: QuerySet, user, lab_path: str) -> QuerySet:
    scope = scope_of(user)
    if scope.is_admin:
        return qs
    if scope.role == "lab":
        return qs.filter(**{f"{lab_path}_id": scope.org_id})
    if scope.is_regulator:
        return qs.filter(**{f"{lab_path}__division__code__startswith": scope.prefix})
    return qs.none()


def keys_visible_to(user) -> QuerySet[LabKey]:
    return _lab_scoped(LabKey.objects.all(), user, "lab")


def instruments_visible_to(user) -> QuerySet[Instrument]:
    return _lab_scoped(Instrument.objects.all(), user, "lab")


def hazards_visible_to(user) -> QuerySet[HazardReport]:
    scope = scope_of(user)
    qs = HazardReport.objects.all()
    if scope.is_admin:
        return qs
    if scope.role == "lab":
        return qs.filter(lab_id=scope.org_id)
    if scope.is_regulator:
        # Above the receiving department: a jurisdiction that covers its division and is
        # wider than it (a peer department of the same division does not see it).
        own_division = scope.prefix.ljust(6, "0")
        above = (Q(department__division__code__startswith=scope.prefix)
                 & ~Q(department__division_id=own_division))
        if scope.sectors is not None:
            above &= Q(category__code__in=scope.sectors)
        return qs.filter(Q(department_id=scope.org_id) | above)
    return qs.none()




# --- what a user may do with a record they see (the services decide; pages ask first) -----

def is_own_lab(user, lab_id: int) -> bool:
    scope = scope_of(user)
    return scope.role == "lab" and scope.org_id == lab_id


def can_revoke(user, report: Report) -> bool:
    """As report_revoke decides: the issuing lab, regulators whose jurisdiction covers the
    lab, administrators; only an issued, current report."""
    scope = scope_of(user)
    if report.status != ReportStatus.ISSUED:
        return False
    return (scope.is_admin or is_own_lab(user, report.lab_id)
            or (scope.is_regulator and scope.covers_division(report.lab.division_id)))


def can_acknowledge(user, hazard: HazardReport) -> bool:
    scope = scope_of(user)
    return scope.is_regulator and scope.org_id == hazard.department_id


def has_platform_key(lab_id: int) -> bool:
    return LabKey.objects.filter(lab_id=lab_id, custody=KeyCustody.PLATFORM,
                                 retired_at__isnull=True).exists()
