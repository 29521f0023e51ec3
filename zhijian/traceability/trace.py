"""The trace walk: from batches, serial numbers or containers backward to their inputs and
forward to every container, holder and installation site (docs/trace.md).

Pure Python, standard library only: no Django import. The database side (tracing.py)
passes a ``fetch`` callback that returns, for a set of identifiers, every index row of the
events naming them; this module walks, level by level, and turns what it found into the
steps, links, nodes and stops of a trace. A third party can reimplement it from
docs/trace.md and check a trace against the EPCIS events themselves.

Edges come from events (forward direction = the way goods move):

- transformation: each input (``input``, ``class_input``) -> each output (``output``,
  ``class_output``);
- aggregation and association: each child (``child``, ``class_child``) -> the parent
  (the container carries the goods).

Forward walks edges src -> dst, backward dst -> src. A container reached forward carries
the goods (its own shipping and receiving are the goods' movements) but its other children
are other goods, so the walk does not go back down from it. A start identifier that is a
container takes its children as start identifiers too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote

__all__ = [
    "CBV", "INPUT_ROLES", "OUTPUT_ROLES", "CHILD_ROLES", "PARENT_ROLES", "EpcRow", "EventRow",
    "Fetched", "Link", "Node", "Step", "Stop", "Walk", "identifier_parts", "short", "stops",
    "walk",
]

CBV = "https://ref.gs1.org/cbv/"
INPUT_ROLES = frozenset({"input", "class_input"})
OUTPUT_ROLES = frozenset({"output", "class_output"})
CHILD_ROLES = frozenset({"child", "class_child"})
PARENT_ROLES = frozenset({"parent"})
TRANSFORMATION = "transformation"
CONTAINMENT = frozenset({"aggregation", "association"})
GOING_IN = INPUT_ROLES | CHILD_ROLES
COMING_OUT = OUTPUT_ROLES | PARENT_ROLES
#: The event types whose rows link identifiers (the fetch returns all their link rows).
LINK_TYPES = frozenset({TRANSFORMATION}) | CONTAINMENT

_DIGITAL_LINK = re.compile(
    r"^https://id\.gs1\.org/(?:01/(?P<gtin>\d{14})(?:/(?P<ai>10|21)/(?P<value>[^/?#]+))?"
    r"|00/(?P<sscc>\d{18}))$")


# --- what the database side gives ------------------------------------------------------------

class EventRow(NamedTuple):
    """The columns of one event a trace shows (Event, with its sources and destinations as
    (CBV type URI, identifier) pairs). Named tuples, not dataclasses: a large trace reads
    tens of thousands of these, and a tuple is made several times faster."""

    pk: int
    event_id: str
    hash_id: str
    capture: int
    type: str
    action: str
    biz_step: str
    disposition: str
    time: datetime
    location: str
    read_point: str
    org: str
    sources: tuple[tuple[str, str], ...] = ()
    destinations: tuple[tuple[str, str], ...] = ()


class EpcRow(NamedTuple):
    """One identifier named by an event, with its role (EventEpc)."""

    event: int
    identifier: str
    role: str
    quantity: float | None = None
    uom: str = ""


@dataclass
class Fetched:
    """What ``fetch(frontier)`` returns: every row naming an identifier of the frontier,
    every link row (LINK roles) of the transformation, aggregation and association events
    among them, and the events of all those rows."""

    rows: list[EpcRow]
    events: dict[int, EventRow]


# --- what a trace is made of (tracing.py re-exports these) -----------------------------------

@dataclass(frozen=True)
class Step:
    """One event naming a traced identifier."""

    event: int
    event_id: str
    hash_id: str
    capture: int
    type: str
    action: str
    biz_step: str
    disposition: str
    time: datetime
    identifier: str
    role: str
    quantity: float | None
    uom: str
    location: str
    read_point: str
    sources: tuple[tuple[str, str], ...]
    destinations: tuple[tuple[str, str], ...]
    org: str


@dataclass(frozen=True)
class Link:
    """An edge between identifiers made by one event, in the forward direction (input ->
    output, child -> parent); ``quantity`` is that of the source row (how much of ``src``
    went into ``dst``)."""

    src: str
    dst: str
    event: int
    kind: str
    quantity: float | None
    uom: str


@dataclass(frozen=True)
class Node:
    identifier: str
    kind: str
    gtin: str
    lot: str
    serial: str
    side: str
    depth: int


@dataclass(frozen=True)
class Stop:
    """Where traced goods went: one row per (identifier, place) reached downstream."""

    identifier: str
    place: str
    party: str
    kind: str
    quantity: float | None
    uom: str
    tier: int
    event: int
    time: datetime


@dataclass
class Walk:
    start: tuple[str, ...]
    nodes: dict[str, Node]
    links: list[Link]
    steps: list[Step]
    truncated: bool
    events: dict[int, EventRow] = field(default_factory=dict)


_LINK_FIELDS = tuple(f.name for f in fields(Link))
_STOP_FIELDS = tuple(f.name for f in fields(Stop))


# --- helpers --------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def short(uri: str) -> str:
    """A CBV 2.0 Web URI as its short word (BizStep-shipping -> shipping, SDT-owning_party ->
    owning_party); any other value unchanged."""
    if uri.startswith(CBV):
        rest = uri[len(CBV):]
        head, dash, word = rest.partition("-")
        if dash and word and "/" not in head:
            return word
    return uri


def identifier_parts(identifier: str) -> tuple[str, str, str, str]:
    """(kind, GTIN-14, lot, serial) of a canonical identifier: "batch" (LGTIN), "instance"
    (SGTIN), "class" (a GTIN alone), "container" (SSCC) or "other"."""
    m = _DIGITAL_LINK.match(identifier)
    if m is None:
        return "other", "", "", ""
    if m["sscc"]:
        return "container", "", "", ""
    if m["ai"] == "10":
        return "batch", m["gtin"], unquote(m["value"]), ""
    if m["ai"] == "21":
        return "instance", m["gtin"], "", unquote(m["value"])
    return "class", m["gtin"], "", ""


def _node(identifier: str, side: str, depth: int, containers: set[str]) -> Node:
    kind, gtin, lot, serial = identifier_parts(identifier)
    if kind == "other" and identifier in containers:
        kind = "container"
    return Node(identifier, kind, gtin, lot, serial, side, depth)


# --- the walk -------------------------------------------------------------------------------

def walk(*, start: Iterable[str], fetch: Callable[[set[str]], Fetched],
         direction: str = "both", limit: int = 20000,
         parties: Callable[[set[int]], dict[int, tuple]] | None = None) -> Walk:
    """Breadth-first, one ``fetch`` per level (plus one per level of containers among the
    start identifiers). Every identifier is expanded at most once per direction; a node
    keeps the side and depth it was first reached with. The walk stops, ``truncated``,
    when it would hold more than ``limit`` nodes.

    ``parties``, if given, returns for the events of the steps their (sources,
    destinations) as (CBV type URI, identifier) pairs, when ``fetch`` did not give them."""
    if direction not in ("backward", "forward", "both"):
        raise ValueError(f"direction must be backward, forward or both, not {direction!r}")
    forward = direction in ("forward", "both")
    backward = direction in ("backward", "both")
    order = list(dict.fromkeys(s for s in start if s))
    sides: dict[str, tuple[str, int]] = {s: ("start", 0) for s in order}
    rows: dict[tuple[int, str, str], EpcRow] = {}
    by_identifier: dict[str, list[EpcRow]] = defaultdict(list)
    by_event: dict[int, list[EpcRow]] = defaultdict(list)
    events: dict[int, EventRow] = {}
    links: dict[tuple[str, str, int], Link] = {}
    containers: set[str] = set()
    fetched: set[str] = set()
    truncated = len(order) > limit
    if truncated:
        order = order[:limit]
        sides = {s: ("start", 0) for s in order}
    fwd: set[str] = set(order) if forward else set()
    bwd: set[str] = set(order) if backward else set()
    fwd_done: set[str] = set()
    bwd_done: set[str] = set()
    starts_open = set(order)  # start identifiers whose children are not yet taken

    def load(identifiers: set[str]) -> None:
        todo = identifiers - fetched
        if not todo:
            return
        fetched.update(todo)
        got = fetch(todo)
        events.update(got.events)
        for row in got.rows:
            key = (row.event, row.identifier, row.role)
            if key in rows:
                continue
            rows[key] = row
            by_identifier[row.identifier].append(row)
            by_event[row.event].append(row)
            if row.role in PARENT_ROLES:
                containers.add(row.identifier)

    def reach(identifier: str, side: str, depth: int) -> bool:
        """Record a node; False when the limit is reached."""
        nonlocal truncated
        if identifier in sides:
            return True
        if len(sides) >= limit:
            truncated = True
            return False
        sides[identifier] = (side, depth)
        return True

    def link(src: EpcRow, dst: EpcRow, kind: str) -> None:
        key = (src.identifier, dst.identifier, src.event)
        if key not in links:
            links[key] = _fast(Link, _LINK_FIELDS, (src.identifier, dst.identifier, src.event,
                                                    kind, src.quantity, src.uom))

    grouped: dict[tuple[int, frozenset[str]], list[EpcRow]] = {}

    def others(row: EpcRow, roles: frozenset[str]) -> list[EpcRow]:
        """The rows of the same event in these roles (kept: an aggregation of thousands
        of children is read once, not once per child)."""
        key = (row.event, roles)
        found = grouped.get(key)
        if found is None:
            found = grouped[key] = [r for r in by_event[row.event] if r.role in roles]
        return found

    def expand(frontier: set[str], done: set[str], side: str, depth: int) -> set[str]:
        """One level of the walk on one side: forward from inputs to outputs and from
        children to their container; backward the other way. The next frontier."""
        forward_side = side == "forward"
        following: set[str] = set()
        for x in sorted(frontier):
            if x in done or truncated:
                continue
            done.add(x)
            for row in by_identifier.get(x, ()):
                kind = events[row.event].type
                if kind == TRANSFORMATION:
                    mine, theirs = ((INPUT_ROLES, OUTPUT_ROLES) if forward_side
                                    else (OUTPUT_ROLES, INPUT_ROLES))
                elif kind in CONTAINMENT:
                    mine, theirs = ((CHILD_ROLES, PARENT_ROLES) if forward_side
                                    else (PARENT_ROLES, CHILD_ROLES))
                else:
                    continue
                if row.role not in mine:
                    continue
                for other in others(row, theirs):
                    if other.identifier == x:
                        continue
                    if forward_side:
                        link(row, other, kind)
                    else:
                        link(other, row, kind)
                    if not reach(other.identifier, side, depth + 1):
                        break
                    if other.identifier not in done:
                        following.add(other.identifier)
        return following

    depth = 0
    while (fwd or bwd) and not truncated:
        load(fwd | bwd)
        # Containers among the start identifiers bring their children in as start
        # identifiers (same level, so fetched before the level is expanded).
        while starts_open and not truncated:
            found: set[str] = set()
            for s in sorted(starts_open):
                for row in by_identifier.get(s, ()):
                    if row.role in PARENT_ROLES and events[row.event].type in CONTAINMENT:
                        for child in others(row, CHILD_ROLES):
                            link(child, row, events[row.event].type)
                            if child.identifier not in sides:
                                if not reach(child.identifier, "start", 0):
                                    break
                                found.add(child.identifier)
            starts_open = found
            if forward:
                fwd |= found
            if backward:
                bwd |= found
            load(found)
        fwd, bwd = expand(fwd, fwd_done, "forward", depth), expand(bwd, bwd_done, "backward", depth)
        depth += 1
    # The rows of the last level's nodes (found but not expanded) are still wanted for the
    # steps; a truncated walk shows what it has.
    if not truncated:
        load(set(sides))
    nodes = {i: _node(i, side, d, containers) for i, (side, d) in sides.items()}
    named = [r for r in rows.values() if r.identifier in nodes]
    if parties is not None:
        found = parties({r.event for r in named})
        for pk, (sources, destinations) in found.items():
            events[pk] = events[pk]._replace(sources=tuple(sources),
                                             destinations=tuple(destinations))
    ends: dict = {}
    steps = sorted((_step(events[r.event], r, ends) for r in named), key=step_order)
    kept = [lk for lk in links.values() if lk.src in nodes and lk.dst in nodes]
    kept.sort(key=lambda lk: (events[lk.event].time, lk.event, lk.src, lk.dst))
    return Walk(tuple(order), nodes, kept, steps, truncated, events)


#: Within one event, what goes in comes before what comes out.
ROLE_ORDER = {r: i for i, r in enumerate((
    "input", "class_input", "child", "class_child", "epc", "class", "parent", "output",
    "class_output"))}


def step_order(s: Step) -> tuple:
    """Steps are ordered by time, event, role (inputs and children first), identifier."""
    return (s.time, s.event, ROLE_ORDER.get(s.role, len(ROLE_ORDER)), s.identifier)


_STEP_FIELDS = tuple(f.name for f in fields(Step))


def _fast(cls, names: tuple[str, ...], values: tuple):
    """An instance of a frozen dataclass made by filling its __dict__ (the same object as
    cls(*values), without the per-field object.__setattr__ of a frozen __init__: a
    large trace makes tens of thousands of steps, links and stops)."""
    obj = object.__new__(cls)
    obj.__dict__.update(zip(names, values, strict=True))
    return obj


def _step(event: EventRow, row: EpcRow, ends: dict) -> Step:
    found = ends.get(event.pk)
    if found is None:
        found = ends[event.pk] = (
            short(event.biz_step), short(event.disposition),
            tuple((short(t), i) for t, i in event.sources),
            tuple((short(t), i) for t, i in event.destinations))
    biz_step, disposition, sources, destinations = found
    return _fast(Step, _STEP_FIELDS, (
        event.pk, event.event_id, event.hash_id, event.capture, event.type, event.action,
        biz_step, disposition, event.time, row.identifier, row.role, row.quantity, row.uom,
        event.location, event.read_point, sources, destinations, event.org))


# --- the stops ------------------------------------------------------------------------------

#: Which kind a stop keeps when the same identifier reached the same place in several ways.
KIND_RANK = {"installed": 0, "received": 1, "shipped_to": 2, "held": 3}
PARTY_TYPES = ("possessing_party", "owning_party")
#: Business steps that make goods: the party where they happen is a maker (tier 0).
MAKING_STEPS = frozenset({"commissioning", "creating_class_instance"})


def _party(pairs: tuple[tuple[str, str], ...]) -> str:
    for wanted in PARTY_TYPES:
        for kind, ident in pairs:
            if kind == wanted:
                return ident
    return ""


def _location(pairs: tuple[tuple[str, str], ...]) -> str:
    for kind, ident in pairs:
        if kind == "location":
            return ident
    return ""


def stops(*, steps: Iterable[Step], nodes: dict[str, Node], links: Iterable[Link] = (),
          makers: Iterable[str] = (), party_of_place: dict[str, str] | None = None,
          party_of_org: dict[str, str] | None = None) -> list[Stop]:
    """Where the goods went, from the steps of the start and forward nodes (``steps`` in
    step order, as walk returns them).

    Per step: ``shipping`` -> "shipped_to" the destination location (else the destination
    party); ``receiving`` -> "received" at the business location (else read point, else
    the receiving party); ``installing`` -> "installed" at the business location; any
    other step with a business location -> "held" there. One stop per (identifier,
    place): the kind ranked first of installed, received, shipped_to, held; its quantity
    summed over the events of that kind (for "held", the largest of them: a batch seen
    twice in one warehouse is not twice as much), None if any is unknown or the units
    differ; its event the latest of them. A container reached forward whose own events
    carry no quantity (an SSCC in an epcList) counts what the traced goods put into it
    (the quantities of the links into it from traced identifiers).

    Tiers: parties linked by shipping and receiving (source party -> destination party)
    form a graph; tier 0 are ``makers`` and the parties where a start identifier was made
    (commissioning, creating_class_instance); every other party's tier is its fewest hops
    from tier 0 (a party no hop reaches is tier 1 and its receivers follow). A stop's tier
    is that of the party at the place (shipped_to, received, held); an installation site's
    is the installer's tier + 1.

    Parties are found in this order: the event's possessing party, then owning party
    (source for the sender, destination for the receiver), then ``party_of_place`` of the
    place, then ``party_of_org`` of the capturing organisation."""
    party_of_place = party_of_place or {}
    party_of_org = party_of_org or {}
    # In step order, as walk gives them.
    forward_steps = [s for s in steps if s.identifier in nodes
                     and nodes[s.identifier].side in ("start", "forward")]

    def at(place: str) -> str:
        found = party_of_place.get(place, "")
        return org_party(found) if found else ""

    # A firm records its own shipments and receipts: the capturer of a shipping event is
    # its sending party, that of a receiving event its receiving party. This names the
    # party of an organisation the directory does not link to one.
    learned: dict[str, str] = {}
    for s in forward_steps:
        if s.org and s.org not in party_of_org:
            if s.biz_step == "shipping" and _party(s.sources):
                learned.setdefault(s.org, _party(s.sources))
            elif s.biz_step == "receiving" and _party(s.destinations):
                learned.setdefault(s.org, _party(s.destinations))

    def org_party(org: str) -> str:
        """The party of an organisation key; the key itself stands in when none is known."""
        return party_of_org.get(org) or learned.get(org) or org

    def by_org(step: Step) -> str:
        """The capturer's party, if known."""
        return (party_of_org.get(step.org) or learned.get(step.org) or "") if step.org else ""

    def stand_in(step: Step) -> str:
        return step.org

    contents: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    unknown: set[str] = set()
    for lk in links:
        if (lk.kind in CONTAINMENT and lk.dst in nodes and nodes[lk.dst].side == "forward"
                and lk.src in nodes):
            if lk.quantity is None:
                unknown.add(lk.dst)
            else:
                contents[lk.dst][lk.uom] += lk.quantity

    def amount(s: Step) -> tuple[float | None, str]:
        if s.quantity is not None or s.identifier not in contents:
            return s.quantity, s.uom
        held = contents[s.identifier]
        if s.identifier in unknown or len(held) != 1:
            return None, ""
        (uom, total), = held.items()
        return total, uom

    tier0 = [org_party(m) for m in makers if m]
    edges: dict[str, set[str]] = defaultdict(set)
    raw: list[tuple[Step, str, str, str, str]] = []  # (step, kind, place, party, before)
    holder: dict[str, str] = {}  # identifier -> the last party known to hold it
    # The holder of what went into an event (inputs, children) holds what came out.
    went_in: dict[int, str] = {}
    # (source party, source location, destination party, destination location) per event
    ends: dict[int, tuple[str, str, str, str]] = {}
    for s in forward_steps:
        place = s.location or s.read_point
        before = holder.get(s.identifier, "")
        if s.role in GOING_IN:
            if before:
                went_in.setdefault(s.event, before)
        elif s.role in COMING_OUT and not before:
            before = went_in.get(s.event, "")
        end = ends.get(s.event)
        if end is None:
            end = ends[s.event] = (_party(s.sources), _location(s.sources),
                                   _party(s.destinations), _location(s.destinations))
        src_party, src_place, dst_party, dest_place = end
        if s.biz_step == "shipping":
            sender = (src_party or at(src_place) or at(place)
                      or by_org(s) or before or stand_in(s))
            receiver = dst_party or at(dest_place)
            if sender and receiver and sender != receiver:
                edges[sender].add(receiver)
            target = dest_place or receiver
            if target:
                raw.append((s, "shipped_to", target, receiver, sender))
            if receiver:
                holder[s.identifier] = receiver
        elif s.biz_step == "receiving":
            receiver = dst_party or at(place) or by_org(s) or stand_in(s)
            source = src_party or at(src_place)
            if source and receiver and source != receiver:
                edges[source].add(receiver)
            target = place or receiver
            if target:
                raw.append((s, "received", target, receiver, source or before))
            if receiver:
                holder[s.identifier] = receiver
        elif s.biz_step == "installing":
            installer = by_org(s) or src_party or before or stand_in(s)
            if place:
                raw.append((s, "installed", place, installer, before))
        elif place:
            party = at(place) or by_org(s) or before or stand_in(s)
            if (s.biz_step in MAKING_STEPS and s.role not in GOING_IN
                    and nodes[s.identifier].side == "start" and party):
                tier0.append(party)
            raw.append((s, "held", place, party, before))
            if party:
                holder.setdefault(s.identifier, party)
    tiers = _tiers(tier0, edges)

    def tier_of(party: str, before: str) -> int:
        """A party's tier; one no shipment or receipt names holds what the previous
        holder had (same tier; 0 with none known)."""
        if party in tiers:
            return tiers[party]
        return tiers.get(before, 0)

    grouped: dict[tuple[str, str], dict[str, list[tuple[Step, str]]]] = defaultdict(
        lambda: defaultdict(list))
    for s, kind, place, party, before in raw:
        grouped[(s.identifier, place)][kind].append((s, party, before))
    result = []
    for (ident, place), kinds in grouped.items():
        kind = min(kinds, key=KIND_RANK.__getitem__)
        chosen = kinds[kind]
        per_event: dict[int, tuple[float | None, str]] = {}
        for s, _p, _b in chosen:
            per_event.setdefault(s.event, amount(s))
        units = {u for _q, u in per_event.values()}
        amounts = [q for q, _u in per_event.values()]
        quantity = None
        if len(units) == 1 and None not in amounts:
            quantity = max(amounts) if kind == "held" else sum(amounts)
        uom = units.pop() if len(units) == 1 and quantity is not None else ""
        last, party, before = max(chosen, key=lambda sp: (sp[0].time, sp[0].event))
        if kind == "installed":
            tier = tier_of(party, before) + 1
        elif kind == "shipped_to" and party not in tiers:
            tier = tiers.get(before, 0) + 1  # to a party unknown: one hop from the sender
        else:
            tier = tier_of(party, before)
        result.append(_fast(Stop, _STOP_FIELDS, (ident, place, party, kind, quantity, uom,
                                                 tier, last.event, last.time)))
    result.sort(key=lambda st: (st.tier, st.place, st.identifier, st.kind))
    return result


def _tiers(tier0: list[str], edges: dict[str, set[str]]) -> dict[str, int]:
    tiers: dict[str, int] = {}
    level = sorted(set(tier0))
    for p in level:
        tiers[p] = 0
    parties = set(edges) | {d for ds in edges.values() for d in ds}

    def spread(frontier: list[str]) -> None:
        while frontier:
            nxt = []
            for p in frontier:
                for q in sorted(edges.get(p, ())):
                    if q not in tiers:
                        tiers[q] = tiers[p] + 1
                        nxt.append(q)
            frontier = nxt

    spread(level)
    # Parties no hop from a maker reaches (their receipt was not recorded): tier 1, then
    # their receivers from there.
    receivers = {d for ds in edges.values() for d in ds}
    rest = sorted(p for p in parties - set(tiers) if p not in receivers)
    if not tier0 and rest:
        for p in rest:
            tiers[p] = 0  # with no maker known, the first senders are the makers
    else:
        for p in rest:
            tiers[p] = 1
    spread(rest)
    for p in sorted(parties - set(tiers)):  # only cycles remain
        tiers[p] = 1
        spread([p])
    return tiers
