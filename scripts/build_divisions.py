#!/usr/bin/env python3
"""Generate ``zhijian/core/data/gbt2260_shaanxi.json`` from python-stdnum.

Source: python-stdnum's ``stdnum/cn/loc.dat``, a transcription of the GB/T 2260
《中华人民共和国行政区划代码》 change history (from the zh.wikipedia code lists).
The output lists, for Shaanxi (province 61), the province itself, every
prefecture-level unit (xxxx00) and every county-level unit, current and
historical, with the years each code was in force.

Usage (from the repository root)::

    .venv/bin/python scripts/build_divisions.py            # rewrite the JSON
    .venv/bin/python scripts/build_divisions.py --check    # exit 1 if stale

Only the standard library and python-stdnum are needed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a plain script, sys.path[0] is scripts/; the parser lives in the
# package so that the runtime and the generator read loc.dat the same way.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import stdnum  # noqa: E402

from zhijian.core.divisions import (  # noqa: E402
    DATA_FILE,
    LocEntry,
    iter_loc_dat,
    level_of,
    loc_dat_path,
    parent_code,
)

PROVINCE = "61"

# Placeholder codes that name no territory of their own: 市辖区 ("districts
# under the city", xxxx01) and, before 1983, 市区 ("urban area", xxxx20).
PLACEHOLDERS = {"01": "市辖区", "20": "市区"}

# Successors of codes whose replacement has a different name, so that it
# cannot be matched automatically.  Source: the GB/T 2260 change lists
# (国家统计局 行政区划代码变更情况) as transcribed in python-stdnum's
# stdnum/cn/loc.dat; each pair was checked there: the old code's last year is
# the new code's first year.
EXPLICIT_SUCCESSORS: dict[str, str] = {
    # County → district / county-level city conversions (撤县设区 / 撤县设市).
    "610121": "610116",  # 2002 长安县 → 长安区
    "610123": "610115",  # 1997 临潼县 → 临潼区
    "610125": "610118",  # 2016 户县 → 鄠邑区
    "610126": "610117",  # 2014 高陵县 → 高陵区
    "610221": "610204",  # 2002 耀县 → 耀州区
    "610321": "610304",  # 2003 宝鸡县 → 陈仓区
    "610322": "610305",  # 2021 凤翔县 → 凤翔区
    "610421": "610481",  # 1993 兴平县 → 兴平市
    "610427": "610482",  # 2018 彬县 → 彬州市
    "610521": "610503",  # 2015 华县 → 华州区
    "610623": "610681",  # 2019 子长县 → 子长市
    "610624": "610603",  # 2016 安塞县 → 安塞区
    "610721": "610703",  # 2017 南郑县 → 南郑区
    "610821": "610881",  # 2017 神木县 → 神木市
    "610823": "610803",  # 2015 横山县 → 横山区
    "610928": "610981",  # 2021 旬阳县 → 旬阳市
    # Counties that became county-level cities inside the former prefectures.
    "612123": "612101",  # 1983 渭南县 → 渭南市 (county-level)
    "612125": "612103",  # 1990 华阴县 → 华阴市
    "612131": "612102",  # 1983 韩城县 → 韩城市
    "612421": "612401",  # 1988 安康县 → 安康市 (county-level)
    "612521": "612501",  # 1988 商县 → 商州市
    "612721": "612701",  # 1988 榆林县 → 榆林市 (county-level)
    # Prefectures (地区) that became prefecture-level cities (撤地设市).
    "612100": "610500",  # 1994 渭南地区 → 渭南市
    "612200": "610400",  # 1983 咸阳地区 → 咸阳市
    "612300": "610700",  # 1996 汉中地区 → 汉中市
    "612400": "610900",  # 2000 安康地区 → 安康市
    "612500": "611000",  # 2001 商洛地区 → 商洛市
    "612600": "610600",  # 1996 延安地区 → 延安市
    "612700": "610800",  # 1999 榆林地区 → 榆林市
    # The county-level seat city of each converted prefecture became its
    # central district.
    "612101": "610502",  # 1994 渭南市 → 临渭区
    "612102": "610581",  # 1994 韩城市 (renumbered under 渭南市)
    "612103": "610582",  # 1994 华阴市 (renumbered under 渭南市)
    "612201": "610402",  # 1983 咸阳市 (county-level) → 秦都区
    "612301": "610702",  # 1996 汉中市 → 汉台区
    "612401": "610902",  # 2000 安康市 → 汉滨区
    "612501": "611002",  # 2001 商州市 → 商州区
    "612601": "610602",  # 1996 延安市 → 宝塔区
    "612701": "610802",  # 1999 榆林市 → 榆阳区
}


def _is_placeholder(entry: LocEntry) -> bool:
    names = {period.name for period in entry.names}
    placeholder = PLACEHOLDERS.get(entry.code[4:])
    if placeholder is not None and names == {placeholder}:
        return True
    if names & set(PLACEHOLDERS.values()):
        # A placeholder name on an unexpected code means the file changed
        # shape; stop rather than guess.
        raise SystemExit(f"unexpected placeholder name on {entry.code}: {sorted(names)}")
    return False


def _division(entry: LocEntry) -> dict[str, Any]:
    current = entry.names[-1]
    former = []
    for period in entry.names[:-1]:
        if period.name != current.name and period.name not in former:
            former.append(period.name)
    return {
        "code": entry.code,
        "name": current.name,
        "level": level_of(entry.code),
        "parent": parent_code(entry.code),
        "valid_from": entry.names[0].valid_from,
        "valid_to": current.valid_to,
        "former_names": former,
        "successor": None,
    }


def _same_name_successor(
    division: dict[str, Any], entries: dict[str, LocEntry], by_code: dict[str, dict[str, Any]]
) -> str | None:
    """Successor of a code that was only renumbered, keeping its name.

    This is the common case when a prefecture was reorganised: e.g. 612223
    户县 (咸阳地区, until 1983) reappears as 610125 户县 (from 1983).  A match
    needs the same level and a name period of the same name that starts in
    the year the old code ended; anything but a single match is left alone.
    """
    year = division["valid_to"]
    candidates = []
    for code, entry in entries.items():
        other = by_code[code]
        if code == division["code"] or other["level"] != division["level"]:
            continue
        if any(p.name == division["name"] and p.valid_from == year for p in entry.names):
            candidates.append(code)
    return candidates[0] if len(candidates) == 1 else None


# English names: Hanyu Pinyin of the proper name (pypinyin, a dev dependency) plus the
# English word for the unit type, following the GB/T 16159 rule of an apostrophe before
# a syllable that starts with a, o or e (Xi'an). Polyphonic readings pypinyin gets wrong
# are fixed here.
SUFFIXES = [
    ("自治县", "Autonomous County"), ("省", "Province"), ("市", "City"), ("地区", "Prefecture"),
    ("区", "District"), ("县", "County"),
]
PINYIN_FIXES = {"长安": "Chang'an", "长武": "Changwu", "华阴": "Huayin", "华州": "Huazhou",
                "华县": "Hua", "柞水": "Zhashui", "洛川": "Luochuan", "洋县": "Yang",
                "眉县": "Mei", "陇县": "Long", "凤县": "Feng", "彬县": "Bin", "佳县": "Jia",
                "富县": "Fu", "乾县": "Qian", "户县": "Hu", "耀县": "Yao", "商县": "Shang",
                "镇巴": "Zhenba", "蓝田": "Lantian", "阎良": "Yanliang", "鄠邑": "Huyi",
                "陕西": "Shaanxi", "秦都": "Qindu", "子长": "Zichang", "略阳": "Lueyang",
                "佛坪": "Foping", "长安县": "Chang'an"}


def english_name(name: str) -> str:
    from pypinyin import Style, lazy_pinyin

    for zh, en in SUFFIXES:
        if name.endswith(zh) and len(name) > len(zh):
            base, unit = name[: -len(zh)], en
            break
    else:
        return name
    if name in PINYIN_FIXES:
        return f"{PINYIN_FIXES[name]} {unit}"
    if base in PINYIN_FIXES:
        return f"{PINYIN_FIXES[base]} {unit}"
    syllables = lazy_pinyin(base, style=Style.NORMAL)
    word = syllables[0]
    for syl in syllables[1:]:
        word += ("'" if syl[:1] in "aoe" else "") + syl
    return f"{word.capitalize()} {unit}"


def build_divisions(loc_path: Path | None = None) -> list[dict[str, Any]]:
    """The Shaanxi division list, sorted by code, with successors resolved."""
    entries = {
        entry.code: entry
        for entry in iter_loc_dat(loc_path)
        if entry.code.startswith(PROVINCE) and not _is_placeholder(entry)
    }
    by_code = {code: _division(entry) for code, entry in entries.items()}

    for code, division in by_code.items():
        if division["valid_to"] is None:
            if code in EXPLICIT_SUCCESSORS:
                raise SystemExit(f"{code} is current but has an explicit successor")
            continue
        division["successor"] = EXPLICIT_SUCCESSORS.get(code) or _same_name_successor(
            division, entries, by_code
        )

    _verify(by_code)
    for division in by_code.values():
        division["name_en"] = english_name(division["name"])
    return [by_code[code] for code in sorted(by_code)]


def _verify(by_code: dict[str, dict[str, Any]]) -> None:
    problems = []
    for code, division in by_code.items():
        parent = division["parent"]
        if parent is not None and parent not in by_code:
            problems.append(f"{code}: parent {parent} missing")
        nxt = division["successor"]
        if nxt is None:
            continue
        if nxt not in by_code:
            problems.append(f"{code}: successor {nxt} missing")
            continue
        if by_code[nxt]["valid_from"] != division["valid_to"]:
            problems.append(
                f"{code}: ends {division['valid_to']} but successor {nxt} "
                f"starts {by_code[nxt]['valid_from']}"
            )
        seen = {code}
        while nxt is not None and nxt not in seen:
            seen.add(nxt)
            nxt = by_code.get(nxt, {}).get("successor")
        if nxt is not None:
            problems.append(f"{code}: successor chain loops")
    if problems:
        raise SystemExit("inconsistent successor data:\n  " + "\n  ".join(problems))


def build_document(
    loc_path: Path | None = None, generated_on: dt.date | None = None
) -> dict[str, Any]:
    """The full JSON document: source metadata plus the division list."""
    loc_path = loc_path or loc_dat_path()
    generated_on = generated_on or dt.date.today()
    return {
        "source": {
            "standard": "GB/T 2260 中华人民共和国行政区划代码",
            "package": "python-stdnum",
            "version": stdnum.__version__,
            "file": "stdnum/cn/loc.dat",
            "upstream": "zh.wikipedia.org 中华人民共和国行政区划代码 (1区-8区), via python-stdnum",
            "successors": "scripts/build_divisions.py EXPLICIT_SUCCESSORS "
            "(GB/T 2260 change lists as in loc.dat) plus same-name renumbering",
            "generated": generated_on.isoformat(),
            "generator": "scripts/build_divisions.py",
        },
        "province": PROVINCE,
        "notes": {
            "level": "province = xx0000, city = prefecture level xxxx00 (incl. former 地区), "
            "county = county level",
            "valid_from": "first year in force; null = before the recorded history (~1980)",
            "valid_to": "last year in force; null = current",
            "excluded": "placeholder codes 市辖区 (xxxx01) and pre-1983 市区 (xxxx20)",
        },
        "divisions": build_divisions(loc_path),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DATA_FILE)
    parser.add_argument("--loc-dat", type=Path, default=None, help="default: installed stdnum")
    parser.add_argument(
        "--generated-on", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD"
    )
    parser.add_argument(
        "--check", action="store_true", help="compare divisions with --output, write nothing"
    )
    args = parser.parse_args(argv)

    document = build_document(args.loc_dat, args.generated_on)
    if args.check:
        existing = json.loads(args.output.read_text(encoding="utf-8"))
        if existing.get("divisions") != document["divisions"]:
            print(f"{args.output} is out of date; rerun {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0

    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    args.output.write_text(text, encoding="utf-8")

    divisions = document["divisions"]
    current = [d for d in divisions if d["valid_to"] is None]
    orphans = [d["code"] for d in divisions if d["valid_to"] is not None and not d["successor"]]
    print(
        f"wrote {args.output}: {len(divisions)} codes, {len(current)} current "
        f"({sum(d['level'] == 'city' for d in current)} cities, "
        f"{sum(d['level'] == 'county' for d in current)} county-level)"
    )
    if orphans:
        print(f"historical codes without successor: {', '.join(orphans)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
