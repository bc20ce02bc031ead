"""Legacy ``Topic:verb`` names, accepted at the edge and rewritten to registry names.

This table is the only place they exist; nothing inside the server uses them.
"""
from __future__ import annotations

LEGACY_NAMES: dict[str, str] = {
    "system:ping": "system.health.ping",
}


def rewrite(name: str) -> str:
    """The registry name for ``name``: legacy names are mapped, others returned as they are."""
    return LEGACY_NAMES.get(name, name)
