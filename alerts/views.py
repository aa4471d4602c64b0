"""Pages: the alert list /alerts/, one alert with its lifecycle steps, the matching analysis with its map and
Excel export, and the recall on the data hub's planted anomalies. Thin: selectors read, one service writes."""

import datetime as dt
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from org.models import Department
from org.permissions import can, get_visible_or_404, require
from tickets.models import Category

from . import evidence, exports, selectors, services
from .forms import matching_window
from .models import OPEN_STATES, Alert, Level, RuleKind, State


# What each evidence key means, for people (the JSON keeps the identifiers).
EVIDENCE_LABELS = {
    "plate": gettext_lazy("Plate"), "carrier": gettext_lazy("Carrier"), "goods_class": gettext_lazy("Goods class"), "minutes": gettext_lazy("Minutes"),
    "positions": gettext_lazy("Positions"), "nearest_site_m": gettext_lazy("Nearest registered site (m)"),
    "max_speed_kmh": gettext_lazy("Top speed (km/h)"), "limit_kmh": gettext_lazy("Speed limit (km/h)"), "expressway": gettext_lazy("On an expressway"),
    "max_distance_m": gettext_lazy("Farthest from the route (m)"), "limit_m": gettext_lazy("Allowed distance (m)"),
    "banned_windows": gettext_lazy("Banned windows"), "permitted": gettext_lazy("Permitted hours"),
    "credit_code": gettext_lazy("Credit code"), "enterprise": gettext_lazy("Enterprise"), "licences": gettext_lazy("Licences"),
    "dwelling": gettext_lazy("Dwelling"), "address": gettext_lazy("Address"), "residents": gettext_lazy("Registered residents"), "rooms": gettext_lazy("Rooms"),
    "area_m2": gettext_lazy("Floor area (m²)"), "m2_per_person": gettext_lazy("m² per person"), "limits": gettext_lazy("Limits"),
    "camera": gettext_lazy("Camera"), "camera_name": gettext_lazy("Camera name"), "event_type": gettext_lazy("Event type"), "event": gettext_lazy("Event"),
    "confidence": gettext_lazy("Confidence"), "event_id": gettext_lazy("Event id"), "occurred_at": gettext_lazy("Event time"),
    "community": gettext_lazy("Community"), "category": gettext_lazy("Category"), "contacts_24h": gettext_lazy("Contacts in 24 hours"),
    "mean": gettext_lazy("Daily mean before"), "sigma": gettext_lazy("Standard deviation"), "threshold": gettext_lazy("Threshold"),
    "daily_before": gettext_lazy("Contacts per day before"), "contact": gettext_lazy("Contact"), "terms": gettext_lazy("Terms"),
    "excerpt": gettext_lazy("Excerpt"), "type": gettext_lazy("Type"), "contacts": gettext_lazy("Contacts"), "merged_hits": gettext_lazy("Detections"),
    "more_snapshots": gettext_lazy("More snapshots"),
}


@login_required
def alert_list(request):
    require(request.user, "alerts.view")
    qs = selectors.alerts_visible_to(request.user)
    state = request.GET.get("state", "open")
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state in State.values:
        qs = qs.filter(state=state)
    else:
        state = ""
    level = request.GET.get("level", "")
    if level in Level.values:
        qs = qs.filter(level=level)
    else:
        level = ""
    kind = request.GET.get("kind", "")
    if kind in RuleKind.values:
        qs = qs.filter(rule__kind=kind)
    else:
        kind = ""
    page = Paginator(qs.order_by("-id"), 30).get_page(request.GET.get("page"))
    return render(request, "alerts/list.html", {
        "page": page, "state": state, "level": level, "kind": kind,
        "states": [("open", pgettext("alerts", "Open")), *State.choices, ("", pgettext("alerts", "All"))], "levels": Level.choices, "kinds": RuleKind.choices,
        "now": timezone.now(), "may_analyse": can(request.user, "alerts.analyse"),
    })


def _steps_for(alert: Alert, user) -> dict:
    """Which step forms this user sees on this alert now."""
    own = user.is_admin_role or (user.department_id and user.department_id == alert.department_id)
    return {
        "assign": alert.state in (State.RAISED, State.ASSIGNED) and can(user, "alerts.assign"),
        "verify": alert.state == State.ASSIGNED and can(user, "alerts.verify") and own,
        "handle": alert.state == State.VERIFIED and can(user, "alerts.handle") and own,
        "evaluate": alert.state in (State.HANDLED, State.TICKETED) and can(user, "alerts.evaluate"),
        "close": alert.state == State.EVALUATED and can(user, "alerts.close"),
    }


