"""The responsibility matrix as a grid for templates (workbench and public portal)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import get_language

from zhijian.registry.api import matrix_report
from zhijian.registry.choices import DepartmentKind, Level
from zhijian.registry.models import ProductCategory


@dataclass
class GridCell:
    level: str
    leads: list[str]
    assists: list[str]
    inherited_from: str | None
    state: str  # "ok", "blind" or "overlap"


@dataclass
class GridRow:
    code: str
    name: str
    depth: int
    cells: list[GridCell]


def matrix_grid(problems_only: bool = False) -> dict:
    """Rows of category × level with the lead and assisting department kinds, blind spots
    (no lead) and overlaps (two or more leads), and the counts. `problems_only` keeps the
    rows that have a blind spot or an overlap."""
    cells, blind, overlap = matrix_report()
    lang = get_language()
    names = {
        c["code"]: (c["name_en"] if lang == "en" and c["name_en"] else c["name"])
        for c in ProductCategory.objects.values("code", "name", "name_en")
    }
    kinds = dict(DepartmentKind.choices)
    blind_keys = {(c.category, c.level) for c in blind}
    overlap_keys = {(c.category, c.level) for c in overlap}
    by_cat: dict[str, list[GridCell]] = {}
    for c in cells:
        key = (c.category, c.level)
        state = "blind" if key in blind_keys else "overlap" if key in overlap_keys else "ok"
        by_cat.setdefault(c.category, []).append(GridCell(
            level=c.level,
            leads=[str(kinds.get(k, k)) for k in c.leads],
            assists=[str(kinds.get(k, k)) for k in c.assists],
            inherited_from=names.get(c.inherited_from, c.inherited_from) if c.inherited_from else None,
            state=state,
        ))
    rows = [GridRow(code, names.get(code, code), code.count("."), row)
            for code, row in by_cat.items()
            if not problems_only or any(c.state != "ok" for c in row)]
    return {
        "matrix_levels": [str(label) for _, label in Level.choices],
        "matrix_rows": rows,
        "matrix_cells": len(cells),
        "matrix_blind": len(blind),
        "matrix_overlap": len(overlap),
        "problems_only": problems_only,
    }
