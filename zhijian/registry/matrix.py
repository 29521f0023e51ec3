"""Responsibility-matrix analysis (M2.3): blind spots and overlaps.

Pure function over plain data. A cell is a (category code, level) pair. A cell with no
lead department kind is a blind spot (监管盲区); a cell with two or more lead kinds is an
overlap (重复监管). A category's duty is inherited by its sub-categories unless the
sub-category has lead cells of its own at that level; see docs/responsibility-matrix.md.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    category: str
    level: str
    leads: tuple[str, ...]
    assists: tuple[str, ...]
    inherited_from: str | None = None


def _ancestors(code: str) -> list[str]:
    parts = code.split(".")
    return [".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]


def analyse(categories: list[str], levels: list[str], duties: list[tuple[str, str, str, str]]):
    """duties: (category, level, kind, role) with role "lead" or "assist".

    Returns (cells, blind_spots, overlaps), each a list of Cell in category/level order.
    """
    own: dict[tuple[str, str], dict[str, list[str]]] = {}
    for cat, level, kind, role in duties:
        slot = own.setdefault((cat, level), {"lead": [], "assist": []})
        slot[role].append(kind)
    cells, blind, overlap = [], [], []
    for cat in sorted(categories):
        for level in levels:
            slot = own.get((cat, level))
            source = None
            if not slot or not slot["lead"]:
                for anc in _ancestors(cat):
                    anc_slot = own.get((anc, level))
                    if anc_slot and anc_slot["lead"]:
                        slot = {"lead": anc_slot["lead"],
                                "assist": (slot or {}).get("assist", []) + anc_slot["assist"]}
                        source = anc
                        break
            slot = slot or {"lead": [], "assist": []}
            cell = Cell(cat, level, tuple(sorted(slot["lead"])), tuple(sorted(set(slot["assist"]))),
                        source)
            cells.append(cell)
            if not cell.leads:
                blind.append(cell)
            elif len(cell.leads) > 1:
                overlap.append(cell)
    return cells, blind, overlap
