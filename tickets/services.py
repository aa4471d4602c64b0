"""Every change to a ticket: lock the row, check version and role, transition, save, timeline row, outbox row."""

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from types import SimpleNamespace

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from command_center.org.models import Department, Region, Role, User
from command_center.org.permissions import require
from command_center.realtime.services import outbox_write
from grid.selectors import full_time_worker, grid_at

from . import calendar
from .models import (
    Assignment,
    Category,
    Light,
    Satisfaction,
    Source,
    State,
    Ticket,
    TicketEvent,
    TicketPhoto,
    TicketRequest,
)
from .photos import CleanPhoto, clean_photo

logger = logging.getLogger(__name__)

WARN_FRACTION = 0.8  # the light turns yellow at 80% of the limit


class StaleVersion(Exception):
    """The caller acted on an old version of the ticket; nothing was changed (HTTP 409)."""

    def __init__(self, ticket: Ticket):
        self.current_version = ticket.version
        self.state = ticket.state
        super().__init__(
            _("This ticket was changed by someone else (now version %(v)d, %(state)s). Reload and try again.")
            % {"v": ticket.version, "state": ticket.get_state_display()}
        )


class TransitionRefused(Exception):
    """The step is not possible in the ticket's current state (HTTP 409)."""


# ---------------------------------------------------------------------------------------------- helpers


def ticket_payload(ticket: Ticket) -> dict:
    """What a wall needs to draw or move one marker."""
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "state": ticket.state,
        "light": ticket.light,
        "urgent": ticket.urgent,
        "lon": round(ticket.location.x, 6),
        "lat": round(ticket.location.y, 6),
        "category": ticket.category.name,
        "category_code": ticket.category.code,
        "title": ticket.title,
        "source": ticket.source,
        "level": ticket.level,
        "center": ticket.center.code,
        "regions": [code for code in ticket.region_path.split("/") if code],
        "due_at": ticket.due_at.isoformat() if ticket.due_at else None,
        "version": ticket.version,
    }


def _lock(ticket: Ticket, version: int | None) -> Ticket:
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("category", "center")
        .get(pk=ticket.pk)
    )
    if version is not None and locked.version != int(version):
        raise StaleVersion(locked)
    return locked


def _check(bound_method, by) -> None:
    """The state machine decides whether the step exists now; the action's roles decide who may take it."""
    if not can_proceed(bound_method):
        instance = bound_method.__self__
        raise TransitionRefused(
            _("This step is not possible while the ticket is “%(state)s”.") % {"state": instance.get_state_display()}
        )
    if by is not None and not has_transition_perm(bound_method, by):
        raise PermissionDenied(_("Your role may not do this."))


def _active_department_ids(ticket: Ticket) -> list[int]:
    return list(
        ticket.assignments.filter(state__in=Assignment.ACTIVE).values_list("department_id", flat=True)
    )


def _record(
    ticket: Ticket,
    *,
    by,
    action: str,
    from_state: str,
    fields: Sequence[str] = (),
    note: str = "",
    data: dict | None = None,
    department_ids: Iterable[int] | None = None,
    saved: bool = False,
) -> TicketEvent:
    """Save the ticket (bumping its version), append the timeline row and write the outbox row.
    `saved`: the caller has just inserted the ticket, so there is nothing to update."""
    if not saved:
        ticket.version += 1
        ticket.save(update_fields=[*dict.fromkeys([*fields, "version"])])
    event = TicketEvent.objects.create(
        ticket=ticket,
        actor=by,
        action=action,
        from_state=from_state,
        to_state=ticket.state,
        note=note,
        data=data or {},
    )
    if department_ids is None:
        department_ids = _active_department_ids(ticket)
    payload = ticket_payload(ticket) | {"action": action, "at": event.at.isoformat()}
    if data:
        payload["detail"] = data
    outbox_write(
        topic=f"ticket.{action}",
        data=payload,
        region=SimpleNamespace(path=ticket.region_path),
        department_ids=list(department_ids),
    )
    return event


def _save_photos(ticket, photos: Iterable[CleanPhoto], *, kind, by, assignment=None) -> list[TicketPhoto]:
    saved = []
    for photo in photos:
        saved.append(
            TicketPhoto.objects.create(
                ticket=ticket, assignment=assignment, kind=kind, image=photo.image, thumbnail=photo.thumbnail,
                width=photo.width, height=photo.height, uploaded_by=by,
            )
        )
    return saved


