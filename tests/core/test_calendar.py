"""The working-day calendar of mainland China: zhijian.core.calendar."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from zhijian.core import calendar, rules
from zhijian.core.calendar import CalendarDataError, DateNotCovered, WorkingDayCalendar

D = dt.date
YEARS = calendar.covered_years()
FIRST, LAST = D(YEARS[0], 1, 1), D(YEARS[-1], 12, 31)


# --- what the notices say --------------------------------------------------------------


def test_covers_2024_to_2026_contiguously():
    assert {2024, 2025, 2026} <= set(YEARS)
    assert list(YEARS) == list(range(YEARS[0], YEARS[-1] + 1))


def test_sources_are_the_notices():
    assert calendar.notice(2024).source == "国办发明电〔2023〕7号"
    assert calendar.notice(2025).source == "国办发明电〔2024〕12号"
    assert calendar.notice(2026).source == "国办发明电〔2025〕7号"
    assert calendar.notice(2025).title == "国务院办公厅关于2025年部分节假日安排的通知"
    assert calendar.notice(2025).published == D(2024, 11, 12)
    assert not any(calendar.notice(y).unverified for y in (2024, 2025, 2026))


def test_national_day_2025():
    assert calendar.holiday_name(D(2025, 10, 1)) == "国庆节、中秋节"
    assert not calendar.is_working_day(D(2025, 10, 1))
    assert not calendar.is_working_day(D(2025, 10, 8))  # a Wednesday, last day off
    assert calendar.is_working_day(D(2025, 10, 9))
    assert D(2025, 9, 28).weekday() == 6 and calendar.is_working_day(D(2025, 9, 28))
    assert D(2025, 10, 11).weekday() == 5 and calendar.is_working_day(D(2025, 10, 11))
    assert not calendar.is_working_day(D(2025, 10, 12))  # an ordinary Sunday
    assert calendar.holiday_name(D(2025, 9, 28)) is None


@pytest.mark.parametrize(("day", "working"), [
    (D(2024, 2, 4), True),    # Sunday, made up for the Spring Festival
    (D(2024, 2, 9), True),    # 除夕: rest is encouraged, but it is a working day
    (D(2024, 2, 10), False),
    (D(2024, 2, 18), True),   # Sunday
    (D(2024, 5, 11), True),   # Saturday
    (D(2024, 6, 10), False),  # 端午节, Monday
    (D(2025, 1, 1), False),
    (D(2025, 1, 26), True),   # Sunday
    (D(2025, 2, 4), False),   # Tuesday, 正月初七
    (D(2025, 2, 5), True),
    (D(2025, 6, 2), False),   # 端午节, Monday
    (D(2026, 1, 2), False),   # Friday, 元旦
    (D(2026, 1, 4), True),    # Sunday
    (D(2026, 2, 23), False),  # Monday, 正月初七
    (D(2026, 2, 28), True),   # Saturday
    (D(2026, 9, 20), True),   # Sunday
    (D(2026, 10, 8), True),   # Thursday after the 7-day National Day holiday
    (D(2026, 10, 10), True),  # Saturday
])
def test_notice_dates(day, working):
    assert calendar.is_working_day(day) is working


def test_working_days_per_year():
    # 2024: 251, 2025: 248 (two more statutory holidays from 2025), 2026: 248.
    # 2024-01-01 is a holiday, so counting from it (exclusive) misses no working day.
    assert calendar.working_days_between(D(2024, 1, 1), D(2024, 12, 31)) == 251
    assert calendar.working_days_between(D(2024, 12, 31), D(2025, 12, 31)) == 248
    assert calendar.working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == 248


# --- counting --------------------------------------------------------------------------


def test_next_working_day_is_an_adjusted_sunday():
    assert calendar.add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)


def test_publication_deadline_across_national_day_2025():
    # Result produced Friday 2025-09-26; 20 working days, the day itself not counted:
    # 9-28 (Sun, adjusted) 9-29 9-30 | 10-1..10-8 off | 10-9 10-10 10-11 (Sat, adjusted)
    # 10-13..10-17 10-20..10-24 10-27..10-30 = 20.
    days = rules.value("inspections.publication_working_days", D(2025, 9, 26))
    assert calendar.add_working_days(D(2025, 9, 26), days) == D(2025, 10, 30)
    assert calendar.working_days_between(D(2025, 9, 26), D(2025, 10, 30)) == 20
    assert calendar.working_days_between(D(2025, 9, 26), D(2025, 10, 29)) == 19


def test_publication_deadline_across_national_day_2024():
    # 9-29 (Sun) 9-30 | 10-1..10-7 off | 10-8..10-11 10-12 (Sat) 10-14..10-18 10-21..10-25
    # 10-28..10-30 = 20.
    assert calendar.add_working_days(D(2024, 9, 27), 20) == D(2024, 10, 30)


def test_across_spring_festival_2026():
    assert calendar.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert calendar.add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert calendar.working_days_between(D(2026, 2, 14), D(2026, 2, 24)) == 1


def test_across_new_year():
    assert calendar.add_working_days(D(2024, 12, 31), 1) == D(2025, 1, 2)
    assert calendar.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 4)


def test_zero_days_and_reversed_ranges():
    assert calendar.add_working_days(D(2025, 10, 1), 0) == D(2025, 10, 1)
    assert calendar.working_days_between(D(2025, 10, 1), D(2025, 10, 1)) == 0
    assert calendar.working_days_between(D(2025, 10, 30), D(2025, 9, 26)) == -20


# --- errors ----------------------------------------------------------------------------


def test_date_before_the_data():
    before = FIRST - dt.timedelta(days=1)
    with pytest.raises(DateNotCovered) as caught:
        calendar.is_working_day(before)
    err = caught.value
    assert (err.date, err.year, err.covered) == (before, before.year, YEARS)
    assert str(err).startswith(
        f"No holiday data for {before.year} (date {before.isoformat()}): the working-day "
        f"calendar covers {YEARS[0]}–{YEARS[-1]}.")
    assert "holidays_cn.json" in str(err)
    assert isinstance(err, LookupError)


def test_result_after_the_data():
    with pytest.raises(DateNotCovered) as caught:
        calendar.add_working_days(LAST, 1)
    assert caught.value.year == LAST.year + 1
    assert f"No holiday data for {LAST.year + 1}" in str(caught.value)
    assert f"goes past {LAST.isoformat()}" in str(caught.value)


@pytest.mark.parametrize("call", [
    lambda: calendar.working_days_between(FIRST, LAST + dt.timedelta(days=1)),
    lambda: calendar.working_days_between(FIRST - dt.timedelta(days=1), LAST),
    lambda: calendar.holiday_name(LAST + dt.timedelta(days=1)),
    lambda: calendar.add_working_days(LAST + dt.timedelta(days=1), 0),
    lambda: calendar.notice(LAST.year + 1),
])
def test_outside_the_data_is_an_error_everywhere(call):
    with pytest.raises(DateNotCovered):
        call()


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be zero or more"):
        calendar.add_working_days(D(2025, 1, 2), -1)
    with pytest.raises(TypeError, match="n must be an int"):
        calendar.add_working_days(D(2025, 1, 2), 1.0)
    with pytest.raises(TypeError, match="must be a datetime.date"):
        calendar.is_working_day(dt.datetime(2025, 1, 2, 9))
    with pytest.raises(TypeError, match="must be a datetime.date"):
        calendar.working_days_between("2025-01-02", D(2025, 1, 3))


# --- the data file ---------------------------------------------------------------------


def _data():
    return json.loads(calendar.DATA_FILE.read_text(encoding="utf-8"))


def test_data_is_loaded_once_and_versioned():
    assert calendar.default_calendar() is calendar.default_calendar()
    assert calendar.data_version() == WorkingDayCalendar(_data()).data_version()
    assert len(calendar.data_version()) == 12


def _broken(change):
    data = copy.deepcopy(_data())
    change(data["years"])
    return data


@pytest.mark.parametrize(("change", "problem"), [
    (lambda y: y.pop("2025"), "the years must be contiguous"),
    (lambda y: y["2025"]["working_days"].append({"date": "2025-03-03"}),
     "2025-03-03 is a Monday; adjusted working days are weekend days"),
    (lambda y: y["2025"]["holidays"][0].update(days=2), "is 1 days, the entry says 2"),
    (lambda y: y["2025"]["working_days"].append({"date": "2025-10-04"}),
     "both a holiday and a working day"),
    (lambda y: y["2025"]["holidays"].append(
        {"name": "x", "start": "2026-01-01", "end": "2026-01-01", "days": 1}),
     "is not a span within 2024-2025"),
    (lambda y: y["2026"]["holidays"].append(
        {"name": "x", "start": "2026-10-07", "end": "2026-10-07", "days": 1}),
     "already a holiday"),
    (lambda y: y["2026"].pop("source"), '"source" must name the notice'),
])
def test_malformed_data_is_refused(change, problem):
    with pytest.raises(CalendarDataError, match=problem):
        WorkingDayCalendar(_broken(change))


# --- properties ------------------------------------------------------------------------

covered_days = st.dates(min_value=FIRST, max_value=LAST)


@given(start=covered_days, n=st.integers(min_value=0, max_value=300))
def test_add_then_count_round_trips(start, n):
    try:
        end = calendar.add_working_days(start, n)
    except DateNotCovered:
        assume(False)
    assert calendar.working_days_between(start, end) == n
    if n > 0:
        assert end > start
        assert calendar.is_working_day(end)
        # The day before the result is fewer than n working days away.
        assert calendar.working_days_between(start, end - dt.timedelta(days=1)) == n - 1


@given(a=covered_days, b=covered_days)
def test_count_then_add_lands_on_the_last_working_day(a, b):
    a, b = min(a, b), max(a, b)
    n = calendar.working_days_between(a, b)
    end = calendar.add_working_days(a, n)
    assert end <= b
    assert calendar.working_days_between(end, b) == 0
    assert calendar.working_days_between(b, a) == -n


@given(a=covered_days, span=st.integers(min_value=0, max_value=40))
def test_count_matches_day_by_day(a, span):
    b = a + dt.timedelta(days=span)
    assume(b <= LAST)
    by_hand = sum(calendar.is_working_day(a + dt.timedelta(days=i)) for i in range(1, span + 1))
    assert calendar.working_days_between(a, b) == by_hand


def test_deadline_beyond_the_notices_counts_weekdays_and_says_so():
    import datetime as dt

    from zhijian.core import calendar

    assert calendar.deadline(dt.date(2025, 9, 26), 20) == (dt.date(2025, 10, 30), False)
    # 2026-12-31 is a Thursday; 2027 has no notice yet: Fri 1, Mon 4 … counted as weekdays.
    assert calendar.deadline(dt.date(2026, 12, 30), 3) == (dt.date(2027, 1, 4), True)
