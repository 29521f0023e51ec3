"""Who may see and do what: the jurisdiction scope of a user.

A regulator's scope is the GB/T 2260 prefix of their department's division ("61" for
the province, "6101" for Xi'an, "610113" for a district) plus the department's sectors
(product categories; None = every sector). Administrators see everything. Organisation
accounts (enterprise, lab, user unit) see their own organisation's non-public records.
Each app's access.py turns a Scope into QuerySet filters; "absent" and "not yours" both
raise Http404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404


@dataclass(frozen=True)
class Scope:
    role: str
    prefix: str | None = None  # None: the whole platform
    sectors: frozenset[str] | None = None  # category codes incl. descendants; None: all
    org_id: int | None = None
    user_id: int | None = None

    @property
    def is_public(self) -> bool:
        return self.role == "public"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_regulator(self) -> bool:
        return self.role == "regulator"

    def covers_division(self, code: str) -> bool:
        return self.prefix is None or code.startswith(self.prefix)

    def covers_sectors(self, codes) -> bool:
        return self.sectors is None or bool(self.sectors.intersection(codes))


PUBLIC = Scope(role="public")


def scope_of(user) -> Scope:
    """The scope of a user (anonymous users get the public scope)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return PUBLIC
    cached = getattr(user, "_zhijian_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser or user.role == "admin":
        scope = Scope(role="admin", user_id=user.pk)
    elif user.role == "regulator" and user.department_id:
        dept = user.department
        sectors = None
        if not dept.all_sectors:
            from zhijian.registry.models import ProductCategory

            sectors = frozenset(
                ProductCategory.objects.expand(dept.sectors.values_list("code", flat=True))
            )
        scope = Scope(
            role="regulator",
            prefix=dept.division.prefix,
            sectors=sectors,
            org_id=dept.pk,
            user_id=user.pk,
        )
    elif user.role == "enterprise" and user.entity_id:
        scope = Scope(role="enterprise", org_id=user.entity_id, user_id=user.pk)
    elif user.role == "lab" and user.lab_id:
        scope = Scope(role="lab", org_id=user.lab_id, user_id=user.pk)
    elif user.role == "user_unit" and user.user_unit_id:
        scope = Scope(role="user_unit", org_id=user.user_unit_id, user_id=user.pk)
    else:
        scope = PUBLIC
    user._zhijian_scope = scope
    return scope


def not_found():
    """The one answer for "absent" and "not yours"."""
    raise Http404


def get_or_404(qs, pk, field: str = "pk"):
    """The record of `qs` whose `field` is `pk`, or 404 — for one that does not exist, one
    outside `qs` (not yours) and a malformed key alike."""
    try:
        return qs.get(**{field: pk})
    except (qs.model.DoesNotExist, ValueError, TypeError):
        not_found()


class Denied(Exception):
    """An authenticated user tried an action their role or jurisdiction does not allow.

    Raised by services before anything is written; views and the API turn it into 403
    (or 404 where revealing existence would leak)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
