"""Small display helpers of the sampling pages."""

from django import template

register = template.Library()

COLOURS = {
    # plans
    "draft": "secondary", "active": "primary", "closed": "success",
    # samples
    "sampled": "secondary", "in_transit": "info", "received": "primary",
    "reported": "primary", "published": "success",
    # results
    "pass": "success", "fail": "danger", "": "secondary",
    # disposals
    "open": "warning", "decided": "primary",
}


@register.filter
def sampling_colour(value) -> str:
    """The Bootstrap colour of a status or result badge."""
    return COLOURS.get(str(value), "secondary")
