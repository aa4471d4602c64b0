"""Requests that wait for a decision: extension (延期), return (退单), cancellation (作废), suspension (挂账); resuming."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Role, User
from org.permissions import require, requires

from .. import calendar
from ..models import Assignment, Light, State, Ticket, TicketRequest
from .base import TransitionRefused, _lock, _check, _record, clean_text, _warn_at, _plan, _refresh_ticket_light
from .department import _lock_assignment, _maybe_finish_department_phase


@requires("tickets.request")
def ticket_request(
    *,
    ticket: Ticket,
    by: User,
    kind: str,
    reason: str,
    assignment: Assignment | None = None,
    extra_days: int | None = None,
    version: int,
) -> TicketRequest:
    """Ask for an extension (延期), a return (退单), a cancellation (作废) or a suspension (挂账)."""
    reason = clean_text(reason, field="reason", label=_("the reason"), max_length=2000)
    if kind not in TicketRequest.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of request.")})
    if by.role == Role.DEPARTMENT_STAFF:
        if assignment is None:
            raise ValidationError({"assignment": _("Name your department's share of the ticket.")})
        if kind == TicketRequest.Kind.CANCEL:
            raise PermissionDenied(_("A department cannot ask to cancel a ticket; return it instead."))
    if kind in (TicketRequest.Kind.EXTENSION, TicketRequest.Kind.RETURN) and assignment is None:
        raise ValidationError({"assignment": _("Name the department's share of the ticket.")})
    if kind == TicketRequest.Kind.EXTENSION and not (extra_days and 1 <= int(extra_days) <= 30):
        raise ValidationError({"extra_days": _("Ask for 1 to 30 extra working days.")})
    with transaction.atomic():
        t = _lock(ticket, version)
        if assignment is not None:
            a = _lock_assignment(assignment, by)
            if a.ticket_id != t.pk or not a.is_active:
                raise TransitionRefused(_("This share of the ticket is no longer being handled."))
        if not t.is_open or t.state in (State.NEW,):
            raise TransitionRefused.in_state(t)
        if kind == TicketRequest.Kind.SUSPEND and t.state not in (State.DISPATCHED, State.HANDLING):
            raise TransitionRefused(_("Only a ticket with the departments can be suspended."))
        if TicketRequest.objects.filter(ticket=t, kind=kind, decision=TicketRequest.Decision.PENDING).exists():
            raise TransitionRefused(_("A request of this kind is already waiting for a decision."))
        request = TicketRequest.objects.create(
            ticket=t, assignment=assignment, kind=kind, reason=reason,
            extra_days=int(extra_days) if extra_days else None, requested_by=by,
        )
        _record(t, by=by, action=f"{kind}_requested", from_state=t.state, note=reason,
                data={"request": request.pk, "kind": kind, "extra_days": request.extra_days})
    return request


def ticket_decide(*, request: TicketRequest, by: User, approve: bool, note: str = "", version: int) -> TicketRequest:
    """A dispatcher (or, for extensions, the duty chief) approves or rejects a pending request."""
    action = "tickets.approve_extension" if request.kind == TicketRequest.Kind.EXTENSION else "tickets.approve"
    require(by, action)
    with transaction.atomic():
        t = _lock(request.ticket, version)
        r = TicketRequest.objects.select_for_update().get(pk=request.pk)
        if r.decision != TicketRequest.Decision.PENDING:
            raise TransitionRefused(_("This request has already been decided."))
        before = t.state
        now = timezone.now()
        fields: list[str] = []
        data = {"request": r.pk, "kind": r.kind, "approved": bool(approve)}
        if approve:
            fields = _apply_request(t, r, by=by, now=now, data=data)
        r.decision = TicketRequest.Decision.APPROVED if approve else TicketRequest.Decision.REJECTED
        r.decided_by, r.decided_at, r.decision_note = by, now, note
        r.save(update_fields=["decision", "decided_by", "decided_at", "decision_note"])
        verb = {"extension": "extended", "return": "returned", "cancel": "voided", "suspend": "suspended"}[r.kind]
        _record(t, by=by, action=verb if approve else f"{r.kind}_rejected", from_state=before,
                note=note or r.reason, fields=fields, data=data,
                department_ids=[r.assignment.department_id] if r.assignment_id else None)
    return r


def _apply_request(t: Ticket, r: TicketRequest, *, by, now, data) -> list[str]:
    Kind = TicketRequest.Kind
    if r.kind == Kind.EXTENSION:
        a = Assignment.objects.select_for_update().get(pk=r.assignment_id)
        if not a.is_active:
            raise TransitionRefused(_("This share of the ticket is no longer being handled."))
        _check(t.urge, None)  # the ticket must still be open
        a.handle_due_at = calendar.add_working_time(a.handle_due_at, r.extra_days, "working_days")
        if a.state == Assignment.State.SIGNED:
            a.warn_at = _warn_at(a.dispatched_at, a.handle_due_at, a.handle_unit)
        a.urged_at = a.escalated_at = None
        _plan(a, now)
        a.save(update_fields=["handle_due_at", "warn_at", "urged_at", "escalated_at", "light", "next_scan_at"])
        data["handle_due_at"] = a.handle_due_at.isoformat()
        fields = ["light"]
        if a.role == Assignment.Role.LEAD:
            t.due_at = a.handle_due_at
            fields.append("due_at")
        _refresh_ticket_light(t)
        return fields
    if r.kind == Kind.RETURN:
        a = Assignment.objects.select_for_update().get(pk=r.assignment_id)
        _check(a.give_back, by)
        a.give_back()
        a.return_reason, a.next_scan_at = r.reason, None
        a.save(update_fields=["state", "return_reason", "next_scan_at"])
        if a.role == Assignment.Role.LEAD:
            # without its lead the ticket goes back to the dispatcher, who dispatches it afresh
            _check(t.take_back, by)
            for other in t.assignments.select_for_update().filter(state__in=Assignment.ACTIVE):
                other.cancel()
                other.next_scan_at = None
                other.save(update_fields=["state", "next_scan_at"])
            t.take_back()
            t.due_at, t.light = None, Light.GREEN
            return ["state", "due_at", "light"]
        fields = _maybe_finish_department_phase(t, by)
        _refresh_ticket_light(t)
        return [*fields, "light"]
    if r.kind == Kind.CANCEL:
        _check(t.void, by)
        for a in t.assignments.select_for_update().filter(state__in=Assignment.ACTIVE):
            a.cancel()
            a.next_scan_at = None
            a.save(update_fields=["state", "next_scan_at"])
        t.void()
        t.closed_at = now
        return ["state", "closed_at"]
    if r.kind == Kind.SUSPEND:
        _check(t.suspend, by)
        for a in t.assignments.select_for_update().filter(state__in=Assignment.ACTIVE):
            a.paused_at, a.next_scan_at = now, None
            a.save(update_fields=["paused_at", "next_scan_at"])
        t.suspend()
        return ["state", "state_before_suspension"]
    raise ValidationError(_("Unknown kind of request."))


@requires("tickets.resume")
def ticket_resume(*, ticket: Ticket, by: User, note: str = "", version: int) -> Ticket:
    """End a suspension: every deadline moves on by the working time the ticket spent suspended."""
    with transaction.atomic():
        t = _lock(ticket, version)
        _check(t.resume, by)
        before = t.state
        now = timezone.now()
        lead_due = t.due_at
        for a in t.assignments.select_for_update().filter(state__in=Assignment.ACTIVE, paused_at__isnull=False):
            paused = a.paused_at

            def moved(moment, unit, paused=paused):
                if moment <= paused:
                    return moment
                return calendar.shift(now, calendar.elapsed(paused, moment, unit), unit)

            a.sign_due_at = moved(a.sign_due_at, a.sign_unit)
            a.handle_due_at = moved(a.handle_due_at, a.handle_unit)
            a.warn_at = moved(a.warn_at, a.due_unit)
            a.paused_at = None
            _plan(a, now)
            a.save(update_fields=["sign_due_at", "handle_due_at", "warn_at", "paused_at", "light", "next_scan_at"])
            if a.role == Assignment.Role.LEAD:
                lead_due = a.handle_due_at
        t.resume()
        t.due_at = lead_due
        _refresh_ticket_light(t)
        _record(t, by=by, action="resumed", from_state=before, note=note, fields=["state", "state_before_suspension", "due_at", "light"])
    return t
