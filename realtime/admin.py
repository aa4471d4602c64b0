from django.contrib import admin

from .models import Heartbeat, OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("id", "topic", "created_at", "sent_at", "attempts")
    list_filter = ("topic",)
    readonly_fields = ("topic", "groups", "data", "created_at", "sent_at", "attempts")


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "at")
