"""/api/datahub/: catalog, batch push (department tokens), records, access requests, exchange statistics."""

import io
from datetime import timedelta

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from org import inputs, permissions
from org.schema import idempotency_key_parameter

from . import bodies, selectors, services
from .authentication import DepartmentTokenAuthentication, TokenPrincipal
from .models import AccessRequest, DataResource, ExchangeBatch, TokenScope

AUTHENTICATION = [DepartmentTokenAuthentication, SessionAuthentication]


def _token(request):
    return request.user.token if isinstance(request.user, TokenPrincipal) else None


class CatalogReader(BasePermission):
    """Department tokens, and people whose role reads the catalog (data officers, leaders, admins)."""

    def has_permission(self, request, view):
        return isinstance(request.user, TokenPrincipal) or permissions.can(request.user, "datahub.view_catalog")


class DataResourceSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.name", read_only=True)
    owner_code = serializers.CharField(source="owner.code", read_only=True)
    fresh = serializers.BooleanField(source="is_fresh", read_only=True)
    fresh_until = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = DataResource
        fields = [
            "code", "name", "owner", "owner_code", "description", "schema", "key_field", "feed", "update_cycle", "sharing",
            "record_count", "last_updated_at", "fresh", "fresh_until",
        ]


class BatchSerializer(serializers.ModelSerializer):
    resource = serializers.CharField(source="resource.code", read_only=True)

    class Meta:
        model = ExchangeBatch
        fields = [
            "id", "resource", "idempotency_key", "format", "received", "accepted", "rejected", "bytes", "errors",
            "started_at", "finished_at",
        ]


class AccessRequestSerializer(serializers.ModelSerializer):
    resource = serializers.CharField(source="resource.code", read_only=True)
    department = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = AccessRequest
        fields = ["id", "resource", "department", "purpose", "status", "requested_at", "decided_at", "decision_note"]
        read_only_fields = ["status", "requested_at", "decided_at", "decision_note"]


class ResourceInput(serializers.Serializer):
    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    schema = serializers.JSONField()
    key_field = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    update_cycle = serializers.ChoiceField(DataResource.Cycle.choices, default=DataResource.Cycle.DAILY)
    sharing = serializers.ChoiceField(DataResource.Sharing.choices, default=DataResource.Sharing.CONDITIONAL)


class ResourceList(generics.ListCreateAPIView):
    """The data resource catalog (数据资源目录). A data officer registers a resource of their department
    with POST (JSON records validated by its JSON Schema; the typed feeds are registered by administrators)."""

    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated, CatalogReader]
    serializer_class = DataResourceSerializer
    filterset_fields = ["sharing", "feed", "update_cycle"]

    def get_queryset(self):
        return DataResource.objects.select_related("owner").order_by("code")

    @extend_schema(request=ResourceInput, responses={201: DataResourceSerializer})
    def post(self, request, *args, **kwargs):
        permissions.require(request.user, "datahub.register_resource")
        if not request.user.department_id:
            raise exceptions.PermissionDenied(_("Resources belong to a department; your account has none."))
        data = ResourceInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not isinstance(data.validated_data["schema"], dict):
            raise exceptions.ValidationError({"schema": _("The schema is a JSON object (JSON Schema).")})
        resource = services.resource_register(owner=request.user.department, feed=DataResource.Feed.GENERIC, **data.validated_data)
        return Response(DataResourceSerializer(resource).data, status=status.HTTP_201_CREATED)


class ResourceDetail(generics.RetrieveAPIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated, CatalogReader]
    serializer_class = DataResourceSerializer
    lookup_field = "code"

    def get_queryset(self):
        return DataResource.objects.select_related("owner")


def _resource(code) -> DataResource:
    return get_object_or_404(DataResource.objects.select_related("owner"), code=code)


def _require_scope(request, resource: DataResource, direction: str) -> None:
    """A token may act only on the resources and directions it was given; people through their department."""
    token = _token(request)
    if token is not None:
        allowed = TokenScope.objects.filter(token=token, resource=resource, direction=direction).exists()
        if not allowed:
            raise exceptions.PermissionDenied(
                _("This token may not %(direction)s “%(resource)s”.")
                % {"direction": TokenScope.Direction(direction).label, "resource": resource.name}
            )
        services.token_touch(token=token)
    if direction == TokenScope.Direction.READ and not selectors.may_read(department_id=request.user.department_id, resource=resource):
        if resource.sharing == DataResource.Sharing.NOT_SHARED:
            raise exceptions.PermissionDenied(_("This resource is not shared."))
        raise exceptions.PermissionDenied(_("Your department has no approved request for this resource."))


