"""The catalogue in the admin: scan runs, the catalogue, and users' Subsonic credentials.
(Libraries, with "Scan now", are the orchestrator's: ``orchestrator.admin``.)

Internet radio stations are managed here by staff; shares (made by their owners) can be
seen, given another expiry or deleted.

The catalogue (artists, albums, tracks, genres, cover art) mirrors the files and is
written by scans, so it is read-only here: fix tags in the files and scan again.

Subsonic credentials are set by their users (the ``subsonic_password`` command, the API);
the admin only lists them and can delete one, which revokes that user's Subsonic access.
Their secrets (the encrypted password, the API key's digest and hint) are never shown.
"""
from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from .covers import cover_path
from .models import Album, Artist, CoverArt, Genre, InternetRadioStation, Library, ScanRun, Share, SubsonicCredential, Track

# Only these are served from the admin's origin as they are; anything else (an embedded
# picture claiming text/html or SVG) is sent as a download.
SAFE_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp"})


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def cover_img(cover_id: int | None, size: int = 48) -> str:
    """An ``<img>`` of a cover served by the CoverArt admin's image view, or a dash."""
    if cover_id is None:
        return "—"
    url = reverse("admin:library_coverart_image", args=[cover_id])
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="cover {}" loading="lazy" style="object-fit: cover">',
        url, size, size, cover_id,
    )


def count_subquery(queryset: QuerySet, field: str) -> Coalesce:
    """Count of ``queryset`` rows whose ``field`` is the outer row (no join fan-out)."""
    counted = queryset.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# -- scans ------------------------------------------------------------------------------------


def _scan_request():
    """The orchestrator's ``scan_request``, found at run time: the catalogue app does not import the orchestrator."""
    try:
        return apps.get_app_config("orchestrator").scan_request
    except (LookupError, AttributeError):
        return None


@admin.register(ScanRun)
class ScanRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id", "library", "status", "trigger", "full", "requested_by", "started", "finished",
        "files_seen", "added", "updated", "removed", "error_count",
    )
    list_filter = ("status", "library", "trigger")
    list_select_related = ("library", "requested_by")
    exclude = ("errors",)
    readonly_fields = ("error_list",)

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)  # old runs may be cleared

    @admin.display(description="errors")
    def error_list(self, run: ScanRun) -> str:
        entries = run.errors if isinstance(run.errors, list) else []
        if not entries:
            return "none"
        rows = format_html_join(
            "",
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            ((e.get("path", ""), e.get("error", "")) if isinstance(e, dict) else ("", str(e)) for e in entries),
        )
        more = run.error_count - len(entries)
        note = format_html("<p>… and {} more not kept.</p>", more) if more > 0 else ""
        return format_html("<table><thead><tr><th>file</th><th>error</th></tr></thead><tbody>{}</tbody></table>{}", rows, note)


# -- the catalogue --------------------------------------------------------------------------


class AlbumLibraryFilter(admin.SimpleListFilter):
    """Albums with a track in the chosen library."""

    title = "library"
    parameter_name = "library"

    def lookups(self, request, model_admin):
        return [(str(library.pk), library.name) for library in Library.objects.all()]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(Exists(Track.objects.filter(album=OuterRef("pk"), library_id=int(value))))
        return queryset


class CoverPreviewMixin:
    """A large cover preview first on the change page."""

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != "cover_preview"]
        return ["cover_preview", *fields]

    @admin.display(description="cover art")
    def cover_preview(self, obj) -> str:
        return cover_img(self.cover_id(obj), size=250)

    @admin.display(description="cover")
    def thumbnail(self, obj) -> str:
        return cover_img(self.cover_id(obj))

    def cover_id(self, obj) -> int | None:
        return obj.cover_id


@admin.register(Artist)
class ArtistAdmin(ReadOnlyAdmin):
    list_display = ("name", "sort_name", "album_count", "musicbrainz_id", "created")
    search_fields = ("name", "sort_name", "musicbrainz_id")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(album_count=count_subquery(Album.objects.all(), "album_artist"))

    @admin.display(description="albums", ordering="album_count")
    def album_count(self, artist: Artist) -> int:
        return artist.album_count


@admin.register(Album)
class AlbumAdmin(CoverPreviewMixin, ReadOnlyAdmin):
    list_display = ("thumbnail", "title", "album_artist", "year", "track_count", "compilation", "created")
    list_display_links = ("thumbnail", "title")
    list_filter = ("compilation", "year", "genres", AlbumLibraryFilter)
    list_select_related = ("album_artist",)
    search_fields = ("title", "album_artist__name", "musicbrainz_id")
    readonly_fields = ("cover_preview",)


