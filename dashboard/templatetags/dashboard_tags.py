from urllib.parse import urlencode

from django import template

register = template.Library()


@register.filter
def pct(value):
    """A rate in percent, or a dash when there is nothing to divide by."""
    return "—" if value is None else f"{value:.1f}%"


@register.filter
def urlencode_dict(query: dict) -> str:
    return urlencode(query)


@register.filter
def with_region(query: str, code: str) -> str:
    """The same filters one level down: the statistics of a child region."""
    from urllib.parse import parse_qsl

    params = dict(parse_qsl(query))
    params["region"] = code
    return urlencode(params)
