"""The working-day calendar every deadline uses.

A day is a working day if the admin's override table says so; otherwise `chinese_calendar` decides
(statutory holidays and adjusted working days, 调休); for a year it does not know, Monday–Friday,
with a warning on /healthz and in the admin. Working hours come from settings.TICKETS_WORKING_HOURS.
"""

import datetime as dt
import logging
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.utils import timezone

from org.cache import per_process

logger = logging.getLogger(__name__)

DEFAULT_WORKING_HOURS = (("08:30", "12:00"), ("13:30", "17:30"))
_MAX_DAYS = 3660  # never look further than ten years for working time


class CalendarError(ValueError):
    pass


@lru_cache(maxsize=8)
def _periods(spec: tuple) -> tuple[tuple[dt.time, dt.time], ...]:
    periods = []
    for start, end in spec:
        a, b = dt.time.fromisoformat(start), dt.time.fromisoformat(end)
        if b <= a:
            raise CalendarError(f"working period {start}–{end} ends before it starts")
        periods.append((a, b))
    return tuple(sorted(periods))


def working_periods() -> tuple[tuple[dt.time, dt.time], ...]:
    spec = getattr(settings, "TICKETS_WORKING_HOURS", DEFAULT_WORKING_HOURS)
    return _periods(tuple(tuple(p) for p in spec))


def seconds_per_working_day() -> int:
    return sum(_secs(b) - _secs(a) for a, b in working_periods())


def _secs(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@lru_cache(maxsize=1)
def known_years() -> range:
    """Years chinese_calendar has data for."""
    years = sorted({d.year for d in chinese_calendar.constants.holidays})
    return range(years[0], years[-1] + 1)


def year_is_known(year: int) -> bool:
    return year in known_years()


# The override table is tiny and read on every deadline computation: each process keeps a copy
# (org.cache.per_process); saving or deleting an override clears this process's copy at once.
OVERRIDES_KEY = "tickets:calendar_overrides"  # forgotten when an override is saved (tickets/apps.py)


def _all_overrides() -> dict[dt.date, bool]:
    from .models import CalendarOverride

    return per_process(OVERRIDES_KEY, lambda: dict(CalendarOverride.objects.values_list("date", "is_workday")))


@lru_cache(maxsize=8192)
def _statutory_workday(day: dt.date) -> bool:
    """chinese_calendar's answer, which is fixed for a release of it. Cached: the library scans all its
    holidays for their first and last year on every call."""
    return chinese_calendar.is_workday(day)


class Calendar:
    """Working-day answers for a span of dates."""

    def __init__(self, start: dt.date, end: dt.date):
        self.overrides = _all_overrides()
        self.start, self.end = start, end

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if year_is_known(day.year):
            return _statutory_workday(day)
        return day.weekday() < 5  # unknown year: plain weekdays; /healthz warns


def is_workday(day: dt.date) -> bool:
    return Calendar(day, day).is_workday(day)


def _local(moment: dt.datetime) -> dt.datetime:
    if timezone.is_naive(moment):
        raise CalendarError("naive datetime")
    return moment.astimezone(_tz())


def _day_windows(day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    tz = _tz()
    return [(dt.datetime.combine(day, a, tz), dt.datetime.combine(day, b, tz)) for a, b in working_periods()]


def add_working_seconds(start: dt.datetime, seconds: float) -> dt.datetime:
    """The moment `seconds` of working time after `start`."""
    local = _local(start)
    remaining = float(seconds)
    if remaining <= 0:
        return start
    cal = Calendar(local.date(), local.date() + dt.timedelta(days=int(remaining / 3600 / 2) + 60))
    day = local.date()
    for _ in range(_MAX_DAYS):
        if day > cal.end:
            cal = Calendar(day, day + dt.timedelta(days=366))
        if cal.is_workday(day):
            for a, b in _day_windows(day):
                a = max(a, local)
                if b <= a:
                    continue
                span = (b - a).total_seconds()
                if remaining <= span:
                    return a + dt.timedelta(seconds=remaining)
                remaining -= span
        day += dt.timedelta(days=1)
    raise CalendarError("no working time within ten years")


def working_seconds_between(a: dt.datetime, b: dt.datetime) -> float:
    """Working time from `a` to `b` in seconds (negative when b is before a)."""
    if b < a:
        return -working_seconds_between(b, a)
    la, lb = _local(a), _local(b)
    cal = Calendar(la.date(), lb.date())
    total = 0.0
    day = la.date()
    while day <= lb.date():
        if cal.is_workday(day):
            for start, end in _day_windows(day):
                lo, hi = max(start, la), min(end, lb)
                if hi > lo:
                    total += (hi - lo).total_seconds()
        day += dt.timedelta(days=1)
    return total


def limit_seconds(amount, unit: str) -> float:
    """A limit in seconds of its own kind of time (working or natural)."""
    amount = Decimal(str(amount))
    if unit == "working_days":
        return float(amount * seconds_per_working_day())
    if unit in ("working_hours", "natural_hours"):
        return float(amount * 3600)
    raise CalendarError(f"unknown time unit {unit!r}")


def add_working_time(start: dt.datetime, amount, unit: str) -> dt.datetime:
    """`start` plus a limit: working days or working hours on the calendar, or natural hours."""
    seconds = limit_seconds(amount, unit)
    if unit == "natural_hours":
        return start + dt.timedelta(seconds=seconds)
    return add_working_seconds(start, seconds)


def elapsed(a: dt.datetime, b: dt.datetime, unit: str) -> float:
    """Seconds of the unit's kind of time between a and b."""
    if unit == "natural_hours":
        return (b - a).total_seconds()
    return working_seconds_between(a, b)


def shift(moment: dt.datetime, seconds: float, unit: str) -> dt.datetime:
    if unit == "natural_hours":
        return moment + dt.timedelta(seconds=seconds)
    return add_working_seconds(moment, seconds)


def health() -> dict:
    """/healthz check: warn (without failing) when the calendar runs on plain weekdays."""
    today = timezone.localdate()
    years = known_years()
    unknown = [y for y in (today.year, today.year + 1) if y not in years]
    from .models import CalendarOverride

    result = {"ok": True, "chinese_calendar_years": f"{years.start}–{years.stop - 1}", "overrides": CalendarOverride.objects.count()}
    if unknown:
        result["warning"] = (
            f"chinese_calendar has no holiday data for {', '.join(map(str, unknown))}: those years count Monday–Friday "
            "as working days unless the calendar override table says otherwise. Update chinesecalendar or add overrides."
        )
    return result