def _clean_all(uploads) -> list[CleanPhoto]:
    limit = getattr(settings, "TICKETS_MAX_PHOTOS", 6)
    uploads = [u for u in (uploads or ()) if u is not None]
    if len(uploads) > limit:
        raise ValidationError(_("At most %(n)d photos may be attached.") % {"n": limit})
    return [u if isinstance(u, CleanPhoto) else clean_photo(u) for u in uploads]


def _text(value: str, *, field: str, label: str, required: bool = True, max_length: int | None = None) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("Please fill in %(label)s.") % {"label": label}})
    if max_length and len(value) > max_length:
        raise ValidationError({field: _("%(label)s is too long (at most %(n)d characters).") % {"label": label, "n": max_length}})
    return value


# ---------------------------------------------------------------------------------------------- intake


def _next_number(district: Region, day: dt.date) -> str:
    prefix = f"{district.code[:6]}{day:%Y%m%d}"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tickets_numbersequence (prefix, last) VALUES (%s, 1) "
            "ON CONFLICT (prefix) DO UPDATE SET last = tickets_numbersequence.last + 1 RETURNING last",
            [prefix],
        )
        (serial,) = cursor.fetchone()
    return f"{prefix}{serial:05d}"


def place(location: Point) -> tuple:
    """(grid or None, community, message): the grid covering the point, else the nearest community."""
    grid, chain, message = _place_chain(location)
    return grid, chain[Region.Level.COMMUNITY], message


def _place_chain(location: Point) -> tuple:
    """(grid or None, {level: region} from the city down to the community, message) in two queries."""
    grid = grid_at(location)
    message = ""
    if grid is not None:
        path = grid.region_path
    else:
        community = (
            Region.objects.filter(level=Region.Level.COMMUNITY, boundary__isnull=False)
            .annotate(distance=Distance("boundary", location))
            .only("path")
            .order_by("distance")
            .first()
        )
        if community is None:
            raise ValidationError({"location": _("No community is known; load the city's regions first.")})
        path = community.path
    chain = {r.level: r for r in Region.objects.filter(code__in=[c for c in path.split("/") if c]).defer("boundary")}
    if grid is None:
        message = _("The location lies outside every grid; the ticket was placed in the nearest community, %(name)s.") % {
            "name": chain[Region.Level.COMMUNITY].name
        }
    return grid, chain, message


