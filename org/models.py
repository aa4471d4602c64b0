"""Regions (行政区划), departments and users with a role and a scope."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from .scope import ScopeSpec


class Region(models.Model):
    """One node of the administrative tree: city → district/county → town/street → community/village."""

    class Level(models.IntegerChoices):
        CITY = 1, _("City")
        DISTRICT = 2, _("District/County")
        TOWN = 3, _("Town/Street")
        COMMUNITY = 4, _("Community/Village")

    code = models.CharField(_("code"), max_length=12, unique=True, help_text=_("12-digit GB/T 2260 style code"))
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialised path of codes ("329900000000/329901000000/"): subtree = path prefix, one indexed LIKE.
    path = models.CharField(_("path"), max_length=60, unique=True, editable=False)
    boundary = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)

    SCOPE = ScopeSpec(region_path="path")

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        indexes = [models.Index(fields=["path"], name="org_region_path_like", opclasses=["varchar_pattern_ops"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[0-9]{12}$"), name="org_region_code_12_digits"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        self._refuse_a_move()

    def save(self, *args, **kwargs):
        self._refuse_a_move()
        self.path = (self.parent.path if self.parent_id else "") + self.code + "/"
        super().save(*args, **kwargs)

    def _refuse_a_move(self):
        """Code and parent are fixed once a region exists: its path, every descendant's path and the
        `region_path` copied onto grids, tickets, contacts and the rest all spell them. A changed
        boundary of responsibility is a new region."""
        if self.pk is None:
            return
        stored = Region.objects.filter(pk=self.pk).values("code", "parent_id").first()
        if stored is None:
            return
        changed = {}
        if stored["code"] != self.code:
            changed["code"] = _("A region's code cannot change once it is created.")
        if stored["parent_id"] != self.parent_id:
            changed["parent"] = _("A region cannot move to another parent once it is created.")
        if changed:
            raise ValidationError(changed)

    def ancestors(self, include_self=True):
        """Regions from the city down to this one, in one query."""
        codes = [c for c in self.path.split("/") if c]
        if not include_self:
            codes = codes[:-1]
        return list(Region.objects.filter(code__in=codes).order_by("level"))

    def subtree(self):
        return Region.objects.filter(path__startswith=self.path)


class Department(models.Model):
    class Kind(models.TextChoices):
        FUNCTIONAL = "functional", _("Functional department")
        TOWN_OFFICE = "town_office", _("Town/street office")
        UTILITY = "utility", _("Utility")
        CENTER = "center", _("Command center")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.FUNCTIONAL)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="departments")
    is_active = models.BooleanField(_("active"), default=True)

    SCOPE = ScopeSpec(region_path="region__path", department="pk")

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    GRIDWORKER = "gridworker", _("Grid worker")
    HOTLINE_AGENT = "hotline_agent", _("Hotline agent")
    DISPATCHER = "dispatcher", _("Dispatcher")
    DUTY_CHIEF = "duty_chief", _("Duty chief")
    DEPARTMENT_STAFF = "department_staff", _("Department staff")
    LEADER = "leader", _("Leader")
    DATA_OFFICER = "data_officer", _("Data officer")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    """A person with one role and a scope: a region subtree and/or one department."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.GRIDWORKER)
    region = models.ForeignKey(
        Region, verbose_name=_("scope region"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    objects = UserManager()

    SCOPE = ScopeSpec(region_path="region__path", department="department")

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="department_staff") | models.Q(department__isnull=False),
                name="org_user_staff_has_department",
            ),
        ]

    def __str__(self):
        return self.display_name or self.username

    @property
    def is_admin_role(self):
        return self.is_superuser or self.role == Role.ADMIN


class IdempotencyRecord(models.Model):
    """The request a client first sent under an Idempotency-Key (org.middleware.InputGuardMiddleware).

    Each app's service keeps its own answer for a replayed key; this row only tells a true replay from a
    different request that reuses the key, which is refused instead of being answered with the first result.
    """

    principal = models.CharField(max_length=64)  # the user, token or API key that sent it (hashed)
    key = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    path = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="org_idempotency_once")]
