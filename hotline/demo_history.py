"""The hotline's part of the demo city's past: a contact behind every historical hotline ticket, the linked calls
of citizens who called again, questions answered on the spot from the knowledge base, and return visits.

It follows tickets.demo_history (which writes the tickets, their callers and ratings) and writes what
contact_create and the return-visit services would have written, with COPY. Deterministic (seeded per day)
and idempotent (tickets with a contact and days with direct contacts are skipped)."""

import datetime as dt
import random
import uuid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from org.models import User
from tickets import calendar
from tickets.demo_history import HOTLINE_HOURS, KEY_PREFIX, SEED, IdSequence, copy_rows, day_factor
from tickets.models import Source, Ticket, TicketEvent

from .models import Channel, Contact, ContactType, KnowledgeArticle, Outcome, ReturnVisit
from .services import VISIT_LIMIT, contact_due_at

# how citizens reach 12345 (the 7 channels; Open311 tickets come in on their own channel)
CHANNELS = [(Channel.PHONE, 64), (Channel.WECHAT, 13), (Channel.APP, 9), (Channel.WEB, 7), (Channel.POLICE, 4), (Channel.EMAIL, 1)]
TYPES = {"2101": ContactType.HELP, "2102": ContactType.HELP, "0201": ContactType.HELP, "0203": ContactType.HELP,
         "1401": ContactType.HELP}
DIRECT_PER_DAY = 30  # consultations answered from the knowledge base on an ordinary weekday
QUESTIONS = {
    "居住证办理流程": ["请问居住证在哪里办理，需要带什么材料？", "租房住了半年，可以办居住证吗？"],
    "新生儿预防接种预约": ["宝宝刚出生，疫苗在哪里预约？", "新生儿建卡接种要带什么？"],
    "公交线路及末班车时间查询": ["请问到火车站的公交末班车几点？", "公交线路调整在哪里能查到？"],
    "停水通知查询及临时供水": ["我们小区停水了，有没有停水通知？", "停水什么时候恢复？"],
    "停电报修及计划停电查询": ["家里停电了怎么报修？", "明天是不是计划停电？"],
    "夜间施工噪音的规定": ["晚上几点以后不能施工？", "夜间施工需要办什么手续？"],
    "餐饮油烟扰民的处理": ["楼下饭店油烟很大，归谁管？"],
    "路灯不亮报修": ["路灯坏了找哪个部门？"],
}


def _pick(rng, weighted):
    items, weights = zip(*weighted)
    return rng.choices(items, weights=weights)[0]


def _point(ticket_location) -> str:
    return f"SRID=4326;POINT({ticket_location.x:.6f} {ticket_location.y:.6f})"


def load_history(*, days: int, stdout=None, now: dt.datetime | None = None) -> dict:
    if days <= 0:
        return {"contacts": 0}
    now = now or timezone.now()
    agent = User.objects.filter(username="agent").first()
    if agent is None:
        return {"contacts": 0}
    with transaction.atomic():
        ids = IdSequence("hotline_contact")
        contacts, visits = _ticket_contacts(agent, ids, now)
        contacts += _direct_contacts(agent, ids, days, now)
        copy_rows(Contact, contacts)
        visit_ids = IdSequence("hotline_returnvisit")
        for v in visits:
            v["id"] = next(visit_ids)
        copy_rows(ReturnVisit, visits)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE hotline_contact, hotline_returnvisit")
    if stdout:
        stdout.write(f"hotline: {len(contacts)} historical contacts, {len(visits)} return visits")
    return {"contacts": len(contacts), "visits": len(visits)}


def _contact(rng, **values) -> dict:
    row = {
        "channel": Channel.PHONE, "type": ContactType.COMPLAINT, "caller_name": "", "caller_phone": "", "content": "",
        "address": "", "location": None, "grid_id": None, "community_id": None, "region_path": "", "category_id": None,
        "urgent": False, "agent_id": None, "open311_client_id": None, "open311_service_id": None, "attributes": "{}",
        "outcome": Outcome.NEW_TICKET, "ticket_id": None, "article_id": None, "answer": "", "is_repeat": False,
        "closed_at": None, "token": uuid.UUID(int=rng.getrandbits(128), version=4), "idempotency_key": None,
    }
    row.update(values)
    row["due_at"] = contact_due_at(row["type"], urgent=row["urgent"], start=row["created_at"])
    return row


