"""The names of the channel-layer groups, built in this one place.

- ``EVERYONE``: every connection (announcements).
- ``STAFF``: every staff connection (scan lifecycle events).
- ``user_group(id)``: every connection of one user (presence, access changes).
- ``tracker_group(id)``: every connection following one tracker (its applied actions).
"""
from __future__ import annotations

from typing import Any

EVERYONE = "users"
STAFF = "staff"
TRACKER_PREFIX = "tracker."


def user_group(user_id: Any) -> str:
    return f"user.{user_id}"


def tracker_group(tracker_id: Any) -> str:
    return f"{TRACKER_PREFIX}{tracker_id}"
