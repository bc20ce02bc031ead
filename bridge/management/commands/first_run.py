"""``manage.py first_run``: make sure someone can log in and sees music at once.

If no superuser exists, creates ``admin`` with a random password and prints it once
(it is never stored anywhere in clear). If no library is configured, it writes a small
generated demo library (real, tagged files) into ``DATA_DIR/demo-music``, adds it as
"Demo" and scans it; ``--no-demo`` (or ``DEMO_LIBRARY=0``) skips that, and
``manage.py library remove Demo`` removes it later.
"""
from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from library.models import Library
from library.sample import make_sample_library
from orchestrator import services


class Command(BaseCommand):
    help = "Create the first admin account with a random password, printed once."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--no-demo", action="store_true", help="do not offer a generated demo library")

    def handle(self, *args, **options):
        self.ensure_admin(options["username"])
        if not options["no_demo"] and os.environ.get("DEMO_LIBRARY", "1") != "0":
            self.ensure_demo_library()

    def ensure_demo_library(self) -> None:
        if Library.objects.exists():
            return
        root = settings.DATA_DIR / "demo-music"
        if not root.exists():
            make_sample_library(root, count=200, seed=1)
        library = services.library_add("Demo", str(root))
        scan = services.scan_now(library, trigger="command")
        self.stdout.write(
            f"No music library was configured: added a generated demo library ({scan.added} tracks) from {root}.\n"
            "Add yours with: manage.py library add --name Music /path/to/music   (remove the demo: manage.py library remove Demo)"
        )

    def ensure_admin(self, username: str) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("Log in with your admin account (manage.py changepassword USER resets a password).")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(self.style.WARNING("First run: created the admin account. This password is shown only once:"))
        self.stdout.write(f"    username: {username}\n    password: {password}")
        self.stdout.write("Change it after logging in (or: manage.py changepassword admin).")