def _ticket_contacts(agent, ids, now) -> tuple[list, list]:
    """One contact per historical hotline ticket (new_ticket), one per later caller (linked), and the visits."""
    tickets = (
        Ticket.objects.filter(idempotency_key__startswith=KEY_PREFIX, source__in=[Source.HOTLINE, Source.OPEN311])
        .exclude(Exists(Contact.objects.filter(ticket=OuterRef("pk"))))
        .select_related("category").order_by("id")
    )
    ids_without_contact = list(tickets.values_list("id", flat=True))
    if not ids_without_contact:  # a second run: every historical ticket has its contact
        return [], []
    tickets = tickets.filter(id__in=ids_without_contact)
    events: dict = {}
    for e in TicketEvent.objects.filter(ticket_id__in=ids_without_contact, action__in=["caller_added", "rated", "closed"]).order_by("id"):
        events.setdefault(e.ticket_id, []).append(e)
    contacts, visits = [], []
    for t in tickets.iterator(chunk_size=2000):
        rng = random.Random(f"{SEED}:contact:{t.number}")
        channel = Channel.OPEN311 if t.source == Source.OPEN311 else _pick(rng, CHANNELS)
        kind = TYPES.get(t.category.code, ContactType.COMPLAINT)
        place = {"grid_id": t.grid_id, "community_id": t.community_id, "region_path": t.region_path, "category_id": t.category_id,
                 "address": t.address, "location": _point(t.location)}
        first = _contact(rng, id=next(ids), channel=channel, type=kind, caller_name=t.citizen_name, caller_phone=t.citizen_phone,
                         content=t.description, urgent=t.urgent, agent_id=agent.pk if channel != Channel.OPEN311 else None,
                         ticket_id=t.pk, created_at=t.created_at, **place)
        contacts.append(first)
        closed_at = None
        for e in events.get(t.pk, []):
            if e.action == "caller_added":
                contacts.append(_contact(
                    rng, id=next(ids), channel=_pick(rng, CHANNELS), type=kind, content=t.description, outcome=Outcome.LINKED,
                    caller_phone=f"13{rng.randrange(10**9):09d}", agent_id=agent.pk, ticket_id=t.pk, created_at=e.at, **place,
                ))
            elif e.action == "closed":
                closed_at = e.at
            elif e.action == "rated" and closed_at is not None:
                visits.append(_visit(t, first, closed_at, agent, rated=e))
                closed_at = None
        if closed_at is not None:  # closed, not (yet) reached for the visit
            visits.append(_visit(t, first, closed_at, agent, rated=None, now=now))
    return contacts, visits


def _visit(t, contact, closed_at, agent, *, rated, now=None) -> dict:
    due = calendar.add_working_time(closed_at, *VISIT_LIMIT)
    row = {"ticket_id": t.pk, "contact_id": contact["id"], "region_path": t.region_path, "due_at": due, "created_at": closed_at,
           "satisfaction": "", "note": "", "follow_up": "", "visited_by_id": None, "visited_at": None, "decided_by_id": None,
           "overdue": False, "next_scan_at": due, "state": ReturnVisit.State.PENDING}
    if rated is not None:
        satisfaction = rated.data["satisfaction"]
        row.update(satisfaction=satisfaction, note=rated.note, visited_by_id=agent.pk, visited_at=rated.at, next_scan_at=None,
                   state=ReturnVisit.State.DONE, overdue=rated.at > due)
        if satisfaction == "unsatisfied":  # to the duty chief, who closed the matter with a reason
            row.update(follow_up=ReturnVisit.FollowUp.CHIEF_CLOSED, note=f"{rated.note}\n已向市民解释处理依据。".strip())
    elif now >= due:  # the scanner flagged it overdue once
        row.update(overdue=True, next_scan_at=None)
    return row


def _direct_contacts(agent, ids, days, now) -> list:
    """Questions answered on the spot (直接办结), along the hotline's hourly curve."""
    articles = list(KnowledgeArticle.objects.filter(is_active=True).order_by("id"))
    if not articles:
        return []
    tz = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate(now)
    done = {key.split(":")[1] for key in Contact.objects.filter(
        agent=agent, idempotency_key__startswith=KEY_PREFIX, outcome=Outcome.DIRECT).values_list("idempotency_key", flat=True)}
    rows = []
    for back in range(days, -1, -1):
        day = today - dt.timedelta(days=back)
        if day.isoformat() in done:
            continue
        rng = random.Random(f"{SEED}:direct:{day.isoformat()}")
        for n in range(max(0, int(rng.gauss(DIRECT_PER_DAY * day_factor(day), 4)))):
            article = rng.choice(articles)
            hour = rng.choices(range(24), weights=HOTLINE_HOURS)[0]
            at = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)), tz)
            if at > now:
                continue
            question = rng.choice(QUESTIONS.get(article.title, [f"咨询{article.title}。"]))
            rows.append(_contact(
                rng, id=next(ids), channel=_pick(rng, CHANNELS), type=ContactType.CONSULT, content=question,
                outcome=Outcome.DIRECT, article_id=article.pk, agent_id=agent.pk, region_path=agent.region.path if agent.region else "",
                created_at=at, closed_at=at + dt.timedelta(minutes=rng.randrange(2, 9)),
                idempotency_key=f"{KEY_PREFIX}{day.isoformat()}:{n}",
            ))
    return rows
