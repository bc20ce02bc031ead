"""The REST API at ``/api/v1/``; its OpenAPI schema at ``schema/``, interactive docs at ``docs/``.

The docs pages run under the site's Content-Security-Policy with one relaxation: Swagger UI
and Redoc write inline styles, so their ``style-src`` allows them (scripts stay
``'self'``: Swagger UI's start script is served from ``docs/?script``, and Redoc's
template, ``templates/drf_spectacular/redoc.html``, loads nothing from other sites).

Ids in paths are 1 to 18 digits (larger numbers are nobody's id and could not be stored);
any other address under ``/api/v1/`` answers ``404`` in the API's error format.
"""
from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path, re_path, register_converter
from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.decorators import api_view, authentication_classes, permission_classes

from bridge.files import AUDIO_TYPES
from common.errors import NotFound

from . import catalogue, covers, downloads, libraries, trackers
from .auth import TokenView
from .context import ErrorSerializer, errors
from .schema import SchemaView
from .stream import TrackStreamView


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")

docs_csp = csp_update({"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@authentication_classes([])
@permission_classes([])
def no_such_endpoint(request, *args, **kwargs):
    raise NotFound("No such API endpoint; see /api/v1/docs/.")


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    # catalogue
    path("artists/", catalogue.ArtistListView.as_view(), name="api-artists"),
    path("artists/<id:artist_id>/", catalogue.ArtistDetailView.as_view(), name="api-artist"),
    path("albums/", catalogue.AlbumListView.as_view(), name="api-albums"),
    path("albums/<id:album_id>/", catalogue.AlbumDetailView.as_view(), name="api-album"),
    path("albums/<id:album_id>/cover", covers.AlbumCoverView.as_view(), name="api-album-cover"),
    path("tracks/", catalogue.TrackListView.as_view(), name="api-tracks"),
    path("tracks/<id:track_id>/", catalogue.TrackDetailView.as_view(), name="api-track"),
    path("tracks/<id:track_id>/cover", covers.TrackCoverView.as_view(), name="api-track-cover"),
    path("tracks/<id:track_id>/stream", TrackStreamView.as_view(), name="track-stream"),
    path("tracks/<id:track_id>/download", downloads.TrackDownloadView.as_view(), name="api-track-download"),
    path("albums/<id:album_id>/download", downloads.AlbumDownloadView.as_view(), name="api-album-download"),
    path("playlists/<id:playlist_id>/download", downloads.PlaylistDownloadView.as_view(), name="api-playlist-download"),
    path("covers/<id:cover_id>", covers.CoverArtView.as_view(), name="api-cover"),
    path("genres/", catalogue.GenreListView.as_view(), name="api-genres"),
    path("search/", catalogue.SearchView.as_view(), name="api-search"),
    # libraries and scans (staff)
    path("libraries/", libraries.LibraryListView.as_view(), name="api-libraries"),
    path("libraries/<id:library_id>/", libraries.LibraryDetailView.as_view(), name="api-library"),
    path("libraries/<id:library_id>/scan/", libraries.LibraryScanView.as_view(), name="api-library-scan"),
    path("scans/", libraries.ScanListView.as_view(), name="api-scans"),
    path("scans/<id:scan_id>/", libraries.ScanDetailView.as_view(), name="api-scan"),
    # trackers
    path("trackers/", trackers.TrackerListView.as_view(), name="api-trackers"),
    path("trackers/<str:tracker_id>/", trackers.TrackerDetailView.as_view(), name="api-tracker"),
    path("trackers/<str:tracker_id>/actions/", trackers.TrackerActionView.as_view(), name="api-tracker-actions"),
    # the schema and its docs (public: they describe the API, not its data)
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("redoc/", docs_csp(SpectacularRedocView.as_view(url_name="api-schema")), name="api-redoc"),
    path("", include("bridge.api.userdata_urls")),
    re_path(r"^.*$", no_such_endpoint),
]


# -- the schema of views defined elsewhere ---------------------------------------------------


class TokenViewSchema(OpenApiViewExtension):
    target_class = "bridge.api.auth.TokenView"
    priority = 1  # before drf-spectacular's own ObtainAuthToken fix

    def view_replacement(self):
        class Fixed(self.target):
            @extend_schema(
                operation_id="auth_token", tags=["auth"], auth=[], request=AuthTokenSerializer,
                responses={
                    200: inline_serializer("TokenResponse", {
                        "token": serializers.CharField(help_text="send as 'Authorization: Token <token>'"),
                        "user": inline_serializer("TokenUser", {
                            "id": serializers.IntegerField(), "username": serializers.CharField(),
                            "is_staff": serializers.BooleanField(),
                        }),
                    }),
                    400: OpenApiResponse(ErrorSerializer, description="invalid_payload: wrong username or password"),
                    429: OpenApiResponse(ErrorSerializer, description=(
                        "rate_limited: too many attempts, or too many failed sign-ins from this address or for this "
                        "username (refused even with the right password); Retry-After says when to try again")),
                },
                summary="Your API token, from your username and password (throttled)",
            )
            def post(self, request, *args, **kwargs):
                return super().post(request, *args, **kwargs)

        return Fixed


class TrackStreamViewSchema(OpenApiViewExtension):
    target_class = "bridge.api.stream.TrackStreamView"

    def view_replacement(self):
        from bridge.transcode.profiles import CODECS

        from .stream import StreamQuery

        audio = sorted(set(AUDIO_TYPES.values()) | {codec.mime for codec in CODECS.values()} | {"application/octet-stream"})
        profile_header = OpenApiParameter("X-Transcode-Profile", location=OpenApiParameter.HEADER, response=True,
                                          description="what is sent: raw (the original file) or a profile, e.g. opus-128")

        class Fixed(self.target):
            @extend_schema(
                operation_id="tracks_stream", tags=["catalogue"], parameters=[StreamQuery, profile_header],
                responses={
                    **{(200, mime): OpenApiResponse(OpenApiTypes.BINARY, description="the whole file") for mime in audio},
                    **{(206, mime): OpenApiResponse(OpenApiTypes.BINARY, description="one byte range") for mime in audio},
                    304: OpenApiResponse(description="not modified"),
                    416: OpenApiResponse(description="range not satisfiable"),
                    **errors(400, 403, 404, 500, 503),
                },
                summary="The track's audio: the original file (HTTP ranges, conditional requests) or transcoded",
            )
            def get(self, request, track_id: int):
                return super().get(request, track_id)

        return Fixed
