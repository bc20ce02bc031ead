"""``POST /api/v1/me/password``: change your own password (any user, staff or not).

The current password is checked like a sign-in: a wrong one counts towards the sign-in
lockout (``bridge.lockout``), and a locked-out account or address gets 429 whatever it sends.
The new one must pass ``AUTH_PASSWORD_VALIDATORS``; every problem is named in ``details``.
The session that asked stays signed in (``update_session_auth_hash``); the user's other
browser sessions end (their connections close at the next credentials check). API tokens
and the Subsonic password are separate credentials and stay as they are.
"""
from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from bridge.lockout import LockedOut, is_locked, note_failure
from common.errors import InvalidPayload

from .context import ApiView, errors, parse, reject_unknown

MAX_PASSWORD = 4096  # Django hashes what it is given: bound the work


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=MAX_PASSWORD, trim_whitespace=False)
    new_password = serializers.CharField(max_length=MAX_PASSWORD, trim_whitespace=False)


@method_decorator(never_cache, name="dispatch")
class PasswordView(ApiView):
    @extend_schema(operation_id="me_password_change", tags=["account"], request=PasswordChangeSerializer,
                   responses={200: inline_serializer("PasswordChanged", {"changed": serializers.BooleanField()}),
                              **errors(400)},
                   summary="Change your password (the current one is required)")
    def post(self, request):
        reject_unknown(request.data, {"current_password", "new_password"})
        body = parse(PasswordChangeSerializer, request.data)
        user, django_request = request.user, request._request
        username = user.get_username()
        if is_locked(django_request, username):
            raise LockedOut()
        if not user.check_password(body["current_password"]):
            note_failure(django_request, username)
            raise InvalidPayload("The current password is wrong.",
                                 details=[{"field": "current_password", "problem": "The current password is wrong."}])
        try:
            validate_password(body["new_password"], user)
        except ValidationError as exc:
            raise InvalidPayload("The new password is not accepted: " + " ".join(exc.messages),
                                 details=[{"field": "new_password", "problem": problem} for problem in exc.messages]) from None
        user.set_password(body["new_password"])
        user.save(update_fields=["password"])
        update_session_auth_hash(django_request, user)  # this session stays signed in
        return Response({"changed": True})
