"""DRF endpoints: scoped alert lists, one POST per lifecycle step (with the version acted on), the video
event endpoint for camera analytics, and the matching analysis as JSON."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from org.api import ID_PATTERN, ActionPermission, ScopedQuerysetMixin
from org.models import Department
from datahub.authentication import DepartmentTokenAuthentication, TokenPrincipal
from tickets.models import Category

from . import selectors, services
from . import serializers as s
from .forms import matching_window
from .models import OPEN_STATES, Alert, AlertEvent, AlertRule


class RuleViewSet(viewsets.ReadOnlyModelViewSet):
    """预警模型 with their parameters and levels."""

    lookup_value_regex = ID_PATTERN

    queryset = AlertRule.objects.order_by("kind", "code")
    serializer_class = s.AlertRuleSerializer
    pagination_class = None
    permission_classes = [ActionPermission]
    action_permissions = {"*": "alerts.view"}


class AlertViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """预警: list and detail within the user's scope, and the lifecycle steps 交办 → 核查 → 处置 → 问效 → 结案."""

    queryset = Alert.objects.select_related("rule", "region", "department").order_by("-id")
    serializer_class = s.AlertSerializer
    permission_classes = [ActionPermission]
    action_permissions = {
        "*": "alerts.view", "assign": "alerts.assign", "verify": "alerts.verify", "handle": "alerts.handle",
        "ticket": "alerts.handle", "evaluate": "alerts.evaluate", "close": "alerts.close",
    }
    filterset_fields = ["state", "level", "rule__kind", "rule"]

    def get_queryset(self):
        qs = super().get_queryset()
        if self.request.query_params.get("open") == "1":
            qs = qs.filter(state__in=OPEN_STATES)
        if self.action == "retrieve":
            qs = qs.prefetch_related(Prefetch("events", queryset=AlertEvent.objects.select_related("actor").order_by("id")))
        return qs

    def get_serializer_class(self):
        return s.AlertDetailSerializer if self.action == "retrieve" else s.AlertSerializer

    def _data(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _done(self, alert):
        alert = self.get_queryset().model.objects.select_related("rule", "region", "department").get(pk=alert.pk)
        return Response(s.AlertSerializer(alert, context={"request": self.request}).data)

    @extend_schema(request=s.AlertAssignSerializer, responses=s.AlertSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        alert = self.get_object()
        data = self._data(s.AlertAssignSerializer)
        department = Department.objects.filter(pk=data["department"]).first()
        return self._done(services.alert_assign(
            alert=alert, by=request.user, department=department, hours=data.get("hours"), note=data.get("note", ""),
            version=data.get("version"),
        ))

    @extend_schema(request=s.AlertVerifySerializer, responses=s.AlertSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        alert = self.get_object()
        data = self._data(s.AlertVerifySerializer)
        return self._done(services.alert_verify(
            alert=alert, by=request.user, true_positive=data["true_positive"], note=data.get("note", ""), version=data.get("version"),
        ))

    @extend_schema(request=s.AlertVersionSerializer, responses=s.AlertSerializer)
    @action(detail=True, methods=["post"])
    def handle(self, request, pk=None):
        alert = self.get_object()
        data = self._data(s.AlertVersionSerializer)
        return self._done(services.alert_handle(alert=alert, by=request.user, note=data.get("note", ""), version=data.get("version")))

    @extend_schema(request=s.AlertTicketSerializer, responses=s.AlertSerializer)
    @action(detail=True, methods=["post"])
    def ticket(self, request, pk=None):
        alert = self.get_object()
        data = self._data(s.AlertTicketSerializer)
        category = Category.objects.filter(pk=data["category"], is_active=True).first()
        if category is None:
            raise ValidationError({"category": [_("Unknown category.")]})
        return self._done(services.alert_to_ticket(
            alert=alert, by=request.user, category=category, note=data.get("note", ""), version=data.get("version"),
        ))

    @extend_schema(request=s.AlertEvaluateSerializer, responses=s.AlertSerializer)
    @action(detail=True, methods=["post"])
    def evaluate(self, request, pk=None):
        alert = self.get_object()
        data = self._data(s.AlertEvaluateSerializer)
        return self._done(services.alert_evaluate(
            alert=alert, by=request.user, effective=data["effective"], note=data.get("note", ""), version=data.get("version"),
        ))

    @extend_schema(request=s.AlertVersionSerializer, responses=s.AlertSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        alert = self.get_object()
        data = self._data(s.AlertVersionSerializer)
        return self._done(services.alert_close(alert=alert, by=request.user, note=data.get("note", ""), version=data.get("version")))


class VideoEventView(APIView):
    """A camera analytics platform posts an event (illegal fishing, street vending, fire…) with a snapshot.

    Authenticated with a department token that may push to the camera resource (`Authorization: Token …`).
    Malformed input is a 400 and writes nothing; a retry with the same Idempotency-Key (or event_id) returns
    the first alert (200)."""

    authentication_classes = [DepartmentTokenAuthentication]

    @extend_schema(request=s.VideoEventSerializer, responses={201: s.AlertSerializer, 200: s.AlertSerializer})
    def post(self, request):
        principal = request.user
        if not isinstance(principal, TokenPrincipal) or not principal.token.scopes.filter(
            resource__feed="camera", direction="push"
        ).exists():
            raise PermissionDenied(_("This token may not report video events (it needs push access to the camera resource)."))
        serializer = s.VideoEventSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = (request.headers.get("Idempotency-Key") or "").strip() or None  # its form: InputGuardMiddleware
        try:
            alert, created = services.video_event_receive(
                camera_code=data["camera"], event_type=data["event_type"], occurred_at=data["occurred_at"],
                confidence=data["confidence"], snapshot=data["snapshot"], event_id=data["event_id"], idempotency_key=key,
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}) from None
        alert = Alert.objects.select_related("rule", "region", "department").get(pk=alert.pk)
        return Response(s.AlertSerializer(alert).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class MatchingView(APIView):
    """Abnormal stops against enterprises under rectification: summary, stops and enterprises with their matches."""

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="first day (default: 29 days ago)"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="last day (default: today)"),
            OpenApiParameter("radius", OpenApiTypes.INT, description="metres, 10–5000 (default 500)"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        from org.permissions import can

        if not can(request.user, "alerts.analyse"):
            raise PermissionDenied(_("Your role may not do this."))
        since, until, radius = matching_window(request.query_params)
        result = selectors.stop_matching(request.user, since=since, until=until, radius_m=radius)
        return Response({"summary": result.summary(), "stops": result.stops, "enterprises": result.enterprises})
