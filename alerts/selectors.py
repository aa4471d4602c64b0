"""Reads of alerts, always through the scope layer."""

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from org.permissions import visible

from .models import OPEN_STATES, VEHICLE_KINDS, Alert, AlertEvent, RuleKind


def alerts_visible_to(user) -> QuerySet[Alert]:
    return visible(Alert.objects.select_related("rule", "department", "region"), user)


def active_alerts_for(user) -> QuerySet[Alert]:
    """The wall's contract: not-closed alerts in the user's scope, with location, level, title, created_at."""
    return alerts_visible_to(user).filter(state__in=OPEN_STATES).order_by("-id")


def timeline(alert: Alert) -> QuerySet[AlertEvent]:
    return alert.events.select_related("actor").order_by("id")


# ---- recall on the data hub's planted anomalies ------------------------------------------------------------

# planted kind (datahub.PlantedAnomaly.Kind) → the warning-model kind that must find it
PLANTED_RULE_KIND = {
    "long_stop": RuleKind.LONG_STOP,
    "banned_hours": RuleKind.BANNED_HOURS,
    "off_route": RuleKind.ROUTE_DEVIATION,
    "speeding": RuleKind.OVERSPEED,
    "expired_licence": RuleKind.LICENCE,
    "revoked_licence": RuleKind.LICENCE,
    "overcrowded_dwelling": RuleKind.GROUP_RENTAL,
}


@dataclass
class RecallRow:
    kind: str
    label: str
    planted: int = 0
    found: int = 0
    missed: list = field(default_factory=list)


@dataclass
class RecallReport:
    day: dt.date
    rows: list[RecallRow]
    # alerts of the compared kinds in the day that match no planted anomaly, per rule kind
    unmatched: dict[str, int]
    unmatched_alerts: list

    @property
    def planted(self) -> int:
        return sum(r.planted for r in self.rows)

    @property
    def found(self) -> int:
        return sum(r.found for r in self.rows)

    @property
    def recall(self) -> float | None:
        return round(self.found / self.planted, 4) if self.planted else None

    def summary(self) -> dict:
        return {
            "day": self.day.isoformat(), "planted": self.planted, "found": self.found, "recall": self.recall,
            "by_kind": {r.kind: {"planted": r.planted, "found": r.found, "missed": r.missed} for r in self.rows},
            "unmatched_alerts": self.unmatched, "unmatched_total": sum(self.unmatched.values()),
        }


def _demo_day_register_subjects(day: dt.date) -> set[str] | None:
    """Credit codes and dwelling codes pushed by the data hub's demo day `day` (None when it left no batches)."""
    from datahub.models import Dwelling, Enterprise, ExchangeBatch, Licence

    batches = ExchangeBatch.objects.filter(idempotency_key__startswith=f"demo-day-{day.isoformat()}-")
    if not batches.exists():
        return None
    return (
        set(Enterprise.objects.filter(batch__in=batches).values_list("credit_code", flat=True))
        | set(Licence.objects.filter(batch__in=batches).values_list("holder_credit_code", flat=True))
        | set(Dwelling.objects.filter(batch__in=batches).values_list("code", flat=True))
    )


def recall_report(day: dt.date, user=None) -> RecallReport:
    """Which planted anomalies of `day` an alert found (same rule kind and subject, overlapping time), and
    how many alerts of those kinds found something that was not planted (false positives against the plan)."""
    from datahub.models import PlantedAnomaly

    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    until = since + dt.timedelta(days=1)
    alerts = Alert.objects.select_related("rule").filter(rule__kind__in=set(PLANTED_RULE_KIND.values()))
    if user is not None:
        alerts = visible(alerts, user)
    timed = alerts.filter(rule__kind__in=VEHICLE_KINDS, window_start__lt=until, window_end__gte=since)
    # register rules (licences, dwellings) report a state that began before the day and holds on
    stateful = alerts.exclude(rule__kind__in=VEHICLE_KINDS).filter(window_end__gte=since)
    candidates = list(timed) + list(stateful)
    matched_ids: set[int] = set()
    rows: dict[str, RecallRow] = {}
    for p in PlantedAnomaly.objects.filter(day=day).order_by("kind", "subject"):
        kind = PLANTED_RULE_KIND.get(p.kind)
        if kind is None:
            continue
        row = rows.setdefault(p.kind, RecallRow(kind=p.kind, label=str(p.get_kind_display())))
        row.planted += 1
        hit = [
            a for a in candidates
            if a.rule.kind == kind and a.subject == p.subject
            and (p.starts_at is None or (a.window_start <= p.ends_at and a.window_end >= p.starts_at))
        ]
        if hit:
            row.found += 1
            matched_ids.update(a.pk for a in hit)
        else:
            row.missed.append(p.subject)
    # a register has no day: its alerts count against this day only for the records the day's demo batches brought
    registers = _demo_day_register_subjects(day)
    unmatched_alerts = [
        a for a in candidates
        if a.pk not in matched_ids and (a.rule.kind in VEHICLE_KINDS or registers is None or a.subject in registers)
    ]
    unmatched: dict[str, int] = {}
    for a in unmatched_alerts:
        unmatched[a.rule.kind] = unmatched.get(a.rule.kind, 0) + 1
    return RecallReport(day=day, rows=list(rows.values()), unmatched=unmatched, unmatched_alerts=unmatched_alerts)


