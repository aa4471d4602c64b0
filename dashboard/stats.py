"""Leaders' statistics (考核): figures per region and per department, each one a count of tickets anyone can list.

Definitions (tickets received in the period, merged duplicates left out):
- 受理量 received: tickets created in the period.
- 办结率 closure rate: closed / received.
- 按期办结率 on-time rate: closed by the lead deadline (closed_at ≤ due_at, or no deadline) / closed.
- 满意率 satisfaction: satisfied + basically satisfied / rated.
- 返工率 rework rate: tickets sent back at least once at verification / dispatched.
- 退单率 return rate: tickets with a share returned by a department (退单) / dispatched.
- 延期率 extension rate: tickets with an approved extension / dispatched.
- 直接办结率 direct rate: closed without ever being dispatched (grid worker's own fix, answered at intake) / received.

The department filter selects tickets by their lead department. Figures are summed from the daily
figures (models.TicketDay/ShareDay, rebuilt by rollup.refresh() from the tickets); a town's communities are
counted live. Departments are judged on their lead shares (主办) dispatched in the period: volume = shares not cancelled,
closed = replied, on time = replied by the handling deadline, rework = the ticket was sent back, return = 退单.
Composite score, each part out of 100: volume 10% (relative to the busiest row), closure rate 30%,
on-time rate 30%, 1 − rework rate 30%. Regions get the same score from their tickets' figures.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.selectors import hotline_kpis
from org.models import Department, Region
from org.permissions import visible
from tickets.models import Assignment, Category, Satisfaction, Source, State, Ticket, TicketRequest

from . import rollup
from .models import ShareDay, ShareMonth, TicketDay, TicketMonth
from .wall import wall_region

WEIGHTS = {"volume": 0.1, "closure": 0.3, "on_time": 0.3, "rework": 0.3}
MAX_PERIOD_DAYS = 731

SATISFIED = ("satisfied", "basically")

# metric → (label, numerator key, denominator key) for the rate columns
RATES = {
    "closure_rate": (gettext_lazy("Closure rate"), "closed", "received"),
    "on_time_rate": (gettext_lazy("On-time closure rate"), "on_time", "closed"),
    "satisfaction_rate": (gettext_lazy("Satisfaction rate"), "satisfied", "rated"),
    "rework_rate": (gettext_lazy("Rework rate"), "reworked", "dispatched"),
    "return_rate": (gettext_lazy("Return rate"), "returned", "dispatched"),
    "extension_rate": (gettext_lazy("Extension rate"), "extended", "dispatched"),
    "direct_rate": (gettext_lazy("Direct resolution rate"), "direct", "received"),
}
COUNTS = {
    "received": gettext_lazy("Cases received"),
    "closed": gettext_lazy("Cases closed"),
    "on_time": gettext_lazy("Closed on time"),
    "rated": gettext_lazy("Cases rated"),
    "satisfied": gettext_lazy("Rated satisfied"),
    "dispatched": gettext_lazy("Cases dispatched"),
    "reworked": gettext_lazy("Cases reworked"),
    "returned": gettext_lazy("Cases returned"),
    "extended": gettext_lazy("Cases extended"),
    "direct": gettext_lazy("Closed directly"),
}
DEPT_COUNTS = {
    "volume": gettext_lazy("Lead shares"),
    "closed": gettext_lazy("Shares replied"),
    "on_time": gettext_lazy("Replied on time"),
    "reworked": gettext_lazy("Shares reworked"),
    "returned": gettext_lazy("Shares returned"),
    "extended": gettext_lazy("Shares extended"),
}


def _returned_q(prefix=""):
    return Exists(Assignment.objects.filter(ticket=OuterRef(f"{prefix}pk"), state=Assignment.State.RETURNED))


def _extended_q(prefix=""):
    return Exists(
        TicketRequest.objects.filter(
            ticket=OuterRef(f"{prefix}pk"), kind=TicketRequest.Kind.EXTENSION, decision=TicketRequest.Decision.APPROVED
        )
    )


def ticket_metric_q(metric: str) -> Q:
    """Which tickets a count is made of (used by the tables and by the drill-down)."""
    on_time = Q(state=State.CLOSED) & (Q(due_at__isnull=True) | Q(closed_at__lte=F("due_at")))
    return {
        "received": Q(),
        "closed": Q(state=State.CLOSED),
        "on_time": on_time,
        "rated": ~Q(satisfaction=""),
        "satisfied": Q(satisfaction__in=SATISFIED),
        "dispatched": Q(dispatched_at__isnull=False),
        "reworked": Q(dispatched_at__isnull=False, rework_count__gt=0),
        "returned": Q(dispatched_at__isnull=False) & Q(_returned_q()),
        "extended": Q(dispatched_at__isnull=False) & Q(_extended_q()),
        "direct": Q(state=State.CLOSED, dispatched_at__isnull=True),
    }[metric]


def assignment_metric_q(metric: str) -> Q:
    replied = Q(state=Assignment.State.REPLIED)
    return {
        "volume": Q(),
        "closed": replied,
        "on_time": replied & Q(replied_at__lte=F("handle_due_at")),
        "reworked": Q(ticket__rework_count__gt=0),
        "returned": Q(state=Assignment.State.RETURNED),
        "extended": Q(
            Exists(TicketRequest.objects.filter(
                assignment=OuterRef("pk"), kind=TicketRequest.Kind.EXTENSION, decision=TicketRequest.Decision.APPROVED
            ))
        ),
    }[metric]


@dataclass
class StatsFilter:
    """What a leader asked for, checked against what they may see."""

    start: dt.date
    end: dt.date  # inclusive
    region: Region
    department: Department | None = None
    category: Category | None = None
    source: str = ""

    @property
    def start_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def end_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))

    def as_query(self) -> dict:
        query = {"start": self.start.isoformat(), "end": self.end.isoformat(), "region": self.region.code}
        if self.department:
            query["department"] = str(self.department.pk)
        if self.category:
            query["category"] = self.category.code
        if self.source:
            query["source"] = self.source
        return query


def twelve_months_start(today: dt.date) -> dt.date:
    """The first day of the 12 calendar months that end with this one: what leaders judge departments by."""
    first = today.replace(day=1)
    return (first.replace(year=first.year - 1) + dt.timedelta(days=32)).replace(day=1)


def parse_filter(user, params) -> StatsFilter:
    """Read the filters from a query string; anything invalid or outside the user's scope is a ValidationError."""
    today = timezone.localdate()
    errors = {}

    def day(name, default):
        raw = (params.get(name) or "").strip()
        if not raw:
            return default
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            errors[name] = _("Use a date like 2026-01-31.")
            return default

    start = day("start", twelve_months_start(today))
    end = day("end", today)
    if end < start:
        errors["end"] = _("The end date lies before the start date.")
    elif (end - start).days > MAX_PERIOD_DAYS:
        errors["end"] = _("Choose a period of at most two years.")
    home = wall_region(user)
    region = home
    if code := (params.get("region") or "").strip():
        region = visible(Region.objects.all(), user).filter(code=code).first()
        if region is None:
            errors["region"] = _("This region does not exist or lies outside your scope.")
            region = home
        elif region.level > Region.Level.TOWN:
            errors["region"] = _("Choose the city, a district or a town; a community is shown within its town.")
            region = home
    department = None
    if raw := (params.get("department") or "").strip():
        department = Department.objects.filter(pk=raw).first() if raw.isdigit() else None
        if department is None:
            errors["department"] = _("Unknown department.")
    category = None
    if code := (params.get("category") or "").strip():
        category = Category.objects.filter(code=code).first()
        if category is None:
            errors["category"] = _("Unknown category.")
    source = (params.get("source") or "").strip()
    if source and source not in Source.values:
        errors["source"] = _("Unknown source.")
        source = ""
    if errors:
        raise ValidationError(errors)
    if region is None:
        raise ValidationError({"region": _("Your account has no region; ask an administrator.")})
    return StatsFilter(start=start, end=end, region=region, department=department, category=category, source=source)


