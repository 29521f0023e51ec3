"""Benchmark: the random-inspection draw (双随机) over a province-sized register.

    python benchmarks/bench_draw.py                 # 1,000,000 entities, 5,000 inspectors
    python benchmarks/bench_draw.py -n 100000 --profile

Builds, seeded and deterministic, a frame of N entities in 20 strata (the 10 cities of
Shaanxi × an ordinary class with equal weights and a key-product class weighted 1–4 by
risk), 1 % drawn in each, and a pool of inspectors (a market and a housing department
per city, about 40 % with city-level and 60 % with county-level jurisdiction, three
qualifications, declared conflicts, previous visits, initial loads and a workload cap).
Then, in the same process, best of --repeat runs of each:

- draw: zhijian.inspections.draw.draw — selection (one SHA-256 per entity, weighted
  keys, the smallest keys per stratum) and the teams of two for every selected firm;
- baseline: the same number of SHA-256 digests alone, of the same strings
  "<seed>:<uscc>" (UTF-8), the USCCs already in a list;
- verify: draw.verify_bundle on the whole bundle — the canonical JSON and SHA-256 of
  plan, frame and pool, the seed, the time order, and the draw again;

and, in a separate pass under tracemalloc, the peak of the memory the draw allocates
(the frame it reads is not counted; the process's peak RSS, printed too, includes it).
Targets: draw ≤ 2 s, draw peak memory ≤ 500 MB. No database, no Django.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import platform
import pstats
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from zhijian.core import divisions  # noqa: E402  (standard library only)
from zhijian.core.identifiers import (  # noqa: E402
    ALPHABET,
    org_code_check_digit,
    uscc_check_character,
)
from zhijian.inspections import draw  # noqa: E402

TARGET_SECONDS = 2.0
TARGET_MB = 500
# The ten prefecture-level cities and their rough share of registered producers.
CITIES = {"6101": 30, "6102": 3, "6103": 10, "6104": 12, "6105": 10, "6106": 6, "6107": 8,
          "6108": 9, "6109": 6, "6110": 6}
QUALIFICATIONS = ("pressure-equipment", "electrical", "food-licence")


def counties() -> dict[str, list[str]]:
    by_city: dict[str, list[str]] = {c: [] for c in CITIES}
    for d in divisions.shaanxi_divisions():
        if d["level"] == "county" and d["valid_to"] is None and d["code"][:4] in by_city:
            by_city[d["code"][:4]].append(d["code"])
    return by_city


def build(n: int, n_inspectors: int, ratio_bp: int, seed: int) -> tuple[dict, dict, dict]:
    """plan, frame and pool; deterministic given the arguments."""
    rng = random.Random(f"zhijian bench_draw {seed}")
    by_city = counties()
    cities = list(CITIES)
    total = sum(CITIES.values())

    # The pool: inspectors per city in proportion to its firms, 4/5 market, 1/5 housing.
    inspectors, badges_of = [], {}
    number = 0
    for city in cities:
        share = round(n_inspectors * CITIES[city] / total)
        for k in range(share):
            number += 1
            department = f"{city}-market" if k % 5 else f"{city}-housing"
            senior = k < 20  # the city bureau's own staff: city-wide, every qualification
            jurisdiction = city if senior or rng.random() < 0.4 else rng.choice(by_city[city])
            badge = f"SX{number:06d}"
            inspectors.append({
                "badge": badge, "department": department, "jurisdiction": jurisdiction,
                "qualifications": [q for q in QUALIFICATIONS if senior or rng.random() < 0.3],
                "load": rng.randint(0, 4)})
            if department.endswith("market"):
                badges_of.setdefault(city, []).append(badge)

    # The frame: 20 strata, entities spread over each city's counties.
    strata = [{"key": f"{city}-{klass}", "ratio_bp": ratio_bp}
              for city in cities for klass in ("ordinary", "key")]
    entities, seen = [], set()
    city_weights = [CITIES[c] for c in cities]
    conflicts = []
    empty: list[str] = []
    for _ in range(n):
        city = rng.choices(cities, city_weights)[0]
        county = rng.choice(by_city[city])
        while True:
            body = "".join(rng.choice(ALPHABET) for _ in range(8))
            first17 = "91" + county + body + org_code_check_digit(body)
            uscc = first17 + uscc_check_character(first17)
            if uscc not in seen:
                seen.add(uscc)
                break
        key = rng.random() < 0.2
        market, housing = f"{city}-market", f"{city}-housing"
        departments = [market, housing] if key and rng.random() < 0.25 else [market]
        entities.append({
            "uscc": uscc, "stratum": f"{city}-{'key' if key else 'ordinary'}",
            "weight": rng.choice((1, 1, 2, 3, 4)) if key else 1,
            "division": county, "departments": departments,
            "requires": [rng.choice(QUALIFICATIONS)] if key and rng.random() < 0.5 else empty,
            "previous": [rng.choice(badges_of[city])] if rng.random() < 0.3 else empty})
        if rng.random() < 0.02:
            conflicts.append({"badge": rng.choice(badges_of[city]), "uscc": uscc})
    excluded = [{"uscc": f"EXCLUDED{i:010d}", "reason": "licence_revoked"} for i in range(100)]
    frame = {"strata": strata, "entities": entities, "excluded": excluded}
    pool = {"team_size": 2, "workload_cap": 12, "inspectors": inspectors,
            "conflicts": conflicts}
    plan = {"code": "SX-SJ-BENCH", "title": "benchmark", "ratio_bp": ratio_bp}
    return plan, frame, pool


def best_of(repeat: int, fn):
    """Best wall-clock time of `repeat` runs, all the runs, the CPU time of this process in
    each run (a fairer figure on a shared machine), and the last value."""
    times, cpu, value = [], [], None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(times), times, cpu, value


def baseline(seed: str, usccs: list[str]) -> list[bytes]:
    prefix, sha256 = f"{seed}:".encode(), hashlib.sha256
    return [sha256(prefix + u.encode()).digest() for u in usccs]


def _r(values) -> list[float]:
    return [round(x, 3) for x in values]


def _s(values) -> str:
    return ", ".join(f"{x:.3f}" for x in values)


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    text = Path("/proc/cpuinfo").read_text()
    for line in text.splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "sha_ni": "sha_ni" in text,
            "python": platform.python_version(), "platform": platform.platform()}


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--entities", type=int, default=1_000_000)
    ap.add_argument("--inspectors", type=int, default=5_000)
    ap.add_argument("--ratio-bp", type=int, default=100, help="per stratum (100 = 1 %%)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="cProfile one draw, top 20")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args(argv)

    info = {**machine(), "loadavg_at_start": loadavg()}
    t0 = time.perf_counter()
    plan, frame, pool = build(args.entities, args.inspectors, args.ratio_bp, args.seed)
    built = time.perf_counter() - t0
    commitment = {**draw.commitment(plan, frame, pool), "published_at": "2026-04-01T09:00:00+08:00"}
    dice, beacon = "3 1 4 1 5 9 2 6 5 3", "bench beacon"
    seed = draw.seed_digest(commitment["sha256"], dice, beacon)
    usccs = [e["uscc"] for e in frame["entities"]]
    print(f"built {len(usccs):,} entities in {len(frame['strata'])} strata, "
          f"{len(pool['inspectors']):,} inspectors, {len(pool['conflicts']):,} conflicts "
          f"in {built:.1f} s")

    t_base, base_all, base_cpu, digests = best_of(args.repeat, lambda: baseline(seed, usccs))
    assert len(digests) == len(usccs)
    try:
        t_draw, draw_all, draw_cpu, result = best_of(args.repeat, lambda: draw.draw(seed, frame, pool))
    except draw.AssignmentError as exc:
        print(f"the pool cannot serve the selection: {exc}")
        for failure in exc.failures[:10]:
            print("  ", json.dumps(failure))
        return 1
    bundle = {"format": draw.FORMAT, "plan": plan, "frame": frame, "pool": pool,
              "commitment": commitment,
              "seed": {"dice": dice, "beacon": beacon, "entered_at": "2026-04-03T10:05:00+08:00",
                       "sha256": seed},
              "result": result}
    t_verify, verify_all, verify_cpu, checks = best_of(args.repeat, lambda: draw.verify_bundle(bundle))
    t_commit, commit_all, commit_cpu, _ = best_of(
        args.repeat, lambda: draw.commitment(plan, frame, pool))
    failed = [c for c in checks if not c.ok]
    if failed:
        print("verification FAILED:", failed)
        return 1
    frame_bytes = len(draw.canonical(frame))

    rss_before_draw_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    tracemalloc.reset_peak()
    draw.draw(seed, frame, pool)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    selected = len(result["selected"])
    figures = {
        "entities": len(usccs), "strata": len(frame["strata"]), "selected": selected,
        "slots": sum(len(s["inspectors"]) for s in result["selected"]),
        "inspectors": len(pool["inspectors"]), "conflicts": len(pool["conflicts"]),
        "draw_s": round(t_draw, 3), "draw_runs_s": _r(draw_all), "draw_cpu_s": _r(draw_cpu),
        "baseline_s": round(t_base, 3), "baseline_runs_s": _r(base_all),
        "baseline_cpu_s": _r(base_cpu), "draw_ratio": round(t_draw / t_base, 2),
        "draw_cpu_ratio": round(min(draw_cpu) / min(base_cpu), 2),
        "verify_s": round(t_verify, 3), "verify_runs_s": _r(verify_all),
        "verify_cpu_s": _r(verify_cpu), "verify_ratio": round(t_verify / t_base, 2),
        "verify_cpu_ratio": round(min(verify_cpu) / min(base_cpu), 2),
        "commitment_s": round(t_commit, 3), "commitment_cpu_s": _r(commit_cpu),
        "draw_peak_mb_tracemalloc": round(peak / 2**20, 1),
        "process_max_rss_mb": round(rss_kb / 1024, 1),
        "process_max_rss_before_traced_draw_mb": round(rss_before_draw_kb / 1024, 1),
        "canonical_frame_mb": round(frame_bytes / 2**20, 1),
        "machine": {**info, "loadavg_at_end": loadavg()},
    }
    m = figures["machine"]
    print(f"machine: {m['nproc']} CPUs, {m['cpu']} (SHA extensions: {m['sha_ni']}), "
          f"Python {m['python']}, load average {m['loadavg_at_start']} at start, "
          f"{m['loadavg_at_end']} at end")
    print(f"selected {selected:,} firms, {figures['slots']:,} inspector slots")
    print(f"best of {args.repeat} (wall clock; CPU time of the same runs in brackets)")
    print(f"draw      {t_draw:7.3f} s  [{min(draw_cpu):.3f} s CPU]  runs {_s(draw_all)}  "
          f"target ≤ {TARGET_SECONDS} s: {'met' if t_draw <= TARGET_SECONDS else 'NOT met'}")
    print(f"baseline  {t_base:7.3f} s  [{min(base_cpu):.3f} s CPU]  runs {_s(base_all)}  "
          f"({len(usccs):,} SHA-256 of \"<seed>:<uscc>\")")
    print(f"ratio     {t_draw / t_base:7.2f} ×  [{min(draw_cpu) / min(base_cpu):.2f} × CPU]")
    print(f"verify    {t_verify:7.3f} s  [{min(verify_cpu):.3f} s CPU]  runs {_s(verify_all)}  "
          f"{t_verify / t_base:.2f} × the baseline [{min(verify_cpu) / min(base_cpu):.2f} × CPU]"
          f"; canonical frame {frame_bytes / 2**20:.1f} MiB")
    print(f"  of which the commitment (canonical JSON and SHA-256 of plan, frame, pool) "
          f"{t_commit:.3f} s [{min(commit_cpu):.3f} s CPU]")
    print(f"draw peak memory {peak / 2**20:.1f} MiB (tracemalloc, allocations of one draw; "
          f"target ≤ {TARGET_MB} MB: {'met' if peak <= TARGET_MB * 10**6 else 'NOT met'}); "
          f"process max RSS {rss_kb / 1024:.0f} MiB (includes the frame and bundle in memory)")

    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(draw.draw, seed, frame, pool)
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    return 0 if t_draw <= TARGET_SECONDS and peak <= TARGET_MB * 10**6 else 1


if __name__ == "__main__":
    sys.exit(main())
