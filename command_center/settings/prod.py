"""Production: refuses to start without its secrets and passes `check --deploy`."""

from .base import *  # noqa: F401,F403
from .base import env

SECRET_KEY = env("SECRET_KEY")  # no default: ImproperlyConfigured when missing
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure") or SECRET_KEY.startswith("dev-only"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters.")

DEBUG = False
DEMO_USERS = env.bool("DEMO_USERS", default=False)  # the demo logins' password is published in README.md
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost"])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SESSION_COOKIE_SECURE = env.bool("COOKIES_SECURE", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
