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
        return qs.filter(entity__division_id__startswith=scope.prefix)
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
    scope = scope_of(user)
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        return qs.filter(division_id__startswith=scope.prefix)
    if scope.role == "enterprise":
        return qs.filter(pk=scope.org_id)
    return qs.none()
