"""Trace on the event store: the database side of the walk in trace.py (docs/trace.md).

Per level of the walk, at most two queries per chunk of identifiers: the EPC index rows of
the frontier joined to their events (index epcis_epc_lookup), then the link rows of the
transformation, aggregation and association events among them (the partial index
epcis_epc_links: the query repeats its role condition so that the planner may use it).
After the walk, the sources and destinations of the events found (index
epcis_source_dest_event) and the directory of places, in chunks.

On PostgreSQL an identifier list is one array parameter (``= ANY(%s)``); elsewhere it is
cut into IN lists of fewer than 900 values (SQLite's limit on parameters).

This module does not check access: callers do (access.may_trace / access.tracer).
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from . import trace as walk_
from .choices import LINK_ROLES
from .indexing import IDENTIFIER_MAX
from .indexing import identifier as canonical_identifier
from .models import Event, EventEpc, EventSourceDest, Place
from .trace import Link, Node, Step, Stop

if TYPE_CHECKING:
    from zhijian.procurement.models import Delivery

__all__ = [
    "Direction", "Link", "Node", "Step", "Stop", "TraceResult", "batch_identifier",
    "batch_reports", "canonical", "chunks", "delivery_start", "impact", "makers_of", "trace",
]

Direction = Literal["backward", "forward", "both"]
CHUNK = 800
ORG_PREFIXES = ("enterprise:", "user_unit:", "lab:")


@dataclass
class TraceResult:
    start: tuple[str, ...]
    nodes: dict[str, Node]
    links: list[Link]
    steps: list[Step]  # ordered by time, event
    stops: list[Stop]  # forward side only
    places: dict[str, Place]  # Place rows of the identifiers named in steps and stops
    truncated: bool  # the walk stopped at the node limit

    def side(self, side: str) -> list[Node]:
        return sorted((n for n in self.nodes.values() if n.side == side),
                      key=lambda n: (n.depth, n.identifier))


# --- identifiers ----------------------------------------------------------------------------

def canonical(text: str) -> str:
    """The canonical identifier of user input: an EPC URN (urn:epc:id:..., urn:epc:class:
    lgtin:...), a GS1 Digital Link on any domain or another absolute URI. ValueError with a
    translated message when it is none of these."""
    value = (text or "").strip()
    if not value:
        raise ValueError(_("Enter an identifier: an EPC URN, a GS1 Digital Link or a URI."))
    if len(value) > IDENTIFIER_MAX:
        raise ValueError(_("The identifier is longer than %(limit)s characters.")
                         % {"limit": IDENTIFIER_MAX})
    result = canonical_identifier(value)
    scheme, colon, rest = result.partition(":")
    if (not colon or not rest or not scheme.isascii() or not scheme[:1].isalpha()
            or any(c.isspace() for c in result) or value.startswith("urn:epc:idpat:")):
        raise ValueError(_(
            "%(value)s is not an identifier. Enter an EPC URN such as "
            "urn:epc:id:sgtin:0614141.107346.2018, a GS1 Digital Link such as "
            "https://id.gs1.org/01/06901234567892/10/LOT1, or GTIN and lot.")
            % {"value": value})
    return result


def batch_identifier(gtin: str, lot: str) -> str:
    """The canonical identifier of a batch: https://id.gs1.org/01/<GTIN-14>/10/<lot>."""
    digits = (gtin or "").strip()
    return canonical_identifier(
        f"https://id.gs1.org/01/{digits.zfill(14)}/10/{quote((lot or '').strip(), safe='')}")


def delivery_start(delivery: Delivery) -> list[str]:
    """The batch identifier(s) of a delivery of a user unit: its product's GTIN and its
    batch number; none when the product has no GTIN."""
    product = delivery.product
    gtin = getattr(product, "gtin", "") or ""
    lot = (delivery.batch or "").strip()
    if not gtin or not lot:
        return []
    return [batch_identifier(gtin, lot)]


# --- the walk on the store ------------------------------------------------------------------

def chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    """``items`` in lists of ``size`` (IN lists SQLite accepts)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def lateral(sql: str, column: str, array: str) -> str:
    """The PostgreSQL form of ``sql`` for an array of values (see _select)."""
    inner = sql.format(cond=f"{column} = f.v")
    return (f"SELECT x.* FROM unnest(%s::{array}[]) AS f(v) "  # noqa: S608
            f"CROSS JOIN LATERAL ({inner} OFFSET 0) AS x")


def _select(sql: str, column: str, values: Iterable, array: str = "") -> Iterator[tuple]:
    """Run ``sql`` (``{cond}`` standing for the condition on ``column``) for the values.

    On PostgreSQL: one query, the values one array parameter (of type ``array``), each
    looked up by a lateral subquery. ANALYZE underestimates how many distinct
    identifiers the EPC index holds (a few batches are named by thousands of events,
    most identifiers by one to three), so for a frontier of thousands the planner expects
    hundreds of thousands of rows and would read whole tables; the lateral subquery,
    kept apart by OFFSET 0, is an index lookup per value whatever the estimate.
    Elsewhere: IN lists of fewer than 900 values (SQLite's limit on parameters)."""
    values = list(values)
    if not values:
        return
    with connection.cursor() as cursor:
        if _postgres():
            cursor.execute(lateral(sql, column, array), [values])
            yield from cursor.fetchall()
            return
        for part in chunks(values):
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(sql.format(cond=f"{column} IN ({marks})"), part)
            yield from cursor.fetchall()


def _time(value) -> datetime:
    """The event time read as text (cheaper to parse than the driver's conversion through
    Django's time zone loader): PostgreSQL's timestamptz text in the session's UTC, or
    SQLite's naive UTC text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


_E = Event._meta.db_table
_P = EventEpc._meta.db_table
_S = EventSourceDest._meta.db_table
_LINK_ROLES_SQL = ", ".join(f"'{r}'" for r in LINK_ROLES)

# Table names come from the models and the roles from choices.LINK_ROLES: no user input.
FRONTIER_SQL = (
    "SELECT p.event_id, p.epc, p.role, p.quantity, p.uom, e.event_id, e.hash_id, "  # noqa: S608
    "e.capture_id, e.type, e.action, e.biz_step, e.disposition, "
    "CAST(e.event_time AS TEXT), "
    f"e.biz_location, e.read_point, e.org FROM {_P} p JOIN {_E} e ON e.id = p.event_id "
    "WHERE {cond}")
LINKS_SQL = (
    f"SELECT p.event_id, p.epc, p.role, p.quantity, p.uom FROM {_P} p "  # noqa: S608
    f"WHERE {{cond}} AND p.role IN ({_LINK_ROLES_SQL})")
SOURCE_DEST_SQL = (
    f"SELECT s.event_id, s.kind, s.type, s.identifier FROM {_S} s "  # noqa: S608
    "WHERE {cond}")


def _fetch(frontier: set[str]) -> walk_.Fetched:
    rows: list[walk_.EpcRow] = []
    events: dict[int, walk_.EventRow] = {}
    linked: set[int] = set()
    for (pk, epc, role, quantity, uom, event_id, hash_id, capture, kind, action, biz_step,
         disposition, time, location, read_point, org) in _select(
            FRONTIER_SQL, "p.epc", sorted(frontier), "varchar"):
        rows.append(walk_.EpcRow(pk, epc, role, quantity, uom))
        if pk not in events:
            events[pk] = walk_.EventRow(pk, event_id, hash_id, capture, kind, action, biz_step,
                                        disposition, _time(time), location, read_point, org)
            if kind in walk_.LINK_TYPES:
                linked.add(pk)
    for pk, epc, role, quantity, uom in _select(LINKS_SQL, "p.event_id", sorted(linked),
                                                "bigint"):
        rows.append(walk_.EpcRow(pk, epc, role, quantity, uom))
    return walk_.Fetched(rows, events)


def _sources_dests(event_ids: Iterable[int]) -> dict[int, tuple[list, list]]:
    found: dict[int, tuple[list, list]] = {}
    for pk, kind, sd_type, ident in _select(SOURCE_DEST_SQL, "s.event_id", sorted(event_ids),
                                            "bigint"):
        pair = found.setdefault(pk, ([], []))
        pair[0 if kind == "source" else 1].append((sd_type, ident))
    return found


def _places(identifiers: Iterable[str]) -> dict[str, Place]:
    """The directory's rows for these identifiers (on PostgreSQL one query with an array
    parameter: a large IN list costs more to send than to run)."""
    wanted = sorted({i for i in identifiers if i})
    found: dict[str, Place] = {}
    if not wanted:
        return found
    if _postgres():
        parts = [RawSQL("SELECT unnest(%s::varchar[])", (wanted,))]
    else:
        parts = list(chunks(wanted))
    for part in parts:
        for place in Place.objects.filter(identifier__in=part):
            found[place.identifier] = place
    return found


def _directory(identifiers: set[str]) -> dict[str, tuple[str, str]]:
    """Identifier -> (kind, organisation key) of the places in the directory."""
    wanted = sorted(identifiers)
    found: dict[str, tuple[str, str]] = {}
    if not wanted:
        return found
    parts = ([RawSQL("SELECT unnest(%s::varchar[])", (wanted,))] if _postgres()
             else list(chunks(wanted)))
    for part in parts:
        for ident, kind, entity, unit, lab in Place.objects.filter(
                identifier__in=part).values_list(
                    "identifier", "kind", "entity_id", "user_unit_id", "lab_id"):
            org = (f"enterprise:{entity}" if entity else f"user_unit:{unit}" if unit
                   else f"lab:{lab}" if lab else "")
            found[ident] = (kind, org)
    return found


def _org_of(place: Place) -> str:
    if place.entity_id:
        return f"enterprise:{place.entity_id}"
    if place.user_unit_id:
        return f"user_unit:{place.user_unit_id}"
    if place.lab_id:
        return f"lab:{place.lab_id}"
    return ""


def _party_places(orgs: set[str]) -> dict[str, str]:
    """Capturing organisation key -> the identifier of its party in the directory (the
    first by identifier), for the organisations that have one."""
    ids: dict[str, set[int]] = {"enterprise": set(), "user_unit": set(), "lab": set()}
    for org in orgs:
        role, _c, pk = org.partition(":")
        if role in ids and pk.isdigit():
            ids[role].add(int(pk))
    found: dict[str, str] = {}
    for role, field in (("enterprise", "entity_id"), ("user_unit", "user_unit_id"),
                        ("lab", "lab_id")):
        for part in chunks(sorted(ids[role])):
            for place in Place.objects.filter(kind="party", **{f"{field}__in": part}) \
                    .order_by("identifier"):
                found.setdefault(_org_of(place), place.identifier)
    return found


def makers_of(gtins: Iterable[str]) -> dict[str, int]:
    """GTIN-14 -> the market entity that makes the product (registry.Product), for the
    GTINs the registry knows (a GTIN-13 is stored as such; its GTIN-14 starts with 0)."""
    from zhijian.registry.models import Product

    wanted = {g for g in gtins if g}
    keys = wanted | {g[1:] for g in wanted if g.startswith("0")}
    found: dict[str, int] = {}
    for part in chunks(sorted(keys)):
        for gtin, entity in Product.objects.filter(gtin__in=part).values_list(
                "gtin", "entity_id").order_by("gtin", "pk"):
            found.setdefault(gtin.zfill(14), entity)
    return found


def trace(*, start: Iterable[str], direction: Direction = "both",
          limit: int = 20000) -> TraceResult:
    """The trace from the given canonical identifiers (docs/trace.md)."""
    return _trace(start, direction, limit, with_places=True)


def _trace(start: Iterable[str], direction: str, limit: int, *,
           with_places: bool) -> TraceResult:
    # A large trace allocates a few hundred thousand small objects, none in a cycle; the
    # cyclic garbage collector would scan the whole heap several times meanwhile (a third
    # of the time of a 10,000-site impact list), so it waits until the trace is done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with transaction.atomic():
            if _postgres():
                # A lookup per value costs little but adds up to a large estimate, above
                # which PostgreSQL would spend longer compiling the query (JIT) than
                # running it. For this transaction only.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL jit = off")
            return _trace_walk(start, direction, limit, with_places=with_places)
    finally:
        if collecting:
            gc.enable()


def _trace_walk(start: Iterable[str], direction: str, limit: int, *,
                with_places: bool) -> TraceResult:
    walked = walk_.walk(start=start, fetch=_fetch, direction=direction, limit=limit,
                        parties=_sources_dests)
    steps = walked.steps
    named = set()
    for s in steps:
        named.update((s.location, s.read_point))
        named.update(i for _t, i in s.sources)
        named.update(i for _t, i in s.destinations)
    named.discard("")
    # Every place and party a stop names is one a step names.
    places = _places(named) if with_places else {}
    stops: list[Stop] = []
    if direction != "backward":
        directory = ({i: (p.kind, _org_of(p)) for i, p in places.items()} if with_places
                     else _directory(named))
        stops = _stops(walked.nodes, walked.links, steps, directory)
    return TraceResult(start=walked.start, nodes=walked.nodes, links=walked.links,
                       steps=steps, stops=stops, places=places, truncated=walked.truncated)


def _stops(nodes: dict[str, Node], links: list[Link], steps: list[Step],
           directory: dict[str, tuple[str, str]]) -> list[Stop]:
    forward = [s for s in steps if nodes[s.identifier].side in ("start", "forward")]
    party_of_place = {}
    orgs = {s.org for s in forward if s.org}
    for ident, (kind, org) in directory.items():
        if kind == "party":
            party_of_place[ident] = ident
        elif org:
            party_of_place[ident] = org
            orgs.add(org)
    start_gtins = {n.gtin for n in nodes.values() if n.side == "start" and n.gtin}
    makers = {f"enterprise:{pk}" for pk in makers_of(start_gtins).values()}
    orgs |= makers
    party_of_org = _party_places(orgs)
    result = walk_.stops(steps=forward, nodes=nodes, links=links, makers=sorted(makers),
                         party_of_place=party_of_place, party_of_org=party_of_org)
    # An organisation without a party in the directory stood in for one while the tiers
    # were counted; a stop names only real party identifiers.
    return [dataclasses.replace(st, party="") if st.party.startswith(ORG_PREFIXES) else st
            for st in result]


def impact(*, start: Iterable[str], limit: int = 20000) -> list[Stop]:
    """The recall-impact list: every downstream holder and location of the goods, with
    quantities, ordered by tier, then place (a forward trace's stops; the directory is read
    for kinds and organisations only, not as Place rows)."""
    return _trace(start, "forward", limit, with_places=False).stops


def batch_reports(result: TraceResult) -> dict[str, list]:
    """Batch node identifier -> the issued test reports covering that batch (those of
    reports.Report.objects.for_batch(maker, lot) for the product's maker, drafts left
    out; one query for all batches), newest first."""
    from zhijian.reports.models import Report

    batches = [n for n in result.nodes.values() if n.kind == "batch"]
    makers = makers_of({n.gtin for n in batches})
    wanted = {(makers[n.gtin], n.lot): n.identifier for n in batches if n.gtin in makers}
    found: dict[str, list] = {}
    if not wanted:
        return found
    lots = sorted({lot for _m, lot in wanted})
    producers = sorted({m for m, _l in wanted})
    reports = []
    for part in chunks(lots):
        reports += list(Report.objects.filter(producer_id__in=producers, batch__in=part)
                        .exclude(status="draft")
                        .select_related("lab", "producer").order_by("-pk"))
    for report in reports:
        ident = wanted.get((report.producer_id, report.batch))
        if ident is not None:
            found.setdefault(ident, []).append(report)
    return found
