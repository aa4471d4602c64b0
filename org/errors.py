"""Error answers for every surface: JSON under the API paths, a styled Chinese page elsewhere, and the
answer an app registers for its own paths (Open311's error list: hotline registers it).

Used by the URLconf's handler400/403/404/500 and by the middleware that refuses bad input before a view.
"""

from collections.abc import Callable

from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

JSON_PREFIXES = ("/api/", "/m/api/")
# path prefix → fn(request, status, message) for paths whose protocol has its own error format
_RENDERERS: dict[str, Callable[..., HttpResponse]] = {}

_TITLES = {
    400: lambda: _("The request could not be understood"),
    403: lambda: _("You may not open this page"),
    404: lambda: _("Page not found"),
    405: lambda: _("Method not allowed"),
    409: lambda: _("Someone changed this first"),
    413: lambda: _("The request is too large"),
    422: lambda: _("The request conflicts with an earlier one"),
    500: lambda: _("Something went wrong on our side"),
    503: lambda: _("The service is briefly unavailable"),
}
_MESSAGES = {
    400: lambda: _("Please check what you entered and try again."),
    403: lambda: _("Your role or area does not include this. Ask your administrator if you need it."),
    404: lambda: _("It may have been moved, or it is not within your area."),
    500: lambda: _("The error has been recorded. Please try again in a moment."),
    503: lambda: _("Please try again in a moment."),
}


def register_renderer(prefix: str, render: Callable[..., HttpResponse]) -> None:
    _RENDERERS[prefix] = render


def error_response(request, status: int, message: str | None = None) -> HttpResponse:
    title = _TITLES.get(status, _TITLES[400])()
    detail = message or _MESSAGES.get(status, _MESSAGES[400])()
    path = getattr(request, "path", "") or ""
    for prefix, render in _RENDERERS.items():
        if path.startswith(prefix):
            return render(request, status, detail)
    if path.startswith(JSON_PREFIXES):
        return JsonResponse({"detail": detail}, status=status, json_dumps_params={"ensure_ascii": False})
    html = loader.render_to_string("errors/error.html", {"status": status, "title": title, "message": detail})
    return HttpResponse(html, status=status)


def bad_request(request, exception=None):
    return error_response(request, 400)


def permission_denied(request, exception=None):
    message = str(exception) if exception is not None and str(exception) else None
    return error_response(request, 403, message)


def page_not_found(request, exception=None):
    return error_response(request, 404)


def server_error(request):
    return error_response(request, 500)
