"""EPCIS 2.0 query parameters (the SimpleEventQuery parameters of the REST binding) as
QuerySet filters, keyset pagination with an opaque signed token, and the events as JSON
with the same meaning as captured (docs/epcis.md §2).

A parameter takes one value or several, separated by commas or by repeating it; several
values of one parameter are alternatives (OR), different parameters must all hold (AND).
Identifiers and vocabulary values are compared in canonical form (indexing.py), so a
query by EPC URN finds events that wrote the EPC as a GS1 Digital Link, and ``shipping``
finds ``urn:epcglobal:cbv:bizstep:shipping``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from django.core import signing
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .eventhash import BIZ_STEP, DISPOSITION
from .indexing import EVENT_TYPES, identifier, parse_time, pattern_prefix, vocabulary
from .models import Capture, Event, EventEpc

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 1000
_SALT = "zhijian.traceability.query.page"

#: MATCH_ parameter -> the roles of EventEpc it looks in (EPCIS 2.0 §8.2.7.1).
MATCH_ROLES = {
    "MATCH_epc": ("epc", "child"),
    "MATCH_parentID": ("parent",),
    "MATCH_inputEPC": ("input",),
    "MATCH_outputEPC": ("output",),
    "MATCH_anyEPC": ("epc", "parent", "child", "input", "output"),
    "MATCH_epcClass": ("class", "class_child"),
    "MATCH_inputEPCClass": ("class_input",),
    "MATCH_outputEPCClass": ("class_output",),
    "MATCH_anyEPCClass": ("class", "class_child", "class_input", "class_output"),
}
TIME_PARAMETERS = {
    "GE_eventTime": "event_time__gte",
    "LT_eventTime": "event_time__lt",
    "GE_recordTime": "record_time__gte",
    "LT_recordTime": "record_time__lt",
}
#: Every parameter GET /epcis/events understands.
PARAMETERS = (
    "eventType", *TIME_PARAMETERS, "EQ_action", "EQ_bizStep", "EQ_disposition",
    "EQ_readPoint", "EQ_bizLocation", "EQ_eventID", *MATCH_ROLES, "perPage", "nextPageToken",
)
ACTIONS = ("ADD", "OBSERVE", "DELETE")


class QueryError(Exception):
    """A query parameter that cannot be used; the message names it and says what to do."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class Page:
    events: list[Event]
    next_token: str | None


def values(params: Mapping[str, list[str]], name: str) -> list[str]:
    """The values of a parameter: repeated, comma-separated, blanks dropped."""
    found = []
    for raw in params.get(name, []):
        found.extend(v.strip() for v in raw.split(","))
    return [v for v in found if v]


def _time(name: str, raw: str):
    # In a query string an unencoded "+" of a zone offset arrives as a space.
    moment = parse_time(raw) or parse_time(raw.replace(" ", "+"))
    if moment is None:
        raise QueryError(name, _(
            "%(name)s is %(value)s, which is not a date-time. Write it as in RFC 3339 with a "
            "time zone, for example 2026-07-22T06:45:00%%2B08:00 (+ encoded as %%2B) or "
            "2026-07-21T22:45:00Z.") % {"name": name, "value": raw})
    return moment


def _epc_filter(name: str, roles: tuple[str, ...], given: list[str]) -> Q:
    match = Q()
    for value in given:
        if value.startswith("urn:epc:idpat:"):
            prefix = pattern_prefix(value)
            if prefix is None:
                raise QueryError(name, _(
                    "%(name)s has the pattern %(value)s, which is not supported. Give an "
                    "EPC, or a pattern whose last component only is *, such as "
                    "urn:epc:idpat:sgtin:0614141.107346.*.") % {"name": name, "value": value})
            match |= Q(epc=prefix) | Q(epc__startswith=prefix + "/")
        else:
            match |= Q(epc=identifier(value))
    rows = EventEpc.objects.filter(match, role__in=roles)
    return Q(pk__in=rows.values("event_id"))


