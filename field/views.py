"""The grid worker's phone workspace /m/. Pages are thin: they read through selectors and write through
one service each; ticket work goes through `tickets.services` (pages sit above `tickets`)."""

import functools
import hashlib
import json

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from org.errors import error_response
from org.permissions import can, get_visible_or_404
from org.schema import documented_as
from grid import selectors, services
from grid.models import Patrol, PatrolChecklistItem
from tickets import selectors as ticket_selectors
from tickets import services as ticket_services
from tickets.models import Category, Source

from . import schema, stats
from .mobile import Conflict, accuracy_from, mobile_endpoint, point_from, time_from, track_points_from


def _timeline(ticket):
    return list(ticket_selectors.timeline(ticket))


def gridworker_page(view):
    @login_required
    def wrapper(request, *args, **kwargs):
        if not can(request.user, "field.mobile"):
            raise PermissionDenied(_("Only grid workers may use the mobile workspace."))
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _grid_feature(grid):
    if grid is None:
        return None
    return {
        "type": "Feature",
        "geometry": json.loads(grid.boundary.geojson),
        "properties": {"code": grid.code, "name": grid.name},
    }


def _context(request, **extra):
    grid = selectors.grid_of_worker(request.user)
    return {"grid": grid, "grid_feature": _grid_feature(grid), "tiles_url": settings.MAP_TILES_URL, **extra}


# Pages ----------------------------------------------------------------------------------------------------------


@gridworker_page
def home(request):
    context = _context(request)
    context["counts"] = stats.mobile_counts(request.user)
    context["patrol"] = selectors.active_patrol(request.user)
    context["roster"] = selectors.roster_of(context["grid"]) if context["grid"] else []
    return render(request, "field/m/home.html", context)


@gridworker_page
def report(request):
    return render(request, "field/m/report.html", _context(request, categories=stats.report_categories()))


@gridworker_page
def my_reports(request):
    reports = list(ticket_selectors.reports_by(request.user)[:50])
    return render(request, "field/m/reports.html", _context(request, reports=reports))


@gridworker_page
def report_detail(request, pk):
    ticket = get_visible_or_404(ticket_selectors.reports_by(request.user), request.user, pk=pk)
    events = _timeline(ticket)
    return render(request, "field/m/report_detail.html", _context(request, ticket=ticket, events=events))


@gridworker_page
def verify_list(request):
    tasks = list(ticket_selectors.verification_tasks_for(request.user)[:50])
    return render(request, "field/m/verify_list.html", _context(request, tasks=tasks))


@gridworker_page
def verify_detail(request, pk):
    ticket = get_visible_or_404(ticket_selectors.verification_tasks_for(request.user), request.user, pk=pk)
    events = _timeline(ticket)
    return render(request, "field/m/verify_detail.html", _context(request, ticket=ticket, events=events))


@gridworker_page
def checkin(request):
    context = _context(request, check_ins=selectors.recent_check_ins(request.user))
    return render(request, "field/m/checkin.html", context)


@gridworker_page
def patrol(request):
    context = _context(request)
    active = selectors.active_patrol(request.user)
    context["patrol"] = active
    context["checklist"] = selectors.checklist_for(context["grid"]) if context["grid"] else []
    context["checked"] = set(active.checks.values_list("item_id", flat=True)) if active else set()
    context["track"] = selectors.track_geojson(active) if active else None
    context["recent"] = Patrol.objects.filter(user=request.user, state=Patrol.State.DONE).order_by("-started_at")[:5]
    return render(request, "field/m/patrol.html", context)


