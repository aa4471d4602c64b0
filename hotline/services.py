"""Writes of the hotline: take a contact (direct resolution, link to an existing ticket, new ticket), the
knowledge base, and return visits. Each validates everything before it writes, then writes in one
transaction with its outbox row."""

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

from django.contrib.gis.geos import Point
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from org.cache import per_process
from org.exceptions import Conflict
from org.models import Region, Role, User
from org.permissions import can, require, visible
from realtime.services import outbox_write
from tickets import calendar
from tickets import services as ticket_services
from tickets.models import Category, Satisfaction, Source, Ticket, TimeUnit
from tickets.services.base import clean_text

from . import signals, text
from .models import (
    Channel,
    Contact,
    ContactTimeLimit,
    ContactType,
    KnowledgeArticle,
    Open311Client,
    Open311Service,
    Outcome,
    ReturnVisit,
)

DEFAULT_LIMITS = {
    ContactType.CONSULT: (Decimal(2), TimeUnit.WORKING_DAYS),
    ContactType.HELP: (Decimal(10), TimeUnit.WORKING_DAYS),
    ContactType.SUGGESTION: (Decimal(10), TimeUnit.WORKING_DAYS),
    ContactType.COMPLAINT: (Decimal(15), TimeUnit.WORKING_DAYS),
    ContactType.REPORT: (Decimal(15), TimeUnit.WORKING_DAYS),
    ContactType.PRAISE: (Decimal(5), TimeUnit.WORKING_DAYS),
    ContactTimeLimit.URGENT: (Decimal(0), ContactTimeLimit.SAME_DAY),
}
REPEAT_WINDOW = dt.timedelta(days=30)  # a caller who called within this window is a repeat caller (重复来电)
VISIT_LIMIT = (1, TimeUnit.WORKING_DAYS)  # return visit due within one working day of closing
_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")


class NotPossible(Conflict):
    """The step does not apply in the record's current state (HTTP 409)."""


# ---------------------------------------------------------------------------------------------- helpers


def end_of_working_day(moment: dt.datetime) -> dt.datetime:
    """The end of today's working hours; after hours or on a day off, the end of the next working day."""
    local = timezone.localtime(moment)
    periods = calendar.working_periods()
    day = local.date()
    for _ in range(30):
        if calendar.is_workday(day):
            end = dt.datetime.combine(day, periods[-1][1], local.tzinfo)
            if end > local:
                return end
        day += dt.timedelta(days=1)
    return local + dt.timedelta(hours=24)


TIME_LIMITS_KEY = "hotline:time_limits"


def contact_limit(contact_type: str, *, urgent: bool) -> tuple[Decimal, str]:
    """The configured limit (this process's copy of the small table, org.cache), else the default."""
    key = ContactTimeLimit.URGENT if urgent else contact_type
    limits = per_process(TIME_LIMITS_KEY, lambda: {k: (a, u) for k, a, u in ContactTimeLimit.objects.values_list("key", "amount", "unit")})
    return limits.get(key) or DEFAULT_LIMITS[key]


def contact_due_at(contact_type: str, *, urgent: bool, start: dt.datetime) -> dt.datetime:
    amount, unit = contact_limit(contact_type, urgent=urgent)
    if unit == ContactTimeLimit.SAME_DAY:
        return end_of_working_day(start)
    return calendar.add_working_time(start, amount, unit)


def clean_phone(phone: str) -> str:
    phone = (phone or "").strip()
    if phone and not _PHONE.match(phone):
        raise ValidationError({"caller_phone": _("The phone number may contain only digits (5 to 20).")})
    return re.sub(r"[\- ]", "", phone)


def _contact_payload(contact: Contact) -> dict:
    return {
        "id": contact.pk, "channel": contact.channel, "type": contact.type, "outcome": contact.outcome,
        "ticket": contact.ticket_id, "category": contact.category_id, "urgent": contact.urgent,
        "at": contact.created_at.isoformat(),
    }


