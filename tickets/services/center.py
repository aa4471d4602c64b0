"""The center's steps: open (立案) or not, dispatch (派遣, 吹哨报到), urge (督办), escalate (升级), merge (合并)."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Department, Region, User
from org.permissions import requires

from ..models import Assignment, Light, State, Ticket
from .base import TransitionRefused, lock_tickets, _lock, _check, _record, clean_text, _limits, _warn_at, _plan


@requires("tickets.open")
def ticket_open(*, ticket: Ticket, by: User, note: str = "", version: int) -> Ticket:
    """立案."""
    with transaction.atomic():
        t = _lock(ticket, version)
        _check(t.open_case, by)
        before = t.state
        t.open_case()
        _record(t, by=by, action="opened", from_state=before, note=note, fields=["state"], department_ids=())
    return t


@requires("tickets.cancel")
def ticket_cancel(*, ticket: Ticket, by: User, reason: str, version: int) -> Ticket:
    """不予立案: a new case that is no case (duplicate call, out of remit, not verifiable)."""
    reason = clean_text(reason, field="reason", label=_("the reason"))
    with transaction.atomic():
        t = _lock(ticket, version)
        _check(t.reject, by)
        before = t.state
        t.reject()
        t.closed_at = timezone.now()
        _record(t, by=by, action="cancelled", from_state=before, note=reason, fields=["state", "closed_at"], department_ids=())
    return t


@requires("tickets.dispatch")
def ticket_dispatch(
    *,
    ticket: Ticket,
    by: User,
    lead: Department,
    assisting: Sequence[Department] = (),
    note: str = "",
    version: int,
) -> Ticket:
    """派遣 to a lead department and optional assisting ones (吹哨报到: several at once)."""
    departments = [lead, *assisting]
    if lead is None:
        raise ValidationError({"lead": _("Choose the lead department.")})
    if len({d.pk for d in departments}) != len(departments):
        raise ValidationError({"assisting": _("A department can have only one share of a ticket.")})
    if any(not d.is_active for d in departments):
        raise ValidationError({"lead": _("One of the chosen departments is not active.")})
    with transaction.atomic():
        t = _lock(ticket, version)
        _check(t.dispatch, by)
        _require_reachable(t, lead=lead, departments=departments)
        before = t.state
        now = timezone.now()
        sign_unit, sign_due, handle_unit, handle_due = _limits(t, now)
        # earlier shares of this ticket (before a return) stay in the record; only the new ones count
        made = []
        for department in departments:
            a = Assignment(
                ticket=t, department=department,
                role=Assignment.Role.LEAD if department.pk == lead.pk else Assignment.Role.ASSIST,
                dispatched_at=now, dispatched_by=by, sign_due_at=sign_due, sign_unit=sign_unit,
                handle_due_at=handle_due, handle_unit=handle_unit, warn_at=_warn_at(now, sign_due, sign_unit),
            )
            _plan(a, now)
            made.append(a)
        Assignment.objects.bulk_create(made)
        t.dispatch()
        t.dispatched_at = now
        t.due_at = handle_due
        t.light = Light.GREEN
        _record(
            t, by=by, action="dispatched", from_state=before, note=note,
            fields=["state", "dispatched_at", "due_at", "light"],
            data={"lead": lead.pk, "lead_name": lead.name, "assisting": [d.pk for d in assisting],
                  "sign_due_at": sign_due.isoformat(), "handle_due_at": handle_due.isoformat()},
            department_ids=[d.pk for d in departments],
        )
    return t


def _require_reachable(t: Ticket, *, lead: Department, departments: Sequence[Department]) -> None:
    """The console's rule for every caller: a center dispatches to the departments of its own region and of
    the regions above it (selectors.center_departments), never to another district's or town's."""
    codes = [code for code in t.center.path.split("/") if code]
    reachable = set(
        Department.objects.filter(pk__in=[d.pk for d in departments], region__code__in=codes).values_list("pk", flat=True)
    )
    for department in departments:
        if department.pk not in reachable:
            raise ValidationError({
                "lead" if department.pk == lead.pk else "assisting": _(
                    "%(department)s is not among the departments %(center)s may dispatch to "
                    "(those of its own region and of the regions above it)."
                ) % {"department": department.name, "center": t.center.name}
            })


@requires("tickets.urge")
def ticket_urge(*, ticket: Ticket, by: User | None, note: str = "", version: int) -> Ticket:
    """督办: a reminder to the departments now handling it (by None: the deadline scanner)."""
    with transaction.atomic():
        t = _lock(ticket, version)
        _check(t.urge, by)
        now = timezone.now()
        Assignment.objects.filter(ticket=t, state__in=Assignment.ACTIVE).update(urged_at=now)
        t.urge()
        t.urge_count += 1
        _record(t, by=by, action="urged", from_state=t.state, note=note, fields=["urge_count"], data={"automatic": by is None})
    return t


@requires("tickets.escalate")
def ticket_escalate(*, ticket: Ticket, by: User | None, note: str = "", version: int) -> Ticket:
    """升级: the next level's center becomes responsible."""
    with transaction.atomic():
        t = _lock(ticket, version)
        _check(t.escalate, by)
        _escalate_locked(t, by=by, note=note)
    return t


def _escalate_locked(t: Ticket, *, by, note: str, department_ids=None) -> None:
    center = t.center
    if center.parent_id is None:
        raise TransitionRefused(_("The ticket is already at the city center; it cannot go higher."))
    parent = Region.objects.only("id", "code", "level", "parent_id").get(pk=center.parent_id)
    t.escalate()
    t.center, t.level = parent, parent.level
    t.escalation_count += 1
    _record(t, by=by, action="escalated", from_state=t.state, note=note,
            fields=["center", "level", "escalation_count"],
            data={"from_center": center.code, "to_center": parent.code, "automatic": by is None},
            department_ids=department_ids)


@requires("tickets.merge")
def ticket_merge(*, ticket: Ticket, into: Ticket, by: User, note: str = "", version: int) -> Ticket:
    """合并: `ticket` is a duplicate of `into`, which carries on."""
    if into.pk == ticket.pk:
        raise ValidationError({"into": _("A ticket cannot be merged into itself.")})
    with transaction.atomic():
        lock_tickets([ticket.pk, into.pk])  # two tickets: both in id order (docs/locking.md)
        t = _lock(ticket, version)
        target = Ticket.objects.get(pk=into.pk)
        if target.state in (State.MERGED, State.CANCELLED):
            raise ValidationError({"into": _("The ticket to merge into is itself merged or cancelled.")})
        _check(t.merge, by)
        before = t.state
        t.merge()
        t.duplicate_of, t.closed_at = target, timezone.now()
        _record(t, by=by, action="merged", from_state=before, note=note, fields=["state", "duplicate_of", "closed_at"],
                data={"into": target.pk, "into_number": target.number}, department_ids=())
    return t