def ticket_create(
    *,
    by: User | None,
    source: str,
    category: Category,
    title: str,
    description: str,
    location: Point,
    address: str = "",
    citizen_name: str = "",
    citizen_phone: str = "",
    urgent: bool = False,
    idempotency_key: str | None = None,
    photos=(),
    occurred_at: dt.datetime | None = None,
) -> Ticket:
    """Take in a problem. `by` None means the system (alerts, imports). The result's `placement_note`
    says when the point lay outside every grid and the nearest community was used."""
    if by is not None:
        require(by, "tickets.create")
    if idempotency_key:
        idempotency_key = idempotency_key.strip()[:80]
        existing = Ticket.objects.filter(created_by=by, idempotency_key=idempotency_key).first()
        if existing is not None:
            existing.placement_note = ""
            existing.replayed = True
            return existing
    if source not in Source.values:
        raise ValidationError({"source": _("Unknown source.")})
    if category is None or category.parent_id is None or not category.is_active:
        raise ValidationError({"category": _("Choose an active small class (小类) as the category.")})
    title = _text(title, field="title", label=_("the title"), max_length=120)
    description = _text(description, field="description", label=_("the description"), required=False, max_length=4000)
    if location is None or not isinstance(location, Point):
        raise ValidationError({"location": _("A location (longitude and latitude) is required.")})
    if location.srid not in (None, 4326):
        location = location.transform(4326, clone=True)
    location.srid = 4326
    if not (-180 <= location.x <= 180 and -90 <= location.y <= 90):
        raise ValidationError({"location": _("The coordinates are not a valid longitude/latitude.")})
    now = timezone.now()
    if occurred_at and occurred_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("The time of the incident lies in the future.")})
    cleaned = _clean_all(photos)
    grid, chain, placement_note = _place_chain(location)
    community, town, district = chain[Region.Level.COMMUNITY], chain[Region.Level.TOWN], chain[Region.Level.DISTRICT]
    try:
        with transaction.atomic():
            ticket = Ticket(
                number=_next_number(district, timezone.localdate(now)),
                source=source,
                category=category,
                title=title,
                description=description,
                location=location,
                address=(address or "").strip()[:200],
                grid=grid,
                community=community,
                town=town,
                district=district,
                region_path=community.path,
                center=town,
                level=town.level,
                reporter=by if by is not None and by.role == Role.GRIDWORKER else None,
                citizen_name=(citizen_name or "").strip()[:50],
                citizen_phone=(citizen_phone or "").strip()[:20],
                urgent=bool(urgent),
                occurred_at=occurred_at or now,
                created_by=by,
                idempotency_key=idempotency_key or None,
            )
            if by is not None and by.role != Role.GRIDWORKER and not citizen_name and not citizen_phone:
                ticket.reporter = by
            ticket.save()
            _save_photos(ticket, cleaned, kind=TicketPhoto.Kind.BEFORE, by=by)
            _record(
                ticket, by=by, action="created", from_state="", note=placement_note,
                data={"source": source, "outside_grid": grid is None}, department_ids=(), saved=True,
            )
    except IntegrityError:
        if idempotency_key:
            existing = Ticket.objects.filter(created_by=by, idempotency_key=idempotency_key).first()
            if existing is not None:
                existing.placement_note = ""
                existing.replayed = True
                return existing
        raise
    ticket.placement_note = placement_note
    ticket.replayed = False
    return ticket


# ---------------------------------------------------------------------------------------------- center steps


def ticket_open(*, ticket: Ticket, by: User, note: str = "", version: int | None = None) -> Ticket:
    """立案."""
    with transaction.atomic():
        t = _lock(ticket, version)
        _check(t.open_case, by)
        before = t.state
        t.open_case()
        _record(t, by=by, action="opened", from_state=before, note=note, fields=["state"], department_ids=())
    return t


def ticket_cancel(*, ticket: Ticket, by: User, reason: str, version: int | None = None) -> Ticket:
    """不予立案: a new case that is no case (duplicate call, out of remit, not verifiable)."""
    reason = _text(reason, field="reason", label=_("the reason"))
    with transaction.atomic():
        t = _lock(ticket, version)
        _check(t.reject, by)
        before = t.state
        t.reject()
        t.closed_at = timezone.now()
        _record(t, by=by, action="cancelled", from_state=before, note=reason, fields=["state", "closed_at"], department_ids=())
    return t


def _limits(ticket: Ticket, start: dt.datetime):
    (sign_amount, sign_unit), (handle_amount, handle_unit) = ticket.category.limits(urgent=ticket.urgent)
    sign_due = calendar.add_working_time(start, sign_amount, sign_unit)
    handle_due = calendar.add_working_time(start, handle_amount, handle_unit)
    return sign_unit, sign_due, handle_unit, handle_due


def _warn_at(start: dt.datetime, due: dt.datetime, unit: str) -> dt.datetime:
    total = calendar.elapsed(start, due, unit)
    return calendar.shift(start, total * WARN_FRACTION, unit)


def escalation_grace():
    return getattr(settings, "TICKETS_ESCALATION_GRACE", (4, "working_hours"))


def _escalate_at(due: dt.datetime, unit: str) -> dt.datetime:
    amount, grace_unit = escalation_grace()
    return calendar.add_working_time(due, amount, grace_unit)


def _plan(a: Assignment, now: dt.datetime) -> None:
    """Set the light and the next moment the scanner must look at this assignment."""
    if not a.is_active or a.paused_at is not None:
        a.next_scan_at = None
        return
    due = a.due_at
    unit = a.sign_unit if a.state == Assignment.State.DISPATCHED else a.handle_unit
    if now >= due:
        a.light = Light.RED
    elif now >= a.warn_at:
        a.light = Light.YELLOW
    else:
        a.light = Light.GREEN
    if a.light == Light.GREEN:
        a.next_scan_at = a.warn_at
    elif a.light == Light.YELLOW or a.urged_at is None:
        a.next_scan_at = due if now < due else now
    elif a.escalated_at is None:
        a.next_scan_at = _escalate_at(due, unit)
    else:
        a.next_scan_at = None


