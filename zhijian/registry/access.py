"""Access to the registers: every list, detail, export, count and API call goes through
these functions (docs/access.md has the matrix)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from zhijian.core.access import Denied, Scope, get_or_404, scope_of  # noqa: F401  (re-exported)

from .models import (
    AccreditationScope,
    Department,
    Inspector,
    Lab,
    MarketEntity,
    Product,
    UserUnit,
)


def _sector_filter(scope: Scope, path: str) -> Q:
    if scope.sectors is None:
        return Q()
    return Q(**{f"{path}__code__in": scope.sectors})


def entities_visible_to(user) -> QuerySet[MarketEntity]:
    """Entities whose non-public records the user may see."""
    scope = scope_of(user)
    qs = MarketEntity.objects.all()
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        qs = qs.in_division(scope.prefix)
        if scope.sectors is not None:
            qs = qs.filter(pk__in=MarketEntity.objects.filter(_sector_filter(scope, "categories"))
                           .values("pk"))
        return qs
    if scope.role == "enterprise":
        return qs.filter(pk=scope.org_id)
    return qs.none()


def products_visible_to(user) -> QuerySet[Product]:
    return Product.objects.filter(entity__in=entities_visible_to(user).values("pk"))


def labs_visible_to(user) -> QuerySet[Lab]:
    """Labs and their scopes are public information; every list shows them all."""
    return Lab.objects.all()


def scopes_visible_to(user) -> QuerySet[AccreditationScope]:
    return AccreditationScope.objects.all()


def user_units_visible_to(user) -> QuerySet[UserUnit]:
    scope = scope_of(user)
    qs = UserUnit.objects.all()
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        return qs.filter(division__code__startswith=scope.prefix)
    if scope.role == "user_unit":
        return qs.filter(pk=scope.org_id)
    return qs.none()


def departments_visible_to(user) -> QuerySet[Department]:
    """The directory of departments is public."""
    return Department.objects.all()


def inspectors_visible_to(user) -> QuerySet[Inspector]:
    scope = scope_of(user)
    qs = Inspector.objects.all()
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        return qs.filter(department__division__code__startswith=scope.prefix)
    return qs.none()




# --- write permissions (raise Denied; callers have already resolved visibility) ------------

def require_regulator_for_division(user, division_code: str) -> Scope:
    scope = scope_of(user)
    if scope.is_admin:
        return scope
    if scope.is_regulator and scope.covers_division(division_code):
        return scope
    if scope.is_regulator:
        raise Denied(
            _("Division %(code)s is outside your jurisdiction.") % {"code": division_code},
            field="division",
        )
    raise Denied(_("Only regulators can do this."))


def require_regulator(user) -> Scope:
    scope = scope_of(user)
    if not (scope.is_admin or scope.is_regulator):
        raise Denied(_("Only regulators can do this."))
    return scope


def can_see_history(user, obj) -> bool:
    """The audit trail of a record (before/after of every change) is not public. Callers
    have already checked that the record itself is visible to the user; labs are public,
    so their trail is further limited to regulators and the lab itself."""
    scope = scope_of(user)
    if scope.is_admin or scope.is_regulator:
        return True
    if isinstance(obj, Lab):
        return scope.role == "lab" and scope.org_id == obj.pk
    return scope.role in {"enterprise", "user_unit"}


def can_see_lab_capacity(user, lab: Lab) -> bool:
    """A lab's monthly capacity is not public (it feeds task allocation): regulators,
    administrators and the lab itself see it; the public, enterprises, user units and
    other labs do not."""
    scope = scope_of(user)
    if scope.is_admin or scope.is_regulator:
        return True
    return scope.role == "lab" and scope.org_id == lab.pk


def require_admin(user) -> Scope:
    scope = scope_of(user)
    if not scope.is_admin:
        raise Denied(_("Only platform administrators can do this."))
    return scope


def can_edit_entity(user, entity: MarketEntity) -> bool:
    scope = scope_of(user)
    if scope.is_admin:
        return True
    if scope.is_regulator:
        return scope.covers_division(entity.division_id)
    return scope.role == "enterprise" and scope.org_id == entity.pk


def can_edit_lab(user, lab: Lab) -> bool:
    scope = scope_of(user)
    if scope.is_admin:
        return True
    if scope.is_regulator:
        return scope.covers_division(lab.division_id)
    return scope.role == "lab" and scope.org_id == lab.pk


def can_edit_user_unit(user, unit: UserUnit) -> bool:
    scope = scope_of(user)
    if scope.is_admin:
        return True
    if scope.is_regulator:
        return scope.covers_division(unit.division_id)
    return scope.role == "user_unit" and scope.org_id == unit.pk


# Fields an organisation may change on its own record; the rest belongs to regulators.
ENTITY_SELF_FIELDS = {"address", "chief_quality_officer", "contact_phone", "categories"}
LAB_SELF_FIELDS = {"address", "monthly_capacity"}
USER_UNIT_SELF_FIELDS = {"contact_phone", "categories"}
