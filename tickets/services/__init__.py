"""Every change to a ticket: lock the row, check version and role, transition, save, timeline row, outbox row.

One module per part of the loop; everything public is importable from `tickets.services`. The steps taken
from here run again when a deadlock or serialization failure rolls them back (org.database), a
few times at most; a conflict that outlasts the retries is a StaleVersion (409) with the ticket as it is now,
never a 500."""

from org.database import retry_transient

from . import center, closing, department, intake, requests
from .base import StaleVersion, TransitionRefused, escalation_grace, ticket_payload
from .intake import check_location, place
from .scan import assignment_deadline_reached, assignments_deadline_batch


def _conflict_outlasted_retries(exc, args, kwargs):
    from ..models import Ticket

    for key in ("ticket", "assignment", "request"):
        target = kwargs.get(key)
        if target is not None:
            pk = target.pk if key == "ticket" else target.ticket_id
            raise StaleVersion(Ticket.objects.select_related("category", "center").get(pk=pk)) from exc


def _retrying(func):
    return retry_transient(func, on_exhausted=_conflict_outlasted_retries)


ticket_create = _retrying(intake.ticket_create)
ticket_open, ticket_cancel, ticket_dispatch, ticket_urge, ticket_escalate, ticket_merge = map(_retrying, (
    center.ticket_open, center.ticket_cancel, center.ticket_dispatch, center.ticket_urge, center.ticket_escalate,
    center.ticket_merge,
))
ticket_add_caller, ticket_rate, ticket_reopen, ticket_self_resolve, ticket_verify = map(_retrying, (
    closing.ticket_add_caller, closing.ticket_rate, closing.ticket_reopen, closing.ticket_self_resolve,
    closing.ticket_verify,
))
ticket_release, ticket_reply, ticket_sign = map(_retrying, (department.ticket_release, department.ticket_reply, department.ticket_sign))
ticket_decide, ticket_request, ticket_resume = map(_retrying, (requests.ticket_decide, requests.ticket_request, requests.ticket_resume))

__all__ = [
    "check_location",
    "StaleVersion", "TransitionRefused", "escalation_grace", "ticket_payload",
    "place", "ticket_create",
    "ticket_open", "ticket_cancel", "ticket_dispatch", "ticket_urge", "ticket_escalate", "ticket_merge",
    "ticket_sign", "ticket_reply", "ticket_release",
    "ticket_request", "ticket_decide", "ticket_resume",
    "ticket_verify", "ticket_self_resolve", "ticket_reopen", "ticket_add_caller", "ticket_rate",
    "assignment_deadline_reached", "assignments_deadline_batch",
]
