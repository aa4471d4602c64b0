"""Figures that combine grid data with tickets: the phone's counts, open tickets per grid, grid-worker performance."""

import datetime as dt

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from grid import selectors
from tickets import selectors as ticket_selectors
from tickets.calendar import Calendar
from tickets.models import OPEN_STATES, Category, Source, State, Ticket, TicketEvent


def report_categories() -> list[dict]:
    """Small classes (小类) a grid worker can report under, with their major class, for the search box."""
    rows = Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent").order_by("parent__code", "code")
    return [{"id": c.pk, "name": c.name, "group": c.parent.name, "kind": c.get_kind_display()} for c in rows]


def mobile_counts(user) -> dict:
    reports = ticket_selectors.reports_by(user)
    return {
        "open_reports": reports.filter(state__in=OPEN_STATES).count(),
        "verification_tasks": ticket_selectors.verification_tasks_for(user).count(),
    }


def open_ticket_counts(grid_ids) -> dict[int, int]:
    """Open tickets per grid id (one grouped query)."""

    rows = (
        Ticket.objects.filter(grid_id__in=list(grid_ids), state__in=OPEN_STATES)
        .values("grid_id")
        .annotate(n=Count("id"))
        .values_list("grid_id", "n")
    )
    return dict(rows)


def _verify_limit() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "GRID_VERIFY_LIMIT_HOURS", 24))


def ticket_figures(user_ids, *, start: dt.datetime, end: dt.datetime) -> dict[int, dict]:
    """Per worker: reports, valid reports (not cancelled or merged as a duplicate) and verifications, on time or not.

    A verification is on time when it comes within GRID_VERIFY_LIMIT_HOURS (default 24) of the ticket
    entering the verifying state.
    """

    figures = {uid: {"reports": 0, "valid_reports": 0, "verifications": 0, "on_time_verifications": 0} for uid in user_ids}
    rows = (
        Ticket.objects.filter(reporter_id__in=list(user_ids), source=Source.GRID, created_at__gte=start, created_at__lt=end)
        .values("reporter_id")
        .annotate(n=Count("id"), valid=Count("id", filter=~Q(state__in=[State.CANCELLED, State.MERGED])))
    )
    for row in rows:
        figures[row["reporter_id"]].update(reports=row["n"], valid_reports=row["valid"])
    verifications = TicketEvent.objects.filter(
        actor_id__in=list(user_ids), from_state=State.VERIFYING, at__gte=start, at__lt=end
    ).values_list("actor_id", "ticket_id", "at")
    verifications = list(verifications)
    entered = {}
    for ticket_id, at in TicketEvent.objects.filter(
        ticket_id__in={v[1] for v in verifications}, to_state=State.VERIFYING
    ).values_list("ticket_id", "at").order_by("at"):
        entered.setdefault(ticket_id, []).append(at)
    limit = _verify_limit()
    for actor_id, ticket_id, at in verifications:
        f = figures[actor_id]
        f["verifications"] += 1
        started = max((t for t in entered.get(ticket_id, []) if t <= at), default=None)
        if started is not None and at - started <= limit:
            f["on_time_verifications"] += 1
    return figures


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def performance(workers_qs, *, since: dt.date, until: dt.date, group: str = "worker") -> list[dict]:
    """Grid-worker performance rows, per worker or summed per grid or community."""

    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)

    base = selectors.worker_figures(workers_qs, since=since, until=until, is_workday=Calendar(since, until).is_workday)
    tickets = ticket_figures([w.user_id for w in base], start=start, end=end)
    rows = []
    for w in base:
        t = tickets.get(w.user_id, {})
        rows.append(
            {
                "user": w.username, "name": w.name, "kind": w.kind, "grid": w.grid_code, "grid_name": w.grid_name,
                "community": w.community, "reports": t.get("reports", 0), "valid_reports": t.get("valid_reports", 0),
                "verifications": t.get("verifications", 0), "on_time_verifications": t.get("on_time_verifications", 0),
                "patrols": w.patrols, "patrol_hours": w.patrol_hours, "inside_hours": w.inside_hours,
                "inside_km": w.inside_km, "distance_km": w.distance_km,
                "check_in_days": w.check_in_days, "expected_check_in_days": w.expected_days,
            }
        )
    if group in ("grid", "community"):
        key = "grid" if group == "grid" else "community"
        summed: dict[str, dict] = {}
        for r in rows:
            s = summed.setdefault(r[key], {key: r[key], "workers": 0, **({"grid_name": r["grid_name"]} if key == "grid" else {})})
            s["workers"] += 1
            for field in ("reports", "valid_reports", "verifications", "on_time_verifications", "patrols", "patrol_hours",
                          "inside_hours", "inside_km", "distance_km", "check_in_days", "expected_check_in_days"):
                s[field] = round(s.get(field, 0) + r[field], 3)
        rows = list(summed.values())
    for r in rows:
        r["valid_report_rate"] = _rate(r["valid_reports"], r["reports"])
        r["on_time_verification_rate"] = _rate(r["on_time_verifications"], r["verifications"])
        r["check_in_rate"] = _rate(r["check_in_days"], r["expected_check_in_days"])
    return rows
