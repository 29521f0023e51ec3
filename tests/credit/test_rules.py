"""The shipped credit rules (zhijian/core/rules/credit.json), loaded through
zhijian.core.rules: their shape, their legal references, and that every kind a class or
blacklist rule names is a record kind of the version in force beside it."""

from __future__ import annotations

import datetime as dt

import pytest

from zhijian.core import rules
from zhijian.credit.scoring import RULE_KEYS, Rules

D = dt.date


def change_days() -> list[dt.date]:
    """Every day on which a version of a credit rule takes effect."""
    return sorted({r.effective for key in RULE_KEYS for r in rules.versions(key)})


def test_the_credit_keys_are_defined():
    """The three keys of the classification (scoring.RULE_KEYS) and those of the list
    procedure, the commitment statement and the supervision per class."""
    assert [k for k in rules.keys() if k.startswith("credit.")] == sorted(
        [*RULE_KEYS, "credit.blacklist_procedure", "credit.commitment_statement",
         "credit.supervision"])


def test_the_first_versions_take_effect_with_order_44():
    for key in RULE_KEYS:
        first = rules.versions(key)[0]
        assert (first.version, first.effective) == ("2021-09-01", D(2021, 9, 1))
        with pytest.raises(rules.RuleNotInForce):
            rules.get(key, D(2021, 8, 31))


@pytest.mark.parametrize("day", change_days())
def test_every_kind_named_by_classes_and_criteria_is_a_record_kind(day):
    kinds = rules.value("credit.record_kinds", day)
    classes = rules.value("credit.classes", day)
    criteria = rules.value("credit.blacklist_criteria", day)
    named = {k for h in classes["hard"] for k in h.get("kinds", ())}
    named |= {k for c in criteria for k in c["kinds"]}
    assert named
    assert named <= set(kinds), sorted(named - set(kinds))
    assert {kinds[k]["category"] for k in named} == {"negative"}
    # And the three values pass the full validation of the scoring module.
    checked = Rules.in_force(rules.get, day)
    assert set(checked.kinds) == set(kinds)


@pytest.mark.parametrize("day", change_days())
def test_every_class_has_a_random_inspection_ratio(day):
    bands = [b["class"] for b in rules.value("credit.classes", day)["bands"]]
    ratios = rules.value("inspections.default_ratios", day)
    assert bands == ["A", "B", "C", "D"]
    assert set(bands) == set(ratios)


def test_the_severe_kinds_and_the_hard_rule_that_makes_them_d():
    on = D(2026, 6, 30)
    kinds = rules.value("credit.record_kinds", on)
    assert sorted(k for k, v in kinds.items() if v["severe"]) == [
        "blacklist_listed", "fake_report"]
    assert rules.value("credit.classes", on)["hard"][0] == {
        "id": "severe_open", "severe": True, "at_least": 1, "class": "D"}


def test_the_in_force_period_is_open_ended_while_each_key_has_one_version():
    checked = Rules.in_force(rules.get, D(2026, 6, 30))
    assert checked.versions == {key: "2021-09-01" for key in RULE_KEYS}
    assert checked.valid_from == D(2021, 9, 1)
    if all(len(rules.versions(key)) == 1 for key in RULE_KEYS):
        assert checked.valid_until is None


@pytest.mark.parametrize("key", RULE_KEYS)
def test_references_name_the_sources_and_say_the_numbers_are_provincial(key):
    for rule in rules.versions(key):
        assert rule.reference.startswith("示范省份设定（可由省局调整）"), rule.version
        assert "《市场监督管理严重违法失信名单管理办法》" in rule.reference
        assert "国家市场监督管理总局令第44号" in rule.reference
        assert "自2021年9月1日起施行" in rule.reference
        assert "国办发〔2020〕49号" in rule.reference
        assert "陕政发〔2017〕57号" in rule.reference


def test_the_record_kinds_reference_names_the_product_quality_law_and_the_disclosure_rules():
    reference = rules.get("credit.record_kinds", D(2026, 6, 30)).reference
    assert "《中华人民共和国产品质量法》第十五条、第十七条" in reference
    assert "第五十七条" in reference
    assert "《企业信息公示暂行条例》" in reference
    assert "国务院令第654号" in reference
    assert "国务院令第777号" in reference
    assert "满三年移出" in reference


def test_the_blacklist_reference_says_the_system_only_proposes():
    reference = rules.get("credit.blacklist_criteria", D(2026, 6, 30)).reference
    assert "系统不自动列入" in reference
    assert "较重行政处罚" in reference


def test_a_credit_rule_change_without_an_effective_date_is_refused(tmp_path):
    """A new version of a credit rule must say from when it applies: the rule files are
    refused at load, naming the rule and what is missing."""
    import json
    import shutil

    src = rules.RULES_DIR
    for f in src.glob("*.json"):
        shutil.copy(f, tmp_path / f.name)
    data = json.loads((src / "credit.json").read_text(encoding="utf-8"))
    versions = data["rules"]["credit.classes"]["versions"]
    change = dict(versions[-1], version="2027-01-01")
    del change["effective"]
    versions.append(change)
    (tmp_path / "credit.json").write_text(json.dumps(data, ensure_ascii=False),
                                          encoding="utf-8")
    with pytest.raises(rules.RuleDataError) as err:
        rules.load(tmp_path)
    assert "credit.classes" in str(err.value)
    assert "effective" in str(err.value)
    # The shipped files themselves still load.
    assert rules.load(src).get("credit.classes", D(2026, 1, 1)).version == "2021-09-01"
