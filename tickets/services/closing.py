"""Verification (核查: close or 返工), the grid worker's 自行处置, reopening, more callers, satisfaction."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Role, User
from org.permissions import requires
from grid.selectors import full_time_worker

from .. import hooks
from ..models import Assignment, Light, Satisfaction, State, Ticket, TicketPhoto
from .base import TransitionRefused, _lock, _lock_as_is, _check, _record, _save_photos, _clean_all, clean_text, _limits, _warn_at, _plan


@requires("tickets.verify")
def ticket_verify(*, ticket: Ticket, by: User, passed: bool, note: str = "", photo=None, version: int) -> Ticket:
    """核查: pass closes the ticket; fail sends it back to the lead department as rework (返工)."""
    cleaned = _clean_all([photo] if photo is not None else [])
    if not passed:
        note = clean_text(note, field="note", label=_("what is still wrong"), max_length=2000)
    with transaction.atomic():
        t = _lock(ticket, version)
        method = t.verify_pass if passed else t.rework
        _check(method, by)
        if by.role == Role.GRIDWORKER and t.verifier_id != by.pk:
            raise PermissionDenied(_("This verification task belongs to someone else."))
        before = t.state
        now = timezone.now()
        _save_photos(t, cleaned, kind=TicketPhoto.Kind.VERIFY, by=by)
        if passed:
            t.verify_pass()
            t.closed_at = now
            _record(t, by=by, action="closed", from_state=before, note=note, fields=["state", "closed_at"], department_ids=())
            hooks.ticket_closed(t)
            return t
        lead = t.assignments.select_for_update().filter(role=Assignment.Role.LEAD, state=Assignment.State.REPLIED).order_by("-id").first()
        _check(lead.redo, by)
        lead.redo()
        handle_unit, handle_due = _limits(t, now)[2:]
        lead.dispatched_at, lead.handle_due_at, lead.handle_unit = now, handle_due, handle_unit
        lead.warn_at = _warn_at(now, handle_due, handle_unit)
        lead.urged_at = lead.escalated_at = None
        _plan(lead, now)
        lead.save(update_fields=["state", "dispatched_at", "handle_due_at", "handle_unit", "warn_at", "urged_at",
                                 "escalated_at", "light", "next_scan_at"])
        t.rework()
        t.rework_count += 1
        t.due_at, t.light = handle_due, lead.light
        _record(t, by=by, action="reworked", from_state=before, note=note, fields=["state", "rework_count", "due_at", "light"],
                data={"assignment": lead.pk, "handle_due_at": handle_due.isoformat()}, department_ids=[lead.department_id])
    return t


@requires("tickets.self_resolve")
def ticket_self_resolve(*, ticket: Ticket, by: User, note: str, after_photo) -> Ticket:
    """自行处置: the grid worker fixed it on the spot; closes at grid level with an after-photo."""
    if after_photo is None:
        raise ValidationError({"after_photo": _("A photo after the fix is required.")})
    cleaned = _clean_all([after_photo])
    note = clean_text(note, field="note", label=_("what was done"), max_length=2000)
    with transaction.atomic():
        t = _lock_as_is(ticket)
        _check(t.self_resolve, by)
        if t.reporter_id != by.pk and not (t.grid_id and full_time_worker(t.grid) == by):
            raise PermissionDenied(_("Only the reporting grid worker or the grid's worker can resolve this on the spot."))
        before = t.state
        _save_photos(t, cleaned, kind=TicketPhoto.Kind.AFTER, by=by)
        t.self_resolve()
        t.closed_at = timezone.now()
        _record(t, by=by, action="self_resolved", from_state=before, note=note, fields=["state", "closed_at"], department_ids=())
        hooks.ticket_closed(t)
    return t


@requires("tickets.reopen")
def ticket_reopen(*, ticket: Ticket, by: User, note: str, version: int) -> Ticket:
    """The citizen is not satisfied: the case goes back to the dispatcher to be dispatched again."""
    note = clean_text(note, field="note", label=_("the reason"), max_length=2000)
    with transaction.atomic():
        t = _lock(ticket, version)
        _check(t.reopen, by)
        before = t.state
        t.reopen()
        t.satisfaction = Satisfaction.UNSATISFIED
        t.closed_at, t.due_at, t.light = None, None, Light.GREEN
        _record(t, by=by, action="reopened", from_state=before, note=note,
                fields=["state", "satisfaction", "closed_at", "due_at", "light"], department_ids=())
    return t


@requires("tickets.add_caller")
def ticket_add_caller(*, ticket: Ticket, by: User | None, note: str = "") -> Ticket:
    """Another citizen reports the same open matter (hotline linking): a timeline row, no new ticket.
    Raises TransitionRefused when the ticket is no longer open."""
    with transaction.atomic():
        t = _lock_as_is(ticket)
        if not t.is_open:
            raise TransitionRefused.in_state(t)
        t.caller_count += 1
        _record(t, by=by, action="caller_added", from_state=t.state, note=note, fields=["caller_count"],
                data={"automatic": by is None, "callers": t.caller_count})
    return t


def ticket_rate(*, ticket: Ticket, by: User | None, satisfaction: str, note: str = "") -> Ticket:
    """Record the citizen's satisfaction after a return visit (the hotline calls this)."""
    if satisfaction not in Satisfaction.values:
        raise ValidationError({"satisfaction": _("Unknown satisfaction level.")})
    with transaction.atomic():
        t = _lock_as_is(ticket)
        if t.state != State.CLOSED:
            raise TransitionRefused(_("Only a closed ticket can be rated."))
        t.satisfaction = satisfaction
        _record(t, by=by, action="rated", from_state=t.state, note=note, fields=["satisfaction"],
                data={"satisfaction": satisfaction}, department_ids=())
    return t
