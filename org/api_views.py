from rest_framework import generics, viewsets

from .api import ScopedQuerysetMixin
from .models import Department, Region
from .serializers import DepartmentSerializer, MeSerializer, RegionSerializer


class MeView(generics.RetrieveAPIView):
    """The signed-in user with role and scope."""

    serializer_class = MeSerializer

    def get_object(self):
        return self.request.user


class RegionViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Regions inside the user's scope."""

    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    filterset_fields = ["level", "parent", "code"]


class DepartmentViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Departments inside the user's scope (department staff: their own)."""

    queryset = Department.objects.select_related("region")
    serializer_class = DepartmentSerializer
    filterset_fields = ["kind", "region"]
