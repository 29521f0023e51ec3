"""Who sees and does what in purchasing and acceptance (M2.5).

- A user unit sees its own qualified-supplier lists, their suppliers and appeals, its
  deliveries, their acceptance checks and witness inspections, and its referrals; it
  alone writes them (services check it).
- An enterprise sees the list entries naming it (its standing and the reasons) and the
  appeals against them; it files those appeals.
- A regulator sees the referrals addressed to its department and the deliveries (with
  their acceptance checks) referred to it; its officers acknowledge them.
- Administrators see everything.

"Absent" and "not yours" are the same 404 (zhijian.core.access.not_found).
"""

from __future__ import annotations

from django.db.models import QuerySet

from zhijian.core.access import get_or_404, not_found, scope_of  # noqa: F401  (re-exported)

from .models import AcceptanceCheck, Appeal, Delivery, Referral, Supplier, SupplierList


def lists_visible_to(user) -> QuerySet[SupplierList]:
    scope = scope_of(user)
    qs = SupplierList.objects.all()
    if scope.is_admin:
        return qs
    if scope.role == "user_unit":
        return qs.filter(user_unit_id=scope.org_id)
    return qs.none()


def suppliers_visible_to(user) -> QuerySet[Supplier]:
    scope = scope_of(user)
    qs = Supplier.objects.all()
    if scope.is_admin:
        return qs
    if scope.role == "user_unit":
        return qs.filter(supplier_list__user_unit_id=scope.org_id)
    if scope.role == "enterprise":
        return qs.filter(entity_id=scope.org_id)
    return qs.none()


def appeals_visible_to(user) -> QuerySet[Appeal]:
    return Appeal.objects.filter(supplier__in=suppliers_visible_to(user).values("pk"))


def deliveries_visible_to(user) -> QuerySet[Delivery]:
    scope = scope_of(user)
    qs = Delivery.objects.all()
    if scope.is_admin:
        return qs
    if scope.role == "user_unit":
        return qs.filter(user_unit_id=scope.org_id)
    if scope.is_regulator:
        return qs.filter(pk__in=Referral.objects.filter(department_id=scope.org_id)
                         .values("delivery_id"))
    return qs.none()


def checks_visible_to(user) -> QuerySet[AcceptanceCheck]:
    return AcceptanceCheck.objects.filter(
        delivery__in=deliveries_visible_to(user).values("pk"))


def referrals_visible_to(user) -> QuerySet[Referral]:
    scope = scope_of(user)
    qs = Referral.objects.all()
    if scope.is_admin:
        return qs
    if scope.role == "user_unit":
        return qs.filter(delivery__user_unit_id=scope.org_id)
    if scope.is_regulator:
        return qs.filter(department_id=scope.org_id)
    return qs.none()




def is_unit_of(user, user_unit_id: int) -> bool:
    """The user acts for this user unit (the one who writes its lists and deliveries)."""
    scope = scope_of(user)
    return scope.role == "user_unit" and scope.org_id == user_unit_id


def is_entity_of(user, entity_id: int) -> bool:
    scope = scope_of(user)
    return scope.role == "enterprise" and scope.org_id == entity_id


def is_officer_of(user, department_id: int) -> bool:
    """An officer of this department (only they acknowledge what is referred to it)."""
    scope = scope_of(user)
    return scope.is_regulator and scope.org_id == department_id
