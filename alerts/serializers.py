from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import Alert, AlertEvent, AlertRule


class AlertRuleSerializer(serializers.ModelSerializer):
    # plain strings in the schema: "level" and "kind" choice sets of other apps carry the same names
    kind = serializers.CharField(read_only=True)
    level = serializers.CharField(read_only=True)

    class Meta:
        model = AlertRule
        fields = ["id", "code", "kind", "name", "level", "params", "is_active", "deadline_hours", "description"]


class AlertEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.__str__", default=None, read_only=True)

    class Meta:
        model = AlertEvent
        fields = ["id", "at", "actor", "action", "from_state", "to_state", "note", "data"]


class AlertSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule.name", read_only=True)
    rule_kind = serializers.CharField(source="rule.kind", read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    lon = serializers.SerializerMethodField()
    lat = serializers.SerializerMethodField()
    region = serializers.CharField(source="region.name", read_only=True)
    department = serializers.CharField(source="department.name", default=None, read_only=True, allow_null=True)
    snapshot_url = serializers.SerializerMethodField()
    # plain strings in the schema: tickets' "level" and "state" choice sets carry the same names
    level = serializers.CharField(read_only=True, help_text="red | orange | yellow | blue")
    state = serializers.CharField(read_only=True, help_text="raised | assigned | verified | handled | ticketed | evaluated | closed")
    verdict = serializers.CharField(read_only=True, help_text="'' | true | false")

    class Meta:
        model = Alert
        fields = [
            "id", "rule", "rule_kind", "level", "level_label", "title", "subject", "window_start", "window_end", "lon", "lat",
            "region", "state", "state_label", "department", "due_at", "escalation_count", "verdict", "effective", "hits",
            "version", "created_at", "snapshot_url",
        ]

    def get_lon(self, obj) -> float:
        return round(obj.location.x, 6)

    def get_lat(self, obj) -> float:
        return round(obj.location.y, 6)

    def get_snapshot_url(self, obj) -> str | None:
        if not obj.snapshot:
            return None
        from django.urls import reverse

        return reverse("alerts:snapshot", args=[obj.pk])


class AlertDetailSerializer(AlertSerializer):
    events = AlertEventSerializer(many=True, read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "evidence", "ticket", "events"]


class AlertVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AlertAssignSerializer(AlertVersionSerializer):
    department = serializers.IntegerField()
    hours = serializers.FloatField(required=False, min_value=0.1, max_value=720)


class AlertVerifySerializer(AlertVersionSerializer):
    true_positive = serializers.BooleanField()


class AlertTicketSerializer(AlertVersionSerializer):
    category = serializers.IntegerField()


class AlertEvaluateSerializer(AlertVersionSerializer):
    effective = serializers.BooleanField()


class VideoEventSerializer(serializers.Serializer):
    camera = serializers.CharField(max_length=40, label=_("camera code"))
    event_type = serializers.RegexField(r"^[a-z_]{2,40}$", label=_("event type"))
    occurred_at = serializers.DateTimeField(label=_("event time"))
    confidence = serializers.FloatField(min_value=0, max_value=1, required=False, default=1.0)
    snapshot = serializers.CharField(label=_("snapshot (base64 JPEG or PNG)"), max_length=3 * 1024 * 1024)
    event_id = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")

    def validate_snapshot(self, value):
        import base64
        import binascii

        if value.startswith("data:") and "," in value:
            value = value.split(",", 1)[1]
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError(_("The snapshot is not valid base64.")) from None
