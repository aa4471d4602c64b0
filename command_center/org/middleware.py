from django.conf import settings
from django.middleware.locale import LocaleMiddleware


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

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(self.prefix):
            response._csp_replace = {"script-src": ["'self'", "'unsafe-inline'"]}
        return response
