"""The wall's state: one snapshot read in one database snapshot, and the reducer that applies live events to it.

Protocol (see README, "Wall and statistics"):
- `wall_snapshot(user)` returns the live part of the wall (`state`) with the channel group's sequence number
  `seq` and the outbox ids `pending` that were committed but not yet relayed when it was read. The page drops
  every event whose seq ≤ `seq` or whose id is in `pending` (their effect is already in the snapshot).
- Every later event is applied with `apply_event(state, event)`; static/wall.js `reduce()` is the same function
  in JavaScript. A gap in seq, or a reconnect, makes the page load a fresh snapshot.
- `figures(state)` derives the KPI cards and charts from the state, so a snapshot with the events applied
  and a fresh snapshot must give the same figures (tests/dashboard/test_wall_protocol.py).
"""

import datetime as dt

from django.db import connection, transaction
from django.core.cache import cache
from django.db.models import Count, FloatField, Func, Q
from django.db.models.functions import ExtractHour, Round, TruncDate
from django.utils import timezone

from hotline.selectors import contacts_visible_to
from org.models import Region
from org.permissions import DEPARTMENT_ROLES, visible
from realtime.models import OutboxEvent
from realtime.services import ALL_GROUP, current_seq, department_group, region_group
from tickets.models import OPEN_STATES, Category, Light, Ticket, TicketEvent

from . import sources

FEED_SIZE = 20
FEED_ACTIONS = ("created", "escalated")
CLOSING_ACTIONS = ("closed", "self_resolved")
SATISFIED = ("satisfied", "basically")
RATING_WINDOW_DAYS = 30
TREND_DAYS = 30
HISTORY_CACHE_SECONDS = 300
OPEN = frozenset(OPEN_STATES)

# One open ticket on the wall: [lon, lat, light, state, urgent, category code, version, number, grid id]
LON, LAT, LIGHT, STATE, URGENT, CATEGORY, VERSION, NUMBER, GRID = range(9)


def wall_groups_for(user) -> list[str]:
    """The one channel group a user's wall listens to: the whole city for admins, else their scope."""
    if user.is_admin_role:
        return [ALL_GROUP]
    if user.role in DEPARTMENT_ROLES:
        return [department_group(user.department_id)] if user.department_id else []
    return [region_group(user.region.code)] if user.region_id else []


def wall_region(user) -> Region | None:
    """The region a user's wall shows: the city for administrators, else their own region."""
    if user.is_admin_role:
        return Region.objects.filter(parent__isnull=True).order_by("code").first()
    return user.region


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _local_day(iso: str) -> dt.date:
    return timezone.localtime(dt.datetime.fromisoformat(iso)).date()


def _local_hour(iso: str) -> int:
    return timezone.localtime(dt.datetime.fromisoformat(iso)).hour