def _existing(*, by, client, key):
    if not key:
        return None
    if client is not None:
        found = Contact.objects.filter(open311_client=client, idempotency_key=key).first()
    else:
        found = Contact.objects.filter(agent=by, idempotency_key=key).first()
    if found is not None:
        found.replayed = True
    return found


# ---------------------------------------------------------------------------------------------- contacts


def contact_create(
    *,
    by: User | None,
    channel: str,
    type: str,
    content: str,
    outcome: str,
    caller_name: str = "",
    caller_phone: str = "",
    address: str = "",
    location: Point | None = None,
    urgent: bool = False,
    category: Category | None = None,
    title: str = "",
    article: KnowledgeArticle | None = None,
    answer: str = "",
    link_to: Ticket | None = None,
    idempotency_key: str | None = None,
    open311_client: Open311Client | None = None,
    open311_service: Open311Service | None = None,
    attributes: dict | None = None,
) -> Contact:
    """Take one contact and settle it one of three ways:

    - direct: answered on the spot (直接办结), from a knowledge article or with a written answer;
    - linked: the same matter as an open ticket — the ticket gains a caller and its departments hear of it;
    - new_ticket: a new hotline ticket with the category the agent chose.

    `by` is the agent; None with `open311_client` for requests from Open311 clients."""
    if open311_client is None:
        require(by, "hotline.take")
    # A retried key is caught by the contact's unique constraints when it is saved (the except below):
    # no lookup before the first attempt. The transaction rolls back whatever the retry did meanwhile.
    key = (idempotency_key or "").strip() or None  # its form was checked where it entered (org.inputs)
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    if type not in ContactType.values:
        raise ValidationError({"type": _("Unknown contact type.")})
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Choose how the contact is settled: answered on the spot, linked, or a new ticket.")})
    content = clean_text(content, field="content", label=_("what the caller says"), required=True, max_length=4000)
    caller_name = clean_text(caller_name, field="caller_name", label=_("the caller's name"), required=False, max_length=50)
    caller_phone = clean_phone(caller_phone)
    address = clean_text(address, field="address", label=_("the address"), required=False, max_length=200)
    location = ticket_services.check_location(location)
    answer = clean_text(answer, field="answer", label=_("the answer"), required=False, max_length=4000)
    if category is not None and (category.parent_id is None or not category.is_active):
        raise ValidationError({"category": _("Choose an active small class (小类) as the category.")})
    now = timezone.now()
    if outcome == Outcome.DIRECT:
        if article is None and not answer:
            raise ValidationError({"article": _("Answer from a knowledge article, or write the answer given.")})
        if article is not None and not _article_valid(article, timezone.localdate(now)):
            raise ValidationError({"article": _("This knowledge article is not valid today.")})
        if urgent:
            raise ValidationError({"urgent": _("An urgent matter cannot be closed on the spot; create a ticket.")})
    elif outcome == Outcome.LINKED:
        if link_to is None:
            raise ValidationError({"link_to": _("Choose the ticket this contact is about.")})
        if by is not None and not visible(Ticket.objects.filter(pk=link_to.pk), by).exists():
            raise ValidationError({"link_to": _("Not found, or not within your scope.")})
    else:
        if category is None:
            raise ValidationError({"category": _("Choose the category of the new ticket.")})
        if location is None:
            raise ValidationError({"location": _("Locate the address (or place the pin) before creating a ticket.")})
    title = clean_text(title, field="title", label=_("the title"), required=False, max_length=120) or _title_from(content)
    repeat = bool(caller_phone) and Contact.objects.filter(caller_phone=caller_phone, created_at__gte=now - REPEAT_WINDOW).exists()
    source = Source.OPEN311 if channel == Channel.OPEN311 else Source.HOTLINE
    try:
        with transaction.atomic():
            contact = Contact(
                channel=channel, type=type, caller_name=caller_name, caller_phone=caller_phone, content=content,
                address=address, location=location, category=category, urgent=bool(urgent), agent=by,
                open311_client=open311_client, open311_service=open311_service, attributes=attributes or {},
                outcome=outcome, answer=answer, is_repeat=repeat, idempotency_key=key,
                due_at=contact_due_at(type, urgent=bool(urgent), start=now),
            )
            if outcome == Outcome.DIRECT:
                contact.article = article
                contact.closed_at = now
                if article is not None:
                    KnowledgeArticle.objects.filter(pk=article.pk).update(used_count=F("used_count") + 1)
            elif outcome == Outcome.LINKED:
                try:
                    contact.ticket = ticket_services.ticket_add_caller(
                        ticket=link_to, by=by,
                        note=_("Another caller about the same matter (%(channel)s): %(content)s")
                        % {"channel": Channel(channel).label, "content": content[:200]},
                    )
                except ticket_services.TransitionRefused as exc:
                    replay = _existing(by=by, client=open311_client, key=key)
                    if replay is not None:  # a retry of a contact taken before the ticket closed
                        return replay
                    raise NotPossible(_("The ticket was closed meanwhile; create a new ticket instead.")) from exc
            else:
                contact.ticket = ticket_services.ticket_create(
                    by=by, source=source, category=category, title=title, description=content, location=location,
                    address=address, citizen_name=caller_name, citizen_phone=caller_phone, urgent=bool(urgent),
                    idempotency_key=f"hotline:{key}" if key and by is not None else None,
                )
            _place_contact(contact, by)
            contact.save()
            outbox_write(topic="hotline.contact", data=_contact_payload(contact), region=SimpleNamespace(path=contact.region_path))
            signals.contact_taken.send(sender=Contact, contact=contact)
    except IntegrityError:
        replay = _existing(by=by, client=open311_client, key=key)
        if replay is not None:
            return replay
        raise
    contact.replayed = False
    return contact


