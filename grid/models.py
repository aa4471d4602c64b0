"""Grids (网格): the smallest unit of the city, each inside one community."""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from command_center.org.models import Region
from command_center.org.scope import ScopeSpec


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
    region_path = models.CharField(max_length=60, editable=False, db_index=True)

    SCOPE = ScopeSpec(region_path="region_path")

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
