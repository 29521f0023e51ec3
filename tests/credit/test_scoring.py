"""The pure quality-credit classification (zhijian/credit/scoring.py): the worked examples
of docs/credit-classification.md (the doc's generated blocks are re-rendered here and must
match), each reason a record does not count, rules by date, duplicates, blacklist
criteria, the batch path, and properties.

Regenerate the doc's generated blocks after changing an example or the rules:
    .venv/bin/python -m tests.credit.test_scoring
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhijian.core import rules as rulebook
from zhijian.credit import scoring
from zhijian.credit.scoring import (
    RULE_KEYS,
    Record,
    RecordError,
    Rules,
    RuleValueError,
    add_months,
    blacklist_candidates,
    first_open_date,
    rate,
    rate_many,
)

D = dt.date
ON = D(2026, 6, 30)
VERSION = "2021-09-01"
DOC = Path(__file__).resolve().parents[2] / "docs" / "credit-classification.md"


def rules_of(version: str = VERSION, book=None) -> Rules:
    """The shipped credit rules of one version, picked by id (not by date), so that a
    later version added to the file does not change the documented examples."""
    book = book or rulebook.default_book()
    picked = {key: next(r for r in book.versions(key) if r.version == version)
              for key in RULE_KEYS}
    return Rules(picked["credit.record_kinds"].value, picked["credit.classes"].value,
                 picked["credit.blacklist_criteria"].value,
                 versions={key: r.version for key, r in picked.items()})


RULES = rules_of()
RULES_VALUES = {key: next(r for r in rulebook.versions(key) if r.version == VERSION).value
                for key in RULE_KEYS}


def R(id, kind, date, weight=None, expires_on=None, repaired_on=None, source=""):  # noqa: N802
    return Record(id, kind, date, weight, expires_on, repaired_on, source)


def brief(rating):
    """(id, counted, points, reason) per contribution."""
    return [(c.id, c.counted, c.points, c.reason) for c in rating.contributions]


# --- the worked examples of docs/credit-classification.md ----------------------------------

EXAMPLES = {
    1: (ON, [
        R(1, "award", D(2025, 5, 20), source="陕西省质量奖 2025"),
        R(2, "inspection_clean", D(2025, 11, 3), source="SJ-2025-0112"),
        R(3, "sampling_passed", D(2024, 12, 1), source="GB2024-0311"),
        R(4, "inspection_problem", D(2025, 8, 14), source="SJ-2025-0087"),
        R(5, "commitment_made", D(2024, 3, 1), source="信用承诺书 CN-2024-0042"),
    ]),
    2: (ON, [
        R(11, "sampling_failed", D(2025, 3, 10), source="GB2025-0117"),
        R(12, "sampling_failed", D(2026, 1, 15), weight=20, source="GB2026-0009"),
        R(13, "inspection_problem", D(2025, 5, 2), source="SJ-2025-0031"),
        R(14, "penalty", D(2025, 9, 1), repaired_on=D(2026, 3, 1),
          source="陕市监罚〔2025〕17号"),
        R(15, "recall_ordered", D(2026, 7, 2), source="ZH-2026-0003"),
        R(11, "sampling_failed", D(2025, 3, 10), source="GB2025-0117"),
        R(16, "quality_star", D(2025, 12, 1), source="星级评定"),
    ]),
    3: (ON, [
        R(21, "fake_report", D(2026, 2, 10), source="虚假报告认定 XB-2026-003"),
        R(22, "award", D(2025, 6, 1), source="陕西省质量奖 2025"),
        R(23, "inspection_clean", D(2026, 4, 1), source="SJ-2026-0040"),
    ]),
    4: (ON, [
        R(31, "penalty_heavy", D(2025, 3, 20), source="陕市监罚〔2025〕9号"),
        R(32, "inspection_clean", D(2025, 2, 10), source="SJ-2025-0006"),
        R(33, "inspection_clean", D(2025, 9, 1), source="SJ-2025-0098"),
        R(34, "award", D(2025, 10, 15), source="西安市质量奖 2025"),
        R(35, "inspection_clean", D(2026, 3, 15), source="SJ-2026-0021"),
        R(36, "award", D(2026, 5, 1), source="陕西省质量奖 2026"),
    ]),
    6: (ON, [
        R(41, "sampling_failed", D(2024, 9, 5), source="GB2024-0207"),
        R(42, "sampling_failed", D(2025, 4, 18), source="GB2025-0133"),
        R(43, "sampling_failed", D(2026, 3, 2), source="GB2026-0015"),
        R(44, "commitment_breached", D(2025, 11, 20), expires_on=D(2026, 5, 20),
          source="承诺核查 HC-2025-0008"),
    ]),
}
# Example 5 is example 4's firm as of an earlier day.
EXAMPLES[5] = (D(2025, 4, 30), EXAMPLES[4][1])
EXAMPLES = dict(sorted(EXAMPLES.items()))


def example(n):
    on, records = EXAMPLES[n]
    return rate(records, RULES, on=on), blacklist_candidates(records, RULES, on=on)


def test_example_1_positive_records_lift_a_firm_to_a():
    rating, proposals = example(1)
    assert (rating.risk_class, rating.score, rating.raw_score) == ("A", 107, 107)
    assert rating.score_class == "A"
    assert rating.hard_rules == ()
    assert rating.versions == {key: VERSION for key in RULE_KEYS}
    assert brief(rating) == [
        (5, True, 0, None),
        (3, False, 0, "expired"),
        (1, True, 10, None),
        (4, True, -5, None),
        (2, True, 2, None),
    ]
    assert [c.expires_on for c in rating.contributions] == [
        D(2027, 3, 1), D(2025, 12, 1), D(2028, 5, 20), D(2026, 8, 14), D(2026, 11, 3)]
    assert proposals == []


def test_example_2_every_reason_a_record_does_not_count():
    rating, proposals = example(2)
    assert (rating.risk_class, rating.score, rating.score_class) == ("C", 70, "C")
    assert brief(rating) == [
        (11, True, -10, None),
        (11, False, 0, "duplicate"),
        (13, False, 0, "expired"),
        (14, False, 0, "repaired"),
        (16, False, 0, "unknown_kind"),
        (12, True, -20, None),
        (15, False, 0, "future_dated"),
    ]
    twelve = rating.contributions[5]
    assert (twelve.weight, twelve.weight_from) == (20, "record")
    unknown = rating.contributions[4]
    assert (unknown.weight, unknown.weight_from, unknown.expires_on) == (None, None, None)
    assert rating.duplicates == (11,)
    assert proposals == []


def test_example_3_an_open_severe_record_makes_the_class_d():
    rating, proposals = example(3)
    assert (rating.score, rating.score_class, rating.risk_class) == (72, "C", "D")
    assert [h.as_dict() for h in rating.hard_rules] == [
        {"id": "severe_open", "cap": "D", "at_least": 1, "count": 1, "records": [21]}]
    assert brief(rating) == [(22, True, 10, None), (21, True, -40, None), (23, True, 2, None)]
    assert proposals == [("fake_report", [21])]


def test_example_4_a_heavy_penalty_caps_the_class_at_c():
    rating, proposals = example(4)
    assert (rating.score, rating.score_class, rating.risk_class) == (94, "B", "C")
    assert [(h.id, h.cap, h.records) for h in rating.hard_rules] == [
        ("heavy_penalty_open", "C", (31,))]
    assert brief(rating) == [
        (32, False, 0, "expired"),
        (31, True, -30, None),
        (33, True, 2, None),
        (34, True, 10, None),
        (35, True, 2, None),
        (36, True, 10, None),
    ]
    # The heavy penalty is older than the criterion's 12 months: no proposal any more.
    assert proposals == []


def test_example_5_the_same_firm_as_of_an_earlier_day():
    rating, proposals = example(5)
    assert (rating.on, rating.score, rating.risk_class) == (D(2025, 4, 30), 72, "C")
    assert brief(rating) == [
        (32, True, 2, None),
        (31, True, -30, None),
        (33, False, 0, "future_dated"),
        (34, False, 0, "future_dated"),
        (35, False, 0, "future_dated"),
        (36, False, 0, "future_dated"),
    ]
    assert proposals == [("heavy_penalty", [31])]


def test_example_6_three_failed_samplings_propose_a_listing():
    rating, proposals = example(6)
    assert (rating.score, rating.risk_class, rating.hard_rules) == (70, "C", ())
    assert brief(rating) == [
        (41, True, -10, None),
        (42, True, -10, None),
        (44, False, 0, "expired"),
        (43, True, -10, None),
    ]
    assert rating.contributions[2].expires_on == D(2026, 5, 20)
    assert proposals == [("repeated_failed_sampling", [41, 42, 43])]


# --- the doc's generated blocks ---------------------------------------------------------------

_BLOCK = re.compile(r"<!-- generated: (?P<name>[a-z0-9-]+) -->\n(?P<body>.*?)<!-- end generated -->",
                    re.S)


def _num(points: int) -> str:
    return f"+{points}" if points > 0 else str(points)


def _cell(value) -> str:
    return "" if value is None else str(value)


def render_rules() -> str:
    out = [f"Versions {', '.join(f'`{k}` {v}' for k, v in RULES.versions.items())}.", "",
           "| kind | category | weight (points) | validity (months) | severe |",
           "|---|---|---:|---:|---|"]
    for k in RULES.kinds.values():
        out.append(f"| `{k.name}` | {k.category} | {k.weight} | "
                   f"{_cell(k.validity_months) or 'no expiry'} | {'yes' if k.severe else ''} |")
    out += ["", f"Base score {RULES.base}; the score is kept between {RULES.min_score} and "
                f"{RULES.max_score}.", "", "| class | from score |", "|---|---:|"]
    for name, floor in RULES.bands:
        out.append(f"| {name} | {'(any lower score)' if floor is None else floor} |")
    out += ["", "| hard rule | matches | at least | class at most |", "|---|---|---:|---|"]
    for h in RULES.hard:
        matches = "any severe kind" if h.severe else ", ".join(f"`{k}`" for k in sorted(h.kinds))
        out.append(f"| `{h.id}` | {matches} | {h.at_least} | {h.cap} |")
    out += ["", "| blacklist criterion | kinds | at least | within (months) |",
            "|---|---|---:|---:|"]
    for c in RULES.criteria:
        kinds = ", ".join(f"`{k}`" for k in sorted(c.kinds))
        out.append(f"| `{c.id}` | {kinds} | {c.at_least} | "
                   f"{_cell(c.within_months) or 'any open record'} |")
    return "\n".join(out) + "\n"


def render_example(n: int) -> str:
    on, records = EXAMPLES[n]
    rating, proposals = rate(records, RULES, on=on), blacklist_candidates(records, RULES, on=on)
    out = [f"Rated on **{on.isoformat()}**.", "",
           "| id | kind | date | source | weight | expires on | repaired on | counted | points "
           "| why not |", "|---:|---|---|---|---:|---|---|---|---:|---|"]
    for c in rating.contributions:
        weight = "" if c.weight is None else f"{c.weight} ({c.weight_from})"
        out.append(f"| {c.id} | `{c.kind}` | {c.date} | {c.source} | {weight} | "
                   f"{_cell(c.expires_on)} | {_cell(c.repaired_on)} | "
                   f"{'yes' if c.counted else 'no'} | {_num(c.points) if c.counted else ''} | "
                   f"{c.reason or ''} |")
    terms = "".join(f" + {c.points}" if c.points >= 0 else f" - {-c.points}"
                    for c in rating.counted)
    line = f"Score: {RULES.base}{terms} = {rating.raw_score}"
    if rating.raw_score != rating.score:
        line += f", kept within {RULES.min_score}..{RULES.max_score}: {rating.score}"
    floor = dict(RULES.bands)[rating.score_class]
    band = f"from {floor}" if floor is not None else \
        f"below {RULES.bands[-2][1]}" if len(RULES.bands) > 1 else "every score"
    out += ["", f"- {line}. Band: **{rating.score_class}** ({band})."]
    if rating.hard_rules:
        for h in rating.hard_rules:
            ids = ", ".join(str(i) for i in h.records)
            out.append(f"- Hard rule `{h.id}` trips (records {ids}; {h.at_least} needed): "
                       f"class at most {h.cap}.")
    else:
        out.append("- No hard rule trips.")
    out.append(f"- **Class {rating.risk_class}**, score {rating.score}.")
    if proposals:
        for crit, ids in proposals:
            out.append(f"- Blacklist criterion `{crit}` is met (records "
                       f"{', '.join(str(i) for i in ids)}): the firm is put forward.")
    else:
        out.append("- No blacklist criterion is met.")
    return "\n".join(out) + "\n"


def rendered() -> dict[str, str]:
    blocks = {"rules": render_rules()}
    blocks.update({f"example-{n}": render_example(n) for n in EXAMPLES})
    return blocks


def test_the_doc_shows_what_the_code_computes():
    text = DOC.read_text(encoding="utf-8")
    found = {m["name"]: m["body"] for m in _BLOCK.finditer(text)}
    expected = rendered()
    assert sorted(found) == sorted(expected)
    for name, body in expected.items():
        assert found[name] == body, (
            f"docs/credit-classification.md block {name!r} is out of date; run "
            ".venv/bin/python -m tests.credit.test_scoring")


def regenerate() -> None:
    text = DOC.read_text(encoding="utf-8")
    blocks = rendered()
    text = _BLOCK.sub(lambda m: f"<!-- generated: {m['name']} -->\n{blocks[m['name']]}"
                                "<!-- end generated -->", text)
    DOC.write_text(text, encoding="utf-8")


# --- each reason, at its edges ----------------------------------------------------------------


def test_no_records_is_the_base_score():
    rating = rate([], RULES, on=ON)
    assert (rating.risk_class, rating.score, rating.contributions) == ("B", 100, ())


def test_a_record_dated_on_the_day_counts_and_the_next_day_is_future():
    rating = rate([R(1, "inspection_problem", ON), R(2, "inspection_problem", ON
                                                     + dt.timedelta(days=1))], RULES, on=ON)
    assert brief(rating) == [(1, True, -5, None), (2, False, 0, "future_dated")]
    assert rating.score == 95


def test_default_expiry_is_the_first_day_it_no_longer_counts():
    rec = R(1, "inspection_problem", D(2025, 6, 30))   # validity 12 months
    assert brief(rate([rec], RULES, on=D(2026, 6, 29))) == [(1, True, -5, None)]
    assert brief(rate([rec], RULES, on=D(2026, 6, 30))) == [(1, False, 0, "expired")]


def test_default_expiry_at_a_month_end_takes_the_shorter_months_last_day():
    rec = R(1, "inspection_problem", D(2024, 2, 29))
    assert rate([rec], RULES, on=D(2025, 2, 27)).contributions[0].expires_on == D(2025, 2, 28)
    assert brief(rate([rec], RULES, on=D(2025, 2, 27))) == [(1, True, -5, None)]
    assert brief(rate([rec], RULES, on=D(2025, 2, 28))) == [(1, False, 0, "expired")]


def test_a_records_own_expiry_replaces_the_kinds_validity():
    rec = R(1, "penalty", D(2025, 1, 10), expires_on=D(2025, 7, 10))
    assert brief(rate([rec], RULES, on=D(2025, 7, 9))) == [(1, True, -10, None)]
    assert brief(rate([rec], RULES, on=D(2025, 7, 10))) == [(1, False, 0, "expired")]
    longer = R(2, "inspection_problem", D(2024, 1, 10), expires_on=D(2027, 1, 1))
    assert brief(rate([longer], RULES, on=ON)) == [(2, True, -5, None)]


def test_a_repaired_record_stops_counting_on_the_day_of_repair():
    rec = R(1, "penalty", D(2025, 9, 1), repaired_on=D(2026, 3, 1))
    assert brief(rate([rec], RULES, on=D(2026, 2, 28))) == [(1, True, -10, None)]
    assert brief(rate([rec], RULES, on=D(2026, 3, 1))) == [(1, False, 0, "repaired")]


def test_expiry_is_reported_before_repair():
    rec = R(1, "inspection_problem", D(2024, 1, 5), repaired_on=D(2024, 6, 1))
    assert brief(rate([rec], RULES, on=ON)) == [(1, False, 0, "expired")]


def test_an_unknown_kind_counts_nothing():
    rating = rate([R(1, "quality_star", D(2026, 1, 1), weight=50)], RULES, on=ON)
    assert (rating.score, brief(rating)) == (100, [(1, False, 0, "unknown_kind")])


def test_a_neutral_record_counts_with_no_points_whatever_its_weight():
    rating = rate([R(1, "recall_voluntary", D(2026, 1, 1), weight=30)], RULES, on=ON)
    assert (rating.score, brief(rating)) == (100, [(1, True, 0, None)])


def test_a_records_own_weight_replaces_the_default_with_the_kinds_sign():
    rating = rate([R(1, "award", D(2026, 1, 1), weight=3),
                   R(2, "penalty", D(2026, 1, 1), weight=0)], RULES, on=ON)
    assert brief(rating) == [(1, True, 3, None), (2, True, 0, None)]
    assert rating.score == 103


@pytest.mark.parametrize(("points", "klass"), [
    (5, "A"), (4, "B"), (0, "B"), (-10, "B"), (-11, "C"), (-30, "C"), (-31, "D")])
def test_band_edges(points, klass):
    kind = "award" if points >= 0 else "penalty"
    rating = rate([R(1, kind, D(2026, 1, 1), weight=abs(points))], RULES, on=ON)
    assert (rating.score, rating.risk_class) == (100 + points, klass)


def test_the_score_is_kept_within_its_range():
    low = rate([R(i, "penalty_heavy", D(2026, 1, i)) for i in range(1, 6)], RULES, on=ON)
    assert (low.raw_score, low.score, low.score_class, low.risk_class) == (-50, 0, "D", "D")
    high = rate([R(i, "award", D(2026, 1, i)) for i in range(1, 4)], RULES, on=ON)
    assert (high.raw_score, high.score, high.risk_class) == (130, 120, "A")


def test_a_repaired_severe_record_no_longer_makes_the_class_d():
    rec = R(1, "fake_report", D(2025, 1, 1), weight=0, repaired_on=D(2026, 1, 1))
    assert rate([rec], RULES, on=D(2025, 12, 31)).risk_class == "D"
    assert rate([rec], RULES, on=D(2026, 1, 1)).risk_class == "B"


# --- duplicates -------------------------------------------------------------------------------


def test_a_record_given_twice_counts_once_and_is_reported():
    rec = R(7, "penalty", D(2026, 1, 1), source="陕市监罚〔2026〕1号")
    rating = rate([rec, rec, rec], RULES, on=ON)
    assert brief(rating) == [(7, True, -10, None), (7, False, 0, "duplicate"),
                             (7, False, 0, "duplicate")]
    assert (rating.score, rating.duplicates) == (90, (7,))
    assert list(rate_many([("e", [rec, rec, rec])], RULES, on=ON)) == [("e", "B", 90)]


def test_differing_copies_keep_the_first_in_the_documented_order_whatever_the_input_order():
    early = R(7, "penalty", D(2026, 1, 1))
    late = R(7, "penalty", D(2026, 2, 1), weight=40)
    for records in ([early, late], [late, early]):
        rating = rate(records, RULES, on=ON)
        assert brief(rating) == [(7, True, -10, None), (7, False, 0, "duplicate")]
        assert rating.contributions[1].date == D(2026, 2, 1)
        assert list(rate_many([(1, records)], RULES, on=ON)) == [(1, "B", 90)]
    no_weight = R(8, "award", D(2026, 1, 1))
    own_weight = R(8, "award", D(2026, 1, 1), weight=1)
    for records in ([own_weight, no_weight], [no_weight, own_weight]):
        assert brief(rate(records, RULES, on=ON)) == [(8, True, 10, None),
                                                       (8, False, 0, "duplicate")]


# --- rules by date ----------------------------------------------------------------------------


def _two_version_book(tmp_path):
    """The shipped credit.json with a second (made-up) version of credit.classes in force
    from 2027-01-01: B from 95 instead of 90."""
    data = json.loads((rulebook.RULES_DIR / "credit.json").read_text(encoding="utf-8"))
    first = data["rules"]["credit.classes"]["versions"][0]
    value = json.loads(json.dumps(first["value"]))
    value["bands"][1]["min_score"] = 95
    data["rules"]["credit.classes"]["versions"].append(
        {"version": "2027-01-01", "effective": "2027-01-01", "value": value,
         "reference": "测试用版本（非真实规则）"})
    (tmp_path / "credit.json").write_text(json.dumps(data, ensure_ascii=False),
                                          encoding="utf-8")
    return rulebook.load(tmp_path)


def test_a_past_rating_is_reproduced_with_the_rules_and_records_of_its_day(tmp_path):
    book = _two_version_book(tmp_path)
    records = [R(1, "inspection_problem", D(2026, 11, 2), source="SJ-2026-0301")]
    old_day, new_day = D(2026, 12, 31), D(2027, 1, 1)
    before = rate(records, Rules.in_force(book.get, old_day), on=old_day)
    after = rate(records, Rules.in_force(book.get, new_day), on=new_day)
    assert (before.score, before.risk_class, before.versions["credit.classes"]) == (
        95, "B", "2021-09-01")
    assert (after.score, after.risk_class, after.versions["credit.classes"]) == (
        95, "B", "2027-01-01")
    # A second problem found in 2027 moves the firm under the new band, and does not touch
    # the rating of the old day when that day is recomputed later.
    later = [*records, R(2, "inspection_problem", D(2027, 3, 1), source="SJ-2027-0012")]
    rerun = rate(later, Rules.in_force(book.get, old_day), on=old_day)
    assert (rerun.risk_class, rerun.score, rerun.versions) == (
        before.risk_class, before.score, before.versions)
    assert rerun.counted == before.counted
    assert [c.reason for c in rerun.contributions] == [None, "future_dated"]
    march = D(2027, 3, 1)
    now = rate(later, Rules.in_force(book.get, march), on=march)
    assert (now.score, now.risk_class) == (90, "C")
    # The same score under the old rules was a B.
    assert rate(later, rules_of(book=book), on=march).risk_class == "B"


def test_rules_are_refused_for_a_day_they_are_not_in_force_on(tmp_path):
    book = _two_version_book(tmp_path)
    old = Rules.in_force(book.get, D(2026, 6, 30))
    assert (old.valid_from, old.valid_until) == (D(2021, 9, 1), D(2027, 1, 1))
    with pytest.raises(ValueError, match="not all in force on 2027-01-01"):
        rate([], old, on=D(2027, 1, 1))
    with pytest.raises(ValueError, match="not all in force on 2021-08-31"):
        list(rate_many([], old, on=D(2021, 8, 31)))
    with pytest.raises(rulebook.RuleNotInForce):
        Rules.in_force(book.get, D(2021, 8, 31))


# --- blacklist criteria -----------------------------------------------------------------------


def test_a_criterion_counts_records_from_the_same_day_months_before():
    recs = [R(1, "penalty_heavy", D(2025, 6, 30)),
            R(2, "sampling_failed", D(2024, 6, 30), expires_on=D(2027, 1, 1)),
            R(3, "sampling_failed", D(2025, 1, 1)), R(4, "sampling_failed", D(2026, 6, 1))]
    assert blacklist_candidates(recs, RULES, on=ON) == [
        ("heavy_penalty", [1]), ("repeated_failed_sampling", [2, 3, 4])]
    # One day later both edges fall out of their windows, though all four still count.
    assert [c.counted for c in rate(recs, RULES, on=D(2026, 7, 1)).contributions] == [True] * 4
    assert blacklist_candidates(recs, RULES, on=D(2026, 7, 1)) == []


def test_a_criterion_ignores_repaired_future_and_duplicate_records():
    recs = [R(1, "commitment_breached", D(2025, 1, 1), repaired_on=D(2025, 6, 1)),
            R(2, "commitment_breached", D(2025, 2, 1)),
            R(2, "commitment_breached", D(2025, 2, 1)),
            R(3, "commitment_breached", D(2026, 7, 1))]
    assert blacklist_candidates(recs, RULES, on=ON) == []
    assert blacklist_candidates(recs, RULES, on=D(2025, 5, 31)) == [
        ("repeated_breached_commitment", [1, 2])]


def test_a_criterion_without_a_window_counts_every_open_record():
    rules = Rules(RULES_VALUES["credit.record_kinds"], RULES_VALUES["credit.classes"],
                  [{"id": "any_fake", "kinds": ["fake_report"], "at_least": 2,
                    "within_months": None}])
    recs = [R(1, "fake_report", D(2023, 9, 1), expires_on=D(2030, 1, 1)),
            R(2, "fake_report", D(2026, 1, 1))]
    assert blacklist_candidates(recs, rules, on=ON) == [("any_fake", [1, 2])]


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize(("record", "error", "message"), [
    (R(1, "penalty", dt.datetime(2026, 1, 1, 8)), TypeError, "date must be a datetime.date"),
    (R(1, "penalty", "2026-01-01"), TypeError, "date must be a datetime.date"),
    (R(1, "penalty", D(2026, 1, 1), weight=-1), RecordError, "weight must be a whole number"),
    (R(1, "penalty", D(2026, 1, 1), weight=2.5), RecordError, "weight must be a whole number"),
    (R(1, "penalty", D(2026, 1, 1), weight=True), RecordError, "weight must be a whole"),
    (R(1, "penalty", D(2026, 1, 1), repaired_on="x"), TypeError, "repaired_on must be"),
    (R([1], "penalty", D(2026, 1, 1)), RecordError, "id must be hashable"),
    (R(1, None, D(2026, 1, 1)), RecordError, "kind must be a string"),
])
def test_a_malformed_record_is_refused_by_name(record, error, message):
    with pytest.raises(error, match=message):
        rate([record], RULES, on=ON)


def test_a_datetime_day_is_refused():
    with pytest.raises(TypeError, match="on must be a datetime.date"):
        rate([], RULES, on=dt.datetime(2026, 6, 30, 12))


def _with(key, change):
    values = json.loads(json.dumps(RULES_VALUES))
    change(values[key])
    return values


@pytest.mark.parametrize(("values", "message"), [
    (_with("credit.record_kinds", lambda v: v["award"].update(category="good")),
     r"credit.record_kinds\['award'\].category must be one of negative, positive, neutral"),
    (_with("credit.record_kinds", lambda v: v["commitment_made"].update(weight=1)),
     "weight must be 0 for a neutral kind"),
    (_with("credit.record_kinds", lambda v: v["award"].update(severe=True)),
     "only a negative kind can be severe"),
    (_with("credit.record_kinds", lambda v: v["award"].update(validity_months=0)),
     "validity_months must be at least 1"),
    (_with("credit.record_kinds", lambda v: v["award"].pop("severe")), "lacks severe"),
    (_with("credit.classes", lambda v: v["bands"][1].update(min_score=110)),
     r"bands\[1\].min_score must be below the previous band's"),
    (_with("credit.classes", lambda v: v["bands"][3].update(min_score=0)),
     r"bands\[3\].min_score must be null"),
    (_with("credit.classes", lambda v: v["hard"][1].update(kinds=["penalty_big"])),
     "'penalty_big' is not a kind of credit.record_kinds"),
    (_with("credit.classes", lambda v: v["hard"][1].update(kinds=["award"])),
     "'award' is not a negative kind"),
    (_with("credit.classes", lambda v: v["hard"][0].update(**{"class": "E"})),
     "class 'E' is not a class of the bands"),
    (_with("credit.classes", lambda v: v.update(base=130)),
     "need min_score <= base <= max_score"),
    (_with("credit.blacklist_criteria", lambda v: v[0].update(at_least=0)),
     r"credit.blacklist_criteria\[0\].at_least must be at least 1"),
    (_with("credit.blacklist_criteria", lambda v: v[1].update(id="heavy_penalty")),
     "id 'heavy_penalty' is used twice"),
])
def test_a_malformed_rule_value_is_refused_by_path(values, message):
    with pytest.raises(RuleValueError, match=message):
        Rules(values["credit.record_kinds"], values["credit.classes"],
              values["credit.blacklist_criteria"])


# --- the batch path and the stored explanation ----------------------------------------------


def test_rate_many_streams_in_the_given_order():
    entities = [(n, EXAMPLES[n][1]) for n in (1, 2, 3, 4, 6)] + [("empty", [])]
    assert list(rate_many(iter(entities), RULES, on=ON)) == [
        (1, "A", 107), (2, "C", 70), (3, "D", 72), (4, "C", 94), (6, "C", 70),
        ("empty", "B", 100)]


@pytest.mark.parametrize(("on", "record", "score"), [
    (ON, R(1, "inspection_problem", D(2025, 7, 1)), 95),        # expires 2026-07-01
    (ON, R(1, "inspection_problem", D(2025, 6, 30)), 100),      # expires on the day
    (D(2025, 2, 28), R(1, "inspection_problem", D(2024, 3, 1)), 95),
    (D(2025, 2, 28), R(1, "inspection_problem", D(2024, 2, 29)), 100),  # 2025-02-28
    (D(2025, 2, 27), R(1, "inspection_problem", D(2024, 2, 29)), 95),
    (ON, R(1, "penalty", D(2026, 1, 1), expires_on=D(2026, 7, 1)), 90),
    (ON, R(1, "penalty", D(2026, 1, 1), expires_on=ON), 100),
    (ON, R(1, "penalty", D(2026, 1, 1), repaired_on=D(2026, 7, 1)), 90),
    (ON, R(1, "penalty", D(2026, 1, 1), repaired_on=ON), 100),
    (ON, R(1, "penalty", ON), 90),
    (ON, R(1, "penalty", D(2026, 7, 1)), 100),
    (ON, R(1, "penalty", D(2026, 1, 1), weight=7), 93),
    (ON, R(1, "award", D(2026, 1, 1), weight=7), 107),
    (ON, R(1, "commitment_made", D(2026, 1, 1), weight=7), 100),
    (ON, R(1, "quality_star", D(2026, 1, 1), weight=7), 100),
])
def test_rate_and_rate_many_agree_at_every_edge(on, record, score):
    rating = rate([record], RULES, on=on)
    assert rating.score == score
    assert list(rate_many([("e", [record])], RULES, on=on)) == [
        ("e", rating.risk_class, score)]


def test_rate_many_applies_the_hard_rules():
    records = [R(1, "fake_report", D(2026, 1, 1), weight=0),
               R(2, "penalty_heavy", D(2026, 1, 1), weight=0),
               R(3, "award", D(2026, 1, 1), weight=20)]
    assert list(rate_many([("lab", records), ("firm", records[1:]), ("other", records[2:])],
                          RULES, on=ON)) == [("lab", "D", 120), ("firm", "C", 120),
                                             ("other", "A", 120)]


def test_rate_many_takes_plain_tuples():
    plain = [tuple(r) for r in EXAMPLES[3][1]]
    assert list(rate_many([("lab", plain)], RULES, on=ON)) == [("lab", "D", 72)]
    assert rate(plain, RULES, on=ON).risk_class == "D"


def test_the_explanation_is_json_ready():
    rating, _ = example(3)
    data = json.loads(json.dumps(rating.as_dict(), ensure_ascii=False))
    assert {k: data[k] for k in ("class", "score", "on", "raw_score", "score_class")} == {
        "class": "D", "score": 72, "on": "2026-06-30", "raw_score": 72, "score_class": "C"}
    assert data["versions"] == {key: VERSION for key in RULE_KEYS}
    assert data["hard_rules"] == [
        {"id": "severe_open", "cap": "D", "at_least": 1, "count": 1, "records": [21]}]
    assert data["contributions"][1] == {
        "id": 21, "kind": "fake_report", "date": "2026-02-10",
        "source": "虚假报告认定 XB-2026-003", "counted": True, "points": -40, "reason": None,
        "weight": 40, "weight_from": "rule", "expires_on": "2029-02-10", "repaired_on": None}


def test_the_module_uses_the_standard_library_only():
    import ast
    import sys

    tree = ast.parse(Path(scoring.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {name.split(".")[0] for name in imported} <= set(sys.stdlib_module_names) | {
        "__future__"}


def test_add_months():
    assert add_months(D(2025, 1, 31), 1) == D(2025, 2, 28)
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2024, 12, 31), -10) == D(2024, 2, 29)
    assert add_months(D(2025, 11, 30), 2) == D(2026, 1, 30)
    assert add_months(D(2025, 3, 31), -1) == D(2025, 2, 28)
    assert scoring.months_before(D(2026, 6, 30), 24) == D(2024, 6, 30)


def test_first_open_date_at_month_ends():
    # Records of 2024-02-29 and 2024-02-28 both expire on 2025-02-28 (12 months).
    assert first_open_date(D(2025, 2, 28), 12) == D(2024, 3, 1)
    assert first_open_date(D(2025, 2, 27), 12) == D(2024, 2, 28)
    assert first_open_date(D(2026, 6, 30), 24) == D(2024, 7, 1)
    assert first_open_date(D(2026, 6, 30), None) == D.min


# --- properties -------------------------------------------------------------------------------

KINDS = sorted(RULES.kinds)
NEGATIVE_KINDS = [k for k, v in RULES.kinds.items() if v.category == "negative"]
POSITIVE_KINDS = [k for k, v in RULES.kinds.items() if v.category == "positive"]
days = st.dates(min_value=D(2021, 9, 1), max_value=D(2027, 12, 31))
weights = st.none() | st.integers(min_value=0, max_value=60)


ANY_KIND = st.sampled_from([*KINDS, "quality_star"])


def _fields(kinds=ANY_KIND):
    return st.tuples(kinds, days, weights, st.none() | days, st.none() | days,
                     st.sampled_from(["", "a", "b"]))


record_lists = st.lists(_fields(), max_size=14).map(
    lambda rows: [Record(i, *row) for i, row in enumerate(rows, start=1)])


def _rank(rating):
    return RULES.rank[rating.risk_class]


@given(record_lists, _fields(st.sampled_from(NEGATIVE_KINDS)), days)
def test_adding_a_negative_record_never_improves_the_class(records, new, on):
    before = rate(records, RULES, on=on)
    after = rate([*records, Record(10_000, *new)], RULES, on=on)
    assert _rank(after) >= _rank(before)
    assert after.score <= before.score


@given(record_lists, _fields(st.sampled_from(POSITIVE_KINDS)), days)
def test_adding_a_positive_record_never_worsens_the_class(records, new, on):
    before = rate(records, RULES, on=on)
    after = rate([*records, Record(10_000, *new)], RULES, on=on)
    assert _rank(after) <= _rank(before)
    assert after.score >= before.score


@given(record_lists, st.randoms(use_true_random=False), days)
def test_the_order_of_records_does_not_change_the_rating(records, rnd, on):
    shuffled = list(records)
    rnd.shuffle(shuffled)
    assert rate(shuffled, RULES, on=on) == rate(records, RULES, on=on)
    assert blacklist_candidates(shuffled, RULES, on=on) == blacklist_candidates(
        records, RULES, on=on)


@given(record_lists, days)
def test_a_rating_as_of_a_day_ignores_the_records_after_it(records, on):
    full = rate(records, RULES, on=on)
    known = rate([r for r in records if r.date <= on], RULES, on=on)
    assert (full.risk_class, full.score, full.hard_rules, full.counted) == (
        known.risk_class, known.score, known.hard_rules, known.counted)
    assert all(c.reason == "future_dated" for c in full.contributions if c.date > on)
    assert blacklist_candidates(records, RULES, on=on) == blacklist_candidates(
        [r for r in records if r.date <= on], RULES, on=on)


@given(record_lists, st.data(), days)
def test_records_given_again_are_counted_once(records, data, on):
    again = data.draw(st.lists(st.sampled_from(records), max_size=5)) if records else []
    once = rate(records, RULES, on=on)
    twice = rate([*records, *again], RULES, on=on)
    assert (twice.risk_class, twice.score, twice.counted) == (
        once.risk_class, once.score, once.counted)
    assert set(twice.duplicates) == {r.id for r in again}
    assert len(twice.contributions) == len(records) + len(again)


@given(st.lists(st.tuples(st.integers(1, 3), st.integers(1, 6), _fields()), max_size=20),
       days)
def test_rate_many_gives_what_rate_gives_even_with_differing_copies(rows, on):
    by_entity: dict[int, list] = {}
    for entity, rid, fields in rows:
        by_entity.setdefault(entity, []).append(Record(rid, *fields))
    entities = sorted(by_entity.items())
    expected = [(e, r.risk_class, r.score)
                for e, r in ((e, rate(recs, RULES, on=on)) for e, recs in entities)]
    assert list(rate_many(entities, RULES, on=on)) == expected


@given(record_lists, days)
def test_the_score_is_the_sum_of_the_contributions(records, on):
    rating = rate(records, RULES, on=on)
    assert rating.raw_score == RULES.base + sum(c.points for c in rating.contributions)
    assert rating.score == min(max(rating.raw_score, RULES.min_score), RULES.max_score)
    assert all(c.counted == (c.reason is None) for c in rating.contributions)
    assert all(c.points == 0 for c in rating.contributions if not c.counted)
    assert _rank(rating) >= RULES.rank[rating.score_class]
    assert (_rank(rating) > RULES.rank[rating.score_class]) <= bool(rating.hard_rules)
    criteria = {c.id: c for c in RULES.criteria}
    for crit, ids in blacklist_candidates(records, RULES, on=on):
        assert len(ids) >= criteria[crit].at_least
        assert {c.kind for c in rating.counted if c.id in ids} <= criteria[crit].kinds
        assert set(ids) <= {c.id for c in rating.counted}


@given(days, st.integers(min_value=1, max_value=48), days)
def test_first_open_date_matches_the_definition(on, months, day):
    assert (day >= first_open_date(on, months)) == (on < add_months(day, months))


if __name__ == "__main__":
    regenerate()