TITLE_LENGTH = 24


def _title_from(content: str) -> str:
    """The first clause of the description, whole; a clause longer than a title is cut and ends with "…"."""
    text = content.strip()
    first = re.split(r"[，,；;。！？!?\n]", text, maxsplit=1)[0].strip() or text
    if len(first) <= TITLE_LENGTH:
        return first
    return first[: TITLE_LENGTH - 1] + "…"


def _place_contact(contact: Contact, by) -> None:
    """Grid, community and scope path: the ticket's when there is one, else the point's, else the agent's region."""
    if contact.ticket is not None:
        t = contact.ticket
        contact.grid_id, contact.community_id, contact.region_path = t.grid_id, t.community_id, t.region_path
        return
    if contact.location is not None:
        grid, community, _note = ticket_services.place(contact.location)
        contact.grid, contact.community, contact.region_path = grid, community, community.path
        return
    region = getattr(by, "region", None) if by is not None else None
    if region is None:
        region = Region.objects.filter(level=Region.Level.CITY).order_by("code").first()
    contact.region_path = region.path


# ---------------------------------------------------------------------------------------------- knowledge base


def _article_valid(article: KnowledgeArticle, day: dt.date) -> bool:
    return article.is_active and article.valid_from <= day and (article.valid_until is None or article.valid_until >= day)


def may_edit_articles(user) -> bool:
    """Duty chiefs, and hotline agents given the `hotline.edit_knowledge` permission."""
    if can(user, "hotline.kb_edit"):
        return True
    return bool(user and user.is_authenticated and user.role == Role.HOTLINE_AGENT and user.has_perm("hotline.edit_knowledge"))


