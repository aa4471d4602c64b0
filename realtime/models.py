"""Outbox rows (written in the same transaction as the change they announce) and liveness marks."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxEvent(models.Model):
    """One change to announce. The relay publishes unsent rows in id order and marks them sent."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    topic = models.CharField(_("topic"), max_length=64)
    groups = ArrayField(models.CharField(max_length=64), verbose_name=_("channel groups"))
    data = models.JSONField(_("data"), default=dict)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [
            models.Index(fields=["id"], name="realtime_outbox_unsent", condition=models.Q(sent_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.id} {self.topic}"


class GroupSequence(models.Model):
    """Last sequence number sent to one channel group: a wall that sees a gap reloads its snapshot."""

    group = models.CharField(_("channel group"), max_length=64, primary_key=True)
    last_seq = models.BigIntegerField(_("last sequence number"), default=0)

    class Meta:
        verbose_name = _("group sequence")
        verbose_name_plural = _("group sequences")

    def __str__(self):
        return f"{self.group}#{self.last_seq}"


class Heartbeat(models.Model):
    """When a background process last proved it was alive (kept in PostgreSQL, not in Redis)."""

    name = models.CharField(_("process"), max_length=32, primary_key=True)
    at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self):
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"
