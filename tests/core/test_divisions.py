"""Tests for the GB/T 2260 Shaanxi division table (zhijian.core.divisions)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import stdnum

from zhijian.core import divisions

ROOT = Path(__file__).resolve().parents[2]

# Code changes in Shaanxi, from the GB/T 2260 change lists (python-stdnum loc.dat).
HISTORICAL = [
    ("610125", "户县", 1983, 2016, "610118", "鄠邑区"),
    ("610126", "高陵县", 1983, 2014, "610117", "高陵区"),
    ("610322", "凤翔县", None, 2021, "610305", "凤翔区"),
    ("610427", "彬县", 1983, 2018, "610482", "彬州市"),
    ("610521", "华县", 1994, 2015, "610503", "华州区"),
    ("610623", "子长县", 1996, 2019, "610681", "子长市"),
    ("610624", "安塞县", 1996, 2016, "610603", "安塞区"),
    ("610721", "南郑县", 1996, 2017, "610703", "南郑区"),
    ("610821", "神木县", 1999, 2017, "610881", "神木市"),
    ("610823", "横山县", 1999, 2015, "610803", "横山区"),
    ("610928", "旬阳县", 2000, 2021, "610981", "旬阳市"),
]


def _load_generator():
    path = ROOT / "scripts" / "build_divisions.py"
    spec = importlib.util.spec_from_file_location("build_divisions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def by_code():
    return {d["code"]: d for d in divisions.shaanxi_divisions()}


# --- the data file -----------------------------------------------------------


def test_json_records_its_source():
    document = json.loads(divisions.DATA_FILE.read_text(encoding="utf-8"))
    source = document["source"]
    assert source["package"] == "python-stdnum"
    assert source["version"] == stdnum.__version__
    assert source["file"] == "stdnum/cn/loc.dat"
    assert len(source["generated"]) == 10  # ISO date
    assert document["province"] == "61"


def test_json_is_up_to_date_with_installed_loc_dat():
    # Fails after a python-stdnum upgrade that changes Shaanxi: rerun the generator.
    generator = _load_generator()
    assert generator.build_divisions() == divisions.shaanxi_divisions()


def test_province_entry():
    assert divisions.get_division("610000") == {
        "code": "610000",
        "name": "陕西省",
        "level": "province",
        "parent": None,
        "valid_from": None,
        "valid_to": None,
        "former_names": [],
        "successor": None,
        "name_en": "Shaanxi Province",
    }


def test_current_city_count():
    cities = [d for d in divisions.current_divisions() if d["level"] == "city"]
    assert [d["code"] for d in cities] == [f"61{n:02d}00" for n in range(1, 11)]
    assert [d["name"] for d in cities] == [
        "西安市", "铜川市", "宝鸡市", "咸阳市", "渭南市",
        "延安市", "汉中市", "榆林市", "安康市", "商洛市",
    ]  # fmt: skip


def test_current_county_level_counts():
    counties = [d for d in divisions.current_divisions() if d["level"] == "county"]
    assert len(counties) == 107
    suffixes = [d["name"][-1] for d in counties]
    assert suffixes.count("区") == 31
    assert suffixes.count("市") == 7
    assert suffixes.count("县") == 69


def test_current_total():
    current = divisions.current_divisions()
    assert len(current) == 1 + 10 + 107
    assert all(d["valid_to"] is None for d in current)


def test_placeholders_are_excluded():
    codes = set(by_code())
    assert not {f"61{n:02d}01" for n in range(1, 11)} & codes  # 市辖区
    assert not {"610120", "610220", "610320"} & codes  # pre-1983 市区
    # Codes ending in 01 that name a real place stay, e.g. the former county-level 渭南市.
    assert divisions.get_division("612101")["name"] == "渭南市"
    assert not any(d["name"] in {"市辖区", "市区"} for d in divisions.shaanxi_divisions())


@pytest.mark.parametrize(("old", "old_name", "start", "end", "new", "new_name"), HISTORICAL)
def test_historical_code_and_successor(old, old_name, start, end, new, new_name):
    entry = divisions.get_division(old)
    assert entry["name"] == old_name
    assert entry["level"] == "county"
    assert entry["valid_from"] == start
    assert entry["valid_to"] == end
    assert entry["successor"] == new
    assert divisions.successor(old) == new
    replacement = divisions.get_division(new)
    assert replacement["name"] == new_name
    assert replacement["valid_from"] == end
    assert replacement["valid_to"] is None
    assert divisions.is_known_code(old, nationwide=False)


def test_successor_follows_chains():
    # 户县 of the former 咸阳地区 → 户县 under 西安市 (1983) → 鄠邑区 (2016).
    assert divisions.get_division("612223")["successor"] == "610125"
    assert divisions.successor("612223") == "610118"
    # 华阴县 → 华阴市 (1990) → renumbered under 渭南市 (1994).
    assert divisions.successor("612125") == "610582"
    # Prefecture 渭南地区 → prefecture-level 渭南市.
    assert divisions.successor("612100") == "610500"


def test_successor_of_current_or_unknown_code_is_none():
    assert divisions.successor("610113") is None
    assert divisions.successor("610000") is None
    assert divisions.successor("999999") is None
    assert divisions.successor("610101") is None


def test_every_historical_code_leads_to_a_current_code():
    table = by_code()
    for code, entry in table.items():
        if entry["valid_to"] is None:
            assert entry["successor"] is None, code
        else:
            final = divisions.successor(code)
            assert final is not None, code
            assert table[final]["valid_to"] is None, code
            assert table[final]["level"] == entry["level"], code


@pytest.mark.parametrize(
    ("code", "name", "former"),
    [
        ("610202", "王益区", ["城区"]),
        ("610203", "印台区", ["郊区"]),
        ("610626", "吴起县", ["吴旗县"]),
    ],
)
def test_renamed_code_keeps_current_name_and_former_names(code, name, former):
    entry = divisions.get_division(code)
    assert entry["name"] == name
    assert entry["former_names"] == former
    assert entry["valid_to"] is None
    assert entry["successor"] is None


def test_structure_is_consistent():
    table = by_code()
    for code, entry in table.items():
        assert len(code) == 6 and code.isdigit()
        assert entry["level"] == divisions.level_of(code)
        assert entry["parent"] == divisions.parent_code(code)
        if entry["parent"] is not None:
            assert entry["parent"] in table, code
        if entry["valid_from"] is not None and entry["valid_to"] is not None:
            assert entry["valid_from"] <= entry["valid_to"], code


def test_returned_lists_are_copies():
    first = divisions.shaanxi_divisions()
    first[0]["name"] = "changed"
    first.clear()
    assert divisions.shaanxi_divisions()[0]["name"] == "陕西省"
    entry = divisions.get_division("610202")
    entry["former_names"].append("x")
    assert divisions.get_division("610202")["former_names"] == ["城区"]


# --- is_known_code -----------------------------------------------------------


@pytest.mark.parametrize("code", ["610000", "610100", "610113", "610125", "612223", "611000"])
def test_known_shaanxi_codes(code):
    assert divisions.is_known_code(code)
    assert divisions.is_known_code(code, nationwide=False)


@pytest.mark.parametrize(
    "code",
    [
        "110105",  # 北京市朝阳区
        "110000",  # 北京市
        "440300",  # 深圳市
        "110103",  # 崇文区, abolished 2010
        "610101",  # 西安市市辖区 placeholder: in loc.dat, not in the Shaanxi table
        "610120",  # pre-1983 西安市市区 placeholder
    ],
)
def test_codes_known_only_nationwide(code):
    assert divisions.is_known_code(code)
    assert divisions.is_known_code(code, nationwide=True)
    assert not divisions.is_known_code(code, nationwide=False)


@pytest.mark.parametrize(
    "code",
    ["999999", "610131", "610199", "61011", "6101130", "61011a", "", " 610113", None, 610113],
)
def test_unknown_or_malformed_codes(code):
    assert not divisions.is_known_code(code)
    assert not divisions.is_known_code(code, nationwide=False)


def test_nationwide_parse_covers_all_provinces():
    codes = {entry.code for entry in divisions.iter_loc_dat()}
    provinces = {code for code in codes if code.endswith("0000")}
    assert len(provinces) == 34
    assert {"610000", "110000", "820000"} <= provinces


def test_parse_loc_names():
    periods = divisions.parse_loc_names("[1983-1999]城区,[2000-]王益区")
    assert periods == (
        divisions.NamePeriod("城区", 1983, 1999),
        divisions.NamePeriod("王益区", 2000, None),
    )
    assert divisions.parse_loc_names("岐山县") == (divisions.NamePeriod("岐山县", None, None),)
    assert divisions.parse_loc_names("[-1983]市区") == (divisions.NamePeriod("市区", None, 1983),)
    with pytest.raises(ValueError):
        divisions.parse_loc_names("[19x3-]bad")


# --- structure helpers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "level", "parent", "prefix"),
    [
        ("610000", "province", None, "61"),
        ("610100", "city", "610000", "6101"),
        ("610113", "county", "610100", "610113"),
        ("611002", "county", "611000", "611002"),
        ("612100", "city", "610000", "6121"),
        ("110105", "county", "110100", "110105"),
    ],
)
def test_level_parent_prefix(code, level, parent, prefix):
    assert divisions.level_of(code) == level
    assert divisions.parent_code(code) == parent
    assert divisions.prefix(code) == prefix


def test_prefix_scopes_jurisdictions():
    xian = [d["code"] for d in divisions.current_divisions() if d["code"].startswith("6101")]
    assert len(xian) == 1 + 13  # the city plus 11 districts and 2 counties
    assert all(code.startswith(divisions.prefix("610000")) for code in xian)


@pytest.mark.parametrize("bad", ["61011", "6101130", "abcdef", "", None])
def test_structure_helpers_reject_malformed_codes(bad):
    for func in (divisions.level_of, divisions.parent_code, divisions.prefix):
        with pytest.raises(ValueError):
            func(bad)
