"""(e) A 20,000-line stock count: create, freeze (snapshot), record, approve."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from bench.world import bulk_ledger, make_skus, make_world, now
from chainstore.sites.models import Location


def run(quick: bool) -> list[dict[str, Any]]:
    try:
        from chainstore.counts.recording import EntryInput
        from chainstore.counts.services import (
            approve_count,
            create_count,
            freeze_count,
            record_entries,
        )
    except ImportError:
        return [{"variant": "skipped", "note": "chainstore.counts.services is not available"}]
    lines = 2_000 if quick else 20_000
    world = make_world(skus=0, stock_units=0)
    site, admin = world.warehouse, world.admin
    skus = make_skus(lines, prefix="C")
    bulk_ledger(site=site, skus=skus, moves=lines, start=now() - dt.timedelta(days=30))
    location = site.stock_location
    assert isinstance(location, Location)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    count = create_count(site=site, name="年终盘点 bench", actor=admin)
    timings["create"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    count = freeze_count(count=count, actor=admin)
    timings["freeze"] = time.perf_counter() - t0

    entries = [
        EntryInput(location=location, sku=s, quantity=5000 - (1000 if i % 20 == 0 else 0))
        for i, s in enumerate(skus)
    ]
    t0 = time.perf_counter()
    for i in range(0, len(entries), 1000):
        record_entries(count=count, entries=entries[i : i + 1000], actor=admin)
    timings["record"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    approve_count(count=count, actor=admin, idempotency_key="bench-approve")
    timings["approve"] = time.perf_counter() - t0

    total = sum(timings.values())
    return [
        {
            "variant": f"{lines:,} lines: {phase}",
            "seconds": round(seconds, 3),
            "note": f"total {total:.1f} s, {lines // 20} variances posted"
            if phase == "approve"
            else "",
        }
        for phase, seconds in timings.items()
    ]
