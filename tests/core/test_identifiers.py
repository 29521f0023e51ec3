"""Tests for Unified Social Credit Code validation (GB 32100-2015)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from zhijian.core import divisions
from zhijian.core.identifiers import (
    ALPHABET,
    ENTITY_TYPES,
    REGISTRATION_AUTHORITIES,
    USCC_WEIGHTS,
    UsccProblem,
    is_valid_uscc,
    make_uscc,
    normalise_uscc,
    org_code_check_digit,
    parse_uscc,
    synthetic_uscc,
    uscc_check_character,
    validate_uscc,
)

KNOWN_VALID = ["91110000600037341L", "91610113MA6U000138"]
ALL_AUTHORITIES = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "N", "Y"]

CURRENT_COUNTIES = [d["code"] for d in divisions.current_divisions() if d["level"] == "county"]
HISTORICAL_CODES = [d["code"] for d in divisions.shaanxi_divisions() if d["valid_to"] is not None]
AUTHORITY_TYPES = [(a, t) for a in sorted(ENTITY_TYPES) for t in sorted(ENTITY_TYPES[a])]

seeds = st.integers(min_value=0, max_value=2**64 - 1)


# --- constants ---------------------------------------------------------------


def test_alphabet_constant():
    assert ALPHABET == "0123456789ABCDEFGHJKLMNPQRTUWXY"
    assert len(ALPHABET) == 31
    assert not set("IOZSV") & set(ALPHABET)


def test_weights_are_powers_of_three_mod_31():
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_authority_table():
    assert sorted(REGISTRATION_AUTHORITIES) == ALL_AUTHORITIES
    assert {a: "".join(sorted(t)) for a, t in ENTITY_TYPES.items()} == {
        "1": "1239", "2": "19", "3": "123459", "4": "129", "5": "1239", "6": "129",
        "7": "1239", "8": "19", "9": "123", "A": "19", "N": "12349", "Y": "1",
    }  # fmt: skip


# --- known vectors -----------------------------------------------------------


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_valid_codes(code):
    assert validate_uscc(code) == []
    assert is_valid_uscc(code)
    assert stdnum_uscc.is_valid(code)
    assert uscc_check_character(code[:17]) == code[17]
    assert org_code_check_digit(code[8:16]) == code[16]


def test_make_uscc_reproduces_known_vectors():
    assert make_uscc(division="110000", org_body8="60003734") == "91110000600037341L"
    assert make_uscc(org_body8="MA6U0001") == "91610113MA6U000138"


def test_parse_uscc():
    assert parse_uscc("91610113MA6U000138") == {
        "authority": "9",
        "entity_type": "1",
        "division": "610113",
        "org_code": "MA6U00013",
        "check": "8",
    }
    with pytest.raises(ValueError):
        parse_uscc("91610113MA6U00013")


# --- normalisation -----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "91610113ma6u000138",
        " 91610113MA6U000138\n",
        "9161 0113 MA6U 0001 38",
        "91610113-MA6U00013-8",
        "９１６１０１１３ＭＡ６Ｕ０００１３８",  # full-width input
    ],
)
def test_normalisation(raw):
    assert normalise_uscc(raw) == "91610113MA6U000138"
    assert validate_uscc(raw) == []


def test_normalise_rejects_non_strings():
    with pytest.raises(TypeError):
        normalise_uscc(None)


# --- each problem code ---------------------------------------------------------


def test_length_too_short():
    assert validate_uscc("91610113MA6U00013") == [
        UsccProblem("length", "1-18", {"expected": 18, "found": 17})
    ]


def test_length_empty():
    assert validate_uscc("") == [UsccProblem("length", "1-18", {"expected": 18, "found": 0})]


def test_length_and_alphabet_reported_together():
    assert validate_uscc("91610113MA6U0001I38") == [
        UsccProblem("length", "1-18", {"expected": 18, "found": 19}),
        UsccProblem("alphabet", "17", {"found": "I"}),
    ]


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V", "*", "中"])
def test_alphabet(bad):
    code = "91610113M" + bad + "6U000138"
    assert validate_uscc(code) == [UsccProblem("alphabet", "10", {"found": bad})]


def test_alphabet_after_lowercase_normalisation():
    # "o" is upper-cased first and then rejected as "O".
    assert validate_uscc("91610113Mo6U00013s") == [
        UsccProblem("alphabet", "10", {"found": "O"}),
        UsccProblem("alphabet", "18", {"found": "S"}),
    ]


def test_registration_authority():
    assert validate_uscc("B1610113MA6U000136") == [
        UsccProblem("registration_authority", "1", {"found": "B", "expected": ALL_AUTHORITIES})
    ]


def test_entity_type():
    assert validate_uscc("94610113MA6U00013Y") == [
        UsccProblem(
            "entity_type", "2", {"authority": "9", "found": "4", "expected": ["1", "2", "3"]}
        )
    ]


def test_division_unknown():
    assert validate_uscc("91999999MA6U00013Q") == [
        UsccProblem("division", "3-8", {"found": "999999"})
    ]


def test_division_not_in_gbt2260_can_be_allowed_explicitly():
    # 610131 is used by the registration office of Xi'an's high-tech zone but
    # is no GB/T 2260 code; callers that accept such codes pass them in.
    code = "91610131MA6U00013A"
    assert validate_uscc(code) == [UsccProblem("division", "3-8", {"found": "610131"})]
    assert validate_uscc(code, extra_divisions={"610131"}) == []
    assert validate_uscc(code, extra_divisions="610131") == []


def test_division_nationwide_switch():
    code = make_uscc(division="110105", org_body8="MA6U0001")
    assert validate_uscc(code) == []
    assert validate_uscc(code, nationwide=False) == [
        UsccProblem("division", "3-8", {"found": "110105"})
    ]


def test_org_code_check():
    # Position 17 wrong, position 18 recomputed so only the inner check fails.
    assert validate_uscc("91610113MA6U00014B") == [
        UsccProblem("org_code_check", "9-17", {"expected": "3", "found": "4"})
    ]


def test_check_character():
    assert validate_uscc("91610113MA6U000139") == [
        UsccProblem("check_character", "18", {"expected": "8", "found": "9"})
    ]


def test_all_determinable_problems_in_position_order():
    assert validate_uscc("94999999MA6U000140") == [
        UsccProblem(
            "entity_type", "2", {"authority": "9", "found": "4", "expected": ["1", "2", "3"]}
        ),
        UsccProblem("division", "3-8", {"found": "999999"}),
        UsccProblem("org_code_check", "9-17", {"expected": "3", "found": "4"}),
        UsccProblem("check_character", "18", {"expected": "J", "found": "0"}),
    ]


def test_unknown_authority_skips_entity_type():
    assert [p.code for p in validate_uscc("B4999999MA6U000140")] == [
        "registration_authority",
        "division",
        "org_code_check",
        "check_character",
    ]


# --- check digit functions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "check"),
    [("60003734", "1"), ("MA6U0001", "3"), ("0000000A", "2"), ("00000006", "X"), ("00000000", "0")],
)
def test_org_code_check_digit(body, check):
    assert org_code_check_digit(body) == check


def test_org_code_check_x_is_a_valid_uscc_character():
    code = make_uscc(org_body8="00000006")
    assert code[16] == "X"
    assert validate_uscc(code) == []


@pytest.mark.parametrize("bad", ["0000000", "000000000", "0000000a", "0000000-"])
def test_org_code_check_digit_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        org_code_check_digit(bad)


@pytest.mark.parametrize("bad", ["9161011300000006", "9161011300000006XY", "91610113MA6U0001I"])
def test_uscc_check_character_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        uscc_check_character(bad)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"division": "999999", "org_body8": "MA6U0001"},
        {"authority": "B", "org_body8": "MA6U0001"},
        {"entity_type": "4", "org_body8": "MA6U0001"},
        {"org_body8": "MA6U000"},
        {"org_body8": "MA6U000I"},
        {"division": "61011", "org_body8": "MA6U0001"},
    ],
)
def test_make_uscc_rejects_invalid_parts(kwargs):
    with pytest.raises(ValueError):
        make_uscc(**kwargs)


@pytest.mark.parametrize("authority", ALL_AUTHORITIES)
def test_every_authority_can_build_a_valid_code(authority):
    for entity_type in sorted(ENTITY_TYPES[authority]):
        code = make_uscc(authority=authority, entity_type=entity_type, org_body8="MA6U0001")
        assert validate_uscc(code) == []
        # python-stdnum only checks the outer character for these.
        assert stdnum_uscc.calc_check_digit(code[:17]) == code[17]


def test_stdnum_rejects_letter_authorities_that_gb32100_allows():
    # stdnum requires digits in positions 1-8; GB 32100 has authorities A, N, Y.
    code = make_uscc(authority="Y", entity_type="1", org_body8="MA6U0001")
    assert validate_uscc(code) == []
    assert not stdnum_uscc.is_valid(code)


# --- properties ---------------------------------------------------------------


def test_synthetic_uscc_is_deterministic():
    first = synthetic_uscc(random.Random(42), "610113")
    assert first == synthetic_uscc(random.Random(42), "610113")
    assert first[:8] == "91610113"


@given(seed=seeds, division=st.sampled_from(CURRENT_COUNTIES + HISTORICAL_CODES))
def test_synthetic_uscc_valid_and_agrees_with_stdnum(seed, division):
    code = synthetic_uscc(random.Random(seed), division)
    assert validate_uscc(code) == []
    assert stdnum_uscc.is_valid(code)
    assert parse_uscc(code)["division"] == division


@given(seed=seeds, pair=st.sampled_from(AUTHORITY_TYPES))
def test_synthetic_uscc_any_authority(seed, pair):
    authority, entity_type = pair
    code = synthetic_uscc(random.Random(seed), "610113", authority, entity_type)
    assert validate_uscc(code) == []
    assert stdnum_uscc.calc_check_digit(code[:17]) == code[17]
    if authority.isdigit():
        assert stdnum_uscc.is_valid(code)


@settings(max_examples=50)
@given(seed=seeds)
def test_every_substitution_in_positions_9_to_18_is_rejected(seed):
    code = synthetic_uscc(random.Random(seed), "610113")
    for index in range(8, 18):
        for char in ALPHABET:
            if char == code[index]:
                continue
            mutated = code[:index] + char + code[index + 1 :]
            problems = validate_uscc(mutated)
            assert problems, mutated
            assert problems[-1].code == "check_character", mutated
            assert not stdnum_uscc.is_valid(mutated)


@given(seed=seeds, division=st.sampled_from(HISTORICAL_CODES))
def test_historical_division_gives_valid_code(seed, division):
    code = synthetic_uscc(random.Random(seed), division)
    assert validate_uscc(code) == []
    assert validate_uscc(code, nationwide=False) == []


def test_historical_division_example():
    code = make_uscc(division="610125", org_body8="MA6U0001")  # 户县, until 2016
    assert validate_uscc(code) == []
    assert stdnum_uscc.is_valid(code)
