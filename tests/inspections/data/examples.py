"""The worked examples of docs/draw-algorithm.md §9: bundles, a step-by-step trace, and
the blocks printed in the document.

    python tests/inspections/data/examples.py            rewrite example-*.json and the
                                                         generated blocks of the document
    python tests/inspections/data/examples.py --check    exit 1 if either is out of date

The trace follows the text of the specification, not the module: canonical JSON comes
from the `rfc8785` package, the ordering is a plain sort on (key, digest, position), the
slot loop is written out. tests/inspections/test_draw.py checks that the trace ends with
exactly the module's result (or failure report), that every bundle verifies as the
document says, and that the document's blocks are what `render` prints today, so the
numbers in the document cannot drift from the code.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import sys
from pathlib import Path

import rfc8785

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
DOC = ROOT / "docs" / "draw-algorithm.md"
NAMES = ("example-basic", "example-joint", "example-failure")

if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))


# --- the bundles --------------------------------------------------------------------------------

def _uscc(division: str, rng: random.Random) -> str:
    from zhijian.core.identifiers import ALPHABET, make_uscc

    return make_uscc(division=division, org_body8="".join(rng.choice(ALPHABET) for _ in range(8)))


def _entity(uscc, stratum, division, departments, weight=1, requires=(), previous=()):
    return {"uscc": uscc, "stratum": stratum, "weight": weight, "division": division,
            "departments": list(departments), "requires": list(requires),
            "previous": list(previous)}


def _inspector(badge, department, jurisdiction, qualifications=(), load=0):
    return {"badge": badge, "department": department, "jurisdiction": jurisdiction,
            "qualifications": list(qualifications), "load": load}


def _plan(code, title, title_en):
    return {"code": code, "title": title, "title_en": title_en,
            "period": {"start": "2026-04-01", "end": "2026-06-30"},
            "rule_versions": {"ratios": "SX-SJ-RATIOS/2026-01"}}


def _basic_inputs():
    rng = random.Random("zhijian example-basic")
    xa = [_uscc(d, rng) for d in ("610113", "610113", "610113", "610112", "610112", "610104",
                                  "610104", "610116")]
    bj = [_uscc(d, rng) for d in ("610302", "610303", "610304", "610302")]
    gone = [_uscc("610113", rng), _uscc("610303", rng)]
    market, housing = "61-market", "6101-housing"
    entities = [
        _entity(xa[0], "6101-ordinary", "610113", [market], requires=["electrical"],
                previous=["M03"]),
        _entity(xa[1], "6101-ordinary", "610113", [market]),
        _entity(xa[2], "6101-ordinary", "610113", [market]),
        _entity(xa[3], "6101-ordinary", "610112", [market]),
        _entity(xa[4], "6101-ordinary", "610112", [market, housing]),
        _entity(xa[5], "6101-ordinary", "610104", [market]),
        _entity(xa[6], "6101-ordinary", "610104", [market]),
        _entity(xa[7], "6101-ordinary", "610116", [market]),
        _entity(bj[0], "6103-key", "610302", [market], weight=1,
                requires=["pressure-equipment"]),
        _entity(bj[1], "6103-key", "610303", [market], weight=1,
                requires=["pressure-equipment"]),
        _entity(bj[2], "6103-key", "610304", [market], weight=2,
                requires=["pressure-equipment"]),
        _entity(bj[3], "6103-key", "610302", [market], weight=3,
                requires=["pressure-equipment"]),
    ]
    frame = {
        "strata": [{"key": "6101-ordinary", "ratio_bp": 4000},
                   {"key": "6103-key", "ratio_bp": 3000}],
        "entities": entities,
        "excluded": [{"uscc": gone[0], "reason": "licence_revoked", "on": "2026-02-11"},
                     {"uscc": gone[1], "reason": "inspected_within_12_months",
                      "task": "SX-SJ-2025-031/17"}],
    }
    pool = {
        "team_size": 2,
        "workload_cap": 4,
        "inspectors": [
            _inspector("M01", market, "61", ["electrical", "pressure-equipment"], load=1),
            _inspector("M02", market, "6101", ["electrical"]),
            _inspector("M03", market, "610113"),
            _inspector("M04", market, "6103", ["pressure-equipment"]),
            _inspector("M05", market, "6101", load=3),
            _inspector("M06", market, "6103", ["pressure-equipment"]),
            _inspector("H01", housing, "6101"),
        ],
        "conflicts": [{"badge": "M02", "uscc": xa[1]}],
    }
    plan = _plan("SX-SJ-2026-007", "2026年第二季度工业产品生产企业“双随机、一公开”抽查",
                 "Random inspection of industrial producers, 2026 Q2")
    return plan, frame, pool


def _joint_inputs():
    rng = random.Random("zhijian example-joint")
    market, housing = "61-market", "6101-housing"
    firms = [_uscc(d, rng) for d in ("610113", "610112", "610112", "610116")]
    frame = {
        "strata": [{"key": "6101-building", "ratio_bp": 10000},
                   {"key": "6101-exempt", "ratio_bp": 0},
                   {"key": "6101-new", "ratio_bp": 500}],
        "entities": [
            _entity(firms[0], "6101-building", "610113", [housing, market]),
            _entity(firms[1], "6101-building", "610112", [market, housing]),
            _entity(firms[2], "6101-building", "610112", [housing]),
            _entity(firms[3], "6101-exempt", "610116", [market]),
        ],
        "excluded": [],
    }
    pool = {
        "team_size": 3,
        "workload_cap": 2,
        "inspectors": [
            _inspector("M10", market, "6101"),
            _inspector("M11", market, "610113", load=1),
            _inspector("M12", market, "61"),
            _inspector("H10", housing, "6101"),
            _inspector("H11", housing, "6101", load=1),
            _inspector("H12", housing, "610112"),
            _inspector("H13", housing, "6101"),
        ],
        "conflicts": [],
    }
    plan = _plan("SX-SJ-2026-011", "2026年西安市建筑材料联合抽查",
                 "Joint inspection of building materials, Xi'an 2026")
    return plan, frame, pool


def _failure_inputs():
    rng = random.Random("zhijian example-failure")
    market, food = "61-market", "6103-food"
    firms = [_uscc(d, rng) for d in ("610302", "610303", "610304", "610331")]
    frame = {
        "strata": [{"key": "6103-key", "ratio_bp": 10000}],
        "entities": [
            _entity(firms[0], "6103-key", "610302", [market], requires=["pressure-equipment"]),
            _entity(firms[1], "6103-key", "610303", [market], requires=["pressure-equipment"]),
            _entity(firms[2], "6103-key", "610304", [market], requires=["pressure-equipment"],
                    previous=["M21"]),
            _entity(firms[3], "6103-key", "610331", [food]),
        ],
        "excluded": [],
    }
    pool = {
        "team_size": 2,
        "workload_cap": 2,
        "inspectors": [
            _inspector("M20", market, "6103", ["pressure-equipment"]),
            _inspector("M21", market, "6103", ["pressure-equipment"]),
            _inspector("M22", market, "610302", ["pressure-equipment"]),
            _inspector("M23", market, "6103"),
            _inspector("M24", market, "6103", ["pressure-equipment"], load=2),
        ],
        "conflicts": [{"badge": "M20", "uscc": firms[2]}],
    }
    plan = _plan("SX-SJ-2026-013", "2026年宝鸡市特种设备相关产品抽查",
                 "Random inspection of pressure-equipment makers, Baoji 2026")
    return plan, frame, pool


def _dice(attempt: int) -> str:
    rng = random.Random(f"zhijian example dice {attempt}")
    return " ".join(str(rng.randint(1, 6)) for _ in range(10))


BEACON = "example beacon, not a real pulse: 2026-04-03T10:00:00+08:00 #0001"


def _bundle(plan, frame, pool, dice: str) -> dict:
    from zhijian.inspections import draw

    commitment = {**draw.commitment(plan, frame, pool),
                  "published_at": "2026-04-01T09:00:00+08:00"}
    seed = draw.seed_digest(commitment["sha256"], dice, BEACON)
    return {"format": draw.FORMAT, "plan": plan, "frame": frame, "pool": pool,
            "commitment": commitment,
            "seed": {"dice": dice, "beacon": BEACON, "entered_at": "2026-04-03T10:05:00+08:00",
                     "sha256": seed}}


def _wanted_basic(t: dict) -> bool:
    """Every rule of §5 and §6 shows up: weights change the order, and a conflict, a
    previous visit, a qualification, the jurisdiction, the cap and a joint team all
    remove or add someone."""
    if t["failures"]:
        return False
    key = next(s for s in t["strata"] if s["key"] == "6103-key")
    by_ticket = sorted(key["rows"], key=lambda r: r["ticket"])[:key["drawn"]]
    if {r["uscc"] for r in by_ticket} == {r["uscc"] for r in key["rows"] if r["rank"]}:
        return False
    reasons = {why for firm in t["teams"] for slot in firm["slots"]
               for why in slot["excluded"].values()}
    joint = any(len(firm["departments"]) > 1 for firm in t["teams"])
    return joint and reasons >= {"conflict_declared", "on_previous_visit",
                                 "lacks_qualification", "at_workload_cap"}


def _wanted_joint(t: dict) -> bool:
    reasons = {why for firm in t["teams"] for slot in firm["slots"]
               for why in slot["excluded"].values()}
    return not t["failures"] and "at_workload_cap" in reasons


def _wanted_failure(t: dict) -> bool:
    causes = {k for f in t["failures"] for k, v in f.items()
              if k in REASONS and v}
    return len(t["failures"]) >= 2 and len(causes) >= 3


def build(name: str) -> dict:
    """The bundle `name`. The dice are the first of a fixed sequence with which the
    example shows every rule it is there for (a real draw takes the dice it gets)."""
    inputs, wanted = {"example-basic": (_basic_inputs, _wanted_basic),
                      "example-joint": (_joint_inputs, _wanted_joint),
                      "example-failure": (_failure_inputs, _wanted_failure)}[name]
    plan, frame, pool = inputs()
    for attempt in range(100_000):
        bundle = _bundle(plan, frame, pool, _dice(attempt))
        t = trace(bundle)
        if wanted(t):
            if not t["failures"]:
                bundle["result"] = t["result"]
            return bundle
    raise RuntimeError(f"no dice give {name} what it is for")


# --- the trace: the specification, step by step ---------------------------------------------------

REASONS = ("already_in_team", "conflict_declared", "on_previous_visit", "lacks_qualification",
           "at_workload_cap")


def _h(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def trace(bundle: dict) -> dict:
    """Every intermediate value of §3–§6 for `bundle`, computed from the text of the spec."""
    plan, frame, pool, seed_in = (bundle[k] for k in ("plan", "frame", "pool", "seed"))
    parts = {"format": bundle["format"], "plan": _h(rfc8785.dumps(plan)),
             "frame": _h(rfc8785.dumps(frame)), "pool": _h(rfc8785.dumps(pool))}
    parts_json = rfc8785.dumps(parts).decode()
    commitment = _h(parts_json.encode())
    seed_json = rfc8785.dumps({"beacon": seed_in["beacon"], "commitment": commitment,
                               "dice": seed_in["dice"]}).decode()
    seed = _h(seed_json.encode())

    # §5
    entities = frame["entities"]
    strata, selected = [], []
    for s in frame["strata"]:
        members = [(i, e) for i, e in enumerate(entities) if e["stratum"] == s["key"]]
        population = len(members)
        drawn = -(-population * s["ratio_bp"] // 10000)
        lcm = math.lcm(*(e["weight"] for _, e in members)) if members else 1
        rows = []
        for i, e in members:
            ticket = _h(f"{seed}:{e['uscc']}".encode())
            u = int.from_bytes(bytes.fromhex(ticket)[:8], "big") + 1
            rows.append({"position": i, "uscc": e["uscc"], "weight": e["weight"],
                         "ticket": ticket, "u": u, "key": u * (lcm // e["weight"]),
                         "rank": None})
        order = sorted(rows, key=lambda r: (r["key"], bytes.fromhex(r["ticket"]),
                                            r["position"]))
        for rank, r in enumerate(order[:drawn], start=1):
            r["rank"] = rank
            selected.append({"uscc": r["uscc"], "stratum": s["key"], "rank": rank,
                             "ticket": r["ticket"], "position": r["position"]})
        strata.append({"key": s["key"], "ratio_bp": s["ratio_bp"], "population": population,
                       "drawn": drawn, "lcm": lcm, "rows": rows})

    # §6
    load = {p["badge"]: p["load"] for p in pool["inspectors"]}
    cap, size = pool["workload_cap"], pool["team_size"]
    by_badge = sorted(pool["inspectors"], key=lambda p: p["badge"].encode())
    teams, failures, inspectors_of = [], [], {}
    for firm_sel in sorted(selected, key=lambda s: s["ticket"]):
        uscc = firm_sel["uscc"]
        firm = entities[firm_sel["position"]]
        departments = firm["departments"]
        slots = departments + [departments[0]] * max(0, size - len(departments))
        barred = {c["badge"] for c in pool["conflicts"] if c["uscc"] == uscc}
        team, rows = [], []
        for slot, department in enumerate(slots):
            candidates = [p for p in by_badge if p["department"] == department
                          and firm["division"].startswith(p["jurisdiction"])]
            excluded, eligible = {}, []
            for p in candidates:
                b = p["badge"]
                why = ("already_in_team" if b in team else
                       "conflict_declared" if b in barred else
                       "on_previous_visit" if b in firm["previous"] else
                       "lacks_qualification" if not set(firm["requires"]) <= set(
                           p["qualifications"]) else
                       "at_workload_cap" if load[b] >= cap else None)
                if why:
                    excluded[b] = why
                else:
                    eligible.append(b)
            row = {"slot": slot, "department": department,
                   "candidates": [p["badge"] for p in candidates], "excluded": excluded,
                   "eligible": eligible,
                   "loads": {p["badge"]: load[p["badge"]] for p in candidates}}
            rows.append(row)
            if not eligible:
                counts = dict.fromkeys(REASONS, 0)
                for why in excluded.values():
                    counts[why] += 1
                failures.append({"uscc": uscc, "slot": slot, "department": department,
                                 "in_jurisdiction": len(candidates),
                                 "requires": sorted(firm["requires"]), **counts})
                break
            h = _h(f"{seed}:{uscc}:{slot}".encode())
            pick = int(h, 16) % len(eligible)
            row.update(h=h, pick=pick, chosen=eligible[pick])
            team.append(eligible[pick])
            load[eligible[pick]] += 1
        inspectors_of[uscc] = team
        teams.append({"uscc": uscc, "ticket": firm_sel["ticket"], "division": firm["division"],
                      "departments": departments, "requires": firm["requires"],
                      "previous": firm["previous"], "conflicts": sorted(barred),
                      "slots": rows, "team": team})

    result = {"counts": [{"drawn": s["drawn"], "population": s["population"],
                          "ratio_bp": s["ratio_bp"], "stratum": s["key"]} for s in strata],
              "selected": [{"inspectors": inspectors_of[s["uscc"]], "rank": s["rank"],
                            "stratum": s["stratum"], "ticket": s["ticket"], "uscc": s["uscc"]}
                           for s in selected]}
    return {"parts": parts, "parts_json": parts_json, "commitment": commitment,
            "seed_json": seed_json, "seed": seed, "strata": strata, "teams": teams,
            "failures": failures, "result": result, "loads": load}


# --- rendering ----------------------------------------------------------------------------------

def render(name: str, bundle: dict) -> str:
    """The generated block of §9 for one example (Markdown)."""
    t = trace(bundle)
    frame, pool = bundle["frame"], bundle["pool"]
    out = [f"Bundle: [`tests/inspections/data/{name}.json`]"
           f"(../tests/inspections/data/{name}.json).", ""]

    out += ["Frame (`frame.strata`, then `frame.entities` by position):", "",
            "| stratum | ratio_bp |", "| --- | ---: |"]
    out += [f"| `{s['key']}` | {s['ratio_bp']} |" for s in frame["strata"]]
    out += ["", "| # | uscc | stratum | weight | division | departments | requires | previous |",
            "| ---: | --- | --- | ---: | --- | --- | --- | --- |"]
    for i, e in enumerate(frame["entities"]):
        out.append(f"| {i} | `{e['uscc']}` | `{e['stratum']}` | {e['weight']} | "
                   f"{e['division']} | {_list(e['departments'])} | {_list(e['requires'])} | "
                   f"{_list(e['previous'])} |")
    if frame["excluded"]:
        out += ["", "Excluded: " + "; ".join(
            f"`{x['uscc']}` ({x['reason']})" for x in frame["excluded"]) + "."]
    out += ["", f"Pool: team_size {pool['team_size']}, workload_cap {pool['workload_cap']}.",
            "", "| badge | department | jurisdiction | qualifications | load |",
            "| --- | --- | --- | --- | ---: |"]
    out += [f"| {p['badge']} | {p['department']} | {p['jurisdiction']} | "
            f"{_list(p['qualifications'])} | {p['load']} |" for p in pool["inspectors"]]
    conflicts = "; ".join(f"{c['badge']} with `{c['uscc']}`" for c in pool["conflicts"])
    out += ["", f"Declared conflicts: {conflicts or 'none'}.", ""]

    c = bundle["commitment"]
    out += ["Commitment (§3) and seed (§4):", "", "```text",
            f"sha256(canonical(plan))  = {t['parts']['plan']}",
            f"sha256(canonical(frame)) = {t['parts']['frame']}",
            f"sha256(canonical(pool))  = {t['parts']['pool']}",
            "commitment parts, canonical:", f"  {t['parts_json']}",
            f"commitment.sha256        = {t['commitment']}",
            f"published_at             = {c['published_at']}",
            f"dice                     = {bundle['seed']['dice']!r}",
            f"beacon                   = {bundle['seed']['beacon']!r}",
            f"entered_at               = {bundle['seed']['entered_at']}",
            "seed input, canonical:", f"  {t['seed_json']}",
            f"seed                     = {t['seed']}", "```", ""]

    out += ["Selection (§5), each stratum's members by key:", ""]
    for s in t["strata"]:
        out.append(f"Stratum `{s['key']}`: N = {s['population']}, ratio_bp = {s['ratio_bp']}, "
                   f"n = ceil({s['population']} × {s['ratio_bp']} / 10000) = {s['drawn']}, "
                   f"L = {s['lcm']}.")
        out.append("")
        if not s["rows"]:
            continue
        out += ["```text", f"{'#':>2}  {'uscc':<18}  w  {'ticket':<64}  {'u':>20}  "
                f"{'key':>21}  rank"]
        for r in sorted(s["rows"], key=lambda r: (r["key"], r["ticket"], r["position"])):
            out.append(f"{r['position']:>2}  {r['uscc']}  {r['weight']}  {r['ticket']}  "
                       f"{r['u']:>20}  {r['key']:>21}  {r['rank'] or '-'}")
        out += ["```", ""]

    out += ["Teams (§6), firms in ascending ticket order:", "", "```text"]
    for firm in t["teams"]:
        out.append(f"{firm['uscc']}  ticket {firm['ticket'][:16]}…  division {firm['division']}"
                   f"  departments {_list(firm['departments'], '')}")
        extra = [f"requires {_list(firm['requires'], '')}" if firm["requires"] else "",
                 f"previous {_list(firm['previous'], '')}" if firm["previous"] else "",
                 f"conflicts {_list(firm['conflicts'], '')}" if firm["conflicts"] else ""]
        if any(extra):
            out.append("  " + "  ".join(x for x in extra if x))
        for row in firm["slots"]:
            cands = " ".join(f"{b}({row['loads'][b]})" for b in row["candidates"]) or "none"
            out.append(f"  slot {row['slot']} {row['department']}: in jurisdiction {cands}")
            for b, why in row["excluded"].items():
                out.append(f"    {b} not eligible: {why}")
            if "pick" in row:
                out.append(f"    eligible {' '.join(row['eligible'])}  h = {row['h']}")
                out.append(f"    h mod {len(row['eligible'])} = {row['pick']}  →  {row['chosen']}")
            else:
                out.append("    eligible: none  →  the draw fails (§6.4)")
        out.append(f"  team {_list(firm['team'], '')}")
    out += ["```", ""]

    if t["failures"]:
        out += ["The draw fails; `AssignmentError.failures` (§6.4):", "", "```json"]
        out += [json.dumps(f, ensure_ascii=False) for f in t["failures"]]
        out += ["```", ""]
    else:
        out += ["Result (§5.4, §6), as published in `result`:", "", "```json"]
        out += ['{"counts": ['] + [
            "  " + json.dumps(x, ensure_ascii=False) + ("," if i + 1 < len(t["result"]["counts"])
                                                        else "")
            for i, x in enumerate(t["result"]["counts"])] + ['], "selected": [']
        sel = t["result"]["selected"]
        out += ["  " + json.dumps(x, ensure_ascii=False) + ("," if i + 1 < len(sel) else "")
                for i, x in enumerate(sel)] + [']}', "```", ""]
        loads = ", ".join(f"{b} {n}" for b, n in sorted(t["loads"].items()))
        out += [f"Loads after the draw: {loads}.", ""]
    return "\n".join(out).rstrip("\n")


def _list(items, wrap="`") -> str:
    return ", ".join(f"{wrap}{x}{wrap}" for x in items) if items else "–"


def begin(name: str) -> str:
    return f"<!-- BEGIN {name}: generated by tests/inspections/data/examples.py, do not edit -->"


def end(name: str) -> str:
    return f"<!-- END {name} -->"


def doc_block(text: str, name: str) -> str | None:
    """The generated block for `name` as it stands in the document (None if absent)."""
    start, stop = text.find(begin(name)), text.find(end(name))
    if start < 0 or stop < start:
        return None
    return text[start + len(begin(name)):stop].strip("\n")


def file_text(bundle: dict) -> str:
    return json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    text = DOC.read_text(encoding="utf-8")
    stale = []
    for name in NAMES:
        bundle = build(name)
        path = HERE / f"{name}.json"
        if not path.exists() or path.read_text(encoding="utf-8") != file_text(bundle):
            stale.append(str(path))
            if not check:
                path.write_text(file_text(bundle), encoding="utf-8")
        block = render(name, bundle)
        current = doc_block(text, name)
        if current is None:
            print(f"{DOC}: no block for {name}; add the lines\n{begin(name)}\n{end(name)}")
            return 1
        if current != block:
            stale.append(f"{DOC} ({name})")
            text = text.replace(current, block, 1) if current else text.replace(
                begin(name) + "\n", begin(name) + "\n" + block + "\n", 1)
    if not check and any(s.startswith(str(DOC)) for s in stale):
        DOC.write_text(text, encoding="utf-8")
    for s in stale:
        print(("out of date: " if check else "rewrote: ") + s)
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
