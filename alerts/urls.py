# Pages and API of this app; included at the site root by command_center/urls.py.
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import api, views

app_name = "alerts"

router = DefaultRouter()
router.register("rules", api.RuleViewSet, basename="rule")
router.register("alerts", api.AlertViewSet, basename="alert")

urlpatterns = [
    path("api/alerts/video-events/", api.VideoEventView.as_view(), name="video-event"),
    path("api/alerts/matching/", api.MatchingView.as_view(), name="api-matching"),
    path("api/alerts/", include(router.urls)),
    path("alerts/", views.alert_list, name="list"),
    path("alerts/matching/", views.matching, name="matching"),
    path("alerts/matching.xlsx", views.matching_export, name="matching-export"),
    path("alerts/quality/", views.quality, name="quality"),
    path("alerts/<id:pk>/", views.alert_detail, name="detail"),
    path("alerts/<id:pk>/snapshot.jpg", views.snapshot, name="snapshot"),
    path("alerts/<id:pk>/<str:step>/", views.alert_step, name="step"),
]