@admin.register(Track)
class TrackAdmin(CoverPreviewMixin, ReadOnlyAdmin):
    list_display = ("thumbnail", "title", "artist_display", "album", "disc_number", "track_number", "format", "duration", "library")
    list_display_links = ("thumbnail", "title")
    list_filter = ("format", "library", "year", "genres", "album__compilation")
    list_select_related = ("album", "library")
    search_fields = ("title", "artist_display", "album__title", "path")
    readonly_fields = ("cover_preview",)

    def cover_id(self, track: Track) -> int | None:
        return track.cover_id if track.cover_id is not None else track.album.cover_id

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, track: Track) -> str:
        seconds = track.duration_ms // 1000
        return f"{seconds // 60}:{seconds % 60:02d}"


@admin.register(Genre)
class GenreAdmin(ReadOnlyAdmin):
    list_display = ("name", "album_count", "track_count")
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            album_count=count_subquery(Album.genres.through.objects.all(), "genre"),
            track_count=count_subquery(Track.genres.through.objects.all(), "genre"),
        )

    @admin.display(description="albums", ordering="album_count")
    def album_count(self, genre: Genre) -> int:
        return genre.album_count

    @admin.display(description="tracks", ordering="track_count")
    def track_count(self, genre: Genre) -> int:
        return genre.track_count


@admin.register(CoverArt)
class CoverArtAdmin(CoverPreviewMixin, ReadOnlyAdmin):
    list_display = ("thumbnail", "sha256", "mime", "size", "width", "height", "created")
    list_display_links = ("thumbnail", "sha256")
    list_filter = ("mime",)
    search_fields = ("sha256",)
    readonly_fields = ("cover_preview",)

    def cover_id(self, cover: CoverArt) -> int | None:
        return cover.pk

    def get_urls(self):
        view = self.admin_site.admin_view(self.image_view)
        return [path("<int:object_id>/image/", view, name="library_coverart_image"), *super().get_urls()]

    def image_view(self, request: HttpRequest, object_id: int) -> FileResponse:
        """The image file of a cover (admin only): 404 when the row or its file is missing."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        cover = CoverArt.objects.filter(pk=object_id).first()
        if cover is None:
            raise Http404("No such cover art.")
        file = cover_path(cover)
        if not file.is_file():
            raise Http404("The cover's file is missing.")
        safe = cover.mime in SAFE_IMAGE_TYPES
        response = FileResponse(file.open("rb"), content_type=cover.mime if safe else "application/octet-stream", as_attachment=not safe)
        response["Cache-Control"] = "private, max-age=86400"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


# -- users' Subsonic credentials ------------------------------------------------------------


@admin.register(SubsonicCredential)
class SubsonicCredentialAdmin(ReadOnlyAdmin):
    """Who has Subsonic credentials, since when, last used; delete one to revoke it."""

    list_display = ("user", "password_set", "api_key_set", "created", "updated", "last_used")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    ordering = ("user__username",)
    fields = ("user", "password_set", "api_key_set", "created", "updated", "last_used")
    readonly_fields = fields
    exclude = ("password_encrypted", "api_key_hash", "api_key_hint")  # secrets: never in a form

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)  # revoking is allowed

    @admin.display(description="password set", boolean=True)
    def password_set(self, credential: SubsonicCredential) -> bool:
        return bool(credential.password_encrypted)

    @admin.display(description="API key set", boolean=True)
    def api_key_set(self, credential: SubsonicCredential) -> bool:
        return bool(credential.api_key_hash)


@admin.register(InternetRadioStation)
class InternetRadioStationAdmin(admin.ModelAdmin):
    """Staff manage the stations everyone can play (http and https stream URLs only)."""

    list_display = ("name", "stream_url", "homepage_url", "created")
    search_fields = ("name", "stream_url")


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    """Shares are made by their owners; staff can see them, change the expiry and delete
    them. The token is not shown: it is the link's secret."""

    list_display = ("id", "owner", "description", "created", "expires", "visit_count", "last_visited")
    list_filter = ("owner",)
    fields = ("owner", "description", "expires", "created", "visit_count", "last_visited")
    readonly_fields = ("owner", "created", "visit_count", "last_visited")

    def has_add_permission(self, request, obj=None):
        return False
