"""Reads of the dispatcher console: the tabs' queues and live counts, filters and search, the map's
points, and what surrounds one ticket (its grid, the open tickets nearby, the grid's workers on duty)."""

import datetime as dt
import math
import re
from dataclasses import dataclass

from django.contrib.gis.db.models.functions import Distance
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from org.models import Region, Role
from org.permissions import visible
from grid.models import CheckIn, Grid, GridWorker, Patrol

from .models import OPEN_STATES, Category, Light, Source, State, Ticket
from .selectors import LIST_RELATED, pending_requests_for

TABS = ("new", "open", "active", "escalated", "verify", "requests")
ACTIVE_STATES = (State.DISPATCHED, State.HANDLING, State.SUSPENDED)
NEARBY_RADIUS_M = 300
METRES_PER_DEGREE = 111_320
SINCE_HOURS = {"24h": 24, "3d": 72, "7d": 168, "30d": 720}
_NUMBER = re.compile(r"^\d{12,24}$")  # ticket numbers: region code, date, serial
_PHONE = re.compile(r"^1\d{10}$|^0\d{9,11}$|^\d{5,8}$")


def _center_tickets(user) -> QuerySet[Ticket]:
    if user.region_id is None:
        return Ticket.objects.none()
    return visible(Ticket.objects.filter(center_id=user.region_id), user)


def center_tickets_by_id(user, ids: list[int]) -> QuerySet[Ticket]:
    """Tickets at the user's center among `ids` (whatever their state: the services refuse a stale one)."""
    return _center_tickets(user).filter(pk__in=ids).select_related("category", "center", "community", "town", "district")


def _verify_filter(user) -> Q:
    return Q(state=State.VERIFYING) & (Q(verifier=user) | Q(verifier__isnull=True, center=user.region_id))


def tab_queryset(user, tab: str) -> QuerySet[Ticket]:
    """The tickets of one console tab (every tab but "requests"), most urgent first."""
    qs = _center_tickets(user).select_related(*LIST_RELATED)
    if tab == "new":
        return qs.filter(state=State.NEW).order_by("-urgent", "id")
    if tab == "open":
        return qs.filter(state=State.OPEN).order_by("-urgent", "id")
    if tab == "active":
        return qs.filter(state__in=ACTIVE_STATES).order_by("due_at", "id")
    if tab == "escalated":
        return qs.filter(escalation_count__gt=0, state__in=OPEN_STATES).order_by("due_at", "id")
    if tab == "verify":
        if user.role not in (Role.DISPATCHER, Role.DUTY_CHIEF):
            return Ticket.objects.none()
        return qs.filter(_verify_filter(user)).order_by("id")
    raise ValueError(tab)


def tab_counts(user) -> dict[str, int]:
    """How many items each tab holds: one aggregate over the center's open tickets, one count of requests."""
    figures = _center_tickets(user).filter(state__in=OPEN_STATES).aggregate(
        new=Count("id", filter=Q(state=State.NEW)),
        open=Count("id", filter=Q(state=State.OPEN)),
        active=Count("id", filter=Q(state__in=ACTIVE_STATES)),
        escalated=Count("id", filter=Q(escalation_count__gt=0)),
        verify=Count("id", filter=_verify_filter(user)),
    )
    figures["requests"] = pending_requests_for(user).count()
    return figures


@dataclass(frozen=True)
class Filters:
    category: Category | None = None
    source: str = ""
    light: str = ""
    community: Region | None = None
    since: str = ""
    q: str = ""

    @property
    def active(self) -> bool:
        return bool(self.category or self.source or self.light or self.community or self.since or self.q)


def parse_filters(user, params) -> Filters:
    """Filters from the query string; values that name nothing (or something out of scope) are dropped."""

    def pk(name):
        try:
            return int(params.get(name, ""))
        except ValueError:
            return None

    category = Category.objects.filter(pk=pk("category"), parent__isnull=False).first() if pk("category") else None
    community = None
    if pk("community") and user.region_id:
        community = Region.objects.filter(
            pk=pk("community"), level=Region.Level.COMMUNITY, path__startswith=user.region.path
        ).first()
    source = params.get("source", "")
    light = params.get("light", "")
    since = params.get("since", "")
    return Filters(
        category=category,
        source=source if source in Source.values else "",
        light=light if light in Light.values else "",
        community=community,
        since=since if since in SINCE_HOURS else "",
        q=params.get("q", "").strip()[:60],
    )


