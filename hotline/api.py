"""JSON API of the hotline (/api/hotline/…): what the agent console's script calls, and intake for other
systems. Thin: parse, call one selector or service, shape the answer."""

import datetime as dt

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from org.models import Region
from org.permissions import get_visible_or_404, require
from grid.selectors import locate
from tickets.models import Category, Ticket
from tickets import selectors as ticket_selectors
from tickets import services as ticket_services
from tickets.selectors import suggest_departments
from tickets.api import IDEMPOTENCY

from . import gazetteer, schema, selectors, services
from .models import Contact, KnowledgeArticle, ReturnVisit

MAX_QUERY = 400


def _float(data, name: str, label: str) -> float | None:
    raw = data.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValidationError({name: _("%(label)s must be a number.") % {"label": label}}) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValidationError({name: _("%(label)s must be a number.") % {"label": label}})
    return value


def point_from(data) -> Point | None:
    lon, lat = _float(data, "lon", _("Longitude")), _float(data, "lat", _("Latitude"))
    if lon is None and lat is None:
        return None
    if lon is None or lat is None:
        raise ValidationError({"location": _("Give both longitude and latitude.")})
    return ticket_services.check_location(Point(lon, lat, srid=4326))


def _object(model, raw, *, field: str, label: str, qs=None):
    if raw in (None, ""):
        return None
    try:
        return (qs if qs is not None else model.objects).get(pk=int(raw))
    except (model.DoesNotExist, TypeError, ValueError):
        raise ValidationError({field: _("Unknown %(label)s.") % {"label": label}}) from None


def _category(raw) -> Category | None:
    """The category with this id, from the process's copy of the table (tickets.selectors.category)."""
    if raw in (None, ""):
        return None
    try:
        found = ticket_selectors.category(int(raw))
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise ValidationError({"category": _("Unknown %(label)s.") % {"label": _("category")}})
    return found


def contact_json(contact: Contact, user) -> dict:
    name, phone = selectors.caller_of(contact, user)
    t = contact.ticket
    return {
        "id": contact.pk,
        "channel": contact.channel,
        "channel_display": contact.get_channel_display(),
        "type": contact.type,
        "type_display": contact.get_type_display(),
        "caller_name": name,
        "caller_phone": phone,
        "content": contact.content,
        "address": contact.address,
        "lon": round(contact.location.x, 6) if contact.location else None,
        "lat": round(contact.location.y, 6) if contact.location else None,
        "outcome": contact.outcome,
        "outcome_display": contact.get_outcome_display(),
        "ticket": {"id": t.pk, "number": t.number, "state": t.state, "state_display": t.get_state_display()} if t else None,
        "article": {"id": contact.article_id, "title": contact.article.title} if contact.article_id else None,
        "is_repeat": contact.is_repeat,
        "urgent": contact.urgent,
        "created_at": timezone.localtime(contact.created_at).isoformat(),
        "due_at": timezone.localtime(contact.due_at).isoformat(),
    }


def article_json(a: KnowledgeArticle) -> dict:
    return {
        "id": a.pk, "title": a.title, "body": a.body,
        "category": a.category.name if a.category_id else "", "department": a.department.name if a.department_id else "",
        "valid_from": a.valid_from.isoformat(), "valid_until": a.valid_until.isoformat() if a.valid_until else None,
        "used_count": a.used_count,
    }


# ---------------------------------------------------------------------------------------------- lookups for the console


