"""The deadline scanner's handler for assignments: lights, automatic urge and escalation, set-based per batch."""

import datetime as dt
from collections.abc import Sequence
from types import SimpleNamespace

from django.db import connection
from django.utils.translation import gettext as _

from org.models import Region
from realtime.services import outbox_write

from ..models import Assignment, State, Ticket, TicketEvent
from .base import LIGHT_ORDER, lock_tickets, ticket_payload, _check, _escalate_at, _plan


def assignment_deadline_reached(assignment: Assignment, now: dt.datetime) -> None:
    """One claimed row (the scanner's fallback when a batch fails; the scanner hands it over freshly read)."""
    assignments_deadline_batch([assignment], now)


def assignments_deadline_batch(rows: Sequence[Assignment], now: dt.datetime) -> None:
    """Called by the scanner with the assignment rows and their tickets locked: light, automatic urge, escalation.

    Everything it changes is written in the scanner's transaction (set-based: a few statements per
    batch), so a killed scanner changes nothing and a second scanner skips the locked rows: an urge
    or escalation happens exactly once."""
    # the scanner claimed these tickets before their rows (docs/locking.md); locking again does not wait and
    # reads each ticket as the rows handled before it in this transaction left it
    tickets = lock_tickets({a.ticket_id for a in rows})
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
        urge = now >= due and a.urged_at is None
        escalate = now >= due and a.escalated_at is None and now >= _escalate_at(due)
        if urge:
            a.urged_at = now
        if escalate:
            a.escalated_at = now
        _plan(a, now)
        # the scanner only ever raises a light, so the ticket's worst light is a simple maximum
        t.light = max(t.light, a.light, key=LIGHT_ORDER.__getitem__)
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
    """One UPDATE … FROM unnest(arrays) for many rows (Django's bulk_update builds a CASE per row and
    costs more in Python than the database spends on it). Identifiers are ours; values are parameters,
    one array per column."""
    if not rows:
        return
    arrays = [list(column) for column in zip(*rows)]
    assignments = ", ".join(f"{c} = v.{c}" for c in columns)
    unnest = ", ".join(f"%s::{cast}[]" for cast in ["bigint", *casts])
    sql = f"UPDATE {table} AS t SET {assignments} FROM unnest({unnest}) AS v(id, {', '.join(columns)}) WHERE t.id = v.id"
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)


def _bulk_event(t: Ticket, action: str, note: str, data: dict) -> TicketEvent:
    t.version += 1
    return TicketEvent(ticket=t, actor=None, action=action, from_state=t.state, to_state=t.state, note=note, data=data)
