"""The pure trace walk (trace.py, docs/trace.md): against a simple reference search on
random event sets (hypothesis), containers, cycles, the node limit, and the stops."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhijian.traceability import trace as t

T0 = datetime(2026, 7, 1, tzinfo=UTC)
CBV = "https://ref.gs1.org/cbv/"


class Store:
    """Events in memory, with a fetch callback as tracing.py's (and a count of calls)."""

    def __init__(self):
        self.events: dict[int, t.EventRow] = {}
        self.rows: list[t.EpcRow] = []
        self.calls: list[set[str]] = []

    def add(self, kind: str, rows: list[tuple], step: str = "", *, location: str = "",
            org: str = "", sources=(), destinations=(), action: str = "OBSERVE") -> int:
        pk = len(self.events) + 1
        self.events[pk] = t.EventRow(
            pk, f"urn:uuid:{pk}", f"ni:///sha-256;{pk:064x}?ver=CBV2.0", 1, kind, action,
            CBV + "BizStep-" + step if step else "", "", T0 + timedelta(days=pk), location,
            location, org,
            tuple((CBV + "SDT-" + k, i) for k, i in sources),
            tuple((CBV + "SDT-" + k, i) for k, i in destinations))
        for row in rows:
            self.rows.append(t.EpcRow(pk, *row))
        return pk

    def fetch(self, frontier: set[str]) -> t.Fetched:
        self.calls.append(set(frontier))
        rows = [r for r in self.rows if r.identifier in frontier]
        events = {r.event: self.events[r.event] for r in rows}
        linked = {pk for pk in events if events[pk].type in t.LINK_TYPES}
        rows += [r for r in self.rows if r.event in linked and r.role in LINK
                 and r.identifier not in frontier]
        return t.Fetched(rows, events)


LINK = {"parent", "child", "class_child", "input", "output", "class_input", "class_output"}


def reference(store: Store, start: list[str], direction: str):
    """Plain graph search: the start closure over containers, then forward and backward
    breadth-first distances. Returns {identifier: (side, depth)} and the link set."""
    by_event: dict[int, list[t.EpcRow]] = {}
    for r in store.rows:
        by_event.setdefault(r.event, []).append(r)
    fwd_edges, contain = [], []
    for pk, rows in by_event.items():
        kind = store.events[pk].type
        if kind == "transformation":
            ins = [r.identifier for r in rows if r.role in t.INPUT_ROLES]
            outs = [r.identifier for r in rows if r.role in t.OUTPUT_ROLES]
        elif kind in t.CONTAINMENT:
            ins = [r.identifier for r in rows if r.role in t.CHILD_ROLES]
            outs = [r.identifier for r in rows if r.role in t.PARENT_ROLES]
            contain += [(a, b, pk) for a in ins for b in outs if a != b]
        else:
            continue
        fwd_edges += [(a, b, pk) for a in ins for b in outs if a != b]
    starts = set(start)
    grew = True
    links = set()
    while grew:
        grew = False
        for a, b, pk in contain:
            if b in starts:
                links.add((a, b, pk))
                if a not in starts:
                    starts.add(a)
                    grew = True

    def bfs(forward: bool) -> dict[str, int]:
        dist = dict.fromkeys(starts, 0)
        queue = deque(sorted(starts))
        while queue:
            x = queue.popleft()
            for a, b, pk in fwd_edges:
                src, dst = (a, b) if forward else (b, a)
                if src == x:
                    links.add((a, b, pk))
                    if dst not in dist:
                        dist[dst] = dist[x] + 1
                        queue.append(dst)
        return dist

    df = bfs(True) if direction in ("forward", "both") else dict.fromkeys(starts, 0)
    db = bfs(False) if direction in ("backward", "both") else dict.fromkeys(starts, 0)
    nodes = {}
    for x in set(df) | set(db):
        if x in starts:
            nodes[x] = ("start", 0)
        elif x in df and (x not in db or df[x] <= db[x]):
            nodes[x] = ("forward", df[x])
        else:
            nodes[x] = ("backward", db[x])
    return nodes, links


IDS = [f"https://id.gs1.org/01/0690123400001{i % 10}/10/L{i}" for i in range(8)]


@st.composite
def stores(draw):
    store = Store()
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["transformation", "aggregation", "association", "object"]))
        if kind == "transformation":
            ins = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True))
            outs = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True))
            rows = [(i, draw(st.sampled_from(["input", "class_input"])), 1.0, "KGM")
                    for i in ins]
            rows += [(o, draw(st.sampled_from(["output", "class_output"])), 2.0, "KGM")
                     for o in outs]
        elif kind in ("aggregation", "association"):
            parent = draw(st.sampled_from(IDS))
            kids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True))
            rows = [(parent, "parent", None, "")]
            rows += [(k, draw(st.sampled_from(["child", "class_child"])), 1.0, "MTR")
                     for k in kids if k != parent]
        else:
            rows = [(i, "class", 3.0, "MTR") for i in draw(
                st.lists(st.sampled_from(IDS), min_size=1, max_size=2, unique=True))]
        store.add(kind, rows, "shipping")
    return store