def article_save(
    *,
    by: User | None,
    article: KnowledgeArticle | None,
    title: str,
    body: str,
    category: Category | None,
    department,
    valid_from: dt.date,
    valid_until: dt.date | None,
    is_active: bool = True,
    version: int | None = None,  # of the article edited; None creates one
) -> KnowledgeArticle:
    """Create or update an article; its jieba-segmented text feeds the full-text index. `by` None: the demo loader."""
    if by is not None and not may_edit_articles(by):
        raise PermissionDenied(_("Your role may not edit the knowledge base."))
    title = clean_text(title, field="title", label=_("the title"), required=True, max_length=120)
    body = clean_text(body, field="body", label=_("the answer"), required=True, max_length=8000)
    if valid_from is None:
        raise ValidationError({"valid_from": _("Give the first day the article is valid.")})
    if valid_until is not None and valid_until < valid_from:
        raise ValidationError({"valid_until": _("The article cannot end before it starts.")})
    segmented = text.segmented(f"{title} {title} {body}")  # the title counts twice
    with transaction.atomic():
        if article is None:
            a = KnowledgeArticle(created_by=by)
            fields = None
        else:
            a = KnowledgeArticle.objects.select_for_update().get(pk=article.pk)
            if version is not None and a.version != int(version):
                raise NotPossible(_("Someone else changed this article meanwhile. Reload and edit again."))
            a.version += 1
            fields = ["title", "body", "category", "department", "valid_from", "valid_until", "is_active", "segmented",
                      "updated_by", "updated_at", "version"]
        a.title, a.body, a.category, a.department = title, body, category, department
        a.valid_from, a.valid_until, a.is_active = valid_from, valid_until, bool(is_active)
        a.segmented, a.updated_by = segmented, by
        a.save(update_fields=fields)
        KnowledgeArticle.objects.filter(pk=a.pk).update(search_vector=SearchVector(Value(segmented), config="simple"))
        outbox_write(topic="hotline.article", data={"id": a.pk, "title": a.title, "version": a.version})
    return a


# ---------------------------------------------------------------------------------------------- return visits


def return_visit_schedule(*, ticket: Ticket) -> list[ReturnVisit]:
    """A closed ticket that came from the hotline gets a return visit for every citizen who called about it (the
    first contact of each phone number), due within one working day. Called (in the closing transaction) when a
    ticket's state becomes closed; a caller whose visit is still pending is not visited twice."""
    contacts = list(Contact.objects.filter(ticket=ticket).order_by("id"))
    if not contacts and ticket.source not in (Source.HOTLINE, Source.OPEN311):
        return []
    callers: dict[str, Contact] = {}
    for c in contacts:
        callers.setdefault(c.caller_phone or f"contact-{c.pk}", c)
    pending = set(ReturnVisit.objects.filter(ticket=ticket, state=ReturnVisit.State.PENDING).values_list("contact_id", flat=True))
    closed = ticket.closed_at or timezone.now()
    due = calendar.add_working_time(closed, *VISIT_LIMIT)
    visits = []
    for contact in callers.values() or [None]:
        if (contact.pk if contact else None) in pending:
            continue
        visit = ReturnVisit.objects.create(
            ticket=ticket, contact=contact, region_path=ticket.region_path, due_at=due, next_scan_at=due,
        )
        outbox_write(topic="hotline.visit_due", data={"visit": visit.pk, "ticket": ticket.pk, "due_at": due.isoformat()},
                     region=SimpleNamespace(path=ticket.region_path))
        visits.append(visit)
    return visits


def return_visit_overdue(visit: ReturnVisit, now: dt.datetime) -> None:
    """Deadline handler (row locked by the scanner): the visit is late; flag it once and stop scanning it."""
    if visit.state != ReturnVisit.State.PENDING:
        visit.next_scan_at = None
        visit.save(update_fields=["next_scan_at"])
        return
    visit.overdue, visit.next_scan_at = True, None
    visit.save(update_fields=["overdue", "next_scan_at"])
    outbox_write(topic="hotline.visit_overdue", data={"visit": visit.pk, "ticket": visit.ticket_id, "due_at": visit.due_at.isoformat()},
                 region=SimpleNamespace(path=visit.region_path))


