"""Small display helpers of the random-inspection pages."""

from decimal import Decimal

from django import template

register = template.Library()

COLOURS = {
    # plans
    "draft": "secondary", "published": "info", "drawn": "primary", "closed": "success",
    "cancelled": "dark",
    # draws
    "committed": "info", "failed": "danger", "superseded": "secondary",
    # tasks
    "assigned": "secondary", "in_progress": "primary", "completed": "success",
    # checklist results
    "conforms": "success", "nonconforms": "danger", "not_applicable": "secondary",
}


@register.filter
def status_colour(value) -> str:
    """The Bootstrap colour of a status badge."""
    return COLOURS.get(str(value), "secondary")


@register.filter
def basis_points(value) -> str:
    """300 → "3 %", 250 → "2.5 %", 10000 → "100 %"."""
    if value is None or value == "":
        return "—"
    pct = Decimal(int(value)) / 100
    text = format(pct.normalize(), "f")
    return f"{text} %"
