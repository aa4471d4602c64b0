"""Pages: the department workspace /dept/ and the dispatcher console /console/. Thin: read through
selectors, write through one service each, errors shown as messages in Chinese."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from org.models import Department
from org.permissions import get_visible_or_404, require

from . import selectors, services
from .models import Assignment, Light, Ticket, TicketPhoto, TicketRequest


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _run(request, step, *, success: str) -> bool:
    """Call one service; show its outcome as a message. Returns True on success."""
    try:
        step()
    except services.StaleVersion as exc:
        messages.error(request, str(exc))
    except services.TransitionRefused as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, success)
        return True
    return False


def _ticket_context(ticket, user):
    name, phone = selectors.citizen_contact(ticket, user)
    photos = list(ticket.photos.all())
    return {
        "ticket": ticket,
        "citizen_name": name,
        "citizen_phone": phone,
        "before_photos": [p for p in photos if p.kind == TicketPhoto.Kind.BEFORE],
        "after_photos": [p for p in photos if p.kind != TicketPhoto.Kind.BEFORE],
        "events": selectors.timeline(ticket),
        "shares": ticket.assignments.select_related("department").order_by("id"),
    }


# -------------------------------------------------------------------------------------------- department workspace


@login_required
def dept_inbox(request):
    require(request.user, "tickets.sign")
    state = request.GET.get("state", "")
    if state and state not in Assignment.State.values:
        state = ""
    light = request.GET.get("light", "")
    if light and light not in Light.values:
        light = ""
    q = request.GET.get("q", "").strip()[:40]
    qs = selectors.department_inbox(request.user, state=state, light=light, q=q, include_done=state == "" and request.GET.get("all") == "1")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "tickets/dept_inbox.html", {
        "page": page, "state": state, "light": light, "q": q,
        "states": Assignment.State.choices, "lights": Light.choices,
    })


def _own_assignment(request, pk) -> Assignment:
    """Another department's share is a 404, never a 403: ids cannot be probed."""
    return get_visible_or_404(
        Assignment.objects.select_related("ticket", "ticket__category", "ticket__center", "ticket__grid", "ticket__community", "ticket__town", "department"), request.user, pk=pk
    )


@login_required
def dept_assignment(request, pk):
    require(request.user, "tickets.sign")
    a = _own_assignment(request, pk)
    context = _ticket_context(a.ticket, request.user)
    context.update({"a": a, "requests": a.requests.order_by("-id")[:5]})
    return render(request, "tickets/dept_assignment.html", context)


@login_required
@require_POST
def dept_step(request, pk, step):
    require(request.user, "tickets.sign")
    a = _own_assignment(request, pk)
    version = _int(request.POST.get("version"))
    user = request.user
    if step == "sign":
        _run(request, lambda: services.ticket_sign(assignment=a, by=user, version=version), success=_("Signed. The handling clock is running."))
    elif step == "reply":
        _run(request, lambda: services.ticket_reply(
            assignment=a, by=user, reply=request.POST.get("reply", ""), photos=request.FILES.getlist("photos"), version=version),
            success=_("Reply sent."))
    elif step in ("return", "extension"):
        _run(request, lambda: services.ticket_request(
            ticket=a.ticket, by=user, kind=step, reason=request.POST.get("reason", ""), assignment=a,
            extra_days=_int(request.POST.get("extra_days")), version=version),
            success=_("Request sent; the center will decide."))
    else:
        raise Http404
    return redirect("tickets:dept-assignment", pk=a.pk)


# -------------------------------------------------------------------------------------------- dispatcher console

def _visible_ticket(request, pk) -> Ticket:
    return get_visible_or_404(Ticket.objects.select_related("category", "center", "community", "town", "district", "grid"), request.user, pk=pk)


@login_required
@require_POST
def console_step(request, pk, step):
    require(request.user, "tickets.dispatch")
    t = _visible_ticket(request, pk)
    user, post = request.user, request.POST
    version = _int(post.get("version"))
    note = post.get("note", "")
    if step == "open":
        _run(request, lambda: services.ticket_open(ticket=t, by=user, note=note, version=version), success=_("Case opened."))
    elif step == "cancel":
        _run(request, lambda: services.ticket_cancel(ticket=t, by=user, reason=post.get("reason", ""), version=version),
             success=_("Not opened as a case."))
    elif step == "dispatch":
        lead = Department.objects.filter(pk=_int(post.get("lead"))).first()
        assisting = list(Department.objects.filter(pk__in=[_int(x) for x in post.getlist("assisting") if _int(x)]).exclude(pk=getattr(lead, "pk", None)))

        def go():
            if lead is None:
                raise ValidationError(_("Choose the lead department."))
            services.ticket_dispatch(ticket=t, by=user, lead=lead, assisting=assisting, note=note, version=version)

        _run(request, go, success=_("Dispatched."))
    elif step == "urge":
        _run(request, lambda: services.ticket_urge(ticket=t, by=user, note=note, version=version), success=_("Urged."))
    elif step == "escalate":
        _run(request, lambda: services.ticket_escalate(ticket=t, by=user, note=note, version=version), success=_("Escalated."))
    elif step == "merge":
        into = selectors.tickets_visible_to(user).filter(number=post.get("into", "").strip()).first()

        def go():
            if into is None:
                raise ValidationError(_("No ticket with this number within your scope."))
            services.ticket_merge(ticket=t, into=into, by=user, note=note, version=version)

        _run(request, go, success=_("Merged as a duplicate."))
    elif step == "resume":
        _run(request, lambda: services.ticket_resume(ticket=t, by=user, note=note, version=version), success=_("Suspension ended."))
    elif step == "reopen":
        _run(request, lambda: services.ticket_reopen(ticket=t, by=user, note=post.get("reason", ""), version=version), success=_("Reopened."))
    elif step in ("suspend", "cancel_request"):
        kind = "suspend" if step == "suspend" else "cancel"
        _run(request, lambda: services.ticket_request(ticket=t, by=user, kind=kind, reason=post.get("reason", ""), version=version),
             success=_("Request recorded; it needs approval."))
    elif step == "verify":
        passed = post.get("passed") == "1"
        _run(request, lambda: services.ticket_verify(ticket=t, by=user, passed=passed, note=note, photo=request.FILES.get("photo"), version=version),
             success=_("Verified: closed.") if passed else _("Sent back as rework."))
    else:
        raise Http404
    return redirect("tickets:console-ticket", pk=t.pk)


@login_required
@require_POST
def console_decide(request, pk):
    require(request.user, "tickets.approve")
    r = get_visible_or_404(TicketRequest.objects.select_related("ticket", "assignment"), request.user, pk=pk)
    approve = request.POST.get("approve") == "1"
    version = _int(request.POST.get("version"))
    try:
        _run(request, lambda: services.ticket_decide(request=r, by=request.user, approve=approve, note=request.POST.get("note", ""), version=version),
             success=_("Approved.") if approve else _("Rejected."))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/console/") else reverse("tickets:console-ticket", args=[r.ticket_id]))


# -------------------------------------------------------------------------------------------- photos


@login_required
def photo(request, pk, size):
    """Photos are citizens' evidence: served only to those who may see the ticket."""
    p = get_visible_or_404(TicketPhoto.objects.all(), request.user, pk=pk)
    f = p.thumbnail if size == "thumb" else p.image
    try:
        return FileResponse(f.open("rb"), content_type="image/jpeg")
    except FileNotFoundError:
        raise Http404