class BatchPush(APIView):
    """POST a batch of rows to a resource: a JSON array, NDJSON or CSV body.

    Send `Authorization: Token <secret>` with push scope on the resource and an `Idempotency-Key`
    header; the same key answers with the batch already recorded and stores nothing again.
    GET lists the resource's batches: a token its own department's, a person those of selectors.batches_of
    (the owner department's data officers and administrators; other roles 403)."""

    authentication_classes = AUTHENTICATION

    @extend_schema(
        request={"application/x-ndjson": OpenApiTypes.STR, "text/csv": OpenApiTypes.STR, "application/json": OpenApiTypes.ANY},
        parameters=[idempotency_key_parameter("The sender's key for this batch: a retry with it stores nothing twice.", required=True)],
        responses={201: BatchSerializer, 200: BatchSerializer,
                   422: OpenApiResponse(description="the Idempotency-Key was used before with a different body")},
    )
    def post(self, request, code):
        token = _token(request)
        if token is None:
            raise exceptions.NotAuthenticated(_("Pushing data needs a department token (Authorization: Token …)."))
        resource = _resource(code)
        _require_scope(request, resource, TokenScope.Direction.PUSH)
        fmt = bodies.format_for(request.content_type)
        if fmt is None:
            raise exceptions.UnsupportedMediaType(
                request.content_type, _("Send application/json, application/x-ndjson or text/csv.")
            )
        try:
            result = services.ingest_batch(
                resource=resource, department=token.department, token=token,
                idempotency_key=request.headers.get("Idempotency-Key", ""), fmt=fmt, stream=request.stream or io.BytesIO(),
            )
        except bodies.MalformedBody as exc:
            raise exceptions.ParseError({"detail": str(exc), "stored": 0}) from None
        except services.KeyReused as exc:
            return Response({"detail": str(exc), "stored": 0}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        data = BatchSerializer(result.batch).data
        response = Response(data, status=status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(responses=BatchSerializer(many=True))
    def get(self, request, code):
        resource = _resource(code)
        token = _token(request)
        if token is not None:
            qs = ExchangeBatch.objects.filter(resource=resource, department_id=token.department_id).select_related("resource")
        elif not permissions.can(request.user, "datahub.view_batches"):
            raise exceptions.PermissionDenied(_("Only data officers see exchange batches, and only their own department's."))
        else:
            qs = selectors.batches_of(request.user, resource)
        page = list(qs[:100])
        return Response(BatchSerializer(page, many=True).data)


class RecordList(APIView):
    """Read a resource's records (token with read scope, or a person whose department may read it)."""

    authentication_classes = AUTHENTICATION

    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="id of the last record of the previous page"),
                    OpenApiParameter("limit", int, description="1–1000, default 100"),
                    OpenApiParameter("plate", str, description="vehicle positions: one plate"),
                    OpenApiParameter("since", OpenApiTypes.DATETIME, description="vehicle positions: from (ISO 8601)"),
                    OpenApiParameter("until", OpenApiTypes.DATETIME, description="vehicle positions: before (ISO 8601)")],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, code):
        resource = _resource(code)
        _require_scope(request, resource, TokenScope.Direction.READ)
        try:
            after = int(request.query_params.get("after", 0))
            limit = min(max(int(request.query_params.get("limit", 100)), 1), 1000)
        except ValueError:
            raise exceptions.ValidationError({"detail": _("“after” and “limit” are whole numbers.")}) from None
        window = {}
        for name in ("since", "until"):
            try:
                parsed = inputs.parse_moment(request.query_params.get(name), name=name)
            except DjangoValidationError as exc:
                raise exceptions.ValidationError({name: exc.messages}) from None
            if parsed is not None:
                window[name] = parsed
        rows, nxt = selectors.records_page(
            resource, after=after, limit=limit, plate=request.query_params.get("plate", "").strip(), **window
        )
        return Response({"resource": resource.code, "results": rows, "next": nxt})


class AccessRequestList(generics.ListCreateAPIView):
    """Requests of my department and requests for its resources; POST {resource, purpose} to ask."""

    serializer_class = AccessRequestSerializer

    class Input(serializers.Serializer):
        resource = serializers.CharField()
        purpose = serializers.CharField()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccessRequest.objects.none()
        return selectors.requests_of(self.request.user)

    def create(self, request, *args, **kwargs):
        permissions.require(request.user, "datahub.request_access")
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        if not request.user.department_id:
            raise exceptions.PermissionDenied(_("Only a department's data officer asks for data."))
        resource = _resource(data.validated_data["resource"])
        created = services.access_request_create(
            resource=resource, department=request.user.department, purpose=data.validated_data["purpose"], by=request.user
        )
        return Response(AccessRequestSerializer(created).data, status=status.HTTP_201_CREATED)


class AccessRequestDecide(APIView):
    """POST {"approve": true|false, "note": "…"}: the owner department decides."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses=AccessRequestSerializer)
    def post(self, request, pk):
        permissions.require(request.user, "datahub.decide_access")
        access_request = get_object_or_404(selectors.requests_of(request.user), pk=pk)
        approve = request.data.get("approve")
        if not isinstance(approve, bool):
            raise exceptions.ValidationError({"approve": _("Say true to approve or false to reject.")})
        decided = services.access_request_decide(
            request=access_request, approve=approve, note=str(request.data.get("note", "")), by=request.user
        )
        return Response(AccessRequestSerializer(decided).data)


class ExchangeStats(APIView):
    """Records exchanged per department per day (default: the last 14 days), today and in total."""

    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated, CatalogReader]

    @extend_schema(parameters=[OpenApiParameter("days", int)], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        try:
            days = min(max(int(request.query_params.get("days", 14)), 1), 366)
        except ValueError:
            raise exceptions.ValidationError({"days": _("A whole number of days.")}) from None
        today = timezone.localdate()
        series = selectors.exchange_series(start=today - timedelta(days=days - 1), end=today)
        return Response(
            {"today": selectors.exchanged_on(today), "total": selectors.exchange_total(),
             "series": [{**row, "day": row["day"].isoformat()} for row in series]}
        )
