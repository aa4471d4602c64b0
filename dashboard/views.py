"""Pages and JSON of the wall and the leaders' statistics: translate the request, call a selector, answer."""

import orjson
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from org.models import Department, Region
from org.permissions import can, require, visible
from tickets.classify import selectors as intake_selectors
from tickets.models import Light, Source, State

from . import exports, selectors, stats, stats_charts
from .sources import alert_levels, alert_open_states
from .wall import wall_region, wall_snapshot

DRILL_EXPORT_LIMIT = 50_000


def _json(data, status=200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), content_type="application/json", status=status)


def _api_user(request):
    if not request.user.is_authenticated:
        return _json({"detail": _("Please sign in.")}, status=401)
    return None


@require_GET
@login_required
def wall(request):
    require(request.user, "dashboard.wall")
    region = wall_region(request.user)
    config = {
        "snapshot": reverse("dashboard:wall-snapshot"),
        "grids": reverse("dashboard:wall-grids"),
        "extras": reverse("dashboard:wall-extras"),
        "socket": "/ws/wall/",
        "tiles": settings.MAP_TILES_URL,
        "center": list(settings.LEAFLET_CONFIG["DEFAULT_CENTER"]),
        "labels": {
            "ticket.created": _("New ticket"), "ticket.escalated": _("Escalated"), "alert.raised": _("Alert"),
            "live": _("Live"), "connecting": _("Connecting…"), "reconnecting": _("Reconnecting…"),
            "resync": _("Reloading the snapshot…"), "received": pgettext("trend", "Received"), "closed": pgettext("trend", "Closed"),
            "score": _("Score"), "tickets": _("tickets"), "none": _("No open tickets"),
            "open": _("open tickets"), "workers": _("on patrol"),
        },
        "states": dict(State.choices),
        "alert_open_states": sorted(alert_open_states()),
        "alert_levels": alert_levels(),
        "lights": dict(Light.choices),
        # a marker or feed line opens the ticket in the console for those who work tickets there
        "ticket_url": reverse("tickets:console-ticket", args=[0]) if can(request.user, "tickets.read") else "",
    }
    return render(request, "dashboard/wall.html", {
        "region": region,
        "wall_config": config,
    })


@require_GET
def wall_snapshot_api(request):
    if (refused := _api_user(request)) is not None:
        return refused
    require(request.user, "dashboard.wall")
    return _json(wall_snapshot(request.user))


@require_GET
def wall_grids_api(request):
    if (refused := _api_user(request)) is not None:
        return refused
    require(request.user, "dashboard.wall")
    return _json(selectors.grid_boundaries(request.user))


@require_GET
def wall_extras_api(request):
    """What changes slowly or has no events: grid workers' positions and the department ranking."""
    if (refused := _api_user(request)) is not None:
        return refused
    require(request.user, "dashboard.wall")
    return _json({
        "positions": selectors.worker_positions(request.user),
        "ranking": selectors.department_ranking(request.user),
        "at": timezone.now().isoformat(),
    })


def _filter_or_errors(request):
    try:
        return stats.parse_filter(request.user, request.GET), None
    except ValidationError as exc:
        return None, exc.message_dict


def _choices(user):
    regions = visible(Region.objects.filter(level__lte=Region.Level.TOWN), user).order_by("path").values_list("code", "name", "level")
    return {
        "regions": [(code, ("　" * (level - 1)) + name) for code, name, level in regions],
        "departments": Department.objects.filter(is_active=True).order_by("region__level", "code").values_list("pk", "name"),
        "categories": list(stats.major_classes().values()),
        "sources": Source.choices,
    }


@require_GET
@login_required
def stats_page(request):
    require(request.user, "dashboard.stats")
    f, errors = _filter_or_errors(request)
    context = {"errors": errors, "choices": _choices(request.user), "params": request.GET}
    if f is None:
        return render(request, "dashboard/stats.html", context, status=400)
    report = stats.report(f, request.user)
    context.update(f=f, query=f.as_query(), charts=stats_charts.charts(f, request.user, report),
                   periods=stats_charts.quick_periods(f), intake=intake_selectors.figures(), **report)
    return render(request, "dashboard/stats.html", context)


