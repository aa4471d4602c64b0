"""Data hub (数据共享交换): the resource catalog, department tokens, exchange batches and the typed feeds."""

from datetime import timedelta

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from org.models import Department, Region
from org.scope import ScopeSpec


class DataResource(models.Model):
    """One entry of the data resource catalog (数据资源目录)."""

    class Sharing(models.TextChoices):
        UNCONDITIONAL = "unconditional", _("Shared without conditions")
        CONDITIONAL = "conditional", _("Shared on conditions")
        NOT_SHARED = "not_shared", _("Not shared")

    class Cycle(models.TextChoices):
        REALTIME = "realtime", _("Real time")
        HOURLY = "hourly", _("Hourly")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")
        YEARLY = "yearly", _("Yearly")

    class Feed(models.TextChoices):
        """Where accepted rows are stored: a typed table, or JSON records keyed per resource."""

        GENERIC = "generic", _("JSON records")
        VEHICLE_POSITION = "vehicle_position", _("Vehicle positions")
        HAZMAT_VEHICLE = "hazmat_vehicle", _("Hazardous-goods vehicles")
        ENTERPRISE = "enterprise", _("Enterprises")
        LICENCE = "licence", _("Licences")
        DWELLING = "dwelling", _("Dwellings")
        CAMERA = "camera", _("Cameras")

    # How long after its last update a resource still counts as fresh (the cycle plus some slack).
    CYCLE_PERIOD = {
        Cycle.REALTIME: timedelta(minutes=15),
        Cycle.HOURLY: timedelta(hours=2),
        Cycle.DAILY: timedelta(days=1, hours=6),
        Cycle.WEEKLY: timedelta(days=8),
        Cycle.MONTHLY: timedelta(days=32),
        Cycle.YEARLY: timedelta(days=370),
    }

    code = models.CharField(_("resource code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(Department, verbose_name=pgettext_lazy("datahub", "owner department"), on_delete=models.PROTECT, related_name="data_resources")
    description = models.TextField(_("description"), blank=True)
    schema = models.JSONField(_("field schema"), default=dict, help_text=_("JSON Schema of one record"))
    key_field = models.CharField(
        _("key field"), max_length=64, blank=True, help_text=_("Field that identifies a record; a newer row with the same key replaces the older one")
    )
    feed = models.CharField(_("storage"), max_length=20, choices=Feed.choices, default=Feed.GENERIC)
    update_cycle = models.CharField(_("update cycle"), max_length=10, choices=Cycle.choices, default=Cycle.DAILY)
    sharing = models.CharField(_("sharing type"), max_length=20, choices=Sharing.choices, default=Sharing.CONDITIONAL)
    record_count = models.BigIntegerField(_("record count"), default=0)
    last_updated_at = models.DateTimeField(_("last update"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Management (batches, tokens, approving requests) is the owner department's; the catalog itself
    # is a directory every catalog reader sees (selectors.catalog_for).
    SCOPE = ScopeSpec(region_path="owner__region__path", department="owner")

    class Meta:
        verbose_name = _("data resource")
        verbose_name_plural = _("data resources")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def fresh_until(self):
        if self.last_updated_at is None:
            return None
        return self.last_updated_at + self.CYCLE_PERIOD[self.update_cycle]

    @property
    def is_fresh(self) -> bool:
        until = self.fresh_until
        return until is not None and timezone.now() <= until


class AccessRequest(models.Model):
    """A department's request to read a conditionally shared resource; the owner decides."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", pgettext_lazy("datahub", "Rejected")
        REVOKED = "revoked", _("Revoked")

    resource = models.ForeignKey(DataResource, verbose_name=_("resource"), on_delete=models.CASCADE, related_name="access_requests")
    department = models.ForeignKey(Department, verbose_name=_("requesting department"), on_delete=models.PROTECT, related_name="+")
    purpose = models.TextField(_("purpose"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    # The requester sees its own requests; the owner's officers see them through the resource (selectors).
    SCOPE = ScopeSpec(region_path="department__region__path", department="department")

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        ordering = ["-requested_at"]
        constraints = [
            # One open or granted request per department and resource; rejected ones may be asked again.
            models.UniqueConstraint(
                fields=["resource", "department"],
                condition=models.Q(status__in=["pending", "approved"]),
                name="datahub_one_live_request",
            ),
        ]

    def __str__(self):
        return f"{self.department} → {self.resource.code}"


class DepartmentToken(models.Model):
    """A department's API token: only its sha256 is stored; the secret is shown once."""

    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="data_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, help_text=_("First characters of the secret, to recognise it"))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    SCOPE = ScopeSpec(region_path="department__region__path", department="department")

    class Meta:
        verbose_name = _("department token")
        verbose_name_plural = _("department tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class TokenScope(models.Model):
    class Direction(models.TextChoices):
        PUSH = "push", _("Push")
        READ = "read", _("Read")

    token = models.ForeignKey(DepartmentToken, on_delete=models.CASCADE, related_name="scopes")
    resource = models.ForeignKey(DataResource, verbose_name=_("resource"), on_delete=models.CASCADE, related_name="+")
    direction = models.CharField(_("direction"), max_length=4, choices=Direction.choices)

    class Meta:
        verbose_name = _("token scope")
        verbose_name_plural = _("token scopes")
        constraints = [models.UniqueConstraint(fields=["token", "resource", "direction"], name="datahub_token_scope_unique")]


class ExchangeBatch(models.Model):
    """One pushed batch (交换批次) with its counts; unique per resource and idempotency key."""

    class Format(models.TextChoices):
        JSON = "json", "JSON"
        NDJSON = "ndjson", "NDJSON"
        CSV = "csv", "CSV"

    resource = models.ForeignKey(DataResource, verbose_name=_("resource"), on_delete=models.PROTECT, related_name="batches")
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+")
    token = models.ForeignKey(DepartmentToken, verbose_name=_("token"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    idempotency_key = models.CharField(_("idempotency key"), max_length=100)
    format = models.CharField(_("format"), max_length=6, choices=Format.choices)
    received = models.PositiveIntegerField(_("rows received"), default=0)
    accepted = models.PositiveIntegerField(_("rows accepted"), default=0)
    rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    bytes = models.BigIntegerField(_("bytes"), default=0)
    body_sha256 = models.CharField(_("body sha256"), max_length=64, blank=True, default="", editable=False)
    # The first rejected rows with their reasons (capped: a million bad rows are reported by count).
    errors = models.JSONField(_("rejected rows"), default=list, blank=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))

    SCOPE = ScopeSpec(region_path="department__region__path", department="department")

    class Meta:
        verbose_name = _("exchange batch")
        verbose_name_plural = _("exchange batches")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["resource", "idempotency_key"], name="datahub_batch_idempotent")]

    def __str__(self):
        return f"{self.resource.code} #{self.pk}"


class ExchangeDaily(models.Model):
    """Records exchanged per department, resource and day, updated in the batch's transaction."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey(DataResource, on_delete=models.CASCADE, related_name="daily")
    day = models.DateField()
    batches = models.PositiveIntegerField(default=0)
    accepted = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)

    SCOPE = ScopeSpec(region_path="department__region__path", department="department")

    class Meta:
        verbose_name = _("daily exchange volume")
        verbose_name_plural = _("daily exchange volumes")
        constraints = [models.UniqueConstraint(fields=["department", "resource", "day"], name="datahub_daily_unique")]
        indexes = [models.Index(fields=["day"], name="datahub_daily_day")]


class DataRecord(models.Model):
    """A row of a resource without a typed table: JSON, keyed per resource."""

    resource = models.ForeignKey(DataResource, on_delete=models.CASCADE, related_name="records")
    key = models.CharField(max_length=200)
    data = models.JSONField()
    batch = models.ForeignKey(ExchangeBatch, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["resource", "key"], name="datahub_record_key")]


# ---- typed feeds -------------------------------------------------------------------------------


class HazmatVehicle(models.Model):
    """A hazardous-goods vehicle (危险货物运输车辆) with its approved route and permitted hours."""

    plate = models.CharField(_("plate"), max_length=12, unique=True)
    carrier_name = models.CharField(_("carrier enterprise"), max_length=200)
    carrier_credit_code = models.CharField(_("carrier credit code"), max_length=18, blank=True, db_index=True)
    goods_class = models.CharField(_("goods class"), max_length=8, help_text=_("GB 6944 class, e.g. 2.1 or 3"))
    route = models.LineStringField(_("approved route"), srid=4326)
    sites = models.MultiPointField(_("registered sites"), srid=4326, null=True, blank=True)
    permitted_start = models.TimeField(_("permitted from"))
    permitted_end = models.TimeField(_("permitted until"))
    batch = models.ForeignKey(ExchangeBatch, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("hazardous-goods vehicle")
        verbose_name_plural = _("hazardous-goods vehicles")
        ordering = ["plate"]

    def __str__(self):
        return self.plate


class VehiclePosition(models.Model):
    """A position report; the table is partitioned by day (see migration 0002) and not managed by Django."""

    id = models.BigIntegerField(primary_key=True)
    plate = models.CharField(_("plate"), max_length=12)
    recorded_at = models.DateTimeField(_("time"))
    point = models.PointField(pgettext_lazy("datahub", "position"), srid=4326)
    speed_kmh = models.FloatField(_("speed (km/h)"))
    batch_id = models.BigIntegerField(null=True)

    class Meta:
        managed = False
        db_table = "datahub_vehicle_position"
        verbose_name = _("vehicle position")
        verbose_name_plural = _("vehicle positions")


class Enterprise(models.Model):
    class Status(models.TextChoices):
        OPERATING = "operating", _("Operating")
        RECTIFYING = "rectifying", _("Under rectification")
        SUSPENDED = "suspended", pgettext_lazy("datahub", "Suspended")
        DEREGISTERED = "deregistered", _("Deregistered")

    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=200)
    location = models.PointField(_("location"), srid=4326, null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.OPERATING)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    batch = models.ForeignKey(ExchangeBatch, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("updated at"))

    SCOPE = ScopeSpec(region_path="region__path")

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["credit_code"]

    def __str__(self):
        return self.name


class Licence(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", pgettext_lazy("datahub", "Valid")
        SUSPENDED = "suspended", pgettext_lazy("datahub", "Suspended")
        REVOKED = "revoked", _("Revoked")
        CANCELLED = "cancelled", pgettext_lazy("datahub", "Cancelled")

    licence_type = models.CharField(_("licence type"), max_length=100)
    number = models.CharField(_("licence number"), max_length=64)
    holder_credit_code = models.CharField(_("holder credit code"), max_length=18, db_index=True)
    valid_from = models.DateField(pgettext_lazy("datahub", "valid from"))
    valid_to = models.DateField(pgettext_lazy("datahub", "valid until"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.VALID)
    batch = models.ForeignKey(ExchangeBatch, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        ordering = ["licence_type", "number"]
        constraints = [models.UniqueConstraint(fields=["licence_type", "number"], name="datahub_licence_unique")]

    def __str__(self):
        return f"{self.licence_type} {self.number}"


class Dwelling(models.Model):
    """A dwelling with its registered residents and floor area (for group-rental checks)."""

    code = models.CharField(_("dwelling code"), max_length=40, unique=True)
    address = models.CharField(_("address"), max_length=300)
    location = models.PointField(_("location"), srid=4326, null=True, blank=True)
    area_m2 = models.FloatField(_("floor area (m²)"))
    registered_residents = models.PositiveIntegerField(_("registered residents"))
    rooms = models.PositiveSmallIntegerField(_("rooms"), null=True, blank=True)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    batch = models.ForeignKey(ExchangeBatch, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("updated at"))

    SCOPE = ScopeSpec(region_path="region__path")

    class Meta:
        verbose_name = _("dwelling")
        verbose_name_plural = _("dwellings")
        ordering = ["code"]

    def __str__(self):
        return self.address


class Camera(models.Model):
    code = models.CharField(pgettext_lazy("datahub", "camera code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    location = models.PointField(_("location"), srid=4326)
    owner_name = models.CharField(_("owner"), max_length=200)
    stream_name = models.CharField(_("stream name"), max_length=200)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    batch = models.ForeignKey(ExchangeBatch, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("updated at"))

    SCOPE = ScopeSpec(region_path="region__path")

    class Meta:
        verbose_name = _("camera")
        verbose_name_plural = _("cameras")
        ordering = ["code"]

    def __str__(self):
        return self.name


class PlantedAnomaly(models.Model):
    """Ground truth written by the demo-day generator, so the alert detectors' recall can be measured."""

    class Kind(models.TextChoices):
        LONG_STOP = "long_stop", _("Long stop outside registered sites")
        BANNED_HOURS = "banned_hours", _("Driving in banned hours")
        OFF_ROUTE = "off_route", _("Left the approved route")
        SPEEDING = "speeding", _("Speeding")
        EXPIRED_LICENCE = "expired_licence", _("Expired licence")
        REVOKED_LICENCE = "revoked_licence", _("Revoked licence")
        OVERCROWDED_DWELLING = "overcrowded_dwelling", _("Dwelling over occupancy rules")

    day = models.DateField()
    kind = models.CharField(max_length=24, choices=Kind.choices)
    subject = models.CharField(max_length=40, help_text=_("plate, credit code or dwelling code"))
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    detail = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("planted anomaly")
        verbose_name_plural = _("planted anomalies")
        ordering = ["day", "kind", "subject"]
        indexes = [models.Index(fields=["day", "kind"], name="datahub_planted_day_kind")]
