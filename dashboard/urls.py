# Pages and API of this app; included at the site root by command_center/urls.py.
from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("wall/", views.wall, name="wall"),
    path("api/dashboard/wall/snapshot/", views.wall_snapshot_api, name="wall-snapshot"),
    path("api/dashboard/wall/grids.geojson", views.wall_grids_api, name="wall-grids"),
    path("api/dashboard/wall/extras/", views.wall_extras_api, name="wall-extras"),
    path("stats/", views.stats_page, name="stats"),
    path("stats/tickets/", views.stats_tickets, name="stats-tickets"),
    path("stats/export/<slug:table>.xlsx", views.stats_export, name="stats-export"),
]
