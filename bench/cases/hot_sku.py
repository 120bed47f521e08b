"""(c) Hot-SKU contention: N threads issue the same SKU at once; never oversell."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from django.db import close_old_connections, connection

from bench.world import make_world, summary
from chainstore.core.errors import InsufficientStock
from chainstore.inventory.models import SiteSku
from chainstore.inventory.services import issue


def run(quick: bool) -> list[dict[str, Any]]:
    threads, attempts, units = (8, 40, 200) if quick else (16, 100, 1000)
    world = make_world(skus=1, stock_units=units)
    store, sku, admin = world.store, world.skus[0], world.admin
    before = SiteSku.objects.get(site=store, sku=sku).on_hand
    connection.close()
    barrier = threading.Barrier(threads)
    latencies: list[float] = []
    refused: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        close_old_connections()
        barrier.wait()
        mine, short, failed = [], 0, []
        for _ in range(attempts):
            t0 = time.perf_counter()
            try:
                issue(
                    site=store,
                    sku=sku,
                    quantity=1000,
                    actor=admin,
                    idempotency_key=uuid.uuid4().hex,
                )
                mine.append(time.perf_counter() - t0)
            except InsufficientStock:
                short += 1
            except Exception as exc:  # counted, reported
                failed.append(repr(exc)[:120])
        connection.close()
        with lock:
            latencies.extend(mine)
            refused.append(short)
            errors.extend(failed)

    pool = [threading.Thread(target=client) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    after = SiteSku.objects.get(site=store, sku=sku).on_hand
    sold = len(latencies)
    oversold = sold > units or after != before - sold * 1000 or after < 0
    row = {
        "variant": f"{threads} threads x {attempts}, {units} units",
        **summary(latencies, wall, errors=len(errors)),
        "refused_insufficient": sum(refused),
        "oversold": oversold,
        "note": ("OVERSOLD! " if oversold else f"sold exactly {sold}/{units}; ")
        + (errors[0] if errors else ""),
    }
    return [row]
