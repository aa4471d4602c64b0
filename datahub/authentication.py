"""Department API tokens: `Authorization: Token <secret>` (or `Bearer <secret>`)."""

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import DepartmentToken
from .services import hash_token


class TokenPrincipal:
    """Who calls with a department token: the department, not a person (no role, no region scope)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_superuser = False
    is_staff = False
    is_admin_role = False
    role = None
    region_id = None
    region = None
    pk = None
    id = None

    def __init__(self, token: DepartmentToken):
        self.token = token
        self.department = token.department
        self.department_id = token.department_id

    def __str__(self):
        return f"{self.department.name} · {self.token.name}"


class DepartmentTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header: use “Token <secret>”."))
        secret = header[1].decode(errors="replace")
        token = DepartmentToken.objects.select_related("department__region").filter(key_hash=hash_token(secret)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Unknown token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        return TokenPrincipal(token), token

    def authenticate_header(self, request):
        return "Token"


class DepartmentTokenScheme(OpenApiAuthenticationExtension):
    """How /api/docs/ describes the department token."""

    target_class = DepartmentTokenAuthentication
    name = "departmentToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Token <secret>（部门令牌）"}
