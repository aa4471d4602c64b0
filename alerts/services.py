"""Every write of an alert: raise (deduplicated), 交办, 核查, 处置/转工单, 问效, 结案, and overdue escalation.

Each step locks the row, checks version, state and role, saves with update_fields, appends a timeline
row and writes the outbox row the wall listens to, all in one transaction.
"""

import datetime as dt
import functools
import io
import uuid
from collections.abc import Sequence
from types import SimpleNamespace

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django_fsm import can_proceed, has_transition_perm

from org.exceptions import Conflict
from org.models import Department, Region, User
from realtime.services import outbox_write
from grid.selectors import locate
from tickets import calendar
from tickets.models import Category, Source
from tickets.services import ticket_create

from .models import DUE_STATES, LEVEL_ORDER, Alert, AlertEvent, AlertRule, Level, State
from .rules import Finding

ESCALATION_INTERVAL = dt.timedelta(hours=4)  # an overdue alert climbs one level per interval
MAX_ESCALATIONS = 3


def in_system_language(func):
    """Titles and notes written by detectors and scanners are stored in the system's language (Chinese), whatever
    the language of the worker, command or request that runs them."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            return func(*args, **kwargs)

    return wrapper


class StaleVersion(Conflict):
    """Someone changed the alert first (HTTP 409)."""

    def __init__(self, alert: Alert):
        self.current_version = alert.version
        super().__init__(
            _("This alert was changed by someone else (now “%(state)s”). Reload and try again.") % {"state": alert.get_state_display()},
            current={"version": alert.version, "state": alert.state},
        )


class TransitionRefused(Conflict):
    """The step is not possible in the alert's current state (HTTP 409)."""


# ------------------------------------------------------------------------------------------------ helpers


def alert_payload(alert: Alert) -> dict:
    """What the wall needs to draw, move or remove one marker."""
    return {
        "id": alert.pk,
        "title": alert.title,
        "level": alert.level,
        "level_label": str(Level(alert.level).label),
        "lon": round(alert.location.x, 6),
        "lat": round(alert.location.y, 6),
        "state": alert.state,
        "rule": alert.rule.name,
        "rule_kind": alert.rule.kind,
        "department": alert.department_id,
        "due_at": alert.due_at.isoformat() if alert.due_at else None,
        "created_at": alert.created_at.isoformat() if alert.created_at else None,
        "regions": [code for code in alert.region_path.split("/") if code],
    }


def _record(alert: Alert, *, by, action: str, from_state: str, fields: Sequence[str] = (), note: str = "", data=None) -> AlertEvent:
    """Save (bumping the version), append the timeline row, write the outbox row."""
    alert.version += 1
    alert.save(update_fields=[*dict.fromkeys([*fields, "version", "updated_at"])])
    event = AlertEvent.objects.create(
        alert=alert, actor=by, action=action, from_state=from_state, to_state=alert.state, note=note, data=data or {}
    )
    if action == "raised":
        topic = "alert.raised"
    elif alert.state == State.CLOSED:
        topic = "alert.closed"
    else:
        topic = "alert.updated"
    outbox_write(
        topic=topic,
        data=alert_payload(alert) | {"action": action, "at": event.at.isoformat()},
        region=SimpleNamespace(path=alert.region_path),
        department_ids=[alert.department_id] if alert.department_id else [],
    )
    return event


def _lock(alert: Alert, version: int) -> Alert:
    locked = Alert.objects.select_for_update(of=("self",)).select_related("rule").get(pk=alert.pk)
    if version is None:  # a form or a request without the version it acted on would skip the check silently
        raise ValidationError({"version": _("The version you acted on is missing; reload the page and try again.")})
    if locked.version != int(version):
        raise StaleVersion(locked)
    return locked


def _check(bound_method, by) -> None:
    if not can_proceed(bound_method):
        raise TransitionRefused(
            _("This step is not possible while the alert is “%(state)s”.") % {"state": bound_method.__self__.get_state_display()}
        )
    if by is not None and not has_transition_perm(bound_method, by):
        raise PermissionDenied(_("Your role may not do this."))


def _own_department(alert: Alert, by: User) -> None:
    """Verification and handling belong to the department the alert was assigned to."""
    if by.is_admin_role:
        return
    if by.department_id is None or by.department_id != alert.department_id:
        raise PermissionDenied(_("Only the assigned department may do this."))


def _note(value: str, *, required: bool, label: str) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({"note": _("Please fill in %(label)s.") % {"label": label}})
    if len(value) > 2000:
        raise ValidationError({"note": _("The note is too long (at most 2000 characters).")})
    return value


