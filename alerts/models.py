"""Warning models (预警模型), the alerts they raise and each alert's append-only timeline."""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, FSMModelMixin, transition

from org.models import Region
from org.permissions import allowed
from org.scope import ScopeSpec


class Level(models.TextChoices):
    RED = "red", pgettext_lazy("alert level", "Red")
    ORANGE = "orange", pgettext_lazy("alert level", "Orange")
    YELLOW = "yellow", pgettext_lazy("alert level", "Yellow")
    BLUE = "blue", pgettext_lazy("alert level", "Blue")


LEVEL_ORDER = {Level.RED: 0, Level.ORANGE: 1, Level.YELLOW: 2, Level.BLUE: 3}


class RuleKind(models.TextChoices):
    LONG_STOP = "long_stop", _("Abnormal stop")
    BANNED_HOURS = "banned_hours", _("Driving in banned hours")
    ROUTE_DEVIATION = "route_deviation", _("Route deviation")
    OVERSPEED = "overspeed", _("Overspeed")
    LICENCE = "licence", _("Licence anomaly")
    GROUP_RENTAL = "group_rental", _("Group rental")
    HOTLINE_SURGE = "hotline_surge", _("Hotline surge")
    SENSITIVE_CONTENT = "sensitive_content", _("Sensitive content")
    REPEATED_COMPLAINT = "repeated_complaint", _("Repeated complaint")
    VIDEO_EVENT = "video_event", _("Video event")


VEHICLE_KINDS = (RuleKind.LONG_STOP, RuleKind.BANNED_HOURS, RuleKind.ROUTE_DEVIATION, RuleKind.OVERSPEED)


class AlertRule(models.Model):
    """One warning model: a detector kind with its parameters and the level of what it raises."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=24, choices=RuleKind.choices)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(pgettext_lazy("alerts", "level"), max_length=8, choices=Level.choices, default=Level.YELLOW)
    params = models.JSONField(_("parameters"), default=dict, blank=True, help_text=_("Missing keys take the kind's defaults."))
    is_active = models.BooleanField(_("active"), default=True)
    deadline_hours = models.PositiveIntegerField(_("handling limit (hours)"), default=24)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("warning model")
        verbose_name_plural = _("warning models")
        ordering = ["kind", "code"]

    def __str__(self):
        return self.name

    @property
    def detector(self):
        from .rules import detector_for

        return detector_for(self.kind)

    def settings(self) -> dict:
        """The parameters with the kind's defaults filled in."""
        return self.detector.params(self.params or {})

    def clean(self):
        from .rules import ParamError

        try:
            self.settings()
        except ParamError as exc:
            raise ValidationError({"params": str(exc)}) from None


class Expressway(models.Model):
    """An expressway (高速公路/快速路) segment: inside its half-width the higher speed limit applies."""

    name = models.CharField(_("name"), max_length=100)
    geometry = models.MultiLineStringField(_("centre line"), srid=4326)
    half_width_m = models.PositiveIntegerField(_("half width (m)"), default=40)

    class Meta:
        verbose_name = _("expressway")
        verbose_name_plural = _("expressways")
        ordering = ["name"]

    def __str__(self):
        return self.name


class State(models.TextChoices):
    RAISED = "raised", _("Raised")
    ASSIGNED = "assigned", _("Assigned")
    VERIFIED = "verified", _("Verified")
    HANDLED = "handled", _("Handled")
    TICKETED = "ticketed", _("Turned into a ticket")
    EVALUATED = "evaluated", _("Effect evaluated")
    CLOSED = "closed", pgettext_lazy("alert state", "Closed")


OPEN_STATES = (State.RAISED, State.ASSIGNED, State.VERIFIED, State.HANDLED, State.TICKETED, State.EVALUATED)
DUE_STATES = (State.ASSIGNED, State.VERIFIED)  # the department's clock runs until it has handled the alert