def tickets_in(f: StatsFilter, user) -> QuerySet[Ticket]:
    """Tickets received in the period within the filters and the user's scope."""
    qs = visible(Ticket.objects.all(), user).filter(
        created_at__gte=f.start_at, created_at__lt=f.end_at, region_path__startswith=f.region.path
    ).exclude(state=State.MERGED)
    if f.category:
        qs = qs.filter(Q(category=f.category) | Q(category__parent=f.category))
    if f.source:
        qs = qs.filter(source=f.source)
    if f.department:  # the ticket's lead department (its current lead share)
        qs = qs.filter(Exists(Assignment.objects.filter(
            ticket=OuterRef("pk"), department=f.department, role=Assignment.Role.LEAD,
        ).exclude(state__in=[Assignment.State.RETURNED, Assignment.State.CANCELLED])))
    return qs


def lead_shares_in(f: StatsFilter, user) -> QuerySet[Assignment]:
    qs = visible(Assignment.objects.all(), user).filter(
        role=Assignment.Role.LEAD, dispatched_at__gte=f.start_at, dispatched_at__lt=f.end_at,
        ticket__region_path__startswith=f.region.path,
    ).exclude(state=Assignment.State.CANCELLED)
    if f.category:
        qs = qs.filter(Q(ticket__category=f.category) | Q(ticket__category__parent=f.category))
    if f.source:
        qs = qs.filter(ticket__source=f.source)
    if f.department:
        qs = qs.filter(department=f.department)
    return qs


