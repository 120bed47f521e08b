"""chainstore carrier_sim [--steps N | --all] [--due]

Play the simulated carrier: for every shipped parcel it carries, post the next events of its
journey (picked up, hubs, out for delivery, delivered) through the same path as its webhook
(signed body, signature check, parse, record). Run it from cron for a lively demo, or with
--all to deliver everything now.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from chainstore.fulfilment.services.tracking import run_simulated_carrier
from chainstore.integrations.management.commands._common import render


class Command(BaseCommand):
    help = "Advance the simulated carrier's parcels by their next tracking events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--steps", type=int, default=1, help="events per parcel (default: 1, the next one)"
        )
        parser.add_argument("--all", action="store_true", help="every remaining event")
        parser.add_argument(
            "--due", action="store_true", help="only events whose planned time has passed"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        steps = None if options["all"] else options["steps"]
        if steps is not None and steps < 1:
            raise CommandError("--steps must be at least 1")
        progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(stderr=True),
            transient=True,
            disable=not sys.stderr.isatty(),
        )
        with progress:
            task = progress.add_task("parcels", total=None)

            def tick(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            totals = run_simulated_carrier(steps=steps, due_only=options["due"], progress=tick)
        table = Table(title="simulated carrier", show_header=False)
        table.add_column("what")
        table.add_column("count", justify="right")
        for key in (
            "parcels",
            "recorded",
            "duplicates",
            "delivered_parcels",
            "delivered_shipments",
        ):
            table.add_row(key.replace("_", " "), str(totals[key]))
        render(self.stdout.write, table)
