from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from command_center import health

admin.site.site_header = _("Jianghai City Command Center · administration")
admin.site.site_title = _("Command center administration")

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path(settings.ADMIN_URL_PATH, admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/org/", include("command_center.org.api_urls")),
    path("", include("command_center.org.urls")),
    # Each app owns its own paths (pages and /api/<app>/...).
    path("", include("grid.urls")),
    path("", include("tickets.urls")),
    path("", include("hotline.urls")),
    path("", include("alerts.urls")),
    path("", include("datahub.urls")),
    path("", include("command_center.dashboard.urls")),
]
