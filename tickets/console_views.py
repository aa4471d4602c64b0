"""The dispatcher console /console/: one screen with the queue, the map of the center's area and the selected
ticket side by side; live tab counts; filters and search; several new cases acted on together."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from org.models import Department
from org.permissions import can, require

from . import console_selectors as cs
from . import selectors, services
from .classify.suggest import disagreement
from .models import State, Ticket, TicketRequest
from .views import _ticket_context, _visible_ticket

TABS = [
    ("new", gettext_lazy("New cases")),
    ("open", gettext_lazy("To dispatch")),
    ("active", gettext_lazy("With departments")),
    ("escalated", gettext_lazy("Escalations")),
    ("requests", gettext_lazy("Requests")),
    ("verify", gettext_lazy("Verification")),
]
PAGE_SIZE = 40
BULK_MAX = 50
# the queue the dispatcher last looked at, so a ticket opened from it (and the redirect after each step) keeps it
SESSION_QUERY = "console_query"


def _queue(request, params: QueryDict) -> dict:
    user = request.user
    tab = params.get("tab", "new")
    if tab not in cs.TABS:
        tab = "new"
    filters = cs.parse_filters(user, params)
    context = {"tab": tab, "tabs": TABS, "filters": filters, "choices": cs.filter_choices(user), "counts": cs.tab_counts(user),
               "query": params.urlencode(), "is_requests": tab == "requests",
               "tiles_url": settings.MAP_TILES_URL}
    if tab == "requests":
        context["page"] = Paginator(selectors.pending_requests_for(user), PAGE_SIZE).get_page(params.get("page"))
        context["points"] = []
    else:
        rows = cs.apply_filters(cs.tab_queryset(user, tab), filters)
        page = Paginator(rows, PAGE_SIZE).get_page(params.get("page"))
        context["page"] = page
        context["points"] = cs.map_points(page)
    if tab in ("new", "open") and can(user, "tickets.dispatch"):
        context["bulk_departments"] = selectors.center_departments(user.region) if user.region_id else []
    context["area"] = cs.area_geojson(user.region) if user.region_id else None
    return context


def _stored_query(request) -> QueryDict:
    return QueryDict(request.session.get(SESSION_QUERY, ""))


@login_required
def console(request):
    require(request.user, "tickets.dispatch")
    q = request.GET.get("q", "").strip()[:60]
    if q and cs.search_kind(q) == "number":
        found = cs.search_visible(request.user, q).filter(number=q).first()
        if found:
            return redirect("tickets:console-ticket", pk=found.pk)
        messages.error(request, _("No ticket with this number within your scope."))
    request.session[SESSION_QUERY] = request.GET.urlencode()
    context = _queue(request, request.GET)
    if q and not context["is_requests"] and not context["page"].paginator.count:
        # nothing in this tab: say where else the search finds something the dispatcher may see
        context["elsewhere"] = list(cs.search_visible(request.user, q)[:10])
    return render(request, "tickets/console.html", context)


@login_required
def console_ticket(request, pk):
    require(request.user, "tickets.read")
    t = _visible_ticket(request, pk)
    context = _queue(request, _stored_query(request))
    context.update(_ticket_context(t, request.user))
    if t.state in (State.NEW, State.OPEN):
        context["disagreement"] = disagreement(t)  # the classifier's doubt about the category, before dispatch
    if t.state == State.OPEN:
        context["suggested"] = selectors.suggest_departments(t)
        context["departments"] = selectors.center_departments(t.center)
    context["pending"] = t.requests.filter(decision=TicketRequest.Decision.PENDING).select_related("assignment__department", "requested_by")
    context["may_approve_extension"] = can(request.user, "tickets.approve_extension")
    context["may_act"] = can(request.user, "tickets.dispatch")
    nearby = cs.nearby_open(request.user, t)
    context.update({
        "selected": t,
        "nearby": nearby,
        "on_duty": cs.grid_on_duty(t.grid),
        "grid_boundary": cs.grid_geojson(t.grid),
        "focus": {"id": t.pk, "number": t.number, "title": t.title, "lat": round(t.location.y, 6), "lon": round(t.location.x, 6),
                  "light": t.light, "state": t.state},
        "nearby_points": cs.map_points(nearby),
    })
    return render(request, "tickets/console.html", context)


@login_required
@require_GET
def console_counts(request):
    """The tabs' counts, for the console to refresh when the wall's events say something changed."""
    require(request.user, "tickets.dispatch")
    return JsonResponse({"counts": cs.tab_counts(request.user)})


def _bulk_one(*, ticket: Ticket, version: int, action: str, by, reason: str, lead: Department | None) -> str:
    """One ticket of a bulk action through the same services as the single steps; returns the success text."""
    if action == "open":
        services.ticket_open(ticket=ticket, by=by, version=version)
        return _("Case opened.")
    if action == "cancel":
        services.ticket_cancel(ticket=ticket, by=by, reason=reason, version=version)
        return _("Not opened as a case.")
    if ticket.state == State.NEW:  # dispatching a new case opens it first, as the dispatcher would
        ticket = services.ticket_open(ticket=ticket, by=by, version=version)
        version = ticket.version
    department = lead or next(iter(selectors.suggest_departments(ticket)), None)
    if department is None:
        raise ValidationError(_("No suggested department: choose the lead department."))
    services.ticket_dispatch(ticket=ticket, by=by, lead=department, version=version)
    return _("Dispatched to %(department)s.") % {"department": department.name}


@login_required
@require_POST
def console_bulk(request):
    """Open, cancel or dispatch several tickets at once; each goes through its own service with the version the
    dispatcher saw, and each outcome is reported (a ticket someone else changed meanwhile is refused, not
    overwritten)."""
    require(request.user, "tickets.dispatch")
    action = request.POST.get("action", "")
    back = reverse("tickets:console") + "?" + request.session.get(SESSION_QUERY, "")
    if action not in ("open", "cancel", "dispatch"):
        messages.error(request, _("Choose what to do with the selected tickets."))
        return redirect(back)
    picked: dict[int, int] = {}
    for value in request.POST.getlist("pick")[:BULK_MAX]:
        pk, _sep, version = value.partition(":")
        if pk.isdigit() and version.isdigit():
            picked[int(pk)] = int(version)
    if not picked:
        messages.error(request, _("Select at least one ticket."))
        return redirect(back)
    reason = request.POST.get("reason", "").strip()
    if action == "cancel" and not reason:
        messages.error(request, _("Give the reason for not opening these cases."))
        return redirect(back)
    lead = None
    if action == "dispatch" and request.POST.get("lead"):
        lead = selectors.center_departments(request.user.region).filter(pk=request.POST.get("lead")).first() if request.user.region_id else None
        if lead is None:
            messages.error(request, _("This department is not one the center may dispatch to."))
            return redirect(back)
    tickets = {t.pk: t for t in cs.center_tickets_by_id(request.user, list(picked))}
    done = failed = 0
    for pk, version in picked.items():
        ticket = tickets.get(pk)
        if ticket is None:
            failed += 1
            messages.error(request, _("Ticket %(id)s: not in your queue.") % {"id": pk})
            continue
        try:
            text = _bulk_one(ticket=ticket, version=version, action=action, by=request.user, reason=reason, lead=lead)
        except (services.StaleVersion, services.TransitionRefused) as exc:
            failed += 1
            messages.error(request, f"{ticket.number}：{exc}")
        except ValidationError as exc:
            failed += 1
            messages.error(request, f"{ticket.number}：{'；'.join(exc.messages)}")
        else:
            done += 1
            messages.success(request, f"{ticket.number}：{text}")
    messages.info(request, _("%(done)d done, %(failed)d refused.") % {"done": done, "failed": failed})
    return redirect(back)
