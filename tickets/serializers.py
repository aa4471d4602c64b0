"""API shapes. Citizens' contacts are masked here for roles that do not call them back."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import Assignment, Category, Source, TicketEvent, TicketPhoto, TicketRequest
from .selectors import citizen_contact
from .services.base import NOTE_MAX_LENGTH


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = [
            "id", "code", "name", "kind", "parent", "dispatch_rule", "lead_departments",
            "sign_limit", "sign_unit", "handle_limit", "handle_unit",
            "urgent_sign_limit", "urgent_sign_unit", "urgent_handle_limit", "urgent_handle_unit",
        ]


NOTE_MAX = NOTE_MAX_LENGTH  # a timeline note, reason or reply
TEXT_MAX = 4000  # a description
ID_MAX = 2**63 - 1  # PostgreSQL's bigint

_DATETIME = serializers.DateTimeField()  # formats like every declared DateTimeField (outside a class: not a field of it)


class TicketSerializer(serializers.Serializer):
    """Declared field by field (no model introspection): intake answers with it thousands of times a minute."""

    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True)
    source = serializers.CharField(read_only=True)
    category = serializers.IntegerField(source="category_id", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    address = serializers.CharField(read_only=True)
    lon = serializers.SerializerMethodField()
    lat = serializers.SerializerMethodField()
    grid = serializers.IntegerField(source="grid_id", read_only=True, allow_null=True)
    community = serializers.IntegerField(source="community_id", read_only=True)
    town = serializers.IntegerField(source="town_id", read_only=True)
    district = serializers.IntegerField(source="district_id", read_only=True)
    center = serializers.IntegerField(source="center_id", read_only=True)
    center_code = serializers.CharField(source="center.code", read_only=True)
    level = serializers.IntegerField(read_only=True)
    state = serializers.CharField(read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    urgent = serializers.BooleanField(read_only=True)
    light = serializers.CharField(read_only=True)
    due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    dispatched_at = serializers.DateTimeField(read_only=True, allow_null=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    occurred_at = serializers.DateTimeField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    duplicate_of = serializers.IntegerField(source="duplicate_of_id", read_only=True, allow_null=True)
    rework_count = serializers.IntegerField(read_only=True)
    urge_count = serializers.IntegerField(read_only=True)
    escalation_count = serializers.IntegerField(read_only=True)
    caller_count = serializers.IntegerField(read_only=True)
    satisfaction = serializers.CharField(read_only=True)
    reporter = serializers.IntegerField(source="reporter_id", read_only=True, allow_null=True)
    verifier = serializers.IntegerField(source="verifier_id", read_only=True, allow_null=True)
    citizen_name = serializers.SerializerMethodField()
    citizen_phone = serializers.SerializerMethodField()

    # to_representation builds the same dict as the declared fields (tests compare the two on tickets in every
    # state), without DRF's per-field path: 40 fields a ticket and 50 tickets a page on the inbox API.
    _AS_IS = ("id", "number", "source", "title", "description", "address", "level", "state", "urgent", "light", "version",
              "rework_count", "urge_count", "escalation_count", "caller_count", "satisfaction")
    _IDS = ("category", "grid", "community", "town", "district", "center", "duplicate_of", "reporter", "verifier")
    _TIMES = ("due_at", "dispatched_at", "closed_at", "created_at", "occurred_at")

    def to_representation(self, obj):
        out = {name: getattr(obj, name) for name in self._AS_IS}
        out.update({name: getattr(obj, f"{name}_id") for name in self._IDS})
        time = _DATETIME.to_representation
        out.update({name: None if (value := getattr(obj, name)) is None else time(value) for name in self._TIMES})
        name, phone = self._contact(obj)
        out.update(
            category_name=obj.category.name, center_code=obj.center.code, state_display=obj.get_state_display(),
            lon=obj.location.x, lat=obj.location.y, citizen_name=name, citizen_phone=phone,
        )
        return {field: out[field] for field in self._declared_fields}

    def get_lon(self, obj) -> float:
        return obj.location.x

    def get_lat(self, obj) -> float:
        return obj.location.y

    def _contact(self, obj):
        cache = self.context.setdefault("_contact", {})
        if obj.pk not in cache:
            cache[obj.pk] = citizen_contact(obj, self.context["request"].user)
        return cache[obj.pk]

    def get_citizen_name(self, obj) -> str:
        return self._contact(obj)[0]

    def get_citizen_phone(self, obj) -> str:
        return self._contact(obj)[1]


class TicketCreateSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=Source.choices, default=Source.GRID)
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.filter(is_active=True, parent__isnull=False))
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(allow_blank=True, required=False, default="", max_length=TEXT_MAX)
    lon = serializers.FloatField(min_value=-180, max_value=180)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    address = serializers.CharField(allow_blank=True, required=False, default="", max_length=200)
    citizen_name = serializers.CharField(allow_blank=True, required=False, default="", max_length=50)
    citizen_phone = serializers.RegexField(r"^[0-9+\- ]{0,20}$", allow_blank=True, required=False, default="",
                                           error_messages={"invalid": _("Enter a valid phone number.")})
    urgent = serializers.BooleanField(required=False, default=False)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=ID_MAX, help_text=_("The ticket version you acted on; a stale one gets 409."))
    note = serializers.CharField(allow_blank=True, required=False, default="", max_length=NOTE_MAX)


class ReasonSerializer(VersionSerializer):
    reason = serializers.CharField(max_length=NOTE_MAX)


class DispatchSerializer(VersionSerializer):
    lead = serializers.IntegerField(min_value=1, max_value=ID_MAX, help_text=_("Lead department id"))
    assisting = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=ID_MAX), required=False, default=list, max_length=20)


class MergeSerializer(VersionSerializer):
    into = serializers.CharField(max_length=40, help_text=_("Number or id of the ticket that carries on"))


class VerifySerializer(VersionSerializer):
    passed = serializers.BooleanField()
    photo = serializers.FileField(required=False, allow_null=True, default=None)


class SelfResolveSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX)
    after_photo = serializers.FileField()


class ReplySerializer(VersionSerializer):
    reply = serializers.CharField(max_length=NOTE_MAX)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class RequestCreateSerializer(VersionSerializer):
    kind = serializers.ChoiceField(choices=TicketRequest.Kind.choices)
    reason = serializers.CharField(max_length=NOTE_MAX)
    assignment = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=ID_MAX)
    extra_days = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=30)


class DecideSerializer(VersionSerializer):
    approve = serializers.BooleanField()


class AssignmentSerializer(serializers.ModelSerializer):
    ticket = TicketSerializer(read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id", "ticket", "department", "department_name", "role", "state", "light", "dispatched_at", "sign_due_at",
            "signed_at", "handle_due_at", "replied_at", "reply", "return_reason", "urged_at",
        ]
        read_only_fields = fields


class AssignmentBriefSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = Assignment
        fields = ["id", "department", "department_name", "role", "state", "light", "sign_due_at", "handle_due_at", "reply"]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()
    label = serializers.CharField(read_only=True)

    class Meta:
        model = TicketEvent
        fields = ["id", "at", "actor", "actor_name", "action", "label", "from_state", "to_state", "note", "data"]
        read_only_fields = fields

    def get_actor_name(self, obj) -> str:
        return str(obj.actor) if obj.actor_id else str(_("System"))


class PhotoSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketPhoto
        fields = ["id", "kind", "image", "thumbnail", "width", "height", "uploaded_at"]
        read_only_fields = fields


class RequestSerializer(serializers.ModelSerializer):
    ticket_number = serializers.CharField(source="ticket.number", read_only=True)
    department_name = serializers.CharField(source="assignment.department.name", read_only=True, default="")

    class Meta:
        model = TicketRequest
        fields = ["id", "ticket", "ticket_number", "assignment", "department_name", "kind", "reason", "extra_days",
                  "requested_by", "requested_at", "decision", "decided_by", "decided_at", "decision_note"]
        read_only_fields = fields


class DepartmentBriefSerializer(serializers.Serializer):
    """A suggested department (the answer of tickets/{id}/suggestions/; described for the schema)."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
