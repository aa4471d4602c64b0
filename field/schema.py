"""OpenAPI description of the /m/ workspace's JSON endpoints (plain Django views in field.views).

Each APIView here only describes one endpoint for /api/schema/ (org.schema.documented_as);
it is never routed, so the views keep their own sign-in, CSRF and idempotency handling.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from org.schema import ErrorSerializer, idempotency_key_parameter

IDEMPOTENCY_KEY = idempotency_key_parameter(
    "Made by the phone; a retry with the same key gets the first answer back and changes nothing.")


FLAG = [("0", "no"), ("1", "yes")]


class Position(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180)
    lat = serializers.FloatField(min_value=-90, max_value=90)


class ReportForm(Position):
    category = serializers.IntegerField()
    description = serializers.CharField()
    title = serializers.CharField(required=False)
    address = serializers.CharField(required=False)
    urgent = serializers.ChoiceField(choices=FLAG, required=False)
    at = serializers.DateTimeField(required=False, help_text="When it was seen (the phone may send it later).")
    photos = serializers.ListField(child=serializers.ImageField(), required=False)
    self_resolved = serializers.ChoiceField(choices=FLAG, required=False, help_text="1: fixed on the spot (自行处置).")
    after_photo = serializers.ImageField(required=False, help_text="Needed with self_resolved=1.")
    note = serializers.CharField(required=False)


class VerifyForm(serializers.Serializer):
    passed = serializers.ChoiceField(choices=FLAG)
    photo = serializers.ImageField()
    version = serializers.IntegerField(help_text="The ticket version the page showed; a stale one gets 409.")
    note = serializers.CharField(required=False)


class CheckInForm(Position):
    accuracy = serializers.FloatField(required=False)
    at = serializers.DateTimeField(required=False)


class PatrolTimeForm(serializers.Serializer):
    at = serializers.DateTimeField(required=False)


class TrackPointsForm(serializers.Serializer):
    points = serializers.CharField(help_text="JSON list of [lon, lat, ISO time, accuracy or null], at most 2000.")


class ChecklistForm(serializers.Serializer):
    item = serializers.IntegerField()
    note = serializers.CharField(required=False)


class TicketAnswer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.CharField()
    state_label = serializers.CharField()
    grid = serializers.CharField()
    community = serializers.CharField()
    message = serializers.CharField()
    url = serializers.CharField()


class CheckInAnswer(serializers.Serializer):
    id = serializers.IntegerField()
    inside_grid = serializers.BooleanField()
    grid = serializers.CharField()
    message = serializers.CharField()
    at = serializers.CharField(help_text="Local time, YYYY-MM-DD HH:MM.")


class PatrolAnswer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    state_label = serializers.CharField()
    distance_m = serializers.IntegerField()
    inside_distance_m = serializers.IntegerField()
    inside_minutes = serializers.FloatField()
    minutes = serializers.FloatField()
    points = serializers.IntegerField()


class TrackPointsAnswer(PatrolAnswer):
    added = serializers.IntegerField()


class ChecklistAnswer(serializers.Serializer):
    id = serializers.IntegerField()
    item = serializers.IntegerField()
    checked = serializers.BooleanField()


class LocateAnswer(serializers.Serializer):
    grid = serializers.CharField(allow_null=True, help_text="The grid's code; null outside every grid.")
    grid_name = serializers.CharField()
    community = serializers.CharField()
    message = serializers.CharField()


class _Described(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]


def _phone_post(operation_id, summary, form, answer):
    class Described(_Described):
        @extend_schema(
            operation_id=operation_id, summary=summary, tags=["m"], request=form,
            responses={201: answer, 401: OpenApiResponse(ErrorSerializer, description="Not signed in (the phone signs in again).")},
            parameters=[IDEMPOTENCY_KEY],
        )
        def post(self, request, *args, **kwargs):
            raise NotImplementedError("described only; served by field.views")

    Described.__name__ = Described.__qualname__ = operation_id.title().replace("_", "") + "Schema"
    return Described


ReportSchema = _phone_post("m_report", "Report an incident (optionally fixed on the spot)", ReportForm, TicketAnswer)
VerifySchema = _phone_post("m_verify", "Verify (核查) a ticket of my grid", VerifyForm, TicketAnswer)
CheckInSchema = _phone_post("m_checkin", "Check in (定位报到)", CheckInForm, CheckInAnswer)
PatrolStartSchema = _phone_post("m_patrol_start", "Start a patrol", PatrolTimeForm, PatrolAnswer)
PatrolPointsSchema = _phone_post("m_patrol_points", "Add track points to my patrol", TrackPointsForm, TrackPointsAnswer)
PatrolCheckSchema = _phone_post("m_patrol_check", "Tick a checklist item of my patrol", ChecklistForm, ChecklistAnswer)
PatrolStopSchema = _phone_post("m_patrol_stop", "Stop my patrol", PatrolTimeForm, PatrolAnswer)


class LocateSchema(_Described):
    @extend_schema(
        operation_id="m_locate", summary="Which grid a point is in", tags=["m"],
        parameters=[OpenApiParameter("lon", OpenApiTypes.NUMBER, required=True), OpenApiParameter("lat", OpenApiTypes.NUMBER, required=True)],
        responses={200: LocateAnswer, 302: OpenApiResponse(description="Not signed in: redirected to the sign-in page.")},
    )
    def get(self, request, *args, **kwargs):
        raise NotImplementedError("described only; served by field.views")
