from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from .models import Department, Region, User


@admin.register(Region)
class RegionAdmin(LeafletGeoAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)

    def get_readonly_fields(self, request, obj=None):
        # paths (this region's, its descendants', and the region_path of rows in other apps) spell code and parent
        return ("code", "parent") if obj is not None else ()


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "region", "is_active")
    list_filter = ("kind", "region__level")
    search_fields = ("code", "name")
    raw_id_fields = ("region",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "region", "department", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "display_name", "phone")
    raw_id_fields = ("region", "department")
    fieldsets = DjangoUserAdmin.fieldsets + ((_("Role and scope"), {"fields": ("role", "region", "department", "display_name", "phone")}),)
    add_fieldsets = DjangoUserAdmin.add_fieldsets + ((_("Role and scope"), {"fields": ("role", "region", "department")}),)