def _place(finding: Finding) -> tuple[Point, Region]:
    """The alert's point and the community (or named region) it belongs to."""
    region = None
    if finding.region_code:
        region = Region.objects.filter(code=finding.region_code).first()
    location = finding.location
    if location is None:
        if region is None or region.boundary is None:
            region = region or Region.objects.get(level=Region.Level.CITY)
            boundary = region.boundary or Region.objects.exclude(boundary=None).order_by("level").first().boundary
            return boundary.point_on_surface, region
        return region.boundary.point_on_surface, region
    if region is None:
        place = locate(location)
        region = place.community or Region.objects.get(level=Region.Level.CITY)
    return location, region


# ------------------------------------------------------------------------------------------------ raising


def alert_raise(*, rule: AlertRule, finding: Finding, snapshot=None, idempotency_key: str | None = None) -> tuple[Alert, bool]:
    """Raise an alert for a finding, or fold it into the alert of the same rule and subject whose time window
    it overlaps (within the rule's merge gap). Returns (alert, created).

    Findings of one rule and subject are serialised with a transaction-scoped advisory lock, so two workers
    detecting the same episode from overlapping batches raise it once.
    """
    params = rule.settings()
    gap = dt.timedelta(minutes=params["merge_gap_minutes"])
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [rule.pk, finding.subject])
        if idempotency_key:
            # the key of a report that raised an alert, or of one that was folded into an alert
            replay = Alert.objects.filter(
                Q(idempotency_key=idempotency_key) | Q(evidence__keys__contains=[idempotency_key]), rule=rule
            ).first()
            if replay is not None:
                return replay, False
        existing = (
            Alert.objects.select_for_update(of=("self",))
            .filter(
                rule=rule, subject=finding.subject,
                window_start__lte=finding.window_end + gap, window_end__gte=finding.window_start - gap,
            )
            .order_by("-window_end")
            .first()
        )
        if existing is not None:
            _fold(existing, finding, snapshot=snapshot, key=idempotency_key)
            return existing, False
        location, region = _place(finding)
        alert = Alert(
            rule=rule, level=rule.level, title=finding.title[:200], subject=finding.subject[:80],
            window_start=finding.window_start, window_end=finding.window_end, location=location,
            region=region, region_path=region.path, evidence=finding.evidence, idempotency_key=idempotency_key or None,
        )
        if snapshot is not None:
            alert.snapshot.save(snapshot.name, snapshot, save=False)
        try:
            with transaction.atomic():
                alert.save()
                AlertEvent.objects.create(alert=alert, action="raised", to_state=alert.state, data={"rule": rule.code})
                outbox_write(
                    topic="alert.raised",
                    data=alert_payload(alert) | {"action": "raised", "at": alert.created_at.isoformat()},
                    region=SimpleNamespace(path=alert.region_path),
                )
        except Exception:
            if alert.snapshot:
                alert.snapshot.storage.delete(alert.snapshot.name)  # no file without its row
            raise
    return alert, True


def _fold(alert: Alert, finding: Finding, *, snapshot=None, key: str | None = None) -> None:
    """A re-detection: widen the window and refresh the evidence in place. A closed alert keeps its record."""
    if alert.state == State.CLOSED:
        return
    fields = ["hits", "updated_at"]
    alert.hits += 1
    kept = {k: alert.evidence[k] for k in ("keys", "more_snapshots") if k in alert.evidence}
    if finding.window_start < alert.window_start or finding.window_end > alert.window_end:
        alert.window_start = min(alert.window_start, finding.window_start)
        alert.window_end = max(alert.window_end, finding.window_end)
        alert.title = finding.title[:200]
        alert.evidence = finding.evidence | kept
        fields += ["window_start", "window_end", "title", "evidence"]
    if key:
        alert.evidence = alert.evidence | {"keys": (kept.get("keys", []) + [key])[-50:]}
        fields.append("evidence")
    if snapshot is not None:
        name = alert.snapshot.storage.save(f"alerts/snapshots/more/{alert.pk}-{snapshot.name}", snapshot)
        alert.evidence = alert.evidence | {"more_snapshots": (kept.get("more_snapshots", []) + [name])[-10:]}
        fields.append("evidence")
    alert.save(update_fields=list(dict.fromkeys(fields)))
    if "title" in fields:
        # the wall shows the title: tell it (no timeline row: a re-detection is not a step of the lifecycle)
        outbox_write(
            topic="alert.updated",
            data=alert_payload(alert) | {"action": "redetected", "at": timezone.now().isoformat()},
            region=SimpleNamespace(path=alert.region_path),
            department_ids=[alert.department_id] if alert.department_id else [],
        )


