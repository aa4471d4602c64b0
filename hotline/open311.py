"""Open311 GeoReport v2 at /open311/v2/: discovery, services, service definitions, service requests
(POST with an api_key, GET with filters), one request, tokens. Every answer in .json or .xml; errors as
the specification gives them: a list of {"code", "description"}.

Requests enter the hotline as contacts of channel Open311: a strong duplicate of an open ticket is
linked to it, anything else becomes a new ticket of the service's category."""

import datetime as dt
import hmac
import json
import uuid
import xml.etree.ElementTree as ET

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from org.cache import per_process
from org import inputs
from tickets.models import Assignment, State
from tickets import services as ticket_services

from . import gazetteer, selectors, services
from .models import Channel, Contact, Open311Client, Open311Service, Outcome, Place

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_WINDOW = dt.timedelta(days=90)
MAX_RESULTS = 1000
CLOSED_STATES = (State.CLOSED, State.CANCELLED, State.MERGED)
# list element → item element in XML
XML_ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}


class Open311Error(Exception):
    def __init__(self, code: int, description: str):
        self.code, self.description = code, description
        super().__init__(description)


# ---------------------------------------------------------------------------------------------- rendering


def _xml_value(parent: ET.Element, key: str, value) -> None:
    node = ET.SubElement(parent, key)
    if isinstance(value, list):
        for item in value:
            _xml_value(node, XML_ITEMS.get(key, "item"), item)
    elif isinstance(value, dict):
        for k, v in value.items():
            _xml_value(node, k, v)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = inputs.xml_safe(str(value))


def render(fmt: str, data, *, root: str, item: str | None = None, status: int = 200) -> HttpResponse:
    """JSON as is; XML with `root` holding one `item` element per list entry (or the dict's fields)."""
    if fmt == "xml":
        top = ET.Element(root)
        if isinstance(data, list):
            for entry in data:
                _xml_value(top, item, entry)
        else:
            for k, v in data.items():
                _xml_value(top, k, v)
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")
    else:
        body = json.dumps(data, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=FORMATS.get(fmt, FORMATS["json"]))


def error(fmt: str, code: int, description: str) -> HttpResponse:
    return render(fmt if fmt in FORMATS else "json", [{"code": code, "description": description}], root="errors", item="error", status=code)


def endpoint(*methods: str):
    """Unsupported format → 400; another method → 405; Open311Error → its code; all in the requested format."""

    def decorate(view):
        def wrapped(request, fmt: str, **kwargs):
            if fmt not in FORMATS:
                return error("json", 400, _("Unsupported format “%(fmt)s”: use .json or .xml.") % {"fmt": fmt})
            if request.method not in methods:
                response = error(fmt, 405, _("Method %(method)s is not allowed here; use %(allowed)s.") % {
                    "method": request.method[:10], "allowed": ", ".join(methods)})
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, fmt, **kwargs)
            except Open311Error as exc:
                return error(fmt, exc.code, exc.description)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return csrf_exempt(wrapped)

    return decorate


@csrf_exempt
def error_for(request, status: int, description: str) -> HttpResponse:
    """An error of the spec's form in the format the request's path ends with (org.errors answers with it)."""
    return error("xml" if request.path.endswith(".xml") else "json", status, description)


def unknown_path(request, path: str | None = None):
    """Any other path under /open311/v2/: a 404 in the spec's error list, in the format the path ends with."""
    fmt = "xml" if (path or "").endswith(".xml") else "json"
    return error(fmt, 404, _("There is no Open311 resource at this path; see discovery.json."))


# ---------------------------------------------------------------------------------------------- discovery and services


@endpoint("GET")
def discovery(request, fmt):
    base = request.build_absolute_uri(reverse("hotline:open311-discovery", kwargs={"fmt": fmt})).rsplit("/", 1)[0]
    data = {
        "changeset": "2026-11-01T00:00:00+08:00",
        "contact": _("Jianghai City 12345 hotline, open311@12345.jianghai.gov.cn"),
        "key_service": _("API keys are issued by the 12345 hotline administration."),
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": base,
            "changeset": "2026-11-01T00:00:00+08:00",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }
    return render(fmt, data, root="discovery")


def _service_json(s: Open311Service) -> dict:
    return {
        "service_code": s.code, "service_name": s.name, "description": s.description, "metadata": bool(s.attributes),
        "type": "realtime", "keywords": s.keywords, "group": s.group,
    }


