"""chainstore demo: build the deterministic demo chain (sites, bins, catalog, users, history)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chainstore.core.audit import seal_trail
from chainstore.demo.generate import build_demo
from chainstore.demo.master import DEMO_USERS
from chainstore.sites.models import Site


class Command(BaseCommand):
    help = "Build the demo chain: 1 CDC, 1 RDC, stores in 上海/杭州/苏州, SKUs and history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=int, default=8)
        parser.add_argument("--skus", type=int, default=500)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--pos-sales", type=int, default=60, help="today's sales rung up at the first store"
        )
        parser.add_argument(
            "--online-orders", type=int, default=40, help="online orders in every fulfilment state"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the database has sites"
        )
        parser.add_argument(
            "--reset", action="store_true", help="flush the whole database first (destructive)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stores, skus, days = options["stores"], options["skus"], options["days"]
        if stores < 1 or skus < 1 or days < 0:
            raise CommandError("--stores and --skus must be >= 1, --days >= 0")
        if options["reset"]:
            call_command("flush", interactive=False, verbosity=0)
        if Site.objects.exists():
            if options["if_empty"]:
                self.stdout.write("The database already has sites; the demo chain is not rebuilt.")
                self._logins()
                return
            raise CommandError("The database already has sites: use --if-empty or --reset.")
        console = Console(file=self.stdout._out, highlight=False)  # type: ignore[attr-defined,arg-type]
        quiet = options["verbosity"] == 0 or not console.is_terminal
        started = time.perf_counter()
        with Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=quiet,
        ) as bar:

            def phase(name: str, total: int) -> Callable[[int], None]:
                task = bar.add_task(name, total=total)
                return lambda steps: bar.advance(task, steps)

            result = build_demo(
                stores=stores,
                skus=skus,
                days=days,
                seed=options["seed"],
                pos_sales=options["pos_sales"],
                online_orders=options["online_orders"],
                progress=phase,
            )
        sealed = seal_trail()  # the demo's audit events start the tamper-evident hash chain
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Demo chain built in {elapsed:.1f} s: {result.sites} sites, {result.skus} SKUs, "
            f"{result.lots} lots, {result.operations} operations, {result.moves} stock moves, "
            f"{result.members} members, {result.pos_sales} POS sales today, "
            f"{result.online_orders} online orders, {result.transfers} transfers; "
            f"{sealed} audit events sealed."
        )
        self._logins()

    def _logins(self) -> None:
        table = Table(title="Demo logins", title_justify="left")
        for column in ("username", "password", "role", "scope"):
            table.add_column(column)
        scopes = {"cdc": "CDC01", "store": "S001", None: "all sites"}
        for username, password, role, scope in DEMO_USERS:
            table.add_row(username, password, role, scopes[scope])
        buffer = io.StringIO()
        Console(file=buffer, width=100, highlight=False).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
        self.stdout.write(
            "Log in at the URL `chainstore serve` prints (default http://127.0.0.1:8000/)."
        )
