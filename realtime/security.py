"""The websocket origin check: a page of another site must not open our sockets with the user's cookies."""

from channels.security.websocket import OriginValidator
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def _host(scope) -> str | None:
    """The Host the browser connected to, if it is one of ALLOWED_HOSTS (as Django checks it for HTTP)."""
    for name, value in scope.get("headers", []):
        if name == b"host":
            host = value.decode("latin1").strip().lower()
            domain, _port = split_domain_port(host)
            if domain and not domain.startswith(".") and validate_host(domain, settings.ALLOWED_HOSTS):
                return host
            return None
    return None


class SameOriginValidator:
    """Lets a websocket through only when its Origin is this site (the Host it connected to) or one of
    CSRF_TRUSTED_ORIGINS: the rule Django's CSRF check applies to unsafe HTTP requests. Channels'
    AllowedHostsOriginValidator compares the Origin with ALLOWED_HOSTS only, which lets every origin
    through where ALLOWED_HOSTS is "*" (development); comparing with the request's own Host does not.
    A socket without an Origin header (no browser sends one without) is refused."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        # "https://*.example.com" in Django's setting is ".example.com" in Channels' patterns
        allowed = [origin.replace("://*.", "://.") for origin in settings.CSRF_TRUSTED_ORIGINS]
        host = _host(scope)
        if host is not None:
            allowed += [f"http://{host}", f"https://{host}"]
        return await OriginValidator(self.application, allowed)(scope, receive, send)
