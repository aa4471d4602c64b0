"""The pictures of the leaders' statistics: what each chart draws, from the same daily figures and rows as the tables.

Every point, bar, slice and region carries the query of the tickets behind it, so a click drills down to the
same list a number of the tables opens:
- received / closed over the period: per day (periods up to WEEKLY_AFTER days) or per week starting Monday,
  counted by the day a ticket was received (as every figure here);
- each indicator (rate) per month;
- the departments' composite scores, ranked;
- the satisfaction mix of the rated tickets;
- the child regions (districts, towns or communities) as a map, shaded by any figure of the region table.
"""

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from org.models import Region
from tickets.models import Satisfaction

from . import selectors, stats
from .models import TicketDay

WEEKLY_AFTER = 62  # days: a longer period is drawn per week
TOP_DEPARTMENTS = 20
MAP_FIGURES = ["received", "score", "closure_rate", "on_time_rate", "satisfaction_rate", "rework_rate", "return_rate",
               "extension_rate", "direct_rate"]
LINE_RATES = ["closure_rate", "on_time_rate", "satisfaction_rate", "rework_rate", "return_rate", "extension_rate"]


def _daily(f: stats.StatsFilter) -> dict[dt.date, dict]:
    """The period's figures per day, summed over towns, categories and sources (one grouped query)."""
    qs = stats._filtered(TicketDay.objects.filter(day__gte=f.start, day__lte=f.end), f, "lead_department")
    rows = qs.values("day").annotate(**{k: Coalesce(Sum(k), 0) for k in stats.COUNTS}).order_by("day")
    return {r.pop("day"): r for r in rows}


def _bucket_start(day: dt.date, weekly: bool) -> dt.date:
    return day - dt.timedelta(days=day.weekday()) if weekly else day


def _sum_into(target: dict, row: dict) -> None:
    for k in stats.COUNTS:
        target[k] += row[k]


def _trend(f: stats.StatsFilter, daily: dict) -> dict:
    weekly = (f.end - f.start).days + 1 > WEEKLY_AFTER
    buckets: dict = {}
    day = f.start
    while day <= f.end:
        start = max(_bucket_start(day, weekly), f.start)
        buckets.setdefault(start, {"end": day, **{k: 0 for k in stats.COUNTS}})
        buckets[start]["end"] = day
        if day in daily:
            _sum_into(buckets[start], daily[day])
        day += dt.timedelta(days=1)
    return {
        "unit": "week" if weekly else "day",
        "labels": [f"{a:%m-%d}" for a in buckets],
        "ranges": [[a.isoformat(), b["end"].isoformat()] for a, b in buckets.items()],
        "received": [b["received"] for b in buckets.values()],
        "closed": [b["closed"] for b in buckets.values()],
        "on_time": [b["on_time"] for b in buckets.values()],
    }


def _monthly(f: stats.StatsFilter, daily: dict) -> dict:
    months: dict = defaultdict(lambda: {k: 0 for k in stats.COUNTS})
    ends: dict = {}
    for day, row in daily.items():
        key = day.replace(day=1)
        _sum_into(months[key], row)
    month = f.start.replace(day=1)
    keys = []
    while month <= f.end:
        keys.append(month)
        ends[month] = min((month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1), f.end)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    rows = [stats._with_rates(dict(months[m])) for m in keys]
    return {
        "labels": [f"{m:%Y-%m}" for m in keys],
        "ranges": [[max(m, f.start).isoformat(), ends[m].isoformat()] for m in keys],
        "rates": {k: [r[k] for r in rows] for k in LINE_RATES},
        "names": {k: str(stats.RATES[k][0]) for k in LINE_RATES},
        "metrics": {k: stats.RATES[k][1] for k in LINE_RATES},
    }


def _satisfaction(f: stats.StatsFilter, user) -> list[dict]:
    counts = dict(
        stats.tickets_in(f, user).exclude(satisfaction="").values_list("satisfaction").annotate(n=Count("id")).order_by()
    )
    return [{"key": value, "name": str(label), "value": counts.get(value, 0)} for value, label in Satisfaction.choices]


def _regions(f: stats.StatsFilter, rows: list[dict]) -> dict:
    figures = {k: [r.get(k) for r in rows] for k in MAP_FIGURES}
    names = {"received": str(stats.COUNTS["received"]), "score": _("Composite score"),
             **{k: str(stats.RATES[k][0]) for k in MAP_FIGURES if k in stats.RATES}}
    return {
        "level": f.region.level,
        # a city's or district's children open as statistics of their own; a town's communities list their tickets
        "drill": "tickets" if f.region.level == Region.Level.TOWN else "region",
        "rows": [{"code": r["code"], "name": r["name"]} for r in rows],
        "figures": figures,
        "names": names,
        "geojson": selectors.region_outlines(f.region),
    }


def charts(f: stats.StatsFilter, user, report: dict) -> dict:
    """Everything the charts draw, given the report the tables show."""
    daily = _daily(f)
    # the busiest departments, ranked by score: the leaders judge those who carry the load
    busiest = {r["id"] for r in sorted(report["departments"], key=lambda r: -r["volume"])[:TOP_DEPARTMENTS]}
    departments = [r for r in report["departments"] if r["id"] in busiest]
    return {
        "query": f.as_query(),
        "drill": reverse("dashboard:stats-tickets"),
        "page": reverse("dashboard:stats"),
        "trend": _trend(f, daily),
        "monthly": _monthly(f, daily),
        "departments": [{"id": r["id"], "name": r["name"], "score": r["score"], "volume": r["volume"]} for r in departments],
        "satisfaction": _satisfaction(f, user),
        "regions": _regions(f, report["regions"]),
        "labels": {
            "received": pgettext("trend", "Received"), "closed": pgettext("trend", "Closed"),
            "score": _("Composite score"), "volume": _("Lead shares"), "week": _("week of"), "tickets": _("tickets"),
            "no_data": _("No tickets in this period."),
        },
    }


def quick_periods(f: stats.StatsFilter) -> list[dict]:
    """One-click periods for the meeting: this month, last month, the last 12 months, this year."""
    today = timezone.localdate()
    first = today.replace(day=1)
    last_month_end = first - dt.timedelta(days=1)
    spans = [
        (_("This month"), first, today),
        (_("Last month"), last_month_end.replace(day=1), last_month_end),
        (_("Last 12 months"), stats.twelve_months_start(today), today),
        (_("This year"), today.replace(month=1, day=1), today),
    ]
    query = f.as_query()
    return [
        {"label": label, "query": {**query, "start": a.isoformat(), "end": b.isoformat()}, "active": (a, b) == (f.start, f.end)}
        for label, a, b in spans
    ]
