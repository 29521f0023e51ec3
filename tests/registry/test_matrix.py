"""The responsibility-matrix analysis (M2.3) as a pure function (docs/responsibility-matrix.md)."""

from zhijian.registry.matrix import Cell, analyse

LEVELS = ["province", "city", "county"]


def test_blind_spot_and_overlap_are_named():
    duties = [
        ("food", "province", "market", "lead"),
        ("food", "city", "market", "lead"),
        ("food", "city", "health", "lead"),  # two leads: overlap
        ("food", "county", "health", "assist"),  # no lead: blind spot
    ]
    cells, blind, overlap = analyse(["food"], LEVELS, duties)
    assert len(cells) == 3
    assert blind == [Cell("food", "county", (), ("health",), None)]
    assert overlap == [Cell("food", "city", ("health", "market"), (), None)]


def test_children_inherit_the_parent_lead_unless_they_have_their_own():
    duties = [
        ("building", "county", "housing", "lead"),
        ("building", "county", "market", "assist"),
        ("building.cement", "county", "market", "lead"),
        ("building.steel", "county", "market", "assist"),
    ]
    cells, blind, overlap = analyse(
        ["building", "building.cement", "building.steel"], ["county"], duties
    )
    by_cat = {c.category: c for c in cells}
    assert by_cat["building.cement"] == Cell("building.cement", "county", ("market",), (), None)
    # steel has only an assist of its own, so it inherits the parent's lead and assist
    assert by_cat["building.steel"] == Cell(
        "building.steel", "county", ("housing",), ("market",), "building"
    )
    assert blind == [] and overlap == []


def test_empty_matrix_is_all_blind():
    cells, blind, overlap = analyse(["a", "b"], LEVELS, [])
    assert [(c.category, c.level) for c in blind] == [
        ("a", "province"), ("a", "city"), ("a", "county"),
        ("b", "province"), ("b", "city"), ("b", "county"),
    ]
    assert overlap == []
