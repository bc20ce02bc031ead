"""``POST /api/v1/auth/token/``: a user's API token from username and password.

Guarded twice against password guessing, both counting in the shared cache (every bridge
process together in the scaled mode) and keyed on the client address of ``bridge.clientaddr``:
the sign-in lockout (``bridge.lockout``: ``LOGIN_RATE`` failures per address or per username,
then 429 with ``Retry-After``, the right password included) and at most ``LOGIN_RATE`` requests
per address, failed or not. The answer holds a secret, so no cache may keep it (``no-store``).
"""
from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from bridge.clientaddr import client_address
from bridge.lockout import LockedOut

from .parsers import JSONParser


class LoginThrottle(ScopedRateThrottle):
    """DRF's scoped throttle on the client address of ``bridge.clientaddr`` (DRF's own
    ``get_ident`` trusts any ``X-Forwarded-For``)."""

    def get_ident(self, request) -> str:
        return client_address(request)


@method_decorator(never_cache, name="dispatch")
class TokenView(ObtainAuthToken):
    permission_classes = [AllowAny]
    parser_classes = [FormParser, MultiPartParser, JSONParser]
    throttle_classes = [LoginThrottle]
    throttle_scope = "login"

    def post(self, request, *args, **kwargs):
        serializer = self.serializer_class(data=request.data, context={"request": request})
        valid = serializer.is_valid()
        if getattr(request, "axes_locked_out", False):  # set by the axes backend and its failure count
            raise LockedOut()
        if not valid:
            serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        from rest_framework.authtoken.models import Token

        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "user": {"id": user.pk, "username": user.get_username(), "is_staff": user.is_staff}})
