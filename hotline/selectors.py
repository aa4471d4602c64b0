"""Reads of the hotline: knowledge suggestions, duplicate candidates, the caller's history, masking, KPIs."""

import datetime as dt
import math
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, Count, ExpressionWrapper, F, FloatField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from rapidfuzz import fuzz

from org.models import Region
from org.permissions import visible
from tickets.models import OPEN_STATES, Assignment, Category, Satisfaction, Ticket
from tickets.selectors import mask_name, mask_phone, may_see_contact

from . import text
from .models import Contact, KnowledgeArticle, Outcome, ReturnVisit

DUPLICATE_RADIUS_M = getattr(settings, "HOTLINE_DUPLICATE_RADIUS_M", 300)
DUPLICATE_DAYS = getattr(settings, "HOTLINE_DUPLICATE_DAYS", 30)
DUPLICATE_MIN_SCORE = 45  # below this a nearby ticket is not worth the agent's attention
STRONG_DUPLICATE_SCORE = 80  # Open311 requests link on their own above this
METRES_PER_DEGREE = 111_320


# ---------------------------------------------------------------------------------------------- masking


def caller_of(contact: Contact, user) -> tuple[str, str]:
    """(name, phone) in full for roles that call citizens back, masked for everyone else."""
    if may_see_contact(user):
        return contact.caller_name, contact.caller_phone
    return mask_name(contact.caller_name), mask_phone(contact.caller_phone)


def contacts_visible_to(user) -> QuerySet[Contact]:
    return visible(Contact.objects.select_related("category", "ticket", "article", "agent"), user)


def contacts_by_ids(user, ids: list[int]) -> QuerySet[Contact]:
    """The contacts among `ids` the user may see (an alert's evidence cites them), with their tickets."""
    return contacts_visible_to(user).filter(pk__in=ids)


def contacts_by_phone(user, phone: str) -> QuerySet[Contact]:
    """Contacts from exactly this number (findable by every role that sees contacts; shown masked where due)."""
    return contacts_visible_to(user).filter(caller_phone=phone).order_by("-id")


# ---------------------------------------------------------------------------------------------- knowledge base


def articles_valid_on(day: dt.date) -> QuerySet[KnowledgeArticle]:
    return KnowledgeArticle.objects.filter(is_active=True, valid_from__lte=day).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day)
    )


def article_search(query: str, *, limit: int = 5, category: Category | None = None, include_invalid: bool = False) -> list[KnowledgeArticle]:
    """Articles matching any of the query's jieba tokens, best rank first (title tokens weigh double)."""
    # single characters (路, 号, 楼…) match almost everything; words carry the meaning
    words = [w for w in dict.fromkeys(text.tokens(query)) if len(w) > 1][:30]
    if not words:
        return []
    search = reduce(or_, [SearchQuery(w, config="simple", search_type="plain") for w in words])
    qs = KnowledgeArticle.objects.all() if include_invalid else articles_valid_on(timezone.localdate())
    qs = qs.filter(search_vector=search).annotate(rank=SearchRank(F("search_vector"), search))
    qs = qs.select_related("category", "department")
    ordering = ["-rank", "-used_count", "id"]
    if category is not None:
        qs = qs.annotate(same=Q(category=category))
        ordering.insert(0, "-same")
    return list(qs.order_by(*ordering)[:limit])


SUGGEST_LIMIT = 3
SAME_CATEGORY_BONUS = 0.6  # the agent's chosen small class says more than any one word
SAME_MAJOR_BONUS = 0.15
SUGGEST_KEEP_SHARE = 0.35  # below this share of the best score a suggestion is noise; it is not shown


def article_suggestions(query: str, *, category: Category | None = None, limit: int = SUGGEST_LIMIT) -> list[KnowledgeArticle]:
    """What the agent sees while typing: articles ranked by the caller's words and the chosen category together.

    An article of the chosen small class is offered even when no word matches yet; one of the same major class
    gets a smaller lift. Scores below SUGGEST_KEEP_SHARE of the best are dropped, so three weak guesses do not
    bury the one right answer."""
    words = [w for w in dict.fromkeys(text.tokens(query)) if len(w) > 1][:30]
    qs = articles_valid_on(timezone.localdate())
    matches = Q(pk__in=[])
    rank = Value(0.0)
    if words:
        search = reduce(or_, [SearchQuery(w, config="simple", search_type="plain") for w in words])
        matches |= Q(search_vector=search)
        rank = SearchRank(F("search_vector"), search, normalization=Value(1))
    lift = Value(0.0)
    if category is not None:
        matches |= Q(category=category)
        lift = Case(When(category=category, then=Value(SAME_CATEGORY_BONUS)),
                    When(category__parent_id=category.parent_id, then=Value(SAME_MAJOR_BONUS)), default=Value(0.0))
    if not words and category is None:
        return []
    ranked = list(
        qs.filter(matches).annotate(score=ExpressionWrapper(rank + lift, output_field=FloatField()))
        .select_related("category", "department").order_by("-score", "-used_count", "id")[:limit]
    )
    if not ranked:
        return []
    best = ranked[0].score
    return [a for a in ranked if a.score >= best * SUGGEST_KEEP_SHARE]


