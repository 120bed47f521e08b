"""Build the demo chain: master data through the services, history through the bulk writer."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from chainstore.demo import master
from chainstore.demo.counts import build_demo_counts
from chainstore.demo.fulfilment import build_demo_fulfilment
from chainstore.demo.history import History
from chainstore.demo.pos import build_demo_pos
from chainstore.demo.transfers import build_demo_transfers
from chainstore.demo.writer import LedgerWriter
from chainstore.sites.models import VIRTUAL_KINDS, Location
from chainstore.sites.services import virtual_location

# phase name, total steps -> advance(steps)
Progress = Callable[[str, int], Callable[[int], None]]


@dataclass(frozen=True)
class DemoResult:
    sites: int
    skus: int
    users: int
    operations: int
    moves: int
    lots: int
    members: int = 0
    pos_sales: int = 0
    online_orders: int = 0
    transfers: int = 0


def _no_progress(name: str, total: int) -> Callable[[int], None]:
    return lambda steps: None


def build_demo(
    *,
    stores: int,
    skus: int,
    days: int,
    seed: int,
    pos_sales: int = 60,
    online_orders: int = 40,
    progress: Progress = _no_progress,
) -> DemoResult:
    """Deterministic for a seed (dates are anchored on today in Asia/Shanghai)."""
    rng = random.Random(seed)
    with transaction.atomic():
        step = progress("master data", 4)
        admin = master.create_admin()
        cdc, rdc, store_sites = master.create_sites(actor=admin, stores=stores, rng=rng)
        step(1)
        users = master.create_users(admin, cdc, store_sites[0])
        step(1)
        categories = master.create_categories(users["admin"])
        catalog = master.create_catalog(
            actor=users["admin"], count=skus, rng=rng, categories=categories
        )
        step(1)
        master.slot_skus(catalog, [cdc, rdc])
        plans = master.plan_stores(store_sites, cdc, rdc, catalog, rng)
        chain = master.Chain(cdc, rdc, plans, catalog, users)
        step(1)

        for kind in VIRTUAL_KINDS:  # (re)created lazily, e.g. after a flush
            virtual_location(kind)
        writer = LedgerWriter(
            location_sites=dict(Location.objects.values_list("id", "site_id")),
            standard_costs={s.id: s.cost_micros for s in catalog},
        )
        history = History(chain, writer=writer, rng=rng, today=timezone.localdate())
        step = progress("history", days)
        history.run(days, on_day=lambda d: step(1))
        history.safety_stock()
        step = progress("balances", 1)
        writer.finish()
        step(1)
        step = progress("counts", 1)
        build_demo_counts(rng=rng, store=store_sites[0], manager=users["store_manager"])
        step(1)
        step = progress("store POS", pos_sales + 1)
        pos = build_demo_pos(chain, rng=rng, sales_per_store=pos_sales, on_step=step)
        step = progress("online orders", online_orders + 2)
        online = build_demo_fulfilment(chain, rng=rng, orders=online_orders, on_step=step)
        step = progress("transfers", 15)
        transfers = build_demo_transfers(chain, rng=rng, on_step=step)
    return DemoResult(
        sites=2 + stores,
        skus=len(catalog),
        users=len(users),
        operations=writer.operation_count,
        moves=writer.move_count,
        lots=writer.lot_count,
        members=pos["members"],
        pos_sales=pos["sales"],
        online_orders=online["orders"],
        transfers=transfers["transfers"] + transfers["history"],
    )