@settings(max_examples=300, deadline=None)
@given(store=stores(), start=st.lists(st.sampled_from(IDS), min_size=1, max_size=2),
       direction=st.sampled_from(["forward", "backward", "both"]))
def test_the_walk_finds_what_a_plain_search_finds(store, start, direction):
    walked = t.walk(start=start, fetch=store.fetch, direction=direction)
    nodes, links = reference(store, start, direction)
    assert walked.truncated is False
    assert {i: (n.side, n.depth) for i, n in walked.nodes.items()} == nodes
    assert {(lk.src, lk.dst, lk.event) for lk in walked.links} == links
    assert sorted((s.event, s.identifier, s.role) for s in walked.steps) == sorted(
        (r.event, r.identifier, r.role) for r in store.rows if r.identifier in nodes)
    # Every identifier is fetched once, and the rows of each level in one call.
    fetched = [i for call in store.calls for i in call]
    assert len(fetched) == len(set(fetched))
    assert set(fetched) == set(nodes)


@settings(max_examples=200, deadline=None)
@given(store=stores(), start=st.lists(st.sampled_from(IDS), min_size=1, max_size=2),
       limit=st.integers(1, 6))
def test_the_node_limit_truncates_to_a_subset(store, start, limit):
    walked = t.walk(start=start, fetch=store.fetch, limit=limit)
    nodes, _links = reference(store, start, "both")
    if len(nodes) <= limit:
        assert walked.truncated is False
        assert set(walked.nodes) == set(nodes)
    else:
        assert walked.truncated is True
        assert len(walked.nodes) == limit
        assert set(walked.nodes) <= set(nodes)
    assert all(lk.src in walked.nodes and lk.dst in walked.nodes for lk in walked.links)


A, B, C, D, E = IDS[:5]
PALLET = "https://id.gs1.org/00/069012340000000016"


def test_a_cycle_ends():
    store = Store()
    store.add("transformation", [(A, "class_input", 1.0, "KGM"), (B, "class_output", 1.0, "KGM")])
    store.add("transformation", [(B, "class_input", 1.0, "KGM"), (A, "class_output", 1.0, "KGM")])
    walked = t.walk(start=[A], fetch=store.fetch)
    assert {i: (n.side, n.depth) for i, n in walked.nodes.items()} == {
        A: ("start", 0), B: ("forward", 1)}
    assert [(lk.src, lk.dst, lk.event) for lk in walked.links] == [(A, B, 1), (B, A, 2)]
    assert len(store.calls) == 2


def test_containers_forward_and_at_the_start():
    store = Store()
    store.add("aggregation", [(PALLET, "parent", None, ""), (A, "class_child", 4.0, "MTR"),
                              (B, "class_child", 6.0, "MTR")], "packing", action="ADD")
    store.add("object", [(PALLET, "epc", None, "")], "shipping")
    store.add("transformation", [(C, "class_input", 9.0, "KGM"),
                                 (A, "class_output", 10.0, "MTR")])
    # Forward from A: the pallet carries it; B, the pallet's other content, is other goods.
    walked = t.walk(start=[A], fetch=store.fetch)
    assert {i: (n.kind, n.side, n.depth) for i, n in walked.nodes.items()} == {
        A: ("batch", "start", 0), PALLET: ("container", "forward", 1),
        C: ("batch", "backward", 1)}
    assert [(s.event, s.identifier, s.role) for s in walked.steps] == [
        (1, A, "class_child"), (1, PALLET, "parent"), (2, PALLET, "epc"),
        (3, C, "class_input"), (3, A, "class_output")]
    # From the pallet: its contents start too (and C is found behind A).
    walked = t.walk(start=[PALLET], fetch=store.fetch, direction="forward")
    assert {i: (n.side, n.depth) for i, n in walked.nodes.items()} == {
        PALLET: ("start", 0), A: ("start", 0), B: ("start", 0)}
    walked = t.walk(start=[PALLET], fetch=store.fetch, direction="backward")
    assert {i: (n.side, n.depth) for i, n in walked.nodes.items()} == {
        PALLET: ("start", 0), A: ("start", 0), B: ("start", 0), C: ("backward", 1)}


def test_identifier_parts():
    assert t.identifier_parts("https://id.gs1.org/01/06901234000016/10/L%2F1") == (
        "batch", "06901234000016", "L/1", "")
    assert t.identifier_parts("https://id.gs1.org/01/06901234000016/21/S7") == (
        "instance", "06901234000016", "", "S7")
    assert t.identifier_parts("https://id.gs1.org/01/06901234000016") == (
        "class", "06901234000016", "", "")
    assert t.identifier_parts(PALLET) == ("container", "", "", "")
    assert t.identifier_parts("urn:uuid:1") == ("other", "", "", "")