@functools.lru_cache(maxsize=4)
def _shell_version(shell: tuple) -> str:
    """Changes whenever the shell's names or our own scripts/styles change, so phones drop the old cache."""
    digest = hashlib.sha256("|".join(shell).encode())
    for name in ("field/m.js", "field/m.css", "field/outbox.js"):
        path = finders.find(name)
        if path:
            with open(path, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()[:12]


@never_cache
def service_worker(request):
    """The service worker, served under /m/ so its scope covers every /m/ page."""
    shell = [
        reverse("field:m-home"), reverse("field:m-report"), reverse("field:m-checkin"), reverse("field:m-patrol"),
        static("field/m.css"), static("field/outbox.js"), static("field/m.js"), static("leaflet/leaflet.js"),
        static("leaflet/leaflet.css"),
    ]
    response = TemplateResponse(
        request,
        "field/m/sw.js",
        {"shell": shell, "version": _shell_version(tuple(shell)), "outbox_js": static("field/outbox.js")},
        content_type="application/javascript",
    )
    response["Service-Worker-Allowed"] = "/m/"
    return response


# JSON endpoints (queued offline by m.js; retried with the same Idempotency-Key) ---------------------------------


def _ticket_answer(ticket, *, message: str = "") -> dict:
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "state": ticket.state,
        "state_label": ticket.get_state_display(),
        "grid": ticket.grid.name if ticket.grid_id else "",
        "community": ticket.community.name,
        "message": message,
        "url": reverse("field:m-report-detail", args=[ticket.pk]),
    }


@documented_as(schema.ReportSchema)
@mobile_endpoint("report")
def api_report(request, *, idempotency_key):
    """Report an incident; with `self_resolved` and an after-photo it is fixed on the spot (自行处置)."""

    data = request.POST
    location = point_from(data)
    try:
        category = Category.objects.get(pk=int(data.get("category", "")), is_active=True)
    except (ValueError, Category.DoesNotExist):
        raise ValidationError(_("Choose a category from the list.")) from None
    description = data.get("description", "").strip()
    if not description:
        raise ValidationError(_("Describe what you see."))
    photos = request.FILES.getlist("photos")
    ticket = ticket_services.ticket_create(
        by=request.user,
        source=Source.GRID,
        category=category,
        title=(data.get("title") or "").strip()[:120] or f"{category.name}：{description[:40]}",
        description=description,
        location=location,
        address=data.get("address", "").strip()[:200],
        urgent=data.get("urgent") == "1",
        idempotency_key=idempotency_key,
        photos=photos,
        occurred_at=time_from(data),
    )
    message = ticket.placement_note
    if data.get("self_resolved") == "1":
        after = request.FILES.get("after_photo")
        if after is None:
            raise ValidationError(_("Fixing it on the spot needs an after-photo."))
        ticket = ticket_services.ticket_self_resolve(
            ticket=ticket, by=request.user, note=data.get("note", "").strip() or _("Fixed on the spot"), after_photo=after
        )
    ticket.refresh_from_db()
    return _ticket_answer(ticket, message=message)


@documented_as(schema.VerifySchema)
@mobile_endpoint("verify")
def api_verify(request, pk, *, idempotency_key):
    """Verify (核查) a ticket of my grid: pass closes it, fail sends it back; both need an after-photo."""

    ticket = get_visible_or_404(ticket_selectors.verification_tasks_for(request.user), request.user, pk=pk)
    data = request.POST
    if data.get("passed") not in ("1", "0"):
        raise ValidationError(_("Choose pass or fail."))
    photo = request.FILES.get("photo")
    if photo is None:
        raise ValidationError(_("Verification needs an after-photo."))
    try:
        version = int(data.get("version", ""))
    except ValueError:
        raise ValidationError(_("The form is out of date; reload the page.")) from None
    try:
        ticket = ticket_services.ticket_verify(
            ticket=ticket, by=request.user, passed=data["passed"] == "1", note=data.get("note", "").strip(),
            photo=photo, version=version,
        )
    except (ticket_services.StaleVersion, ticket_services.TransitionRefused) as exc:
        raise Conflict(str(exc)) from exc
    ticket.refresh_from_db()
    passed = data["passed"] == "1"
    return _ticket_answer(ticket, message=(_("Verified %(number)s: passed, the ticket is closed.") if passed
                                           else _("Verified %(number)s: not passed, sent back as rework.")) % {"number": ticket.number})


