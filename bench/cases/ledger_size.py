"""(d) Posting latency with a small vs a large ledger: the cost must not grow with it."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
import uuid
from typing import Any

from bench.world import bulk_ledger, make_world, now
from chainstore.inventory.services import issue
from chainstore.sites.services import create_site


def _time_issues(world: Any, count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        sku = world.skus[rng.randrange(len(world.skus))]
        t0 = time.perf_counter()
        issue(
            site=world.store,
            sku=sku,
            quantity=1000,
            actor=world.admin,
            idempotency_key=uuid.uuid4().hex,
        )
        out.append(time.perf_counter() - t0)
    return out


def run(quick: bool) -> list[dict[str, Any]]:
    small, large, posts = (10_000, 100_000, 100) if quick else (10_000, 1_000_000, 200)
    world = make_world(skus=1000, stock_units=0)
    start = now() - dt.timedelta(days=400)
    t0 = time.perf_counter()
    bulk_ledger(site=world.store, skus=world.skus, moves=small, start=start)
    load_small = time.perf_counter() - t0
    _time_issues(world, 20, seed=0)  # warm-up
    first = _time_issues(world, posts, seed=1)
    # Grow the ledger on the same SKUs (at a second store, so balances stay separate).
    other = create_site(code="S002", name="压测门店2", kind="store", actor=world.admin)
    t0 = time.perf_counter()
    bulk_ledger(
        site=other,
        skus=world.skus,
        moves=large - small,
        start=start + dt.timedelta(seconds=small + 10),
    )
    load_large = time.perf_counter() - t0
    _time_issues(world, 20, seed=2)
    second = _time_issues(world, posts, seed=3)
    m1, m2 = statistics.median(first), statistics.median(second)
    rows = []
    for label, size, lat, load in (
        ("small", small, first, load_small),
        ("large", large, second, load_large),
    ):
        ordered = sorted(lat)
        rows.append(
            {
                "variant": f"{size:,} moves in ledger",
                "ops": len(lat),
                "p50_ms": round(statistics.median(ordered) * 1000, 2),
                "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
                "load_s": round(load, 1),
                "load_moves_per_s": round((small if label == "small" else large - small) / load),
                "note": f"median ratio large/small = {m2 / m1:.2f}" if label == "large" else "",
            }
        )
    return rows
