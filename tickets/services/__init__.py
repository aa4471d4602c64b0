"""Every change to a ticket: lock the row, check version and role, transition, save, timeline row, outbox row.

One module per part of the loop; everything public is importable from `tickets.services`."""

from .base import StaleVersion, TransitionRefused, escalation_grace, ticket_payload
from .center import ticket_cancel, ticket_dispatch, ticket_escalate, ticket_merge, ticket_open, ticket_urge
from .closing import ticket_add_caller, ticket_rate, ticket_reopen, ticket_self_resolve, ticket_verify
from .department import ticket_release, ticket_reply, ticket_sign
from .intake import place, ticket_create
from .requests import ticket_decide, ticket_request, ticket_resume
from .scan import assignment_deadline_reached, assignments_deadline_batch

__all__ = [
    "StaleVersion", "TransitionRefused", "escalation_grace", "ticket_payload",
    "place", "ticket_create",
    "ticket_open", "ticket_cancel", "ticket_dispatch", "ticket_urge", "ticket_escalate", "ticket_merge",
    "ticket_sign", "ticket_reply", "ticket_release",
    "ticket_request", "ticket_decide", "ticket_resume",
    "ticket_verify", "ticket_self_resolve", "ticket_reopen", "ticket_add_caller", "ticket_rate",
    "assignment_deadline_reached", "assignments_deadline_batch",
]
