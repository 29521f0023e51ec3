"""A supplier's standing on a user unit's qualified-supplier list (合格供方名录, M2.5).

Pure Python, no Django: the facts come in as plain data (gathered by
procurement.services from the platform's records and the FACT_PROVIDERS), the rule as
the value of `procurement.standing` in force on the day (zhijian/core/rules/
procurement.json). docs/supplier-standing.md specifies the computation with worked
examples that an outsider can recompute by hand.

    rate(facts, rule, on=day, overrides=()) -> Rating(standing, score, reasons)

- Only facts dated within the look-back period count: from the same day
  `lookback_months` earlier up to and including `on`. A blacklist entry counts while it
  is in force instead (from its date to its `until`, open-ended without one).
- A *hard rule* trips when its facts reach its threshold; the supplier is then
  "removed" (taken off the list), whatever its score.
- Each *deduction* takes its points per fact from a score of 100 (never below 0); below
  `watch_below` the supplier is "watch" (qualified, under watch), else "qualified".
- An upheld appeal sets named hard rules aside until a day (`overrides`): until then the
  rule is listed but does not remove the supplier.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

QUALIFIED, WATCH, REMOVED = "qualified", "watch", "removed"
START_SCORE = 100

#: The kinds of facts, each a list of {"date", "ref", ...} in the facts mapping.
FACT_KINDS = (
    "failed_samplings",      # + "category": failed supervisory samplings of its products
    "inspection_problems",   # random inspections that found problems at the firm
    "revoked_reports",       # test reports on its products that were revoked
    "fake_report_signals",   # open fake-report signals on its reports
    "penalties",             # administrative penalties (quality-credit module)
    "blacklist",             # + "until": quality-blacklist entries (quality-credit module)
    "rejected_deliveries",   # this user unit's own rejected deliveries from it
)

#: Hard rules in the order they are listed: code -> the kind of fact it counts.
HARD_RULES = {
    "failed_sampling_same_category": "failed_samplings",
    "revoked_report": "revoked_reports",
    "fake_report_signal": "fake_report_signals",
    "blacklist": "blacklist",
    "rejected_deliveries": "rejected_deliveries",
}
#: Deductions in the order they are listed: code -> the kind of fact it counts.
DEDUCTIONS = {
    "failed_sampling_other_category": "failed_samplings",
    "inspection_problem": "inspection_problems",
    "penalty": "penalties",
    "rejected_delivery": "rejected_deliveries",
}


@dataclass(frozen=True)
class Rating:
    standing: str
    score: int
    reasons: list[dict] = field(default_factory=list)

    @property
    def tripped(self) -> list[str]:
        """The codes of the hard rules that removed the supplier."""
        return [r["code"] for r in self.reasons if r["hard"]]

    def as_dict(self) -> dict:
        return {"standing": self.standing, "score": self.score,
                "reasons": [dict(r) for r in self.reasons]}


class RuleValueError(ValueError):
    """The rule value does not have the shape docs/supplier-standing.md describes."""


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months earlier (the last day of a shorter month)."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(y, m, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _day(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise TypeError(f"{what}: give a date, not a datetime")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    raise TypeError(f"{what}: {value!r} is not a date")


def related_categories(a: str, b: str) -> bool:
    """Two category codes are the same line of products when one is the other or nests
    in it ("electrical.cable" and "electrical.cable.power", "electrical" and
    "electrical.cable"); siblings are not ("electrical.cable" and "electrical.switch")."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _rule_value(rule) -> Mapping:
    value = getattr(rule, "value", rule)
    if not isinstance(value, Mapping):
        raise RuleValueError("the rule must be a mapping or have a mapping .value")
    for key in ("lookback_months", "watch_below", "hard", "deductions"):
        if key not in value:
            raise RuleValueError(f"the rule value has no {key!r}")
    unknown = (set(value["hard"]) - set(HARD_RULES)) | (
        set(value["deductions"]) - set(DEDUCTIONS))
    if unknown:
        raise RuleValueError(f"unknown rule codes: {', '.join(sorted(unknown))}")
    return value


def _ref(fact: Mapping, day: dt.date) -> str:
    ref = str(fact.get("ref") or "").strip()
    return f"{ref} {day.isoformat()}" if ref else day.isoformat()


def rate(facts: Mapping[str, Iterable[Mapping]], rule, *, on: dt.date,
         overrides: Iterable[tuple[str, Any]] = ()) -> Rating:
    """Rate a supplier on `on` from its facts.

    facts: {"category": the list's category code, <kind>: [{"date", "ref", ...}], ...}
    with the kinds of FACT_KINDS (a missing kind is an empty list).
    rule: the value of procurement.standing (or a Rule whose .value it is).
    overrides: (hard rule code, until day) pairs from upheld appeals.
    """
    on = _day(on, "on")
    value = _rule_value(rule)
    since = months_before(on, int(value["lookback_months"]))
    category = str(facts.get("category") or "")
    aside: dict[str, dt.date] = {}
    for code, until in overrides:
        until = _day(until, "override until")
        if on <= until:
            aside[code] = max(until, aside.get(code, until))

    def dated(kind: str) -> list[tuple[dt.date, Mapping]]:
        rows = []
        for fact in facts.get(kind) or ():
            day = _day(fact["date"], kind)
            if kind == "blacklist":
                until = fact.get("until")
                if day <= on and (until is None or on <= _day(until, "blacklist until")):
                    rows.append((day, fact))
            elif since <= day <= on:
                rows.append((day, fact))
        rows.sort(key=lambda r: (r[0], str(r[1].get("ref") or "")))
        return rows

    def counted(code: str, kind: str) -> list[tuple[dt.date, Mapping]]:
        rows = dated(kind)
        if code == "failed_sampling_same_category":
            return [r for r in rows if related_categories(str(r[1].get("category")), category)]
        if code == "failed_sampling_other_category":
            return [r for r in rows
                    if not related_categories(str(r[1].get("category")), category)]
        return rows

    reasons: list[dict] = []
    removed = False
    for code, kind in HARD_RULES.items():
        threshold = value["hard"].get(code)
        if not threshold:  # absent, 0 or null: the rule is not applied
            continue
        rows = counted(code, kind)
        if len(rows) < int(threshold):
            continue
        detail: dict[str, Any] = {"facts": [_ref(f, d) for d, f in rows],
                                  "threshold": int(threshold)}
        tripped = code not in aside
        if not tripped:
            detail["set_aside_until"] = aside[code].isoformat()
        removed = removed or tripped
        reasons.append({"code": code, "rule": f"hard.{code}", "count": len(rows),
                        "points": 0, "hard": tripped, "detail": detail})
    total = 0
    for code, kind in DEDUCTIONS.items():
        per_fact = value["deductions"].get(code)
        if not per_fact:
            continue
        rows = counted(code, kind)
        if not rows:
            continue
        points = int(per_fact) * len(rows)
        total += points
        reasons.append({"code": code, "rule": f"deductions.{code}", "count": len(rows),
                        "points": points, "hard": False,
                        "detail": {"facts": [_ref(f, d) for d, f in rows],
                                   "per_fact": int(per_fact)}})
    score = max(0, START_SCORE - total)
    if removed:
        standing = REMOVED
    elif score < int(value["watch_below"]):
        standing = WATCH
    else:
        standing = QUALIFIED
    return Rating(standing, score, reasons)