# ---------------------------------------------------------------------------------------------- duplicates


# what a candidate shows: fewer columns make the ORM's share of a search small (the distance comes from SQL;
# the point itself would cost a GEOS geometry per row and is not shown)
CANDIDATE_FIELDS = ("id", "number", "title", "description", "address", "state", "created_at", "caller_count",
                    "category__id", "category__name")


@dataclass
class Candidate:
    ticket: Ticket
    distance_m: float | None
    text_score: float
    score: float
    reasons: list[str] = field(default_factory=list)
    callers: int = 1


def _similarity(tokens_a: list[str], text_b: str) -> float:
    """0–100: token-set similarity of the segmented texts (word order and repetition do not matter)."""
    if not tokens_a:
        return 0.0
    return fuzz.token_set_ratio(" ".join(tokens_a), text.segmented(text_b))


def duplicate_candidates(
    user,
    *,
    content: str,
    location: Point | None,
    category: Category | None = None,
    caller_phone: str = "",
    radius_m: float = DUPLICATE_RADIUS_M,
    days: int = DUPLICATE_DAYS,
    limit: int = 5,
) -> list[Candidate]:
    """Open tickets that may be the same matter: same category within `radius_m` and `days`, scored by text
    similarity, distance and age; plus the open tickets this caller already called about.

    PostGIS narrows first (the GiST index on the ticket's point with a degree box, then the exact
    spheroid distance), so only a handful of rows reach rapidfuzz."""
    now = timezone.now()
    tokens = text.tokens(content)
    found: dict[int, Candidate] = {}
    base = Ticket.objects.filter(state__in=OPEN_STATES).select_related("category").only(*CANDIDATE_FIELDS)
    if user is not None:  # None: the system itself (Open311 intake), which sees every ticket
        base = visible(base, user)
    if location is not None and category is not None:
        # a degree box a little larger than the circle, so the index does the narrowing
        box = radius_m / (METRES_PER_DEGREE * math.cos(math.radians(location.y))) * 1.05
        nearby = (
            base.filter(category=category, created_at__gte=now - dt.timedelta(days=days), location__dwithin=(location, box))
            .annotate(distance=Distance("location", location))
            .filter(distance__lte=radius_m)
            .order_by("distance")[:50]
        )
        for t in nearby:
            d = t.distance.m
            sim = _similarity(tokens, f"{t.title} {t.description}")
            age_days = (now - t.created_at).total_seconds() / 86400
            score = 0.6 * sim + 25 * (1 - d / radius_m) + 15 * max(0.0, 1 - age_days / days)
            if score >= DUPLICATE_MIN_SCORE:
                reasons = ["nearby"] + (["similar_text"] if sim >= 60 else [])
                found[t.pk] = Candidate(t, d, sim, round(score, 1), reasons)
    # the tickets this caller called about before; most callers have none, and this small query spares them the
    # candidate query (the costlier one to build)
    called_about = (
        list(Contact.objects.filter(caller_phone=caller_phone, ticket__isnull=False).order_by()
             .values_list("ticket_id", flat=True).distinct())
        if caller_phone else []
    )
    if called_about:
        same_caller = base.filter(pk__in=called_about)
        if location is not None:
            same_caller = same_caller.annotate(distance=Distance("location", location))
        for t in same_caller.order_by("-id")[:20]:
            if t.pk in found:
                found[t.pk].reasons.append("same_caller")
                found[t.pk].score = round(min(100.0, found[t.pk].score + 20), 1)
                continue
            sim = _similarity(tokens, f"{t.title} {t.description}")
            d = t.distance.m if location is not None else None
            found[t.pk] = Candidate(t, d, sim, round(max(50.0, 0.6 * sim + 20), 1), ["same_caller"])
    ranked = sorted(found.values(), key=lambda c: (-c.score, c.ticket.pk))[:limit]
    for c in ranked:
        c.callers = c.ticket.caller_count
    return ranked


# ---------------------------------------------------------------------------------------------- the caller's history


