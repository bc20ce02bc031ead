"""manage.py library add --name NAME ROOT [--interval MIN] [--disabled] | list | remove NAME [--force]"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.errors import BusError
from orchestrator import services


class Command(BaseCommand):
    help = "Add, list and remove libraries (music folders). Their scan schedules follow."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, parser_class=CommandParser)
        add = sub.add_parser("add", help="add a music folder as a library")
        add.add_argument("root", help="absolute path of the music folder")
        add.add_argument("--name", required=True, help="the library's name")
        add.add_argument("--interval", type=int, default=60, help="minutes between scheduled scans; 0 = never (default 60)")
        add.add_argument("--disabled", action="store_true", help="add it disabled (not scanned)")
        sub.add_parser("list", help="list the libraries")
        remove = sub.add_parser("remove", help="remove a library and its tracks")
        remove.add_argument("name", help="the library's name (or id)")
        remove.add_argument("--force", action="store_true", help="even while one of its scans runs")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["subcommand"] == "add":
                library = services.library_add(options["name"], options["root"], interval=options["interval"],
                                               enabled=not options["disabled"])
                every = f"every {library.scan_interval} min" if library.scan_interval else "no scheduled scans"
                self.stdout.write(f"Added library {library.name} (id {library.pk}) at {library.root}, {every}"
                                  f"{'' if library.enabled else ', disabled'}.")
                self.stdout.write(f"Scan it now with: manage.py scan --library {library.name}")
            elif options["subcommand"] == "list":
                rows = services.libraries()
                if not rows:
                    self.stdout.write("No libraries. Add one with: manage.py library add --name Music /path/to/music")
                for row in rows:
                    last = row["last_scan"]
                    last_text = "never scanned" if last is None else f"last scan {last['status']}"
                    if last and last["finished"]:
                        last_text += f" {last['finished']:%Y-%m-%d %H:%M}"
                    every = f"every {row['scan_interval']} min" if row["scan_interval"] else "manual"
                    flags = ("" if row["enabled"] else " [disabled]") + (" [scanning]" if row["scanning"] else "")
                    self.stdout.write(f"{row['id']:>4}  {row['name']}  {row['root']}  {row['tracks']} tracks, "
                                      f"{every}, {last_text}{flags}")
            else:
                result = services.library_remove(options["name"], force=options["force"])
                self.stdout.write(f"Removed library {result['library']} and its {result['tracks']} tracks.")
        except BusError as exc:
            raise CommandError(exc.message) from None
