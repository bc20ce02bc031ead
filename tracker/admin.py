"""Trackers in the admin: state and action log, read-only (only actions change trackers)."""
from django.contrib import admin

from .models import Tracker, TrackerAction


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TrackerActionInline(admin.TabularInline):
    model = TrackerAction
    fields = ("version", "name", "payload", "actor", "at_ms", "origin")
    readonly_fields = fields
    ordering = ("-version",)
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-version")


@admin.register(Tracker)
class TrackerAdmin(ReadOnlyAdmin):
    list_display = ("kind", "key", "owner", "version", "updated")
    list_filter = ("kind",)
    search_fields = ("key", "owner__username")
    readonly_fields = ("id", "kind", "key", "owner", "controllers", "state", "version", "base_version", "base_state", "created", "updated")
    inlines = [TrackerActionInline]


@admin.register(TrackerAction)
class TrackerActionAdmin(ReadOnlyAdmin):
    list_display = ("tracker", "version", "name", "actor", "created")
    list_filter = ("name",)
    readonly_fields = [f.name for f in TrackerAction._meta.fields]