SERVICES_KEY = "hotline:open311_services"


def active_services() -> dict[str, Open311Service]:
    """code → active service with its category, by code: this process's copy (org.cache)."""
    return per_process(SERVICES_KEY, lambda: {
        s.code: s for s in Open311Service.objects.filter(is_active=True).select_related("category").order_by("code")
    })


@endpoint("GET")
def service_list(request, fmt):
    return render(fmt, [_service_json(s) for s in active_services().values()], root="services", item="service")


def _active_service(code: str) -> Open311Service:
    service = active_services().get(code)
    if service is None:
        raise Open311Error(404, _("service_code “%(code)s” was not found.") % {"code": code[:40]})
    return service


@endpoint("GET")
def service_definition(request, fmt, code):
    service = _active_service(code)
    attributes = []
    for a in sorted(service.attributes, key=lambda a: a.get("order", 0)):
        entry = {
            "variable": True, "code": a["code"], "datatype": a.get("datatype", "string"), "required": bool(a.get("required")),
            "datatype_description": a.get("datatype_description", ""), "order": a.get("order", 0), "description": a.get("description", ""),
        }
        if a.get("values"):
            entry["values"] = [{"key": v["key"], "name": v["name"]} for v in a["values"]]
        attributes.append(entry)
    return render(fmt, {"service_code": service.code, "attributes": attributes}, root="service_definition")


# ---------------------------------------------------------------------------------------------- service requests


def client_for(api_key: str) -> Open311Client:
    if not api_key:
        raise Open311Error(403, _("api_key was not provided."))
    digest = Open311Client.hash_key(api_key)
    for client in Open311Client.objects.filter(key_prefix=api_key[:8], is_active=True):
        if hmac.compare_digest(client.key_hash, digest):
            return client
    raise Open311Error(403, _("api_key is invalid."))


def _attributes(service: Open311Service, post) -> dict:
    """attribute[code]=value (or attribute[code][]=v for multi-value lists), checked against the definition."""
    defined = {a["code"]: a for a in service.attributes}
    given = {}
    for key in post:
        if key.startswith("attribute[") and key.endswith("]"):
            code = key[len("attribute["):-1].removesuffix("][").rstrip("]").rstrip("[")
            if code not in defined:
                raise Open311Error(400, _("attribute “%(code)s” is not defined for this service.") % {"code": code[:40]})
            values = post.getlist(key)
            given[code] = values if defined[code].get("datatype") == "multivaluelist" else values[-1]
    for code, a in defined.items():
        value = given.get(code)
        if a.get("required") and (value in (None, "") or value == []):
            raise Open311Error(400, _("required attribute “%(code)s” was not provided.") % {"code": code})
        if value in (None, "", []):
            continue
        keys = {str(v["key"]) for v in a.get("values", [])}
        datatype = a.get("datatype", "string")
        if datatype == "singlevaluelist" and value not in keys:
            raise Open311Error(400, _("“%(value)s” is not a value of attribute “%(code)s”.") % {"value": str(value)[:40], "code": code})
        if datatype == "multivaluelist" and not set(value) <= keys:
            raise Open311Error(400, _("attribute “%(code)s” has values that are not allowed.") % {"code": code})
        if datatype == "number":
            try:
                float(value)
            except ValueError:
                raise Open311Error(400, _("attribute “%(code)s” must be a number.") % {"code": code}) from None
        if datatype == "datetime" and not _is_moment(value):
            raise Open311Error(400, _("attribute “%(code)s” must be a date and time.") % {"code": code})
    return given


def _is_moment(value) -> bool:
    try:
        return inputs.parse_moment(str(value)) is not None
    except ValidationError:
        return False


