"""The OpenAPI schema at /api/schema/ says what the server does, errors and the phone's JSON endpoints included.

- `AutoSchema` (DEFAULT_SCHEMA_CLASS) adds the error answers every operation can give, all with the one
  `Error` component: 400 when it takes input (415 for a body of another media type), 403 when it needs
  a signed-in user (and 401 where a token is challenged for), 404 when its path names a record, 409 when
  it changes something (a stale version, a step the state does not allow, a decided request).
- `documented_as(View)` marks a plain Django view (the /m/ workspace's JSON endpoints) with an APIView
  that only describes it; `add_documented_views` (a PREPROCESSING_HOOK) puts those into the schema.
"""

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from . import inputs

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ERROR_DESCRIPTIONS = {
    400: "The input is not valid: field → list of messages, or `detail`.",
    401: "Not signed in, or no valid credentials (a department token that is missing or wrong).",
    403: "Not signed in (where a session is the only credential), or the role or scope may not do this.",
    404: "Not found, or not within the caller's scope.",
    415: "The body's media type is not one this operation reads.",
    409: "Conflict: a stale version, or a step the record's state does not allow; nothing was changed.",
    422: "The Idempotency-Key was used before for a different request; nothing was changed.",
}


def idempotency_key_parameter(description: str, *, required: bool = False) -> OpenApiParameter:
    """The Idempotency-Key header, with the form InputGuardMiddleware accepts (org.inputs.IDEMPOTENCY_KEY)."""
    return OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=required,
                            pattern=inputs.IDEMPOTENCY_KEY.pattern, description=description)


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]})
class MessagesField(serializers.Field):
    """One message, or a list of them."""


@extend_schema_serializer(component_name="Error")
class ErrorSerializer(serializers.Serializer):
    """Every error answer: a readable `detail`; a 400 also carries one list of messages per invalid field, and
    a 409 on a stale version the record's current `version` and `state`."""

    detail = MessagesField(required=False, help_text="What went wrong, in words a person understands.")


def error_statuses(operation: dict, method: str, *, challenges: bool) -> list[int]:
    """`challenges`: the view's first authenticator sends a WWW-Authenticate challenge, so DRF answers a
    missing or wrong credential with 401; otherwise (a session) with 403."""
    statuses = []
    takes_input = "requestBody" in operation or any(p.get("in") == "query" for p in operation.get("parameters", []))
    if takes_input:
        statuses.append(400)
    security = operation.get("security", [])
    if security and {} not in security:
        statuses += [401, 403] if challenges else [403]
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        statuses.append(404)
    if method in WRITE_METHODS:
        statuses.append(409)
    if "requestBody" in operation:
        statuses.append(415)
    if any(p.get("in") == "header" and p.get("name", "").lower() == "idempotency-key" for p in operation.get("parameters", [])):
        statuses.append(422)
    return statuses


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        authenticators = self.view.get_authenticators()
        challenges = bool(authenticators and authenticators[0].authenticate_header(self.view.request))
        for code in error_statuses(operation, method.upper(), challenges=challenges):
            operation["responses"].setdefault(str(code), {
                "content": {"application/json": {"schema": error}},
                "description": ERROR_DESCRIPTIONS[code],
            })
        return operation


def documented_as(view_class):
    """Describe the plain Django view `fn` in the schema by `view_class` (an APIView that is never routed)."""

    def decorate(fn):
        fn.schema_view = view_class.as_view()
        return fn

    return decorate


def _walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def add_documented_views(endpoints):
    """PREPROCESSING_HOOK: the routed plain views marked with documented_as, at their real paths."""
    from rest_framework.schemas.generators import EndpointEnumerator

    enumerator = EndpointEnumerator()
    for route, callback in _walk(get_resolver().url_patterns):
        schema_view = getattr(callback, "schema_view", None)
        if schema_view is None:
            continue
        path = enumerator.get_path_from_regex(route)
        for method in enumerator.get_allowed_methods(schema_view):
            if method not in ("OPTIONS", "HEAD"):
                endpoints.append((path, route, method, schema_view))
    return endpoints
