"""``GET tracks/{id}/download``, ``albums/{id}/download``, ``playlists/{id}/download``: a track's
file as an attachment; an album's or a playlist's files as a streamed, uncompressed zip. Any
signed-in user, for what they may play (``bridge.downloads``)."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema

from bridge import downloads
from bridge.files import stream_file
from common.errors import NotFound
from library.models import Track

from .context import ApiView, errors

TAG = ["catalogue"]
ZIP = {(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="a stored (uncompressed) zip, streamed")}


class TrackDownloadView(ApiView):
    """The track's original file as an attachment named after its artist and title."""

    @extend_schema(operation_id="tracks_download", tags=TAG,
                   responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY), **errors(403, 404)},
                   summary="Download a track's original file")
    def get(self, request, track_id: int):
        track = Track.objects.playable().select_related("library").filter(pk=track_id).first()
        if track is None:
            raise NotFound(f"No track {track_id}.")
        response = stream_file(request, track)
        response["Content-Disposition"] = downloads.content_disposition(downloads.track_filename(track))
        return response


class AlbumDownloadView(ApiView):
    """The album's tracks (enabled libraries only) in one zip, in disc and track order."""

    @extend_schema(operation_id="albums_download", tags=TAG, responses={**ZIP, **errors(404)},
                   summary="Download an album as a zip")
    def get(self, request, album_id: int):
        name, entries = downloads.album_entries(album_id)
        return downloads.zip_response(request, name, entries)


class PlaylistDownloadView(ApiView):
    """A playlist of yours, or a public one, in one zip, in playlist order."""

    @extend_schema(operation_id="playlists_download", tags=TAG, responses={**ZIP, **errors(400, 404)},
                   summary="Download a playlist as a zip")
    def get(self, request, playlist_id: int):
        name, entries = downloads.playlist_entries(request.user, playlist_id)
        return downloads.zip_response(request, name, entries)
