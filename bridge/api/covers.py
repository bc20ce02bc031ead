"""Cover art over HTTP: the stored image, or a cached resized copy.

``GET albums/{id}/cover?size=N``, ``GET tracks/{id}/cover?size=N`` (the track's embedded
cover, else its album's) and ``GET covers/{id}?size=N`` (by cover-art id, as the
catalogue's ``cover`` fields give it).

- Without ``size``: the stored file. With it: the image fitted into ``N x N`` (aspect
  kept), N rounded up to one of ``BUCKETS`` (32..1200) so the cache stays bounded;
  never enlarged (an image already that small is sent as stored). Copies are made with
  Pillow (JPEG, or PNG when the image has transparency) and kept under
  ``DATA_DIR/covers/resized/<sha[:2]>/<sha>-<N>.<ext>``, written atomically, so each is
  made once.
- ``Cache-Control: public, max-age=31536000, immutable`` and an ``ETag`` from the
  content hash and size; ``If-None-Match`` answers 304. The album and track URLs keep
  their address when a rescan changes the cover, so a client that must see a new cover
  at once adds the ``cover`` id from the catalogue (``?size=300&v=<cover>``) or uses
  ``covers/{id}``, whose content never changes.
- Only JPEG, PNG, GIF and WebP are served inline (``X-Content-Type-Options: nosniff``);
  other stored types are converted to PNG, or, when Pillow cannot read them, sent as an
  ``application/octet-stream`` attachment.

``cover_response(request, cover, size)`` is the one place that answers with a cover; the
Subsonic ``getCoverArt`` can call it too. A disabled library's albums and tracks give no
cover, by their id or by a cover id only they use.
"""
from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers

from common.errors import NotFound
from library.covers import cover_path, write_atomically
from library.files import NotRegularFile, open_regular
from library.models import Album, CoverArt, Track

from .context import AnyAccept, ApiView, errors, parse

logger = logging.getLogger(__name__)

TAG = ["covers"]
INLINE = {"image/jpeg", "image/png", "image/gif", "image/webp"}
BUCKETS = (32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1200)
MAX_PIXELS = 40_000_000  # larger images are not decoded (decompression bombs): sent as stored
CACHE_CONTROL = "public, max-age=31536000, immutable"
_FORMATS = {"image/jpeg": ("jpg", "JPEG"), "image/png": ("png", "PNG")}


def bucket(size: int) -> int:
    """The smallest bucket at least ``size`` (clamped to 32..1200)."""
    return next((b for b in BUCKETS if b >= size), BUCKETS[-1])


# -- which cover ----------------------------------------------------------------------------


def album_cover(album_id: int) -> CoverArt:
    album = Album.objects.playable().select_related("cover").filter(pk=album_id).first()
    if album is None:
        raise NotFound(f"No album with id {album_id}.")
    if album.cover is None:
        raise NotFound(f"The album {album_id} has no cover art.")
    return album.cover


def track_cover(track_id: int) -> CoverArt:
    track = Track.objects.playable().select_related("cover", "album__cover").filter(pk=track_id).first()
    if track is None:
        raise NotFound(f"No track with id {track_id}.")
    cover = track.cover or track.album.cover
    if cover is None:
        raise NotFound(f"The track {track_id} has no cover art.")
    return cover


def cover_by_id(cover_id: int) -> CoverArt:
    cover = CoverArt.objects.filter(_shown_cover(), pk=cover_id).first()
    if cover is None:
        raise NotFound(f"No cover art with id {cover_id}.")
    return cover


def _shown_cover() -> Q:
    """A cover that a playable album or track shows, or that nothing uses: not one that only
    a disabled library's albums and tracks show (``library.models``)."""
    def used_by(queryset) -> Exists:
        return Exists(queryset.filter(cover_id=OuterRef("pk")))

    return (Q(used_by(Album.objects.playable())) | Q(used_by(Track.objects.playable()))
            | (~Q(used_by(Album.objects.all())) & ~Q(used_by(Track.objects.all()))))


# -- renditions -----------------------------------------------------------------------------


def resized_dir() -> Path:
    return Path(settings.DATA_DIR) / "covers" / "resized"


def _cached(cover: CoverArt, label: str) -> tuple[Path, str] | None:
    folder = resized_dir() / cover.sha256[:2]
    for mime, (ext, _) in _FORMATS.items():
        path = folder / f"{cover.sha256}-{label}.{ext}"
        if path.is_file():
            return path, mime
    return None


def rendition(cover: CoverArt, size: int | None) -> tuple[Path, str] | None:
    """A cached copy of ``cover`` fitted into ``size`` (or converted, for a type not served
    inline), made if needed; ``None`` when the stored file itself should be sent."""
    if size is None and cover.mime in INLINE:
        return None
    label = str(size) if size else "full"
    found = _cached(cover, label)
    if found is not None:
        return found
    from PIL import Image, ImageOps

    source = cover_path(cover)
    try:
        with Image.open(source) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                return None
            if cover.mime in INLINE and (size is None or max(width, height) <= size):
                return None
            box = size or max(width, height)
            if image.format == "JPEG":
                image.draft("RGB", (box, box))  # decode at a reduced scale: much faster for big covers
            image = ImageOps.exif_transpose(image)
            image.thumbnail((box, box), Image.Resampling.LANCZOS)
            transparent = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
            mime = "image/png" if transparent else "image/jpeg"
            image = image.convert("RGBA" if transparent else "RGB")
            ext, fmt = _FORMATS[mime]
            target = resized_dir() / cover.sha256[:2] / f"{cover.sha256}-{label}.{ext}"
            options = {"optimize": True} if fmt == "PNG" else {"quality": 85, "optimize": True, "progressive": True}
            write_atomically(target, lambda handle: image.save(handle, fmt, **options))
            return target, mime
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - unreadable, truncated, or too large to decode: send it as stored
        logger.warning("cover %s (%s) could not be resized: %s", cover.pk, cover.mime, exc)
        return None


# -- the response ---------------------------------------------------------------------------


def cover_response(request, cover: CoverArt, size: int | None = None) -> HttpResponse:
    """The image of ``cover`` (fitted into a ``size`` bucket when given), with caching headers."""
    size = bucket(size) if size else None
    etag = f'"{cover.sha256[:32]}-{size or 0}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}
    if_none_match = request.headers.get("If-None-Match", "")
    if etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*":
        return HttpResponse(status=304, headers=headers)
    try:
        made = rendition(cover, size)
        path, mime = made if made is not None else (cover_path(cover), cover.mime)
        handle = open_regular(path)
    except (FileNotFoundError, NotRegularFile):
        raise NotFound("The cover art file is missing; rescan the library.") from None
    if mime in INLINE:
        disposition = "inline"
    else:  # never let a browser render an unknown type from this origin
        mime, disposition = "application/octet-stream", "attachment"
        headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response = FileResponse(handle, content_type=mime, headers=headers)
    response["Content-Disposition"] = disposition  # FileResponse would name the file by its hash
    return response


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