# ------------------------------------------------------------------------------------------------ lifecycle


def assignable_departments(alert: Alert):
    """Departments with jurisdiction over the alert's place: those of its community and every region above."""
    codes = [c for c in alert.region_path.split("/") if c]
    return Department.objects.filter(region__code__in=codes).select_related("region").order_by("region__level", "code")


def alert_assign(
    *, alert: Alert, by: User, department: Department, hours: float | None = None, note: str = "", version: int
) -> Alert:
    """交办: hand the alert to a department with a deadline (the rule's limit unless given)."""
    note = _note(note, required=False, label=pgettext("alerts", "the note"))
    with transaction.atomic():
        a = _lock(alert, version)
        _check(a.assign, by)
        if department is None or not assignable_departments(a).filter(pk=department.pk).exists():
            raise ValidationError({"department": _("Choose a department responsible for this place.")})
        hours = a.rule.deadline_hours if hours in (None, "") else hours
        try:
            hours = float(hours)
        except (TypeError, ValueError):
            raise ValidationError({"hours": _("The time limit must be a number of hours.")}) from None
        if not 0 < hours <= 24 * 30:
            raise ValidationError({"hours": _("The time limit must lie between 1 hour and 30 days.")})
        before, now = a.state, timezone.now()
        a.assign()
        a.department = department
        a.due_at = calendar.add_working_time(now, hours, "natural_hours")
        a.next_scan_at = a.due_at
        _record(a, by=by, action="assigned", from_state=before, note=note, fields=["state", "department", "due_at", "next_scan_at"],
                data={"department": department.name, "due_at": a.due_at.isoformat(), "hours": hours})
    return a


def alert_verify(*, alert: Alert, by: User, true_positive: bool, note: str = "", version: int) -> Alert:
    """核查: the department found the risk real (go on to handle it) or a false positive (the alert ends here)."""
    note = _note(note, required=not true_positive, label=_("why it is a false positive"))
    with transaction.atomic():
        a = _lock(alert, version)
        step = a.confirm if true_positive else a.dismiss
        _check(step, by)
        _own_department(a, by)
        before = a.state
        step()
        a.verdict = Alert.Verdict.TRUE if true_positive else Alert.Verdict.FALSE
        fields = ["state", "verdict"]
        if not true_positive:
            a.closed_at, a.next_scan_at = timezone.now(), None
            fields += ["closed_at", "next_scan_at"]
        _record(a, by=by, action="verified" if true_positive else "false_positive", from_state=before, note=note, fields=fields)
    return a


def alert_handle(*, alert: Alert, by: User, note: str, version: int) -> Alert:
    """处置: the department dealt with it itself."""
    note = _note(note, required=True, label=_("what was done"))
    with transaction.atomic():
        a = _lock(alert, version)
        _check(a.handle, by)
        _own_department(a, by)
        before = a.state
        a.handle()
        a.next_scan_at = None
        _record(a, by=by, action="handled", from_state=before, note=note, fields=["state", "next_scan_at"])
    return a


def alert_to_ticket(*, alert: Alert, by: User, category: Category, note: str = "", version: int) -> Alert:
    """处置 by field work: a ticket (source 预警) takes the alert into the closed loop of dispatch and verification."""
    note = _note(note, required=False, label=pgettext("alerts", "the note"))
    with transaction.atomic():
        a = _lock(alert, version)
        _check(a.to_ticket, by)
        _own_department(a, by)
        before = a.state
        # The ticket is the system's (department staff do not open tickets themselves); who asked is on the timeline.
        ticket = ticket_create(
            by=None, source=Source.ALERT, category=category, title=a.title[:120],
            description="\n".join(filter(None, [_("Raised by warning model “%(rule)s”.") % {"rule": a.rule.name}, note])),
            location=a.location, occurred_at=min(a.window_start, timezone.now()),
            idempotency_key=f"alert-{a.pk}",
        )
        a.to_ticket()
        a.ticket, a.next_scan_at = ticket, None
        _record(a, by=by, action="ticketed", from_state=before, note=note, fields=["state", "ticket", "next_scan_at"],
                data={"ticket": ticket.number})
    return a


def alert_evaluate(*, alert: Alert, by: User, effective: bool, note: str = "", version: int) -> Alert:
    """问效: the center judges whether the handling removed the risk."""
    note = _note(note, required=not effective, label=_("why it was not effective"))
    with transaction.atomic():
        a = _lock(alert, version)
        _check(a.evaluate, by)
        before = a.state
        a.evaluate()
        a.effective = bool(effective)
        _record(a, by=by, action="evaluated", from_state=before, note=note, fields=["state", "effective"], data={"effective": a.effective})
    return a