def _table(f, user, table: str) -> tuple[str, list[str], list[list]]:
    rate_keys = ["closure_rate", "on_time_rate", "satisfaction_rate", "rework_rate", "return_rate", "extension_rate"]
    rate_head = [str(stats.RATES[k][0]) + " %" for k in rate_keys]
    if table == "departments":
        rows = stats.by_department(f, user)
        head = [_("Rank"), _("Department"), _("Composite score"), *[str(v) for v in stats.DEPT_COUNTS.values()], *rate_head]
        return _("Departments"), head, [
            [r["rank"], r["name"], r["score"], *[r[k] for k in stats.DEPT_COUNTS], *[r[k] for k in rate_keys]] for r in rows
        ]
    if table == "regions":
        rows = stats.by_region(f, user)
        head = [_("Rank"), _("Region"), _("Composite score"), *[str(v) for v in stats.COUNTS.values()], *rate_head,
                str(stats.RATES["direct_rate"][0]) + " %"]
        return _("Regions"), head, [
            [r["rank"], r["name"], r["score"], *[r[k] for k in stats.COUNTS], *[r[k] for k in rate_keys], r["direct_rate"]]
            for r in rows
        ]
    if table == "categories":
        rows = stats.by_category(f, user)
        head = [_("Category"), *[str(v) for v in stats.COUNTS.values()], *rate_head]
        return _("Categories"), head, [[r["name"], *[r[k] for k in stats.COUNTS], *[r[k] for k in rate_keys]] for r in rows]
    if table == "totals":
        r = stats.totals(f, user)
        head = [_("Figure"), _("Value")]
        rows = [[str(label), r[k]] for k, label in stats.COUNTS.items()]
        rows += [[str(label) + " %", r[k]] for k, (label, _n, _d) in stats.RATES.items()]
        return _("Totals"), head, rows
    raise ValidationError({"table": _("Unknown table.")})


@require_GET
@login_required
def stats_export(request, table: str):
    require(request.user, "dashboard.stats")
    f, errors = _filter_or_errors(request)
    if f is None:
        return JsonResponse({"errors": errors}, status=400, json_dumps_params={"ensure_ascii": False})
    try:
        title, head, rows = _table(f, request.user, table)
    except ValidationError as exc:
        return JsonResponse({"errors": exc.message_dict}, status=404, json_dumps_params={"ensure_ascii": False})
    filename = f"{title}_{f.region.name}_{f.start:%Y%m%d}-{f.end:%Y%m%d}.xlsx"
    return exports.xlsx_response(filename=filename, title=title, header=head, rows=rows)


def _drill(request, f):
    return stats.drill_tickets(
        f, request.user, metric=request.GET.get("metric", "received"), region=request.GET.get("in_region", ""),
        department=request.GET.get("in_department", ""), category=request.GET.get("in_category", ""),
        satisfaction=request.GET.get("satisfaction", ""),
    ).select_related("category", "district", "town").order_by("-id")


@require_GET
@login_required
def stats_tickets(request):
    """The tickets behind one number of the statistics (drill-down), paginated, with an Excel download."""
    require(request.user, "dashboard.stats")
    f, errors = _filter_or_errors(request)
    if f is None:
        return render(request, "dashboard/stats.html", {"errors": errors, "choices": _choices(request.user),
                                                        "params": request.GET}, status=400)
    try:
        tickets = _drill(request, f)
    except ValidationError as exc:
        return render(request, "dashboard/stats.html", {"errors": exc.message_dict, "choices": _choices(request.user),
                                                        "params": request.GET}, status=400)
    if request.GET.get("format") == "xlsx":
        head = [_("Number"), _("Title"), _("Category"), _("Source"), _("State"), _("District"), _("Town/Street"),
                _("Received at"), _("Handling deadline"), _("Closed at"), _("Satisfaction")]
        rows = [
            [t.number, t.title, t.category.name, t.get_source_display(), t.get_state_display(), t.district.name, t.town.name,
             _local(t.created_at), _local(t.due_at), _local(t.closed_at), t.get_satisfaction_display()]
            for t in tickets[:DRILL_EXPORT_LIMIT]
        ]
        return exports.xlsx_response(filename=f"{_('Tickets')}_{f.start:%Y%m%d}-{f.end:%Y%m%d}.xlsx", title=_("Tickets"),
                                     header=head, rows=rows)
    page = Paginator(tickets, 50).get_page(request.GET.get("page"))
    metric = request.GET.get("metric", "received")
    label = stats.COUNTS.get(metric) or stats.DEPT_COUNTS.get(metric) or metric
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "dashboard/stats_tickets.html", {
        "f": f, "page": page, "metric_label": label, "query": query.urlencode(), "tickets_count": page.paginator.count,
        "may_open_tickets": can(request.user, "tickets.read"),
    })


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

