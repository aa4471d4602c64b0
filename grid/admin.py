from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from .models import Grid


@admin.register(Grid)
class GridAdmin(LeafletGeoAdmin):
    list_display = ("code", "name", "kind", "community", "households", "population")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    raw_id_fields = ("community",)
