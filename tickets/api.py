"""DRF endpoints: intake with Idempotency-Key, one POST per transition (each with the version acted on)."""

from django.contrib.gis.geos import Point
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from org.api import ID_PATTERN, ActionPermission, ScopedQuerysetMixin
from org.models import Department
from org.permissions import get_visible_or_404
from org.schema import idempotency_key_parameter

from . import selectors, services
from . import serializers as s
from .models import Assignment, Category, Ticket, TicketRequest


class TransitionErrorsMixin:
    """The helpers every transition uses; a Conflict (stale version, refused step) is a 409 with the current
    version and state, answered by the API's exception handler (org.api)."""

    def _valid(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _ticket_response(self, ticket, code=status.HTTP_200_OK, *, fresh=True):
        # services return the ticket they locked (with category and center) and saved; only a replayed
        # creation hands back a bare row
        if not fresh:
            ticket = Ticket.objects.select_related("category", "center").get(pk=ticket.pk)
        return Response(s.TicketSerializer(ticket, context={"request": self.request}).data, status=code)


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """事项分类 (大类/小类) with limits and dispatch rules."""

    lookup_value_regex = ID_PATTERN

    queryset = Category.objects.filter(is_active=True).order_by("code")
    serializer_class = s.CategorySerializer
    pagination_class = None
    filterset_fields = ["kind", "parent"]


IDEMPOTENCY = idempotency_key_parameter("A retry with the same key returns the first result (200) and creates nothing.")


@extend_schema_view(
    list=extend_schema(summary="Tickets within your scope"),
    retrieve=extend_schema(summary="One ticket (404 outside your scope)"),
)
class TicketViewSet(TransitionErrorsMixin, ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet):
    queryset = Ticket.objects.select_related("category", "center").order_by("-id")
    serializer_class = s.TicketSerializer
    permission_classes = [ActionPermission]
    filterset_fields = ["state", "light", "source", "category", "urgent", "center"]
    # the role is checked before the body, the row's state or its version: a role that may never take a
    # step gets 403 (not 400 or 409); the services check it again first (permissions.requires)
    action_permissions = {
        "create": "tickets.create", "open": "tickets.open", "cancel": "tickets.cancel", "dispatch_to": "tickets.dispatch",
        "urge": "tickets.urge", "escalate": "tickets.escalate", "merge": "tickets.merge", "verify": "tickets.verify",
        "self_resolve": "tickets.self_resolve", "reopen": "tickets.reopen", "resume": "tickets.resume", "ask": "tickets.request",
    }

    @extend_schema(request=s.TicketCreateSerializer, parameters=[IDEMPOTENCY],
                   responses={201: s.TicketSerializer, 200: s.TicketSerializer, 400: OpenApiResponse(description="invalid input")},
                   summary="Create a ticket (受理)")
    def create(self, request):
        data = self._valid(s.TicketCreateSerializer)
        ticket = services.ticket_create(
            by=request.user, source=data["source"], category=data["category"], title=data["title"],
            description=data["description"], location=Point(data["lon"], data["lat"], srid=4326),
            address=data["address"], citizen_name=data["citizen_name"], citizen_phone=data["citizen_phone"],
            urgent=data["urgent"], idempotency_key=request.headers.get("Idempotency-Key") or None,
            photos=request.FILES.getlist("photos") if hasattr(request, "FILES") else (), occurred_at=data["occurred_at"],
        )
        response = self._ticket_response(
            ticket, status.HTTP_200_OK if ticket.replayed else status.HTTP_201_CREATED, fresh=not ticket.replayed
        )
        if ticket.placement_note:
            response.data["placement_note"] = ticket.placement_note
        return response

    def _locked_target(self, pk):
        return get_visible_or_404(Ticket.objects.all(), self.request.user, pk=pk)

    @extend_schema(request=s.VersionSerializer, responses=s.TicketSerializer, summary="立案: open the case")
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        d = self._valid(s.VersionSerializer)
        return self._ticket_response(services.ticket_open(ticket=self._locked_target(pk), by=request.user, note=d["note"], version=d["version"]))

    @extend_schema(request=s.ReasonSerializer, responses=s.TicketSerializer, summary="不予立案: cancel a new case")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        d = self._valid(s.ReasonSerializer)
        return self._ticket_response(services.ticket_cancel(ticket=self._locked_target(pk), by=request.user, reason=d["reason"], version=d["version"]))

    @extend_schema(request=s.DispatchSerializer, responses=s.TicketSerializer, summary="派遣 to lead and assisting departments")
    @action(detail=True, methods=["post"], url_path="dispatch")
    def dispatch_to(self, request, pk=None):
        d = self._valid(s.DispatchSerializer)
        ids = [d["lead"], *d["assisting"]]
        departments = {dep.pk: dep for dep in Department.objects.filter(pk__in=ids)}
        if len(departments) != len(set(ids)):
            raise NotFound("未找到所选部门。")
        ticket = services.ticket_dispatch(
            ticket=self._locked_target(pk), by=request.user, lead=departments[d["lead"]],
            assisting=[departments[i] for i in d["assisting"]], note=d["note"], version=d["version"],
        )
        return self._ticket_response(ticket)

    @extend_schema(request=s.VersionSerializer, responses=s.TicketSerializer, summary="督办: urge the departments")
    @action(detail=True, methods=["post"])
    def urge(self, request, pk=None):
        d = self._valid(s.VersionSerializer)
        return self._ticket_response(services.ticket_urge(ticket=self._locked_target(pk), by=request.user, note=d["note"], version=d["version"]))

    @extend_schema(request=s.VersionSerializer, responses=s.TicketSerializer, summary="升级 to the next level's center")
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        d = self._valid(s.VersionSerializer)
        return self._ticket_response(services.ticket_escalate(ticket=self._locked_target(pk), by=request.user, note=d["note"], version=d["version"]))

    @extend_schema(request=s.MergeSerializer, responses=s.TicketSerializer, summary="合并 as a duplicate")
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        d = self._valid(s.MergeSerializer)
        key = d["into"].strip()
        lookup = {"pk": int(key)} if key.isdigit() and len(key) < 12 else {"number": key}
        into = get_visible_or_404(Ticket.objects.all(), request.user, **lookup)
        return self._ticket_response(services.ticket_merge(ticket=self._locked_target(pk), into=into, by=request.user, note=d["note"], version=d["version"]))

    @extend_schema(request=s.VerifySerializer, responses=s.TicketSerializer, summary="核查: pass closes, fail sends back (返工)")
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        d = self._valid(s.VerifySerializer)
        return self._ticket_response(services.ticket_verify(
            ticket=self._locked_target(pk), by=request.user, passed=d["passed"], note=d["note"], photo=d["photo"], version=d["version"]))

    @extend_schema(request=s.SelfResolveSerializer, responses=s.TicketSerializer, summary="自行处置 by the grid worker")
    @action(detail=True, methods=["post"], url_path="self-resolve")
    def self_resolve(self, request, pk=None):
        d = self._valid(s.SelfResolveSerializer)
        return self._ticket_response(services.ticket_self_resolve(
            ticket=self._locked_target(pk), by=request.user, note=d["note"], after_photo=d["after_photo"]))

    @extend_schema(request=s.ReasonSerializer, responses=s.TicketSerializer, summary="Reopen after an unsatisfied citizen")
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        d = self._valid(s.ReasonSerializer)
        return self._ticket_response(services.ticket_reopen(ticket=self._locked_target(pk), by=request.user, note=d["reason"], version=d["version"]))

    @extend_schema(request=s.VersionSerializer, responses=s.TicketSerializer, summary="End a suspension (挂账)")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        d = self._valid(s.VersionSerializer)
        return self._ticket_response(services.ticket_resume(ticket=self._locked_target(pk), by=request.user, note=d["note"], version=d["version"]))

    @extend_schema(request=s.RequestCreateSerializer, responses={201: s.RequestSerializer},
                   summary="Ask for an extension, return, cancellation or suspension")
    @action(detail=True, methods=["post"], url_path="request")
    def ask(self, request, pk=None):
        d = self._valid(s.RequestCreateSerializer)
        ticket = self._locked_target(pk)
        assignment = None
        if d["assignment"]:
            assignment = get_visible_or_404(Assignment.objects.filter(ticket=ticket), request.user, pk=d["assignment"])
        r = services.ticket_request(ticket=ticket, by=request.user, kind=d["kind"], reason=d["reason"], assignment=assignment,
                                    extra_days=d["extra_days"], version=d["version"])
        return Response(s.RequestSerializer(r).data, status=status.HTTP_201_CREATED)

    # the whole list, oldest first: neither paginated nor filtered
    @extend_schema(responses=s.EventSerializer(many=True), summary="The ticket's timeline")
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def timeline(self, request, pk=None):
        ticket = self.get_object()
        return Response(s.EventSerializer(selectors.timeline(ticket), many=True).data)

    @extend_schema(responses=s.AssignmentBriefSerializer(many=True), summary="The departments' shares")
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def assignments(self, request, pk=None):
        ticket = self.get_object()
        return Response(s.AssignmentBriefSerializer(ticket.assignments.select_related("department"), many=True).data)

    @extend_schema(responses=s.DepartmentBriefSerializer(many=True), summary="Suggested lead departments (category, location, rule)")
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def suggestions(self, request, pk=None):
        ticket = self.get_object()
        return Response([{"id": d.pk, "code": d.code, "name": d.name} for d in selectors.suggest_departments(ticket)])


class AssignmentViewSet(TransitionErrorsMixin, ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """A department's inbox; another department's share is a 404."""

    queryset = Assignment.objects.select_related("ticket", "ticket__category", "ticket__center", "department").order_by("-id")
    serializer_class = s.AssignmentSerializer
    filterset_fields = ["state", "light", "role"]
    permission_classes = [ActionPermission]
    action_permissions = {"sign": "tickets.sign", "reply": "tickets.reply", "release": "tickets.dispatch"}

    def _target(self, pk):
        return get_visible_or_404(Assignment.objects.select_related("ticket"), self.request.user, pk=pk)

    def _done(self, assignment):
        return Response(s.AssignmentSerializer(self._target(assignment.pk), context={"request": self.request}).data)

    @extend_schema(request=s.VersionSerializer, responses=s.AssignmentSerializer, summary="签收")
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        d = self._valid(s.VersionSerializer)
        return self._done(services.ticket_sign(assignment=self._target(pk), by=request.user, version=d["version"]))

    @extend_schema(request=s.ReplySerializer, responses=s.AssignmentSerializer, summary="反馈 with after-photos")
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        d = self._valid(s.ReplySerializer)
        return self._done(services.ticket_reply(
            assignment=self._target(pk), by=request.user, reply=d["reply"], photos=request.FILES.getlist("photos"), version=d["version"]))

    @extend_schema(request=s.VersionSerializer, responses=s.AssignmentSerializer, summary="Release an assisting department")
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        d = self._valid(s.VersionSerializer)
        return self._done(services.ticket_release(assignment=self._target(pk), by=request.user, note=d["note"], version=d["version"]))


class RequestViewSet(TransitionErrorsMixin, ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    queryset = TicketRequest.objects.select_related("ticket", "assignment__department").order_by("-id")
    serializer_class = s.RequestSerializer
    filterset_fields = ["kind", "decision"]
    permission_classes = [ActionPermission]
    # extensions are the duty chief's (tickets.approve_extension), checked by the service once the kind is known
    action_permissions = {"decide": "tickets.approve"}

    @extend_schema(request=s.DecideSerializer, responses=s.RequestSerializer, summary="Approve or reject a request")
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        d = self._valid(s.DecideSerializer)
        r = get_visible_or_404(TicketRequest.objects.select_related("ticket", "assignment"), request.user, pk=pk)
        r = services.ticket_decide(request=r, by=request.user, approve=d["approve"], note=d["note"], version=d["version"])
        return Response(s.RequestSerializer(r).data)