def _refresh_ticket_light(t: Ticket) -> None:
    """The ticket shows the worst light of its active shares."""
    order = {Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}
    lights = list(t.assignments.filter(state__in=Assignment.ACTIVE).values_list("light", flat=True))
    t.light = max(lights, key=order.__getitem__) if lights else Light.GREEN


def ticket_dispatch(
    *,
    ticket: Ticket,
    by: User,
    lead: Department,
    assisting: Sequence[Department] = (),
    note: str = "",
    version: int | None = None,
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


# ---------------------------------------------------------------------------------------------- department steps


def _lock_assignment(assignment: Assignment, by: User) -> Assignment:
    a = Assignment.objects.select_for_update(of=("self",)).select_related("department").get(pk=assignment.pk)
    if by is not None and by.role == Role.DEPARTMENT_STAFF and by.department_id != a.department_id:
        raise PermissionDenied(_("This ticket was not dispatched to your department."))
    return a


def ticket_sign(*, assignment: Assignment, by: User, version: int | None = None) -> Assignment:
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


def ticket_reply(*, assignment: Assignment, by: User, reply: str, photos=(), version: int | None = None) -> Assignment:
    """反馈: the department reports what it did, with after-photos. The lead's reply (and every assisting
    department's reply or release) ends the department phase and hands the ticket to verification."""
    reply = _text(reply, field="reply", label=_("the reply"), max_length=4000)
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


def ticket_release(*, assignment: Assignment, by: User, note: str = "", version: int | None = None) -> Assignment:
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


# ---------------------------------------------------------------------------------------------- requests and decisions


def ticket_request(
    *,
    ticket: Ticket,
    by: User,
    kind: str,
    reason: str,
    assignment: Assignment | None = None,
    extra_days: int | None = None,
    version: int | None = None,
) -> TicketRequest:
    """Ask for an extension (延期), a return (退单), a cancellation (作废) or a suspension (挂账)."""
    require(by, "tickets.request")
    reason = _text(reason, field="reason", label=_("the reason"), max_length=2000)
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
            raise TransitionRefused(
                _("This step is not possible while the ticket is “%(state)s”.") % {"state": t.get_state_display()}
            )
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


def ticket_decide(*, request: TicketRequest, by: User, approve: bool, note: str = "", version: int | None = None) -> TicketRequest:
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


def ticket_resume(*, ticket: Ticket, by: User, note: str = "", version: int | None = None) -> Ticket:
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
            a.warn_at = moved(a.warn_at, a.sign_unit if a.state == Assignment.State.DISPATCHED else a.handle_unit)
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


# ---------------------------------------------------------------------------------------------- urge, escalate, merge


def ticket_urge(*, ticket: Ticket, by: User | None, note: str = "", version: int | None = None) -> Ticket:
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


def ticket_escalate(*, ticket: Ticket, by: User | None, note: str = "", version: int | None = None) -> Ticket:
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


def ticket_merge(*, ticket: Ticket, into: Ticket, by: User, note: str = "", version: int | None = None) -> Ticket:
    """合并: `ticket` is a duplicate of `into`, which carries on."""
    if into.pk == ticket.pk:
        raise ValidationError({"into": _("A ticket cannot be merged into itself.")})
    with transaction.atomic():
        t = _lock(ticket, version)
        target = Ticket.objects.select_for_update().get(pk=into.pk)
        if target.state in (State.MERGED, State.CANCELLED):
            raise ValidationError({"into": _("The ticket to merge into is itself merged or cancelled.")})
        _check(t.merge, by)
        before = t.state
        t.merge()
        t.duplicate_of, t.closed_at = target, timezone.now()
        _record(t, by=by, action="merged", from_state=before, note=note, fields=["state", "duplicate_of", "closed_at"],
                data={"into": target.pk, "into_number": target.number}, department_ids=())
    return t


# ---------------------------------------------------------------------------------------------- verification and after


def ticket_verify(*, ticket: Ticket, by: User, passed: bool, note: str = "", photo=None, version: int) -> Ticket:
    """核查: pass closes the ticket; fail sends it back to the lead department as rework (返工)."""
    cleaned = _clean_all([photo] if photo is not None else [])
    if not passed:
        note = _text(note, field="note", label=_("what is still wrong"), max_length=2000)
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


def ticket_self_resolve(*, ticket: Ticket, by: User, note: str, after_photo) -> Ticket:
    """自行处置: the grid worker fixed it on the spot; closes at grid level with an after-photo."""
    if after_photo is None:
        raise ValidationError({"after_photo": _("A photo after the fix is required.")})
    cleaned = _clean_all([after_photo])
    note = _text(note, field="note", label=_("what was done"), max_length=2000)
    with transaction.atomic():
        t = _lock(ticket, None)
        _check(t.self_resolve, by)
        if t.reporter_id != by.pk and not (t.grid_id and full_time_worker(t.grid) == by):
            raise PermissionDenied(_("Only the reporting grid worker or the grid's worker can resolve this on the spot."))
        before = t.state
        _save_photos(t, cleaned, kind=TicketPhoto.Kind.AFTER, by=by)
        t.self_resolve()
        t.closed_at = timezone.now()
        _record(t, by=by, action="self_resolved", from_state=before, note=note, fields=["state", "closed_at"], department_ids=())
    return t


def ticket_reopen(*, ticket: Ticket, by: User, note: str, version: int | None = None) -> Ticket:
    """The citizen is not satisfied: the case goes back to the dispatcher to be dispatched again."""
    note = _text(note, field="note", label=_("the reason"), max_length=2000)
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


def ticket_add_caller(*, ticket: Ticket, by: User | None, note: str = "") -> Ticket:
    """Another citizen reports the same open matter (hotline linking): a timeline row, no new ticket.
    Raises TransitionRefused when the ticket is no longer open."""
    if by is not None:
        require(by, "tickets.add_caller")
    with transaction.atomic():
        t = _lock(ticket, None)
        if not t.is_open:
            raise TransitionRefused(
                _("This step is not possible while the ticket is “%(state)s”.") % {"state": t.get_state_display()}
            )
        t.caller_count += 1
        _record(t, by=by, action="caller_added", from_state=t.state, note=note, fields=["caller_count"],
                data={"automatic": by is None, "callers": t.caller_count})
    return t


def ticket_rate(*, ticket: Ticket, by: User | None, satisfaction: str, note: str = "") -> Ticket:
    """Record the citizen's satisfaction after a return visit (the hotline calls this)."""
    if satisfaction not in Satisfaction.values:
        raise ValidationError({"satisfaction": _("Unknown satisfaction level.")})
    with transaction.atomic():
        t = _lock(ticket, None)
        if t.state != State.CLOSED:
            raise TransitionRefused(_("Only a closed ticket can be rated."))
        t.satisfaction = satisfaction
        _record(t, by=by, action="rated", from_state=t.state, note=note, fields=["satisfaction"],
                data={"satisfaction": satisfaction}, department_ids=())
    return t


# ---------------------------------------------------------------------------------------------- the deadline scanner's handler


def assignment_deadline_reached(assignment: Assignment, now: dt.datetime) -> None:
    """One claimed row (the scanner's fallback when a batch fails)."""
    assignments_deadline_batch([assignment], now)


_ORDER = {Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}


def assignments_deadline_batch(rows: Sequence[Assignment], now: dt.datetime) -> None:
    """Called by the scanner with the assignment rows locked: light, automatic urge, escalation.

    Everything it changes is written in the scanner's transaction (set-based: a few statements per
    batch), so a killed scanner changes nothing and a second scanner skips the locked rows: an urge
    or escalation happens exactly once."""
    tickets = {
        t.pk: t
        for t in Ticket.objects.select_for_update(of=("self",)).select_related("category", "center")
        .filter(pk__in={a.ticket_id for a in rows})
    }
    parents = Region.objects.only("id", "code", "level", "parent_id", "path").in_bulk(
        {t.center.parent_id for t in tickets.values() if t.center.parent_id}
    )
    events: list[TicketEvent] = []
    changed_tickets: dict[int, Ticket] = {}
    escalated: set[int] = set()
    for a in rows:
        t = tickets[a.ticket_id]
        if not a.is_active or a.paused_at is not None or not t.is_open or t.state == State.SUSPENDED:
            a.next_scan_at = None
            continue
        old_light = a.light
        due = a.due_at
        unit = a.sign_unit if a.state == Assignment.State.DISPATCHED else a.handle_unit
        urge = now >= due and a.urged_at is None
        escalate = now >= due and a.escalated_at is None and now >= _escalate_at(due, unit)
        if urge:
            a.urged_at = now
        if escalate:
            a.escalated_at = now
        _plan(a, now)
        # the scanner only ever raises a light, so the ticket's worst light is a simple maximum
        t.light = max(t.light, a.light, key=_ORDER.__getitem__)
        base = {"assignment": a.pk, "department": a.department_id, "automatic": True}
        if urge:
            t.urge_count += 1
            events.append(_bulk_event(t, "urged", _("Automatic urge: the deadline has passed."), base | {"phase": a.state}))
        elif a.light != old_light:
            events.append(_bulk_event(t, "light", "", base | {"light": a.light}))
        if escalate and t.pk in escalated and t.center.parent_id:
            escalate = False  # another late share of this ticket escalated it in this batch: once is enough
        if escalate and t.center.parent_id in parents:
            escalated.add(t.pk)
            parent = parents[t.center.parent_id]
            _check(t.escalate, None)
            t.escalate()
            events.append(_bulk_event(t, "escalated", _("Automatic escalation: overdue beyond the grace period."),
                                      base | {"from_center": t.center.code, "to_center": parent.code}))
            t.center, t.level = parent, parent.level
            t.escalation_count += 1
        if urge or escalate or a.light != old_light:
            changed_tickets[t.pk] = t
    _update_values(
        "tickets_assignment", ["light", "urged_at", "escalated_at", "next_scan_at"],
        [(a.pk, a.light, a.urged_at, a.escalated_at, a.next_scan_at) for a in rows],
        casts=["varchar", "timestamptz", "timestamptz", "timestamptz"],
    )
    if escalated:
        # the ticket's other late shares must not move it up again for the same lateness
        Assignment.objects.filter(ticket_id__in=escalated, state__in=Assignment.ACTIVE, escalated_at__isnull=True).exclude(
            pk__in=[a.pk for a in rows]
        ).update(escalated_at=now)
    if not changed_tickets:
        return
    _update_values(
        "tickets_ticket", ["light", "urge_count", "center_id", "level", "escalation_count", "version"],
        [(t.pk, t.light, t.urge_count, t.center_id, t.level, t.escalation_count, t.version) for t in changed_tickets.values()],
        casts=["varchar", "int", "bigint", "int", "int", "int"],
    )
    TicketEvent.objects.bulk_create(events)
    # one outbox row per community and batch: {"events": [...]} with the same payload as single events
    by_region: dict[str, list] = {}
    for event in events:
        t = changed_tickets[event.ticket_id]
        payload = ticket_payload(t) | {"action": event.action, "at": event.at.isoformat(), "detail": event.data}
        by_region.setdefault(t.region_path, []).append(payload)
    for path, payloads in by_region.items():
        outbox_write(
            topic="ticket.batch", data={"events": payloads}, region=SimpleNamespace(path=path),
            department_ids=sorted({p["detail"]["department"] for p in payloads}),
        )


def _update_values(table: str, columns: list[str], rows: list[tuple], *, casts: list[str]) -> None:
    """One UPDATE … FROM (VALUES …) for many rows (Django's bulk_update builds a CASE per row and
    costs more in Python than the database spends on it). Identifiers are ours; values are parameters."""
    from psycopg2.extras import execute_values

    assignments = ", ".join(f"{c} = v.{c}::{cast}" for c, cast in zip(columns, casts))
    sql = f"UPDATE {table} AS t SET {assignments} FROM (VALUES %s) AS v(id, {', '.join(columns)}) WHERE t.id = v.id"
    with connection.cursor() as cursor:
        execute_values(cursor.cursor, sql, rows, page_size=1000)


def _bulk_event(t: Ticket, action: str, note: str, data: dict) -> TicketEvent:
    t.version += 1
    return TicketEvent(ticket=t, actor=None, action=action, from_state=t.state, to_state=t.state, note=note, data=data)
