from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chainstore.core.audit import seal_trail, verify_trail


class Command(BaseCommand):
    help = "Seal the audit trail into a hash chain, or verify that chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["seal", "verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "seal":
            count = seal_trail()
            self.stdout.write(f"Sealed {count} audit events.")
            return
        problems = verify_trail()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"Audit trail broken: {len(problems)} problem(s).")
        self.stdout.write("Audit trail intact.")