def caller_history(user, phone: str, *, limit: int = 10) -> dict:
    """Earlier contacts from this number and how often they called (重复来电)."""
    if not phone:
        return {"contacts": [], "total": 0, "last_30_days": 0, "open_tickets": 0}
    qs = contacts_by_phone(user, phone)
    since = timezone.now() - dt.timedelta(days=30)
    figures = qs.aggregate(
        total=Count("id"),
        recent=Count("id", filter=Q(created_at__gte=since)),
        open_tickets=Count("ticket", filter=Q(ticket__state__in=OPEN_STATES), distinct=True),
    )
    return {
        "contacts": list(qs[:limit]),
        "total": figures["total"],
        "last_30_days": figures["recent"],
        "open_tickets": figures["open_tickets"],
    }


# ---------------------------------------------------------------------------------------------- return visits


def _with_replies(qs: QuerySet[ReturnVisit]) -> QuerySet[ReturnVisit]:
    """Each visit's ticket carries `replies`: what each department answered, lead first (read out to the caller)."""
    replies = Assignment.objects.filter(replied_at__isnull=False).select_related("department").order_by("role", "id")
    return qs.prefetch_related(Prefetch("ticket__assignments", queryset=replies, to_attr="replies"))


def visits_due_for(user) -> QuerySet[ReturnVisit]:
    return _with_replies(visible(ReturnVisit.objects.filter(state=ReturnVisit.State.PENDING), user).select_related(
        "ticket", "ticket__category", "contact"
    )).order_by("due_at", "id")


def visits_with_chief(user) -> QuerySet[ReturnVisit]:
    return _with_replies(visible(ReturnVisit.objects.filter(state=ReturnVisit.State.WITH_CHIEF), user).select_related(
        "ticket", "ticket__category", "contact", "visited_by"
    )).order_by("visited_at", "id")


# ---------------------------------------------------------------------------------------------- KPIs


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def hotline_kpis(user, *, start: dt.datetime, end: dt.datetime, region=None) -> dict:
    """The hotline's figures for contacts received in [start, end), within the user's scope (and `region`):

    direct_rate 直接办结率 — share settled on the spot;
    on_time_rate 按时办结率 — of contacts finished or past their time limit, the share finished in time
        (a direct answer is finished when given; a ticketed contact when its ticket closes);
    satisfaction_rate 满意率 — of visits done, satisfied or basically satisfied;
    visit_rate 回访率 — visits done of visits due (tickets closed in the period);
    repeat_rate 重复来电率 — contacts from a number that had called within 30 days before;
    by_channel, by_type — volumes. Rates are percentages, None when there is nothing to divide by."""
    now = timezone.now()
    contacts = visible(Contact.objects.filter(created_at__gte=start, created_at__lt=end), user)
    visits = visible(ReturnVisit.objects.filter(created_at__gte=start, created_at__lt=end), user)
    if region is not None:
        contacts = contacts.filter(region_path__startswith=region.path)
        visits = visits.filter(region_path__startswith=region.path)
    finished_at = Q(outcome=Outcome.DIRECT, closed_at__isnull=False) | Q(ticket__state="closed")
    figures = contacts.aggregate(
        total=Count("id"),
        direct=Count("id", filter=Q(outcome=Outcome.DIRECT)),
        linked=Count("id", filter=Q(outcome=Outcome.LINKED)),
        new_ticket=Count("id", filter=Q(outcome=Outcome.NEW_TICKET)),
        repeat=Count("id", filter=Q(is_repeat=True)),
        finished=Count("id", filter=finished_at),
        on_time=Count(
            "id",
            filter=Q(outcome=Outcome.DIRECT, closed_at__lte=F("due_at"))
            | Q(ticket__state="closed", ticket__closed_at__lte=F("due_at")),
        ),
        overdue_unfinished=Count("id", filter=~finished_at & Q(due_at__lt=now)),
    )
    visit_figures = visits.aggregate(
        due=Count("id"),
        done=Count("id", filter=Q(visited_at__isnull=False)),
        satisfied=Count("id", filter=Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASICALLY])),
        unsatisfied=Count("id", filter=Q(satisfaction=Satisfaction.UNSATISFIED)),
    )
    judged = figures["finished"] + figures["overdue_unfinished"]
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "contacts": figures["total"],
        "direct": figures["direct"],
        "linked": figures["linked"],
        "new_tickets": figures["new_ticket"],
        "direct_rate": _rate(figures["direct"], figures["total"]),
        "on_time_rate": _rate(figures["on_time"], judged),
        "satisfaction_rate": _rate(visit_figures["satisfied"], visit_figures["done"]),
        "visit_rate": _rate(visit_figures["done"], visit_figures["due"]),
        "repeat_rate": _rate(figures["repeat"], figures["total"]),
        "visits_due": visit_figures["due"],
        "visits_done": visit_figures["done"],
        "by_channel": dict(contacts.order_by().values_list("channel").annotate(n=Count("id")).values_list("channel", "n")),
        "by_type": dict(contacts.order_by().values_list("type").annotate(n=Count("id")).values_list("type", "n")),
    }


