"""Database connection tuning that must hold on every connection."""

from __future__ import annotations

from typing import Any

from django.db.backends.signals import connection_created


def _on_connect(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")


def install() -> None:
    connection_created.connect(_on_connect, dispatch_uid="chainstore-sqlite-pragmas")
