"""``POST /api/v1/auth/token/``: a user's API token from username and password.

Throttled per client address (``LOGIN_RATE``, default 10 a minute) against password
guessing; the throttle counts in the shared cache, so every bridge process counts together
in the scaled mode. The answer holds a secret, so no cache may keep it (``no-store``).
"""
from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle


@method_decorator(never_cache, name="dispatch")
class TokenView(ObtainAuthToken):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def post(self, request, *args, **kwargs):
        serializer = self.serializer_class(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        from rest_framework.authtoken.models import Token

        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "user": {"id": user.pk, "username": user.get_username(), "is_staff": user.is_staff}})