def _rate(numerator: int, denominator: int) -> float | None:
    return round(100 * numerator / denominator, 1) if denominator else None


def _with_rates(row: dict) -> dict:
    for key, (_label, num, den) in RATES.items():
        row[key] = _rate(row[num], row[den])
    return row


def _score(rows: list[dict], *, volume: str, closure: str, on_time: str, rework: str) -> None:
    """Composite score per row, in place; the busiest row's volume scores 100."""
    busiest = max((r[volume] for r in rows), default=0)
    for r in rows:
        parts = {
            "volume": 100 * r[volume] / busiest if busiest else 0,
            "closure": r[closure] or 0,
            "on_time": r[on_time] or 0,
            "rework": 100 - (r[rework] if r[rework] is not None else 0) if r[volume] else 0,
        }
        r["score"] = round(sum(WEIGHTS[k] * v for k, v in parts.items()), 1)
    rows.sort(key=lambda r: (-r["score"], -r[volume], r["name"]))
    for rank, r in enumerate(rows, 1):
        r["rank"] = rank


def _ticket_counts(qs: QuerySet, group: str | None) -> dict:
    """{group value: {count: n}} counted live from tickets (a town's communities, which the daily figures do not split)."""
    plain = {k: Count("id", filter=ticket_metric_q(k)) for k in COUNTS}
    if group:
        return {r.pop(group): r for r in qs.values(group).annotate(**plain).order_by()}
    return {None: qs.aggregate(**plain)}


def _filtered(qs: QuerySet, f: StatsFilter, department_field: str) -> QuerySet:
    qs = qs.filter(town_path__startswith=f.region.path)
    if f.category:
        qs = qs.filter(Q(category=f.category) | Q(major=f.category))
    if f.source:
        qs = qs.filter(source=f.source)
    if f.department:
        qs = qs.filter(**{department_field: f.department})
    return qs


