"""The verifiable random-inspection draw (双随机), rule by rule (docs/draw-algorithm.md).

The module is pure standard-library Python: these tests call it directly, need no
database, and check that the published verifier runs where Django cannot be imported."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import io
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from zhijian.inspections import draw
from zhijian.inspections.draw import AssignmentError, BundleError

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
DOC = ROOT / "docs" / "draw-algorithm.md"
SEED = hashlib.sha256(b"test seed").hexdigest()
PUBLISHED_AT = "2026-04-01T09:00:00+08:00"
ENTERED_AT = "2026-04-03T10:05:00+08:00"
REASONS = ("already_in_team", "conflict_declared", "on_previous_visit", "lacks_qualification",
           "at_workload_cap")


def _examples():
    spec = importlib.util.spec_from_file_location("draw_examples", DATA / "examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


examples = _examples()


# --- builders -----------------------------------------------------------------------------------

def entity(uscc, stratum="s", weight=1, division="610113", departments=("m",), requires=(),
           previous=()):
    return {"uscc": uscc, "stratum": stratum, "weight": weight, "division": division,
            "departments": list(departments), "requires": list(requires),
            "previous": list(previous)}


def inspector(badge, department="m", jurisdiction="61", qualifications=(), load=0):
    return {"badge": badge, "department": department, "jurisdiction": jurisdiction,
            "qualifications": list(qualifications), "load": load}


def frame_of(entities, strata=(("s", 10_000),), excluded=()):
    return {"strata": [{"key": k, "ratio_bp": r} for k, r in strata],
            "entities": list(entities), "excluded": list(excluded)}


def pool_of(inspectors, team_size=1, cap=100, conflicts=()):
    return {"team_size": team_size, "workload_cap": cap, "inspectors": list(inspectors),
            "conflicts": [{"badge": b, "uscc": u} for b, u in conflicts]}


def bundle_of(frame, pool, plan=None, dice="1 2 3 4 5 6", beacon="beacon"):
    plan = plan if plan is not None else {"code": "T-1"}
    commitment = {**draw.commitment(plan, frame, pool), "published_at": PUBLISHED_AT}
    seed = draw.seed_digest(commitment["sha256"], dice, beacon)
    return {"format": draw.FORMAT, "plan": plan, "frame": frame, "pool": pool,
            "commitment": commitment,
            "seed": {"dice": dice, "beacon": beacon, "entered_at": ENTERED_AT, "sha256": seed},
            "result": draw.draw(seed, frame, pool)}


def sha(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def teams(seed, frame, pool) -> dict[str, list[str]]:
    return {s["uscc"]: s["inspectors"] for s in draw.draw(seed, frame, pool)["selected"]}


def failures(seed, frame, pool) -> list[dict]:
    with pytest.raises(AssignmentError) as caught:
        draw.draw(seed, frame, pool)
    return caught.value.failures


def load_example(name: str) -> dict:
    return draw.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def by_name(checks) -> dict[str, draw.Check]:
    return {c.name: c for c in checks}


# --- §2 canonical JSON and hashes ---------------------------------------------------------------

def test_canonical_form_of_the_spec_example():
    value = {"b": [1, True, None, -7], "a": "雁塔\n\"x\"\u0001/é"}
    text = '{"a":"雁塔\\n\\"x\\"\\u0001/é","b":[1,true,null,-7]}'
    assert draw.canonical(value) == text.encode("utf-8")
    assert len(draw.canonical(value)) == 51
    assert draw.digest(value) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert draw.digest(value) in DOC.read_text(encoding="utf-8")


bundle_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127), max_size=6), children,
                      max_size=4),
    max_leaves=20)


@given(bundle_values)
def test_canonical_is_rfc8785_for_the_bundle_value_domain(value):
    assert draw.canonical(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("text", ["1.0", "1e3", "1E3", "-0.5", "NaN", "Infinity", "-Infinity",
                                  str(2**53), str(-(2**53)), '{"ratio_bp": 2.5}'])
def test_loads_refuses_anything_but_safe_integers(text):
    with pytest.raises(BundleError):
        draw.loads(text)


def test_loads_accepts_the_largest_safe_integers():
    assert draw.loads(f"[{2**53 - 1}, {-(2**53) + 1}, 0]") == [2**53 - 1, -(2**53) + 1, 0]


# --- §3 commitment and §4 seed ------------------------------------------------------------------

def test_commitment_hashes_each_part_and_then_the_parts():
    plan, frame, pool = {"code": "P"}, frame_of([entity("A")]), pool_of([inspector("X")])
    c = draw.commitment(plan, frame, pool)

    def h(b: bytes) -> str:
        return hashlib.sha256(b).hexdigest()

    assert c["plan"] == h(b'{"code":"P"}')
    assert c["pool"] == h(
        b'{"conflicts":[],"inspectors":[{"badge":"X","department":"m","jurisdiction":"61",'
        b'"load":0,"qualifications":[]}],"team_size":1,"workload_cap":100}')
    assert c["frame"] == h(
        b'{"entities":[{"departments":["m"],"division":"610113","previous":[],"requires":[],'
        b'"stratum":"s","uscc":"A","weight":1}],"excluded":[],'
        b'"strata":[{"key":"s","ratio_bp":10000}]}')
    parts = (f'{{"format":"zhijian-draw/1","frame":"{c["frame"]}","plan":"{c["plan"]}",'
             f'"pool":"{c["pool"]}"}}')
    assert c["sha256"] == h(parts.encode())
    assert c["format"] == "zhijian-draw/1"


def test_seed_hashes_beacon_commitment_and_dice_in_canonical_json():
    commitment = "ab" * 32
    expected = hashlib.sha256(
        f'{{"beacon":"pulse \\"7\\"","commitment":"{commitment}","dice":"6 6 1"}}'.encode()
    ).hexdigest()
    assert draw.seed_digest(commitment, "6 6 1", 'pulse "7"') == expected


TEXT = st.characters(blacklist_categories=("Cs",))  # a lone surrogate is not text


@given(dice=st.text(TEXT, min_size=1, max_size=30), data=st.data())
def test_changing_one_dice_character_changes_the_seed(dice, data):
    i = data.draw(st.integers(0, len(dice) - 1))
    other = data.draw(TEXT.filter(lambda c: c != dice[i]))
    changed = dice[:i] + other + dice[i + 1:]
    assert draw.seed_digest("00" * 32, changed, "b") != draw.seed_digest("00" * 32, dice, "b")


# --- §5 selection of targets --------------------------------------------------------------------

@pytest.mark.parametrize(("population", "ratio_bp", "n"), [
    (0, 100, 0), (1, 1, 1), (8, 4000, 4), (4, 3000, 2), (10, 1000, 1), (10, 1001, 2),
    (10_000, 100, 100), (10_001, 100, 101), (5, 0, 0), (5, 10_000, 5), (7, 9_999, 7)])
def test_sample_size_is_the_ceiling_of_n_times_ratio(population, ratio_bp, n):
    assert draw.Stratum("s", ratio_bp).sample_size(population) == n
    frame = frame_of([entity(f"E{i}") for i in range(population)], strata=[("s", ratio_bp)])
    _, counts = draw.select(SEED, frame)
    assert counts == [{"drawn": n, "population": population, "ratio_bp": ratio_bp,
                       "stratum": "s"}]


def test_ticket_is_sha256_of_seed_colon_uscc_in_utf8():
    assert draw.ticket(SEED, "91610113MA6TEST01X") == sha(f"{SEED}:91610113MA6TEST01X").hex()
    assert draw.ticket(SEED, "雁塔") == hashlib.sha256(
        SEED.encode() + b":" + b"\xe9\x9b\x81\xe5\xa1\x94").hexdigest()  # UTF-8


def test_equal_weights_draw_the_smallest_tickets_ranked_by_ticket():
    usccs = [f"E{i:02d}" for i in range(20)]
    frame = frame_of([entity(u) for u in usccs], strata=[("s", 2500)])
    selected, _ = draw.select(SEED, frame)
    expected = sorted(usccs, key=lambda u: sha(f"{SEED}:{u}"))[:5]
    assert [s.uscc for s in selected] == expected
    assert [s.rank for s in selected] == [1, 2, 3, 4, 5]
    assert [s.ticket for s in selected] == [sha(f"{SEED}:{u}").hex() for u in expected]


def _spec_order(seed, members):
    """§5.3 written out: u = first 8 bytes + 1, key = u × (L / w), ties by digest, position."""
    lcm = math.lcm(*(w for _, w in members))
    rows = []
    for position, (uscc, w) in enumerate(members):
        d = sha(f"{seed}:{uscc}")
        rows.append(((int.from_bytes(d[:8], "big") + 1) * (lcm // w), d, position, uscc))
    return [uscc for *_, uscc in sorted(rows)]


def test_weighted_order_is_u_times_lcm_over_weight():
    members = [(f"E{i:02d}", w) for i, w in enumerate([1, 2, 3, 4, 5, 6, 7, 1, 1, 2, 9, 12])]
    frame = frame_of([entity(u, weight=w) for u, w in members], strata=[("s", 5000)])
    differs = 0
    for i in range(20):
        seed = hashlib.sha256(f"w{i}".encode()).hexdigest()
        selected, _ = draw.select(seed, frame)
        expected = _spec_order(seed, members)[:6]
        assert [s.uscc for s in selected] == expected
        differs += expected != sorted((u for u, _ in members),
                                      key=lambda u: sha(f"{seed}:{u}"))[:6]
    assert differs > 0  # the weights changed the order for at least one of these seeds


class FakeHashlib:
    """A stand-in for hashlib inside the module whose digests are chosen by the test,
    to reach ties that SHA-256 would not produce."""

    def __init__(self, digests: dict[bytes, bytes]):
        self.digests = digests

    def sha256(self, data: bytes = b""):
        value = self.digests.get(bytes(data)) or hashlib.sha256(data).digest()
        return types.SimpleNamespace(digest=lambda: value, hexdigest=lambda: value.hex())


def _digest(u_minus_one: int, tail: int = 0) -> bytes:
    return u_minus_one.to_bytes(8, "big") + tail.to_bytes(24, "big")


def test_u_is_the_first_eight_bytes_plus_one(monkeypatch):
    # a: u = 0 + 1 = 1, weight 1, key 1 × 3 = 3; b: u = 1 + 1 = 2, weight 3, key 2 × 1 = 2.
    # Without the + 1, a's key would be 0 and a would come first whatever the weights.
    fake = FakeHashlib({f"{SEED}:a".encode(): _digest(0), f"{SEED}:b".encode(): _digest(1)})
    monkeypatch.setattr(draw, "hashlib", fake)
    frame = frame_of([entity("a", weight=1), entity("b", weight=3)], strata=[("s", 5000)])
    selected, _ = draw.select(SEED, frame)
    assert [s.uscc for s in selected] == ["b"]


def test_equal_keys_are_ordered_by_the_full_digest_then_by_frame_position(monkeypatch):
    # b (u = 5, w = 1) and a (u = 10, w = 2) have the same key 10 with L = 2; a tie by
    # digest puts b (smaller digest) first although a comes first in the frame.
    # c and d have the very same digest: the frame position decides.
    fake = FakeHashlib({f"{SEED}:a".encode(): _digest(9), f"{SEED}:b".encode(): _digest(4),
                        f"{SEED}:c".encode(): _digest(7, 1), f"{SEED}:d".encode(): _digest(7, 1)})
    monkeypatch.setattr(draw, "hashlib", fake)
    frame = frame_of([entity("a", weight=2), entity("b", weight=1)], strata=[("s", 10_000)])
    assert [s.uscc for s in draw.select(SEED, frame)[0]] == ["b", "a"]
    for order in (["c", "d"], ["d", "c"]):
        frame = frame_of([entity(u) for u in order], strata=[("s", 10_000)])
        assert [s.uscc for s in draw.select(SEED, frame)[0]] == order
        frame = frame_of([entity(u, weight=2) for u in order] + [entity("z", weight=3)],
                         strata=[("s", 10_000)])
        assert [s.uscc for s in draw.select(SEED, frame)[0]][:2] == order


def test_selection_lists_strata_in_frame_order_then_by_rank_with_all_counts():
    entities = ([entity(f"A{i}", stratum="a") for i in range(6)]
                + [entity(f"B{i}", stratum="b", weight=1 + i % 3) for i in range(9)]
                + [entity("C0", stratum="c")])
    random.Random(1).shuffle(entities)
    frame = frame_of(entities, strata=[("b", 3000), ("a", 5000), ("c", 0), ("empty", 100)])
    selected, counts = draw.select(SEED, frame)
    assert [(s.stratum, s.rank) for s in selected] == [("b", 1), ("b", 2), ("b", 3),
                                                        ("a", 1), ("a", 2), ("a", 3)]
    assert counts == [
        {"drawn": 3, "population": 9, "ratio_bp": 3000, "stratum": "b"},
        {"drawn": 3, "population": 6, "ratio_bp": 5000, "stratum": "a"},
        {"drawn": 0, "population": 1, "ratio_bp": 0, "stratum": "c"},
        {"drawn": 0, "population": 0, "ratio_bp": 100, "stratum": "empty"}]
    for s in selected:
        assert s.ticket == sha(f"{SEED}:{s.uscc}").hex()


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f["strata"].append({"key": "s", "ratio_bp": 1}), "occurs twice"),
    (lambda f: f["strata"][0].update(ratio_bp=10_001), "outside 0–10000"),
    (lambda f: f["strata"][0].update(ratio_bp=-1), "outside 0–10000"),
    (lambda f: f["strata"][0].update(ratio_bp="100"), "expected int"),
    (lambda f: f["entities"][1].update(weight=0), "positive integer"),
    (lambda f: f["entities"][1].update(weight=True), "expected int"),
    (lambda f: f["entities"][1].update(weight="2"), "expected int"),
    (lambda f: f["entities"][1].update(stratum="t"), "is not one of frame.strata"),
    (lambda f: f["entities"][1].pop("uscc"), "frame.entities[1].uscc: missing"),
    (lambda f: f["entities"].append("E9"), "expected an object"),
    (lambda f: f["entities"][1].update(uscc="E0"), "E0 occurs twice"),
    (lambda f: f["excluded"].append({"uscc": "E0", "reason": "x"}), "also in the frame"),
    (lambda f: f["excluded"].append({"uscc": "X"}), "reason: missing"),
])
def test_an_invalid_frame_is_refused(change, message):
    frame = frame_of([entity(f"E{i}") for i in range(3)])
    change(frame)
    with pytest.raises(BundleError, match=re.escape(message)):
        draw.select(SEED, frame)


# --- §6 inspector teams -------------------------------------------------------------------------

def test_firms_are_served_in_ascending_ticket_order():
    usccs = [f"E{i}" for i in range(6)]
    frame = frame_of([entity(u) for u in usccs])
    pool = pool_of([inspector("X")], cap=1)  # one visit left: the smallest ticket gets it
    first = min(usccs, key=lambda u: sha(f"{SEED}:{u}"))
    report = failures(SEED, frame, pool)
    assert sorted(f["uscc"] for f in report) == sorted(set(usccs) - {first})
    assert [f["uscc"] for f in report] == sorted(set(usccs) - {first},
                                                 key=lambda u: sha(f"{SEED}:{u}"))


def test_slots_take_each_department_once_then_the_first_until_team_size():
    pool = pool_of([inspector(f"{d}{i}", department=d) for d in "ABC" for i in range(5)],
                   team_size=4)
    frame = frame_of([entity("F", departments=["B", "A"])])
    assert [b[0] for b in teams(SEED, frame, pool)["F"]] == ["B", "A", "B", "B"]
    pool["team_size"] = 2
    frame = frame_of([entity("F", departments=["C", "A", "B"])])
    assert [b[0] for b in teams(SEED, frame, pool)["F"]] == ["C", "A", "B"]
    frame = frame_of([entity("F", departments=["A"])])
    team = teams(SEED, frame, pool)["F"]
    assert [b[0] for b in team] == ["A", "A"] and len(set(team)) == 2
    pool["team_size"] = 1
    frame = frame_of([entity("F", departments=["C", "C"])])  # listed twice: two slots
    assert [b[0] for b in teams(SEED, frame, pool)["F"]] == ["C", "C"]


def test_eligible_inspectors_belong_to_the_department_and_cover_the_division():
    pool = pool_of([inspector("P1", jurisdiction="610112"), inspector("P2", department="h"),
                    inspector("P3", jurisdiction="61011"), inspector("P4", jurisdiction="6103"),
                    inspector("P5", jurisdiction="610113")])
    frame = frame_of([entity("F", division="610113")])
    assert teams(SEED, frame, pool) == {"F": ["P3"]} or teams(SEED, frame, pool) == {"F": ["P5"]}
    pool["inspectors"] = [p for p in pool["inspectors"] if p["badge"] != "P3"]
    assert teams(SEED, frame, pool) == {"F": ["P5"]}
    pool["inspectors"].append(inspector("P0", jurisdiction=""))  # "" covers everything
    frame = frame_of([entity("F", division="610802")])
    assert teams(SEED, frame, pool) == {"F": ["P0"]}


@pytest.mark.parametrize(("firm", "pool_change", "reason"), [
    ({}, {"conflicts": [{"badge": "B", "uscc": "F"}]}, "conflict_declared"),
    ({"previous": ["B"]}, {}, "on_previous_visit"),
    ({"requires": ["pressure", "electrical"]}, {}, "lacks_qualification"),
    ({}, {"load_b": 3}, "at_workload_cap"),
])
def test_each_rule_removes_an_inspector(firm, pool_change, reason):
    # A holds both qualifications; B only "pressure"; cap 3.
    inspectors = [inspector("A", qualifications=["electrical", "pressure"]),
                  inspector("B", qualifications=["pressure"], load=pool_change.get("load_b", 2))]
    pool = pool_of(inspectors, cap=3, team_size=1)
    pool["conflicts"] = pool_change.get("conflicts", [])
    frame = frame_of([entity("F", **firm)])
    # With only A and B in jurisdiction, the rule leaves A for every seed.
    for i in range(8):
        seed = hashlib.sha256(f"r{i}".encode()).hexdigest()
        assert teams(seed, frame, pool) == {"F": ["A"]}
    pool["inspectors"] = [inspectors[1]]
    [report] = failures(SEED, frame, pool)
    assert report[reason] == 1 and report["in_jurisdiction"] == 1
    assert sum(report[r] for r in REASONS) == 1


def test_an_inspector_below_the_cap_is_eligible_and_one_at_it_is_not():
    frame = frame_of([entity("F")])
    assert teams(SEED, frame, pool_of([inspector("A", load=2)], cap=3)) == {"F": ["A"]}
    assert failures(SEED, frame, pool_of([inspector("A", load=3)], cap=3))[0][
        "at_workload_cap"] == 1


def test_the_pick_is_sha256_of_seed_uscc_slot_mod_the_eligible_in_badge_order():
    badges = ["B07", "A10", "a01", "B2", "Z", "C3", "A9"]
    eligible = sorted(badges)  # A10 A9 B07 B2 C3 Z a01: by code point, not numerically
    frame = frame_of([entity(f"F{i}") for i in range(10)])
    inspectors = [inspector(b) for b in badges]
    for order in (inspectors, inspectors[::-1]):  # the pool's order does not matter
        result = teams(SEED, frame, pool_of(order, cap=10**6))
        for uscc, team in result.items():
            h = int.from_bytes(sha(f"{SEED}:{uscc}:0"), "big")
            assert h == int(hashlib.sha256(f"{SEED}:{uscc}:0".encode()).hexdigest(), 16)
            assert team == [eligible[h % len(eligible)]]
            assert draw.slot_pick(SEED, uscc, 0, len(eligible)) == h % len(eligible)


def test_second_slot_picks_among_the_rest_with_its_own_hash():
    badges = [f"P{i}" for i in range(5)]
    frame = frame_of([entity(f"F{i}") for i in range(10)])
    result = teams(SEED, frame, pool_of([inspector(b) for b in badges], team_size=2, cap=10**6))
    for uscc, (first, second) in result.items():
        assert first == badges[int.from_bytes(sha(f"{SEED}:{uscc}:0"), "big") % 5]
        rest = [b for b in badges if b != first]
        assert second == rest[int.from_bytes(sha(f"{SEED}:{uscc}:1"), "big") % 4]


def test_loads_grow_with_each_pick_across_firms():
    frame = frame_of([entity(f"F{i}") for i in range(4)])
    pool = pool_of([inspector("A", load=1), inspector("B"), inspector("C", load=2)], cap=2)
    # capacity: A 1, B 2, C 0 = 3 visits for 4 firms, in ticket order.
    order = sorted((f"F{i}" for i in range(4)), key=lambda u: sha(f"{SEED}:{u}"))
    report = failures(SEED, frame, pool)
    assert [f["uscc"] for f in report] == [order[3]]
    assert report[0]["at_workload_cap"] == 3
    pool["workload_cap"] = 3  # now capacity 2 + 3 + 1 = 6
    result = teams(SEED, frame, pool)
    picks = [b for team in result.values() for b in team]
    assert picks.count("A") <= 2 and picks.count("B") <= 3 and picks.count("C") <= 1


def test_the_failure_report_names_each_firm_slot_and_the_counts_per_reason():
    inspectors = [inspector("P1", qualifications=["q"]), inspector("P2", qualifications=["q"]),
                  inspector("P3", qualifications=["q"]), inspector("P4"),
                  inspector("P5", qualifications=["q"], load=4),
                  inspector("P9", jurisdiction="6103", qualifications=["q"])]
    pool = pool_of(inspectors, team_size=2, cap=4, conflicts=[("P2", "F")])
    frame = frame_of([entity("F", requires=["q"], previous=["P3"]),
                      entity("G", division="610331", departments=["food", "m"])])
    with pytest.raises(AssignmentError) as caught:
        draw.draw(SEED, frame, pool)
    assert str(caught.value) == "2 firms cannot be given a full inspector team"
    expected = [
        # F: slot 0 takes P1, the only eligible one; slot 1 has nobody left.
        {"uscc": "F", "slot": 1, "department": "m", "in_jurisdiction": 5, "requires": ["q"],
         "already_in_team": 1, "conflict_declared": 1, "on_previous_visit": 1,
         "lacks_qualification": 1, "at_workload_cap": 1},
        # G: nobody of department "food" at all; the firm's later slots are skipped.
        {"uscc": "G", "slot": 0, "department": "food", "in_jurisdiction": 0, "requires": [],
         "already_in_team": 0, "conflict_declared": 0, "on_previous_visit": 0,
         "lacks_qualification": 0, "at_workload_cap": 0},
    ]
    assert sorted(caught.value.failures, key=lambda f: sha(f"{SEED}:{f['uscc']}")) == \
        sorted(expected, key=lambda f: sha(f"{SEED}:{f['uscc']}"))


def test_a_reason_is_counted_once_under_the_first_that_applies():
    # P2 has a conflict, was on the previous visit, lacks the qualification and is at the cap.
    pool = pool_of([inspector("P2", load=1)], cap=1, conflicts=[("P2", "F")])
    frame = frame_of([entity("F", requires=["q"], previous=["P2"])])
    [report] = failures(SEED, frame, pool)
    assert [report[r] for r in REASONS] == [0, 1, 0, 0, 0]


@pytest.mark.parametrize(("change", "message"), [
    (lambda p, f: p.update(team_size=0), "must be positive"),
    (lambda p, f: p.update(workload_cap=0), "must be positive"),
    (lambda p, f: p["inspectors"].append(inspector("A")), "A occurs twice"),
    (lambda p, f: p["inspectors"][0].pop("jurisdiction"), "jurisdiction: missing"),
    (lambda p, f: p["inspectors"][0].update(load="0"), "load: expected int"),
    (lambda p, f: p["conflicts"].append({"badge": "A"}), "uscc: missing"),
    (lambda p, f: f["entities"][0].update(departments=[]), "needs a department"),
    (lambda p, f: f["entities"][0].update(division=610113), "division: expected str"),
])
def test_an_invalid_pool_or_firm_is_refused(change, message):
    pool, frame = pool_of([inspector("A")]), frame_of([entity("F")])
    change(pool, frame)
    with pytest.raises(BundleError, match=re.escape(message)):
        draw.draw(SEED, frame, pool)


# --- properties ---------------------------------------------------------------------------------

usccs = st.lists(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=1, max_size=18),
                 unique=True, max_size=40)
seeds = st.binary(min_size=32, max_size=32).map(bytes.hex)


@st.composite
def frames(draw_):
    strata = draw_(st.lists(st.tuples(st.sampled_from("abcd"), st.integers(0, 10_000)),
                            min_size=1, max_size=4, unique_by=lambda s: s[0]))
    codes = draw_(usccs)
    entities = [entity(u, stratum=draw_(st.sampled_from([k for k, _ in strata])),
                       weight=draw_(st.integers(1, 6))) for u in codes]
    return frame_of(entities, strata=strata)


GENEROUS_POOL = pool_of([inspector(f"P{i}", jurisdiction="") for i in range(4)], team_size=2,
                        cap=10**6)


@settings(max_examples=150, deadline=None)
@given(frames(), seeds)
def test_each_stratum_draws_ceil_n_times_ratio_of_its_own_members(frame, seed):
    selected, counts = draw.select(seed, frame)
    for stratum, count in zip(frame["strata"], counts, strict=True):
        members = {e["uscc"] for e in frame["entities"] if e["stratum"] == stratum["key"]}
        n = math.ceil(len(members) * stratum["ratio_bp"] / 10_000)
        assert count == {"drawn": n, "population": len(members),
                         "ratio_bp": stratum["ratio_bp"], "stratum": stratum["key"]}
        mine = [s for s in selected if s.stratum == stratum["key"]]
        assert len(mine) == n
        assert {s.uscc for s in mine} <= members
        assert [s.rank for s in mine] == list(range(1, n + 1))
    assert len({s.uscc for s in selected}) == len(selected)


@settings(max_examples=100, deadline=None)
@given(frames(), seeds)
def test_the_same_seed_gives_the_same_result(frame, seed):
    first = draw.draw(seed, frame, GENEROUS_POOL)
    assert draw.draw(seed, copy.deepcopy(frame), copy.deepcopy(GENEROUS_POOL)) == first


@settings(max_examples=100, deadline=None)
@given(frames(), seeds, st.randoms(use_true_random=False))
def test_the_order_of_the_frame_and_the_pool_does_not_change_the_result(frame, seed, rnd):
    expected = draw.draw(seed, frame, GENEROUS_POOL)
    shuffled, pool = copy.deepcopy(frame), copy.deepcopy(GENEROUS_POOL)
    rnd.shuffle(shuffled["entities"])
    rnd.shuffle(pool["inspectors"])
    assert draw.draw(seed, shuffled, pool) == expected


@settings(max_examples=100, deadline=None)
@given(frames(), seeds, st.data())
def test_a_heavier_weight_never_loses_a_selection(frame, seed, data):
    if not frame["entities"]:
        return
    i = data.draw(st.integers(0, len(frame["entities"]) - 1))
    uscc = frame["entities"][i]["uscc"]
    before = {s.uscc for s in draw.select(seed, frame)[0]}
    heavier = copy.deepcopy(frame)
    heavier["entities"][i]["weight"] += data.draw(st.integers(1, 10))
    after = {s.uscc for s in draw.select(seed, heavier)[0]}
    assert uscc not in before or uscc in after


def test_a_heavier_firm_is_drawn_at_least_as_often_over_many_seeds():
    """Deterministic: 400 fixed seeds, one stratum of 20 firms, 2 drawn; firm E00 with
    weight 1 and then 4."""
    counts = {}
    for weight in (1, 4):
        entities = [entity("E00", weight=weight)] + [entity(f"E{i:02d}") for i in range(1, 20)]
        frame = frame_of(entities, strata=[("s", 1000)])
        drawn = [any(s.uscc == "E00" for s in draw.select(
            hashlib.sha256(f"seed {k}".encode()).hexdigest(), frame)[0]) for k in range(400)]
        counts[weight] = drawn
    assert all(heavy for light, heavy in zip(counts[1], counts[4], strict=True) if light)
    assert sum(counts[4]) > 2 * sum(counts[1])  # about 34 % against 10 %
    assert 20 <= sum(counts[1]) <= 65


# --- §7 verification ----------------------------------------------------------------------------

def test_a_good_bundle_verifies():
    bundle = bundle_of(frame_of([entity(f"E{i}") for i in range(10)], strata=[("s", 3000)]),
                       pool_of([inspector(f"P{i}") for i in range(4)], team_size=2))
    checks = draw.verify_bundle(bundle)
    assert [c.name for c in checks] == [
        "format", "commitment.format", "commitment.plan", "commitment.frame", "commitment.pool",
        "commitment.sha256", "seed", "seed entered after the commitment", "result.counts",
        "result.selected"]
    assert all(c.ok for c in checks)


@pytest.mark.parametrize("name", ["example-basic", "example-joint"])
def test_the_example_bundles_verify(name):
    out = io.StringIO()
    assert draw.main([str(DATA / f"{name}.json")], out=out) == 0
    lines = out.getvalue().splitlines()
    n = len(load_example(name)["result"]["selected"])
    assert lines == ["OK   format", "OK   commitment.format", "OK   commitment.plan", "OK   commitment.frame",
                     "OK   commitment.pool", "OK   commitment.sha256", "OK   seed",
                     "OK   seed entered after the commitment", "OK   result.counts",
                     "OK   result.selected",
                     f"draw verified: {n} firms and their teams recomputed and equal"]


def test_the_failed_example_verifies_as_a_failed_draw():
    checks = by_name(draw.verify_bundle(load_example("example-failure")))
    assert all(c.ok for name, c in checks.items() if name != "result")
    assert not checks["result"].ok
    assert checks["result"].detail == (
        "the recomputed draw fails: 2 firms cannot be given a full inspector team")


def _good():
    return load_example("example-basic")


def test_an_edited_frame_entity_fails_the_frame_commitment():
    bundle = _good()
    bundle["frame"]["entities"][3]["weight"] = 2
    checks = by_name(draw.verify_bundle(bundle))
    assert not checks["commitment.frame"].ok
    assert checks["commitment.frame"].detail.startswith(
        f"published {bundle['commitment']['frame']}, recomputed ")
    assert checks["commitment.plan"].ok and checks["commitment.pool"].ok
    assert not checks["commitment.sha256"].ok and not checks["seed"].ok


def test_an_edited_selection_fails_the_selected_check():
    bundle = _good()
    bundle["result"]["selected"][2]["inspectors"].reverse()
    checks = by_name(draw.verify_bundle(bundle))
    assert [name for name, c in checks.items() if not c.ok] == ["result.selected"]
    assert checks["result.selected"].detail.startswith("item 2: published ")


def test_a_swapped_firm_fails_the_selected_check():
    bundle = _good()
    unselected = {e["uscc"] for e in bundle["frame"]["entities"]} - {
        s["uscc"] for s in bundle["result"]["selected"]}
    bundle["result"]["selected"][0]["uscc"] = sorted(unselected)[0]
    assert [c.name for c in draw.verify_bundle(bundle) if not c.ok] == ["result.selected"]


@pytest.mark.parametrize("entered_at", ["2026-03-31T09:00:00+08:00", PUBLISHED_AT,
                                        "2026-04-01T01:00:00Z"])  # = 09:00 in Beijing
def test_a_seed_entered_before_or_at_the_commitment_fails(entered_at):
    bundle = _good()
    bundle["seed"]["entered_at"] = entered_at
    checks = draw.verify_bundle(bundle)
    assert [c.name for c in checks if not c.ok] == ["seed entered after the commitment"]


def test_times_are_compared_as_instants():
    bundle = _good()
    bundle["seed"]["entered_at"] = "2026-04-01T01:00:01Z"  # one second after 09:00 +08:00
    assert all(c.ok for c in draw.verify_bundle(bundle))


def test_a_changed_dice_fails_the_seed_and_the_result():
    bundle = _good()
    bundle["seed"]["dice"] = bundle["seed"]["dice"].replace("4", "5", 1)
    failed = [c.name for c in draw.verify_bundle(bundle) if not c.ok]
    assert failed[0] == "seed"
    assert failed[1:] in (["result"], ["result.selected"])  # a new seed: another draw


@pytest.mark.parametrize(("change", "message"), [
    (lambda b: b.pop("seed"), "bundle.seed: missing"),
    (lambda b: b["commitment"].update(published_at="2026-04-01T09:00:00"), "has no time zone"),
    (lambda b: b["seed"].update(entered_at="3 April"), "is not an ISO 8601 time"),
    (lambda b: b.update(result=[]), "bundle.result: expected dict"),
])
def test_a_malformed_bundle_fails_with_a_named_member(change, message):
    bundle = _good()
    change(bundle)
    checks = draw.verify_bundle(bundle)
    assert checks[-1].name == "bundle" and not checks[-1].ok
    assert message in checks[-1].detail


def test_a_wrong_format_stops_at_the_first_check():
    bundle = _good()
    bundle["format"] = "zhijian-draw/2"
    assert [(c.name, c.ok) for c in draw.verify_bundle(bundle)] == [("format", False)]


def test_floats_are_refused_when_reading(tmp_path):
    text = (DATA / "example-basic.json").read_text(encoding="utf-8")
    path = tmp_path / "bundle.json"
    path.write_text(text.replace('"ratio_bp": 4000', '"ratio_bp": 4000.0'), encoding="utf-8")
    with pytest.raises(BundleError, match="integers"):
        draw.loads(path.read_text(encoding="utf-8"))
    out = io.StringIO()
    assert draw.main([str(path)], out=out) == 2
    assert out.getvalue().startswith(f"cannot read {path}: 4000.0: numbers in a bundle")


def test_the_command_line_usage_and_unreadable_input(tmp_path):
    from zhijian import verify

    assert verify.main(["draw"]) == 2
    assert verify.main(["audit", "x.json"]) == 2
    out = io.StringIO()
    assert draw.main([str(tmp_path / "missing.json")], out=out) == 2
    (tmp_path / "list.json").write_text("[]")
    out = io.StringIO()
    assert draw.main([str(tmp_path / "list.json")], out=out) == 2
    assert out.getvalue() == "the bundle is not a JSON object\n"


# --- the verifier without Django ----------------------------------------------------------------

VERIFIER_FILES = ("zhijian/__init__.py", "zhijian/verify.py", "zhijian/inspections/__init__.py",
                  "zhijian/inspections/draw.py")


def _run(args, cwd, stdin=None):
    # -S: no site module, so no site-packages (Django lives there); -E: no PYTHON* variables.
    return subprocess.run([sys.executable, "-S", "-E", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})


def test_without_site_packages_django_cannot_be_imported(tmp_path):
    proc = _run(["-c", "import django"], cwd=tmp_path)
    assert proc.returncode == 1 and "No module named 'django'" in proc.stderr


def test_the_verifier_runs_from_four_files_without_django(tmp_path):
    for name in VERIFIER_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(DATA / "example-basic.json", tmp_path / "bundle.json")
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.py")) == sorted(
        VERIFIER_FILES)

    proc = _run(["-m", "zhijian.verify", "draw", "bundle.json"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == (
        "draw verified: 6 firms and their teams recomputed and equal")
    assert proc.stdout.count("OK   ") == 10 and "FAIL" not in proc.stdout

    guard = ("import sys\n"
             "from zhijian.verify import main\n"
             "rc = main(['draw', 'bundle.json'])\n"
             "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)\n"
             "sys.exit(rc)\n")
    assert _run(["-c", guard], cwd=tmp_path).returncode == 0

    bundle = json.loads((tmp_path / "bundle.json").read_text(encoding="utf-8"))
    bundle["result"]["selected"][0]["inspectors"] = ["M02", "M01"]
    (tmp_path / "tampered.json").write_text(json.dumps(bundle, ensure_ascii=False),
                                            encoding="utf-8")
    proc = _run(["-m", "zhijian.verify", "draw", "tampered.json"], cwd=tmp_path)
    assert proc.returncode == 1
    assert "FAIL result.selected: item 0: published" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "draw NOT verified"


def test_the_single_file_draw_py_verifies_a_bundle(tmp_path):
    shutil.copy(ROOT / "zhijian/inspections/draw.py", tmp_path / "draw.py")
    shutil.copy(DATA / "example-joint.json", tmp_path / "bundle.json")
    proc = _run(["draw.py", "bundle.json"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == (
        "draw verified: 3 firms and their teams recomputed and equal")
    text = (tmp_path / "bundle.json").read_text(encoding="utf-8")
    proc = _run(["draw.py", "-"], cwd=tmp_path, stdin=text)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- the document and its worked examples -------------------------------------------------------

@pytest.mark.parametrize("name", examples.NAMES)
def test_the_example_files_are_what_the_builder_makes(name):
    bundle = examples.build(name)
    assert (DATA / f"{name}.json").read_text(encoding="utf-8") == examples.file_text(bundle), (
        "run `python tests/inspections/data/examples.py` and review the change to the spec")


@pytest.mark.parametrize("name", examples.NAMES)
def test_the_step_by_step_trace_of_the_spec_ends_with_the_modules_result(name):
    bundle = load_example(name)
    trace = examples.trace(bundle)
    assert trace["commitment"] == bundle["commitment"]["sha256"]
    assert trace["seed"] == bundle["seed"]["sha256"]
    if trace["failures"]:
        assert "result" not in bundle
        assert failures(trace["seed"], bundle["frame"], bundle["pool"]) == trace["failures"]
    else:
        assert draw.draw(trace["seed"], bundle["frame"], bundle["pool"]) == trace["result"]
        assert bundle["result"] == trace["result"]


@pytest.mark.parametrize("name", examples.NAMES)
def test_the_numbers_printed_in_the_spec_are_the_modules(name):
    """The generated blocks of §9 are what the examples give today; if this fails, run
    `python tests/inspections/data/examples.py` and review the change to the document."""
    block = examples.doc_block(DOC.read_text(encoding="utf-8"), name)
    assert block == examples.render(name, load_example(name))


def test_every_section_the_module_cites_exists_in_the_spec():
    source = (ROOT / "zhijian/inspections/draw.py").read_text(encoding="utf-8")
    cited = set(re.findall(r"§(\d+(?:\.\d+)?)", source))
    headings = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", DOC.read_text(encoding="utf-8"),
                              flags=re.MULTILINE))
    assert cited and cited <= headings
    assert {"1", "2", "3", "4", "5", "6", "6.3", "6.4", "7", "8", "9"} <= headings
