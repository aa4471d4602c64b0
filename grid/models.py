"""Grids (网格): the smallest unit of the city, each inside one community."""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from org.models import Region
from org.scope import ScopeSpec


class Grid(models.Model):
    class Kind(models.TextChoices):
        COMPREHENSIVE = "comprehensive", _("Comprehensive grid")
        DEDICATED = "dedicated", _("Dedicated grid")

    code = models.CharField(_("code"), max_length=15, unique=True, help_text=_("12-digit community code + 3-digit serial"))
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.COMPREHENSIVE)
    community = models.ForeignKey(
        Region,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="grids",
        limit_choices_to={"level": Region.Level.COMMUNITY},
    )
    # Copy of community.path so scoping a grid is one indexed prefix match without a join.
    region_path = models.CharField(max_length=60, editable=False, db_index=True)
    boundary = models.MultiPolygonField(_("boundary"), srid=4326)
    households = models.PositiveIntegerField(_("households"), default=0)
    population = models.PositiveIntegerField(_("population"), default=0)
    station = models.PointField(_("grid station"), srid=4326, null=True, blank=True)

    SCOPE = ScopeSpec(region_path="region_path")

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[0-9]{15}$"), name="grid_code_15_digits"),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        self.region_path = self.community.path
        super().save(*args, **kwargs)


