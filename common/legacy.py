"""Legacy ``Topic:verb`` names, accepted at the edge and rewritten to registry names.

This table is the only place they exist; nothing inside the server uses them.
"""
from __future__ import annotations

LEGACY_NAMES: dict[str, str] = {
    "system:ping": "system.health.ping",
    "player:play": "player.playback.play",
    "player:pause": "player.playback.pause",
    "player:stop": "player.playback.stop",
    "player:next": "player.playback.next",
    "player:previous": "player.playback.previous",
    "player:seek": "player.playback.seek",
    "player:volume": "player.volume.set",
    "player:mode": "player.mode.set",
    "player:queue": "player.queue.replace",
    "player:enqueue": "player.queue.append",
    "player:register": "player.device.register",
    "player:transfer": "player.queue.transfer",
    "album:get": "library.album.get",
    "track:get": "library.track.get",
    "search:query": "library.search.query",
    "artist:get": "library.artist.get",
}


def rewrite(name: str) -> str:
    """The registry name for ``name``: legacy names are mapped, others returned as they are."""
    return LEGACY_NAMES.get(name, name)
