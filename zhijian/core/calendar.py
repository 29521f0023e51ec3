"""The working-day calendar of mainland China (工作日), as dated data.

Statutory deadlines such as "publicise within 20 working days" (《企业信息公示暂行条例》
第六条、第七条) count working days, and which days are working days is decided each
year by the State Council General Office's notice on holiday arrangements
(国务院办公厅关于XXXX年部分节假日安排的通知): it lists the public holidays (放假日)
and the weekend days that become working days to make up for them (调休上班日).
A day is a working day when

* it is listed as an adjusted working day, or
* it is Monday to Friday and not listed as a holiday.

The notices are transcribed in ``data/holidays_cn.json``, one entry per year with the
notice's number as its source.  A date in a year without an entry raises
:class:`DateNotCovered` instead of being treated as a plain Monday-to-Friday week: a
deadline silently computed without the holidays would be wrong by up to a week.  Add
each new year's notice when it is published (usually in October or November); see
``docs/rules.md``.

Counting convention (the one 《民法典》第二百零一条 uses for periods: the start day is
not counted):

* ``add_working_days(start, n)`` is the n-th working day after ``start``;
* ``working_days_between(a, b)`` is the number of working days d with a < d <= b.

    >>> from datetime import date
    >>> from zhijian.core import calendar
    >>> calendar.add_working_days(date(2025, 9, 26), 1)   # Sunday, an adjusted working day
    datetime.date(2025, 9, 28)
    >>> calendar.add_working_days(date(2025, 9, 26), 20)  # across the National Day week
    datetime.date(2025, 10, 30)

Pure Python, no Django import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "DATA_FILE",
    "DateNotCovered",
    "CalendarDataError",
    "HolidayNotice",
    "WorkingDayCalendar",
    "load",
    "default_calendar",
    "covered_years",
    "is_working_day",
    "holiday_name",
    "add_working_days",
    "working_days_between",
    "notice",
    "data_version",
]

DATA_FILE = Path(__file__).with_name("data") / "holidays_cn.json"

_ONE_DAY = dt.timedelta(days=1)


class DateNotCovered(LookupError):
    """A date falls in a year for which there is no holiday notice in the data."""

    def __init__(self, message: str, *, date: dt.date, covered: tuple[int, ...]):
        super().__init__(message)
        self.date = date
        self.year = date.year
        self.covered = covered


class CalendarDataError(ValueError):
    """The holiday data file is malformed.  The message says where and what."""


@dataclass(frozen=True)
class HolidayNotice:
    """The State Council General Office notice that fixes one year's holidays."""

    year: int
    source: str  # the document number, e.g. 国办发明电〔2024〕12号
    title: str
    published: dt.date
    unverified: bool = False


def _check_date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError(
            f"{name} must be a datetime.date, not {type(value).__name__}; convert a "
            "datetime with django.utils.timezone.localdate() first")
    return value


