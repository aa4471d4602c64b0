"""The one permission layer: which rows a user may see, and which actions a role may take.

Every model that users list or open declares a `SCOPE = ScopeSpec(...)` naming the lookup to
its region path and/or its department. `visible(qs, user)` applies it; a row outside the scope
is never listed and its detail is a 404 (`get_visible_or_404`), so ids cannot be probed.
"""

import functools
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from .models import Role
from .scope import ScopeSpec

# Roles whose scope is a department rather than a region.
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_STAFF, Role.DATA_OFFICER})


def _spec(model) -> ScopeSpec:
    spec = getattr(model, "SCOPE", None)
    if spec is None:
        raise TypeError(f"{model.__name__} declares no SCOPE; it cannot be shown to users")
    return spec


def scope_q(model, user) -> Q | None:
    """The filter for `user` on `model`: None means everything, Q(pk__in=[]) nothing."""
    nothing = Q(pk__in=[])
    if user is None or not user.is_authenticated or not user.is_active:
        return nothing
    if user.is_admin_role:
        return None
    spec = _spec(model)
    if user.role in DEPARTMENT_ROLES:
        if user.department_id is None:
            return nothing
        if spec.department:
            return Q(**{spec.department: user.department_id})
        return nothing
    if user.region_id is None or not spec.region_path:
        return nothing
    return Q(**{f"{spec.region_path}__startswith": user.region.path})


def visible(queryset: QuerySet, user) -> QuerySet:
    q = scope_q(queryset.model, user)
    if q is None:
        return queryset
    queryset = queryset.filter(q)
    if _spec(queryset.model).distinct and getattr(user, "role", None) in DEPARTMENT_ROLES:
        queryset = queryset.distinct()
    return queryset


def get_visible_or_404(queryset: QuerySet, user, **lookup):
    try:
        return visible(queryset, user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(_("Not found, or not within your scope."))


# Actions: each app registers which roles may take its actions, in its AppConfig.ready().
_ACTIONS: dict[str, frozenset[str]] = {}


def register_action(name: str, roles: Iterable[str]) -> None:
    _ACTIONS[name] = frozenset(roles)


def roles_for(name: str) -> frozenset[str]:
    try:
        return _ACTIONS[name]
    except KeyError:
        raise KeyError(f"unknown action {name!r}; register it first") from None


def can(user, action: str) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_admin_role:
        return True
    return user.role in roles_for(action)


def require(user, action: str) -> None:
    if not can(user, action):
        raise PermissionDenied(_("Your role may not do this."))


def requires(action: str):
    """A service's role check, made before anything else: a role that may never take the step is refused
    (PermissionDenied, HTTP 403) before its input, the row's state or its version are looked at, so the
    answer does not depend on them and says nothing about the row. The service's keyword argument `by` is
    the acting user; `by=None` is the system (scanners, hooks), which is not checked."""

    def decorate(service):
        @functools.wraps(service)
        def checked(*args, **kwargs):
            by = kwargs.get("by")
            if by is not None:
                require(by, action)
            return service(*args, **kwargs)

        return checked

    return decorate


def allowed(action: str):
    """A django-fsm transition permission: may `user` take `action`? (`@transition(permission=allowed(...))`)"""

    def check(instance, user) -> bool:
        return can(user, action)

    check.__name__ = f"may_{action.replace('.', '_')}"
    return check
