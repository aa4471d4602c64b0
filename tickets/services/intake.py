"""受理: a new ticket from any source, placed on its grid and region chain."""

import datetime as dt

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Region, Role, User
from org.permissions import require
from grid.selectors import grid_at, nearest_community

from ..classify.services import suggestion_record
from ..models import Category, Source, Ticket, TicketPhoto
from .base import _record, _save_photos, _clean_all, clean_text


def _next_number(district: Region, day: dt.date) -> str:
    prefix = f"{district.code[:6]}{day:%Y%m%d}"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tickets_numbersequence (prefix, last) VALUES (%s, 1) "
            "ON CONFLICT (prefix) DO UPDATE SET last = tickets_numbersequence.last + 1 RETURNING last",
            [prefix],
        )
        (serial,) = cursor.fetchone()
    return f"{prefix}{serial:05d}"


CITY_MARGIN_DEGREES = 0.05  # a location this far outside the city is refused as impossible
_city_extent: dict = {}


def check_location(location) -> Point | None:
    """A point in the city (or close to its edge); anything else is an impossible location for a ticket or contact."""
    if location is None:
        return None
    if not isinstance(location, Point):
        raise ValidationError({"location": _("The location must be a longitude/latitude point.")})
    x, y = location.x, location.y
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        raise ValidationError({"location": _("The coordinates are not a valid longitude/latitude.")})
    extent = _city_extent.get("extent")
    if extent is None:  # only a found extent is kept: regions loaded later still count
        city = Region.objects.filter(level=Region.Level.CITY, boundary__isnull=False).order_by("code").first()
        if city is not None:
            extent = _city_extent["extent"] = city.boundary.extent
    if extent is not None:
        x0, y0, x1, y1 = extent
        m = CITY_MARGIN_DEGREES
        if not (x0 - m <= x <= x1 + m and y0 - m <= y <= y1 + m):
            raise ValidationError({"location": _("The location lies outside the city's service area.")})
    return Point(x, y, srid=4326)


def place(location: Point) -> tuple:
    """(grid or None, community, message): the grid covering the point, else the nearest community."""
    grid, chain, message = _place_chain(location)
    return grid, chain[Region.Level.COMMUNITY], message


def _place_chain(location: Point) -> tuple:
    """(grid or None, {level: region} from the city down to the community, message) in two queries."""
    grid = grid_at(location)
    message = ""
    if grid is not None:
        path = grid.region_path
    else:
        # the same rule (and tie-break) as the map pin's grid.selectors.locate
        community = nearest_community(location)
        if community is None:
            raise ValidationError({"location": _("No community is known; load the city's regions first.")})
        path = community.path
    chain = {r.level: r for r in Region.objects.filter(code__in=[c for c in path.split("/") if c]).defer("boundary")}
    if grid is None:
        message = _("The location lies outside every grid; the ticket was placed in the nearest community, %(name)s.") % {
            "name": chain[Region.Level.COMMUNITY].name
        }
    return grid, chain, message


def ticket_create(
    *,
    by: User | None,
    source: str,
    category: Category,
    title: str,
    description: str,
    location: Point,
    address: str = "",
    citizen_name: str = "",
    citizen_phone: str = "",
    urgent: bool = False,
    idempotency_key: str | None = None,
    photos=(),
    occurred_at: dt.datetime | None = None,
) -> Ticket:
    """Take in a problem. `by` None means the system (alerts, imports). The result's `placement_note`
    says when the point lay outside every grid and the nearest community was used."""
    if by is not None:
        require(by, "tickets.create")
    # A retried key is caught by the unique constraint on (created_by, idempotency_key) when the row is
    # inserted (below), not looked up first: one query less on every first attempt, the common case.
    idempotency_key = (idempotency_key or "").strip() or None  # its form was checked where it entered (org.inputs)
    if source not in Source.values:
        raise ValidationError({"source": _("Unknown source.")})
    if category is None or category.parent_id is None or not category.is_active:
        raise ValidationError({"category": _("Choose an active small class (小类) as the category.")})
    title = clean_text(title, field="title", label=_("the title"), max_length=120)
    description = clean_text(description, field="description", label=_("the description"), required=False, max_length=4000)
    if location is None or not isinstance(location, Point):
        raise ValidationError({"location": _("A location (longitude and latitude) is required.")})
    if location.srid not in (None, 4326):
        location = location.transform(4326, clone=True)
    location.srid = 4326
    location = check_location(location)  # the same rule as the hotline's contacts and Open311
    now = timezone.now()
    if occurred_at and occurred_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("The time of the incident lies in the future.")})
    cleaned = _clean_all(photos)
    grid, chain, placement_note = _place_chain(location)
    community, town, district = chain[Region.Level.COMMUNITY], chain[Region.Level.TOWN], chain[Region.Level.DISTRICT]
    try:
        with transaction.atomic():
            ticket = Ticket(
                number=_next_number(district, timezone.localdate(now)),
                source=source,
                category=category,
                title=title,
                description=description,
                location=location,
                address=(address or "").strip()[:200],
                grid=grid,
                community=community,
                town=town,
                district=district,
                region_path=community.path,
                center=town,
                level=town.level,
                reporter=by if by is not None and by.role == Role.GRIDWORKER else None,
                citizen_name=(citizen_name or "").strip()[:50],
                citizen_phone=(citizen_phone or "").strip()[:20],
                urgent=bool(urgent),
                occurred_at=occurred_at or now,
                created_by=by,
                idempotency_key=idempotency_key,
            )
            if by is not None and by.role != Role.GRIDWORKER and not citizen_name and not citizen_phone:
                ticket.reporter = by
            ticket.save()
            _save_photos(ticket, cleaned, kind=TicketPhoto.Kind.BEFORE, by=by)
            _record(
                ticket, by=by, action="created", from_state="", note=placement_note,
                data={"source": source, "outside_grid": grid is None}, department_ids=(), saved=True,
            )
            suggestion_record(ticket=ticket, by=by)  # was the classifier's first suggestion kept?
    except IntegrityError:
        existing = Ticket.objects.filter(created_by=by, idempotency_key=idempotency_key).first() if idempotency_key else None
        if existing is None:
            raise
        existing.placement_note = ""
        existing.replayed = True
        return existing
    ticket.placement_note = placement_note
    ticket.replayed = False
    return ticket
