# Pages and API of this app; included at the site root by command_center/urls.py.
from django.urls import path

from . import api, views

app_name = "field"

urlpatterns = [
    path("m/", views.home, name="m-home"),
    path("m/sw.js", views.service_worker, name="m-sw"),
    path("m/report/", views.report, name="m-report"),
    path("m/reports/", views.my_reports, name="m-reports"),
    path("m/reports/<id:pk>/", views.report_detail, name="m-report-detail"),
    path("m/verify/", views.verify_list, name="m-verify"),
    path("m/verify/<id:pk>/", views.verify_detail, name="m-verify-detail"),
    path("m/checkin/", views.checkin, name="m-checkin"),
    path("m/patrol/", views.patrol, name="m-patrol"),
    path("m/api/report", views.api_report, name="m-api-report"),
    path("m/api/verify/<id:pk>", views.api_verify, name="m-api-verify"),
    path("m/api/checkin", views.api_checkin, name="m-api-checkin"),
    path("m/api/patrol/start", views.api_patrol_start, name="m-api-patrol-start"),
    path("m/api/patrol/<id:pk>/points", views.api_patrol_points, name="m-api-patrol-points"),
    path("m/api/patrol/<id:pk>/check", views.api_patrol_check, name="m-api-patrol-check"),
    path("m/api/patrol/<id:pk>/stop", views.api_patrol_stop, name="m-api-patrol-stop"),
    path("m/api/locate", views.api_locate, name="m-api-locate"),
    path("api/grid/grids.geojson", api.GridsGeoJSON.as_view(), name="api-grids-geojson"),
    path("api/grid/performance/", api.Performance.as_view(), name="api-performance"),
]
