"""chainstore import <dataset> <file.csv|xlsx> [--dry-run] [--user admin]"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from chainstore.core.errors import DomainError
from chainstore.integrations.datasets import DATASETS
from chainstore.integrations.errors import ImportInvalid
from chainstore.integrations.management.commands._common import acting_user, fail, render
from chainstore.integrations.services import ImportReport, import_file


class Command(BaseCommand):
    help = "Import a dataset from CSV or XLSX; validates every row first, all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset", choices=sorted(DATASETS))
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="validate only, change nothing")
        parser.add_argument("--user", default="admin", help="acting user (default: admin)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            fail(self, f"cannot read {path}: {exc.strerror or exc}")
        actor = acting_user(self, options["user"])
        with _progress() as progress:
            task = progress.add_task("import", total=None)

            def tick(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            try:
                report = import_file(
                    dataset=options["dataset"],
                    data=data,
                    filename=path.name,
                    actor=actor,
                    dry_run=options["dry_run"],
                    progress=tick,
                )
            except ImportInvalid as exc:
                report = exc.report
            except DomainError as exc:
                fail(self, f"{exc.message} ({exc.code})")
        self._print(report)
        if report.errors:
            sys.exit(1)

    def _print(self, report: ImportReport) -> None:
        if report.errors:
            table = Table(title=f"{len(report.errors)} error(s) in {report.filename}")
            for name in ("row", "column", "value", "code", "reason"):
                table.add_column(name, overflow="fold")
            for e in report.errors:
                table.add_row(str(e.row), e.column, e.value, e.code, e.message)
            render(self.stdout.write, table)
        summary = Table(title=f"{report.dataset}: {report.filename}", show_header=False)
        summary.add_column("what")
        summary.add_column("value", overflow="fold")
        summary.add_row("rows", str(report.total_rows))
        verb = "created" if report.applied else "would create"
        summary.add_row(verb, f"{report.would_create} {_rows(report.create_rows)}")
        verb = "updated" if report.applied else "would update"
        summary.add_row(verb, f"{report.would_update} {_rows(report.update_rows)}")
        summary.add_row("unchanged", str(report.unchanged))
        summary.add_row("errors", str(len(report.errors)))
        if report.ignored_columns:
            summary.add_row("ignored columns", ", ".join(report.ignored_columns))
        if report.applied:
            state = "imported"
        elif report.errors and report.dry_run:
            state = "dry run found errors: nothing was changed"
        elif report.errors:
            state = "refused: nothing was changed"
        else:
            state = "dry run: nothing was changed"
        summary.add_row("result", state)
        render(self.stdout.write, summary)


def _rows(numbers: list[int]) -> str:
    """[2, 3, 4, 7] -> '(rows 2-4, 7)'."""
    if not numbers:
        return ""
    spans: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    text = ", ".join(spans[:20]) + (" ..." if len(spans) > 20 else "")
    return f"(row {text})" if len(numbers) == 1 else f"(rows {text})"


def _progress() -> Progress:
    console = Console(stderr=True)
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not sys.stderr.isatty(),
    )
