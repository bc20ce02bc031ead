"""Usernames ignore case at every sign-in (Subsonic u with p or t+s, the REST token, /login/,
the admin), the lockout counts every spelling as one username, and no user may be created
or renamed to a name that differs from another's only in case."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from .test_signin_lockout import CALLS, LIMIT, forged, http, password, refused_as_locked, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(make_user):
    from bridge.subsonic import credentials

    made = {}
    for name in ("Alice", "bob"):
        made[name.lower()] = credentials.password_reset(make_user(name, staff=True))
    return made


@pytest.mark.parametrize("path", CALLS)
def test_every_sign_in_ignores_the_usernames_case(path, users):
    call = CALLS[path]
    for spelling in ("Alice", "alice", "ALICE", "aLiCe"):
        assert signed_in(path, call(http(), spelling, password(path, users, "alice"))), spelling
    assert signed_in(path, call(http(), "BOB", password(path, users, "bob")))
    assert not signed_in(path, call(http(), "ALICE", "wrong"))


def test_subsonic_plain_password_and_the_user_answered(users, client):
    response = client.get("/rest/getUser.view", {"u": "ALICE", "p": users["alice"], "v": "1.16.1", "c": "t", "f": "json",
                                                 "username": "Alice"}, HTTP_HOST="127.0.0.1")
    body = response.json()["subsonic-response"]
    assert body["status"] == "ok" and body["user"]["username"] == "Alice"


@pytest.mark.parametrize("path", CALLS)
def test_the_lockout_counts_every_spelling_as_one_username(path, users):
    call = CALLS[path]
    spellings = ["alice", "Alice", "ALICE", "aLICE"]
    for n in range(LIMIT):  # from many addresses: only the username's count can reach the limit
        call(http(f"192.0.2.{100 + n}", HTTP_X_FORWARDED_FOR=next(forged)), spellings[n % 4], "wrong")
    locked = call(http("203.0.113.1"), "Alice", password(path, users, "alice"))
    assert refused_as_locked(path, locked), locked.content[:300]
    assert signed_in(path, call(http("203.0.113.1"), "bob", password(path, users, "bob")))


def test_a_user_differing_only_in_case_is_refused(make_user, django_user_model, client):
    make_user("alice")
    with pytest.raises(ValidationError, match="another case"):
        make_user("ALICE")
    bob = make_user("bob")
    bob.username = "Alice"
    with pytest.raises(ValidationError):
        bob.save()
    bob.username = "Bobby"
    bob.save()  # any other name is fine, and so is the same user saved again
    bob.save()
    with pytest.raises(CommandError, match="another case"):
        call_command("createsuperuser", username="Alice", email="", interactive=False, verbosity=0)
    assert sorted(django_user_model.objects.values_list("username", flat=True)) == ["Bobby", "alice"]
    # The admin's add form says so (Django's own check) rather than failing on save.
    root = make_user("root", staff=True)
    root.is_superuser = True
    root.save()
    client.force_login(root)
    response = client.post("/admin/auth/user/add/", {"username": "ROOT", "password1": "Pass-word-1234",
                                                     "password2": "Pass-word-1234", "usable_password": "true"},
                           HTTP_HOST="127.0.0.1")
    assert response.status_code == 200 and b"already exists" in response.content
