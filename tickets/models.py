"""Categories, tickets, assignments, the append-only timeline, photos, requests and the calendar overrides."""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from org.models import Region
from org.permissions import allowed
from org.scope import ScopeSpec


class TimeUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("working days")
    WORKING_HOURS = "working_hours", _("working hours")
    NATURAL_HOURS = "natural_hours", _("natural hours")


class Light(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class Category(models.Model):
    """事项分类: a 大类 (parent is None) or a 小类 carrying its dispatch rule and time limits."""

    class Kind(models.TextChoices):
        COMPONENT = "component", _("Component")
        EVENT = "event", _("Event")
        HOTLINE = "hotline", _("Hotline request")

    class Rule(models.TextChoices):
        OWNER_FIRST = "owner", _("Owner first")
        AREA_FIRST = "area", _("Area first")

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("major class"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    dispatch_rule = models.CharField(_("dispatch rule"), max_length=8, choices=Rule.choices, default=Rule.AREA_FIRST)
    owner_department = models.ForeignKey(
        "org.Department", verbose_name=_("owner department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text=_("Who owns the component (used first by the owner-first rule)."),
    )
    # {"3": "ZF", "2": "CG", "1": "CG"}: department code suffix of the lead department per center level.
    lead_departments = models.JSONField(_("lead department per level"), default=dict, blank=True)
    sign_limit = models.DecimalField(_("sign limit"), max_digits=6, decimal_places=2, default=2)
    sign_unit = models.CharField(_("sign unit"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_HOURS)
    handle_limit = models.DecimalField(_("handling limit"), max_digits=6, decimal_places=2, default=3)
    handle_unit = models.CharField(_("handling unit"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS)
    urgent_sign_limit = models.DecimalField(_("urgent sign limit"), max_digits=6, decimal_places=2, default="0.5")
    urgent_sign_unit = models.CharField(_("urgent sign unit"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.NATURAL_HOURS)
    urgent_handle_limit = models.DecimalField(_("urgent handling limit"), max_digits=6, decimal_places=2, default=4)
    urgent_handle_unit = models.CharField(
        _("urgent handling unit"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.NATURAL_HOURS
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]

    def __str__(self):
        return f"{self.parent.name}/{self.name}" if self.parent_id and "parent" in self._state.fields_cache else self.name

    def clean(self):
        if self.parent_id and self.parent.parent_id:
            raise ValidationError(_("Categories have two levels: a small class must belong to a major class."))
        for level, suffix in (self.lead_departments or {}).items():
            if str(level) not in {"1", "2", "3", "4"} or not isinstance(suffix, str):
                raise ValidationError({"lead_departments": _('Use {"3": "ZF", "2": "CG"}: region level → department code suffix.')})

    def limits(self, *, urgent: bool) -> tuple[tuple, tuple]:
        """((sign amount, unit), (handle amount, unit)) for a normal or urgent ticket."""
        if urgent:
            return (self.urgent_sign_limit, self.urgent_sign_unit), (self.urgent_handle_limit, self.urgent_handle_unit)
        return (self.sign_limit, self.sign_unit), (self.handle_limit, self.handle_unit)


class Source(models.TextChoices):
    GRID = "grid", _("Grid worker")
    HOTLINE = "hotline", _("12345 hotline")
    ALERT = "alert", _("Risk alert")
    VIDEO = "video", _("Video analysis")
    INSPECTION = "inspection", _("Inspection")
    OPEN311 = "open311", _("Open311")
    LEADER = "leader", _("Leader's instruction")


class State(models.TextChoices):
    NEW = "new", _("Received")
    OPEN = "open", _("Case opened")
    DISPATCHED = "dispatched", _("Dispatched")
    HANDLING = "handling", _("Being handled")
    VERIFYING = "verifying", _("Awaiting verification")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    MERGED = "merged", _("Merged as duplicate")
    SUSPENDED = "suspended", _("Suspended")


OPEN_STATES = (State.NEW, State.OPEN, State.DISPATCHED, State.HANDLING, State.VERIFYING, State.SUSPENDED)
DEPARTMENT_STATES = (State.DISPATCHED, State.HANDLING)


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY = "basically", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class Ticket(FSMModelMixin, models.Model):
    """工单/案卷: one problem, from any source, through the closed loop."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="tickets")
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    location = models.PointField(_("location"), srid=4326)
    address = models.CharField(_("address"), max_length=200, blank=True)
    grid = models.ForeignKey("grid.Grid", verbose_name=_("grid"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Region, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey(Region, verbose_name=_("town/street"), on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(Region, verbose_name=_("district"), on_delete=models.PROTECT, related_name="+")
    # community.path, copied so scoping is one indexed prefix match without a join
    region_path = models.CharField(max_length=60, editable=False)
    # the center now responsible (town at first; escalation moves it up)
    center = models.ForeignKey(Region, verbose_name=_("responsible center"), on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("current level"), choices=Region.Level.choices)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reporter"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    citizen_name = models.CharField(_("citizen's name"), max_length=50, blank=True)
    citizen_phone = models.CharField(_("citizen's phone"), max_length=20, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    state = FSMField(_("state"), max_length=12, choices=State.choices, default=State.NEW, protected=True)
    state_before_suspension = models.CharField(max_length=12, blank=True, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1)
    occurred_at = models.DateTimeField(_("occurred at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    light = models.CharField(_("traffic light"), max_length=8, choices=Light.choices, default=Light.GREEN)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", verbose_name=_("duplicate of"), null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )
    rework_count = models.PositiveSmallIntegerField(_("rework count"), default=0)
    urge_count = models.PositiveSmallIntegerField(_("urge count"), default=0)
    escalation_count = models.PositiveSmallIntegerField(_("escalation count"), default=0)
    caller_count = models.PositiveIntegerField(_("callers"), default=1, help_text=_("Citizens who reported this matter."))
    satisfaction = models.CharField(_("satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True)
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("verifier"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, editable=False)

    SCOPE = ScopeSpec(region_path="region_path", department="assignments__department", distinct=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["region_path"], name="tickets_region_path_like", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["center", "state"], name="tickets_center_state", condition=Q(state__in=OPEN_STATES)),
            models.Index(fields=["verifier"], name="tickets_verifier_open", condition=Q(state="verifying")),
            models.Index(fields=["reporter", "-id"], name="tickets_reporter"),
            models.Index(fields=["category", "state"], name="tickets_category_state"),
            models.Index(fields=["due_at"], name="tickets_due_open", condition=Q(state__in=OPEN_STATES)),
        ]
        constraints = [
            # NULLS NOT DISTINCT: a system caller's (created_by NULL) retries are deduplicated too
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"], name="tickets_idempotency_key",
                condition=Q(idempotency_key__isnull=False), nulls_distinct=False,
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    # -- the state machine: each transition names the action (and so the roles) allowed to take it --
    @transition(field=state, source=State.NEW, target=State.OPEN, permission=allowed("tickets.open"))
    def open_case(self):
        pass

    @transition(field=state, source=State.NEW, target=State.CANCELLED, permission=allowed("tickets.cancel"))
    def reject(self):
        pass

    @transition(
        field=state, source=[State.OPEN, State.DISPATCHED, State.HANDLING, State.SUSPENDED],
        target=State.CANCELLED, permission=allowed("tickets.approve"),
    )
    def void(self):
        pass

    @transition(field=state, source=State.OPEN, target=State.DISPATCHED, permission=allowed("tickets.dispatch"))
    def dispatch(self):
        pass

    @transition(field=state, source=State.DISPATCHED, target=State.HANDLING, permission=allowed("tickets.sign"))
    def sign(self):
        pass

    @transition(field=state, source=State.HANDLING, target=State.VERIFYING, permission=allowed("tickets.reply"))
    def finish_department_phase(self):
        pass

    @transition(
        field=state, source=[State.DISPATCHED, State.HANDLING], target=State.OPEN, permission=allowed("tickets.approve")
    )
    def take_back(self):
        pass

    @transition(field=state, source=State.VERIFYING, target=State.CLOSED, permission=allowed("tickets.verify"))
    def verify_pass(self):
        pass

    @transition(field=state, source=State.VERIFYING, target=State.HANDLING, permission=allowed("tickets.verify"))
    def rework(self):
        pass

    @transition(field=state, source=[State.NEW, State.OPEN], target=State.CLOSED, permission=allowed("tickets.self_resolve"))
    def self_resolve(self):
        pass

    @transition(field=state, source=[State.NEW, State.OPEN], target=State.MERGED, permission=allowed("tickets.merge"))
    def merge(self):
        pass

    @transition(
        field=state, source=[State.DISPATCHED, State.HANDLING], target=State.SUSPENDED, permission=allowed("tickets.approve")
    )
    def suspend(self):
        self.state_before_suspension = self.state

    @transition(
        field=state, source=State.SUSPENDED, target=RETURN_VALUE(State.DISPATCHED, State.HANDLING),
        permission=allowed("tickets.resume"),
    )
    def resume(self):
        previous, self.state_before_suspension = self.state_before_suspension, ""
        return previous

    @transition(field=state, source=State.CLOSED, target=State.OPEN, permission=allowed("tickets.reopen"))
    def reopen(self):
        pass

    # urge and escalation keep the state; declared here so their roles sit with the others
    @transition(field=state, source=list(OPEN_STATES), target=None, permission=allowed("tickets.urge"))
    def urge(self):
        pass

    @transition(field=state, source=list(OPEN_STATES), target=None, permission=allowed("tickets.escalate"))
    def escalate(self):
        pass

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class Assignment(FSMModelMixin, models.Model):
    """派单: one department's share of a ticket, lead (主办) or assisting (协办)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        ASSIST = "assist", _("Assisting")

    class State(models.TextChoices):
        DISPATCHED = "dispatched", _("Awaiting signature")
        SIGNED = "signed", _("Being handled")
        REPLIED = "replied", _("Replied")
        RELEASED = "released", _("Released")
        RETURNED = "returned", _("Returned")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE = (State.DISPATCHED, State.SIGNED)

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="assignments")
    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.LEAD)
    state = FSMField(_("state"), max_length=12, choices=State.choices, default=State.DISPATCHED, protected=True)
    dispatched_at = models.DateTimeField(_("dispatched at"))
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    sign_due_at = models.DateTimeField(_("sign due at"))
    sign_unit = models.CharField(max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_HOURS)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    handle_due_at = models.DateTimeField(_("handling due at"))
    handle_unit = models.CharField(max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS)
    # 80% of the current phase's limit: the light turns yellow here
    warn_at = models.DateTimeField(_("warning at"))
    # when the deadline scanner must next look at this row; NULL when nothing is pending
    next_scan_at = models.DateTimeField(null=True, blank=True)
    light = models.CharField(_("traffic light"), max_length=8, choices=Light.choices, default=Light.GREEN)
    urged_at = models.DateTimeField(_("urged at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    reply = models.TextField(_("reply"), blank=True)
    return_reason = models.TextField(_("return reason"), blank=True)

    SCOPE = ScopeSpec(region_path="ticket__region_path", department="department")

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_scan_at"], name="tickets_assignment_scan",
                condition=Q(next_scan_at__isnull=False, state__in=["dispatched", "signed"]),
            ),
            models.Index(
                fields=["department", "handle_due_at"], name="tickets_assignment_inbox", include=["state", "light"],
                condition=Q(state__in=["dispatched", "signed"]),
            ),
            models.Index(fields=["department", "-id"], name="tickets_assignment_dept"),
            # the inbox API's tabs (?state=signed, newest first): without it PostgreSQL walks the primary key
            # backwards past every newer share of other departments
            models.Index(fields=["department", "state", "-id"], name="tickets_assignment_dept_state"),
        ]

    def __str__(self):
        return f"{self.ticket_id}:{self.department_id}:{self.role}"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE

    @property
    def due_at(self):
        return self.sign_due_at if self.state == self.State.DISPATCHED else self.handle_due_at

    @property
    def due_unit(self):
        """The time unit of `due_at`: signing's while dispatched, handling's after."""
        return self.sign_unit if self.state == self.State.DISPATCHED else self.handle_unit

    @transition(field=state, source=State.DISPATCHED, target=State.SIGNED, permission=allowed("tickets.sign"))
    def sign(self):
        pass

    @transition(field=state, source=State.SIGNED, target=State.REPLIED, permission=allowed("tickets.reply"))
    def answer(self):
        pass

    @transition(field=state, source=[State.DISPATCHED, State.SIGNED], target=State.RELEASED, permission=allowed("tickets.dispatch"))
    def release(self):
        pass

    @transition(field=state, source=[State.DISPATCHED, State.SIGNED], target=State.RETURNED, permission=allowed("tickets.approve"))
    def give_back(self):
        pass

    @transition(field=state, source=[State.DISPATCHED, State.SIGNED, State.REPLIED], target=State.CANCELLED)
    def cancel(self):
        pass

    @transition(field=state, source=State.REPLIED, target=State.SIGNED, permission=allowed("tickets.verify"))
    def redo(self):
        pass


ACTION_LABELS = {
    "created": _("Received"),
    "opened": _("Case opened"),
    "cancelled": _("Not opened as a case"),
    "dispatched": _("Dispatched"),
    "signed": _("Signed"),
    "replied": _("Replied"),
    "released": _("Assisting department released"),
    "closed": _("Verified and closed"),
    "reworked": _("Sent back as rework"),
    "self_resolved": _("Resolved on the spot"),
    "merged": _("Merged as duplicate"),
    "urged": _("Urged"),
    "escalated": _("Escalated"),
    "light": _("Traffic light changed"),
    "extension_requested": _("Extension requested"),
    "return_requested": _("Return requested"),
    "cancel_requested": _("Cancellation requested"),
    "suspend_requested": _("Suspension requested"),
    "extended": _("Extension approved"),
    "returned": _("Return approved"),
    "voided": _("Cancelled (voided)"),
    "suspended": _("Suspended"),
    "resumed": _("Suspension ended"),
    "extension_rejected": _("Extension rejected"),
    "return_rejected": _("Return rejected"),
    "cancel_rejected": _("Cancellation rejected"),
    "suspend_rejected": _("Suspension rejected"),
    "reopened": _("Reopened"),
    "rated": _("Satisfaction recorded"),
    "caller_added": _("Another caller about the same matter"),
    "batch": _("Deadline scan"),
}


class TicketEvent(models.Model):
    """流转记录: one row per transition. PostgreSQL refuses UPDATE and DELETE on this table (see migration)."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=24)
    from_state = models.CharField(_("from"), max_length=12, blank=True)
    to_state = models.CharField(_("to"), max_length=12, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    SCOPE = ScopeSpec(region_path="ticket__region_path", department="ticket__assignments__department", distinct=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline")
        ordering = ["id"]
        indexes = [models.Index(fields=["ticket", "id"], name="tickets_event_ticket")]

    def __str__(self):
        return f"{self.ticket_id} {self.action}"

    @property
    def label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))

    @property
    def from_label(self) -> str:
        return str(State(self.from_state).label) if self.from_state in State.values else ""

    @property
    def to_label(self) -> str:
        return str(State(self.to_state).label) if self.to_state in State.values else ""


class TicketPhoto(models.Model):
    class Kind(models.TextChoices):
        BEFORE = "before", _("Before")
        AFTER = "after", _("After")
        VERIFY = "verify", _("Verification")

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="photos")
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.PROTECT, related_name="photos")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    image = models.ImageField(_("image"), upload_to="tickets/photos/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="tickets/thumbs/%Y/%m/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    SCOPE = ScopeSpec(region_path="ticket__region_path", department="ticket__assignments__department", distinct=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["id"]


class TicketRequest(models.Model):
    """A request that waits for a dispatcher's or duty chief's decision: extension, return, cancellation, suspension."""

    class Kind(models.TextChoices):
        EXTENSION = "extension", _("Extension")
        RETURN = "return", _("Return")
        CANCEL = "cancel", _("Cancellation")
        SUSPEND = "suspend", _("Suspension")

    class Decision(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="requests")
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.PROTECT, related_name="requests")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    reason = models.TextField(_("reason"))
    extra_days = models.PositiveSmallIntegerField(_("extra working days"), null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    SCOPE = ScopeSpec(region_path="ticket__region_path", department="assignment__department")

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["id"]
        indexes = [models.Index(fields=["decision", "kind"], name="tickets_request_pending", condition=Q(decision="pending"))]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind"], condition=Q(decision="pending"), name="tickets_one_pending_request_per_kind",
                violation_error_message=_("A request of this kind is already waiting for a decision."),
            ),
        ]


class NumberSequence(models.Model):
    """Per district and day, the last ticket serial handed out (atomic upsert)."""

    prefix = models.CharField(max_length=16, primary_key=True)
    last = models.PositiveIntegerField(default=0)


class CalendarOverride(models.Model):
    """A day the administrator declares a working day or a holiday; wins over chinese_calendar."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {'班' if self.is_workday else '休'}"


# the classifier's tables live in their own module (tickets/classify/models.py)
from .classify.models import CategorySynonyms, ClassifierModel, LabelledText, SuggestionOutcome  # noqa: E402,F401
