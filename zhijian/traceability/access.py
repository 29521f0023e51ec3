"""Who captures and who sees EPCIS events (docs/epcis.md §3).

- Enterprise, laboratory and user-unit accounts capture events for their organisation
  (recorded as the capturer) and see the events and capture jobs of their organisation,
  whoever of its accounts captured them.
- Administrators capture (with no organisation) and see everything.
- Regulators see every event and capture job and capture none. A trace follows goods
  across cities and sectors (cable made in Baoji, laid in Xi'an), so the whole store is
  the province's traceability record; events are supply-chain facts, not enforcement
  files, and regulators only read them.
- Anyone else sees nothing.

"Absent" and "not yours" are the same 404 (zhijian.core.access.not_found).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from zhijian.core.access import Denied, Scope, not_found, scope_of

from .models import Capture, Event, EventKey, Place

CAPTURING_ROLES = ("enterprise", "lab", "user_unit")


def org_key(scope: Scope) -> str:
    """The capturing organisation as stored on captures and events: "<role>:<id>", or ""
    for an administrator."""
    return f"{scope.role}:{scope.org_id}" if scope.role in CAPTURING_ROLES else ""


def capturer(user) -> Scope:
    """The scope of a user who may capture; Denied for anyone else."""
    scope = scope_of(user)
    if scope.is_admin or scope.role in CAPTURING_ROLES:
        return scope
    raise Denied(_("Only enterprise, laboratory and user-unit accounts (and administrators) "
                   "capture EPCIS events; regulators query them."))


def events_visible_to(user) -> QuerySet[Event]:
    scope = scope_of(user)
    qs = Event.objects.all()
    if scope.is_admin or scope.is_regulator:
        return qs
    if scope.role in CAPTURING_ROLES:
        return qs.filter(org=org_key(scope))
    return qs.none()


def captures_visible_to(user) -> QuerySet[Capture]:
    scope = scope_of(user)
    qs = Capture.objects.all()
    if scope.is_admin or scope.is_regulator:
        return qs
    if scope.role in CAPTURING_ROLES:
        return qs.filter(org=org_key(scope))
    return qs.none()


def capture_or_404(user, pk) -> Capture:
    try:
        return captures_visible_to(user).get(pk=int(pk))
    except (Capture.DoesNotExist, ValueError, TypeError, OverflowError):
        not_found()


def event_or_404(user, key: str) -> Event:
    """The event with this eventID, or with this event hash ID (an event captured without
    an eventID is known by its hash ID; one captured with an eventID by both)."""
    visible = events_visible_to(user)
    found = visible.filter(event_id=key).first()
    if found is None and key.startswith("ni:///"):
        stored = EventKey.objects.filter(hash_id=key).values_list("event_id", flat=True).first()
        if stored is not None:
            found = visible.filter(event_id=stored).first()
    if found is None:
        not_found()
    return found


# --- the party and location directory (models.Place; docs/capture-without-gs1.md §5) -------
#
# An organisation that captures keeps its own places (registered by one of its accounts:
# Place.org); administrators and regulators see every place, and only administrators
# change another organisation's place. When recording a step, a firm chooses among its
# own places and the public ones (a metro station the metro company registered).

def places_visible_to(user) -> QuerySet[Place]:
    scope = scope_of(user)
    qs = Place.objects.all()
    if scope.is_admin or scope.is_regulator:
        return qs
    if scope.role in CAPTURING_ROLES:
        return qs.filter(org=org_key(scope))
    return qs.none()


def places_selectable(user) -> QuerySet[Place]:
    """The places a capturer may name as where a step happens: its own and the public
    ones (every place, for an administrator)."""
    scope = scope_of(user)
    qs = Place.objects.all()
    if scope.is_admin:
        return qs
    if scope.role in CAPTURING_ROLES:
        return qs.filter(Q(org=org_key(scope)) | Q(public=True))
    return qs.none()


def place_for_change(user, pk) -> Place:
    """A place the user may change (its organisation's; any, for an administrator); 404
    for every other, as for one that does not exist. Regulators change none (Denied)."""
    scope = scope_of(user)
    if scope.is_regulator:
        raise Denied(_("Regulators read the directory of places; the organisations that "
                       "registered them keep them."))
    qs = Place.objects.all() if scope.is_admin else (
        Place.objects.filter(org=org_key(scope)) if scope.role in CAPTURING_ROLES
        else Place.objects.none())
    try:
        return qs.get(pk=int(pk))
    except (Place.DoesNotExist, ValueError, TypeError, OverflowError):
        not_found()


# --- trace (tracing.py; docs/trace.md) -------------------------------------------------------
#
# A trace crosses every firm's events (a cable made in Baoji, laid in Xi'an), so only those
# who see the whole store trace: administrators and regulators. For everyone else the trace
# pages and API do not exist (404), as for anything not theirs.

def may_trace(user) -> bool:
    scope = scope_of(user)
    return scope.is_admin or scope.is_regulator


def tracer(user) -> Scope:
    """The scope of a user who may trace; 404 for anyone else."""
    scope = scope_of(user)
    if not (scope.is_admin or scope.is_regulator):
        not_found()
    return scope