def wall_snapshot(user, *, now: dt.datetime | None = None) -> dict:
    """Everything the wall draws, read inside one REPEATABLE READ transaction so the figures, the group's
    sequence number and the list of not-yet-relayed events describe the same moment."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # inside a caller's transaction, that transaction's snapshot is the one we read
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _snapshot(user, now or timezone.now())


def _snapshot(user, now: dt.datetime) -> dict:
    groups = wall_groups_for(user)
    group = groups[0] if groups else ""
    seq = current_seq(group) if group else 0
    pending = list(
        OutboxEvent.objects.filter(sent_at__isnull=True, groups__contains=[group]).order_by("id").values_list("id", flat=True)
    ) if group else []
    region = wall_region(user)
    today = timezone.localdate(now)
    start = _day_start(today)
    tickets = visible(Ticket.objects.all(), user)

    # coordinates as plain floats from PostGIS: building thousands of GEOS points in Python costs more than the query
    open_rows = tickets.filter(state__in=OPEN_STATES).annotate(
        lon=Round(Func("location", function="ST_X", output_field=FloatField()), 6),
        lat=Round(Func("location", function="ST_Y", output_field=FloatField()), 6),
    ).order_by().values_list("id", "lon", "lat", "light", "state", "urgent", "category__code", "version", "number", "grid_id")
    open_tickets = {str(row[0]): list(row[1:]) for row in open_rows}
    received_today = tickets.filter(created_at__gte=start).count()
    # hotline volume: every contact, answered on the spot or not
    hourly = contacts_visible_to(user)
    hotline_hours = [0] * 24
    for hour, n in (
        hourly.filter(created_at__gte=start).annotate(h=ExtractHour("created_at")).values("h")
        .annotate(n=Count("id")).values_list("h", "n")
    ):
        hotline_hours[hour] = n
    closed_today = {
        str(pk): (due is None or closed <= due)
        for pk, closed, due in tickets.filter(state="closed", closed_at__gte=start).values_list("id", "closed_at", "due_at")
    }
    events = visible(TicketEvent.objects.all(), user)
    # ratings are counted as recorded (a ticket rated twice counts twice), today as over the 30 days before
    today_ratings = events.filter(action="rated", at__gte=start).aggregate(
        rated=Count("id"), satisfied=Count("id", filter=Q(data__satisfaction__in=SATISFIED))
    )
    feed = [
        _feed_item(action=action, ticket_id=tid, number=number, title=title, at=at.isoformat())
        for action, tid, number, title, at in events.filter(action__in=FEED_ACTIONS)
        .order_by("-id").values_list("action", "ticket_id", "ticket__number", "ticket__title", "at")[:FEED_SIZE]
    ]
    alerts = sources.active_alerts(user)
    feed += [
        {"kind": "alert.raised", "alert": int(pk), "level": row[2], "title": row[3], "at": row[4]}
        for pk, row in alerts.items()
    ]
    feed = sorted(feed, key=lambda item: item["at"], reverse=True)[:FEED_SIZE]
    history = _history(group, tickets, events, today)
    state = {
        "day": today.isoformat(),
        "tickets": open_tickets,
        "received_today": received_today,
        "closed_today": closed_today,
        "ratings_today": [today_ratings["satisfied"], today_ratings["rated"]],
        "rating_base": history["rating_base"],
        "hotline_hours": hotline_hours,
        "exchanged_today": sources.exchanged_on(today, region),
        "alerts": alerts,
        "feed": feed,
    }
    return {
        "group": group,
        "seq": seq,
        "pending": pending,
        "at": now.isoformat(),
        "region": _region_info(region),
        "categories": dict(Category.objects.filter(parent__isnull=True).values_list("code", "name")),
        "trend": history["trend"],
        "state": state,
    }


def _feed_item(*, action, ticket_id, number, title, at) -> dict:
    return {"kind": f"ticket.{action}", "ticket": ticket_id, "number": number, "title": title, "at": at}


def _region_info(region: Region | None) -> dict | None:
    if region is None:
        return None
    extent = Region.objects.filter(pk=region.pk).values_list("boundary", flat=True).first()
    return {
        "code": region.code, "name": region.name, "level": region.level,
        "bbox": list(extent.extent) if extent else None,
    }


def _history(group: str, tickets, events, today: dt.date) -> dict:
    """The days before today: ratings of the last 30 days and the 30-day trend. Ratings are timeline rows stamped
    when made, so past days never change and are cached for the day; the trend's closed bars may lag a reopening
    by HISTORY_CACHE_SECONDS. Without Redis they are simply computed."""
    key = f"dashboard:wall:history:{group}:{today.isoformat()}"
    try:
        cached = cache.get(key)
    except Exception:  # Redis may be away; PostgreSQL has the answer
        cached = None
    if cached is not None:
        return cached
    start = _day_start(today)
    base = events.filter(
        action="rated", at__gte=start - dt.timedelta(days=RATING_WINDOW_DAYS), at__lt=start
    ).aggregate(rated=Count("id"), satisfied=Count("id", filter=Q(data__satisfaction__in=SATISFIED)))
    history = {"rating_base": [base["satisfied"], base["rated"]], "trend": _trend(tickets, today)}
    try:
        cache.set(key, history, HISTORY_CACHE_SECONDS)
    except Exception:
        pass
    return history


def _trend(tickets, today: dt.date) -> dict:
    """Received and closed per day over the 30 days before today (today's bars come from the live state)."""
    first = today - dt.timedelta(days=TREND_DAYS - 1)
    start, end = _day_start(first), _day_start(today)
    days = [(first + dt.timedelta(days=i)).isoformat() for i in range(TREND_DAYS - 1)]
    received = dict(
        tickets.filter(created_at__gte=start, created_at__lt=end).annotate(d=TruncDate("created_at"))
        .values("d").annotate(n=Count("id")).values_list("d", "n")
    )
    closed = dict(
        tickets.filter(state="closed", closed_at__gte=start, closed_at__lt=end).annotate(d=TruncDate("closed_at"))
        .values("d").annotate(n=Count("id")).values_list("d", "n")
    )
    return {
        "days": days,
        "received": [received.get(dt.date.fromisoformat(d), 0) for d in days],
        "closed": [closed.get(dt.date.fromisoformat(d), 0) for d in days],
    }


# ------------------------------------------------------------------------------------------------ the reducer


def apply_event(state: dict, event: dict) -> None:
    """Apply one relayed event to the wall state in place (mirror of static/dashboard/wall.js `reduce`)."""
    topic, data = event["topic"], event.get("data") or {}
    if topic.startswith("ticket."):
        _apply_ticket(state, data)
    elif topic.startswith("alert."):
        _apply_alert(state, topic, data)
    elif topic == "hotline.contact":
        if _local_day(data["at"]) == dt.date.fromisoformat(state["day"]):
            state["hotline_hours"][_local_hour(data["at"])] += 1
    elif topic == "datahub.batch":
        if _local_day(data["at"]) == dt.date.fromisoformat(state["day"]):
            state["exchanged_today"] += int(data.get("accepted") or 0)


def _apply_ticket(state: dict, data: dict) -> None:
    key, action, at = str(data["id"]), data.get("action", ""), data.get("at")
    today = dt.date.fromisoformat(state["day"])
    on_today = at is not None and _local_day(at) == today
    known = state["tickets"].get(key)
    if known is None or data["version"] > known[VERSION]:
        if data["state"] in OPEN:
            state["tickets"][key] = [
                data["lon"], data["lat"], data["light"], data["state"], data["urgent"], data["category_code"],
                data["version"], data["number"], data["grid"],
            ]
        else:
            state["tickets"].pop(key, None)
    if not on_today:
        return
    if action == "created":
        state["received_today"] += 1
    elif action in CLOSING_ACTIONS:
        due = data.get("due_at")
        state["closed_today"][key] = due is None or dt.datetime.fromisoformat(at) <= dt.datetime.fromisoformat(due)
    elif action == "reopened":
        state["closed_today"].pop(key, None)
    elif action == "rated":
        satisfied = (data.get("detail") or {}).get("satisfaction", "") in SATISFIED
        state["ratings_today"] = [state["ratings_today"][0] + satisfied, state["ratings_today"][1] + 1]
    if action in FEED_ACTIONS:
        item = _feed_item(action=action, ticket_id=data["id"], number=data["number"], title=data["title"], at=at)
        state["feed"] = [item, *state["feed"]][:FEED_SIZE]


def _apply_alert(state: dict, topic: str, data: dict) -> None:
    key = str(data.get("id"))
    if topic == "alert.closed" or data.get("state") not in sources.alert_open_states():
        state["alerts"].pop(key, None)
        return
    row = sources.alert_row(data)
    state["alerts"][key] = row
    if topic == "alert.raised":
        item = {"kind": topic, "alert": data.get("id"), "level": row[2], "title": row[3], "at": row[4]}
        state["feed"] = [item, *state["feed"]][:FEED_SIZE]


# ------------------------------------------------------------------------------------------------ figures


def figures(state: dict) -> dict:
    """The KPI cards and the live charts, derived from the state (the page computes the same in wall.js)."""
    open_tickets = state["tickets"].values()
    closed = state["closed_today"]
    satisfied = state["rating_base"][0] + state["ratings_today"][0]
    rated = state["rating_base"][1] + state["ratings_today"][1]
    mix: dict[str, int] = {}
    grids: dict[str, int] = {}
    for row in open_tickets:
        mix[row[CATEGORY][:2]] = mix.get(row[CATEGORY][:2], 0) + 1
        if row[GRID] is not None:
            grids[str(row[GRID])] = grids.get(str(row[GRID]), 0) + 1
    return {
        "received_today": state["received_today"],
        "closed_today": len(closed),
        "on_time_rate": round(100 * sum(closed.values()) / len(closed), 1) if closed else None,
        "satisfaction": round(100 * satisfied / rated, 1) if rated else None,
        "overdue_now": sum(1 for row in open_tickets if row[LIGHT] == Light.RED),
        "open_now": len(state["tickets"]),
        "active_alerts": len(state["alerts"]),
        "exchanged_today": state["exchanged_today"],
        "category_mix": dict(sorted(mix.items())),
        "grid_open": dict(sorted(grids.items())),
        "hotline_hours": list(state["hotline_hours"]),
    }
