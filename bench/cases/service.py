"""(a) Stock moves per second through the service layer: receive, move_stock, issue."""

from __future__ import annotations

import time
import uuid
from typing import Any

from bench.world import make_world, summary
from chainstore.inventory.services import ReceiptLine, issue, move_stock, receive
from chainstore.sites.models import Location


def run(quick: bool) -> list[dict[str, Any]]:
    n = 200 if quick else 2000
    world = make_world(skus=50)
    store, admin, skus = world.store, world.admin, world.skus
    back = Location.objects.get(site=store, code="BACK")
    shelf = store.stock_location
    assert shelf is not None
    ops = {
        "receive": lambda i: receive(
            site=store,
            actor=admin,
            lines=[ReceiptLine(sku=skus[i % len(skus)], quantity=1000)],
            idempotency_key=uuid.uuid4().hex,
        ),
        "move_stock": lambda i: move_stock(
            sku=skus[i % len(skus)],
            quantity=1000,
            from_location=shelf,
            to_location=back,
            actor=admin,
            idempotency_key=uuid.uuid4().hex,
        ),
        "issue": lambda i: issue(
            site=store,
            sku=skus[i % len(skus)],
            quantity=1000,
            actor=admin,
            idempotency_key=uuid.uuid4().hex,
        ),
    }
    rows = []
    for name, op in ops.items():
        latencies = []
        started = time.perf_counter()
        for i in range(n):
            t0 = time.perf_counter()
            op(i)
            latencies.append(time.perf_counter() - t0)
        wall = time.perf_counter() - started
        rows.append({"variant": name, **summary(latencies, wall)})
    return rows