class GridWorker(models.Model):
    """A person who works a grid: one full-time worker per grid (一人一格), with part-timers and "1+N" helpers."""

    class Kind(models.TextChoices):
        FULL_TIME = "full_time", _("Full-time grid worker")
        PART_TIME = "part_time", _("Part-time grid worker")
        GRID_HEAD = "grid_head", _("Grid head")
        INSTRUCTOR = "instructor", _("Grid instructor")
        INFO_OFFICER = "info_officer", _("Information officer")
        POLICE = "police", _("Community police")
        MEDICAL = "medical", _("Medical staff")
        CADRE = "cadre", _("Cadre sent down")
        BUILDING_HEAD = "building_head", _("Building head")
        VOLUNTEER = "volunteer", _("Volunteer")
        UTILITY = "utility", _("Utility staff")

    user = models.OneToOneField("org.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="grid_worker")
    grid = models.ForeignKey(Grid, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="workers")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.FULL_TIME)
    is_active = models.BooleanField(_("active"), default=True)
    since = models.DateField(_("since"), auto_now_add=True)
    until = models.DateField(_("until"), null=True, blank=True)
    region_path = models.CharField(max_length=60, editable=False, db_index=True)

    SCOPE = ScopeSpec(region_path="region_path")

    # The one who "owns" the grid; everyone else is attached to it as a helper (1+N).
    HELPER_KINDS = frozenset({Kind.POLICE, Kind.MEDICAL, Kind.CADRE, Kind.BUILDING_HEAD, Kind.VOLUNTEER, Kind.UTILITY})

    class Meta:
        verbose_name = _("grid worker")
        verbose_name_plural = _("grid workers")
        constraints = [
            models.UniqueConstraint(
                fields=["grid"],
                condition=models.Q(kind="full_time", is_active=True),
                name="grid_one_full_time_worker_per_grid",
                violation_error_message=_("This grid already has a full-time grid worker."),
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.grid.name}"

    def save(self, *args, **kwargs):
        self.region_path = self.grid.region_path
        super().save(*args, **kwargs)


class GridWorkerChange(models.Model):
    """Roster history: every join, move, change of kind and departure of a grid worker (append-only)."""

    class Action(models.TextChoices):
        JOINED = "joined", _("Joined")
        MOVED = "moved", _("Moved to another grid")
        KIND_CHANGED = "kind_changed", _("Kind changed")
        LEFT = "left", _("Left")

    worker = models.ForeignKey(GridWorker, verbose_name=_("grid worker"), on_delete=models.CASCADE, related_name="changes")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_grid = models.ForeignKey(
        Grid, verbose_name=_("from grid"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_grid = models.ForeignKey(
        Grid, verbose_name=_("to grid"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_kind = models.CharField(_("from kind"), max_length=20, choices=GridWorker.Kind.choices, blank=True)
    to_kind = models.CharField(_("to kind"), max_length=20, choices=GridWorker.Kind.choices, blank=True)
    by = models.ForeignKey("org.User", verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    region_path = models.CharField(max_length=60, editable=False, db_index=True)

    SCOPE = ScopeSpec(region_path="region_path")

    class Meta:
        verbose_name = _("roster change")
        verbose_name_plural = _("roster changes")
        ordering = ["-at", "-id"]


class CheckIn(models.Model):
    """定位报到: a grid worker says "I am here", with the browser's position."""

    user = models.ForeignKey("org.User", verbose_name=_("user"), on_delete=models.PROTECT, related_name="check_ins")
    grid = models.ForeignKey(Grid, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="check_ins")
    location = models.PointField(_("location"), srid=4326)
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    inside_grid = models.BooleanField(_("inside the grid"))
    distance_to_grid_m = models.FloatField(_("distance to the grid (m)"), default=0)
    at = models.DateTimeField(_("checked in at"), help_text=_("time on the phone; may be earlier than received"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    # Made by the phone, so a check-in queued offline and sent twice is stored once.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    region_path = models.CharField(max_length=60, editable=False, db_index=True)

    SCOPE = ScopeSpec(region_path="region_path")

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["-at"]
        indexes = [models.Index(fields=["user", "at"], name="grid_checkin_user_at")]
        constraints = [models.UniqueConstraint(fields=["user", "idempotency_key"], name="grid_checkin_once_per_key")]


class PatrolChecklistItem(models.Model):
    """巡查责任清单: what a patrol of this grid must look at."""

    grid = models.ForeignKey(Grid, verbose_name=_("grid"), on_delete=models.CASCADE, related_name="checklist")
    title = models.CharField(_("item"), max_length=120)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    region_path = models.CharField(max_length=60, editable=False, db_index=True)

    SCOPE = ScopeSpec(region_path="region_path")

    class Meta:
        verbose_name = _("patrol checklist item")
        verbose_name_plural = _("patrol checklist")
        ordering = ["grid", "position", "id"]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.region_path = self.grid.region_path
        super().save(*args, **kwargs)


class Patrol(models.Model):
    """巡查: one walk of a grid, from start to stop, with its track and figures computed in PostGIS."""

    class State(models.TextChoices):
        ACTIVE = "active", _("On patrol")
        DONE = "done", _("Finished")

    user = models.ForeignKey("org.User", verbose_name=_("user"), on_delete=models.PROTECT, related_name="patrols")
    grid = models.ForeignKey(Grid, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="patrols")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ACTIVE)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    distance_m = models.FloatField(_("distance (m)"), default=0)
    inside_distance_m = models.FloatField(_("distance inside the grid (m)"), default=0)
    inside_seconds = models.FloatField(_("time inside the grid (s)"), default=0)
    points_count = models.PositiveIntegerField(_("track points"), default=0)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    region_path = models.CharField(max_length=60, editable=False, db_index=True)

    SCOPE = ScopeSpec(region_path="region_path")

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(state="active"), name="grid_one_active_patrol_per_user",
                violation_error_message=_("You are already on patrol."),
            ),
            models.UniqueConstraint(fields=["user", "idempotency_key"], name="grid_patrol_once_per_key"),
        ]

    @property
    def seconds(self) -> float:
        from django.utils import timezone

        return ((self.ended_at or timezone.now()) - self.started_at).total_seconds()


class PatrolPoint(models.Model):
    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="points")
    location = models.PointField(srid=4326)
    recorded_at = models.DateTimeField()
    accuracy_m = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["recorded_at"]
        constraints = [
            # A batch of points re-sent after a lost answer adds nothing twice.
            models.UniqueConstraint(fields=["patrol", "recorded_at"], name="grid_patrol_point_once"),
        ]


class PatrolCheck(models.Model):
    """One checklist item ticked off during a patrol."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="checks")
    item = models.ForeignKey(PatrolChecklistItem, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patrol", "item"], name="grid_patrol_check_once")]


class MobileSubmission(models.Model):
    """The answer given to one client-made idempotency key, so a replayed offline submission is answered, not redone."""

    user = models.ForeignKey("org.User", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    kind = models.CharField(max_length=20)
    status = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="grid_mobile_submission_once")]
