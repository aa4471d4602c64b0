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
