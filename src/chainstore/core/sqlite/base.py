"""SQLite backend with an in-process writer queue.

SQLite allows one writer at a time. With `BEGIN IMMEDIATE` and a busy timeout, a waiting
writer polls with sleeps of up to 100 ms, so under contention the latency tail grows long
and unfair. Threads of one server process therefore queue on a process-wide lock before
`BEGIN IMMEDIATE` and hand over as soon as the holder commits or rolls back. Other
processes (a CLI command, a second server) are still serialised by SQLite's own lock and
busy timeout. If the lock cannot be had within the busy timeout, the transaction starts
anyway and SQLite arbitrates, so the lock can only ever shorten waits, never deadlock.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db.backends.sqlite3 import base

_WRITER = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_writer = False

    def _start_transaction_under_autocommit(self) -> Any:
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 30))
        self._holds_writer = _WRITER.acquire(timeout=timeout)
        try:
            return super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_writer()
            raise

    def _release_writer(self) -> None:
        if self._holds_writer:
            self._holds_writer = False
            _WRITER.release()

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._release_writer()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._release_writer()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._release_writer()
