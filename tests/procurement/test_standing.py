"""The pure standing computation (zhijian/procurement/standing.py): the worked examples of
docs/supplier-standing.md, each rule at its edges, appeals, and properties."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhijian.core import rules
from zhijian.procurement import standing
from zhijian.procurement.standing import months_before, rate, related_categories

D = dt.date
RULE = rules.get("procurement.standing", D(2026, 6, 30)).value
ON = D(2026, 6, 30)
DOC = Path(__file__).resolve().parents[2] / "docs" / "supplier-standing.md"


def facts(**kinds):
    return {"category": "electrical.cable", **kinds}


def test_the_rule_in_force_is_the_documented_one():
    rule = rules.get("procurement.standing", D(2026, 6, 30))
    assert rule.version == "2017-01-01"
    assert rule.value == {
        "lookback_months": 24, "watch_below": 80,
        "hard": {"failed_sampling_same_category": 1, "revoked_report": 1,
                 "fake_report_signal": 1, "blacklist": 1, "rejected_deliveries": 3},
        "deductions": {"failed_sampling_other_category": 15, "inspection_problem": 10,
                       "penalty": 10, "rejected_delivery": 10}}


def test_no_facts_is_qualified_with_100():
    assert rate(facts(), RULE, on=ON) == standing.Rating("qualified", 100, [])


# --- the worked examples of docs/supplier-standing.md ---------------------------------------

def test_example_1_deductions_put_the_supplier_under_watch():
    r = rate(facts(
        failed_samplings=[{"date": D(2025, 3, 10), "ref": "GB2025-0117",
                           "category": "electrical.switch"}],
        inspection_problems=[{"date": D(2025, 11, 2), "ref": "SJ-2025-0004"}],
        rejected_deliveries=[{"date": D(2026, 1, 15), "ref": "DN-0031"}],
    ), RULE, on=ON)
    assert (r.standing, r.score) == ("watch", 65)
    assert r.reasons == [
        {"code": "failed_sampling_other_category",
         "rule": "deductions.failed_sampling_other_category", "count": 1, "points": 15,
         "hard": False, "detail": {"facts": ["GB2025-0117 2025-03-10"], "per_fact": 15}},
        {"code": "inspection_problem", "rule": "deductions.inspection_problem", "count": 1,
         "points": 10, "hard": False,
         "detail": {"facts": ["SJ-2025-0004 2025-11-02"], "per_fact": 10}},
        {"code": "rejected_delivery", "rule": "deductions.rejected_delivery", "count": 1,
         "points": 10, "hard": False, "detail": {"facts": ["DN-0031 2026-01-15"],
                                                 "per_fact": 10}},
    ]


def test_example_2_a_failed_sampling_in_the_category_removes():
    r = rate(facts(
        failed_samplings=[{"date": D(2026, 4, 20), "ref": "GB2026-0042",
                           "category": "electrical.cable"}],
        inspection_problems=[{"date": D(2024, 6, 29), "ref": "SJ-2024-0009"}],
    ), RULE, on=ON)
    assert (r.standing, r.score) == ("removed", 100)
    assert r.reasons == [
        {"code": "failed_sampling_same_category",
         "rule": "hard.failed_sampling_same_category", "count": 1, "points": 0, "hard": True,
         "detail": {"facts": ["GB2026-0042 2026-04-20"], "threshold": 1}}]
    assert r.tripped == ["failed_sampling_same_category"]


def test_example_3_an_upheld_appeal_sets_the_rule_aside_until_its_day():
    f = facts(failed_samplings=[{"date": D(2026, 4, 20), "ref": "GB2026-0042",
                                 "category": "electrical.cable"}])
    aside = [("failed_sampling_same_category", D(2026, 9, 30))]
    r = rate(f, RULE, on=ON, overrides=aside)
    assert (r.standing, r.score) == ("qualified", 100)
    assert r.reasons == [
        {"code": "failed_sampling_same_category",
         "rule": "hard.failed_sampling_same_category", "count": 1, "points": 0, "hard": False,
         "detail": {"facts": ["GB2026-0042 2026-04-20"], "threshold": 1,
                    "set_aside_until": "2026-09-30"}}]
    assert rate(f, RULE, on=D(2026, 9, 30), overrides=aside).standing == "qualified"
    assert rate(f, RULE, on=D(2026, 10, 1), overrides=aside).standing == "removed"


def test_example_4_three_rejected_deliveries_remove():
    r = rate(facts(rejected_deliveries=[
        {"date": D(2025, 9, 1), "ref": "DN-0101"}, {"date": D(2026, 2, 3), "ref": "DN-0144"},
        {"date": D(2026, 6, 1), "ref": "DN-0190"}]), RULE, on=ON)
    assert (r.standing, r.score) == ("removed", 70)
    assert [(x["code"], x["count"], x["points"], x["hard"]) for x in r.reasons] == [
        ("rejected_deliveries", 3, 0, True), ("rejected_delivery", 3, 30, False)]
    assert r.reasons[0]["detail"] == {
        "facts": ["DN-0101 2025-09-01", "DN-0144 2026-02-03", "DN-0190 2026-06-01"],
        "threshold": 3}


def test_the_doc_shows_every_worked_example():
    text = DOC.read_text()
    for needle in ["Example 1", "Example 2", "Example 3", "Example 4", "GB2025-0117",
                   "GB2026-0042", "DN-0190", "100 − 15 − 10 − 10 = 65", "100 − 30 = 70"]:
        assert needle in text, needle


# --- each rule at its edges ------------------------------------------------------------------

@pytest.mark.parametrize(("day", "counted"), [
    (D(2024, 6, 29), False), (D(2024, 6, 30), True), (D(2026, 6, 30), True),
    (D(2026, 7, 1), False)])
def test_the_lookback_period_includes_both_ends(day, counted):
    r = rate(facts(inspection_problems=[{"date": day, "ref": "SJ"}]), RULE, on=ON)
    assert r.score == (90 if counted else 100)


def test_lookback_from_the_last_day_of_a_month():
    assert months_before(D(2026, 2, 28), 24) == D(2024, 2, 28)
    assert months_before(D(2024, 2, 29), 12) == D(2023, 2, 28)
    assert months_before(D(2026, 3, 31), 1) == D(2026, 2, 28)
    assert months_before(D(2026, 5, 31), 1) == D(2026, 4, 30)


@pytest.mark.parametrize(("code", "kind"), [
    ("revoked_report", "revoked_reports"), ("fake_report_signal", "fake_report_signals")])
def test_revoked_reports_and_open_signals_remove(code, kind):
    r = rate(facts(**{kind: [{"date": D(2026, 6, 1), "ref": "T2026-00001"}]}), RULE, on=ON)
    assert (r.standing, r.tripped) == ("removed", [code])


def test_a_blacklist_entry_counts_while_in_force_whatever_its_age():
    entry = {"date": D(2020, 1, 1), "until": D(2026, 6, 30), "ref": "HMD-2020-01"}
    assert rate(facts(blacklist=[entry]), RULE, on=ON).tripped == ["blacklist"]
    assert rate(facts(blacklist=[entry]), RULE, on=D(2026, 7, 1)).standing == "qualified"
    open_ended = {"date": D(2026, 7, 1), "until": None, "ref": "HMD-2026-07"}
    assert rate(facts(blacklist=[open_ended]), RULE, on=ON).standing == "qualified"
    assert rate(facts(blacklist=[open_ended]), RULE, on=D(2030, 1, 1)).standing == "removed"


def test_penalties_deduct():
    r = rate(facts(penalties=[{"date": D(2026, 1, 1), "ref": "陕市监罚〔2026〕1号"}]),
             RULE, on=ON)
    assert (r.standing, r.score, r.reasons[0]["code"]) == ("qualified", 90, "penalty")


@pytest.mark.parametrize(("list_code", "fact_code", "same"), [
    ("electrical.cable", "electrical.cable", True),
    ("electrical.cable", "electrical.cable.power", True),
    ("electrical.cable", "electrical", True),
    ("electrical.cable", "electrical.switch", False),
    ("electrical.cable", "electrical.cables", False),
    ("building.steel", "electrical.cable", False)])
def test_same_category_means_the_same_line_of_products(list_code, fact_code, same):
    assert related_categories(list_code, fact_code) is same
    r = rate({"category": list_code, "failed_samplings": [
        {"date": D(2026, 1, 1), "ref": "GB", "category": fact_code}]}, RULE, on=ON)
    assert (r.standing, r.score) == (("removed", 100) if same else ("qualified", 85))


def test_two_rejections_deduct_without_removing():
    r = rate(facts(rejected_deliveries=[{"date": D(2026, 1, 1), "ref": "A"},
                                        {"date": D(2026, 2, 1), "ref": "B"}]), RULE, on=ON)
    assert (r.standing, r.score, r.tripped) == ("qualified", 80, [])


def test_watch_starts_below_the_threshold_and_the_score_stops_at_zero():
    problems = [{"date": D(2026, 1, d), "ref": f"SJ{d}"} for d in range(1, 3)]
    assert rate(facts(inspection_problems=problems), RULE, on=ON).standing == "qualified"
    problems.append({"date": D(2026, 1, 3), "ref": "SJ3"})
    assert rate(facts(inspection_problems=problems), RULE, on=ON).standing == "watch"
    many = [{"date": D(2026, 1, d), "ref": f"SJ{d}"} for d in range(1, 20)]
    assert rate(facts(inspection_problems=many), RULE, on=ON).score == 0


def test_a_rule_set_to_zero_is_not_applied():
    rule = {**RULE, "hard": {**RULE["hard"], "fake_report_signal": 0}}
    r = rate(facts(fake_report_signals=[{"date": D(2026, 6, 1), "ref": "X"}]), rule, on=ON)
    assert r == standing.Rating("qualified", 100, [])


def test_an_override_names_only_the_rules_it_sets_aside():
    f = facts(revoked_reports=[{"date": D(2026, 6, 1), "ref": "T1"}],
              fake_report_signals=[{"date": D(2026, 6, 1), "ref": "T2"}])
    r = rate(f, RULE, on=ON, overrides=[("revoked_report", D(2026, 12, 31))])
    assert (r.standing, r.tripped) == ("removed", ["fake_report_signal"])


def test_dates_may_be_iso_strings_and_datetimes_are_refused():
    r = rate(facts(inspection_problems=[{"date": "2026-01-01", "ref": "SJ"}]), RULE,
             on=ON)
    assert r.score == 90
    with pytest.raises(TypeError, match="give a date, not a datetime"):
        rate(facts(), RULE, on=dt.datetime(2026, 6, 30, 12))


def test_a_malformed_rule_is_refused():
    with pytest.raises(standing.RuleValueError, match="unknown rule codes: typo"):
        rate(facts(), {**RULE, "hard": {"typo": 1}}, on=ON)
    with pytest.raises(standing.RuleValueError, match="no 'watch_below'"):
        rate(facts(), {k: v for k, v in RULE.items() if k != "watch_below"}, on=ON)


# --- properties ----------------------------------------------------------------------------

CATEGORIES = ["electrical", "electrical.cable", "electrical.cable.power", "electrical.switch",
              "building.steel"]
days = st.dates(min_value=D(2023, 1, 1), max_value=D(2027, 12, 31))
fact = st.fixed_dictionaries({"date": days, "ref": st.text("ABC123", min_size=1, max_size=4),
                              "category": st.sampled_from(CATEGORIES),
                              "until": st.none() | days})
kinds = st.sampled_from(standing.FACT_KINDS)
fact_sets = st.dictionaries(kinds, st.lists(fact, max_size=5))
ORDER = {"removed": 0, "watch": 1, "qualified": 2}


@given(fact_sets, kinds, fact, days)
def test_adding_a_fact_never_raises_the_score_or_improves_the_standing(base, kind, extra, on):
    before = rate({"category": "electrical.cable", **base}, RULE, on=on)
    more = {k: list(v) for k, v in base.items()}
    more.setdefault(kind, []).append(extra)
    after = rate({"category": "electrical.cable", **more}, RULE, on=on)
    assert after.score <= before.score
    assert ORDER[after.standing] <= ORDER[before.standing]


@given(fact_sets, days)
def test_the_score_is_100_minus_the_points_and_removal_follows_the_hard_reasons(base, on):
    r = rate({"category": "electrical.cable", **base}, RULE, on=on)
    assert r.score == max(0, 100 - sum(x["points"] for x in r.reasons))
    assert (r.standing == "removed") == any(x["hard"] for x in r.reasons)
    assert all(x["count"] == len(x["detail"]["facts"]) for x in r.reasons)
