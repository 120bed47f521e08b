"""Scratch-database fixtures shared by the cases: an admin, sites, SKUs and stock.

Master data goes through the services; large ledgers through the demo's bulk writer.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from chainstore.accounts.services import create_user
from chainstore.catalog.barcodes import gtin_check_digit
from chainstore.catalog.models import Barcode, BarcodeKind, Sku
from chainstore.demo.writer import LedgerWriter
from chainstore.inventory.services import ReceiptLine, receive
from chainstore.sites.models import Location, LocationKind, Site
from chainstore.sites.services import create_bin, create_site, virtual_location


@dataclass
class World:
    admin: Any
    store: Site
    warehouse: Site
    skus: list[Sku]


def ean13(n: int) -> str:
    payload = f"695{n:09d}"
    return payload + str(gtin_check_digit(payload))


def make_skus(count: int, *, prefix: str = "B") -> list[Sku]:
    """Bulk-create plain SKUs (setup, not what is measured)."""
    skus = [
        Sku(
            code=f"{prefix}{i:06d}",
            name=f"压测商品{i}",
            retail_price_fen=500,
            standard_cost_micros=3_000_000,
        )
        for i in range(count)
    ]
    Sku.objects.bulk_create(skus, batch_size=2000)
    created = list(Sku.objects.filter(code__startswith=prefix).order_by("code"))
    Barcode.objects.bulk_create(
        [
            Barcode(sku=s, code=ean13(i), kind=BarcodeKind.EAN13, is_primary=True)
            for i, s in enumerate(created)
        ],
        batch_size=2000,
    )
    return created


def make_world(*, skus: int = 50, stock_units: int = 100_000) -> World:
    admin = create_user(username="bench", password="bench-123456", role="admin")
    store = create_site(code="S001", name="压测门店", kind="store", actor=admin)
    warehouse = create_site(code="CDC01", name="压测中央仓", kind="cdc", actor=admin)
    create_bin(site=store, code="BACK", actor=admin)
    items = make_skus(skus)
    if stock_units:
        for site in (store, warehouse):
            receive(
                site=site,
                actor=admin,
                lines=[
                    ReceiptLine(sku=s, quantity=stock_units * 1000, location=site.stock_location)
                    for s in items
                ],
            )
    return World(admin, store, warehouse, items)


def bulk_ledger(*, site: Site, skus: list[Sku], moves: int, start: dt.datetime) -> None:
    """Append `moves` consistent moves at the site's stock location: per SKU receipts of 5
    units, then sales of 3, ten moves per operation; balances and totals written at the end."""
    location = site.stock_location
    assert location is not None
    supplier = virtual_location(LocationKind.SUPPLIER)
    customer = virtual_location(LocationKind.CUSTOMER)
    writer = LedgerWriter(
        location_sites=dict(Location.objects.values_list("id", "site_id")),
        standard_costs={s.pk: s.standard_cost_micros for s in skus},
        batch_size=10_000,
        audit=False,
    )
    n = len(skus)
    with transaction.atomic():
        op = 0
        for j in range(moves):
            if j % 10 == 0:
                op = writer.operation(
                    "receipt" if (j // n) % 2 == 0 else "issue",
                    site_id=site.pk,
                    at=start + dt.timedelta(seconds=j),
                )
            sku = skus[j % n]
            if (j // n) % 2 == 0:
                writer.move(
                    op,
                    sku_id=sku.pk,
                    lot_id=None,
                    quantity=5000,
                    from_location=supplier.pk,
                    to_location=location.pk,
                    reason="receipt",
                    unit_cost_micros=3_000_000,
                )
            else:
                writer.move(
                    op,
                    sku_id=sku.pk,
                    lot_id=None,
                    quantity=3000,
                    from_location=location.pk,
                    to_location=customer.pk,
                    reason="sale",
                )
        writer.finish()
    analyze()


def analyze() -> None:
    """After a bulk load: refresh planner statistics (plain ANALYZE: SQLite and PostgreSQL)
    and, on SQLite, checkpoint the WAL, so the timed posts do not pay for the load."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        if connection.vendor == "sqlite":  # fold the bulk load's WAL into the main file
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def summary(latencies: list[float], wall: float, errors: int = 0) -> dict[str, Any]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0
    return {
        "ops": len(latencies),
        "seconds": round(wall, 3),
        "ops_per_s": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": round(statistics.median(ordered) * 1000, 2) if ordered else 0.0,
        "p99_ms": round(p99 * 1000, 2),
        "errors": errors,
    }


def now() -> dt.datetime:
    return timezone.now()
