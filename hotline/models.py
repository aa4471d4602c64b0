"""12345 hotline: contacts (来电/诉求), knowledge base, return visits, time limits by type, Open311 clients
and services, and the gazetteer of the demo city."""

import hashlib
import secrets
import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from org.models import Region
from org.scope import ScopeSpec
from tickets.models import Satisfaction, TimeUnit


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    WEB = "web", _("Website")
    APP = "app", _("App")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("E-mail")
    POLICE = "110", _("110 transfer")
    OPEN311 = "open311", _("Open311")


class ContactType(models.TextChoices):
    CONSULT = "consult", _("Consultation")
    HELP = "help", _("Request for help")
    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Report of wrongdoing")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")


class Outcome(models.TextChoices):
    DIRECT = "direct", pgettext_lazy("hotline", "Resolved on the spot")
    LINKED = "linked", _("Linked to an existing ticket")
    NEW_TICKET = "new_ticket", _("New ticket")


class Contact(models.Model):
    """来电/诉求: one contact from a citizen on any channel, and what the agent did with it."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    type = models.CharField(_("type"), max_length=12, choices=ContactType.choices)
    caller_name = models.CharField(_("caller's name"), max_length=50, blank=True)
    caller_phone = models.CharField(_("caller's phone"), max_length=20, blank=True)
    content = models.TextField(_("content"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    location = models.PointField(_("location"), srid=4326, null=True, blank=True)
    grid = models.ForeignKey("grid.Grid", verbose_name=_("grid"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Region, verbose_name=_("community"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # the community's path when located, else the agent's region: scoping is one prefix match
    region_path = models.CharField(max_length=60, editable=False)
    category = models.ForeignKey("tickets.Category", verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    urgent = models.BooleanField(_("urgent"), default=False)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("agent"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    open311_client = models.ForeignKey("Open311Client", verbose_name=_("Open311 client"), null=True, blank=True, on_delete=models.PROTECT, related_name="contacts")
    open311_service = models.ForeignKey("Open311Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    ticket = models.ForeignKey("tickets.Ticket", verbose_name=_("ticket"), null=True, blank=True, on_delete=models.PROTECT, related_name="hotline_contacts")
    article = models.ForeignKey("KnowledgeArticle", verbose_name=_("knowledge article"), null=True, blank=True, on_delete=models.PROTECT, related_name="contacts")
    answer = models.TextField(_("answer"), blank=True)
    is_repeat = models.BooleanField(_("repeat call"), default=False)
    due_at = models.DateTimeField(pgettext_lazy("hotline", "due at"))
    closed_at = models.DateTimeField(pgettext_lazy("hotline", "closed at"), null=True, blank=True)
    created_at = models.DateTimeField(pgettext_lazy("hotline", "received at"), auto_now_add=True)
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, editable=False)

    SCOPE = ScopeSpec(region_path="region_path")

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["caller_phone", "-id"], name="hotline_contact_phone", condition=~Q(caller_phone="")),
            models.Index(fields=["region_path"], name="hotline_contact_region", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["created_at"], name="hotline_contact_created"),
            models.Index(fields=["ticket"], name="hotline_contact_ticket"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["agent", "idempotency_key"], name="hotline_contact_idem_agent",
                                    condition=Q(idempotency_key__isnull=False, agent__isnull=False)),
            models.UniqueConstraint(fields=["open311_client", "idempotency_key"], name="hotline_contact_idem_client",
                                    condition=Q(idempotency_key__isnull=False, open311_client__isnull=False)),
        ]

    def __str__(self):
        return f"{self.pk} {self.get_type_display()} {self.content[:20]}"


class ContactTimeLimit(models.Model):
    """How long the hotline has to finish a contact of one type; `urgent` applies to every urgent contact."""

    URGENT = "urgent"
    SAME_DAY = "same_day"
    KEY_CHOICES = [*ContactType.choices, (URGENT, _("Urgent"))]
    UNIT_CHOICES = [*TimeUnit.choices, (SAME_DAY, _("the same day"))]

    key = models.CharField(_("contact type"), max_length=12, choices=KEY_CHOICES, unique=True)
    amount = models.DecimalField(_("limit"), max_digits=6, decimal_places=2, default=0)
    unit = models.CharField(_("unit"), max_length=16, choices=UNIT_CHOICES, default=TimeUnit.WORKING_DAYS)

    class Meta:
        verbose_name = _("time limit by contact type")
        verbose_name_plural = _("time limits by contact type")
        ordering = ["key"]

    def __str__(self):
        return f"{self.get_key_display()}: {self.amount} {self.get_unit_display()}"


class KnowledgeArticle(models.Model):
    """知识库: an answer agents give directly, valid for a period."""

    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("answer"))
    category = models.ForeignKey("tickets.Category", verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("org.Department", verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    segmented = models.TextField(editable=False, blank=True)  # jieba tokens of title + body, space-separated
    search_vector = SearchVectorField(null=True, editable=False)
    used_count = models.PositiveIntegerField(_("times used"), default=0, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge base")
        ordering = ["-updated_at"]
        indexes = [GinIndex(fields=["search_vector"], name="hotline_article_search")]
        permissions = [("edit_knowledge", _("Can edit the knowledge base (hotline agents)"))]

    def __str__(self):
        return self.title


class ReturnVisit(models.Model):
    """回访: after a hotline ticket closes, the caller is asked how satisfied they are, within one working day."""

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("hotline", "Due")
        DONE = "done", _("Done")
        WITH_CHIEF = "chief", _("With the duty chief")

    class FollowUp(models.TextChoices):
        NONE = "", _("None")
        REWORK = "rework", _("Reopened as rework")
        CHIEF = "chief", _("Sent to the duty chief")
        CHIEF_REOPENED = "chief_reopened", _("Reopened by the duty chief")
        CHIEF_CLOSED = "chief_closed", _("Closed by the duty chief")

    ticket = models.ForeignKey("tickets.Ticket", verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="return_visits")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=60, editable=False)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField(pgettext_lazy("return visit", "due at"))
    # the deadline scanner's column: NULL once overdue is recorded or the visit is done
    next_scan_at = models.DateTimeField(null=True, blank=True, editable=False)
    overdue = models.BooleanField(_("overdue"), default=False)
    satisfaction = models.CharField(_("satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    follow_up = models.CharField(_("follow-up"), max_length=16, choices=FollowUp.choices, blank=True, default="")
    visited_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("visited by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    visited_at = models.DateTimeField(_("visited at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = ScopeSpec(region_path="region_path")

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["next_scan_at"], name="hotline_visit_scan", condition=Q(next_scan_at__isnull=False, state="pending")),
            models.Index(fields=["state", "due_at"], name="hotline_visit_state"),
        ]
        constraints = [
            # one pending visit per caller of the ticket (contact None: a hotline ticket without a recorded contact)
            models.UniqueConstraint(fields=["ticket", "contact"], condition=Q(state="pending"), name="hotline_one_pending_visit_per_caller",
                                    nulls_distinct=False),
        ]

    def __str__(self):
        return f"{self.ticket_id} {self.get_state_display()}"


class Open311Client(models.Model):
    """An app or third party allowed to POST requests; the API key is shown once and stored hashed."""

    name = models.CharField(_("name"), max_length=100)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    key_prefix = models.CharField(_("key prefix"), max_length=8, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @staticmethod
    def hash_key(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    def set_new_key(self) -> str:
        """Give the client a fresh key; returns it (the only time it is seen in clear)."""
        raw = secrets.token_urlsafe(30)
        self.key_prefix, self.key_hash = raw[:8], self.hash_key(raw)
        return raw


class Open311Service(models.Model):
    """A GeoReport v2 service: one code clients submit to, mapped to a hotline category."""

    code = models.SlugField(_("service code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    group = models.CharField(_("group"), max_length=50, blank=True)
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    category = models.ForeignKey("tickets.Category", verbose_name=_("category"), on_delete=models.PROTECT, related_name="+")
    contact_type = models.CharField(_("contact type"), max_length=12, choices=ContactType.choices, default=ContactType.COMPLAINT)
    # GeoReport attribute definitions: [{"code", "datatype", "required", "description", "order", "values": [{"key","name"}]}]
    attributes = models.JSONField(_("attributes"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("Open311 service")
        verbose_name_plural = _("Open311 services")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Road(models.Model):
    """A named road of the gazetteer with its house-number range (odd numbers on the north/east side)."""

    name = models.CharField(_("name"), max_length=50)
    aliases = models.JSONField(_("aliases"), default=list, blank=True)
    district = models.ForeignKey(Region, verbose_name=_("district"), on_delete=models.PROTECT, related_name="+")
    line = models.LineStringField(_("line"), srid=4326)
    first_number = models.PositiveIntegerField(_("first house number"), default=1)
    last_number = models.PositiveIntegerField(_("last house number"))

    class Meta:
        verbose_name = _("road")
        verbose_name_plural = _("roads")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name", "district"], name="hotline_road_unique")]

    def __str__(self):
        return self.name


class Place(models.Model):
    """A residential compound (小区) or landmark of the gazetteer."""

    class Kind(models.TextChoices):
        COMPOUND = "compound", _("Residential compound")
        LANDMARK = "landmark", _("Landmark")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=60)
    aliases = models.JSONField(_("aliases"), default=list, blank=True)
    district = models.ForeignKey(Region, verbose_name=_("district"), on_delete=models.PROTECT, related_name="+")
    location = models.PointField(_("location"), srid=4326)
    buildings = models.PositiveSmallIntegerField(_("buildings"), default=0)

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name", "district"], name="hotline_place_unique")]

    def __str__(self):
        return self.name
