"""An alert's evidence as a person reads it: local times to the minute, and the hotline contacts it cites as links
to the tickets they became (read through the hotline's public selectors)."""

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from org.permissions import can
from hotline.selectors import contacts_by_ids


@dataclass(frozen=True)
class Part:
    text: str
    url: str = ""


def local_time(value) -> str | None:
    """"2026-11-20T02:13:45.123456+00:00" → "2026-11-20 10:13" in the site's zone; None if it is not a timestamp."""
    moment = value if isinstance(value, dt.datetime) else parse_datetime(value) if isinstance(value, str) and "T" in value else None
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.timezone.utc)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _ticket_url(ticket_id, user) -> str:
    return reverse("tickets:console-ticket", args=[ticket_id]) if ticket_id and can(user, "tickets.read") else ""


def readable(evidence: dict, user, labels: dict) -> list[tuple[str, list[Part]]]:
    """(label, parts) for each piece of evidence; a part with a url is shown as a link."""
    contact_ids = []
    if isinstance(evidence.get("contact"), int):
        contact_ids.append(evidence["contact"])
    for item in evidence.get("contacts") or []:
        if isinstance(item, dict) and isinstance(item.get("id"), int):
            contact_ids.append(item["id"])
    contacts = {c.pk: c for c in contacts_by_ids(user, contact_ids)} if contact_ids else {}

    def contact_part(pk, at=None, excerpt="") -> Part:
        c = contacts.get(pk)
        when = local_time(at) or (local_time(c.created_at) if c else None) or ""
        text = " ".join(x for x in (when, excerpt or (c.content[:40] if c else "")) if x) or _("contact %(id)s") % {"id": pk}
        if c is not None and c.ticket_id:
            return Part(f"{text} → {c.ticket.number}", _ticket_url(c.ticket_id, user))
        return Part(text)

    out = []
    for key, value in evidence.items():
        if key == "points" or value in (None, "", []):
            continue
        if key == "contact" and isinstance(value, int):
            parts = [contact_part(value)]
        elif key == "contacts" and isinstance(value, list):
            parts = [contact_part(i.get("id"), i.get("at"), i.get("excerpt", "")) if isinstance(i, dict) else Part(str(i)) for i in value]
        elif isinstance(value, list):
            parts = [Part(", ".join(str(local_time(v) or v) for v in item.values()) if isinstance(item, dict) else str(local_time(item) or item))
                     for item in value]
        elif isinstance(value, dict):
            parts = [Part(", ".join(f"{k}={local_time(v) or v}" for k, v in value.items()))]
        elif isinstance(value, bool):
            parts = [Part(_("yes") if value else _("no"))]
        else:
            parts = [Part(str(local_time(value) or value))]
        out.append((labels.get(key, key), parts))
    return out