def alert_close(*, alert: Alert, by: User, note: str = "", version: int) -> Alert:
    """结案."""
    note = _note(note, required=False, label=pgettext("alerts", "the note"))
    with transaction.atomic():
        a = _lock(alert, version)
        _check(a.close, by)
        before = a.state
        a.close()
        a.closed_at = timezone.now()
        _record(a, by=by, action="closed", from_state=before, note=note, fields=["state", "closed_at"])
    return a


@in_system_language
def alert_deadline_reached(alert: Alert, now: dt.datetime) -> None:
    """Called by the tickets deadline scanner with the row locked: an overdue alert escalates one level
    (blue → yellow → orange → red) and is looked at again after ESCALATION_INTERVAL, at most MAX_ESCALATIONS times."""
    if alert.state not in DUE_STATES or alert.due_at is None:
        alert.next_scan_at = None
        alert.save(update_fields=["next_scan_at"])
        return
    before_level = alert.level
    order = sorted(LEVEL_ORDER, key=LEVEL_ORDER.get)
    alert.level = order[max(LEVEL_ORDER[Level(alert.level)] - 1, 0)]
    alert.escalation_count += 1
    alert.next_scan_at = now + ESCALATION_INTERVAL if alert.escalation_count < MAX_ESCALATIONS else None
    _record(
        alert, by=None, action="escalated", from_state=alert.state, fields=["level", "escalation_count", "next_scan_at"],
        note=_("Overdue since %(due)s.") % {"due": timezone.localtime(alert.due_at).strftime("%Y-%m-%d %H:%M")},
        data={"from_level": before_level, "to_level": alert.level, "escalations": alert.escalation_count},
    )


# ------------------------------------------------------------------------------------------------ video events


# the whole request must stay under Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), base64 included
MAX_SNAPSHOT_BYTES = 1536 * 1024


def clean_snapshot(data: bytes) -> ContentFile:
    """A real JPEG or PNG (decoded, not trusted by its name), re-encoded as JPEG without metadata."""
    from PIL import Image, UnidentifiedImageError

    if not data or len(data) > MAX_SNAPSHOT_BYTES:
        raise ValidationError({"snapshot": _("The snapshot must be an image of at most 1.5 MB.")})
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("JPEG", "PNG"):
                raise ValidationError({"snapshot": _("The snapshot must be a JPEG or PNG image.")})
            image.load()
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=85)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValidationError({"snapshot": _("The snapshot is not a readable image.")}) from None
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.jpg")


def video_rule_for(event_type: str) -> AlertRule | None:
    """The active video warning model that takes this event type."""
    for rule in AlertRule.objects.filter(kind="video_event", is_active=True).order_by("code"):
        if event_type in rule.settings()["event_types"]:
            return rule
    return None


def video_event_receive(
    *, camera_code: str, event_type: str, occurred_at: dt.datetime, confidence: float, snapshot: bytes,
    event_id: str = "", idempotency_key: str | None = None,
) -> tuple[Alert, bool]:
    """A camera's analytics reports an event with a snapshot. Everything is checked before anything is
    written; repeated events of one camera and type within the rule's merge gap fold into one alert."""
    from datahub.models import Camera

    camera = Camera.objects.select_related("region").filter(code=camera_code).first()
    if camera is None:
        raise ValidationError({"camera": _("Unknown camera “%(code)s”.") % {"code": camera_code}})
    rule = video_rule_for(event_type)
    if rule is None:
        raise ValidationError({"event_type": _("No active warning model takes events of type “%(type)s”.") % {"type": event_type}})
    params = rule.settings()
    if confidence < params["min_confidence"]:
        raise ValidationError({"confidence": _("The confidence is below the model's threshold (%(min)s).") % {"min": params["min_confidence"]}})
    now = timezone.now()
    if occurred_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("The event time lies in the future.")})
    image = clean_snapshot(snapshot)
    with translation.override(settings.LANGUAGE_CODE):  # the stored title is in the system's language
        label = params["event_types"][event_type]
        finding = Finding(
            subject=f"{camera.code}:{event_type}"[:80],
            title=_("%(event)s at %(camera)s") % {"event": label, "camera": camera.name},
            window_start=occurred_at, window_end=occurred_at, location=camera.location,
            evidence={"camera": camera.code, "camera_name": camera.name, "event_type": event_type, "event": label,
                      "confidence": round(confidence, 3), "event_id": event_id, "occurred_at": occurred_at.isoformat()},
        )
        return alert_raise(rule=rule, finding=finding, snapshot=image, idempotency_key=idempotency_key or (event_id or None))
