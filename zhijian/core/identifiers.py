"""Unified Social Credit Code (统一社会信用代码) per GB 32100-2015.

Structure of the 18 characters (GB 32100-2015 clause 4):

====  ==========================================================
pos   meaning
====  ==========================================================
1     registration authority (登记管理部门代码), Table 1
2     entity type (机构类别代码), Table 2, depends on position 1
3-8   division of the registering office, GB/T 2260
9-17  organisation code (主体标识码) per GB 11714: 8-character
      body plus its own check character at position 17
18    check character, GB/T 17710 (ISO 7064 MOD 31-3 style)
====  ==========================================================

Validation returns structured :class:`UsccProblem` records instead of raising,
so forms, APIs and import jobs can render them as they see fit.  The module
imports no Django code.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from zhijian.core import divisions

__all__ = [
    "ALPHABET",
    "USCC_LENGTH",
    "USCC_WEIGHTS",
    "ORG_CODE_WEIGHTS",
    "REGISTRATION_AUTHORITIES",
    "ENTITY_TYPES",
    "UsccProblem",
    "normalise_uscc",
    "validate_uscc",
    "is_valid_uscc",
    "uscc_check_character",
    "org_code_check_digit",
    "make_uscc",
    "synthetic_uscc",
    "parse_uscc",
]

#: GB 32100-2015 character set: digits and upper-case letters without I, O,
#: Z, S and V (too easily confused with 1, 0, 2, 5 and U).  The index of a
#: character is its value in the check-character computation.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_LENGTH = 18

#: GB 32100-2015 / GB/T 17710: weight of position i (1-based) is 3^(i-1) mod 31.
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

#: GB 11714-1997 weights for the eight body characters of the organisation code.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

#: GB 32100-2015 Table 1 (登记管理部门代码), including the later additions
#: A (军队) and N (农业) from the standard's amendments.
REGISTRATION_AUTHORITIES: dict[str, str] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商/市场监管",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}

#: GB 32100-2015 Table 2 (机构类别代码): entity types allowed per authority,
#: e.g. 9 工商 → 1 企业, 2 个体工商户, 3 农民专业合作社.
#: The sets follow the project's specification.  Published reproductions of
#: Table 2 list only 41/49 (文化), 71/72/79 (宗教) and N1/N2/N3/N9 (农业);
#: 42, 73 and N4 are accepted here because wrongly rejecting a real code costs
#: more than accepting a rare odd one.  Tighten once checked against the text.
ENTITY_TYPES: dict[str, frozenset[str]] = {
    "1": frozenset("1239"),
    "2": frozenset("19"),
    "3": frozenset("123459"),
    "4": frozenset("129"),
    "5": frozenset("1239"),
    "6": frozenset("129"),
    "7": frozenset("1239"),
    "8": frozenset("19"),
    "9": frozenset("123"),
    "A": frozenset("19"),
    "N": frozenset("12349"),
    "Y": frozenset("1"),
}

_VALUES = {char: value for value, char in enumerate(ALPHABET)}


@dataclass(frozen=True)
class UsccProblem:
    """One reason a USCC is invalid.

    ``code`` is one of ``length``, ``alphabet``, ``registration_authority``,
    ``entity_type``, ``division``, ``org_code_check``, ``check_character``;
    ``position`` is the 1-based position or range (``"1"``, ``"3-8"``,
    ``"1-18"``); ``detail`` holds JSON-serialisable specifics such as
    ``{"expected": "8", "found": "9"}``.
    """

    code: str
    position: str
    detail: dict[str, Any] = field(default_factory=dict)


def normalise_uscc(value: str) -> str:
    """Canonical form of user input: NFKC, no spaces or hyphens, upper case.

    NFKC folds full-width characters typed with Chinese input methods
    (``９１６１…``) to ASCII.
    """
    if not isinstance(value, str):
        raise TypeError(f"USCC must be a str, not {type(value).__name__}")
    value = unicodedata.normalize("NFKC", value)
    return "".join(value.split()).replace("-", "").upper()


def _gb11714_value(char: str) -> int:
    # GB 11714 values letters by their Latin position (A=10 … Z=35), not by
    # their index in the USCC alphabet.
    if "0" <= char <= "9":
        return ord(char) - ord("0")
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    raise ValueError(f"invalid organisation code character: {char!r}")


def org_code_check_digit(first8: str) -> str:
    """GB 11714-1997 check character for an 8-character organisation code body.

    C9 = 11 - (Σ value·weight mod 11), where 10 is written ``X`` and 11 ``0``.
    """
    if not isinstance(first8, str) or len(first8) != 8:
        raise ValueError(f"organisation code body must be 8 characters: {first8!r}")
    total = sum(_gb11714_value(c) * w for c, w in zip(first8, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def uscc_check_character(first17: str) -> str:
    """GB 32100-2015 check character (position 18) for the first 17 characters.

    C18 = 31 - (Σ value·3^(i-1) mod 31), mapped through :data:`ALPHABET`
    (GB/T 17710 hybrid system with modulus 31).
    """
    if not isinstance(first17, str) or len(first17) != 17:
        raise ValueError(f"need the first 17 characters: {first17!r}")
    try:
        total = sum(_VALUES[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character outside the USCC alphabet: {exc.args[0]!r}") from None
    return ALPHABET[(31 - total % 31) % 31]


def validate_uscc(
    value: str,
    *,
    nationwide: bool = True,
    extra_divisions: Collection[str] = (),
) -> list[UsccProblem]:
    """All problems of a USCC under GB 32100-2015, in position order.

    An empty list means the code is valid.  Length and alphabet problems are
    reported alone: with characters missing or foreign, the later checks would
    only produce noise.  When position 1 is not a known authority, position 2
    cannot be judged and is skipped.

    ``nationwide`` is passed to :func:`divisions.is_known_code`;
    ``extra_divisions`` accepts registration-area codes that are not in
    GB/T 2260 (development zones use such codes in practice).
    """
    if isinstance(extra_divisions, str):
        # A lone string would otherwise match by substring.
        extra_divisions = (extra_divisions,)
    code = normalise_uscc(value)
    problems: list[UsccProblem] = []
    if len(code) != USCC_LENGTH:
        problems.append(
            UsccProblem("length", "1-18", {"expected": USCC_LENGTH, "found": len(code)})
        )
    for index, char in enumerate(code):
        if char not in _VALUES:
            problems.append(UsccProblem("alphabet", str(index + 1), {"found": char}))
    if problems:
        return problems

    authority, entity_type = code[0], code[1]
    if authority not in REGISTRATION_AUTHORITIES:
        problems.append(
            UsccProblem(
                "registration_authority",
                "1",
                {"found": authority, "expected": sorted(REGISTRATION_AUTHORITIES)},
            )
        )
    elif entity_type not in ENTITY_TYPES[authority]:
        problems.append(
            UsccProblem(
                "entity_type",
                "2",
                {
                    "authority": authority,
                    "found": entity_type,
                    "expected": sorted(ENTITY_TYPES[authority]),
                },
            )
        )

    division = code[2:8]
    if division not in extra_divisions and not divisions.is_known_code(
        division, nationwide=nationwide
    ):
        problems.append(UsccProblem("division", "3-8", {"found": division}))

    org_expected = org_code_check_digit(code[8:16])
    if code[16] != org_expected:
        problems.append(
            UsccProblem("org_code_check", "9-17", {"expected": org_expected, "found": code[16]})
        )

    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        problems.append(
            UsccProblem("check_character", "18", {"expected": expected, "found": code[17]})
        )
    return problems


def is_valid_uscc(value: str, **options: Any) -> bool:
    """Shorthand for ``not validate_uscc(value, **options)``."""
    return not validate_uscc(value, **options)


def make_uscc(
    *,
    authority: str = "9",
    entity_type: str = "1",
    division: str = "610113",
    org_body8: str,
) -> str:
    """Build a valid USCC from its parts, computing both check characters.

    Raises ``ValueError`` (listing the :class:`UsccProblem` records) when the
    parts cannot form a valid code, e.g. an unknown division.
    """
    body = normalise_uscc(org_body8)
    if len(body) != 8 or any(c not in _VALUES for c in body):
        raise ValueError(f"org_body8 must be 8 characters from ALPHABET: {org_body8!r}")
    first17 = authority + entity_type + division + body + org_code_check_digit(body)
    if len(first17) != 17 or any(c not in _VALUES for c in first17):
        raise ValueError(f"malformed parts: {first17!r}")
    code = first17 + uscc_check_character(first17)
    problems = validate_uscc(code)
    if problems:
        raise ValueError(f"cannot build a valid USCC from these parts: {problems}")
    return code


def synthetic_uscc(
    rng: random.Random, division: str, authority: str = "9", entity_type: str = "1"
) -> str:
    """A valid, made-up USCC for test and demo data; deterministic given ``rng``."""
    body = "".join(rng.choice(ALPHABET) for _ in range(8))
    return make_uscc(
        authority=authority, entity_type=entity_type, division=division, org_body8=body
    )


def parse_uscc(value: str) -> dict[str, str]:
    """Split a USCC into its GB 32100-2015 fields (no validity checks).

    Returns ``authority``, ``entity_type``, ``division``, ``org_code`` (positions
    9-17, including the GB 11714 check character) and ``check``.  Raises
    ``ValueError`` if the normalised value is not 18 characters long.
    """
    code = normalise_uscc(value)
    if len(code) != USCC_LENGTH:
        raise ValueError(f"USCC must be {USCC_LENGTH} characters, got {len(code)}")
    return {
        "authority": code[0],
        "entity_type": code[1],
        "division": code[2:8],
        "org_code": code[8:17],
        "check": code[17],
    }
