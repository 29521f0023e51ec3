"""Small display helpers of the recall pages."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()

COLOURS = {
    # recalls
    "proposed": "warning", "open": "danger", "completed": "success", "dismissed": "secondary",
    # items
    "listed": "secondary", "located": "info", "removed": "primary", "replaced": "success",
    "destroyed": "success", "not_found": "dark",
    # severity
    "1": "danger", "2": "warning", "3": "info",
}


@register.filter
def recall_colour(value) -> str:
    """The Bootstrap colour of a status or severity badge."""
    return COLOURS.get(str(value), "secondary")


@register.filter
def rqty(value) -> str:
    """1000.000 -> "1000", 150.500 -> "150.5", None -> "—"."""
    if value in (None, ""):
        return "—"
    return f"{Decimal(str(value)).normalize():f}"


@register.filter
def pct(value) -> str:
    """A percentage from progress.percent, or "—" when nothing is listed."""
    return "—" if value is None else f"{value}%"


@register.filter
def bar(value) -> str:
    """A width for a progress bar (0–100, as text with a dot decimal)."""
    if value is None:
        return "0"
    return f"{min(max(Decimal(value), Decimal(0)), Decimal(100))}"


@register.filter
def unit(code) -> str:
    """An EPCIS unit code as people write it (MTR -> m)."""
    from ..choices import unit_symbol

    return unit_symbol(code or "")


@register.filter
def place_label(item) -> str:
    """The place's name from the directory, else its identifier."""
    return item.place_ref.name if item.place_ref_id else item.place


@register.filter
def tier_label(tier) -> str:
    from django.utils.translation import gettext as _

    names = {0: _("Tier 0: the maker"), 1: _("Tier 1: first receivers (distributors)"),
             2: _("Tier 2: their customers (contractors)")}
    return names.get(tier, _("Tier %(n)d: further down (installation sites)") % {"n": tier})
