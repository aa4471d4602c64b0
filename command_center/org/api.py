"""DRF pieces every app's API uses: scoped querysets, role checks, and readable errors."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, permissions
from rest_framework.views import exception_handler as drf_exception_handler

from . import permissions as perms


class ScopedQuerysetMixin:
    """get_queryset() limited to the user's scope; DRF then answers 404 for rows outside it."""

    def get_queryset(self):
        return perms.visible(super().get_queryset(), self.request.user)


class ActionPermission(permissions.BasePermission):
    """Checks `view.action_permissions[view.action]` (an action name registered in the layer)."""

    def has_permission(self, request, view):
        mapping = getattr(view, "action_permissions", {})
        action = mapping.get(getattr(view, "action", None)) or mapping.get("*")
        if action is None:
            return True
        return perms.can(request.user, action)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)