def test_a_bad_direction_is_refused():
    with pytest.raises(ValueError, match="direction"):
        t.walk(start=[A], fetch=Store().fetch, direction="sideways")


# --- stops: the worked example of docs/trace.md -----------------------------------------------

M, DIST, K, U = (f"https://id.gs1.org/417/69000000000{i}{i}" for i in range(1, 5))
PLANT, WH, YARD, DEPOT, S1 = (f"https://id.gs1.org/414/6900000001{i}{i}" for i in range(5))


def worked_example() -> Store:
    """Cable L (= A) made from copper C at the maker's plant; 400 m packed on a pallet for
    the metro company U, 600 m shipped to a distributor, 250 m of it on to a contractor,
    who cuts 100 m (D) and installs it at station S1."""
    s = Store()
    s.add("transformation", [(C, "class_input", 500.0, "KGM"), (A, "class_output", 1000.0, "MTR")],
          "creating_class_instance", location=PLANT, org="enterprise:1")
    s.add("aggregation", [(PALLET, "parent", None, ""), (A, "class_child", 400.0, "MTR")],
          "packing", location=PLANT, org="enterprise:1", action="ADD")
    s.add("object", [(A, "class", 600.0, "MTR")], "shipping", location=PLANT, org="enterprise:1",
          sources=[("owning_party", M)], destinations=[("owning_party", DIST), ("location", WH)])
    s.add("object", [(PALLET, "epc", None, "")], "shipping", location=PLANT, org="enterprise:1",
          sources=[("owning_party", M)], destinations=[("owning_party", U), ("location", DEPOT)])
    s.add("object", [(A, "class", 600.0, "MTR")], "receiving", location=WH, org="enterprise:2",
          sources=[("owning_party", M)], destinations=[("owning_party", DIST)])
    s.add("object", [(A, "class", 250.0, "MTR")], "shipping", location=WH, org="enterprise:2",
          sources=[("owning_party", DIST)], destinations=[("owning_party", K), ("location", YARD)])
    s.add("transformation", [(A, "class_input", 100.0, "MTR"), (D, "class_output", 100.0, "MTR")],
          "creating_class_instance", location=YARD, org="enterprise:3")
    s.add("object", [(D, "class", 100.0, "MTR")], "installing", location=S1, org="enterprise:3")
    return s


def test_the_worked_example_of_the_docs():
    store = worked_example()
    walked = t.walk(start=[A], fetch=store.fetch, direction="forward")
    stops = t.stops(steps=walked.steps, nodes=walked.nodes, links=walked.links,
                    makers=["enterprise:1"], party_of_org={"enterprise:1": M})
    day = lambda n: T0 + timedelta(days=n)  # noqa: E731
    assert [(s.identifier, s.place, s.party, s.kind, s.quantity, s.uom, s.tier, s.event,
             s.time) for s in stops] == [
        (PALLET, PLANT, M, "held", 400.0, "MTR", 0, 2, day(2)),
        (A, PLANT, M, "held", 1000.0, "MTR", 0, 2, day(2)),
        (A, WH, DIST, "received", 600.0, "MTR", 1, 5, day(5)),
        (PALLET, DEPOT, U, "shipped_to", 400.0, "MTR", 1, 4, day(4)),
        (A, YARD, K, "shipped_to", 250.0, "MTR", 2, 6, day(6)),
        (D, YARD, K, "held", 100.0, "MTR", 2, 7, day(7)),
        (D, S1, K, "installed", 100.0, "MTR", 3, 8, day(8)),
    ]


def test_stops_sum_shipments_and_take_the_largest_holding():
    s = Store()
    s.add("object", [(A, "class", 10.0, "MTR")], "shipping", sources=[("owning_party", M)],
          destinations=[("location", WH)])
    s.add("object", [(A, "class", 5.0, "MTR")], "shipping", sources=[("owning_party", M)],
          destinations=[("location", WH)])
    s.add("object", [(A, "class", 7.0, "MTR")], "inspecting", location=YARD)
    s.add("object", [(A, "class", 3.0, "MTR")], "storing", location=YARD)
    s.add("object", [(A, "class", 2.0, "KGM")], "inspecting", location=DEPOT)
    s.add("object", [(A, "class", 2.0, "MTR")], "inspecting", location=DEPOT)
    walked = t.walk(start=[A], fetch=s.fetch, direction="forward")
    stops = {(x.place, x.kind): (x.quantity, x.uom, x.tier) for x in t.stops(
        steps=walked.steps, nodes=walked.nodes, links=walked.links, makers=[M])}
    assert stops == {(WH, "shipped_to"): (15.0, "MTR", 1), (YARD, "held"): (7.0, "MTR", 0),
                     (DEPOT, "held"): (None, "", 0)}


def test_short_words():
    assert t.short(CBV + "BizStep-shipping") == "shipping"
    assert t.short(CBV + "SDT-owning_party") == "owning_party"
    assert t.short("urn:example:step") == "urn:example:step"
    assert t.short("") == ""
