"""chainstore export <dataset> <file.csv|xlsx> [--site CODE] [--user admin]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from chainstore.core.errors import DomainError
from chainstore.integrations.datasets import DATASETS
from chainstore.integrations.management.commands._common import acting_user, fail
from chainstore.integrations.services import export_file
from chainstore.sites.models import Site


class Command(BaseCommand):
    help = "Export a dataset to CSV or XLSX in the import columns (round-trips)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset", choices=sorted(DATASETS))
        parser.add_argument("file", help="output path; .xlsx writes a workbook, else CSV")
        parser.add_argument("--site", default="", help="only this site (site-bound data)")
        parser.add_argument("--user", default="admin", help="acting user (default: admin)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        fmt = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
        actor = acting_user(self, options["user"])
        site = None
        if options["site"]:
            site = Site.objects.filter(code=options["site"]).first()
            if site is None:
                fail(self, f"no site with code {options['site']!r}")
        try:
            result = export_file(dataset=options["dataset"], actor=actor, fmt=fmt, site=site)
        except DomainError as exc:
            fail(self, f"{exc.message} ({exc.code})")
        try:
            path.write_bytes(result.content)
        except OSError as exc:
            fail(self, f"cannot write {path}: {exc.strerror or exc}")
        self.stdout.write(f"{result.rows} row(s) of {options['dataset']} written to {path}")
