"""DRF pieces every app's API uses: scoped querysets, role checks, pagination and readable errors."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, permissions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from . import permissions as perms
from .exceptions import Conflict

# id segments in API paths: ASCII digits that fit a bigint (non-ASCII digits and 5,000-digit ids are 404s)
ID_PATTERN = "[0-9]{1,18}"


class ScopedQuerysetMixin:
    """get_queryset() limited to the user's scope; DRF then answers 404 for rows outside it."""

    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        return perms.visible(super().get_queryset(), self.request.user)


class ActionPermission(permissions.IsAuthenticated):
    """Signed in, and `view.action_permissions[view.action]` (an action name registered in the layer)."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        mapping = getattr(view, "action_permissions", {})
        action = mapping.get(getattr(view, "action", None)) or mapping.get("*")
        if action is None:
            return True
        return perms.can(request.user, action)


class Pagination(pagination.LimitOffsetPagination):
    """limit is clamped to 1..max_limit; an offset past MAX_OFFSET is refused, not sent to PostgreSQL."""

    max_limit = 500
    MAX_OFFSET = 10_000_000

    def get_offset(self, request):
        offset = super().get_offset(request)
        if offset > self.MAX_OFFSET:
            raise exceptions.ValidationError({self.offset_query_param: _("The offset is too large.")})
        return offset


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DataError):  # a number or text PostgreSQL cannot hold: bad input, nothing was written
        exc = exceptions.ValidationError({"detail": [_("A value is out of range.")]})
    elif isinstance(exc, Conflict):
        return Response(exc.as_dict(), status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
