"""Usernames are matched without regard to case at sign-in, as Navidrome does.

Every password check finds its user with :func:`same_name` (Django's ``authenticate`` for
``/login/``, the admin and the REST token, through :class:`CaseInsensitiveModelBackend`;
Subsonic's ``u`` in ``bridge.subsonic.auth``), and the lockout counts a username in lower
case (``bridge.lockout.username_key``), so ``Alice`` and ``alice`` are one account and one
count. Since a name then stands for every spelling of itself, a user whose name differs
from another's only in case cannot be created or renamed to (``refuse_case_duplicates``, on
every save: admin, ``createsuperuser``, ``first_run``, the shell). Should older data hold
two such users, the exact spelling wins. Case is compared as the database does it
(``iexact``: any letters on PostgreSQL, ASCII letters on SQLite).
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When


def same_name(queryset: QuerySet, username: str, field: str = "username") -> QuerySet:
    """``queryset`` rows whose ``field`` is ``username`` in any case, the exact spelling first."""
    return (queryset.filter(**{f"{field}__iexact": username})
            .order_by(Case(When(**{field: username}, then=Value(0)), default=Value(1), output_field=IntegerField())))


class CaseInsensitiveModelBackend(ModelBackend):
    """Django's model backend, finding the user by username in any case."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        model = get_user_model()
        if username is None:
            username = kwargs.get(model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = same_name(model._default_manager.all(), username, model.USERNAME_FIELD).first()
        if user is None:
            model().set_password(password)  # the same work as for a wrong password
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def refuse_case_duplicates(sender, instance, **kwargs) -> None:
    """``pre_save`` of the user model: refuse a username another user has in another case."""
    field = sender.USERNAME_FIELD
    name = getattr(instance, field)
    if name and sender._default_manager.filter(**{f"{field}__iexact": name}).exclude(pk=instance.pk).exists():
        raise ValidationError(f"A user named {name!r} in another case exists already; usernames ignore case.",
                              code="unique")
