"""Libraries in the admin, with "Scan now" (a manual scan request per selected library).

The rest of the catalogue's admin is ``library.admin``.
"""
from __future__ import annotations

import os

from django import forms
from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest

from common.errors import BusError
from library.admin import count_subquery
from library.models import Library, ScanRun, Track

from .services import scan_request


class LibraryForm(forms.ModelForm):
    class Meta:
        model = Library
        fields = "__all__"

    def clean_root(self) -> str:
        root = self.cleaned_data["root"]
        if not os.path.isabs(root):
            raise forms.ValidationError("Give the absolute path of the music folder on the server.")
        root = os.path.normpath(root)
        if not os.path.isdir(root):
            raise forms.ValidationError("No folder exists at this path on the server.")
        return root


@admin.register(Library)
class LibraryAdmin(admin.ModelAdmin):
    form = LibraryForm
    list_display = ("name", "root", "enabled", "scan_interval", "track_count", "last_scan_status", "last_scan_time")
    list_filter = ("enabled",)
    search_fields = ("name", "root")
    readonly_fields = ("lease_holder", "lease_expires", "created")
    actions = ["scan_now"]

    def get_queryset(self, request):
        latest = ScanRun.objects.filter(library=OuterRef("pk")).order_by("-created", "-id")
        return super().get_queryset(request).annotate(
            track_count=count_subquery(Track.objects.all(), "library"),
            last_status=Subquery(latest.values("status")[:1]),
            last_finished=Subquery(latest.values("finished")[:1]),
            last_started=Subquery(latest.values("started")[:1]),
            last_created=Subquery(latest.values("created")[:1]),
        )

    @admin.display(description="tracks", ordering="track_count")
    def track_count(self, library: Library) -> int:
        return library.track_count

    @admin.display(description="last scan", ordering="last_status")
    def last_scan_status(self, library: Library) -> str:
        return library.last_status or "never"

    @admin.display(description="last scan time", ordering="last_created")
    def last_scan_time(self, library: Library):
        return library.last_finished or library.last_started or library.last_created

    @admin.action(description="Scan now")
    def scan_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        requested = []
        for library in queryset:
            try:
                scan_request(library, trigger="manual", user=request.user)
            except BusError as exc:
                self.message_user(request, f"{library}: {exc.message}", messages.WARNING)
            else:
                requested.append(library.name)
        if requested:
            self.message_user(request, f"Scan requested: {', '.join(requested)}.", messages.SUCCESS)
