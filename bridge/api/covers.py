"""Cover art over HTTP: the stored image, or a cached resized copy.

``GET albums/{id}/cover?size=N``, ``GET tracks/{id}/cover?size=N`` (the track's embedded
cover, else its album's) and ``GET covers/{id}?size=N`` (by cover-art id, as the
catalogue's ``cover`` fields give it). The album and track URLs keep their address when a
rescan changes the cover, so a client that must see a new cover at once adds the ``cover``
id from the catalogue (``?size=300&v=<cover>``) or uses ``covers/{id}``, whose content
never changes.

Which cover, its renditions and the response (caching headers, inline types) are
``bridge.files``', shared with the Subsonic ``getCoverArt``.
"""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers

from bridge.files import BUCKETS, INLINE, album_cover, cover_by_id, cover_response, track_cover
from library.models import CoverArt

from .context import AnyAccept, ApiView, errors, parse

TAG = ["covers"]


# -- views ------------------------------------------------------------------------------------


class SizeQuery(serializers.Serializer):
    size = serializers.IntegerField(min_value=1, max_value=100_000, required=False,
                                    help_text=f"fit into N x N pixels; rounded up to one of {', '.join(map(str, BUCKETS))}")


_IMAGE = {(200, mime): OpenApiResponse(OpenApiTypes.BINARY, description="the image")
          for mime in (*sorted(INLINE), "application/octet-stream")}
_COVER_SCHEMA = {
    "tags": TAG,
    "parameters": [SizeQuery],
    "responses": {**_IMAGE, 304: OpenApiResponse(description="not modified (If-None-Match)"), **errors(400, 404)},
}


class CoverView(ApiView):
    content_negotiation_class = AnyAccept  # errors in JSON even for Accept: image/*

    def cover(self, **kwargs) -> CoverArt:
        raise NotImplementedError

    def get(self, request, **kwargs):
        size = parse(SizeQuery, request.query_params).get("size")
        return cover_response(request, self.cover(**kwargs), size)


class AlbumCoverView(CoverView):
    """The album's cover image, or a copy fitted into `size`; long-lived caching headers."""

    def cover(self, album_id: int) -> CoverArt:
        return album_cover(album_id)

    @extend_schema(operation_id="albums_cover", summary="The album's cover art", **_COVER_SCHEMA)
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)


class TrackCoverView(CoverView):
    """The track's embedded cover image (else its album's), or a copy fitted into `size`."""

    def cover(self, track_id: int) -> CoverArt:
        return track_cover(track_id)

    @extend_schema(operation_id="tracks_cover", summary="The track's embedded cover art, else its album's", **_COVER_SCHEMA)
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)


class CoverArtView(CoverView):
    """A cover image by its id; its content never changes."""

    def cover(self, cover_id: int) -> CoverArt:
        return cover_by_id(cover_id)

    @extend_schema(operation_id="covers_get", summary="Cover art by id (the catalogue's cover fields)", **_COVER_SCHEMA)
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)
