from django import template

register = template.Library()


@register.filter
def thousands(value):
    """12345678 -> 12,345,678 (numbers on the catalog are large)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value
