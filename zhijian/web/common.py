"""Helpers the web views share: role guards, service calls that put errors next to the
right form field, pagination and the readable history of a record."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.shortcuts import redirect
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zhijian.core.access import Denied, scope_of
from zhijian.core.models import Division
from zhijian.registry.history import record_history

PAGE_SIZE = 50
ORG_ROLES = frozenset({"enterprise", "lab", "user_unit"})


# --- role guards ---------------------------------------------------------------------------

def regulator_required(view):
    """Regulators and administrators only. Organisation accounts get 403; anonymous users
    go to the login page."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        scope = scope_of(request.user)
        if not (scope.is_admin or scope.is_regulator):
            raise PermissionDenied(_("This page is for regulators."))
        return view(request, *args, scope=scope, **kwargs)

    return wrapper


def org_required(view):
    """Enterprise, lab and user-unit accounts; regulators are sent to their workbench."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        scope = scope_of(request.user)
        if scope.role not in ORG_ROLES:
            if scope.is_admin or scope.is_regulator:
                return redirect("web:home")
            raise PermissionDenied(_("Your account is not linked to an organisation."))
        return view(request, *args, scope=scope, **kwargs)

    return wrapper


def home_url_for(user) -> str:
    """Where a role lands after signing in."""
    from django.urls import reverse

    scope = scope_of(user)
    if scope.role in ORG_ROLES:
        return reverse("web:org_home")
    if scope.is_admin or scope.is_regulator:
        return reverse("web:home")
    return reverse("portal:home")


# --- services from forms -------------------------------------------------------------------

def _put(form, name, messages) -> None:
    target = name if name in form.fields else None
    form.add_error(target, messages)


def call_service(form, fn, **kwargs):
    """Run a service; on refusal put its messages next to the field they name (or on top
    of the form) and return None."""
    try:
        return fn(**kwargs)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                name = name[:-3] if name.endswith("_id") and name[:-3] in form.fields else name
                _put(form, name, [m for e in errors for m in e.messages])
        else:
            form.add_error(None, exc.messages)
    except Denied as exc:
        _put(form, exc.field, exc.message)
    return None


def changed_values(form, exclude=("reason",)) -> dict:
    return {name: form.cleaned_data[name] for name in form.changed_data
            if name not in exclude and name in form.cleaned_data}


# --- lists ---------------------------------------------------------------------------------

def paginate(request, queryset, per_page: int = PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


@dataclass
class Window:
    """A page of results without COUNT(*): fetch one row more than shown."""

    items: list
    number: int
    has_next: bool
    per_page: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.items)


def window(request, queryset, per_page: int = PAGE_SIZE, max_page: int = 200) -> Window:
    try:
        number = min(max(int(request.GET.get("page", "1")), 1), max_page)
    except ValueError:
        number = 1
    offset = (number - 1) * per_page
    rows = list(queryset[offset:offset + per_page + 1])
    return Window(rows[:per_page], number, len(rows) > per_page, per_page)


def division_choices(prefix: str | None, blank_label=None) -> list[tuple[str, str]]:
    """Current divisions under a jurisdiction prefix, for filters."""
    qs = Division.objects.current()
    if prefix:
        qs = qs.under(prefix)
    lang = get_language()
    out = [("", blank_label or _("All divisions"))]
    out += [(d.code, f"{d.code} {d.display_name(lang)}") for d in qs.only("code", "name", "name_en")]
    return out


# --- history -------------------------------------------------------------------------------

ACTION_LABELS = {
    "registered": _("Registered"),
    "updated": _("Changed"),
    "scope_added": _("Scope line added"),
    "scope_ended": _("Scope line ended"),
    "saved": _("Saved"),
    "set": _("Set"),
    "deleted": _("Removed"),
    "credit_class_changed": _("Credit class changed"),
}
HIDDEN_FIELDS = {"id", "created_at", "updated_at"}
#: Keys an audit entry carries that are not fields of the model (the credit rating's
#: entries on a market entity, zhijian/credit/services/rating.py).
EXTRA_LABELS = {
    "credit_class": _("credit class"),
    "score": _("score"),
    "trigger": _("trigger"),
}


@dataclass
class HistoryChange:
    label: str
    before: str
    after: str


@dataclass
class HistoryRow:
    seq: int
    ts: object
    actor: str
    action: str
    action_label: str
    reason: str
    hash: str
    changes: list[HistoryChange] = field(default_factory=list)


def _field_for(model, key: str):
    for f in model._meta.get_fields():
        if getattr(f, "attname", None) == key or f.name == key:
            return f
    return None


def _show(model, key: str, value, names: dict) -> str:
    if value is None or value == "" or value == []:
        return ""
    f = _field_for(model, key)
    if f is not None and f.many_to_one and not isinstance(value, list | dict):
        # A foreign key shows the record it points to ("610113 雁塔区", "GB/T 3956-2008").
        lookup = names.setdefault(f.related_model, {})
        if str(value) not in lookup:
            obj = f.related_model.objects.filter(pk=value).first()
            lookup[str(value)] = str(obj) if obj is not None else str(value)
        return lookup[str(value)]
    if f is not None and isinstance(f, models.ManyToManyField):
        lookup = names.setdefault(f.related_model, {})
        missing = [v for v in value if v not in lookup]
        if missing:
            for obj in f.related_model.objects.filter(pk__in=missing):
                lookup[str(obj.pk)] = str(obj)
        return "、".join(lookup.get(str(v), str(v)) for v in value)
    if f is not None and getattr(f, "choices", None):
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _label(model, key: str) -> str:
    f = _field_for(model, key)
    if f is None or not hasattr(f, "verbose_name"):
        return str(EXTRA_LABELS.get(key, key))
    return str(f.verbose_name)


def _field_order(model) -> dict[str, int]:
    order = {}
    for i, f in enumerate(model._meta.get_fields()):
        order.setdefault(getattr(f, "attname", f.name), i)
        order.setdefault(f.name, i)
    return order


def history_rows(obj) -> list[HistoryRow]:
    """The audit trail of a record as rows a person can read: who, when, what changed
    from what to what, and why. Newest first. A laboratory's trail includes its scope
    lines (registry.history)."""
    own_type = obj._meta.label_lower
    orders: dict = {}
    names: dict = {}
    rows = []
    for entry in record_history(obj):
        object_type = entry.get("object_type", own_type)
        model = type(obj) if object_type == own_type else apps.get_model(object_type)
        order = orders.setdefault(model, _field_order(model))
        # A part's entry (a scope line) need not name the record it belongs to.
        hidden = HIDDEN_FIELDS if model is type(obj) else HIDDEN_FIELDS | {
            f.attname for f in model._meta.concrete_fields
            if f.many_to_one and f.related_model is type(obj)}
        before, after = entry.get("before") or {}, entry.get("after") or {}
        keys = sorted((k for k in dict.fromkeys([*before, *after]) if k not in hidden),
                      key=lambda k: order.get(k, len(order)))
        changes = []
        for k in keys:
            b, a = before.get(k), after.get(k)
            if entry.get("before") is not None and b == a:
                continue
            if entry.get("before") is None and a in (None, "", [], False):
                continue
            changes.append(HistoryChange(_label(model, k), _show(model, k, b, names),
                                         _show(model, k, a, names)))
        verb = entry["action"].split(".", 1)[-1]
        rows.append(HistoryRow(
            seq=entry["seq"], ts=parse_datetime(entry["ts"]), actor=entry["actor"],
            action=entry["action"], action_label=str(ACTION_LABELS.get(verb, entry["action"])),
            reason=entry.get("reason", ""), hash=entry["hash"], changes=changes,
        ))
    rows.reverse()
    return rows
