"""Browser tests: Playwright (sync API) driving Debian's Chromium against a real server.

pytest-django's ``live_server`` speaks HTTP only, so the server here is a real daphne
process in the embedded mode (a temporary DATA_DIR and SQLite database, no Redis), with
the orchestrator (``manage.py qcluster``) beside it for scans, on a generated sample
library. The tests skip, saying why, when Chromium or Playwright is missing.

A failing test saves a screenshot of every page it opened in ``test-artifacts/``. Every
page records the Content-Security-Policy violations it reports (``page.csp_violations``),
and a test whose pages reported any fails.
"""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from devtools.deploy import Deployment, child_env, free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("UI_CHROMIUM", "/usr/bin/chromium")  # Debian's Chromium (apt-get install chromium)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
]
PASSWORD = "ui-test-password-1"
USERS = {"alice": True, "bob": False, "carol": False, "dana": True}  # username -> staff
LONG_ALBUM = "Slow Hours"  # tracks of several minutes, for position checks
LONG_TRACK_SECONDS = 300


def write_long_album(root: Path) -> None:
    """An album of three 5-minute WAV tracks (the sample library's tracks last 1-1.5 s)."""
    from devtools.syncprobe import write_album

    write_album(root / "Long Player" / LONG_ALBUM, "Long Player", LONG_ALBUM, LONG_TRACK_SECONDS, 3, "Hour",
                genre="Ambient", year="2020")


class UIServer(Deployment):
    """daphne (``bridge``) + qcluster (``orchestrator``) in the embedded mode, on their own data folder."""

    def __init__(self, workdir: Path) -> None:
        drop = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "WORKER_MODE", "DEBUG", "SECRET_KEY",
                "PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE", "TEST_DATA_DIR")
        super().__init__(workdir, child_env(
            drop,
            DJANGO_SETTINGS_MODULE="mediaproject.settings",
            DATA_DIR=str(workdir / "data"),
            DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
            STATIC_ROOT=str(workdir / "static"),
            Q_WORKERS="1",
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="WARNING",
        ))
        self.music = workdir / "music"
        self.port = self.ports["bridge"] = free_port()  # the same port across restarts
        self.base_url = f"http://127.0.0.1:{self.port}"

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    def prepare(self) -> None:
        from library.sample import make_sample_library

        make_sample_library(self.music, count=40, seed=1)
        write_long_album(self.music)
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput", "-v", "0")  # versioned, compressed: as `make run` serves them
        users = "; ".join(
            f"User.objects.create_user({name!r}, password={PASSWORD!r}, is_staff={staff})" for name, staff in USERS.items()
        )
        self.shell(f"from django.contrib.auth.models import User; {users}")
        self.manage("library", "add", "--name", "Music", "--interval", "0", str(self.music))
        self.manage("scan")

    def start(self) -> None:
        self.start_bridge()
        self.start_orchestrator()

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Signal the process group: qcluster has children."""
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def restart_bridge(self) -> None:
        self.stop("bridge", signal.SIGKILL)
        self.start_bridge()


# Package scope: the browser (whose sync API keeps an event loop in this thread), the
# server and the setting below end with the last browser test, before any other tests
# of the same run (async ones among them) go on.


@pytest.fixture(scope="package", autouse=True)
def _async_unsafe_allowed():
    """Playwright's sync API runs an event loop in this thread; Django refuses ORM calls
    there unless told otherwise. For the browser tests only."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def playwright_api():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(playwright_api):
    browser = playwright_api.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def server(browser, tmp_path_factory):
    # Depends on `browser` so that a missing Chromium skips before any server starts.
    yield from running(UIServer(Path(tmp_path_factory.mktemp("ui-server"))))


def running(server: "UIServer"):
    """Prepare and start ``server``, yield it, close it: the body of a server fixture (a
    module with a library of its own overrides ``server`` with ``yield from running(...)``)."""
    try:
        server.prepare()
        server.start()
        yield server
    finally:
        server.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# Reports every Content-Security-Policy violation of a page (and of its later navigations).
CSP_LISTENER = """document.addEventListener('securitypolicyviolation', (e) =>
  window.__cspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} at ${e.documentURI}`));"""


class Pages:
    """Opens logged-in pages, one browser context (a separate device) each."""

    def __init__(self, browser, server: UIServer) -> None:
        self.browser = browser
        self.server = server
        self.contexts = []
        self.pages = []

    def open(self, username: str = "bob", *, device: str | None = None, viewport=None, login: bool = True,
             scale: float = 1):
        context = self.browser.new_context(viewport=viewport or {"width": 1280, "height": 800}, device_scale_factor=scale)
        context.set_default_timeout(10000)
        if device:
            # The device name lives in localStorage; set it before the app reads it.
            context.add_init_script(f"if (!localStorage.getItem('deviceName')) localStorage.setItem('deviceName', {device!r});")
        self.contexts.append(context)
        violations: list[str] = []
        context.expose_function("__cspViolation", lambda text: violations.append(text))
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        page.errors = []
        page.csp_violations = violations
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        self.pages.append(page)
        if login:
            self.login(page, username)
        return page

    def login(self, page, username: str, password: str = PASSWORD) -> None:
        page.goto(self.server.base_url + "/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_selector("#conn[data-status=open]")
        page.wait_for_function("() => !document.getElementById('device-name').textContent.includes('…')")

    def csp_violations(self) -> list[str]:
        return [violation for page in self.pages for violation in page.csp_violations]

    def close(self, failed_name: str | None) -> None:
        if failed_name:
            ARTIFACTS.mkdir(exist_ok=True)
            for index, page in enumerate(self.pages):
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{failed_name}-{index}.png"), full_page=True)
                except Exception:  # noqa: BLE001 (the page may be gone)
                    pass
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser, server, request):
    opened = Pages(browser, server)
    yield opened
    report = getattr(request.node, "rep_call", None)
    failed = report is not None and report.failed
    violations = [] if getattr(request.node, "expects_csp_violations", False) else opened.csp_violations()
    opened.close(request.node.name if failed or violations else None)
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for name in ("bridge", "orchestrator"):
            (ARTIFACTS / f"{request.node.name}-{name}.log").write_text(server.log(name)[-5000:])
    assert violations == [], f"Content-Security-Policy violations: {violations}"


# -- helpers the tests share ------------------------------------------------------------------


def audio_state(page) -> dict:
    return page.evaluate(
        "() => { const a = document.getElementById('audio');"
        " return {src: a.getAttribute('src'), time: a.currentTime, paused: a.paused, ready: a.readyState}; }"
    )


def wait_audio(page, predicate: str, timeout: float = 10000) -> None:
    """Wait until ``predicate`` (JS, with `a` the audio element) holds."""
    page.wait_for_function(f"() => {{ const a = document.getElementById('audio'); return {predicate}; }}", timeout=timeout)


def open_album(page, title: str) -> None:
    """From anywhere: the albums grid, then the album called ``title``."""
    page.click("a[data-nav=albums]")
    page.click(f".album-card[title='{title}']")
    page.wait_for_selector("#album-play")
