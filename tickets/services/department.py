"""The departments' steps: sign (签收), reply (反馈), release an assisting department; the end of the department phase."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Role, User
from org.permissions import requires
from grid.selectors import full_time_worker

from ..models import Assignment, State, Ticket, TicketPhoto
from .base import _lock, _check, _record, _save_photos, _clean_all, clean_text, _warn_at, _plan, _refresh_ticket_light


def _lock_assignment(assignment: Assignment, by: User) -> Assignment:
    a = Assignment.objects.select_for_update(of=("self",)).select_related("department").get(pk=assignment.pk)
    if by is not None and by.role == Role.DEPARTMENT_STAFF and by.department_id != a.department_id:
        raise PermissionDenied(_("This ticket was not dispatched to your department."))
    return a


@requires("tickets.sign")
def ticket_sign(*, assignment: Assignment, by: User, version: int) -> Assignment:
    """签收: the department takes on its share; the handling clock's light now follows the handling limit."""
    with transaction.atomic():
        t = _lock(assignment.ticket, version)
        a = _lock_assignment(assignment, by)
        _check(a.sign, by)
        before = t.state
        now = timezone.now()
        a.sign()
        a.signed_at, a.signed_by = now, by
        a.urged_at = a.escalated_at = None
        a.warn_at = _warn_at(a.dispatched_at, a.handle_due_at, a.handle_unit)
        _plan(a, now)
        a.save(update_fields=["state", "signed_at", "signed_by", "urged_at", "escalated_at", "warn_at", "light", "next_scan_at"])
        fields = ["light"]
        if a.role == Assignment.Role.LEAD and t.state == State.DISPATCHED:
            t.sign()
            fields.append("state")
        _refresh_ticket_light(t)
        _record(t, by=by, action="signed", from_state=before, fields=fields,
                data={"assignment": a.pk, "department": a.department.name, "role": a.role})
    a.ticket = t
    return a


def _department_phase_over(t: Ticket) -> bool:
    shares = list(t.assignments.exclude(state__in=[Assignment.State.RETURNED, Assignment.State.CANCELLED]).values_list("role", "state"))
    lead_done = any(role == Assignment.Role.LEAD and state == Assignment.State.REPLIED for role, state in shares)
    assists_done = all(
        state in (Assignment.State.REPLIED, Assignment.State.RELEASED) for role, state in shares if role == Assignment.Role.ASSIST
    )
    return lead_done and assists_done


def _pick_verifier(t: Ticket):
    """The grid's full-time worker; without one, the dispatcher of the responsible center."""
    if t.grid_id:
        worker = full_time_worker(t.grid)
        if worker is not None:
            return worker
    return User.objects.filter(role=Role.DISPATCHER, region=t.center, is_active=True).order_by("id").first()


def _maybe_finish_department_phase(t: Ticket, by) -> list[str]:
    if t.state != State.HANDLING or not _department_phase_over(t):
        return []
    t.finish_department_phase()
    t.verifier = _pick_verifier(t)
    return ["state", "verifier"]


@requires("tickets.reply")
def ticket_reply(*, assignment: Assignment, by: User, reply: str, photos=(), version: int) -> Assignment:
    """反馈: the department reports what it did, with after-photos. The lead's reply (and every assisting
    department's reply or release) ends the department phase and hands the ticket to verification."""
    reply = clean_text(reply, field="reply", label=_("the reply"), max_length=4000)
    cleaned = _clean_all(photos)
    with transaction.atomic():
        t = _lock(assignment.ticket, version)
        a = _lock_assignment(assignment, by)
        _check(a.answer, by)
        before = t.state
        now = timezone.now()
        a.answer()
        a.reply, a.replied_at, a.next_scan_at = reply, now, None
        a.save(update_fields=["state", "reply", "replied_at", "next_scan_at"])
        _save_photos(t, cleaned, kind=TicketPhoto.Kind.AFTER, by=by, assignment=a)
        fields = _maybe_finish_department_phase(t, by)
        _refresh_ticket_light(t)
        _record(t, by=by, action="replied", from_state=before, note=reply, fields=[*fields, "light"],
                data={"assignment": a.pk, "department": a.department.name, "role": a.role, "photos": len(cleaned),
                      "verifier": t.verifier_id if fields else None})
    a.ticket = t
    return a


@requires("tickets.dispatch")
def ticket_release(*, assignment: Assignment, by: User, note: str = "", version: int) -> Assignment:
    """Release an assisting department whose help is no longer needed."""
    with transaction.atomic():
        t = _lock(assignment.ticket, version)
        a = _lock_assignment(assignment, by)
        if a.role != Assignment.Role.ASSIST:
            raise ValidationError(_("Only an assisting department can be released; return the ticket instead."))
        _check(a.release, by)
        before = t.state
        a.release()
        a.next_scan_at = None
        a.save(update_fields=["state", "next_scan_at"])
        fields = _maybe_finish_department_phase(t, by)
        _refresh_ticket_light(t)
        _record(t, by=by, action="released", from_state=before, note=note, fields=[*fields, "light"],
                data={"assignment": a.pk, "department": a.department.name}, department_ids=[a.department_id])
    return a
