"""Regulatory parameters as dated data: zhijian.core.rules and `zhijian rules show`."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from zhijian.core import rules
from zhijian.core.rules import RuleDataError, RuleNotInForce, UnknownRule

D = dt.date


# --- the seeded rules ------------------------------------------------------------------


def test_seeded_keys():
    assert rules.keys() == [
        "credit.blacklist_criteria",
        "credit.blacklist_procedure",
        "credit.classes",
        "credit.commitment_statement",
        "credit.record_kinds",
        "credit.supervision",
        "inspections.default_ratios",
        "inspections.min_team_size",
        "inspections.publication_working_days",
        "inspections.recent_inspection_exclusion_months",
        "procurement.standing",
        "recall.acknowledge_working_days",
        "recall.completion_working_days",
        "reports.capacity_tolerance_percent",
        "sampling.disposal_working_days",
        "sampling.publication_working_days",
        "sampling.recognition_days",
    ]


def test_publication_working_days():
    rule = rules.get("inspections.publication_working_days", D(2025, 10, 1))
    assert rule.key == "inspections.publication_working_days"
    assert rule.value == 20
    assert rule.version == "2014-10-01"
    assert rule.effective == D(2014, 10, 1)
    assert rule.superseded is None
    assert "《企业信息公示暂行条例》" in rule.reference
    assert "国务院令第654号" in rule.reference
    assert "第六条、第七条" in rule.reference
    assert "20个工作日" in rule.reference
    assert rules.value("inspections.publication_working_days", D(2014, 10, 1)) == 20


def test_min_team_size_follows_the_2021_revision():
    old = rules.get("inspections.min_team_size", D(2021, 7, 14))
    new = rules.get("inspections.min_team_size", D(2021, 7, 15))
    assert (old.value, old.version, old.superseded) == (2, "1996-10-01", D(2021, 7, 15))
    assert (new.value, new.version, new.superseded) == (2, "2021-07-15", None)
    assert "第三十七条" in old.reference
    assert "《中华人民共和国行政处罚法》" in new.reference
    assert "第四十二条" in new.reference
    assert "执法人员不得少于两人" in new.reference


def test_provincial_settings_say_they_are_not_law():
    ratios = rules.get("inspections.default_ratios", D(2025, 1, 1))
    assert ratios.value == {"A": 300, "B": 500, "C": 1000, "D": 10000}
    assert ratios.version == "2020-01-01"
    assert ratios.reference.startswith("示范省份设定（可由省局调整）")
    months = rules.get("inspections.recent_inspection_exclusion_months", D(2025, 1, 1))
    assert (months.value, months.version) == (12, "2020-01-01")
    assert months.reference.startswith("示范省份设定（可由省局调整）")


def test_values_are_copies():
    rules.value("inspections.default_ratios", D(2025, 1, 1))["A"] = 1
    assert rules.value("inspections.default_ratios", D(2025, 1, 1))["A"] == 300


def test_as_dict_is_json_ready():
    record = rules.get("inspections.default_ratios", D(2025, 1, 1)).as_dict()
    assert json.loads(json.dumps(record)) == {
        "key": "inspections.default_ratios",
        "value": {"A": 300, "B": 500, "C": 1000, "D": 10000},
        "version": "2020-01-01",
        "effective": "2020-01-01",
        "reference": record["reference"],
    }


def test_files_are_loaded_once():
    assert rules.default_book() is rules.default_book()


def test_in_force_leaves_out_rules_not_yet_in_force():
    assert [r.key for r in rules.in_force(D(2015, 1, 1))] == [
        "inspections.min_team_size", "inspections.publication_working_days",
        "sampling.publication_working_days"]


# --- errors ----------------------------------------------------------------------------


def test_unknown_key():
    with pytest.raises(UnknownRule) as caught:
        rules.get("inspections.no_such_rule", D(2025, 1, 1))
    assert caught.value.key == "inspections.no_such_rule"
    assert "inspections.no_such_rule" in str(caught.value)
    assert "inspections.min_team_size" in str(caught.value)  # lists the known keys
    with pytest.raises(UnknownRule):
        rules.value("nope.nothing", D(2025, 1, 1))


def test_date_before_the_first_version():
    with pytest.raises(RuleNotInForce) as caught:
        rules.get("inspections.publication_working_days", D(2014, 9, 30))
    err = caught.value
    assert (err.key, err.on, err.first_effective) == (
        "inspections.publication_working_days", D(2014, 9, 30), D(2014, 10, 1))
    assert str(err).startswith(
        "Rule 'inspections.publication_working_days' has no version in force on 2014-09-30: "
        "its first version takes effect on 2014-10-01.")
    assert isinstance(err, LookupError)


@pytest.mark.parametrize("on", [dt.datetime(2025, 1, 1, 12), "2025-01-01", None])
def test_date_must_be_a_date(on):
    with pytest.raises(TypeError, match="must be a datetime.date"):
        rules.get("inspections.min_team_size", on)


# --- the file format -------------------------------------------------------------------


def _write(directory, family, rules_obj):
    (directory / f"{family}.json").write_text(
        json.dumps({"family": family, "rules": rules_obj}, ensure_ascii=False),
        encoding="utf-8")


def _version(version, effective, value, reference="某法第一条"):
    return {"version": version, "effective": effective, "value": value, "reference": reference}


def test_versions_are_ordered_by_effective_date_whatever_the_file_order(tmp_path):
    _write(tmp_path, "demo", {"demo.limit": {"versions": [
        _version("v2", "2024-01-01", 7), _version("v1", "2020-01-01", 5)]}})
    book = rules.load(tmp_path)
    assert [r.version for r in book.versions("demo.limit")] == ["v1", "v2"]
    assert book.get("demo.limit", D(2023, 12, 31)).value == 5
    assert book.get("demo.limit", D(2024, 1, 1)).value == 7
    assert book.get("demo.limit", D(2023, 12, 31)).superseded == D(2024, 1, 1)


@pytest.mark.parametrize(("rules_obj", "problem"), [
    ({"demo.x": {"versions": [_version("a", "2024-01-01", 1),
                              _version("b", "2024-01-01", 2)]}},
     "two versions take effect on 2024-01-01"),
    ({"demo.x": {"versions": [_version("a", "2024-01-01", 1),
                              _version("a", "2025-01-01", 2)]}},
     "version id 'a' is used twice"),
    ({"demo.x": {"versions": [_version("a", "2024-02-30", 1)]}}, "is not a YYYY-MM-DD date"),
    ({"demo.x": {"versions": [_version("a", "2024-01-01", 1, reference=" ")]}},
     "reference must name the legal source"),
    ({"demo.x": {"versions": [{"version": "a", "effective": "2024-01-01", "value": 1}]}},
     "missing reference"),
    ({"other.x": {"versions": [_version("a", "2024-01-01", 1)]}}, "must be lowercase dotted"),
    ({"demo.x": {"versions": []}}, '"versions" must be a non-empty list'),
])
def test_malformed_files_are_refused(tmp_path, rules_obj, problem):
    _write(tmp_path, "demo", rules_obj)
    with pytest.raises(RuleDataError, match=problem) as caught:
        rules.load(tmp_path)
    assert "demo.json" in str(caught.value)


def test_family_must_match_the_file_name(tmp_path):
    (tmp_path / "demo.json").write_text(json.dumps({"family": "other", "rules": {}}))
    with pytest.raises(RuleDataError, match="\"family\" must be 'demo'"):
        rules.load(tmp_path)


def test_the_shipped_files_are_valid():
    book = rules.load(rules.RULES_DIR)
    assert book.keys() == rules.keys()
    for key in book.keys():
        for version in book.versions(key):
            assert version.reference


# --- zhijian rules show ----------------------------------------------------------------


def _show(*args) -> list[str]:
    out = StringIO()
    with translation.override("en"):
        call_command("rules", "show", *args, stdout=out)
    return out.getvalue().splitlines()


def test_show_one_rule_with_its_history():
    lines = _show("inspections.min_team_size", "--on", "2025-10-01")
    reference = rules.get("inspections.min_team_size", D(2025, 10, 1)).reference
    assert lines == [
        "Rules in force on 2025-10-01:",
        "",
        "inspections.min_team_size = 2",
        "  version 2021-07-15, in force since 2021-07-15",
        f"  source: {reference}",
        "  all versions:",
        "    1996-10-01: 2, 1996-10-01 to 2021-07-14 (superseded)",
        "  * 2021-07-15: 2, from 2021-07-15",
    ]


def test_show_a_family_on_a_date_before_some_rules():
    lines = _show("inspections", "--on", "2015-01-01")
    assert lines[0] == "Rules in force on 2015-01-01:"
    assert ("inspections.default_ratios: no version in force; the first takes effect on "
            "2020-01-01.") in lines
    assert "inspections.publication_working_days = 20" in lines
    assert "inspections.min_team_size = 2" in lines


def test_show_everything_defaults_to_today():
    lines = _show()
    assert lines[0].startswith("Rules in force on ")
    assert 'inspections.default_ratios = {"A": 300, "B": 500, "C": 1000, "D": 10000}' in lines


def test_show_unknown_key():
    with translation.override("en"), pytest.raises(CommandError,
                                                   match="No rule or rule family is called"):
        call_command("rules", "show", "inspections.nope", stdout=StringIO())


def test_show_bad_date():
    with translation.override("en"), pytest.raises(CommandError, match="is not a date"):
        call_command("rules", "show", "--on", "2025-13-01", stdout=StringIO())
