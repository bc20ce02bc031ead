"""The data folder is private: 0700 folders and 0600 files for everything the server
processes make in it (SQLite and its -wal/-shm, the secret key, covers, resized covers),
and loose modes left by an older version are tightened at start, with one log line."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from library.sample import make_sample_library

ROOT = Path(__file__).resolve().parents[2]


def manage(data_dir: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    """``manage.py`` in a fresh process started with the usual umask 022, as a shell would."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "WORKER_MODE", "TEST_DATA_DIR")}
    env.update(DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="mediaproject.settings", LOG_LEVEL="INFO", **extra_env)
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300, preexec_fn=lambda: os.umask(0o022))
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def loose(data_dir: Path) -> list[str]:
    """Every path under ``data_dir`` (itself included) that group or others may use."""
    found = []
    for path in [data_dir, *data_dir.rglob("*")]:
        mode = os.lstat(path).st_mode
        if not stat.S_ISLNK(mode) and stat.S_IMODE(mode) & 0o077:
            found.append(f"{path.relative_to(data_dir.parent)} {oct(stat.S_IMODE(mode))}")
    return found


def test_a_fresh_data_folder_is_private_after_migrate_a_scan_and_a_cover(tmp_path):
    data = tmp_path / "data"
    music = tmp_path / "music"
    summary = make_sample_library(music, count=6, seed=11)
    assert summary.embedded_covers or summary.folder_covers
    manage(data, "migrate", "--noinput")
    manage(data, "library", "add", "--name", "Music", str(music), "--interval", "0")
    manage(data, "scan", "--library", "Music", "--workers", "1")
    manage(data, "shell", "-c", (  # a stored cover and a resized copy, as the cover views make them
        "import io; from PIL import Image; from bridge.files import rendition;"
        "from library.covers import store_cover; buf = io.BytesIO();"
        "Image.new('RGB', (300, 300), 'navy').save(buf, 'JPEG');"
        "rendition(store_cover(buf.getvalue(), 'image/jpeg'), 64)"))
    names = {p.name for p in data.rglob("*")}
    assert {"db.sqlite3", "secret_key", "covers", "resized"} <= names
    assert loose(data) == []


def test_loose_modes_are_tightened_at_start_with_a_log_line(tmp_path):
    data = tmp_path / "data"
    manage(data, "migrate", "--noinput")
    (data / "covers" / "ab").mkdir(parents=True)
    (data / "covers" / "ab" / "ab12.jpg").write_bytes(b"\xff\xd8")
    (data / "db.sqlite3-wal").write_bytes(b"")
    for path in [data, data / "covers", data / "covers" / "ab"]:
        path.chmod(0o755)
    for path in [data / "db.sqlite3", data / "db.sqlite3-wal", data / "secret_key", data / "covers" / "ab" / "ab12.jpg"]:
        path.chmod(0o644)
    os.symlink("/etc/hostname", data / "link")  # never followed: its target keeps its mode
    before = stat.S_IMODE(os.stat("/etc/hostname").st_mode)
    result = manage(data, "check")
    assert loose(data) == []
    assert stat.S_IMODE(os.stat("/etc/hostname").st_mode) == before
    lines = [line for line in result.stderr.splitlines() if "file modes" in line]
    assert len(lines) == 1, result.stderr
    assert "7 made private" in lines[0] and "db.sqlite3" in lines[0]
    again = manage(data, "check")
    assert "file modes" not in again.stderr


def test_collected_static_files_stay_readable_for_the_web_server(tmp_path):
    """The private umask is for DATA_DIR; nginx (another account) serves STATIC_ROOT."""
    static_root = tmp_path / "staticfiles"
    manage(tmp_path / "data", "collectstatic", "--noinput", STATIC_ROOT=str(static_root))
    collected = [static_root, *static_root.rglob("*")]
    assert any(path.name == "app.js" for path in collected)
    # The versioned names and their compressed copies, written by the compressor itself, too.
    assert any(path.name.startswith("app.") and path.name.endswith(".js.br") for path in collected)
    assert any(path.name.startswith("app.") and path.name.endswith(".js.gz") for path in collected)
    for path in collected:
        mode = stat.S_IMODE(os.lstat(path).st_mode)
        assert mode & 0o044 == 0o044, f"{path} {oct(mode)}"  # group and others may read
        if path.is_dir():
            assert mode & 0o011 == 0o011, f"{path} {oct(mode)}"  # and enter folders
