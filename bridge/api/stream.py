"""``GET /api/v1/tracks/{id}/stream``: a track's original file, for any signed-in user.

Ranges, conditional requests and ``X-Accel-Redirect`` are ``bridge.files.stream_file``'s,
shared with the Subsonic ``stream`` and ``download``.
"""
from __future__ import annotations

from bridge.files import stream_file
from common.errors import NotFound
from library.models import Track

from .context import ApiView


class TrackStreamView(ApiView):
    """The original audio file of a track, for any signed-in user."""

    def get(self, request, track_id: int):
        try:
            track = Track.objects.playable().select_related("library").get(pk=track_id)
        except Track.DoesNotExist:
            raise NotFound(f"No track {track_id}.") from None
        return stream_file(request, track)

    head = get
