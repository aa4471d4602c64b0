from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from org import health

admin.site.site_header = _("Jianghai City Command Center · administration")
admin.site.site_title = _("Command center administration")

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    # browsers and tools ask for /favicon.ico whatever the page links; the icon is one static SVG
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("img/favicon.svg"), permanent=True)),
    path(settings.ADMIN_URL_PATH, admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/org/", include("org.api_urls")),
    path("", include("org.urls")),
    # Each app owns its own paths (pages and /api/<app>/...).
    path("", include("field.urls")),
    path("", include("tickets.urls")),
    path("", include("hotline.urls")),
    path("", include("alerts.urls")),
    path("", include("datahub.urls")),
    path("", include("dashboard.urls")),
]

# JSON under the API paths, a styled Chinese page elsewhere (org/errors.py)
handler400 = "org.errors.bad_request"
handler403 = "org.errors.permission_denied"
handler404 = "org.errors.page_not_found"
handler500 = "org.errors.server_error"