def _pieces(f: StatsFilter) -> tuple[tuple[dt.date, dt.date] | None, list[tuple[dt.date, dt.date]]]:
    """The whole months inside the period (first month, last month) and the day ranges around them."""
    first = f.start if f.start.day == 1 else (f.start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    after_end = f.end + dt.timedelta(days=1)
    last = after_end.replace(day=1)  # months before this one end inside the period
    if first >= last:
        return None, [(f.start, f.end)]
    edges = [(f.start, first - dt.timedelta(days=1)), (last, f.end)]
    return (first, last - dt.timedelta(days=1)), [(a, b) for a, b in edges if a <= b]


def _summed(kind: str, f: StatsFilter, group: str | None, keys) -> dict:
    """Sums of the daily/monthly figures within the filters (the region was checked by parse_filter)."""
    day_model, month_model, department_field = {
        "tickets": (TicketDay, TicketMonth, "lead_department"),
        "shares": (ShareDay, ShareMonth, "department"),
    }[kind]
    months, days = _pieces(f)
    querysets = [
        _filtered(day_model.objects.filter(day__gte=a, day__lte=b), f, department_field) for a, b in days
    ]
    if months:
        querysets.append(_filtered(month_model.objects.filter(month__gte=months[0], month__lte=months[1]), f,
                                   department_field))
    sums = {k: Coalesce(Sum(k), 0) for k in keys}
    total: dict = {} if group else {None: {k: 0 for k in keys}}
    for qs in querysets:
        rows = qs.values(group).annotate(**sums).order_by() if group else [qs.aggregate(**sums)]
        for r in rows:
            row = total.setdefault(r.pop(group) if group else None, {k: 0 for k in keys})
            for k in keys:
                row[k] += r[k]
    return total


def report(f: StatsFilter, user) -> dict:
    """Everything the statistics page shows, after one refresh of the daily figures; the totals of a city or a
    district are the sum of its children's rows (every ticket lies in one of them)."""
    rollup.refresh()
    regions = by_region(f, user, refreshed=True)
    if regions and child_field(f.region) != "community_id":
        summed = {k: sum(r[k] for r in regions) for k in COUNTS}
        overall = totals(f, user, counts=summed)
    else:
        overall = totals(f, user, refreshed=True)
    return {
        "totals": overall,
        "regions": regions,
        "departments": by_department(f, user, refreshed=True),
        "categories": by_category(f, user, refreshed=True),
    }


def totals(f: StatsFilter, user, *, counts: dict | None = None, refreshed: bool = False) -> dict:
    if counts is None:
        if not refreshed:
            rollup.refresh()
        counts = _summed("tickets", f, None, COUNTS)[None]
    row = _with_rates(dict(counts))
    kpis = _hotline(user, f)
    if kpis and kpis.get("direct_rate") is not None:
        row["hotline_direct_rate"] = kpis["direct_rate"]
    return row


def _hotline(user, f: StatsFilter):
    return hotline_kpis(user, start=f.start_at, end=f.end_at, region=f.region)


def child_field(region: Region) -> str | None:
    return {Region.Level.CITY: "district_id", Region.Level.DISTRICT: "town_id", Region.Level.TOWN: "community_id"}.get(
        region.level
    )


def by_region(f: StatsFilter, user, *, refreshed: bool = False) -> list[dict]:
    """One row per child region of the selected region (districts of a city, towns of a district, …), ranked."""
    group = child_field(f.region)
    if group is None:
        return []
    if group == "community_id":
        counts = _ticket_counts(tickets_in(f, user), group)
    else:
        if not refreshed:
            rollup.refresh()
        counts = _summed("tickets", f, group, COUNTS)
    rows = []
    for region in Region.objects.filter(parent=f.region).order_by("code"):
        row = counts.get(region.pk) or {k: 0 for k in COUNTS}
        rows.append(_with_rates({"id": region.pk, "code": region.code, "name": region.name, **row}))
    _score(rows, volume="received", closure="closure_rate", on_time="on_time_rate", rework="rework_rate")
    return rows


def by_department(f: StatsFilter, user, *, refreshed: bool = False) -> list[dict]:
    """One row per department with lead shares in the period, ranked by composite score."""
    if not refreshed:
        rollup.refresh()
    counts = _summed("shares", f, "department_id", [*DEPT_COUNTS, "rated", "satisfied"])
    names = dict(Department.objects.filter(pk__in=counts).values_list("pk", "name"))
    rows = []
    for pk, row in counts.items():
        row.update(
            id=pk, name=names[pk],
            closure_rate=_rate(row["closed"], row["volume"]),
            on_time_rate=_rate(row["on_time"], row["closed"]),
            rework_rate=_rate(row["reworked"], row["volume"]),
            return_rate=_rate(row["returned"], row["volume"]),
            extension_rate=_rate(row["extended"], row["volume"]),
            satisfaction_rate=_rate(row["satisfied"], row["rated"]),
        )
        rows.append(row)
    _score(rows, volume="volume", closure="closure_rate", on_time="on_time_rate", rework="rework_rate")
    return rows


def major_classes() -> dict[int, tuple[str, str]]:
    """pk → (code, label) of every major class (大类). A name two kinds share (市容环境 is both a 部件 and an 事件
    class) carries its kind, so the two rows can be told apart."""
    rows = list(Category.objects.filter(parent__isnull=True).order_by("code").values_list("pk", "code", "name", "kind"))
    names = Counter(name for _pk, _code, name, _kind in rows)
    return {
        pk: (code, f"{name}（{Category.Kind(kind).label}）" if names[name] > 1 else name)
        for pk, code, name, kind in rows
    }


def by_category(f: StatsFilter, user, *, refreshed: bool = False) -> list[dict]:
    """One row per major class (大类)."""
    if not refreshed:
        rollup.refresh()
    counts = _summed("tickets", f, "major_id", COUNTS)
    majors = major_classes()
    rows = [
        _with_rates({"id": pk, "code": majors[pk][0], "name": majors[pk][1], **row})
        for pk, row in counts.items() if pk in majors
    ]
    return sorted(rows, key=lambda r: -r["received"])


def drill_tickets(
    f: StatsFilter, user, *, metric: str, region: str = "", department: str = "", category: str = "", satisfaction: str = "",
) -> QuerySet[Ticket]:
    """The tickets behind one number of the tables (or one slice of the satisfaction chart)."""
    if satisfaction:
        if satisfaction not in Satisfaction.values:
            raise ValidationError({"satisfaction": _("Unknown satisfaction level.")})
        return drill_tickets(f, user, metric=metric, region=region, department=department, category=category).filter(
            satisfaction=satisfaction
        )
    if department:
        if metric not in DEPT_COUNTS and metric not in ("rated", "satisfied"):
            raise ValidationError({"metric": _("Unknown figure.")})
        shares = lead_shares_in(f, user).filter(department_id=department)
        if metric in ("rated", "satisfied"):
            shares = shares.filter(~Q(ticket__satisfaction="") if metric == "rated" else Q(ticket__satisfaction__in=SATISFIED))
        else:
            shares = shares.filter(assignment_metric_q(metric))
        return visible(Ticket.objects.filter(pk__in=shares.values("ticket_id")), user)
    if metric not in COUNTS:
        raise ValidationError({"metric": _("Unknown figure.")})
    qs = tickets_in(f, user).filter(ticket_metric_q(metric))
    if region:
        qs = qs.filter(region_path__contains=f"{region}/")
    if category:
        qs = qs.filter(category__parent__code=category)
    return qs
