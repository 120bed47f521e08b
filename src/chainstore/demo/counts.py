"""Demo stock counts (盘点) through the real count services, after the history is written:
one approved cycle count and one full count in progress at the first store, so the count
screens have something to show."""

from __future__ import annotations

import random
from typing import Any

from chainstore.counts.models import CountStatus, StockCount
from chainstore.counts.services import (
    EntryInput,
    approve_count,
    create_count,
    freeze_count,
    record_entries,
)
from chainstore.inventory.models import Balance
from chainstore.sites.models import Site


def build_demo_counts(*, rng: random.Random, store: Site, manager: Any) -> list[StockCount]:
    skus = _counted_skus(store, rng, 20)
    if not skus:
        return []
    cycle = create_count(
        site=store, name="周盘 Weekly cycle count", scope="skus", skus=skus, actor=manager
    )
    cycle = freeze_count(count=cycle, actor=manager)
    _count_lines(cycle, manager, rng, share=1.0)
    cycle = approve_count(count=cycle, actor=manager, idempotency_key=f"demo-count-{cycle.pk}")

    full = create_count(site=store, name="月度全盘 Monthly full count", actor=manager)
    full = freeze_count(count=full, actor=manager)
    _count_lines(full, manager, rng, share=0.5)
    assert cycle.status == CountStatus.APPROVED
    return [cycle, full]


def _counted_skus(store: Site, rng: random.Random, n: int) -> list[Any]:
    held = sorted(
        {b.sku for b in Balance.objects.filter(site=store, on_hand__gt=0).select_related("sku")},
        key=lambda sku: sku.pk,
    )
    return rng.sample(held, min(n, len(held)))


def _count_lines(count: StockCount, actor: Any, rng: random.Random, *, share: float) -> None:
    lines = list(count.lines.select_related("location", "sku", "lot").order_by("id"))
    chosen = lines[: max(1, int(len(lines) * share))]
    entries = []
    for line in chosen:
        counted = line.snapshot_qty
        if rng.random() < 0.2:  # a fifth of the lines differ by a unit or two
            unit = 1000
            counted = max(0, counted + rng.choice([-2, -1, 1]) * unit)
        entries.append(
            EntryInput(
                location=line.location, sku=line.sku, lot=line.lot, quantity=counted, replace=True
            )
        )
    record_entries(count=count, entries=entries, actor=actor)
