from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from .models import (
    AccessRequest, Camera, DataResource, DepartmentToken, Dwelling, Enterprise, ExchangeBatch, HazmatVehicle, Licence,
    PlantedAnomaly, TokenScope,
)


@admin.register(DataResource)
class DataResourceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "owner", "feed", "sharing", "update_cycle", "record_count", "last_updated_at"]
    list_filter = ["sharing", "feed", "update_cycle"]
    search_fields = ["code", "name", "owner__name"]
    readonly_fields = ["record_count", "last_updated_at"]


class TokenScopeInline(admin.TabularInline):
    model = TokenScope
    extra = 0
    readonly_fields = ["resource", "direction"]
    can_delete = True


@admin.register(DepartmentToken)
class DepartmentTokenAdmin(admin.ModelAdmin):
    """Tokens are created on /datahub/tokens/ (the secret is shown once there); here they are reviewed and revoked."""

    list_display = ["name", "department", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["department"]
    readonly_fields = ["department", "name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    inlines = [TokenScopeInline]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        from .services import token_revoke

        for token in queryset:
            token_revoke(token=token, by=request.user)


@admin.register(ExchangeBatch)
class ExchangeBatchAdmin(admin.ModelAdmin):
    list_display = ["id", "resource", "department", "idempotency_key", "format", "received", "accepted", "rejected", "finished_at"]
    list_filter = ["format", "resource"]
    readonly_fields = [f.name for f in ExchangeBatch._meta.fields]


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    list_display = ["resource", "department", "status", "requested_at", "decided_at"]
    list_filter = ["status"]


@admin.register(HazmatVehicle)
class HazmatVehicleAdmin(LeafletGeoAdmin):
    list_display = ["plate", "carrier_name", "goods_class", "permitted_start", "permitted_end"]
    search_fields = ["plate", "carrier_name"]


@admin.register(Enterprise)
class EnterpriseAdmin(LeafletGeoAdmin):
    list_display = ["credit_code", "name", "status", "industry"]
    list_filter = ["status"]
    search_fields = ["credit_code", "name"]


@admin.register(Licence)
class LicenceAdmin(admin.ModelAdmin):
    list_display = ["licence_type", "number", "holder_credit_code", "valid_to", "status"]
    list_filter = ["status", "licence_type"]


@admin.register(Dwelling)
class DwellingAdmin(LeafletGeoAdmin):
    list_display = ["code", "address", "area_m2", "registered_residents"]
    search_fields = ["code", "address"]


@admin.register(Camera)
class CameraAdmin(LeafletGeoAdmin):
    list_display = ["code", "name", "owner_name", "stream_name"]
    search_fields = ["code", "name"]


@admin.register(PlantedAnomaly)
class PlantedAnomalyAdmin(admin.ModelAdmin):
    list_display = ["day", "kind", "subject", "starts_at", "ends_at"]
    list_filter = ["day", "kind"]