def _date(raw: Any, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise CalendarDataError(f"{where}: {raw!r} is not a YYYY-MM-DD date") from None


class WorkingDayCalendar:
    """Working days over a contiguous run of years, built from the notices' data."""

    def __init__(self, data: dict[str, Any], *, origin: str = "holiday data"):
        years = data.get("years") if isinstance(data, dict) else None
        if not isinstance(years, dict) or not years:
            raise CalendarDataError(f'{origin}: "years" must be a non-empty object')
        try:
            numbers = sorted(int(y) for y in years)
        except ValueError:
            raise CalendarDataError(f"{origin}: every year key must be a number") from None
        if numbers != list(range(numbers[0], numbers[-1] + 1)):
            # A gap would be a year computed as plain Monday-to-Friday.
            raise CalendarDataError(
                f"{origin}: the years must be contiguous, got {numbers}; add the missing "
                "years' notices")

        self._years: tuple[int, ...] = tuple(numbers)
        self._first = dt.date(numbers[0], 1, 1)
        self._last = dt.date(numbers[-1], 12, 31)
        self._holidays: dict[dt.date, str] = {}
        self._adjusted: dict[dt.date, str] = {}
        self._notices: dict[int, HolidayNotice] = {}
        for year in numbers:
            self._read_year(year, years[str(year)], f"{origin}: {year}")

        working = []
        day = self._first
        while day <= self._last:
            if self._is_working(day):
                working.append(day)
            day += _ONE_DAY
        self._working: list[dt.date] = working
        canonical = json.dumps(years, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        self._version = hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def _read_year(self, year: int, entry: Any, where: str) -> None:
        if not isinstance(entry, dict):
            raise CalendarDataError(f"{where}: must be an object")
        for field in ("source", "title"):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise CalendarDataError(f'{where}: "{field}" must name the notice')
        unverified = entry.get("unverified", False)
        if not isinstance(unverified, bool):
            raise CalendarDataError(f'{where}: "unverified" must be true or false')
        self._notices[year] = HolidayNotice(
            year, entry["source"], entry["title"], _date(entry.get("published"), where),
            unverified)
        # A notice may reach back into late December of the year before (e.g. 元旦
        # 2018-12-30 to 2019-01-01 in the 2019 notice), never forward.
        allowed = {year - 1, year}

        holidays = entry.get("holidays")
        if not isinstance(holidays, list):
            raise CalendarDataError(f'{where}: "holidays" must be a list')
        for item in holidays:
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str) or not name:
                raise CalendarDataError(f"{where}: each holiday needs a name")
            start = _date(item.get("start"), f"{where} {name} start")
            end = _date(item.get("end"), f"{where} {name} end")
            if end < start or start.year not in allowed or end.year not in allowed:
                raise CalendarDataError(
                    f"{where} {name}: {start} to {end} is not a span within {year - 1}-{year}")
            length = (end - start).days + 1
            if item.get("days") != length:
                # The notice states the count (共N天); a mismatch is a transcription slip.
                raise CalendarDataError(
                    f"{where} {name}: {start} to {end} is {length} days, the entry says "
                    f"{item.get('days')}")
            day = start
            while day <= end:
                if day in self._holidays:
                    raise CalendarDataError(f"{where} {name}: {day} is already a holiday "
                                            f"({self._holidays[day]})")
                self._holidays[day] = name
                day += _ONE_DAY

        adjusted = entry.get("working_days")
        if not isinstance(adjusted, list):
            raise CalendarDataError(f'{where}: "working_days" must be a list')
        for item in adjusted:
            if not isinstance(item, dict):
                raise CalendarDataError(f"{where}: each working day must be an object")
            day = _date(item.get("date"), f"{where} working day")
            if day.year not in allowed:
                raise CalendarDataError(f"{where}: working day {day} is outside "
                                        f"{year - 1}-{year}")
            if day.weekday() < 5:
                raise CalendarDataError(
                    f"{where}: working day {day} is a {day:%A}; adjusted working days are "
                    "weekend days")
            if day in self._holidays:
                raise CalendarDataError(f"{where}: {day} is both a holiday and a working day")
            if day in self._adjusted:
                raise CalendarDataError(f"{where}: working day {day} is listed twice")
            self._adjusted[day] = str(item.get("for", ""))
        clash = set(self._adjusted) & set(self._holidays)
        if clash:
            day = min(clash)
            raise CalendarDataError(f"{where}: {day} is both a holiday and a working day")

    # -- coverage --

    def covered_years(self) -> tuple[int, ...]:
        return self._years

    def data_version(self) -> str:
        """A short hash of the holiday data; store it with a computed deadline."""
        return self._version

    def notice(self, year: int) -> HolidayNotice:
        try:
            return self._notices[year]
        except KeyError:
            raise self._not_covered(dt.date(year, 1, 1)) from None

    def _not_covered(self, day: dt.date, *, context: str = "") -> DateNotCovered:
        span = f"{self._years[0]}–{self._years[-1]}"
        return DateNotCovered(
            f"No holiday data for {day.year}{context or f' (date {day.isoformat()})'}: the "
            f"working-day calendar covers {span}. Add the State Council General Office "
            f"notice on the {day.year} holiday arrangements to "
            "zhijian/core/data/holidays_cn.json (see docs/rules.md).",
            date=day, covered=self._years)

    def _require(self, day: dt.date, name: str) -> dt.date:
        _check_date(day, name)
        if not self._first <= day <= self._last:
            raise self._not_covered(day)
        return day

    # -- questions about one day --

    def _is_working(self, day: dt.date) -> bool:
        if day in self._adjusted:
            return True
        return day.weekday() < 5 and day not in self._holidays

    def is_working_day(self, day: dt.date) -> bool:
        return self._is_working(self._require(day, "day"))

    def holiday_name(self, day: dt.date) -> str | None:
        """The holiday ``day`` belongs to (e.g. "国庆节、中秋节"), or None."""
        return self._holidays.get(self._require(day, "day"))

    # -- counting --

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after ``start`` (``start`` itself is not counted).

        ``n = 0`` gives ``start`` back.  Raises :class:`DateNotCovered` when ``start``
        or the result falls outside the covered years.
        """
        self._require(start, "start")
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, not {type(n).__name__}")
        if n < 0:
            raise ValueError(f"n must be zero or more, not {n}")
        if n == 0:
            return start
        i = bisect_right(self._working, start) + n - 1
        if i >= len(self._working):
            raise self._not_covered(
                self._last + _ONE_DAY,
                context=f" (adding {n} working day(s) to {start.isoformat()} goes past "
                        f"{self._last.isoformat()})")
        return self._working[i]

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """The number of working days d with a < d <= b; negative when b < a."""
        self._require(a, "a")
        self._require(b, "b")
        if b < a:
            return -self.working_days_between(b, a)
        return bisect_right(self._working, b) - bisect_right(self._working, a)


def load(path: Path | str = DATA_FILE) -> WorkingDayCalendar:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CalendarDataError(f"{path}: not valid JSON ({exc})") from None
    return WorkingDayCalendar(data, origin=str(path))


@cache
def default_calendar() -> WorkingDayCalendar:
    """The platform's calendar, read once per process."""
    return load(DATA_FILE)


def covered_years() -> tuple[int, ...]:
    """The years the holiday data covers (contiguous, ascending)."""
    return default_calendar().covered_years()


def is_working_day(day: dt.date) -> bool:
    return default_calendar().is_working_day(day)


def holiday_name(day: dt.date) -> str | None:
    return default_calendar().holiday_name(day)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start``; ``start`` itself does not count."""
    return default_calendar().add_working_days(start, n)


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Working days d with a < d <= b (negative when b < a)."""
    return default_calendar().working_days_between(a, b)


def notice(year: int) -> HolidayNotice:
    return default_calendar().notice(year)


def data_version() -> str:
    return default_calendar().data_version()


def deadline(start: dt.date, n: int) -> tuple[dt.date, bool]:
    """The n-th working day after ``start`` for a legal deadline, and whether it is
    provisional. Where the holiday notice of a year is not yet in the data (the State
    Council publishes it late in the year before), that year counts Monday to Friday and
    the deadline is marked provisional, rather than refusing to set one; the days of the
    covered years still follow the notices."""
    cal = default_calendar()
    try:
        return cal.add_working_days(start, n), False
    except DateNotCovered:
        pass
    day, left = start, n
    while left:
        day += _ONE_DAY
        covered = cal.covered_years()[0] <= day.year <= cal.covered_years()[-1]
        if (cal.is_working_day(day) if covered else day.weekday() < 5):
            left -= 1
    return day, True