@login_required
def alert_detail(request, pk):
    require(request.user, "alerts.view")
    alert = get_visible_or_404(Alert.objects.select_related("rule", "department", "region", "ticket"), request.user, pk=pk)
    steps = _steps_for(alert, request.user)
    points = alert.evidence.get("points") or []
    return render(request, "alerts/detail.html", {
        "alert": alert, "events": selectors.timeline(alert), "steps": steps, "any_step": any(steps.values()),
        "departments": services.assignable_departments(alert) if steps["assign"] else [],
        "categories": Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent").order_by("code")
        if steps["handle"] else [],
        "evidence_items": evidence.readable(alert.evidence, request.user, EVIDENCE_LABELS),
        "map_data": json.dumps({"lon": alert.location.x, "lat": alert.location.y, "level": alert.level, "points": points}),
        "tiles_url": settings.MAP_TILES_URL,
        "may_open_tickets": can(request.user, "tickets.read"),
    })


def _bool(value) -> bool:
    return value in ("1", "true", "yes", "on")


STEPS = {
    "assign": lambda r, a, v: services.alert_assign(
        alert=a, by=r.user, department=Department.objects.filter(pk=_int(r.POST.get("department"))).first(),
        hours=r.POST.get("hours") or None, note=r.POST.get("note", ""), version=v,
    ),
    "verify": lambda r, a, v: services.alert_verify(
        alert=a, by=r.user, true_positive=_bool(r.POST.get("true_positive")), note=r.POST.get("note", ""), version=v,
    ),
    "handle": lambda r, a, v: services.alert_handle(alert=a, by=r.user, note=r.POST.get("note", ""), version=v),
    "ticket": lambda r, a, v: services.alert_to_ticket(
        alert=a, by=r.user, category=_category(r.POST.get("category")), note=r.POST.get("note", ""), version=v,
    ),
    "evaluate": lambda r, a, v: services.alert_evaluate(
        alert=a, by=r.user, effective=_bool(r.POST.get("effective")), note=r.POST.get("note", ""), version=v,
    ),
    "close": lambda r, a, v: services.alert_close(alert=a, by=r.user, note=r.POST.get("note", ""), version=v),
}


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _category(value):
    category = Category.objects.filter(pk=_int(value), is_active=True).first()
    if category is None:
        raise ValidationError({"category": _("Choose the category of the ticket.")})
    return category


@login_required
@require_POST
def alert_step(request, pk, step):
    if step not in STEPS:
        raise Http404
    alert = get_visible_or_404(Alert.objects.select_related("rule", "department", "region", "ticket"), request.user, pk=pk)
    try:
        STEPS[step](request, alert, _int(request.POST.get("version")))
    except (services.StaleVersion, services.TransitionRefused) as exc:
        messages.error(request, str(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("Your role may not do this."))
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, _("Saved."))
    return redirect("alerts:detail", pk=alert.pk)


@login_required
def snapshot(request, pk):
    """The camera's picture of an alert: the same rule as the alert's page (403 for the role, 404 outside the scope)."""
    require(request.user, "alerts.view")
    alert = get_visible_or_404(Alert.objects.select_related("rule", "department", "region", "ticket"), request.user, pk=pk)
    if not alert.snapshot:
        raise Http404
    return FileResponse(alert.snapshot.open("rb"), content_type="image/jpeg")


def _matching(request):
    require(request.user, "alerts.analyse")
    try:
        since, until, radius = matching_window(request.GET)
        error = ""
    except ValidationError as exc:
        error = "；".join(exc.messages)
        since, until, radius = matching_window({})
    return selectors.stop_matching(request.user, since=since, until=until, radius_m=radius), error


@login_required
def matching(request):
    result, error = _matching(request)
    if error:
        messages.error(request, error)
    map_data = {
        "radius": result.radius_m,
        "stops": [{k: s[k] for k in ("id", "subject", "lon", "lat", "minutes")} | {"matched": bool(s["matches"])} for s in result.stops],
        "enterprises": [{k: e[k] for k in ("name", "lon", "lat")} | {"matched": len(e["matches"])} for e in result.enterprises],
    }
    return render(request, "alerts/matching.html", {
        "result": result, "from": timezone.localtime(result.since).date(),
        "to": (timezone.localtime(result.until) - dt.timedelta(days=1)).date(),
        "map_data": json.dumps(map_data, ensure_ascii=False), "tiles_url": settings.MAP_TILES_URL,
        "query": request.GET.urlencode(),
    })


@login_required
def matching_export(request):
    result, error = _matching(request)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(
        exports.matching_workbook(result), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"stop-matching-{timezone.localtime(result.since):%Y%m%d}-{timezone.localtime(result.until) - dt.timedelta(days=1):%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def quality(request):
    """Recall of the warning models on the data hub's planted anomalies of a day, and what they found besides."""
    require(request.user, "alerts.analyse")
    from datahub.models import PlantedAnomaly

    day = request.GET.get("day")
    try:
        day = dt.date.fromisoformat(day) if day else None
    except ValueError:
        messages.error(request, _("Use a date like 2026-11-20."))
        day = None
    days = list(PlantedAnomaly.objects.order_by("-day").values_list("day", flat=True).distinct()[:30])
    if day is None and days:
        day = days[0]
    report = selectors.recall_report(day, request.user) if day else None
    return render(request, "alerts/quality.html", {"report": report, "day": day, "days": days})
