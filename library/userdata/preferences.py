"""A user's settings, the same on every device: ``{replaygain, theme}``. ``replaygain``
(``off``, ``track`` or ``album``: which ReplayGain tag levels the loudness; default
``track``); ``theme`` (``system``, ``light`` or ``dark``: the browser UI's colours; default
``system``, which follows the device).

Kept in ``PlayerSettings``; a user without a row has the defaults, and the row is written
on the first change.
"""
from __future__ import annotations

from typing import Any

from common.errors import InvalidPayload

from ..models import PlayerSettings

DEFAULTS: dict[str, Any] = {"replaygain": "track", "theme": "system"}
CHOICES: dict[str, tuple[str, ...]] = {"replaygain": PlayerSettings.REPLAYGAIN_MODES, "theme": PlayerSettings.THEMES}


def _shape(row: PlayerSettings | None) -> dict[str, Any]:
    return {name: getattr(row, name) for name in DEFAULTS} if row is not None else dict(DEFAULTS)


def settings_get(user) -> dict[str, Any]:
    """The user's settings (the defaults when never changed)."""
    return _shape(PlayerSettings.objects.filter(user=user).first())


def settings_update(user, **changes: Any) -> dict[str, Any]:
    """Change some settings (unknown names and values refused, nothing changed then); the
    whole settings after the change."""
    for name, value in changes.items():
        if name not in CHOICES:
            raise InvalidPayload(f"Unknown setting {name!r}; settings: {', '.join(CHOICES)}.")
        if value not in CHOICES[name]:
            raise InvalidPayload(f"{name} must be one of: {', '.join(CHOICES[name])}; not {value!r}.")
    if not changes:
        return settings_get(user)
    row, _ = PlayerSettings.objects.update_or_create(user=user, defaults=changes)
    return _shape(row)
