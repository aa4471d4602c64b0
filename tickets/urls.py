# Pages and API of this app; included at the site root by command_center/urls.py.
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import api, views

app_name = "tickets"

router = DefaultRouter()
router.register("categories", api.CategoryViewSet, basename="category")
router.register("tickets", api.TicketViewSet, basename="ticket")
router.register("assignments", api.AssignmentViewSet, basename="assignment")
router.register("requests", api.RequestViewSet, basename="request")

urlpatterns = [
    path("api/tickets/", include(router.urls)),
    path("dept/", views.dept_inbox, name="dept-inbox"),
    path("dept/a/<int:pk>/", views.dept_assignment, name="dept-assignment"),
    path("dept/a/<int:pk>/<str:step>/", views.dept_step, name="dept-step"),
    path("console/", views.console, name="console"),
    path("console/t/<int:pk>/", views.console_ticket, name="console-ticket"),
    path("console/t/<int:pk>/<str:step>/", views.console_step, name="console-step"),
    path("console/r/<int:pk>/decide/", views.console_decide, name="console-decide"),
    path("tickets/photo/<int:pk>/<str:size>/", views.photo, name="photo"),
]
