"""Run warning models over a time range (periodically, per ingested batch, or for a whole day) and raise alerts."""

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from realtime import kicks

from .hooks import CONTACTS_PENDING
from .models import VEHICLE_KINDS, AlertRule, RuleKind
from .services import alert_raise, in_system_language

logger = logging.getLogger(__name__)

# Kinds that look at the state of registers (licences, dwellings) rather than at events in a time range.
STATE_KINDS = (RuleKind.LICENCE, RuleKind.GROUP_RENTAL)
HOTLINE_KINDS = (RuleKind.HOTLINE_SURGE, RuleKind.SENSITIVE_CONTENT, RuleKind.REPEATED_COMPLAINT)
# Vehicle rules look back this far before a batch's first position, so an episode that began earlier is seen whole.
VEHICLE_LOOKBACK = dt.timedelta(hours=2)


@dataclass
class RunResult:
    found: int = 0
    raised: int = 0
    merged: int = 0
    seconds: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"found": self.found, "raised": self.raised, "merged": self.merged, "seconds": self.seconds}


@in_system_language
def run_rules(*, rules, since: dt.datetime, until: dt.datetime, subjects=None) -> RunResult:
    """Detect with each rule over [since, until) (optionally for some subjects only) and raise what it finds."""
    result = RunResult()
    for rule in rules:
        if rule.kind == RuleKind.VIDEO_EVENT:
            continue
        started = time.perf_counter()
        findings = rule.detector.detect(rule, rule.settings(), since=since, until=until, subjects=subjects)
        result.seconds[rule.code] = round(time.perf_counter() - started, 3)
        result.found += len(findings)
        for finding in findings:
            _, created = alert_raise(rule=rule, finding=finding)
            result.raised += created
            result.merged += not created
    return result


def active_rules(kinds=None):
    qs = AlertRule.objects.filter(is_active=True)
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return list(qs.order_by("kind", "code"))


def detect_day(day: dt.date, *, kinds=None) -> RunResult:
    """Every active rule over one local day (the demo day, a re-run after a rule change)."""
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return run_rules(rules=active_rules(kinds), since=since, until=since + dt.timedelta(days=1))


def detect_recent(*, now: dt.datetime | None = None, minutes: int = 15) -> RunResult:
    """The periodic pass: vehicle rules over the last minutes (plus the look-back), register rules over the
    registers, hotline rules over the contacts of the last minutes (a surge over the 24 hours before now)."""
    now = now or timezone.now()
    result = run_rules(rules=active_rules(VEHICLE_KINDS), since=now - dt.timedelta(minutes=minutes) - VEHICLE_LOOKBACK, until=now)
    _add(result, run_rules(rules=active_rules(STATE_KINDS), since=now - dt.timedelta(days=1), until=now))
    _add(result, run_rules(rules=active_rules(HOTLINE_KINDS), since=now - dt.timedelta(minutes=minutes), until=now))
    return result


def _add(total: RunResult, part: RunResult) -> None:
    total.found += part.found
    total.raised += part.raised
    total.merged += part.merged
    total.seconds |= part.seconds


FEED_KINDS = {
    "vehicle_position": VEHICLE_KINDS,
    "hazmat_vehicle": (RuleKind.LONG_STOP,),
    "licence": (RuleKind.LICENCE,),
    "enterprise": (RuleKind.LICENCE,),
    "dwelling": (RuleKind.GROUP_RENTAL,),
}


def detect_batch(batch_id: int) -> RunResult:
    """Incremental detection after one exchange batch committed: only the rules its feed can affect, and for
    vehicle positions only the plates and times the batch brought (with the look-back)."""
    from datahub.models import ExchangeBatch

    batch = ExchangeBatch.objects.select_related("resource").filter(pk=batch_id).first()
    if batch is None or not batch.accepted:
        return RunResult()
    feed = batch.resource.feed
    kinds = FEED_KINDS.get(feed)
    if not kinds:
        return RunResult()
    rules = active_rules(kinds)
    if not rules:
        return RunResult()
    if feed != "vehicle_position":
        return run_rules(rules=rules, since=batch.started_at - dt.timedelta(days=1), until=timezone.now())
    with connection.cursor() as cursor:
        # positions of a batch lie around its ingestion time; bounding the scan keeps it to a few partitions
        cursor.execute(
            "SELECT array_agg(DISTINCT plate), min(recorded_at), max(recorded_at) FROM datahub_vehicle_position "
            "WHERE batch_id = %s AND recorded_at >= %s AND recorded_at < %s",
            [batch.pk, batch.started_at - dt.timedelta(days=3), batch.finished_at + dt.timedelta(days=1)],
        )
        plates, first, last = cursor.fetchone()
    if not plates:
        return RunResult()
    return run_rules(rules=rules, since=first - VEHICLE_LOOKBACK, until=last + dt.timedelta(microseconds=1), subjects=plates)


def detect_contacts(since: dt.datetime) -> RunResult:
    """Incremental detection after 12345 contacts (hooks.kick_contact_detection): the wording and address rules
    over the contacts taken in since `since` (the first contact of the batch), a category's surge up to now.

    Consecutive runs' windows meet without overlapping much, so a contact is found about once (a re-found one
    folds into its alert and counts a hit). A contact whose transaction committed after a later contact had
    queued the run can fall before `since`: the periodic pass (every 5 minutes, over 15) detects it."""
    kicks.started(CONTACTS_PENDING, what="contact detection")  # first: a contact committed from now on kicks again
    now = timezone.now()
    since = min(since, now)
    result = run_rules(rules=active_rules([RuleKind.SENSITIVE_CONTENT, RuleKind.REPEATED_COMPLAINT]), since=since, until=now)
    _add(result, run_rules(rules=active_rules([RuleKind.HOTLINE_SURGE]), since=since, until=now))
    return result