def _location(post) -> tuple[Point, str, str]:
    """(point, address text, address_id) from lat/long, else address_id (a gazetteer place), else address_string."""
    lat, lon, address = post.get("lat", "").strip(), post.get("long", "").strip(), post.get("address_string", "").strip()[:200]
    address_id = post.get("address_id", "").strip()
    if lat or lon:
        try:
            point = Point(float(lon), float(lat), srid=4326)
        except ValueError:
            raise Open311Error(400, _("lat and long must be numbers.")) from None
        try:
            return ticket_services.check_location(point), address, address_id[:40]
        except ValidationError as exc:
            raise Open311Error(400, " ".join(exc.messages)) from None
    if address_id:
        place = Place.objects.filter(pk=int(address_id)).first() if address_id.isascii() and address_id.isdigit() and len(address_id) < 10 else None
        if place is None:
            raise Open311Error(400, _("address_id “%(id)s” was not found.") % {"id": address_id[:40]})
        return place.location, address or place.name, address_id
    if address:
        matches = gazetteer.geocode(address, limit=1)
        if not matches:
            raise Open311Error(400, _("address_string could not be located in the city; send lat and long."))
        return Point(matches[0].lon, matches[0].lat, srid=4326), address, ""
    raise Open311Error(400, _("lat/long, address_string or address_id was not provided."))


def _notice(contact: Contact) -> str:
    """The one service_notice of a request, the same in the POST answer and in GET."""
    if contact.ticket_id is None:
        return contact.get_outcome_display()
    if contact.outcome == Outcome.LINKED:
        return _("Linked to ticket %(number)s, which is already being handled.") % {"number": contact.ticket.number}
    return _("Received as ticket %(number)s.") % {"number": contact.ticket.number}


def _submit(request, fmt):
    post = request.POST
    client = client_for(post.get("api_key", "").strip())
    code = post.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, _("service_code was not provided."))
    service = active_services().get(code)
    if service is None:
        raise Open311Error(400, _("service_code “%(code)s” was not found.") % {"code": code[:40]})
    location, address, address_id = _location(post)
    attributes = _attributes(service, post)
    # description is optional in GeoReport v2: without one, the service's name says what is reported
    description = post.get("description", "").strip()
    if address_id:
        attributes["_address_id"] = address_id
    for field in ("media_url", "email", "device_id", "account_id"):
        if post.get(field):
            attributes[f"_{field}"] = post[field][:300]
    key = request.headers.get("Idempotency-Key")
    # A retried key is not looked up first: contact_create's unique constraint catches it, rolls back what the
    # retry did and returns the first contact. One query less on every first attempt, the common case.
    outcome, link_to = Outcome.NEW_TICKET, None
    candidates = selectors.duplicate_candidates(
        None, content=description, location=location, category=service.category, caller_phone=post.get("phone", "").strip(),
    ) if description else []  # linking needs a similar text
    strong = [c for c in candidates if c.score >= selectors.STRONG_DUPLICATE_SCORE and "similar_text" in c.reasons]
    if strong:
        outcome, link_to = Outcome.LINKED, strong[0].ticket
    name = f"{post.get('last_name', '').strip()}{post.get('first_name', '').strip()}"
    try:
        contact = services.contact_create(
            by=None, channel=Channel.OPEN311, type=service.contact_type, content=description or service.name, outcome=outcome,
            caller_name=name, caller_phone=post.get("phone", ""), address=address, location=location,
            category=service.category, link_to=link_to, idempotency_key=key, open311_client=client,
            open311_service=service, attributes=attributes,
        )
    except ValidationError as exc:
        raise Open311Error(400, " ".join(exc.messages)) from None
    except services.NotPossible as exc:
        raise Open311Error(400, str(exc)) from None
    status = 200 if getattr(contact, "replayed", False) else 201
    return render(fmt, [{"service_request_id": str(contact.pk), "token": str(contact.token), "service_notice": _notice(contact),
                         "account_id": post.get("account_id") or None}],
                  root="service_requests", item="request", status=status)


def _status(contact: Contact) -> str:
    if contact.outcome == Outcome.DIRECT:
        return "closed"
    return "closed" if contact.ticket and contact.ticket.state in CLOSED_STATES else "open"


def _request_json(contact: Contact) -> dict:
    t = contact.ticket
    lead = next((a.department.name for a in (t.assignments.all() if t else []) if a.role == Assignment.Role.LEAD), "")
    updated = max(filter(None, [contact.created_at, t and t.dispatched_at, t and t.closed_at]))
    return {
        "service_request_id": str(contact.pk),
        "status": _status(contact),
        "status_notes": t.get_state_display() if t else contact.get_outcome_display(),
        "service_name": contact.open311_service.name if contact.open311_service_id else "",
        "service_code": contact.open311_service.code if contact.open311_service_id else "",
        "description": contact.content,
        "agency_responsible": lead,
        "service_notice": _notice(contact),
        "requested_datetime": timezone.localtime(contact.created_at).isoformat(),
        "updated_datetime": timezone.localtime(updated).isoformat(),
        "expected_datetime": timezone.localtime(contact.due_at).isoformat(),
        "address": contact.address,
        "address_id": contact.attributes.get("_address_id", ""),
        "zipcode": "",
        "lat": round(contact.location.y, 6) if contact.location else None,
        "long": round(contact.location.x, 6) if contact.location else None,
        "media_url": contact.attributes.get("_media_url", ""),
    }


