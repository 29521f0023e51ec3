"""Who sees and does what in recalls (docs/recalls.md, "Access").

- Regulators see the recalls whose responsible department is in their jurisdiction (its
  division under their prefix: the department itself and the departments above it) and
  those whose impact list reaches a place in their jurisdiction (where the goods went);
  a sector-limited department only for its sectors. The officers of the responsible
  department and of the departments above it *act*: open, dismiss, refresh, complete,
  and record progress on any item.
- Administrators see every recall and act on none (a recall is an administrative act of
  a department).
- Firms (enterprises and user units) see the recalls that notify them. The maker sees
  every item of its recall (it carries the recall out); another holder sees its own
  items only. A holder records progress on its own items; the maker also on the items
  whose holder is not registered on the platform.
- The public sees opened and completed recalls on /recalls/ without quantities (public.py).

"Absent" and "not yours" are the same 404 (zhijian.core.access.not_found).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from zhijian.core.access import get_or_404, not_found, scope_of  # noqa: F401  (re-exported)

FIRM_ROLES = ("enterprise", "user_unit")


def _regulator_q(scope) -> Q:
    q = (Q(department__division__code__startswith=scope.prefix)
         | Q(items__place_ref__division__code__startswith=scope.prefix))
    if scope.sectors is not None:
        q &= Q(category__code__in=scope.sectors)
    return q


def notice_q(scope, prefix: str = "") -> Q:
    """The rows (notices, or recalls through `prefix`) addressed to the firm of `scope`."""
    field = "entity_id" if scope.role == "enterprise" else "user_unit_id"
    return Q(**{prefix + field: scope.org_id})


def recalls_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    from .models import Recall, RecallNotice

    qs = Recall.objects.all() if qs is None else qs
    scope = scope_of(user)
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        return qs.filter(pk__in=Recall.objects.filter(_regulator_q(scope)).values("pk"))
    if scope.role in FIRM_ROLES:
        return qs.filter(pk__in=RecallNotice.objects.filter(notice_q(scope)).values("recall_id"))
    return qs.none()


def items_visible_to(user, recall=None) -> QuerySet:
    """The items `user` sees (of one recall, if given)."""
    from .models import RecallItem

    qs = RecallItem.objects.all()
    if recall is not None:
        qs = qs.filter(recall=recall)
    scope = scope_of(user)
    if scope.is_admin or scope.is_regulator:
        return qs.filter(recall__in=recalls_visible_to(user).values("pk"))
    if scope.role in FIRM_ROLES:
        visible = recalls_visible_to(user).values("pk")
        own = (Q(holder_entity_id=scope.org_id) if scope.role == "enterprise"
               else Q(holder_unit_id=scope.org_id))
        if scope.role == "enterprise":
            own |= Q(recall__maker_id=scope.org_id)
        return qs.filter(own, recall__in=visible)
    return qs.none()


def notices_visible_to(user) -> QuerySet:
    from .models import RecallNotice

    scope = scope_of(user)
    qs = RecallNotice.objects.all()
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        return qs.filter(recall__in=recalls_visible_to(user).values("pk"))
    if scope.role in FIRM_ROLES:
        q = notice_q(scope)
        if scope.role == "enterprise":
            q |= Q(recall__maker_id=scope.org_id)  # the maker sees who else was notified
        return qs.filter(q)
    return qs.none()


def may_act(user, recall) -> bool:
    """An officer of the responsible department or of a department above it (its
    jurisdiction covers the department's division, its sectors the recall's category)."""
    scope = scope_of(user)
    if not scope.is_regulator:
        return False
    if not scope.covers_division(recall.department.division_id):
        return False
    return scope.sectors is None or recall.category.code in scope.sectors


def is_maker(user, recall) -> bool:
    scope = scope_of(user)
    return scope.role == "enterprise" and scope.org_id == recall.maker_id


def is_holder(user, item) -> bool:
    scope = scope_of(user)
    if scope.role == "enterprise":
        return item.holder_entity_id == scope.org_id
    if scope.role == "user_unit":
        return item.holder_unit_id == scope.org_id
    return False


def may_update_item(user, item) -> bool:
    """The holder itself, the maker for items with no registered holder, or an officer who
    may act on the recall."""
    if is_holder(user, item):
        return True
    if item.holder_entity_id is None and item.holder_unit_id is None and is_maker(
            user, item.recall):
        return True
    return may_act(user, item.recall)


def is_addressee(user, notice) -> bool:
    scope = scope_of(user)
    if scope.role == "enterprise":
        return notice.entity_id == scope.org_id
    if scope.role == "user_unit":
        return notice.user_unit_id == scope.org_id
    return False
