from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api_views

router = DefaultRouter()
router.register("regions", api_views.RegionViewSet, basename="region")
router.register("departments", api_views.DepartmentViewSet, basename="department")

urlpatterns = [path("me/", api_views.MeView.as_view(), name="me"), *router.urls]