def _requests_qs():
    return Contact.objects.filter(channel=Channel.OPEN311).select_related("ticket", "open311_service").prefetch_related(
        Prefetch("ticket__assignments", queryset=Assignment.objects.select_related("department").order_by("id"))
    )


def _when(raw: str, name: str) -> dt.datetime:
    """A w3c date-time with its offset ("+" arrives as a space when a client does not encode it)."""
    try:
        value = inputs.parse_moment(raw.replace(" ", "+"), name=name)
    except ValidationError:
        value = None
    if value is None:
        raise Open311Error(400, _("%(name)s must be a real w3c date and time with its offset, e.g. 2026-11-01T08:00:00+08:00.") % {"name": name})
    return value


def _search(request, fmt):
    params = request.GET
    qs = _requests_qs()
    ids = [i.strip() for i in params.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        if not all(i.isdigit() for i in ids):
            raise Open311Error(400, _("service_request_id must be a comma-separated list of ids."))
        qs = qs.filter(pk__in=[int(i) for i in ids[:MAX_RESULTS]])
    else:
        end = _when(params["end_date"], "end_date") if params.get("end_date") else None
        start = _when(params["start_date"], "start_date") if params.get("start_date") else None
        # GeoReport v2: start_date and end_date given together may span at most 90 days; start_date alone
        # searches from it on (up to MAX_RESULTS rows); otherwise the 90 days up to end_date or now
        if start is not None and end is not None:
            if end < start:
                raise Open311Error(400, _("end_date lies before start_date."))
            if end - start > MAX_WINDOW:
                raise Open311Error(400, _("start_date and end_date may be at most 90 days apart."))
        elif start is None:
            end = end or timezone.now()
            start = end - MAX_WINDOW
        qs = qs.filter(created_at__gte=start)
        if end is not None:
            qs = qs.filter(created_at__lte=end)
        codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
        if codes:
            known = set(Open311Service.objects.filter(code__in=codes).values_list("code", flat=True))
            unknown = [c for c in codes if c not in known]
            if unknown:
                raise Open311Error(400, _("service_code “%(code)s” was not found.") % {"code": unknown[0][:40]})
            qs = qs.filter(open311_service__code__in=codes)
        statuses = {s.strip() for s in params.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, _("status must be open, closed or both."))
        if statuses == {"open"}:
            qs = qs.exclude(outcome=Outcome.DIRECT).exclude(ticket__state__in=CLOSED_STATES)
        elif statuses == {"closed"}:
            qs = qs.filter(ticket__state__in=CLOSED_STATES) | qs.filter(outcome=Outcome.DIRECT)
    rows = [_request_json(c) for c in qs.order_by("-created_at")[:MAX_RESULTS]]
    return render(fmt, rows, root="service_requests", item="request")


@endpoint("GET", "POST")
def requests_(request, fmt):
    if request.method == "POST":
        return _submit(request, fmt)
    return _search(request, fmt)


@endpoint("GET")
def request_detail(request, fmt, request_id):
    contact = _requests_qs().filter(pk=int(request_id)).first() if request_id.isdigit() else None
    if contact is None:
        raise Open311Error(404, _("service_request_id “%(id)s” was not found.") % {"id": request_id[:40]})
    return render(fmt, [_request_json(contact)], root="service_requests", item="request")


@endpoint("GET")
def token(request, fmt, token):
    try:
        value = uuid.UUID(token)
    except ValueError:
        value = None
    contact = Contact.objects.filter(token=value, channel=Channel.OPEN311).only("pk", "token").first() if value else None
    if contact is None:
        raise Open311Error(404, _("token “%(token)s” was not found.") % {"token": token[:40]})
    return render(fmt, [{"service_request_id": str(contact.pk), "token": str(contact.token)}], root="service_requests", item="request")
