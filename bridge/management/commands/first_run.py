"""``manage.py first_run``: make sure someone can log in.

If no superuser exists, creates ``admin`` with a random password and prints it once
(it is never stored anywhere in clear). Later runs print nothing but a reminder.
"""
from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the first admin account with a random password, printed once."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("Log in with your admin account (manage.py changepassword USER resets a password).")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=options["username"], email="", password=password)
        self.stdout.write(self.style.WARNING("First run: created the admin account. This password is shown only once:"))
        self.stdout.write(f"    username: {options['username']}\n    password: {password}")
        self.stdout.write("Change it after logging in (or: manage.py changepassword admin).")
