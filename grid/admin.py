from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from .models import Grid, GridWorker


@admin.register(Grid)
class GridAdmin(LeafletGeoAdmin):
    list_display = ("code", "name", "kind", "community", "households", "population")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    raw_id_fields = ("community",)


@admin.register(GridWorker)
class GridWorkerAdmin(admin.ModelAdmin):
    list_display = ("user", "grid", "kind", "is_active", "since")
    list_filter = ("kind", "is_active")
    raw_id_fields = ("user", "grid")