@documented_as(schema.CheckInSchema)
@mobile_endpoint("checkin")
def api_checkin(request, *, idempotency_key):
    data = request.POST
    check_in = services.checkin_record(
        user=request.user, location=point_from(data), accuracy_m=accuracy_from(data), at=time_from(data),
        idempotency_key=idempotency_key,
    )
    if check_in.inside_grid:
        message = _("Checked in inside %(grid)s.") % {"grid": check_in.grid.name}
    else:
        message = _("Checked in %(metres)d m outside %(grid)s.") % {
            "metres": round(check_in.distance_to_grid_m), "grid": check_in.grid.name,
        }
    return {
        "id": check_in.pk, "inside_grid": check_in.inside_grid, "grid": check_in.grid.name, "message": message,
        "at": timezone.localtime(check_in.at).strftime("%Y-%m-%d %H:%M"),
    }


def _patrol_answer(patrol) -> dict:
    return {
        "id": patrol.pk, "state": patrol.state, "state_label": patrol.get_state_display(),
        "distance_m": round(patrol.distance_m), "inside_distance_m": round(patrol.inside_distance_m),
        "inside_minutes": round(patrol.inside_seconds / 60, 1), "minutes": round(patrol.seconds / 60, 1),
        "points": patrol.points_count,
    }


def _own_patrol(request, pk):
    patrol = Patrol.objects.filter(pk=pk, user=request.user).select_related("grid").first()
    if patrol is None:
        raise Http404(_("Not found, or not within your scope."))
    return patrol


@documented_as(schema.PatrolStartSchema)
@mobile_endpoint("patrol")
def api_patrol_start(request, *, idempotency_key):
    patrol = services.patrol_start(user=request.user, at=time_from(request.POST), idempotency_key=idempotency_key)
    return _patrol_answer(patrol)


@documented_as(schema.PatrolPointsSchema)
@mobile_endpoint("patrol")
def api_patrol_points(request, pk, *, idempotency_key):
    patrol = _own_patrol(request, pk)
    added = services.patrol_add_points(patrol=patrol, by=request.user, points=track_points_from(request.POST.get("points")))
    patrol.refresh_from_db()
    return {**_patrol_answer(patrol), "added": added}


@documented_as(schema.PatrolCheckSchema)
@mobile_endpoint("patrol")
def api_patrol_check(request, pk, *, idempotency_key):
    patrol = _own_patrol(request, pk)
    item = PatrolChecklistItem.objects.filter(pk=request.POST.get("item") or 0, grid=patrol.grid).first()
    if item is None:
        raise Http404(_("Not found, or not within your scope."))
    services.patrol_check_item(patrol=patrol, item=item, by=request.user, note=request.POST.get("note", "")[:200])
    return {"id": patrol.pk, "item": item.pk, "checked": True}


@documented_as(schema.PatrolStopSchema)
@mobile_endpoint("patrol")
def api_patrol_stop(request, pk, *, idempotency_key):
    patrol = services.patrol_stop(patrol=_own_patrol(request, pk), by=request.user, at=time_from(request.POST))
    return _patrol_answer(patrol)


@documented_as(schema.LocateSchema)
@login_required
def api_locate(request):
    """Which grid a point is in (for the report form's pin), with the outside-every-grid message."""

    if not (can(request.user, "field.mobile") or can(request.user, "grid.map")):
        return error_response(request, 403, _("Your role may not do this."))
    try:
        where = selectors.locate(point_from(request.GET))
    except ValidationError as exc:
        return error_response(request, 400, " ".join(exc.messages))
    return JsonResponse(
        {
            "grid": where.grid.code if where.grid else None,
            "grid_name": where.grid.name if where.grid else "",
            "community": where.community.name if where.community else "",
            "message": where.message,
        },
        json_dumps_params={"ensure_ascii": False},
    )


def root(request):
    return redirect("field:m-home")
