import sys

from csp.decorators import csp_replace
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.signals import got_request_exception
from django.db import DataError
from django.http.multipartparser import MultiPartParserError
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext as _

from . import database, errors, idempotency, inputs
from .exceptions import Conflict
from .models import IdempotencyRecord


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the user chose another language with the switch (cookie).

    The browser's Accept-Language is ignored: a wall or a shared desk PC set up in English must
    still show the command center in Chinese.
    """

    def process_request(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)


class AdminScriptPolicyMiddleware:
    """The admin's map widgets (django-leaflet) use inline scripts: allow them there, and only there."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/" + settings.ADMIN_URL_PATH
        # django-csp's own per-view decorator, applied to the admin's part of the chain
        self.admin_chain = csp_replace({"script-src": ["'self'", "'unsafe-inline'"]})(get_response)

    def __call__(self, request):
        if request.path_info.startswith(self.prefix):
            return self.admin_chain(request)
        return self.get_response(request)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class InputGuardMiddleware:
    """Refuses bad input once, for every surface, before any view (rules: org.inputs).

    - query strings and forms: control characters, lone surrogates, over-long names and values → 400;
      a form value of only invisible characters reaches the view as "" (request.POST is replaced by its clean copy);
    - the Idempotency-Key header: malformed or over-long → 400; the same key with a different request
      from the same sender → 422 (a true replay passes on to the view, which answers with the first result);
    - a number or text PostgreSQL cannot hold (DataError) → 400, and a Conflict (org.exceptions) → 409, never a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            inputs.clean_querydict(request.GET)
            key = inputs.check_idempotency_key(request.headers.get("Idempotency-Key"))
            form = None
            if request.method in WRITE_METHODS and request.content_type in FORM_TYPES:
                form = inputs.clean_querydict(request.POST)
                request.POST = form
        except inputs.InputRejected as exc:
            return errors.error_response(request, 400, " ".join(exc.messages))
        except (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent) as exc:
            return errors.error_response(request, 400, str(exc))

        record = None
        if key and request.method in WRITE_METHODS:
            sender = idempotency.principal(request)
            body_size = int(request.META.get("CONTENT_LENGTH") or 0)
            # a streamed upload larger than a form may be is compared by the app that reads it (the data hub)
            if sender and (form is not None or body_size <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE):
                record = IdempotencyRecord(principal=sender, key=key, fingerprint=idempotency.fingerprint(request, form=form),
                                           path=request.path[:200])
                first = IdempotencyRecord.objects.filter(principal=sender, key=key).only("fingerprint", "path").first()
                if first is not None and first.fingerprint != record.fingerprint:
                    return errors.error_response(request, 422, _(
                        "This Idempotency-Key was already used for a different request (%(path)s). Use a new key for a new request."
                    ) % {"path": first.path})
                if first is not None:
                    record = None

        response = self.get_response(request)
        if record is not None and 200 <= response.status_code < 300:
            IdempotencyRecord.objects.bulk_create([record], ignore_conflicts=True)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DataError):
            return errors.error_response(request, 400, _("A value is out of range."))
        if isinstance(exception, Conflict):
            response = errors.error_response(request, 409, str(exception))
            return response
        return None


class DatabaseOutageMiddleware:
    """A database outage is a 503 within moments, never a 500 or a hanging request: JSON under /api/, a Chinese
    page elsewhere (org.database has the whole story). It goes first after the static files: it takes the
    request's connection through connect_checked(), which answers at once while the database is known to be
    down and swaps a stale pooled connection for a working one after a restart. A connection that fails later
    in the request (the view, or any middleware) is answered the same way. /healthz does its own checks."""

    EXEMPT = ("/healthz",)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info in self.EXEMPT:
            return self.get_response(request)
        try:
            database.connect_checked()
        except database.DatabaseUnavailable:
            return database_unavailable(request)
        response = self.get_response(request)
        error = getattr(request, "database_error", None)
        if error is not None and response.status_code >= 500:
            if not database.STATE.down:
                database.connect_checked_after(error)
            return database_unavailable(request)
        return response

    def process_exception(self, request, exception):
        if database.is_outage(exception):
            database.connect_checked_after(exception)
            return database_unavailable(request)
        return None


def database_unavailable(request):
    """The 503 itself, in the system's language (Chinese) and the path's error format (org.errors); nothing in
    it touches the database."""
    with translation.override(settings.LANGUAGE_CODE):
        response = errors.error_response(request, 503, _(
            "The database is unavailable for the moment. Everything saved before is safe. "
            "Wait a moment, then reload the page or send it again."))
    response["Retry-After"] = "5"
    response["Cache-Control"] = "no-store"
    return response


def remember_database_error(sender, request=None, **kwargs):
    """got_request_exception: a connection that failed anywhere in the request marks it for the middleware."""
    exc = sys.exc_info()[1]
    if request is not None and exc is not None and database.is_outage(exc):
        request.database_error = exc


got_request_exception.connect(remember_database_error, dispatch_uid="org.database_outage")
