"""``manage.py subsonic_password USERNAME [--api-key] [--revoke]``

Sets a new random Subsonic password for the user and prints it (the old one stops
working). It is separate from the login password: Subsonic apps use it (or the API key)
and nothing else does. ``--api-key`` also makes a new OpenSubsonic API key (printed once;
only its digest is kept); ``--revoke`` removes both instead.
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from bridge.subsonic import credentials


class Command(BaseCommand):
    help = "Set (and print) a new Subsonic password for a user; --api-key adds an API key, --revoke removes both."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--api-key", action="store_true", help="also make a new OpenSubsonic API key")
        parser.add_argument("--revoke", action="store_true", help="remove the user's Subsonic password and API key")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        if options["revoke"]:
            removed = credentials.revoke(user)
            self.stdout.write(f"Revoked the Subsonic credentials of {user.get_username()}." if removed
                              else f"{user.get_username()} had no Subsonic credentials.")
            return
        password = credentials.password_reset(user)
        if self.stdout.isatty():
            self.stdout.write(f"Subsonic password for {user.get_username()} (use it in Subsonic apps, not to log in):")
            self.stdout.write(f"    {password}")
        else:
            self.stdout.write(password)
        if options["api_key"]:
            key = credentials.api_key_reset(user)
            self.stdout.write(f"API key (shown once): {key}" if self.stdout.isatty() else f"apiKey={key}")
