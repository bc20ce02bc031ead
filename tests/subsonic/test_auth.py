"""Authentication: Subsonic password (clear, enc:), token + salt, API key; the errors; the
management command; the browser UI's credentials endpoint."""
from __future__ import annotations

import hashlib
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from bridge.subsonic import credentials
from library.models import SubsonicCredential

from .conftest import Subsonic

pytestmark = [pytest.mark.django_db, pytest.mark.asgi]


def code(body: dict) -> int | None:
    return body.get("error", {}).get("code")


@pytest.mark.parametrize("auth", ["password", "enc", "token"])
def test_each_password_form_authenticates(alice, auth):
    alice.auth = auth
    assert alice.json("ping")["status"] == "ok"
    assert alice.xml("ping").get("status") == "ok"


def test_api_key_authenticates(alice):
    key = credentials.api_key_reset(alice.user)
    client = Subsonic("alice", api_key=key, auth="apikey")
    assert client.json("ping")["status"] == "ok"
    assert client.ok("getUser")["user"]["username"] == "alice"


def test_a_new_api_key_replaces_the_old_one(alice):
    old = credentials.api_key_reset(alice.user)
    credentials.api_key_reset(alice.user)
    assert code(Subsonic("alice", api_key=old, auth="apikey").json("ping")) == 44


@pytest.mark.parametrize("auth", ["password", "enc", "token"])
def test_wrong_password_is_error_40(alice, auth):
    alice.password = alice.password[:-1] + ("x" if alice.password[-1] != "x" else "y")
    alice.auth = auth
    assert code(alice.json("ping")) == 40
    assert alice.xml("ping").find("{http://subsonic.org/restapi}error").get("code") == "40"


def test_failed_sign_ins_lock_the_address_and_the_username(alice, subsonic_user):
    right = alice.password
    alice.password = "not-the-password"
    for _ in range(10):  # LOGIN_RATE: 10 a minute
        assert code(alice.json("ping")) == 40
    alice.password = right
    refused = alice.json("ping")
    assert code(refused) == 40 and "Too many failed sign-ins" in refused["error"]["message"]
    elsewhere = Subsonic("alice", right)
    elsewhere.http.defaults["REMOTE_ADDR"] = "192.0.2.7"
    assert "Too many failed sign-ins" in elsewhere.json("ping")["error"]["message"]  # the username is locked
    _, bob_password = subsonic_user("bob")
    bob = Subsonic("bob", bob_password)
    bob.http.defaults["REMOTE_ADDR"] = "192.0.2.7"
    assert bob.ok("ping")  # another user at another address is not affected
    assert code(Subsonic("alice", api_key="guess", auth="apikey").json("ping")) == 40  # API keys too


def test_successful_requests_do_not_count_towards_the_throttle(alice):
    for _ in range(30):
        alice.ok("ping")
    alice.password = "not-the-password"
    assert "Too many" not in alice.json("ping")["error"]["message"]


def test_unknown_user_is_error_40_like_a_wrong_password(alice):
    unknown = Subsonic("mallory", alice.password).json("ping")
    wrong = alice.json("ping", p="nope", t=None, s=None)
    assert code(unknown) == code(wrong) == 40
    assert unknown["error"]["message"] == wrong["error"]["message"]  # nothing tells which usernames exist


def test_the_login_password_does_not_open_the_subsonic_api(make_user):
    make_user("bob", password="correct horse battery")
    assert code(Subsonic("bob", "correct horse battery", auth="password").json("ping")) == 40
    assert code(Subsonic("bob", "correct horse battery", auth="token").json("ping")) == 40


def test_inactive_users_are_refused(alice):
    alice.user.is_active = False
    alice.user.save()
    assert code(alice.json("ping")) == 40


def test_revoked_credentials_stop_working(alice):
    key = credentials.api_key_reset(alice.user)
    credentials.revoke(alice.user)
    assert code(alice.json("ping")) == 40
    assert code(Subsonic("alice", api_key=key, auth="apikey").json("ping")) == 44


def test_a_changed_secret_key_makes_the_stored_password_unusable(alice, settings):
    settings.SECRET_KEY = "another-secret-key-another-secret-key-0123"
    assert code(alice.json("ping")) == 40


def test_secret_key_fallbacks_keep_passwords_readable(alice, settings):
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "another-secret-key-another-secret-key-0123"
    settings.SECRET_KEY_FALLBACKS = [old]
    assert alice.json("ping")["status"] == "ok"


def test_the_password_is_not_stored_in_clear(alice):
    stored = SubsonicCredential.objects.get(user=alice.user)
    assert alice.password not in stored.password_encrypted
    assert stored.password_encrypted.startswith("fernet:")
    key = credentials.api_key_reset(alice.user)
    stored.refresh_from_db()
    assert stored.api_key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert len(stored.api_key_hint) == 4 and key.startswith(stored.api_key_hint)


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"u": None, "t": None, "s": None}, 10),  # no credentials at all
        ({"t": None, "s": None}, 10),  # a user without p or t
        ({"s": None}, 10),  # a token without its salt
        ({"p": "whatever"}, 43),  # p and t together
        ({"apiKey": "k"}, 43),  # apiKey with u
    ],
    ids=["nothing", "no-secret", "no-salt", "p-and-t", "apikey-and-u"],
)
def test_missing_and_conflicting_credentials(alice, params, expected):
    query = {"v": "1.16.1", "c": "t", "f": "json", **alice.credentials()}
    for key, value in params.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    body = json.loads(Client(HTTP_HOST="127.0.0.1").get("/rest/ping.view", query).content)["subsonic-response"]
    assert body["status"] == "failed" and code(body) == expected, body


