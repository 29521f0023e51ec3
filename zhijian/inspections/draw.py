"""The verifiable random-inspection draw (双随机): targets and inspectors.

Pure Python with the standard library only, so that anyone can run it on a published
bundle: `python -m zhijian.verify draw bundle.json`, or this file alone,
`python draw.py bundle.json`. The specification, precise enough to reimplement in
another language, with worked examples, is docs/draw-algorithm.md; the section numbers
below (§) refer to it.

A bundle is one JSON object:

    format      "zhijian-draw/1"
    plan        what is inspected and why (hashed, not used by the computation)
    frame       the frozen target register: strata with their ratios, entities, exclusions
    pool        the frozen inspector pool: inspectors, declared conflicts, team size, cap
    commitment  the SHA-256 of plan, frame and pool, published before the seed exists
    seed        the public inputs (dice, beacon) entered after the commitment, and the seed
    result      the selection and the inspector teams

Only integers, strings, booleans, null, lists and objects occur, so RFC 8785 canonical
JSON is Python's json.dumps with sorted keys and no spaces (§2).
"""

from __future__ import annotations

import gc
import hashlib
import heapq
import json
import math
import sys
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime

FORMAT = "zhijian-draw/1"
BASIS_POINTS = 10_000


class BundleError(ValueError):
    """The bundle is malformed: a field is missing, has the wrong type, or is inconsistent."""


class AssignmentError(Exception):
    """Some selected firms cannot be given a full inspector team; nothing is drawn.

    `failures` lists, per firm, which slot could not be filled and why (§6.4)."""

    def __init__(self, failures: list[dict]):
        self.failures = failures
        super().__init__(f"{len(failures)} firms cannot be given a full inspector team")


# --- §2 canonical JSON and hashes ---------------------------------------------------------------

def _reject_float(text: str):
    raise BundleError(f"{text}: numbers in a bundle are integers (ratios in basis points)")


def _safe_int(text: str) -> int:
    value = int(text)
    if abs(value) > 2**53 - 1:
        raise BundleError(f"{text}: integer outside ±(2^53−1)")
    return value