# ---- matching analysis: abnormal stops against enterprises under rectification ------------------------------


@dataclass
class MatchingResult:
    since: dt.datetime
    until: dt.datetime
    radius_m: int
    stops: list[dict]
    enterprises: list[dict]

    @property
    def matched_stops(self) -> int:
        return sum(1 for s in self.stops if s["matches"])

    @property
    def matched_enterprises(self) -> int:
        return sum(1 for e in self.enterprises if e["matches"])

    @property
    def coverage(self) -> float | None:
        """Matched enterprises ÷ enterprises under rectification."""
        return round(self.matched_enterprises / len(self.enterprises), 4) if self.enterprises else None

    def summary(self) -> dict:
        return {
            "since": self.since.isoformat(), "until": self.until.isoformat(), "radius_m": self.radius_m,
            "stops": len(self.stops), "matched_stops": self.matched_stops,
            "enterprises": len(self.enterprises), "matched_enterprises": self.matched_enterprises,
            "coverage": self.coverage,
        }


def stop_matching(user, *, since: dt.datetime, until: dt.datetime, radius_m: int = 500) -> MatchingResult:
    """Abnormal-stop alerts in [since, until) within `radius_m` of an enterprise under rectification (整改中),
    both as far as `user` may see them."""
    from datahub.models import Enterprise

    stops = list(
        visible(Alert.objects.filter(rule__kind=RuleKind.LONG_STOP, window_start__lt=until, window_end__gte=since), user)
        .order_by("window_start")
        .values("id", "subject", "title", "window_start", "window_end", "location", "level", "state", "evidence__minutes")
    )
    enterprises = list(
        visible(Enterprise.objects.filter(status=Enterprise.Status.RECTIFYING, location__isnull=False), user)
        .order_by("credit_code")
        .values("id", "credit_code", "name", "address", "location")
    )
    pairs: list[tuple[int, int, float]] = []
    if stops and enterprises:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT a.id, e.id, ST_Distance(a.location::geography, e.location::geography)
                FROM alerts_alert a JOIN datahub_enterprise e
                  ON ST_DWithin(a.location::geography, e.location::geography, %s)
                WHERE a.id = ANY(%s) AND e.id = ANY(%s)
                ORDER BY 3
                """,
                [radius_m, [s["id"] for s in stops], [e["id"] for e in enterprises]],
            )
            pairs = cursor.fetchall()
    by_stop: dict[int, list] = {}
    by_enterprise: dict[int, list] = {}
    names = {e["id"]: e["name"] for e in enterprises}
    plates = {s["id"]: s["subject"] for s in stops}
    for stop_id, enterprise_id, metres in pairs:
        by_stop.setdefault(stop_id, []).append({"enterprise": names[enterprise_id], "metres": round(metres)})
        by_enterprise.setdefault(enterprise_id, []).append({"alert": stop_id, "plate": plates[stop_id], "metres": round(metres)})
    for s in stops:
        s["lon"], s["lat"] = round(s["location"].x, 6), round(s["location"].y, 6)
        s["minutes"] = s.pop("evidence__minutes")
        del s["location"]
        s["matches"] = by_stop.get(s["id"], [])
    for e in enterprises:
        e["lon"], e["lat"] = round(e["location"].x, 6), round(e["location"].y, 6)
        del e["location"]
        e["matches"] = by_enterprise.get(e["id"], [])
    return MatchingResult(since=since, until=until, radius_m=radius_m, stops=stops, enterprises=enterprises)
