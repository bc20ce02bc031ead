"""Static files: versioned names with every ES module import rewritten to them, gzip and
brotli copies; before collectstatic, plain names served from the source folders."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import brotli
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from mediaproject.storage import StaticFilesStorage

pytestmark = pytest.mark.django_db

HASHED = re.compile(r"^(?P<stem>[\w-]+)\.(?P<hash>[0-9a-f]{12})\.js$")


@pytest.fixture
def collected(tmp_path, settings):
    root = tmp_path / "static"
    settings.STATIC_ROOT = str(root)
    # The UI's own files only (the apps' vendor bundles take long to compress; the modes test
    # in test_datadir collects everything).
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    call_command("collectstatic", "--noinput", verbosity=0)
    return root


def test_every_module_import_names_a_versioned_file_that_exists(collected):
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    sources = sorted(p.name for p in (Path(settings.BASE_DIR) / "static" / "js").glob("*.js"))
    assert sources and all(f"js/{name}" in manifest for name in sources)
    for name in sources:
        versioned = collected / manifest[f"js/{name}"]
        assert HASHED.match(versioned.name), versioned.name
        text = versioned.read_text()
        imports = re.findall(r'(?:import|export)\s[^;]*?from\s+"(\./[^"]+)"', text)
        for target in imports:
            assert HASHED.match(Path(target).name), f"{versioned.name} imports {target} unversioned"
            assert (versioned.parent / target).exists(), target
        # The compressed copies hold the same bytes.
        raw = versioned.read_bytes()
        assert gzip.decompress((versioned.parent / (versioned.name + ".gz")).read_bytes()) == raw
        assert brotli.decompress((versioned.parent / (versioned.name + ".br")).read_bytes()) == raw


def test_a_changed_module_changes_the_names_of_the_modules_importing_it(collected, tmp_path, settings):
    first = json.loads((collected / "staticfiles.json").read_text())["paths"]
    source = tmp_path / "source"
    (source / "js").mkdir(parents=True)
    for path in (Path(settings.BASE_DIR) / "static" / "js").glob("*.js"):
        (source / "js" / path.name).write_text(path.read_text())
    (source / "js" / "bus.js").write_text((source / "js" / "bus.js").read_text() + "\n// changed\n")
    settings.STATICFILES_DIRS = [source]
    settings.STATIC_ROOT = str(tmp_path / "static2")
    call_command("collectstatic", "--noinput", verbosity=0)
    second = json.loads((tmp_path / "static2" / "staticfiles.json").read_text())["paths"]
    assert second["js/bus.js"] != first["js/bus.js"]
    assert second["js/app.js"] != first["js/app.js"]  # app.js imports bus.js
    assert second["js/clock.js"] == first["js/clock.js"]  # imports nothing that changed


def test_pages_name_the_versioned_files_once_collected(collected, settings, make_user):
    storage = StaticFilesStorage(location=str(collected))
    assert HASHED.match(Path(storage.url("js/app.js")).name)
    # Not collected: no manifest, the plain name (served from the source folders).
    empty = StaticFilesStorage(location=str(collected.parent / "nothing-here"))
    assert empty.url("js/app.js") == "/static/js/app.js"


def test_before_collectstatic_the_source_files_are_served(make_user):
    client = Client()
    client.force_login(make_user("alice"))
    page = client.get("/").content.decode()
    assert 'src="/static/js/app.js"' in page
    response = client.get("/static/js/app.js")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == (Path(settings.BASE_DIR) / "static" / "js" / "app.js").read_bytes()
    assert "immutable" not in response.get("Cache-Control", "")
    assert response["X-Content-Type-Options"] == "nosniff"
