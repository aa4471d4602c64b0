"""Parsing of the pages' and API's query parameters, with readable errors."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

DEFAULT_DAYS = 30


def _date(value, field):
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Use a date like 2026-11-20.")}) from None


def matching_window(params) -> tuple[dt.datetime, dt.datetime, int]:
    """(since, until, radius in metres) from ?from=YYYY-MM-DD&to=YYYY-MM-DD&radius=500; the last 30 days by default."""
    today = timezone.localdate()
    start = _date(params["from"], "from") if params.get("from") else today - dt.timedelta(days=DEFAULT_DAYS - 1)
    end = _date(params["to"], "to") if params.get("to") else today
    if end < start:
        raise ValidationError({"to": _("The end date lies before the start date.")})
    if (end - start).days > 366:
        raise ValidationError({"to": _("Choose at most one year.")})
    try:
        radius = int(params.get("radius") or 500)
    except (TypeError, ValueError):
        raise ValidationError({"radius": _("The radius is a whole number of metres.")}) from None
    if not 10 <= radius <= 5000:
        raise ValidationError({"radius": _("The radius must lie between 10 and 5000 metres.")})
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return since, until, radius
