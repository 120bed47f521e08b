"""chainstore serve: the WSGI application on waitress (static files via WhiteNoise)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


class Command(BaseCommand):
    help = "Serve chainstore with waitress (production-grade, pure Python)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings
        from waitress import serve

        # WhiteNoise serves from the finders; an existing STATIC_ROOT keeps it from warning.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        from chainstore.config.wsgi import application

        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stderr.write(
                self.style.WARNING("Unapplied migrations: run `chainstore migrate` first.")
            )
        connection.close()
        host, port = options["host"], options["port"]
        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(
            f"chainstore is serving on http://{shown}:{port}/ "
            f"({options['threads']} threads, Ctrl+C to stop)"
        )
        serve(application, host=host, port=port, threads=options["threads"], ident="chainstore")
