"""Regulatory parameters as dated data (DESIGN.md, "Regulatory numbers are dated data").

A *rule* is one regulatory number -- a ratio, a deadline, a threshold -- named by a
dotted key such as ``inspections.publication_working_days``.  Its value changes when the
law or the provincial policy behind it changes, so a rule is a list of *versions*, each
with the date it takes effect, the value, the legal source (in Chinese, as the source
says it) and a short stable version id.  A computation asks for the version in force on
the date that matters legally (the day a result was produced, the day a plan was
approved), and stores ``rule.version`` next to its result so that it can be explained
and re-checked after the rule changes.

The versions live in ``rules/<family>.json`` beside this module, one file per family
(the part of the key before the first dot).  See ``docs/rules.md`` for the file format
and for how to add a version.

This module is pure Python: no Django import, so draws, schedules and scripts can use
it directly.

    >>> from datetime import date
    >>> from zhijian.core import rules
    >>> rules.value("inspections.publication_working_days", date(2025, 10, 1))
    20
    >>> rules.get("inspections.publication_working_days", date(2025, 10, 1)).version
    '2014-10-01'
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "RULES_DIR",
    "Rule",
    "RuleBook",
    "RuleError",
    "UnknownRule",
    "RuleNotInForce",
    "RuleDataError",
    "load",
    "default_book",
    "get",
    "value",
    "keys",
    "versions",
    "in_force",
]

#: Where the rule files live: one JSON file per family, ``<family>.json``.
RULES_DIR = Path(__file__).with_name("rules")

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


# --- errors ----------------------------------------------------------------------------


class RuleError(LookupError):
    """A rule lookup failed; ``key`` and (where it applies) ``on`` say which."""

    def __init__(self, message: str, *, key: str, on: dt.date | None = None):
        super().__init__(message)
        self.key = key
        self.on = on


class UnknownRule(RuleError):
    """No rule file defines this key."""


class RuleNotInForce(RuleError):
    """The rule exists, but none of its versions had taken effect on the date asked."""

    def __init__(self, message: str, *, key: str, on: dt.date, first_effective: dt.date):
        super().__init__(message, key=key, on=on)
        self.first_effective = first_effective


class RuleDataError(ValueError):
    """A rule file is malformed.  The message names the file and what is wrong."""


# --- the data --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One version of a regulatory parameter, as in force on some date.

    ``superseded`` is the date the next version takes effect (the first day this one is
    no longer in force), or ``None`` while it is the latest.
    """

    key: str
    value: Any
    version: str
    effective: dt.date
    reference: str
    superseded: dt.date | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready record, e.g. for storing with a computed result."""
        return {
            "key": self.key,
            "value": copy.deepcopy(self.value),
            "version": self.version,
            "effective": self.effective.isoformat(),
            "reference": self.reference,
        }


def _check_date(on: Any, *, what: str = "on") -> dt.date:
    # datetime is a subclass of date; comparing one with a date raises later, and
    # which calendar day an aware datetime falls on depends on the time zone: the
    # caller must decide (timezone.localdate()).
    if isinstance(on, dt.datetime) or not isinstance(on, dt.date):
        raise TypeError(
            f"{what} must be a datetime.date, not {type(on).__name__}; convert a datetime "
            "with django.utils.timezone.localdate() first")
    return on


class RuleBook:
    """All versions of a set of rules, validated, ready for lookups by date."""

    def __init__(self, rules: Mapping[str, list[Rule]]):
        # key -> versions sorted by effective date, with `superseded` filled in.
        self._versions: dict[str, tuple[Rule, ...]] = {}
        for key, items in rules.items():
            ordered = sorted(items, key=lambda r: r.effective)
            linked = []
            for i, rule in enumerate(ordered):
                nxt = ordered[i + 1].effective if i + 1 < len(ordered) else None
                linked.append(Rule(rule.key, rule.value, rule.version, rule.effective,
                                   rule.reference, nxt))
            self._versions[key] = tuple(linked)
        self._starts = {k: [r.effective for r in v] for k, v in self._versions.items()}

    # -- lookups --

    def keys(self) -> list[str]:
        return sorted(self._versions)

    def versions(self, key: str) -> tuple[Rule, ...]:
        """Every version of ``key``, oldest first (values are copies)."""
        return tuple(_copied(r) for r in self._rule_versions(key))

    def get(self, key: str, on: dt.date) -> Rule:
        """The version of ``key`` in force on ``on`` (the latest with effective <= on)."""
        on = _check_date(on)
        versions = self._rule_versions(key)
        i = bisect_right(self._starts[key], on)
        if i == 0:
            first = versions[0].effective
            raise RuleNotInForce(
                f"Rule {key!r} has no version in force on {on.isoformat()}: its first "
                f"version takes effect on {first.isoformat()}. Add an earlier version to "
                f"{_file_for(key)} if the platform must compute for that date.",
                key=key, on=on, first_effective=first)
        return _copied(versions[i - 1])

    def value(self, key: str, on: dt.date) -> Any:
        return self.get(key, on).value

    def in_force(self, on: dt.date) -> list[Rule]:
        """Every rule with a version in force on ``on``, by key."""
        on = _check_date(on)
        found = []
        for key in self.keys():
            try:
                found.append(self.get(key, on))
            except RuleNotInForce:
                continue
        return found

    def _rule_versions(self, key: str) -> tuple[Rule, ...]:
        try:
            return self._versions[key]
        except KeyError:
            raise UnknownRule(
                f"Unknown rule {key!r}: no file in {RULES_DIR} defines it. Known rules: "
                f"{', '.join(self.keys()) or '(none)'}.", key=key) from None


def _copied(rule: Rule) -> Rule:
    # Values such as ratio tables are dicts; a caller that changes one must not change
    # what the next caller is given.
    if isinstance(rule.value, dict | list):
        return Rule(rule.key, copy.deepcopy(rule.value), rule.version, rule.effective,
                    rule.reference, rule.superseded)
    return rule


def _file_for(key: str) -> str:
    return f"{RULES_DIR.name}/{key.split('.', 1)[0]}.json"


# --- loading and validation ------------------------------------------------------------


def _parse_family(path: Path, data: Any) -> dict[str, list[Rule]]:
    def fail(problem: str) -> RuleDataError:
        return RuleDataError(f"{path}: {problem}")

    if not isinstance(data, dict):
        raise fail("the file must hold a JSON object")
    family = data.get("family")
    if family != path.stem:
        raise fail(f'"family" must be {path.stem!r} (the file name), not {family!r}')
    entries = data.get("rules")
    if not isinstance(entries, dict) or not entries:
        raise fail('"rules" must be a non-empty object of key -> rule')
    out: dict[str, list[Rule]] = {}
    for key, entry in entries.items():
        if not _KEY_RE.match(key) or key.split(".", 1)[0] != family:
            raise fail(f"rule key {key!r} must be lowercase dotted and start with "
                       f"{family + '.'!r}")
        if not isinstance(entry, dict) or not isinstance(entry.get("versions"), list) \
                or not entry["versions"]:
            raise fail(f'{key}: "versions" must be a non-empty list')
        seen_dates: set[dt.date] = set()
        seen_ids: set[str] = set()
        items = []
        for n, raw in enumerate(entry["versions"], start=1):
            where = f"{key} version #{n}"
            if not isinstance(raw, dict):
                raise fail(f"{where}: must be an object")
            missing = {"version", "effective", "value", "reference"} - raw.keys()
            if missing:
                raise fail(f"{where}: missing {', '.join(sorted(missing))}")
            extra = raw.keys() - {"version", "effective", "value", "reference", "note"}
            if extra:
                raise fail(f"{where}: unknown field(s) {', '.join(sorted(extra))}")
            try:
                effective = dt.date.fromisoformat(raw["effective"])
            except (TypeError, ValueError):
                raise fail(f"{where}: effective {raw['effective']!r} is not a YYYY-MM-DD "
                           "date") from None
            version = raw["version"]
            if not isinstance(version, str) or not _VERSION_RE.match(version):
                raise fail(f"{where}: version {version!r} must be a short id of letters, "
                           "digits, '.', '_' or '-'")
            reference = raw["reference"]
            if not isinstance(reference, str) or not reference.strip():
                raise fail(f"{where}: reference must name the legal source")
            if effective in seen_dates:
                raise fail(f"{key}: two versions take effect on {effective.isoformat()}")
            if version in seen_ids:
                raise fail(f"{key}: version id {version!r} is used twice")
            seen_dates.add(effective)
            seen_ids.add(version)
            items.append(Rule(key, raw["value"], version, effective, reference.strip()))
        out[key] = items
    return out


def load(directory: Path | str = RULES_DIR) -> RuleBook:
    """Read and validate every ``*.json`` rule file in ``directory``."""
    directory = Path(directory)
    files = sorted(directory.glob("*.json"))
    if not files:
        raise RuleDataError(f"{directory}: no rule files (*.json) found")
    merged: dict[str, list[Rule]] = {}
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RuleDataError(f"{path}: not valid JSON ({exc})") from None
        merged.update(_parse_family(path, data))
    return RuleBook(merged)


@cache
def default_book() -> RuleBook:
    """The platform's rules, read once per process."""
    return load(RULES_DIR)


# --- the module-level API --------------------------------------------------------------


def get(key: str, on: dt.date) -> Rule:
    """The version of rule ``key`` in force on ``on``.

    Raises :class:`UnknownRule` for a key no file defines and :class:`RuleNotInForce`
    when ``on`` is before the rule's first version.
    """
    return default_book().get(key, on)


def value(key: str, on: dt.date) -> Any:
    """Shorthand for ``get(key, on).value``."""
    return default_book().value(key, on)


def keys() -> list[str]:
    return default_book().keys()


def versions(key: str) -> tuple[Rule, ...]:
    return default_book().versions(key)


def in_force(on: dt.date) -> list[Rule]:
    return default_book().in_force(on)

