from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from . import calendar
from .classify.admin import SynonymsInline
from .models import Assignment, CalendarOverride, Category, Ticket, TicketEvent, TicketRequest


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "dispatch_rule", "owner_department", "sign_limit", "sign_unit",
                    "handle_limit", "handle_unit", "is_active"]
    list_filter = ["kind", "dispatch_rule", "is_active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["owner_department"]
    raw_id_fields = ["parent"]
    inlines = [SynonymsInline]


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    """Holidays and adjusted working days that win over chinese_calendar (and fill in years it does not know)."""

    list_display = ["date", "is_workday", "note"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"

    def changelist_view(self, request, extra_context=None):
        warning = calendar.health().get("warning")
        if warning:
            messages.warning(request, _("Calendar: %(warning)s") % {"warning": warning})
        return super().changelist_view(request, extra_context)


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    can_delete = False
    fields = ["department", "role", "state", "light", "sign_due_at", "handle_due_at", "next_scan_at", "reply"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    can_delete = False
    fields = ["at", "actor", "action", "from_state", "to_state", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(LeafletGeoAdmin):
    """Read-only: tickets change only through their services (timeline and outbox)."""

    list_display = ["number", "title", "category", "state", "light", "center", "due_at", "created_at"]
    list_filter = ["state", "light", "source", "urgent", "level"]
    search_fields = ["number", "title", "address"]
    list_select_related = ["category", "center"]
    inlines = [AssignmentInline, EventInline]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TicketRequest)
class TicketRequestAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "decision", "requested_by", "requested_at", "decided_by"]
    list_filter = ["kind", "decision"]
    raw_id_fields = ["ticket", "assignment"]

    def has_change_permission(self, request, obj=None):
        return False