class Alert(FSMModelMixin, models.Model):
    """预警: one finding of a warning model about one subject in one time window, with its evidence."""

    class Verdict(models.TextChoices):
        PENDING = "", _("Not verified")
        TRUE = "true", _("True positive")
        FALSE = "false", _("False positive")

    rule = models.ForeignKey(AlertRule, verbose_name=_("warning model"), on_delete=models.PROTECT, related_name="alerts")
    level = models.CharField(pgettext_lazy("alerts", "level"), max_length=8, choices=Level.choices)
    title = models.CharField(_("title"), max_length=200)
    subject = models.CharField(_("subject"), max_length=80, help_text=_("plate, credit code, dwelling code, camera or address"))
    window_start = models.DateTimeField(pgettext_lazy("alert window", "from"))
    window_end = models.DateTimeField(pgettext_lazy("alert window", "until"))
    location = models.PointField(_("location"), srid=4326)
    region = models.ForeignKey(Region, verbose_name=pgettext_lazy("alerts", "region"), on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=60, editable=False)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    snapshot = models.ImageField(_("snapshot"), upload_to="alerts/snapshots/%Y/%m/", blank=True)
    hits = models.PositiveIntegerField(_("detections"), default=1)
    state = FSMField(_("state"), max_length=10, choices=State.choices, default=State.RAISED, protected=True)
    department = models.ForeignKey(
        "org.Department", verbose_name=_("assigned department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="alerts",
    )
    due_at = models.DateTimeField(pgettext_lazy("alerts", "due at"), null=True, blank=True)
    # when the deadline scanner must next look at this alert; NULL when nothing is pending
    next_scan_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalation_count = models.PositiveSmallIntegerField(_("escalations"), default=0)
    verdict = models.CharField(_("verdict"), max_length=5, choices=Verdict.choices, default=Verdict.PENDING, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", verbose_name=_("ticket"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    effective = models.BooleanField(_("effective"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    closed_at = models.DateTimeField(pgettext_lazy("alerts", "closed at"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, editable=False)

    SCOPE = ScopeSpec(region_path="region_path", department="department")

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["region_path"], name="alerts_region_path_like", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["rule", "subject", "window_start"], name="alerts_dedup"),
            models.Index(fields=["next_scan_at"], name="alerts_due_open", condition=Q(next_scan_at__isnull=False, state__in=DUE_STATES)),
            models.Index(fields=["state", "-id"], name="alerts_open", condition=Q(state__in=OPEN_STATES)),
            models.Index(fields=["department", "-id"], name="alerts_department"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["rule", "subject", "window_start"], name="alerts_one_per_window"),
            models.UniqueConstraint(
                fields=["rule", "idempotency_key"], name="alerts_idempotency_key", condition=Q(idempotency_key__isnull=False)
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.state != State.CLOSED

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return self.due_at is not None and self.state in DUE_STATES and self.due_at < timezone.now()

    # 交办 → 核查 → 处置 → 问效 → 结案; each transition names the action (and so the roles) allowed to take it
    @transition(field=state, source=[State.RAISED, State.ASSIGNED], target=State.ASSIGNED, permission=allowed("alerts.assign"))
    def assign(self):
        pass

    @transition(field=state, source=State.ASSIGNED, target=State.VERIFIED, permission=allowed("alerts.verify"))
    def confirm(self):
        pass

    # a false positive ends the alert at verification
    @transition(field=state, source=State.ASSIGNED, target=State.CLOSED, permission=allowed("alerts.verify"))
    def dismiss(self):
        pass

    @transition(field=state, source=State.VERIFIED, target=State.HANDLED, permission=allowed("alerts.handle"))
    def handle(self):
        pass

    @transition(field=state, source=State.VERIFIED, target=State.TICKETED, permission=allowed("alerts.handle"))
    def to_ticket(self):
        pass

    @transition(field=state, source=[State.HANDLED, State.TICKETED], target=State.EVALUATED, permission=allowed("alerts.evaluate"))
    def evaluate(self):
        pass

    @transition(field=state, source=State.EVALUATED, target=State.CLOSED, permission=allowed("alerts.close"))
    def close(self):
        pass


class AlertEvent(models.Model):
    """One step of an alert's timeline. Rows are only ever inserted."""

    ACTIONS = {
        "raised": _("Raised"),
        "assigned": _("Assigned (交办)"),
        "verified": _("Verified as real (核查)"),
        "false_positive": _("Verified as a false positive"),
        "handled": _("Handled (处置)"),
        "ticketed": _("Turned into a ticket"),
        "evaluated": _("Effect evaluated (问效)"),
        "closed": pgettext_lazy("alert state", "Closed"),
        "escalated": _("Escalated as overdue"),
    }

    alert = models.ForeignKey(Alert, verbose_name=_("alert"), on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(pgettext_lazy("alerts", "action"), max_length=24)
    from_state = models.CharField(pgettext_lazy("alert state", "from"), max_length=10, blank=True)
    to_state = models.CharField(pgettext_lazy("alert state", "to"), max_length=10, blank=True)
    note = models.TextField(pgettext_lazy("alerts", "note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    SCOPE = ScopeSpec(region_path="alert__region_path", department="alert__department")

    class Meta:
        verbose_name = _("alert timeline entry")
        verbose_name_plural = _("alert timeline")
        ordering = ["id"]
        indexes = [models.Index(fields=["alert", "id"], name="alerts_event_alert")]

    def __str__(self):
        return f"{self.alert_id} {self.action}"

    @property
    def action_label(self):
        return self.ACTIONS.get(self.action, self.action)
