"""Run a function in N real threads released together by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_together(workers: int, fn: Callable[[int], Any]) -> list[Any]:
    """Call fn(i) in `workers` threads at once; return each result or the exception raised."""
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = fn(i)
        except BaseException as exc:  # recorded for the test to assert on
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return results
