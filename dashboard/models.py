"""Daily and monthly figures the leaders' statistics sum over, rebuilt from the tickets for every bucket that changed.

They hold nothing of their own: `rollup.refresh()` recomputes a (day, town) bucket from tickets, assignments and
requests whenever a timeline row of one of its tickets is newer than the watermark, and the month of that day
from its days, so deleting them loses nothing. A period sums whole months from the monthly rows and the days
at its edges from the daily rows."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Place(models.Model):
    town = models.ForeignKey("org.Region", on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey("org.Region", on_delete=models.CASCADE, related_name="+")
    town_path = models.CharField(max_length=60)
    category = models.ForeignKey("tickets.Category", on_delete=models.CASCADE, related_name="+")
    major = models.ForeignKey("tickets.Category", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=12)

    class Meta:
        abstract = True


class TicketFigures(Place):
    """Tickets received in one bucket, one town, one small category, one source, with one lead department."""

    lead_department = models.ForeignKey("org.Department", null=True, on_delete=models.CASCADE, related_name="+")
    received = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    dispatched = models.IntegerField(default=0)
    reworked = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    extended = models.IntegerField(default=0)
    direct = models.IntegerField(default=0)

    class Meta:
        abstract = True


class ShareFigures(Place):
    """Lead shares (主办) dispatched in one bucket to one department, for tickets of one town, category and source."""

    department = models.ForeignKey("org.Department", on_delete=models.CASCADE, related_name="+")
    volume = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    reworked = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    extended = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)

    class Meta:
        abstract = True


class TicketDay(TicketFigures):
    day = models.DateField()

    class Meta:
        verbose_name = _("daily ticket figures")
        indexes = [models.Index(fields=["day", "town"], name="dashboard_ticketday_day_town")]


class TicketMonth(TicketFigures):
    month = models.DateField()  # the first day of the month

    class Meta:
        verbose_name = _("monthly ticket figures")
        indexes = [models.Index(fields=["month", "town"], name="dashboard_ticketmonth_m_town")]


class ShareDay(ShareFigures):
    day = models.DateField()

    class Meta:
        verbose_name = _("daily lead-share figures")
        indexes = [models.Index(fields=["day", "town"], name="dashboard_shareday_day_town")]


class ShareMonth(ShareFigures):
    month = models.DateField()

    class Meta:
        verbose_name = _("monthly lead-share figures")
        indexes = [models.Index(fields=["month", "town"], name="dashboard_sharemonth_m_town")]


class RollupMark(models.Model):
    """The last timeline row whose ticket's buckets have been rebuilt."""

    name = models.CharField(max_length=32, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)
