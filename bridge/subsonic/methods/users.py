"""Users: getUsers (staff), getAvatar, tokenInfo (OpenSubsonic ``apiKeyAuthentication``).

``getAvatar`` answers a generated picture (``bridge.avatars``: initials on a colour) of any
user; the same user always gets the same one, made once. ``tokenInfo`` names the user of the
API key the request was made with (any other sign-in form names the signed-in user).
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import FileResponse, HttpResponse

from bridge.avatars import avatar_path

from ..responses import NotFoundError
from . import Call, method
from .system import user_element

AVATAR_CACHE = "private, max-age=86400"


@method("getUsers", staff=True)
def get_users(call: Call) -> dict[str, Any]:
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    return {"users": {"user": [user_element(user) for user in users]}}


@method("getAvatar")
def get_avatar(call: Call) -> HttpResponse:
    username = call.params.get("username") or call.user.get_username()
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFoundError(f"No user {username[:60]!r}.")
    response = FileResponse(avatar_path(user.get_username()).open("rb"), content_type="image/png")
    response["Cache-Control"] = AVATAR_CACHE
    response["X-Content-Type-Options"] = "nosniff"
    return response


@method("tokenInfo")
def token_info(call: Call) -> dict[str, Any]:
    return {"tokenInfo": {"username": call.user.get_username()}}