def return_visit_record(
    *, visit: ReturnVisit, by: User, satisfaction: str, note: str = "", unsatisfied_to: str = "rework"
) -> ReturnVisit:
    """Record the caller's answer. 不满意 reopens the ticket as rework, or hands the visit to the duty chief."""
    require(by, "hotline.visit")
    if satisfaction not in Satisfaction.values:
        raise ValidationError({"satisfaction": _("Choose satisfied, basically satisfied or unsatisfied.")})
    note = clean_text(note, field="note", label=_("the note"), required=satisfaction == Satisfaction.UNSATISFIED, max_length=2000)
    if satisfaction == Satisfaction.UNSATISFIED and unsatisfied_to not in ("rework", "chief"):
        raise ValidationError({"unsatisfied_to": _("Choose rework or the duty chief.")})
    with transaction.atomic():
        v = ReturnVisit.objects.select_for_update().get(pk=visit.pk)
        if v.state != ReturnVisit.State.PENDING:
            raise NotPossible(_("This return visit has already been recorded."))
        ticket = Ticket.objects.get(pk=v.ticket_id)
        now = timezone.now()
        v.satisfaction, v.note, v.visited_by, v.visited_at, v.next_scan_at = satisfaction, note, by, now, None
        v.state = ReturnVisit.State.DONE
        if satisfaction != Satisfaction.UNSATISFIED:
            ticket_services.ticket_rate(ticket=ticket, by=by, satisfaction=satisfaction, note=note)
        elif unsatisfied_to == "rework":
            v.follow_up = ReturnVisit.FollowUp.REWORK
            _reopen(ticket, by, note)
        else:
            v.follow_up, v.state = ReturnVisit.FollowUp.CHIEF, ReturnVisit.State.WITH_CHIEF
            ticket_services.ticket_rate(ticket=ticket, by=by, satisfaction=satisfaction, note=note)
        v.save(update_fields=["satisfaction", "note", "visited_by", "visited_at", "next_scan_at", "state", "follow_up"])
        outbox_write(topic="hotline.visit_recorded",
                     data={"visit": v.pk, "ticket": v.ticket_id, "satisfaction": satisfaction, "follow_up": v.follow_up},
                     region=SimpleNamespace(path=v.region_path))
    return v


def _reopen(ticket: Ticket, by, note: str) -> None:
    """The visit reopens the ticket as it is now: the citizen's answer, not a screen, decides."""
    try:
        current = Ticket.objects.values_list("version", flat=True).get(pk=ticket.pk)
        ticket_services.ticket_reopen(ticket=ticket, by=by, note=note, version=current)
    except ticket_services.TransitionRefused as exc:
        raise NotPossible(str(exc)) from exc


def return_visit_chief_decide(*, visit: ReturnVisit, by: User, reopen: bool, note: str) -> ReturnVisit:
    """The duty chief settles an unsatisfied visit: reopen the ticket, or close the matter with a reason."""
    require(by, "hotline.chief_decide")
    note = clean_text(note, field="note", label=_("the reason"), required=True, max_length=2000)
    with transaction.atomic():
        v = ReturnVisit.objects.select_for_update().get(pk=visit.pk)
        if v.state != ReturnVisit.State.WITH_CHIEF:
            raise NotPossible(_("This return visit is not waiting for the duty chief."))
        if reopen:
            _reopen(Ticket.objects.get(pk=v.ticket_id), by, note)
        v.follow_up = ReturnVisit.FollowUp.CHIEF_REOPENED if reopen else ReturnVisit.FollowUp.CHIEF_CLOSED
        v.state, v.decided_by = ReturnVisit.State.DONE, by
        v.note = f"{v.note}\n{note}".strip()
        v.save(update_fields=["follow_up", "state", "decided_by", "note"])
        outbox_write(topic="hotline.visit_decided", data={"visit": v.pk, "ticket": v.ticket_id, "follow_up": v.follow_up},
                     region=SimpleNamespace(path=v.region_path))
    return v


def on_ticket_closed(ticket: Ticket) -> None:
    """tickets.hooks.on_closed: a ticket that just closed gets its return visit (same transaction)."""
    return_visit_schedule(ticket=ticket)
