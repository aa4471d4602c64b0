"""Shared by every ticket service: errors, locking, the role check, the timeline + outbox record, timing."""

import datetime as dt
from collections.abc import Iterable, Sequence
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from org.exceptions import Conflict
from org.models import Region
from realtime.services import outbox_write

from .. import calendar, selectors
from ..models import Assignment, Category, Light, Ticket, TicketEvent, TicketPhoto
from ..photos import CleanPhoto, clean_photo


WARN_FRACTION = 0.8  # the light turns yellow at 80% of the limit
LIGHT_ORDER = {Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}  # worst light wins
NOTE_MAX_LENGTH = 2000  # characters of a timeline note, reply or reason


class StaleVersion(Conflict):
    """The caller acted on an old version of the ticket; nothing was changed (HTTP 409)."""

    def __init__(self, ticket: Ticket):
        self.current_version = ticket.version
        self.state = ticket.state
        super().__init__(
            _("This ticket was changed by someone else (now version %(v)d, %(state)s). Reload and try again.")
            % {"v": ticket.version, "state": ticket.get_state_display()},
            current={"version": ticket.version, "state": ticket.state},
        )


class TransitionRefused(Conflict):
    """The step is not possible in the ticket's current state (HTTP 409)."""

    @classmethod
    def in_state(cls, ticket: Ticket) -> "TransitionRefused":
        return cls(_("This step is not possible while the ticket is “%(state)s”.") % {"state": ticket.get_state_display()})

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
        "grid": ticket.grid_id,
        "due_at": ticket.due_at.isoformat() if ticket.due_at else None,
        "version": ticket.version,
    }


def lock_tickets(ids) -> dict[int, Ticket]:
    """Lock tickets FOR UPDATE, the rows alone and in id order (docs/locking.md), then load them with their
    category and center as they are now. A join in the locking query would be re-checked by PostgreSQL after a
    wait: a concurrent escalation changes the center, the joined row no longer matches and the ticket silently
    drops out of the result."""
    ids = sorted(set(ids))
    locked = list(Ticket.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    return Ticket.objects.select_related("category", "center").in_bulk(locked)


def _lock(ticket: Ticket, version: int) -> Ticket:
    """The ticket locked for a person's step, which must name the version it acted on (a stale one is a 409)."""
    if version is None:  # a form or a request without its version would otherwise skip the check silently
        raise ValidationError({"version": _("The version you acted on is missing; reload the page and try again.")})
    locked = _lock_as_is(ticket)
    if locked.version != int(version):
        raise StaleVersion(locked)
    return locked


def _lock_as_is(ticket: Ticket) -> Ticket:
    """The ticket locked as it is now (the first lock of every step: docs/locking.md): the row alone FOR UPDATE
    (see lock_tickets), its category from this process's copy (org.cache.per_process, forgotten when a category
    is saved) and its center read fresh. Used directly only by steps no stale screen can contradict: another
    caller about the same matter, a citizen's rating, a grid worker's fix on the spot of the ticket just made."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    locked.category = selectors.category(locked.category_id) or Category.objects.get(pk=locked.category_id)
    locked.center = _center(locked.center_id)
    return locked


def _center(pk) -> Region:
    return Region.objects.defer("boundary").get(pk=pk)


def _check(bound_method, by) -> None:
    """The state machine decides whether the step exists now; the action's roles decide who may take it."""
    if not can_proceed(bound_method):
        raise TransitionRefused.in_state(bound_method.__self__)
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
    if len(note) > NOTE_MAX_LENGTH:  # the timeline is kept forever: a note is a few sentences, not a document
        raise ValidationError(_("A note may be at most %(max)d characters.") % {"max": NOTE_MAX_LENGTH})
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


def clean_text(value: str, *, field: str, label: str, required: bool = True, max_length: int | None = None) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("Please fill in %(label)s.") % {"label": label}})
    if max_length and len(value) > max_length:
        raise ValidationError({field: _("%(label)s is too long (at most %(n)d characters).") % {"label": label, "n": max_length}})
    return value


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


def _escalate_at(due: dt.datetime) -> dt.datetime:
    amount, grace_unit = escalation_grace()
    return calendar.add_working_time(due, amount, grace_unit)


def _plan(a: Assignment, now: dt.datetime) -> None:
    """Set the light and the next moment the scanner must look at this assignment."""
    if not a.is_active or a.paused_at is not None:
        a.next_scan_at = None
        return
    due = a.due_at
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
        a.next_scan_at = _escalate_at(due)
    else:
        a.next_scan_at = None


def _refresh_ticket_light(t: Ticket) -> None:
    """The ticket shows the worst light of its active shares."""
    lights = list(t.assignments.filter(state__in=Assignment.ACTIVE).values_list("light", flat=True))
    t.light = max(lights, key=LIGHT_ORDER.__getitem__) if lights else Light.GREEN