# ---------------------------------------------------------------------------------------------- for the alert rules
# The hotline rules of alerts/rules/hotline.py read contacts through these; each runs one query in PostgreSQL.


def _rows(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _region_names(ids) -> dict:
    return {r.pk: (r.code, r.name) for r in Region.objects.filter(pk__in=[i for i in ids if i is not None]).only("code", "name")}


def contact_counts_by_community_category(*, until, days: int, min_contacts: int) -> list[tuple]:
    """Per community and category: (community code, name, category code, name, contacts in the last 24 h,
    total and sum of squares of the daily counts over the `days` before, [[day, count], …]) where the last 24 h
    hold at least `min_contacts`."""
    rows = _rows(
        """
        WITH c AS (
            SELECT community_id, category_id,
                   floor(extract(epoch FROM (%(until)s - created_at)) / 86400)::int AS k
            FROM hotline_contact
            WHERE created_at > %(until)s - make_interval(days => %(days)s + 1) AND created_at <= %(until)s
              AND community_id IS NOT NULL AND category_id IS NOT NULL
        ), n AS (
            SELECT community_id, category_id, k, count(*) AS n FROM c GROUP BY 1, 2, 3
        )
        SELECT community_id, category_id,
               coalesce(sum(n) FILTER (WHERE k = 0), 0) AS current,
               coalesce(sum(n) FILTER (WHERE k BETWEEN 1 AND %(days)s), 0) AS total,
               coalesce(sum(n * n) FILTER (WHERE k BETWEEN 1 AND %(days)s), 0) AS squares,
               array_agg(ARRAY[k, n]::bigint[] ORDER BY k) FILTER (WHERE k BETWEEN 1 AND %(days)s) AS history
        FROM n
        GROUP BY community_id, category_id
        HAVING coalesce(sum(n) FILTER (WHERE k = 0), 0) >= %(min)s
        """,
        {"until": until, "days": days, "min": min_contacts},
    )
    communities = _region_names({row[0] for row in rows})
    categories = {c.pk: (c.code, c.name) for c in Category.objects.filter(pk__in={row[1] for row in rows})}
    return [(*communities[row[0]], *categories[row[1]], *row[2:]) for row in rows]


def contacts_with_terms(*, since, until, patterns: list[str]) -> list[tuple]:
    """Contacts taken in [since, until) whose text matches one of the LIKE `patterns`:
    (id, content, address, lon, lat, community code, created_at, type)."""
    rows = _rows(
        """
        SELECT c.id, c.content, c.address, ST_X(c.location), ST_Y(c.location), c.community_id, c.created_at, c.type
        FROM hotline_contact c
        WHERE c.created_at >= %(since)s AND c.created_at < %(until)s AND c.content LIKE ANY(%(patterns)s)
        ORDER BY c.id
        """,
        {"since": since, "until": until, "patterns": patterns},
    )
    codes = {pk: code for pk, (code, _) in _region_names({row[5] for row in rows}).items()}
    return [(*row[:5], codes.get(row[5]), *row[6:]) for row in rows]


def contacts_at_busy_addresses(*, since, until, types: list[str], min_contacts: int) -> list[tuple]:
    """Contacts of `types` in [since, until) at addresses (spaces and punctuation removed) with at least
    `min_contacts` of them: (address, id, created_at, lon, lat, community code, first 40 characters), by address and time."""
    rows = _rows(
        r"""
        WITH c AS (
            SELECT id, regexp_replace(address, '[\s,，。.、]+', '', 'g') AS addr, created_at, location, community_id, content
            FROM hotline_contact
            WHERE created_at >= %(since)s AND created_at < %(until)s AND address <> '' AND type = ANY(%(types)s)
        ), busy AS (
            SELECT addr FROM c GROUP BY addr HAVING count(*) >= %(min)s
        )
        SELECT c.addr, c.id, c.created_at, ST_X(c.location), ST_Y(c.location), c.community_id, left(c.content, 40)
        FROM c JOIN busy USING (addr)
        ORDER BY c.addr, c.created_at
        """,
        {"since": since, "until": until, "types": types, "min": min_contacts},
    )
    codes = {pk: code for pk, (code, _) in _region_names({row[5] for row in rows}).items()}
    return [(*row[:5], codes.get(row[5]), row[6]) for row in rows]
