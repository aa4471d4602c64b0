from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin, LeafletGeoAdminMixin

from . import services
from .models import CheckIn, Grid, GridWorker, GridWorkerChange, Patrol, PatrolChecklistItem


class ChecklistInline(admin.TabularInline):
    model = PatrolChecklistItem
    fields = ("position", "title", "is_active")
    extra = 1


class WorkerInline(admin.TabularInline):
    model = GridWorker
    fields = ("user", "kind", "is_active", "since", "until")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Grid)
class GridAdmin(LeafletGeoAdmin):
    """Grids are drawn and edited on the Leaflet map (boundary and grid station)."""

    list_display = ("code", "name", "kind", "community", "households", "population")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    raw_id_fields = ("community",)
    inlines = [WorkerInline, ChecklistInline]


class ChangeInline(admin.TabularInline):
    model = GridWorkerChange
    fk_name = "worker"
    fields = ("at", "action", "from_grid", "to_grid", "from_kind", "to_kind", "by", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(GridWorker)
class GridWorkerAdmin(admin.ModelAdmin):
    """Roster edits go through the roster service, so every change lands in the history."""

    list_display = ("user", "grid", "kind", "is_active", "since", "until")
    list_filter = ("kind", "is_active")
    search_fields = ("user__username", "user__display_name", "grid__code", "grid__name")
    raw_id_fields = ("user", "grid")
    fields = ("user", "grid", "kind", "is_active")
    inlines = [ChangeInline]

    def save_model(self, request, obj, form, change):
        if obj.is_active:
            saved = services.gridworker_assign(user=obj.user, grid=obj.grid, kind=obj.kind, by=request.user, note=_("admin"))
        else:
            saved = services.gridworker_leave(worker=obj, by=request.user, note=_("admin")) if change else obj
            if not change:
                obj.save()
                saved = obj
        obj.pk = saved.pk


@admin.register(CheckIn)
class CheckInAdmin(LeafletGeoAdminMixin, admin.ModelAdmin):
    list_display = ("user", "grid", "at", "inside_grid", "distance_to_grid_m")
    list_filter = ("inside_grid",)
    date_hierarchy = "at"
    raw_id_fields = ("user", "grid")
    readonly_fields = ("idempotency_key", "received_at")


@admin.register(Patrol)
class PatrolAdmin(admin.ModelAdmin):
    list_display = ("user", "grid", "started_at", "ended_at", "state", "distance_m", "inside_distance_m", "inside_seconds")
    list_filter = ("state",)
    date_hierarchy = "started_at"
    raw_id_fields = ("user", "grid")
    readonly_fields = ("distance_m", "inside_distance_m", "inside_seconds", "points_count", "idempotency_key")
