"""The account: password change (any user; the asking session stays signed in, others end; a
wrong current password counts towards the sign-in lockout) and the user's settings (theme)."""
from __future__ import annotations

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

RIGHT = "correct horse battery"  # make_user's password
NEW = "a much better passphrase 42"


def browser(user, address="192.0.2.20") -> Client:
    """A signed-in browser session that sends CSRF tokens, as the app does."""
    client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR=address, enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")  # sets the CSRF cookie (ensure_csrf_cookie)
    return client


def post_json(client: Client, path: str, body) -> object:
    return client.post(path, json.dumps(body), content_type="application/json",
                       HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)


def change(client, current=RIGHT, new=NEW):
    return post_json(client, "/api/v1/me/password", {"current_password": current, "new_password": new})


def test_a_non_staff_user_changes_their_password_and_this_session_stays_signed_in(make_user):
    alice = make_user("alice")
    here, elsewhere = browser(alice), browser(alice, "192.0.2.21")
    response = change(here)
    assert response.status_code == 200, response.content
    assert response.json() == {"changed": True}
    alice.refresh_from_db()
    assert alice.check_password(NEW) and not alice.check_password(RIGHT)
    assert here.get("/api/v1/me/settings").status_code == 200  # still signed in here
    assert elsewhere.get("/api/v1/me/settings").status_code in (401, 403)  # the other session ended
    assert Client().post("/login/", {"username": "alice", "password": NEW}).status_code == 302


def test_a_wrong_current_password_changes_nothing_and_counts_towards_the_lockout(make_user, settings):
    alice = make_user("alice")
    client = browser(alice)
    response = change(client, current="not my password")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_payload" and error["details"][0]["field"] == "current_password"
    alice.refresh_from_db()
    assert alice.check_password(RIGHT)
    for _ in range(9):  # LOGIN_RATE's default: 10 failures a minute
        change(client, current="still wrong")
    locked = change(client)  # the right password too, once locked
    assert locked.status_code == 429 and int(locked["Retry-After"]) == settings.LOGIN_WINDOW
    alice.refresh_from_db()
    assert alice.check_password(RIGHT)


@pytest.mark.parametrize("new, problem", [
    ("short", "too short"),
    ("password", "too common"),
    ("83920174629", "entirely numeric"),
    ("alice", "too similar"),
])
def test_the_new_password_must_pass_the_validators(make_user, new, problem):
    alice = make_user("alice")
    response = change(browser(alice), new=new)
    assert response.status_code == 400
    error = response.json()["error"]
    assert all(d["field"] == "new_password" for d in error["details"])
    assert problem in error["message"], error
    alice.refresh_from_db()
    assert alice.check_password(RIGHT)


def test_password_change_needs_a_signed_in_user_csrf_and_known_fields(make_user):
    alice = make_user("alice")
    anonymous = Client(enforce_csrf_checks=True)
    anonymous.get("/login/")
    assert post_json(anonymous, "/api/v1/me/password", {"current_password": RIGHT, "new_password": NEW}).status_code in (401, 403)
    client = browser(alice)
    no_csrf = client.post("/api/v1/me/password", json.dumps({"current_password": RIGHT, "new_password": NEW}),
                          content_type="application/json")
    assert no_csrf.status_code == 403
    extra = post_json(client, "/api/v1/me/password", {"current_password": RIGHT, "new_password": NEW, "username": "bob"})
    assert extra.status_code == 400
    alice.refresh_from_db()
    assert alice.check_password(RIGHT)


def test_settings_theme_per_user_and_applied_to_the_page(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    client = browser(alice)
    assert client.get("/api/v1/me/settings").json()["theme"] == "system"
    assert 'class="theme-system"' in client.get("/").content.decode()
    response = client.patch("/api/v1/me/settings", json.dumps({"theme": "light"}), content_type="application/json",
                            HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 200 and response.json()["theme"] == "light"
    assert '<html lang="en" class="theme-light">' in client.get("/").content.decode()
    assert browser(bob).get("/api/v1/me/settings").json()["theme"] == "system"
    bad = client.patch("/api/v1/me/settings", json.dumps({"theme": "purple"}), content_type="application/json",
                       HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert bad.status_code == 400
    assert client.get("/api/v1/me/settings").json()["theme"] == "light"


@pytest.mark.django_db(transaction=True)
async def test_settings_over_the_websocket_per_user(make_user, ws_client):
    from channels.db import database_sync_to_async

    alice = await database_sync_to_async(make_user)("alice")
    bob = await database_sync_to_async(make_user)("bob")
    a, b = await ws_client(alice), await ws_client(bob)
    assert (await a.request("account.settings.get"))["result"] == {"replaygain": "track", "theme": "system"}
    assert (await a.request("account.settings.update", {"theme": "dark"}))["result"] == {"replaygain": "track", "theme": "dark"}
    bad = await a.request("account.settings.update", {"theme": "neon"})
    assert bad["error"]["code"] == "invalid_payload"
    unknown = await a.request("account.settings.update", {"volume": 3})
    assert unknown["error"]["code"] == "invalid_payload"
    assert (await a.request("account.settings.get"))["result"] == {"replaygain": "track", "theme": "dark"}
    assert (await b.request("account.settings.get"))["result"] == {"replaygain": "track", "theme": "system"}
