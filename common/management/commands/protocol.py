from django.core.management.base import BaseCommand, CommandError

from common import protocol


class Command(BaseCommand):
    help = "Print, check or rewrite the generated reference in docs/protocol.md."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--write", action="store_true", help="rewrite the reference section in place")
        group.add_argument("--check", action="store_true", help="exit non-zero when the document is out of date")

    def handle(self, *args, **options):
        if options["write"]:
            protocol.write()
            self.stdout.write(f"wrote {protocol.document_path()}")
        elif options["check"]:
            if protocol.current_reference(protocol.document_path().read_text()) != protocol.render():
                raise CommandError("docs/protocol.md is out of date: run manage.py protocol --write")
            self.stdout.write("docs/protocol.md agrees with the registry")
        else:
            self.stdout.write(protocol.render())