@extend_schema(operation_id="hotline_geocode", parameters=[OpenApiParameter("q", str)], responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def geocode(request):
    """Address → candidate places with their grid and community."""
    require(request.user, "hotline.take")
    q = request.query_params.get("q", "").strip()[:MAX_QUERY]
    if not q:
        raise ValidationError({"q": _("Type an address.")})
    out = []
    for m in gazetteer.geocode(q):
        where = locate(Point(m.lon, m.lat, srid=4326))
        out.append(m.as_dict() | _placement(where))
    return Response({"results": out})


def _placement(where) -> dict:
    return {
        "grid": where.grid.name if where.grid else None,
        "grid_code": where.grid.code if where.grid else None,
        "community": where.community.name if where.community else None,
        "message": where.message,
    }


@extend_schema(operation_id="hotline_locate", parameters=[OpenApiParameter("lon", str), OpenApiParameter("lat", str)], responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def locate_point(request):
    """The grid and community of a point (after the agent moves the pin)."""
    require(request.user, "hotline.take")
    point = point_from(request.query_params)
    if point is None:
        raise ValidationError({"location": _("Give both longitude and latitude.")})
    return Response({"lon": point.x, "lat": point.y} | _placement(locate(point)))


@extend_schema(operation_id="hotline_kb_suggest", parameters=[OpenApiParameter("q", str), OpenApiParameter("category", str)], responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def kb_suggest(request):
    require(request.user, "hotline.kb_read")
    q = request.query_params.get("q", "")[:MAX_QUERY]
    category = _category(request.query_params.get("category"))
    return Response({"results": [article_json(a) for a in selectors.article_suggestions(q, category=category)]})


@extend_schema(operation_id="hotline_duplicates", parameters=[OpenApiParameter("content", str), OpenApiParameter("category", str), OpenApiParameter("lon", str), OpenApiParameter("lat", str), OpenApiParameter("phone", str)], responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def duplicates(request):
    require(request.user, "hotline.take")
    params = request.query_params
    category = _category(params.get("category"))
    location = point_from(params)
    phone = services.clean_phone(params.get("phone", ""))
    found = selectors.duplicate_candidates(
        request.user, content=params.get("content", "")[:MAX_QUERY * 5], location=location, category=category, caller_phone=phone,
    )
    return Response({"results": [
        {
            "id": c.ticket.pk, "number": c.ticket.number, "title": c.ticket.title, "category": c.ticket.category.name,
            "state": c.ticket.state, "state_display": c.ticket.get_state_display(), "address": c.ticket.address,
            "distance_m": round(c.distance_m) if c.distance_m is not None else None, "text_score": round(c.text_score),
            "score": c.score, "reasons": c.reasons, "callers": c.callers, "created_at": timezone.localtime(c.ticket.created_at).isoformat(),
        }
        for c in found
    ]})


@extend_schema(operation_id="hotline_caller_history", parameters=[OpenApiParameter("phone", str)], responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def caller_history(request):
    require(request.user, "hotline.contacts")
    phone = services.clean_phone(request.query_params.get("phone", ""))
    history = selectors.caller_history(request.user, phone)
    return Response({
        "total": history["total"], "last_30_days": history["last_30_days"], "open_tickets": history["open_tickets"],
        "repeat": history["last_30_days"] > 0,
        "contacts": [contact_json(c, request.user) for c in history["contacts"]],
    })


@extend_schema(operation_id="hotline_routing", parameters=[OpenApiParameter("category", str), OpenApiParameter("lon", str), OpenApiParameter("lat", str)], responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def routing(request):
    """Suggested lead departments for a new ticket of this category at this point."""
    require(request.user, "hotline.take")
    category = _category(request.query_params.get("category"))
    point = point_from(request.query_params)
    if category is None or point is None:
        raise ValidationError({"category": _("Choose a category and a location.")})
    grid, community, _note = services.ticket_services.place(point)
    town = community.parent
    draft = Ticket(category=category, center=town, town=town, district=town.parent, community=community, region_path=community.path)
    return Response({"center": town.name, "departments": [d.name for d in suggest_departments(draft)]})


# ---------------------------------------------------------------------------------------------- contacts


@extend_schema(methods=["GET"], operation_id="hotline_contacts_list", parameters=[OpenApiParameter("phone", str), OpenApiParameter("limit", int)], responses=schema.ContactList)
@extend_schema(
    methods=["POST"], operation_id="hotline_contacts_create", request=schema.ContactInput, parameters=[IDEMPOTENCY],
    responses={201: schema.ContactSerializer, 200: OpenApiResponse(schema.ContactSerializer, description="A retry with the same Idempotency-Key: the first contact.")},
)
@api_view(["GET", "POST"])
def contacts(request):
    if request.method == "POST":
        return _create_contact(request)
    require(request.user, "hotline.contacts")
    phone = request.query_params.get("phone", "").strip()
    qs = selectors.contacts_visible_to(request.user)
    if phone:
        qs = qs.filter(caller_phone=services.clean_phone(phone))
    try:
        limit = min(max(int(request.query_params.get("limit", 50)), 1), 200)
    except ValueError:
        raise ValidationError({"limit": _("The limit must be a number.")}) from None
    return Response({"results": [contact_json(c, request.user) for c in qs.order_by("-id")[:limit]]})


def _create_contact(request):
    require(request.user, "hotline.take")
    serializer = schema.ContactInput(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    link_to = None
    if data["link_to"] not in (None, ""):
        # contact_create checks that the ticket exists within the agent's scope (one query, not two)
        try:
            link_to = Ticket(pk=int(data["link_to"]))
        except (TypeError, ValueError):
            raise ValidationError({"link_to": _("Unknown %(label)s.") % {"label": _("ticket")}}) from None
    contact = services.contact_create(
        by=request.user,
        channel=data["channel"],
        type=data["type"],
        content=data["content"],
        outcome=data["outcome"],
        caller_name=data["caller_name"],
        caller_phone=data["caller_phone"],
        address=data["address"],
        location=point_from(data),
        urgent=data["urgent"],
        category=_category(data["category"]),
        title=data["title"],
        article=_object(KnowledgeArticle, data["article"], field="article", label=_("knowledge article")),
        answer=data["answer"],
        link_to=link_to,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    code = status.HTTP_200_OK if getattr(contact, "replayed", False) else status.HTTP_201_CREATED
    return Response(contact_json(contact, request.user), status=code)


@extend_schema(operation_id="hotline_contact_detail", responses=schema.ContactSerializer)
@api_view(["GET"])
def contact_detail(request, pk: int):
    require(request.user, "hotline.contacts")
    contact = get_visible_or_404(Contact.objects.select_related("ticket", "article"), request.user, pk=pk)
    return Response(contact_json(contact, request.user))


# ---------------------------------------------------------------------------------------------- return visits and KPIs


@extend_schema(operation_id="hotline_visit_record", request=schema.VisitInput, responses=schema.VisitAnswer)
@api_view(["POST"])
def visit_record(request, pk: int):
    require(request.user, "hotline.visit")
    visit = get_visible_or_404(ReturnVisit.objects.all(), request.user, pk=pk)
    v = services.return_visit_record(
        visit=visit, by=request.user, satisfaction=str(request.data.get("satisfaction", "")),
        note=str(request.data.get("note", "")), unsatisfied_to=str(request.data.get("unsatisfied_to", "rework")),
    )
    return Response({"id": v.pk, "state": v.state, "satisfaction": v.satisfaction, "follow_up": v.follow_up})


def kpi_period(params) -> tuple[dt.datetime, dt.datetime]:
    today = timezone.localdate()
    try:
        start = parse_date(params["start"]) if params.get("start") else today - dt.timedelta(days=29)
        end = parse_date(params["end"]) if params.get("end") else today
    except ValueError:
        start = end = None
    if start is None or end is None:
        raise ValidationError({"start": _("Dates are written YYYY-MM-DD.")})
    if end < start:
        raise ValidationError({"end": _("The period ends before it starts.")})
    if (end - start).days > 366:
        raise ValidationError({"end": _("Choose a period of at most one year.")})
    tz = timezone.get_current_timezone()
    return (dt.datetime.combine(start, dt.time.min, tz), dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tz))


def kpi_region(user, raw):
    if not raw:
        return None
    try:
        return get_visible_or_404(Region.objects.all(), user, code=str(raw))
    except Http404:
        raise ValidationError({"region": _("Unknown region, or not within your scope.")}) from None


@extend_schema(operation_id="hotline_kpis", parameters=[OpenApiParameter("start", str), OpenApiParameter("end", str), OpenApiParameter("region", str)], responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def kpis(request):
    require(request.user, "hotline.kpis")
    start, end = kpi_period(request.query_params)
    region = kpi_region(request.user, request.query_params.get("region"))
    return Response(selectors.hotline_kpis(request.user, start=start, end=end, region=region))

