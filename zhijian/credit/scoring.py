"""Quality-credit classification (质量信用分类, M3.4): score, class and blacklist proposals.

Pure Python, standard library only (no Django): records come in as plain tuples, the
rules as the plain values of the three dated rule keys (zhijian/core/rules/credit.json)
with their version ids. docs/credit-classification.md specifies the computation so that
an outsider can reimplement it, with worked examples that tests/credit recompute.

    rules = Rules.in_force(zhijian.core.rules.get, on)
    rate(records, rules, on=on) -> Rating(risk_class, score, contributions, ...)
    blacklist_candidates(records, rules, on=on) -> [(criterion id, [record ids])]
    rate_many(((entity_id, records), ...), rules, on=on) -> yields (entity_id, class, score)

A record counts on the day `on` when it is the kept copy of its id, dated on or before
`on`, of a kind the rules know, not expired (`on < expires_on`; by default `expires_on`
is the record's date plus the kind's validity in calendar months) and not repaired
(`repaired_on` empty or after `on`). Negative kinds take their points from a base score,
positive kinds add theirs, neutral kinds carry none. The score, clamped to the rule's
range, falls in a band (A, B, C, D or the province's own); hard rules then cap the class
(any open severe record: D). Everything is an integer, so there is no rounding.

`rate` explains itself (every record, counted or not and why); `rate_many` is the
batch path for the nightly re-rating and gives exactly the same class and score.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "NEGATIVE", "POSITIVE", "NEUTRAL", "CATEGORIES",
    "DUPLICATE", "FUTURE_DATED", "UNKNOWN_KIND", "EXPIRED", "REPAIRED", "REASONS",
    "RULE_KEYS", "Record", "Contribution", "HardRuleHit", "Rating", "Rules",
    "RuleValueError", "RecordError", "add_months", "months_before", "first_open_date",
    "rate", "blacklist_candidates", "rate_many",
]

NEGATIVE, POSITIVE, NEUTRAL = "negative", "positive", "neutral"
CATEGORIES = (NEGATIVE, POSITIVE, NEUTRAL)
_SIGN = {NEGATIVE: -1, POSITIVE: 1, NEUTRAL: 0}

# Why a record did not count, in the order they are checked: the first that applies.
DUPLICATE = "duplicate"          # another copy of the same record id is the one kept
FUTURE_DATED = "future_dated"    # dated after the day of the rating
UNKNOWN_KIND = "unknown_kind"    # the record-kinds rule in force does not know the kind
EXPIRED = "expired"              # expires_on <= on
REPAIRED = "repaired"            # credit repair (信用修复): repaired_on <= on
REASONS = (DUPLICATE, FUTURE_DATED, UNKNOWN_KIND, EXPIRED, REPAIRED)

RULE_KEYS = ("credit.record_kinds", "credit.classes", "credit.blacklist_criteria")

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class RuleValueError(ValueError):
    """A rule value does not have the shape docs/credit-classification.md describes."""


class RecordError(ValueError):
    """A credit record is malformed; the message names the record id and the field."""


class Record(NamedTuple):
    """One credit record (信用记录) of one market entity, as the rating sees it.

    A plain 7-tuple in this order is accepted wherever a Record is.
    """

    id: Any                              # stable and unique per record (the database key)
    kind: str                            # a key of credit.record_kinds
    date: dt.date                        # the day of the fact (decision, report, finding)
    weight: int | None = None            # points >= 0; None: the kind's default
    expires_on: dt.date | None = None    # first day it no longer counts; None: date + validity
    repaired_on: dt.date | None = None   # credit repair: first day it no longer counts
    source: str = ""                     # what it is, for people: "report GB2025-0117"


# --- dates -----------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later (earlier when negative); the last
    day of the month when that month is shorter (31 January + 1 month = 28/29 February)."""
    y, m = divmod(day.year * 12 + day.month - 1 + months, 12)
    m += 1
    d = day.day
    if d > 28:
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        d = min(d, (nxt - dt.timedelta(days=1)).day)
    return dt.date(y, m, d)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (see add_months)."""
    return add_months(day, -months)


def first_open_date(on: dt.date, months: int | None) -> dt.date:
    """The earliest record date whose default expiry (date + ``months``) is after ``on``.

    A record with no expires_on of its own has not expired on ``on`` exactly when its
    date is on or after this day. ``add_months`` never decreases as the date grows, so
    the set of such dates is an interval; this finds its start without a per-record
    month computation (the batch path relies on it).
    """
    if months is None:
        return dt.date.min
    day = months_before(on, months)
    one = dt.timedelta(days=1)
    while day > dt.date.min and add_months(day - one, months) > on:
        day -= one
    while add_months(day, months) <= on:
        day += one
    return day


# --- the rules -------------------------------------------------------------------------


def _int(value: Any, where: str, *, minimum: int | None = None, none: bool = False):
    if value is None and none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleValueError(f"{where} must be an integer, not {value!r}")
    if minimum is not None and value < minimum:
        raise RuleValueError(f"{where} must be at least {minimum}, not {value}")
    return value


def _fields(value: Any, where: str, required: set[str], optional: set[str] = frozenset()):
    if not isinstance(value, Mapping):
        raise RuleValueError(f"{where} must be an object, not {type(value).__name__}")
    missing = required - value.keys()
    if missing:
        raise RuleValueError(f"{where} lacks {', '.join(sorted(missing))}")
    extra = value.keys() - required - optional
    if extra:
        raise RuleValueError(f"{where} has unknown field(s) {', '.join(sorted(extra))}")
    return value


@dataclass(frozen=True)
class Kind:
    """One entry of credit.record_kinds."""

    name: str
    category: str
    weight: int
    validity_months: int | None
    severe: bool

    @property
    def points(self) -> int:
        """The signed default points of one record of this kind."""
        return _SIGN[self.category] * self.weight


@dataclass(frozen=True)
class HardRule:
    """One entry of credit.classes "hard": caps the class at ``cap``."""

    id: str
    kinds: frozenset[str]
    at_least: int
    cap: str
    severe: bool  # matches every severe kind (then ``kinds`` lists them)


@dataclass(frozen=True)
class Criterion:
    """One entry of credit.blacklist_criteria."""

    id: str
    kinds: frozenset[str]
    at_least: int
    within_months: int | None


class Rules:
    """The values of the three credit rule keys, validated together.

    Build it with ``Rules.in_force(get, on)`` where ``get`` is ``zhijian.core.rules.get``
    (or ``RuleBook.get``): it takes the versions in force on ``on`` and remembers the
    period in which all three are in force, so that ``rate`` refuses a day outside it.
    Built directly (tests, what-if computations), no period is checked.
    """

    def __init__(self, record_kinds: Mapping, classes: Mapping, blacklist_criteria: Sequence,
                 *, versions: Mapping[str, str] | None = None,
                 valid_from: dt.date | None = None, valid_until: dt.date | None = None):
        self.versions = dict(versions or {})
        self.valid_from = valid_from
        self.valid_until = valid_until  # first day one of the versions is superseded
        self.kinds = self._kinds(record_kinds)
        (self.base, self.min_score, self.max_score, self.bands,
         self.hard) = self._classes(classes)
        self.criteria = self._criteria(blacklist_criteria)
        self.rank = {name: i for i, (name, _) in enumerate(self.bands)}
        self._tables: dict[dt.date, tuple] = {}

    @classmethod
    def in_force(cls, get: Callable[[str, dt.date], Any], on: dt.date) -> Rules:
        """The rules in force on ``on``; ``get(key, on)`` returns an object with
        ``value``, ``version``, ``effective`` and ``superseded`` (zhijian.core.rules.Rule)."""
        found = {key: get(key, on) for key in RULE_KEYS}
        ends = [r.superseded for r in found.values() if r.superseded is not None]
        return cls(found["credit.record_kinds"].value, found["credit.classes"].value,
                   found["credit.blacklist_criteria"].value,
                   versions={key: r.version for key, r in found.items()},
                   valid_from=max(r.effective for r in found.values()),
                   valid_until=min(ends) if ends else None)

    # -- validation --

    @staticmethod
    def _kinds(value: Any) -> dict[str, Kind]:
        where = "credit.record_kinds"
        if not isinstance(value, Mapping) or not value:
            raise RuleValueError(f"{where} must be a non-empty object of kind -> entry")
        kinds = {}
        for name, entry in value.items():
            at = f"{where}[{name!r}]"
            if not isinstance(name, str) or not _NAME_RE.match(name):
                raise RuleValueError(f"{at}: a kind is a lowercase name such as "
                                     "'sampling_failed'")
            _fields(entry, at, {"category", "weight", "validity_months", "severe"})
            category = entry["category"]
            if category not in CATEGORIES:
                raise RuleValueError(f"{at}.category must be one of {', '.join(CATEGORIES)}, "
                                     f"not {category!r}")
            weight = _int(entry["weight"], f"{at}.weight", minimum=0)
            if category == NEUTRAL and weight != 0:
                raise RuleValueError(f"{at}.weight must be 0 for a neutral kind")
            months = _int(entry["validity_months"], f"{at}.validity_months", minimum=1,
                          none=True)
            severe = entry["severe"]
            if not isinstance(severe, bool):
                raise RuleValueError(f"{at}.severe must be true or false")
            if severe and category != NEGATIVE:
                raise RuleValueError(f"{at}: only a negative kind can be severe")
            kinds[name] = Kind(name, category, weight, months, severe)
        return kinds

    def _kind_list(self, value: Any, where: str) -> frozenset[str]:
        if not isinstance(value, list) or not value or not all(
                isinstance(k, str) for k in value):
            raise RuleValueError(f"{where} must be a non-empty list of kinds")
        for k in value:
            if k not in self.kinds:
                raise RuleValueError(f"{where}: {k!r} is not a kind of credit.record_kinds")
            if self.kinds[k].category != NEGATIVE:
                raise RuleValueError(f"{where}: {k!r} is not a negative kind; only negative "
                                     "records can lower a class or propose a listing")
        return frozenset(value)

    def _classes(self, value: Any):
        where = "credit.classes"
        _fields(value, where, {"base", "min_score", "max_score", "bands", "hard"})
        base = _int(value["base"], f"{where}.base")
        low = _int(value["min_score"], f"{where}.min_score")
        high = _int(value["max_score"], f"{where}.max_score")
        if not low <= base <= high:
            raise RuleValueError(f"{where}: need min_score <= base <= max_score")
        raw = value["bands"]
        if not isinstance(raw, list) or not raw:
            raise RuleValueError(f"{where}.bands must be a non-empty list, best class first")
        bands: list[tuple[str, int | None]] = []
        for n, band in enumerate(raw):
            at = f"{where}.bands[{n}]"
            _fields(band, at, {"class", "min_score"})
            name = band["class"]
            if not isinstance(name, str) or not name.strip():
                raise RuleValueError(f"{at}.class must be a non-empty string")
            if any(name == b[0] for b in bands):
                raise RuleValueError(f"{at}: class {name!r} is listed twice")
            last = n == len(raw) - 1
            floor = _int(band["min_score"], f"{at}.min_score", none=last)
            if last and floor is not None:
                raise RuleValueError(f"{at}.min_score must be null: the last band takes "
                                     "every lower score")
            if bands and floor is not None and floor >= bands[-1][1]:
                raise RuleValueError(f"{at}.min_score must be below the previous band's")
            bands.append((name, floor))
        names = {b[0] for b in bands}
        hard: list[HardRule] = []
        if not isinstance(value["hard"], list):
            raise RuleValueError(f"{where}.hard must be a list")
        for n, entry in enumerate(value["hard"]):
            at = f"{where}.hard[{n}]"
            _fields(entry, at, {"id", "at_least", "class"}, {"kinds", "severe"})
            rule_id = entry["id"]
            if not isinstance(rule_id, str) or not _NAME_RE.match(rule_id):
                raise RuleValueError(f"{at}.id must be a lowercase name")
            if any(h.id == rule_id for h in hard):
                raise RuleValueError(f"{at}: id {rule_id!r} is used twice")
            if ("kinds" in entry) == ("severe" in entry):
                raise RuleValueError(f"{at}: give either \"kinds\" or \"severe\": true")
            if "severe" in entry:
                if entry["severe"] is not True:
                    raise RuleValueError(f"{at}.severe must be true")
                kinds = frozenset(k for k, v in self.kinds.items() if v.severe)
            else:
                kinds = self._kind_list(entry["kinds"], f"{at}.kinds")
            cap = entry["class"]
            if cap not in names:
                raise RuleValueError(f"{at}.class {cap!r} is not a class of the bands")
            hard.append(HardRule(rule_id, kinds, _int(entry["at_least"], f"{at}.at_least",
                                                      minimum=1), cap, "severe" in entry))
        return base, low, high, tuple(bands), tuple(hard)

    def _criteria(self, value: Any) -> tuple[Criterion, ...]:
        where = "credit.blacklist_criteria"
        if not isinstance(value, list):
            raise RuleValueError(f"{where} must be a list of criteria")
        out: list[Criterion] = []
        for n, entry in enumerate(value):
            at = f"{where}[{n}]"
            _fields(entry, at, {"id", "kinds", "at_least", "within_months"})
            crit_id = entry["id"]
            if not isinstance(crit_id, str) or not _NAME_RE.match(crit_id):
                raise RuleValueError(f"{at}.id must be a lowercase name")
            if any(c.id == crit_id for c in out):
                raise RuleValueError(f"{at}: id {crit_id!r} is used twice")
            out.append(Criterion(
                crit_id, self._kind_list(entry["kinds"], f"{at}.kinds"),
                _int(entry["at_least"], f"{at}.at_least", minimum=1),
                _int(entry["within_months"], f"{at}.within_months", minimum=1, none=True)))
        return tuple(out)

    # -- derived tables --

    def score_class(self, score: int) -> str:
        """The class of the band a (clamped) score falls in."""
        for name, floor in self.bands:
            if floor is None or score >= floor:
                return name
        raise AssertionError("unreachable: the last band has no floor")

    def check_day(self, on: dt.date) -> None:
        if (self.valid_from is not None and on < self.valid_from) or (
                self.valid_until is not None and on >= self.valid_until):
            raise ValueError(
                f"These credit rules ({self.versions}) are not all in force on "
                f"{on.isoformat()}; take the rules for that day with "
                "Rules.in_force(get, on).")

    def table(self, on: dt.date) -> tuple:
        """Per-day lookup tables for the batch path (cached per day).

        kinds: kind -> (first open date, default signed points, sign, hard-rule indexes)
        """
        cached = self._tables.get(on)
        if cached is not None:
            return cached
        kinds = {}
        for name, k in self.kinds.items():
            hits = tuple(i for i, h in enumerate(self.hard) if name in h.kinds)
            kinds[name] = (first_open_date(on, k.validity_months), k.points,
                           _SIGN[k.category], hits)
        by_score = tuple(self.rank[self.score_class(s)]
                         for s in range(self.min_score, self.max_score + 1))
        hard = tuple((h.at_least, self.rank[h.cap]) for h in self.hard)
        names = tuple(b[0] for b in self.bands)
        cached = (kinds, by_score, hard, names)
        if len(self._tables) > 64:
            self._tables.clear()
        self._tables[on] = cached
        return cached


# --- the result ------------------------------------------------------------------------


@dataclass(frozen=True)
class Contribution:
    """What one record did to a rating: counted with ``points``, or why not."""

    id: Any
    kind: str
    date: dt.date
    source: str
    counted: bool
    points: int                    # signed points it added; 0 when not counted
    reason: str | None             # None when counted, else one of REASONS
    weight: int | None             # points >= 0 it carries (None for an unknown kind)
    weight_from: str | None        # "rule" (the kind's default) or "record" (its own)
    expires_on: dt.date | None     # the expiry applied (None: none)
    repaired_on: dt.date | None

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "date": self.date.isoformat(),
                "source": self.source, "counted": self.counted, "points": self.points,
                "reason": self.reason, "weight": self.weight, "weight_from": self.weight_from,
                "expires_on": _iso(self.expires_on), "repaired_on": _iso(self.repaired_on)}


@dataclass(frozen=True)
class HardRuleHit:
    """A hard rule of credit.classes that tripped: the class is at most ``cap``."""

    id: str
    cap: str
    at_least: int
    records: tuple  # ids of the counted records it matched, by date

    def as_dict(self) -> dict:
        return {"id": self.id, "cap": self.cap, "at_least": self.at_least,
                "count": len(self.records), "records": list(self.records)}


@dataclass(frozen=True)
class Rating:
    """The quality-credit class of one market entity on one day, with its explanation."""

    risk_class: str               # the final class (A-D or the province's own)
    score: int                    # base + points, clamped to [min_score, max_score]
    on: dt.date
    raw_score: int                # base + points before clamping
    score_class: str              # the class of the score's band, before hard rules
    versions: Mapping[str, str]   # rule key -> version id used
    hard_rules: tuple[HardRuleHit, ...]
    contributions: tuple[Contribution, ...]

    @property
    def counted(self) -> tuple[Contribution, ...]:
        return tuple(c for c in self.contributions if c.counted)

    @property
    def duplicates(self) -> tuple:
        """Ids of records given more than once (each was counted at most once)."""
        return tuple(dict.fromkeys(c.id for c in self.contributions if c.reason == DUPLICATE))

    def as_dict(self) -> dict:
        """A JSON-ready explanation, to store with the rating."""
        return {"class": self.risk_class, "score": self.score, "on": self.on.isoformat(),
                "raw_score": self.raw_score, "score_class": self.score_class,
                "versions": dict(self.versions),
                "hard_rules": [h.as_dict() for h in self.hard_rules],
                "contributions": [c.as_dict() for c in self.contributions]}


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


# --- explaining one entity -------------------------------------------------------------


def _day(value: Any, where: str, *, none: bool = False) -> dt.date | None:
    if value is None and none:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError(f"{where} must be a datetime.date, not {type(value).__name__}")
    return value


def _record(raw: Any) -> Record:
    rec = raw if isinstance(raw, Record) else Record(*raw)
    where = f"credit record {rec.id!r}"
    try:
        hash(rec.id)
    except TypeError:
        raise RecordError(f"{where}: the id must be hashable (a number or a string)") from None
    if not isinstance(rec.kind, str):
        raise RecordError(f"{where}: kind must be a string")
    _day(rec.date, f"{where}: date")
    if rec.weight is not None and (isinstance(rec.weight, bool) or not isinstance(
            rec.weight, int) or rec.weight < 0):
        raise RecordError(f"{where}: weight must be a whole number of points >= 0 or None "
                          "(the kind's default)")
    _day(rec.expires_on, f"{where}: expires_on", none=True)
    _day(rec.repaired_on, f"{where}: repaired_on", none=True)
    if rec.source is None:
        rec = rec._replace(source="")
    elif not isinstance(rec.source, str):
        raise RecordError(f"{where}: source must be a string")
    return rec


def _opt(value: Any) -> tuple:
    # Absent values sort before present ones, so records with None compare.
    return (0,) if value is None else (1, value)


def _order(rec: Record) -> tuple:
    # Total, input-order-free order of records: by date, then id, then the other fields.
    # The first copy of an id in this order is the one kept.
    return (rec.date, type(rec.id).__name__, rec.id, rec.kind, rec.source,
            _opt(rec.weight), _opt(rec.expires_on), _opt(rec.repaired_on))


def _contribution(rec: Record, rules: Rules, on: dt.date, kept: bool) -> Contribution:
    kind = rules.kinds.get(rec.kind)
    if kind is None:
        weight = weight_from = expires = None
    else:
        weight, weight_from = ((kind.weight, "rule") if rec.weight is None
                               else (rec.weight, "record"))
        expires = rec.expires_on
        if expires is None and kind.validity_months is not None:
            expires = add_months(rec.date, kind.validity_months)
    if not kept:
        reason = DUPLICATE
    elif rec.date > on:
        reason = FUTURE_DATED
    elif kind is None:
        reason = UNKNOWN_KIND
    elif expires is not None and expires <= on:
        reason = EXPIRED
    elif rec.repaired_on is not None and rec.repaired_on <= on:
        reason = REPAIRED
    else:
        reason = None
    points = _SIGN[kind.category] * weight if reason is None else 0
    return Contribution(rec.id, rec.kind, rec.date, rec.source, reason is None, points,
                        reason, weight, weight_from, expires, rec.repaired_on)


def _contributions(records: Iterable, rules: Rules, on: dt.date) -> tuple[Contribution, ...]:
    _day(on, "on")
    rules.check_day(on)
    ordered = sorted((_record(r) for r in records), key=_order)
    seen: set = set()
    out = []
    for rec in ordered:
        kept = rec.id not in seen
        seen.add(rec.id)
        out.append(_contribution(rec, rules, on, kept))
    return tuple(out)


def _classify(contributions: Sequence[Contribution], rules: Rules, on: dt.date) -> Rating:
    counted = [c for c in contributions if c.counted]
    raw = rules.base + sum(c.points for c in counted)
    score = min(max(raw, rules.min_score), rules.max_score)
    by_score = rules.score_class(score)
    rank = rules.rank[by_score]
    hits = []
    for h in rules.hard:
        matched = tuple(c.id for c in counted if c.kind in h.kinds)
        if len(matched) >= h.at_least:
            hits.append(HardRuleHit(h.id, h.cap, h.at_least, matched))
            rank = max(rank, rules.rank[h.cap])
    return Rating(rules.bands[rank][0], score, on, raw, by_score, dict(rules.versions),
                  tuple(hits), tuple(contributions))


def rate(records: Iterable, rules: Rules, *, on: dt.date) -> Rating:
    """The class of one entity on ``on`` from its credit records, with every record's
    contribution (sorted by date, then id).

    ``rules`` must be the rules in force on ``on`` (``Rules.in_force(get, on)``) for the
    rating to be the one of that day: a rating as of a past day takes that day's rules
    and counts only records dated on or before it.
    """
    contributions = _contributions(records, rules, on)
    return _classify(contributions, rules, on)


def blacklist_candidates(records: Iterable, rules: Rules, *,
                         on: dt.date) -> list[tuple[str, list]]:
    """The blacklist entry criteria the entity meets on ``on``: [(criterion id, ids of the
    records that matched, by date)], in the order of credit.blacklist_criteria.

    A criterion counts the records that count in the rating on ``on`` (open: kept, not
    future-dated, not expired, not repaired) whose kind it lists and, when it has
    ``within_months``, that are dated on or after ``on`` minus that many months.
    """
    counted = [c for c in _contributions(records, rules, on) if c.counted]
    found = []
    for crit in rules.criteria:
        since = dt.date.min if crit.within_months is None else months_before(
            on, crit.within_months)
        ids = [c.id for c in counted if c.kind in crit.kinds and c.date >= since]
        if len(ids) >= crit.at_least:
            found.append((crit.id, ids))
    return found


# --- the batch path --------------------------------------------------------------------


def rate_many(entities: Iterable[tuple[Any, Sequence]], rules: Rules, *,
              on: dt.date) -> Iterator[tuple[Any, str, int]]:
    """Rate many entities on one day: yields (entity_id, class, score) per entity, in the
    order given, without building explanations.

    Exactly the class and score ``rate`` gives (tests check it). Records must already be
    valid (as the database holds them): only ``rate`` checks each one. Each entity's
    records must be a sequence (list or tuple) of Records or 7-tuples.

    It streams: one entity at a time, so memory does not grow with the number of
    entities. Per record it does a dict lookup and a few date comparisons, with the
    month arithmetic of default expiry replaced by one precomputed date per kind
    (first_open_date).
    """
    _day(on, "on")
    rules.check_day(on)
    kinds, by_score, hard, names = rules.table(on)
    get = kinds.get
    base, low, high = rules.base, rules.min_score, rules.max_score
    n_hard = len(hard)
    for entity_id, records in entities:
        if len({r[0] for r in records}) != len(records):
            # A record given twice: the explaining path decides which copy is kept.
            r = _classify(_contributions(records, rules, on), rules, on)
            yield entity_id, r.risk_class, r.score
            continue
        total = base
        counts = None
        for rec in records:
            k = get(rec[1])
            if k is None:
                continue
            day = rec[2]
            if day > on:
                continue
            expires = rec[4]
            if expires is None:
                if day < k[0]:
                    continue
            elif expires <= on:
                continue
            repaired = rec[5]
            if repaired is not None and repaired <= on:
                continue
            weight = rec[3]
            total += k[1] if weight is None else k[2] * weight
            if k[3]:
                if counts is None:
                    counts = [0] * n_hard
                for i in k[3]:
                    counts[i] += 1
        score = low if total < low else high if total > high else total
        rank = by_score[score - low]
        if counts is not None:
            for i, (at_least, cap) in enumerate(hard):
                if counts[i] >= at_least and cap > rank:
                    rank = cap
        yield entity_id, names[rank], score
