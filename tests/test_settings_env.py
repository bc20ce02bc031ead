"""Settings come from the environment; a bad value names its variable."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_settings(tmp_path, **env):
    """Import the real settings module in a fresh interpreter with this environment."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "WORKER_MODE")}
    clean.update(DATA_DIR=str(tmp_path / "data"), DJANGO_SETTINGS_MODULE="mediaproject.settings", **env)
    code = "import django; django.setup(); from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], list(s.CHANNEL_LAYERS['default'].values())[0], s.WORKER_MODE)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def test_no_environment_gives_the_embedded_mode(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "channels.layers.InMemoryChannelLayer", "inline"]
    key = tmp_path / "data" / "secret_key"
    assert key.exists() and oct(key.stat().st_mode & 0o777) == "0o600"
    assert len(key.read_text().strip()) >= 50


def test_redis_url_gives_the_scaled_mode(tmp_path):
    result = load_settings(
        tmp_path, REDIS_URL="redis://127.0.0.1:6379/0", DATABASE_URL="postgres://u@127.0.0.1:5432/db", SECRET_KEY="k" * 40
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "channels_redis.pubsub.RedisPubSubChannelLayer", "queue"]


@pytest.mark.parametrize(
    "env,variable",
    [
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL"),
        ({"DATABASE_URL": "::::"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://nope"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"RPC_TIMEOUT": "soon"}, "RPC_TIMEOUT"),
        ({"RPC_TIMEOUT": "0"}, "RPC_TIMEOUT"),
        ({"WS_MAX_FRAME_BYTES": "1.5"}, "WS_MAX_FRAME_BYTES"),
        ({"WS_MAX_CONNECTIONS_PER_USER": "0"}, "WS_MAX_CONNECTIONS_PER_USER"),
        ({"WORKER_MODE": "queue"}, "WORKER_MODE"),
        ({"TRUSTED_PROXIES": "10.0.0.0/8,nginx"}, "TRUSTED_PROXIES"),
        ({"LOGIN_RATE": "ten/min"}, "LOGIN_RATE"),
        ({"LOGIN_RATE": "10/fortnight"}, "LOGIN_RATE"),
        ({"BEHIND_TLS": "maybe"}, "BEHIND_TLS"),
        ({"BEHIND_TLS": "1"}, "BEHIND_TLS"),  # without TRUSTED_PROXIES: X-Forwarded-Proto from nobody
        ({"HSTS_SECONDS": "-1"}, "HSTS_SECONDS"),
    ],
)
def test_misconfiguration_names_the_variable(tmp_path, env, variable):
    result = load_settings(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


def test_runworker_refuses_the_in_memory_layer(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update(DATA_DIR=str(tmp_path / "data"), DJANGO_SETTINGS_MODULE="mediaproject.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "runworker", "worker"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "runworker needs a shared channel layer: set REDIS_URL" in result.stderr


STRONG_KEY = "k3Y-" + "".join(chr(ord("a") + i % 26) + str(i % 10) for i in range(30))


def check_deploy(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "WORKER_MODE")}
    clean.update(DATA_DIR=str(tmp_path / "data"), DJANGO_SETTINGS_MODULE="mediaproject.settings", SECRET_KEY=STRONG_KEY, **env)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=clean, capture_output=True,
                          text=True, timeout=120)


def test_behind_tls_gives_a_deployment_check_without_warnings(tmp_path):
    result = check_deploy(tmp_path, BEHIND_TLS="1", TRUSTED_PROXIES="127.0.0.1")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr


def test_without_behind_tls_the_deployment_check_warns_about_cookies_and_hsts(tmp_path):
    result = check_deploy(tmp_path)
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr, result.stderr


def test_behind_tls_turns_on_secure_cookies_and_hsts_and_leaves_the_scheme_to_trusted_proxies(tmp_path):
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
            "s.SECURE_PROXY_SSL_HEADER)")
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG")}
    clean.update(DATA_DIR=str(tmp_path / "data"), DJANGO_SETTINGS_MODULE="mediaproject.settings")
    on = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, "BEHIND_TLS": "yes", "HSTS_SECONDS": "600", "TRUSTED_PROXIES": "10.0.0.1"},
                        capture_output=True, text=True, timeout=60)
    # No SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from any peer;
    # bridge.clientaddr sets the scheme from trusted proxies only.
    assert on.stdout.strip() == "True True True 600 None", on.stderr
    off = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)
    assert off.stdout.strip() == "False False False 0 None", off.stderr
