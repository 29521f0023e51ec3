"""Small display helpers of the purchasing pages."""

from django import template

from ..choices import MATCH_LABELS, REASON_LABELS, Standing, WitnessResult
from ..services import reason_text

register = template.Library()

COLOURS = {
    # standing
    "qualified": "success", "watch": "warning", "removed": "danger",
    # deliveries
    "pending": "secondary", "accepted": "success", "rejected": "danger",
    # appeals
    "open": "info", "upheld": "success", "dismissed": "secondary",
    # witness inspections
    "pass": "success", "fail": "danger",
}


@register.filter
def procurement_colour(value) -> str:
    """The Bootstrap colour of a status badge."""
    return COLOURS.get(str(value), "secondary")


@register.filter
def reason(value) -> str:
    """A stored reason of a standing as a sentence (docs/supplier-standing.md)."""
    return reason_text(value)


@register.filter
def reason_label(code) -> str:
    return str(REASON_LABELS.get(code, code))


@register.filter
def hard_reasons(reasons) -> list:
    return [r for r in reasons or [] if r.get("hard")]


@register.filter
def qty(value) -> str:
    """1000.000 -> "1000", 150.500 -> "150.5"."""
    from decimal import Decimal

    from ..services import qty_text

    return qty_text(Decimal(str(value))) if value not in (None, "") else ""


@register.filter
def standing_label(value) -> str:
    try:
        return str(Standing(value).label)
    except ValueError:
        return str(value)


@register.filter
def witness_label(value) -> str:
    try:
        return str(WitnessResult(value).label)
    except ValueError:
        return str(value)


@register.filter
def match_label(key) -> str:
    return str(MATCH_LABELS.get(key, key))
