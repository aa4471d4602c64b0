from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from .models import Contact, ContactTimeLimit, KnowledgeArticle, Open311Client, Open311Service, Place, ReturnVisit, Road


@admin.register(ContactTimeLimit)
class ContactTimeLimitAdmin(admin.ModelAdmin):
    list_display = ("key", "amount", "unit")


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "key_prefix", "is_active", "created_at")
    readonly_fields = ("key_prefix", "created_at")
    actions = ["issue_new_key"]

    def save_model(self, request, obj, form, change):
        raw = obj.set_new_key() if not obj.key_hash else None
        super().save_model(request, obj, form, change)
        if raw:
            messages.warning(request, _("API key for %(name)s (shown only now, store it safely): %(key)s") % {"name": obj.name, "key": raw})

    @admin.action(description=_("Issue a new API key (the old one stops working)"))
    def issue_new_key(self, request, queryset):
        for client in queryset:
            raw = client.set_new_key()
            client.save(update_fields=["key_prefix", "key_hash"])
            messages.warning(request, _("API key for %(name)s (shown only now, store it safely): %(key)s") % {"name": client.name, "key": raw})


@admin.register(Open311Service)
class Open311ServiceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "category", "contact_type", "is_active")
    list_filter = ("is_active", "group")


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "department", "valid_from", "valid_until", "is_active", "used_count")
    search_fields = ("title",)
    readonly_fields = ("used_count",)

    def has_add_permission(self, request):
        return False  # edited through /hotline/kb/ so the search index is kept

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "type", "outcome", "ticket", "created_at")
    list_filter = ("channel", "type", "outcome")
    readonly_fields = [f.name for f in Contact._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReturnVisit)
class ReturnVisitAdmin(admin.ModelAdmin):
    list_display = ("ticket", "state", "due_at", "overdue", "satisfaction", "follow_up")
    list_filter = ("state", "overdue", "satisfaction")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Road)
class RoadAdmin(LeafletGeoAdmin):
    list_display = ("name", "district", "first_number", "last_number")
    search_fields = ("name",)


@admin.register(Place)
class PlaceAdmin(LeafletGeoAdmin):
    list_display = ("name", "kind", "district", "buildings")
    list_filter = ("kind",)
    search_fields = ("name",)