def _object(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise BundleError(f"a member name occurs twice in one object: {sorted(obj)}")
    for name in obj:
        if not name.isascii():
            raise BundleError(f"{name!r}: member names are ASCII")
    return obj


def loads(text: str | bytes):
    """Parse a bundle: JSON whose numbers are integers within ±(2^53−1) and whose objects
    have distinct ASCII member names (§2); anything else is refused, not guessed at."""
    return json.loads(text, parse_float=_reject_float, parse_int=_safe_int,
                      parse_constant=_reject_float, object_pairs_hook=_object)


def canonical(value) -> bytes:
    """RFC 8785 canonical JSON of a value made of integers, strings, booleans, null, lists
    and objects with ASCII keys: for these, sorted keys and no whitespace is the whole rule.
    (Bundles are read with `loads`, which refuses anything else.)"""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                      allow_nan=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(value) -> str:
    """SHA-256 (lowercase hex) of the canonical JSON of `value`."""
    return sha256_hex(canonical(value))


# --- §3 commitment and §4 seed ------------------------------------------------------------------

def commitment(plan: dict, frame: dict, pool: dict) -> dict:
    """The hashes published when the plan is published, before any seed exists."""
    parts = {"format": FORMAT, "plan": digest(plan), "frame": digest(frame), "pool": digest(pool)}
    return {**parts, "sha256": digest(parts)}


def seed_digest(commitment_sha256: str, dice: str, beacon: str) -> str:
    """The seed: SHA-256 of the commitment with the public inputs entered after it."""
    return digest({"beacon": beacon, "commitment": commitment_sha256, "dice": dice})


# --- §5 selection of targets --------------------------------------------------------------------

@dataclass(frozen=True)
class Stratum:
    key: str
    ratio_bp: int

    def sample_size(self, population: int) -> int:
        """ceil(population × ratio): a ratio above zero draws at least one firm."""
        return (population * self.ratio_bp + BASIS_POINTS - 1) // BASIS_POINTS


@dataclass
class Selected:
    uscc: str
    stratum: str
    rank: int
    ticket: str
    inspectors: list[str] = field(default_factory=list)
    index: int = -1  # position in frame.entities (not part of the result)

    def as_json(self) -> dict:
        return {"inspectors": self.inspectors, "rank": self.rank, "stratum": self.stratum,
                "ticket": self.ticket, "uscc": self.uscc}


def ticket(seed: str, uscc: str) -> str:
    """An entity's ticket: SHA-256 of "<seed>:<uscc>" (consistent sampling)."""
    return sha256_hex(f"{seed}:{uscc}".encode())


def _strata(frame: dict) -> list[Stratum]:
    strata = []
    for i, s in enumerate(_field(frame, "strata", list, "frame")):
        key = _field(s, "key", str, f"frame.strata[{i}]")
        ratio = _field(s, "ratio_bp", int, f"frame.strata[{i}]")
        if not 0 <= ratio <= BASIS_POINTS:
            raise BundleError(f"frame.strata[{i}].ratio_bp: {ratio} is outside 0–10000")
        strata.append(Stratum(key, ratio))
    keys = [s.key for s in strata]
    if len(set(keys)) != len(keys):
        raise BundleError("frame.strata: a stratum key occurs twice")
    return strata


def select(seed: str, frame: dict) -> tuple[list[Selected], list[dict]]:
    """Draw each stratum's sample: the n entities with the smallest u × (L / w) (§5).

    Returns the selection (strata in frame order, each by rank) and per-stratum counts."""
    strata = _strata(frame)
    members: dict[str, tuple[list[str], list[int], list[int]]] = {
        s.key: ([], [], []) for s in strata}
    entities = _field(frame, "entities", list, "frame")
    for i, e in enumerate(entities):  # the hot loop of a million: plain indexing, no helpers
        try:
            uscc, stratum, weight = e["uscc"], e["stratum"], e["weight"]
            usccs, weights, positions = members[stratum]
        except (KeyError, TypeError):
            raise _entity_error(e, i, members) from None
        if type(uscc) is not str or type(weight) is not int or weight < 1:
            raise _entity_error(e, i, members)
        usccs.append(uscc)
        weights.append(weight)
        positions.append(i)
    in_frame = {e["uscc"] for e in entities}
    if len(in_frame) != len(entities):
        seen: set[str] = set()
        for i, e in enumerate(entities):
            if e["uscc"] in seen:
                raise BundleError(f"frame.entities[{i}].uscc: {e['uscc']} occurs twice")
            seen.add(e["uscc"])
    for i, x in enumerate(_field(frame, "excluded", list, "frame")):
        uscc = _field(x, "uscc", str, f"frame.excluded[{i}]")
        _field(x, "reason", str, f"frame.excluded[{i}]")
        if uscc in in_frame:
            raise BundleError(f"frame.excluded[{i}]: {uscc} is excluded but also in the frame")

    prefix, sha256 = f"{seed}:".encode(), hashlib.sha256
    selected: list[Selected] = []
    counts: list[dict] = []
    for stratum in strata:
        usccs, weights, positions = members[stratum.key]
        n = stratum.sample_size(len(usccs))
        counts.append({"drawn": n, "population": len(usccs), "ratio_bp": stratum.ratio_bp,
                       "stratum": stratum.key})
        if n == 0:
            continue
        digests = [sha256(prefix + u.encode()).digest() for u in usccs]
        distinct = set(weights)
        if len(distinct) == 1:
            # Equal weights: u × L / w orders as u, and u then the digest as the digest.
            order = heapq.nsmallest(n, zip(digests, range(len(usccs)), strict=True))
        else:
            lcm = math.lcm(*distinct)
            if lcm.bit_length() <= 64:
                order = [(d, j) for _, d, j in heapq.nsmallest(n, (
                    ((int.from_bytes(d[:8], "big") + 1) * (lcm // w), d, j)
                    for j, (d, w) in enumerate(zip(digests, weights, strict=True))))]
            else:  # the same order, u_a × w_b against u_b × w_a, without a huge L
                order = [(d, j) for d, j, _ in heapq.nsmallest(n, (
                    (d, j, w) for j, (d, w) in enumerate(zip(digests, weights, strict=True))),
                    key=_WeightedKey)]
        for rank, (d, j) in enumerate(order, start=1):
            selected.append(Selected(usccs[j], stratum.key, rank, d.hex(), index=positions[j]))
    return selected, counts


class _WeightedKey:
    """Orders (digest, position, weight) by u / w exactly, then digest, then position."""

    __slots__ = ("d", "j", "u", "w")

    def __init__(self, item):
        self.d, self.j, self.w = item
        self.u = int.from_bytes(self.d[:8], "big") + 1

    def __lt__(self, other) -> bool:
        a, b = self.u * other.w, other.u * self.w
        return a < b if a != b else (self.d, self.j) < (other.d, other.j)


def _entity_error(e, i: int, members: dict) -> BundleError:
    where = f"frame.entities[{i}]"
    if not isinstance(e, dict):
        return BundleError(f"{where}: expected an object")
    for name, kind in (("uscc", str), ("stratum", str), ("weight", int)):
        _field(e, name, kind, where)
    if e["weight"] < 1:
        return BundleError(f"{where}.weight: must be a positive integer")
    return BundleError(f"{where}.stratum: {e['stratum']!r} is not one of frame.strata")


# --- §6 inspector teams -------------------------------------------------------------------------

@dataclass(frozen=True)
class Inspector:
    badge: str
    department: str
    jurisdiction: str
    qualifications: frozenset[str]
    load: int


def _pool(pool: dict) -> tuple[dict[str, Inspector], dict[str, set[str]], int, int]:
    team_size = _field(pool, "team_size", int, "pool")
    cap = _field(pool, "workload_cap", int, "pool")
    if team_size < 1 or cap < 1:
        raise BundleError("pool: team_size and workload_cap must be positive")
    inspectors: dict[str, Inspector] = {}
    for i, p in enumerate(_field(pool, "inspectors", list, "pool")):
        where = f"pool.inspectors[{i}]"
        badge = _field(p, "badge", str, where)
        if badge in inspectors:
            raise BundleError(f"{where}.badge: {badge} occurs twice in the pool")
        quals = _field(p, "qualifications", list, where)
        inspectors[badge] = Inspector(
            badge, _field(p, "department", str, where), _field(p, "jurisdiction", str, where),
            frozenset(quals), _field(p, "load", int, where))
    conflicts: dict[str, set[str]] = {}
    for i, c in enumerate(_field(pool, "conflicts", list, "pool")):
        badge = _field(c, "badge", str, f"pool.conflicts[{i}]")
        uscc = _field(c, "uscc", str, f"pool.conflicts[{i}]")
        conflicts.setdefault(uscc, set()).add(badge)
    return inspectors, conflicts, team_size, cap


def slot_pick(seed: str, uscc: str, slot: int, eligible: int) -> int:
    """Index of the inspector for a slot among the eligible, ordered by badge (§6.3)."""
    return int(sha256_hex(f"{seed}:{uscc}:{slot}".encode()), 16) % eligible


def assign(seed: str, frame: dict, pool: dict, selected: list[Selected]) -> None:
    """Give each selected firm its team, in ascending ticket order (§6). Fills
    `Selected.inspectors`; raises AssignmentError naming every firm that cannot be served."""
    failures = _teams(frame, pool, sorted(selected, key=lambda s: s.ticket), seed)
    if failures:
        raise AssignmentError(failures)


def feasibility(frame: dict, pool: dict) -> list[dict]:
    """Firms of the frame that no seed could staff, whatever the workloads: for each, the
    first slot without an eligible inspector and why (§6.4). Run before committing, so
    that a plan whose pool cannot serve its register is corrected, not drawn."""
    firms = [Selected(e["uscc"], e["stratum"], 0, "", index=i)
             for i, e in enumerate(_field(frame, "entities", list, "frame"))]
    return _teams(frame, pool, firms, seed=None)


def _teams(frame: dict, pool: dict, firms: list[Selected], seed: str | None) -> list[dict]:
    """The slot loop of §6. With `seed` None, a feasibility check: loads are ignored and
    the first eligible inspector stands in for the pick.

    For speed, each (department, division, required qualifications) keeps the badges,
    in badge order, of the inspectors who qualify and are below the cap; an inspector
    reaching the cap leaves every such list. The few inspectors barred from one firm (its
    team so far, declared conflicts, the previous visit) are skipped by position, so the
    k-th eligible inspector is found without rebuilding the list (§6.3 is unchanged)."""
    inspectors, conflicts, team_size, cap = _pool(pool)
    entities = frame["entities"]
    by_department: dict[str, list[Inspector]] = {}
    for p in sorted(inspectors.values(), key=lambda p: p.badge):
        by_department.setdefault(p.department, []).append(p)
    drawing = seed is not None
    load = {badge: p.load if drawing else 0 for badge, p in inspectors.items()}
    if not drawing:
        cap = 2**53
    available: dict[tuple, list[str]] = {}
    lists_of: dict[str, list[list[str]]] = {}
    failures: list[dict] = []

    for s in firms:
        firm = entities[s.index]
        where = f"frame.entities[{s.index}]"
        departments = _strings(_field(firm, "departments", list, where), where, "departments")
        if not departments:
            raise BundleError(f"{where}.departments: a firm needs a department")
        division = _field(firm, "division", str, where)
        requires = frozenset(_strings(_field(firm, "requires", list, where), where, "requires"))
        previous = _strings(_field(firm, "previous", list, where), where, "previous")
        barred = conflicts.get(s.uscc, set()).union(previous)
        slots = departments + [departments[0]] * max(0, team_size - len(departments))
        team: list[str] = []
        for slot, department in enumerate(slots):
            key = (department, division, requires)
            avail = available.get(key)
            if avail is None:
                avail = available[key] = [
                    p.badge for p in by_department.get(department, [])
                    if division.startswith(p.jurisdiction) and requires <= p.qualifications
                    and load[p.badge] < cap]
                for badge in avail:
                    lists_of.setdefault(badge, []).append(avail)
            skip = sorted(i for i in (_position(avail, b) for b in barred.union(team))
                          if i is not None)
            n = len(avail) - len(skip)
            if n == 0:
                candidates = [p for p in by_department.get(department, [])
                              if division.startswith(p.jurisdiction)]
                failures.append(_why(s.uscc, slot, department, candidates, team,
                                     conflicts.get(s.uscc, set()), set(previous), requires,
                                     load, cap))
                break
            k = slot_pick(seed, s.uscc, slot, n) if drawing else 0
            for i in skip:  # the k-th eligible: step over the barred positions before it
                if i <= k:
                    k += 1
                else:
                    break
            badge = avail[k]
            team.append(badge)
            load[badge] += 1
            if load[badge] >= cap:
                for members in lists_of.pop(badge, []):
                    del members[bisect_left(members, badge)]
        s.inspectors = team
    return failures


def _position(items: list[str], value: str) -> int | None:
    i = bisect_left(items, value)
    return i if i < len(items) and items[i] == value else None


def _strings(values: list, where: str, name: str) -> list[str]:
    if not all(type(v) is str for v in values):
        raise BundleError(f"{where}.{name}: expected a list of strings")
    return values


def _why(uscc, slot, department, candidates, team, barred, previous, requires, load, cap):
    """The counts behind an empty slot, each candidate counted under its first reason."""
    reasons = {"already_in_team": 0, "conflict_declared": 0, "on_previous_visit": 0,
               "lacks_qualification": 0, "at_workload_cap": 0}
    for p in candidates:
        if p.badge in team:
            reasons["already_in_team"] += 1
        elif p.badge in barred:
            reasons["conflict_declared"] += 1
        elif p.badge in previous:
            reasons["on_previous_visit"] += 1
        elif not requires <= p.qualifications:
            reasons["lacks_qualification"] += 1
        elif load[p.badge] >= cap:
            reasons["at_workload_cap"] += 1
    return {"uscc": uscc, "slot": slot, "department": department,
            "in_jurisdiction": len(candidates), "requires": sorted(requires), **reasons}


# --- the whole draw -----------------------------------------------------------------------------

def draw(seed: str, frame: dict, pool: dict) -> dict:
    """Targets, then teams: the `result` member of a bundle."""
    enabled = gc.isenabled()
    gc.disable()  # a million small objects, none cyclic: collection only costs time
    try:
        selected, counts = select(seed, frame)
        assign(seed, frame, pool, selected)
    finally:
        if enabled:
            gc.enable()
    return {"counts": counts, "selected": [s.as_json() for s in selected]}


# --- §7 verification ----------------------------------------------------------------------------

@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


def verify_bundle(bundle: dict) -> list[Check]:
    """Recompute everything a bundle claims; one Check per claim, in order. Stops at the
    first claim that cannot be evaluated because an earlier one is malformed."""
    checks: list[Check] = []

    def check(name: str, ok: bool, detail: str = "") -> bool:
        checks.append(Check(name, ok, detail))
        return ok

    try:
        if not check("format", bundle.get("format") == FORMAT,
                     f"expected {FORMAT!r}, found {bundle.get('format')!r}"):
            return checks
        plan, frame, pool = (_field(bundle, k, dict, "bundle") for k in ("plan", "frame", "pool"))
        claimed = _field(bundle, "commitment", dict, "bundle")
        computed = commitment(plan, frame, pool)
        for part in ("format", "plan", "frame", "pool", "sha256"):
            check(f"commitment.{part}", claimed.get(part) == computed[part],
                  f"published {claimed.get(part)}, recomputed {computed[part]}")
        seed_part = _field(bundle, "seed", dict, "bundle")
        dice = _field(seed_part, "dice", str, "seed")
        beacon = _field(seed_part, "beacon", str, "seed")
        seed = seed_digest(computed["sha256"], dice, beacon)
        check("seed", seed_part.get("sha256") == seed,
              f"published {seed_part.get('sha256')}, recomputed {seed}")
        committed_at = _when(claimed, "published_at", "commitment")
        entered_at = _when(seed_part, "entered_at", "seed")
        check("seed entered after the commitment", entered_at > committed_at,
              f"commitment {claimed['published_at']}, seed {seed_part['entered_at']}")
        try:
            result = draw(seed, frame, pool)
        except AssignmentError as exc:
            check("result", False, f"the recomputed draw fails: {exc}")
            return checks
        published = _field(bundle, "result", dict, "bundle")
        for part in ("counts", "selected"):  # compared as canonical JSON: true is not 1
            same = _canonical_or_none(published.get(part)) == canonical(result[part])
            check(f"result.{part}", same,
                  _first_difference(published.get(part), result[part]))
    except (BundleError, TypeError, ValueError, UnicodeError) as exc:
        check("bundle", False, str(exc))
    return checks


def _canonical_or_none(value) -> bytes | None:
    try:
        return canonical(value)
    except (TypeError, ValueError, UnicodeError):
        return None


def _first_difference(published, computed) -> str:
    if not isinstance(published, list):
        return "missing in the bundle"
    for i, (a, b) in enumerate(zip(published, computed, strict=False)):
        if _canonical_or_none(a) != canonical(b):
            return f"item {i}: published {json.dumps(a, ensure_ascii=False)}, " \
                   f"recomputed {json.dumps(b, ensure_ascii=False)}"
    if len(published) != len(computed):
        return f"published {len(published)} items, recomputed {len(computed)}"
    return ""


def _when(part: dict, name: str, where: str) -> datetime:
    value = _field(part, name, str, where)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BundleError(f"{where}.{name}: {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise BundleError(f"{where}.{name}: {value!r} has no time zone")
    return moment


def _field(obj, name: str, kind: type, where: str):
    if not isinstance(obj, dict):
        raise BundleError(f"{where}: expected an object")
    if name not in obj:
        raise BundleError(f"{where}.{name}: missing")
    value = obj[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BundleError(f"{where}.{name}: expected {kind.__name__}")
    return value


def main(argv: list[str] | None = None, out=None) -> int:
    """`python draw.py bundle.json` (or `-` for standard input): 0 if every claim holds,
    1 if one does not, 2 if the file cannot be read as JSON."""
    out = out or sys.stdout
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: draw.py BUNDLE.json   (or - for standard input)", file=out)
        return 2
    try:
        if args[0] == "-":
            bundle = loads(sys.stdin.read())
        else:
            with open(args[0], encoding="utf-8") as f:
                bundle = loads(f.read())
    except (OSError, ValueError) as exc:
        print(f"cannot read {args[0]}: {exc}", file=out)
        return 2
    if not isinstance(bundle, dict):
        print("the bundle is not a JSON object", file=out)
        return 2
    checks = verify_bundle(bundle)
    for c in checks:
        print(f"{'OK  ' if c.ok else 'FAIL'} {c.name}" + ("" if c.ok else f": {c.detail}"),
              file=out)
    ok = all(c.ok for c in checks)
    result = bundle.get("result")
    selected = len(result.get("selected") or []) if isinstance(result, dict) else 0
    print(f"draw verified: {selected} firms and their teams recomputed and equal" if ok
          else "draw NOT verified", file=out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
