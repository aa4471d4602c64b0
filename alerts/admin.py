from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from .models import Alert, AlertEvent, AlertRule, Expressway


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    """Warning models: level, parameters (validated against the kind on save) and handling limit."""

    list_display = ["name", "code", "kind", "level", "is_active", "deadline_hours", "settings_display"]
    list_filter = ["kind", "level", "is_active"]
    list_editable = ["level", "is_active"]
    search_fields = ["name", "code"]
    readonly_fields = ["settings_display"]
    fields = ["code", "kind", "name", "level", "is_active", "deadline_hours", "params", "settings_display", "description"]

    @admin.display(description=_("parameters in force"))
    def settings_display(self, obj):
        try:
            return ", ".join(f"{k}={v}" for k, v in obj.settings().items())
        except Exception:  # invalid params are shown by the form's validation
            return "—"


@admin.register(Expressway)
class ExpresswayAdmin(LeafletGeoAdmin):
    list_display = ["name", "half_width_m"]


class AlertEventInline(admin.TabularInline):
    model = AlertEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "actor", "from_state", "to_state", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(LeafletGeoAdmin):
    """Alerts are changed through their lifecycle steps (/alerts/), so the admin only shows them."""

    list_display = ["id", "title", "rule", "level", "state", "region", "department", "created_at"]
    list_filter = ["rule__kind", "level", "state"]
    search_fields = ["title", "subject"]
    inlines = [AlertEventInline]
    list_select_related = ["rule", "region", "department"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