def search_kind(q: str) -> str:
    """How a search text is read: a ticket number, a caller's exact phone, or words of the address/title/description."""
    if _NUMBER.match(q):
        return "number"
    if _PHONE.match(q):
        return "phone"
    return "text"


def apply_filters(qs: QuerySet[Ticket], f: Filters) -> QuerySet[Ticket]:
    if f.category:
        qs = qs.filter(category=f.category)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.light:
        qs = qs.filter(light=f.light)
    if f.community:
        qs = qs.filter(community=f.community)
    if f.since:
        qs = qs.filter(created_at__gte=timezone.now() - dt.timedelta(hours=SINCE_HOURS[f.since]))
    if f.q:
        kind = search_kind(f.q)
        if kind == "number":
            qs = qs.filter(number__startswith=f.q)
        elif kind == "phone":
            qs = qs.filter(citizen_phone=f.q)
        else:
            for word in f.q.split()[:5]:
                qs = qs.filter(Q(title__icontains=word) | Q(address__icontains=word) | Q(description__icontains=word))
    return qs


def search_visible(user, q: str) -> QuerySet[Ticket]:
    """Any ticket the user may see (not only the center's queue) matching the search, newest first."""
    qs = visible(Ticket.objects.select_related(*LIST_RELATED), user)
    return apply_filters(qs, Filters(q=q)).order_by("-id")


def filter_choices(user) -> dict:
    """The options of the filter bar: small classes, sources, lights, the center's communities."""
    communities = (
        Region.objects.filter(level=Region.Level.COMMUNITY, path__startswith=user.region.path).order_by("code")
        if user.region_id else Region.objects.none()
    )
    return {
        "categories": Category.objects.filter(parent__isnull=False, is_active=True).select_related("parent").order_by("code"),
        "sources": Source.choices,
        "lights": Light.choices,
        "communities": communities.only("id", "name"),
        "since": [(k, k) for k in SINCE_HOURS],
    }


def map_points(rows) -> list[dict]:
    """What the console's map draws for each listed ticket."""
    return [
        {"id": t.pk, "number": t.number, "title": t.title, "lat": round(t.location.y, 6), "lon": round(t.location.x, 6),
         "light": t.light, "state": t.state}
        for t in rows
    ]


def area_geojson(region: Region | None, *, tolerance: float = 0.0003) -> str | None:
    """The center's boundary, simplified for drawing (a few hundred points at most)."""
    if region is None or region.boundary is None:
        return None
    return region.boundary.simplify(tolerance, preserve_topology=True).geojson


def nearby_open(user, ticket: Ticket, *, radius_m: float = NEARBY_RADIUS_M, limit: int = 8) -> list[Ticket]:
    """Open tickets the user may see within `radius_m` of this one: likely duplicates to merge, nearest first."""
    box = radius_m / (METRES_PER_DEGREE * math.cos(math.radians(ticket.location.y))) * 1.05
    qs = (
        visible(Ticket.objects.filter(state__in=(State.NEW, State.OPEN, *ACTIVE_STATES, State.VERIFYING)), user)
        .exclude(pk=ticket.pk)
        .filter(location__dwithin=(ticket.location, box))
        .annotate(distance=Distance("location", ticket.location))
        .filter(distance__lte=radius_m)
        .select_related("category")
        .order_by("distance", "id")
    )
    return list(qs[:limit])


@dataclass(frozen=True)
class OnDuty:
    worker: GridWorker
    patrolling: bool
    checked_in_today: bool


def grid_on_duty(grid: Grid | None) -> list[OnDuty]:
    """The grid's active workers, the full-time worker first, with whether each is on patrol now or checked in
    today: three queries whatever the roster's size."""
    if grid is None:
        return []
    workers = list(GridWorker.objects.filter(grid=grid, is_active=True).select_related("user"))
    users = [w.user_id for w in workers]
    patrolling = set(Patrol.objects.filter(user_id__in=users, state=Patrol.State.ACTIVE).values_list("user_id", flat=True))
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    checked = set(CheckIn.objects.filter(user_id__in=users, at__gte=today).values_list("user_id", flat=True))
    order = {kind: i for i, kind in enumerate(GridWorker.Kind.values)}
    duty = [OnDuty(w, w.user_id in patrolling, w.user_id in checked) for w in workers]
    return sorted(duty, key=lambda d: (not d.patrolling, not d.checked_in_today, order[d.worker.kind], d.worker.user.username))


def grid_geojson(grid: Grid | None) -> str | None:
    if grid is None:
        return None
    boundary = Grid.objects.filter(pk=grid.pk).values_list("boundary", flat=True).first()
    return boundary.geojson if boundary else None
