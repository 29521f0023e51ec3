"""The pure correction-rate computation (zhijian/recalls/progress.py, docs/recalls.md
"Correction rate"): exact rows, units kept apart, no division by zero, and properties
over random impact lists."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from zhijian.recalls.progress import ItemProgress, percent, rates

D = Decimal


def item(tier, uom, listed, removed="0", replaced="0", destroyed="0", closed=False):
    return ItemProgress(tier, uom, None if listed is None else D(listed), D(removed),
                        D(replaced), D(destroyed), closed)


def test_rows_per_tier_and_unit_then_overall():
    rows = rates([
        item(1, "MTR", "800", "300"),
        item(0, "MTR", "1000"),
        item(1, "MTR", "200", "200", "50", "150", closed=True),
        item(1, "KGM", "40", "40", destroyed="40", closed=True),
        item(3, "MTR", None),  # a quantity not known: counted as an item only
    ])
    assert [(r.tier, r.uom, r.listed, r.removed, r.corrected, r.items, r.closed,
             r.removal_rate, r.correction_rate) for r in rows] == [
        (0, "MTR", D(1000), D(0), D(0), 1, 0, D("0.0"), D("0.0")),
        (1, "KGM", D(40), D(40), D(40), 1, 1, D("100.0"), D("100.0")),
        (1, "MTR", D(1000), D(500), D(200), 2, 1, D("50.0"), D("20.0")),
        (3, "MTR", D(0), D(0), D(0), 1, 0, None, None),
        (None, "KGM", D(40), D(40), D(40), 1, 1, D("100.0"), D("100.0")),
        (None, "MTR", D(2000), D(500), D(200), 4, 1, D("25.0"), D("10.0")),
    ]
    assert rows[-1].closed_rate == D("25.0")


def test_rounding_and_nothing_listed():
    assert percent(D(1), D(3)) == D("33.3")
    assert percent(D(2), D(3)) == D("66.7")
    assert percent(D(1), D(8)) == D("12.5")
    assert percent(D(1), D(16)) == D("6.3")  # 6.25 rounds half up
    assert percent(D(5), D(0)) is None
    assert rates([]) == []


quantities = st.integers(min_value=0, max_value=10**6).map(lambda n: D(n) / 1000)


@st.composite
def items(draw):
    listed = draw(quantities)
    removed = draw(quantities.filter(lambda q: q <= listed)) if listed else D(0)
    replaced = draw(quantities.filter(lambda q: q <= removed)) if removed else D(0)
    destroyed = removed - replaced
    return ItemProgress(draw(st.integers(0, 4)), draw(st.sampled_from(["MTR", "KGM"])),
                        listed, removed, replaced, destroyed,
                        draw(st.booleans()))


@given(st.lists(items(), max_size=30))
def test_properties(batch):
    rows = rates(batch)
    per_tier = [r for r in rows if r.tier is not None]
    overall = {r.uom: r for r in rows if r.tier is None}
    assert sum(r.items for r in per_tier) == len(batch)
    for uom, total in overall.items():
        mine = [r for r in per_tier if r.uom == uom]
        assert total.removed == sum((r.removed for r in mine), D(0))
        assert total.corrected == sum((r.corrected for r in mine), D(0))
        assert total.listed == sum((r.listed for r in mine), D(0))
        assert total.items == sum(r.items for r in mine)
        if total.listed:
            assert D(0) <= total.correction_rate <= total.removal_rate <= D(100)
    for r in per_tier:
        # within one tier nothing exceeds what was listed there
        assert r.corrected <= r.removed <= r.listed
        if r.listed:
            assert D(0) <= r.correction_rate <= r.removal_rate <= D(100)
        else:
            assert r.removal_rate is None