def test_invalid_api_key_is_error_44():
    body = json.loads(Client(HTTP_HOST="127.0.0.1").get("/rest/ping", {"apiKey": "nope", "f": "json"}).content)
    assert code(body["subsonic-response"]) == 44


def test_malformed_enc_password_is_error_40(alice):
    assert code(alice.json("ping", p="enc:zz", t=None, s=None)) == 40


def test_staff_only_methods_say_not_authorized(alice):
    assert code(alice.json("startScan")) == 50


# -- manage.py subsonic_password -----------------------------------------------------------------


def test_command_sets_and_prints_a_new_password(make_user):
    make_user("carol")
    out = io.StringIO()
    call_command("subsonic_password", "carol", stdout=out)
    password = out.getvalue().strip()
    assert len(password) >= 20
    assert Subsonic("carol", password).json("ping")["status"] == "ok"
    again = io.StringIO()
    call_command("subsonic_password", "carol", stdout=again)
    assert code(Subsonic("carol", password).json("ping")) == 40
    assert Subsonic("carol", again.getvalue().strip()).json("ping")["status"] == "ok"


def test_command_api_key_and_revoke(make_user):
    make_user("dave")
    out = io.StringIO()
    call_command("subsonic_password", "dave", "--api-key", stdout=out)
    key = out.getvalue().strip().splitlines()[1].removeprefix("apiKey=")
    assert Subsonic("dave", api_key=key, auth="apikey").json("ping")["status"] == "ok"
    call_command("subsonic_password", "dave", "--revoke", stdout=io.StringIO())
    assert code(Subsonic("dave", api_key=key, auth="apikey").json("ping")) == 44


def test_command_unknown_user():
    with pytest.raises(CommandError, match="No user"):
        call_command("subsonic_password", "nobody", stdout=io.StringIO())


# -- /rest/credentials (browser UI) ---------------------------------------------------------------


@pytest.fixture
def browser(make_user):
    user = make_user("erin")
    client = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True)
    client.force_login(user)
    client.user = user
    return client




def test_credentials_need_a_session():
    response = Client(HTTP_HOST="127.0.0.1").get("/rest/credentials")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


def test_credentials_show_regenerate_and_revoke(browser):
    shown = browser.get("/rest/credentials").json()
    assert shown["username"] == "erin" and shown["password"] is None and shown["api_key_set"] is False
    assert shown["server"] == "http://127.0.0.1/"

    # Without the CSRF token a browser POST is refused.
    assert browser.post("/rest/credentials", {"regenerate": "both"}).status_code == 403

    browser.cookies.load({"csrftoken": "a" * 32})
    token = "a" * 32
    made = browser.post("/rest/credentials", {"regenerate": "both"}, HTTP_X_CSRFTOKEN=token).json()
    assert made["password"] and made["api_key"] and made["api_key_set"] and made["api_key"].startswith(made["api_key_hint"])
    assert Subsonic("erin", made["password"]).json("ping")["status"] == "ok"
    assert Subsonic("erin", api_key=made["api_key"], auth="apikey").json("ping")["status"] == "ok"

    shown = browser.get("/rest/credentials").json()
    assert shown["password"] == made["password"] and "api_key" not in shown  # the key is shown once

    renewed = browser.post("/rest/credentials", json.dumps({"regenerate": "password"}), content_type="application/json",
                           HTTP_X_CSRFTOKEN=token).json()
    assert renewed["password"] != made["password"] and "api_key" not in renewed
    assert Subsonic("erin", api_key=made["api_key"], auth="apikey").json("ping")["status"] == "ok"

    assert browser.post("/rest/credentials", {"regenerate": "everything"}, HTTP_X_CSRFTOKEN=token).status_code == 400
    revoked = browser.delete("/rest/credentials", HTTP_X_CSRFTOKEN=token).json()
    assert revoked["password"] is None and revoked["api_key_set"] is False
    assert code(Subsonic("erin", renewed["password"]).json("ping")) == 40


@pytest.mark.parametrize("auth", ["password", "token"])
def test_a_wrong_password_does_the_same_work_for_known_and_unknown_users(alice, auth, monkeypatch):
    """The decrypt of the stored password runs for an unknown user too (on a dummy), so a
    wrong password takes as long either way; the answers are the same."""
    decrypted = []
    real = credentials.decrypt

    def counting(stored):
        decrypted.append(stored)
        return real(stored)

    monkeypatch.setattr(credentials, "decrypt", counting)
    known = Subsonic("alice", "not-the-password", auth=auth).json("ping")
    unknown = Subsonic("nobody", "not-the-password", auth=auth).json("ping")
    assert known["error"] == unknown["error"]
    assert len(decrypted) == 2 and all(stored.startswith(credentials.PREFIX) for stored in decrypted)
