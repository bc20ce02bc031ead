"""``GET /api/v1/tracks/{id}/stream``: a track's audio, the original file or transcoded, for
any signed-in user.

``format`` (``raw``, ``opus``, ``mp3``, ``aac``), ``max_bitrate`` (kbit/s), ``offset_ms``
(start a transcode that far in) and ``accept`` (the file formats the client plays as they
are, comma-separated) pick the profile (``bridge.transcode.profiles.choose``); the
response's ``X-Transcode-Profile`` names it (``raw``: the original). Ranges, conditional
requests, ``X-Accel-Redirect`` and the transcode cache are ``bridge.files``', shared with
the Subsonic ``stream``.
"""
from __future__ import annotations

from rest_framework import serializers

from bridge.files import stream_track
from bridge.transcode.profiles import CODECS, RAW, codec_named
from common.errors import NotFound
from library.models import Track

from .context import AnyAccept, ApiView, parse

MAX_OFFSET_MS = 24 * 3600 * 1000


class StreamQuery(serializers.Serializer):
    format = serializers.CharField(required=False, max_length=10, help_text=(
        f"{RAW} (the original file, always), or {', '.join(CODECS)}: transcode unless the file already is that "
        "format within max_bitrate"))
    max_bitrate = serializers.IntegerField(required=False, min_value=0, max_value=10_000, help_text=(
        "kbit/s; a file above it is transcoded (to `format`, else mp3). 0: no limit"))
    offset_ms = serializers.IntegerField(required=False, min_value=0, max_value=MAX_OFFSET_MS, help_text=(
        "start this far into the track (transcoded streams only; not cached)"))
    accept = serializers.CharField(required=False, max_length=200, help_text=(
        "file formats (e.g. `mp3,flac,ogg,opus,m4a,wav`) the client plays as they are: another is transcoded"))

    def validate_format(self, value):
        return codec_named(value, strict=True)

    def validate_accept(self, value):
        return frozenset(item.strip().lower() for item in value.split(",") if item.strip())


class TrackStreamView(ApiView):
    """A track's audio: the original file, or transcoded when asked for (``StreamQuery``)."""

    # Errors in JSON whatever ``Accept`` says, and ``format`` is ours, not DRF's renderer choice.
    content_negotiation_class = AnyAccept

    def get(self, request, track_id: int):
        query = parse(StreamQuery, request.query_params)
        try:
            track = Track.objects.playable().select_related("library").get(pk=track_id)
        except Track.DoesNotExist:
            raise NotFound(f"No track {track_id}.") from None
        return stream_track(request, track, format=query.get("format"), max_kbps=query.get("max_bitrate") or None,
                            offset_ms=query.get("offset_ms") or 0, accept=query.get("accept"))

    head = get
