"""Who may see and do what in quality credit (docs/credit.md, "Who sees what").

Regulators see every record of the firms in their jurisdiction (division prefix; credit
is not split by sector) and act on them; administrators see everything; a firm sees
its own records, non-public ones included; everyone else (labs, user units, the public,
third-party credit services) sees public records only.
"""

from __future__ import annotations

from zhijian.core.access import Denied, scope_of


def records_visible_to(user, qs):
    scope = scope_of(user)
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        return qs.filter(entity__division__code__startswith=scope.prefix)
    if scope.role == "enterprise":
        from django.db.models import Q

        return qs.filter(Q(entity_id=scope.org_id) | Q(public=True, status="active"))
    return qs.filter(public=True, status="active")


def covers_entity(user, entity) -> bool:
    """A regulator whose jurisdiction includes the entity, or an administrator."""
    scope = scope_of(user)
    return scope.is_admin or (scope.is_regulator and scope.covers_division(entity.division_id))


def require_officer(user, entity) -> None:
    """Raise Denied unless `user` may act on the credit of `entity` (write records,
    decide list cases and repairs)."""
    if not covers_entity(user, entity):
        raise Denied("Only a regulator whose jurisdiction includes this firm may do this.")


def is_own_entity(user, entity) -> bool:
    scope = scope_of(user)
    return scope.role == "enterprise" and scope.org_id == entity.pk


def entities_visible_to(user, qs):
    """Entities whose non-public credit file `user` may open."""
    return _jurisdiction_or_own(user, qs, division="division", own="pk")


def penalties_visible_to(user, qs):
    """Penalty decisions are public by law while in force (《企业信息公示暂行条例》 art. 6):
    regulators see those of their jurisdiction, a firm its own, everyone else those in
    force."""
    from django.db.models import Q

    scope = scope_of(user)
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        return qs.filter(entity__division__code__startswith=scope.prefix)
    if scope.role == "enterprise":
        return qs.filter(Q(entity_id=scope.org_id) | Q(status="in_force"))
    return qs.filter(status="in_force")


def commitments_visible_to(user, qs):
    """Credit commitments are public (国办发〔2019〕35号): everyone sees them; the lists of
    regulators are scoped to their jurisdiction."""
    scope = scope_of(user)
    if scope.is_regulator:
        return qs.filter(entity__division__code__startswith=scope.prefix)
    return qs


def may_see_evidence(user, record) -> bool:
    """Evidence files (decision documents, proof of a breach) are for the officers of the
    firm's jurisdiction and the firm itself."""
    return covers_entity(user, record.entity) or is_own_entity(user, record.entity)


def blacklist_visible_to(user, qs=None):
    """List cases (and, through `prefix`, repairs): regulators those of the firms in their
    jurisdiction, a firm its own, administrators all; nobody else (the public sees the
    listing through its public credit record)."""
    from .models import BlacklistEntry

    return _cases(user, BlacklistEntry.objects.all() if qs is None else qs)


def repairs_visible_to(user, qs=None):
    from .models import RepairApplication

    return _cases(user, RepairApplication.objects.all() if qs is None else qs)


def _cases(user, qs):
    return _jurisdiction_or_own(user, qs, division="entity__division", own="entity_id")


def _jurisdiction_or_own(user, qs, *, division: str, own: str):
    """Administrators: all; regulators: the firms of their jurisdiction (`division`, the
    path to the firm's division); a firm: its own (`own`, the field holding its id);
    nobody else."""
    scope = scope_of(user)
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        return qs.filter(**{f"{division}__code__startswith": scope.prefix})
    if scope.role == "enterprise":
        return qs.filter(**{own: scope.org_id})
    return qs.none()
