"""System and user methods: ping, getLicense, getOpenSubsonicExtensions, getUser,
getMusicFolders, getScanStatus, startScan."""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from common.errors import Conflict
from orchestrator import services as orchestrator

from ..responses import ERROR_NOT_AUTHORIZED, NotFoundError, SubsonicError
from . import Call, method

EXTENSIONS = [
    {"name": "apiKeyAuthentication", "versions": [1]},
    {"name": "formPost", "versions": [1]},
    {"name": "indexBasedQueue", "versions": [1]},
    {"name": "songLyrics", "versions": [1]},
]


@method("ping")
def ping(call: Call) -> dict[str, Any]:
    return {}


@method("getLicense")
def get_license(call: Call) -> dict[str, Any]:
    return {"license": {"valid": True}}


@method("getOpenSubsonicExtensions", public=True)
def get_extensions(call: Call) -> dict[str, Any]:
    return {"openSubsonicExtensions": EXTENSIONS}


def _folders() -> list[dict[str, Any]]:
    return [{"id": row["id"], "name": row["name"]} for row in orchestrator.libraries() if row["enabled"]]


@method("getMusicFolders")
def get_music_folders(call: Call) -> dict[str, Any]:
    return {"musicFolders": {"musicFolder": _folders()}}


def user_element(user) -> dict[str, Any]:
    return {
        "username": user.get_username(),
        "email": user.email or None,
        "scrobblingEnabled": True,
        "adminRole": user.is_staff,
        "settingsRole": True,
        "downloadRole": True,
        "uploadRole": False,
        "playlistRole": True,
        "coverArtRole": False,
        "commentRole": False,
        "podcastRole": False,
        "streamRole": True,
        "jukeboxRole": True,  # a remote control of the user's devices (methods/jukebox.py)
        "shareRole": True,
        "videoConversionRole": False,
        "folder": [folder["id"] for folder in _folders()],
    }


@method("getUser")
def get_user(call: Call) -> dict[str, Any]:
    username = call.params.get("username") or call.user.get_username()
    if username == call.user.get_username():
        return {"user": user_element(call.user)}
    if not call.user.is_staff:
        raise SubsonicError(ERROR_NOT_AUTHORIZED, "Only staff users can see other users.")
    other = get_user_model().objects.filter(username=username).first()
    if other is None:
        raise NotFoundError(f"No user {username!r}.")
    return {"user": user_element(other)}


def _scan_status() -> dict[str, Any]:
    """Scans of any library; tracks of enabled ones (the others are hidden)."""
    rows = orchestrator.libraries()
    return {
        "scanning": any(row["scanning"] for row in rows),
        "count": sum(row["tracks"] for row in rows if row["enabled"]),
    }


@method("getScanStatus")
def get_scan_status(call: Call) -> dict[str, Any]:
    return {"scanStatus": _scan_status()}


@method("startScan", staff=True)
def start_scan(call: Call) -> dict[str, Any]:
    """Queue a scan of every enabled library for the orchestrator (``fullScan=true``: re-read every file)."""
    full = bool(call.params.bool("fullScan", False))
    queued = 0
    for row in orchestrator.libraries():
        if not row["enabled"]:
            continue
        try:
            orchestrator.scan_request(row["id"], trigger="api", user=call.user, full=full)
            queued += 1
        except Conflict:
            continue
    status = _scan_status()
    status["scanning"] = status["scanning"] or queued > 0
    return {"scanStatus": status}
