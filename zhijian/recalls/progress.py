"""The correction rate of a recall by level of the supply chain (docs/recalls.md,
"Correction rate").

Pure Python, no Django: plain rows in, plain rows out, so that anyone can recompute the
figures a recall page shows from its exported impact list.

For every tier (0 = the maker, 1 = its first receivers, 2 = theirs, …; installation
sites one tier below their installer) and unit of measure:

- listed     = the sum of the quantities the impact list gives at that tier (items
               without a quantity add nothing here but are counted as items);
- removed    = the sum of the quantities removed from use or from stock;
- corrected  = the sum of the quantities replaced or destroyed;
- removal rate    = removed / listed;
- correction rate = corrected / listed;
- items, closed   = how many items, and how many of them are closed (replaced,
                    destroyed or not found).

Overall (tier None), per unit: the same sums over every item of the impact list. The
impact list names every holder the goods passed through (a drum shipped to a distributor,
then to a contractor, then installed), so the overall listed quantity counts goods once
per line, not once per metre made: the overall rates are the share of the listed lines'
quantities dealt with, bounded by 100 % like each tier's. The physical reading is per
tier.

Rates are rounded half up to 0.1 %; with nothing listed a rate is None ("—"), never a
division by zero. Quantities in different units are never added together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
ALL_TIERS = None


@dataclass(frozen=True)
class ItemProgress:
    tier: int
    uom: str
    listed: Decimal | None
    removed: Decimal
    replaced: Decimal
    destroyed: Decimal
    closed: bool


@dataclass(frozen=True)
class Rate:
    tier: int | None  # None: every tier together
    uom: str
    listed: Decimal
    removed: Decimal
    corrected: Decimal
    items: int
    closed: int

    @property
    def removal_rate(self) -> Decimal | None:
        return percent(self.removed, self.listed)

    @property
    def correction_rate(self) -> Decimal | None:
        return percent(self.corrected, self.listed)

    @property
    def closed_rate(self) -> Decimal | None:
        return percent(Decimal(self.closed), Decimal(self.items))


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole as a percentage rounded half up to one decimal; None if whole is 0."""
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


def rates(items: Iterable[ItemProgress]) -> list[Rate]:
    """The rates per (tier, unit), ordered by tier then unit, followed by the overall rate
    of each unit (tier None)."""
    sums: dict[tuple[int | None, str], list] = {}
    for item in items:
        for key in ((item.tier, item.uom), (ALL_TIERS, item.uom)):
            row = sums.setdefault(key, [ZERO, ZERO, ZERO, 0, 0])
            row[0] += item.listed if item.listed is not None else ZERO
            row[1] += item.removed
            row[2] += item.replaced + item.destroyed
            row[3] += 1
            row[4] += 1 if item.closed else 0

    def order(key):
        tier, uom = key
        return (tier is None, tier or 0, uom)

    return [Rate(tier, uom, *sums[(tier, uom)]) for tier, uom in sorted(sums, key=order)]
