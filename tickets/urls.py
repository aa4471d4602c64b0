# Pages and API of this app; included at the site root by command_center/urls.py.
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import api, console_views, views
from .classify import api as classify_api

app_name = "tickets"

router = DefaultRouter()
router.register("categories", api.CategoryViewSet, basename="category")
router.register("tickets", api.TicketViewSet, basename="ticket")
router.register("assignments", api.AssignmentViewSet, basename="assignment")
router.register("requests", api.RequestViewSet, basename="request")

urlpatterns = [
    path("api/tickets/categories/suggest/", classify_api.suggest, name="category-suggest"),
    path("api/tickets/", include(router.urls)),
    path("dept/", views.dept_inbox, name="dept-inbox"),
    path("dept/a/<id:pk>/", views.dept_assignment, name="dept-assignment"),
    path("dept/a/<id:pk>/<str:step>/", views.dept_step, name="dept-step"),
    path("console/", console_views.console, name="console"),
    path("console/counts/", console_views.console_counts, name="console-counts"),
    path("console/bulk/", console_views.console_bulk, name="console-bulk"),
    path("console/t/<id:pk>/", console_views.console_ticket, name="console-ticket"),
    path("console/t/<id:pk>/<str:step>/", views.console_step, name="console-step"),
    path("console/r/<id:pk>/decide/", views.console_decide, name="console-decide"),
    path("tickets/photo/<id:pk>/<str:size>/", views.photo, name="photo"),
]