def filter_events(qs: QuerySet[Event], params: Mapping[str, list[str]]) -> QuerySet[Event]:
    """Apply the EPCIS query parameters to a QuerySet of events; QueryError names the
    first parameter that is unknown or has a bad value."""
    for name in params:
        if name not in PARAMETERS:
            raise QueryError(name, _(
                "The query parameter %(name)s is not supported. Use these: %(known)s.")
                % {"name": name, "known": ", ".join(PARAMETERS)})
    given = {name: values(params, name) for name in params}
    if given.get("eventType"):
        unknown = [v for v in given["eventType"] if v not in EVENT_TYPES]
        if unknown:
            raise QueryError("eventType", _(
                "eventType is %(value)s, which is not an EPCIS event type. Use one or more "
                "of: %(types)s.") % {"value": unknown[0], "types": ", ".join(EVENT_TYPES)})
        qs = qs.filter(type__in=[EVENT_TYPES[v] for v in given["eventType"]])
    for name, lookup in TIME_PARAMETERS.items():
        for raw in given.get(name, []):
            qs = qs.filter(**{lookup: _time(name, raw)})
    if given.get("EQ_action"):
        bad = [v for v in given["EQ_action"] if v not in ACTIONS]
        if bad:
            raise QueryError("EQ_action", _(
                "EQ_action is %(value)s; use ADD, OBSERVE or DELETE.") % {"value": bad[0]})
        qs = qs.filter(action__in=given["EQ_action"])
    if given.get("EQ_bizStep"):
        qs = qs.filter(biz_step__in=[vocabulary(v, BIZ_STEP) for v in given["EQ_bizStep"]])
    if given.get("EQ_disposition"):
        qs = qs.filter(disposition__in=[vocabulary(v, DISPOSITION)
                                        for v in given["EQ_disposition"]])
    if given.get("EQ_readPoint"):
        qs = qs.filter(read_point__in=[identifier(v) for v in given["EQ_readPoint"]])
    if given.get("EQ_bizLocation"):
        qs = qs.filter(biz_location__in=[identifier(v) for v in given["EQ_bizLocation"]])
    if given.get("EQ_eventID"):
        qs = qs.filter(event_id__in=given["EQ_eventID"])
    for name, roles in MATCH_ROLES.items():
        if given.get(name):
            qs = qs.filter(_epc_filter(name, roles, given[name]))
    return qs


def events_of_epc(qs: QuerySet[Event], epc: str) -> QuerySet[Event]:
    """The events that name an EPC in any role, or an EPC class (a batch) in any role."""
    return qs.filter(_epc_filter("epc", tuple(r for roles in MATCH_ROLES.values()
                                               for r in roles), [epc]))


def _fingerprint(params: Mapping[str, list[str]], scope: str) -> str:
    """What a page token is bound to: the query (less the paging parameters) and where."""
    query = sorted((k, sorted(v)) for k, v in params.items()
                   if k not in ("perPage", "nextPageToken"))
    return hashlib.sha256(json.dumps([scope, query]).encode()).hexdigest()[:32]


def paginate(qs: QuerySet[Event], params: Mapping[str, list[str]], *, scope: str = "") -> Page:
    """One page in capture order (event pk), after the position a signed token names.

    Keyset pagination: the token carries the last pk shown and a fingerprint of the
    query, signed with the site's key, so it cannot be forged or reused for another
    query; pages stay stable while events are captured (new ones come after)."""
    per_page = DEFAULT_PER_PAGE
    raw = values(params, "perPage")
    if raw:
        if not raw[0].isdigit() or not 1 <= int(raw[0]) <= MAX_PER_PAGE:
            raise QueryError("perPage", _(
                "perPage is %(value)s; give a whole number from 1 to %(max)s.")
                % {"value": raw[0], "max": MAX_PER_PAGE})
        per_page = int(raw[0])
    fingerprint = _fingerprint(params, scope)
    token = values(params, "nextPageToken")
    if token:
        try:
            after, bound = signing.loads(token[0], salt=_SALT)
            if bound != fingerprint:
                raise signing.BadSignature("another query")
            after = int(after)
        except (signing.BadSignature, ValueError, TypeError):
            raise QueryError("nextPageToken", _(
                "nextPageToken is not a token of this query. Repeat the query with the "
                "same parameters and the token from its Link header, or leave it out to "
                "start from the first page.")) from None
        qs = qs.filter(pk__gt=after)
    rows = list(qs.order_by("pk")[:per_page + 1])
    next_token = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        next_token = signing.dumps([rows[-1].pk, fingerprint], salt=_SALT, compress=True)
    return Page(rows, next_token)


# --- the events as JSON ------------------------------------------------------------------------

def _as_list(context) -> list:
    return list(context) if isinstance(context, list) else [context]


def render(events: list[Event]) -> list[dict]:
    """The events as EPCIS 2.0 JSON-LD, each with the same meaning as captured:

    - its members as captured, in their order; recordTime is the time the store recorded
      it (replacing any the capturer sent, as EPCIS 2.0 requires);
    - an event captured in a document carries the document's @context as its own
      (followed by the @context the event itself had), because events of different
      documents may bind the same prefix to different namespaces; an event captured on
      its own keeps its own @context;
    - an error declaration captured later for a stored event is part of it.
    """
    contexts = dict(Capture.objects.filter(pk__in={e.capture_id for e in events})
                    .values_list("pk", "context"))
    out = []
    for e in events:
        event = json.loads(e.data)
        context = contexts.get(e.capture_id)
        result = {}
        if context is not None:
            own = event.pop("@context", None)
            result["@context"] = _as_list(context) + ([] if own is None else _as_list(own))
        result.update(event)
        result["recordTime"] = e.record_time.isoformat(timespec="milliseconds").replace(
            "+00:00", "Z")
        out.append(result)
    return out
