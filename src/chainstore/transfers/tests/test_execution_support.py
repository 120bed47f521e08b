"""A chain for the execution/receiving tests (no tests of its own): a warehouse in Shanghai
with two bins, a store in Hangzhou, three SKUs (one lot-tracked in two lots), users per role,
a transfer built through the request service (no approval rule: approved on submit, so
execution reserves), and helpers to pick, ship and check conservation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from chainstore.core.testing import make_bin, make_site, make_sku, make_user, stock
from chainstore.inventory.models import SiteSku, StockMove
from chainstore.sites.models import LocationKind, Site
from chainstore.transfers.models import Transfer, TransferLine
from chainstore.transfers.services import execution, requests

U = 1000  # one unit in milli


@dataclass
class World:
    admin: Any
    warehouse: Site
    store: Site
    bin_a: Any
    bin_b: Any
    rice: Any  # 1000 g, 2000 cm3, 5.00 yuan at the warehouse
    oil: Any  # 900 g, 1200 cm3, 20.00 yuan
    milk: Any  # lot-tracked: lot L1 (expires sooner) in bin A, L2 in bin B; 8.00 yuan
    wm: Any  # warehouse manager
    op: Any  # warehouse operator
    sm: Any  # store manager (requests, receives, resolves)

    def transfer(self, *lines: tuple[Any, int]) -> Transfer:
        return requests.create_transfer(
            source=self.warehouse,
            destination=self.store,
            lines=list(lines),
            actor=self.sm,
            submit=True,
        )

    def line(self, transfer: Transfer, sku: Any) -> TransferLine:
        return transfer.lines.get(sku=sku)


def build_world(admin: Any) -> World:
    warehouse = make_site(
        admin, "cdc", latitude=Decimal("31.2304"), longitude=Decimal("121.4737"), city="上海"
    )
    store = make_site(
        admin, "store", latitude=Decimal("30.2741"), longitude=Decimal("120.1551"), city="杭州"
    )
    bin_a = make_bin(admin, warehouse)
    bin_b = make_bin(admin, warehouse)
    rice = make_sku(admin, name="大米", weight_g=1000, volume_cm3=2000)
    oil = make_sku(admin, name="花生油", weight_g=900, volume_cm3=1200)
    milk = make_sku(admin, name="纯牛奶", tracking="lot", weight_g=250, volume_cm3=300)
    stock(admin, warehouse, rice, 100 * U, cost=5_000_000, location=bin_a)
    stock(admin, warehouse, oil, 50 * U, cost=20_000_000, location=bin_b)
    today = timezone.localdate()
    soon, late = today + dt.timedelta(days=20), today + dt.timedelta(days=60)
    stock(admin, warehouse, milk, 6 * U, cost=8_000_000, location=bin_a, lot="L1", expiry=soon)
    stock(admin, warehouse, milk, 10 * U, cost=8_000_000, location=bin_b, lot="L2", expiry=late)
    return World(
        admin=admin,
        warehouse=warehouse,
        store=store,
        bin_a=bin_a,
        bin_b=bin_b,
        rice=rice,
        oil=oil,
        milk=milk,
        wm=make_user("warehouse_manager", [warehouse]),
        op=make_user("warehouse_operator", [warehouse]),
        sm=make_user("store_manager", [store]),
    )


def barcode(sku: Any) -> str:
    return sku.barcodes.first().code


def pick_all(world: World, transfer: Transfer, *, leave: int = 0, prefix: str = "p") -> None:
    """Pick every reserved part in route order; `leave` milli of the first part unpicked."""
    for i, part in enumerate(execution.pick_list(transfer)):
        quantity = part.quantity - part.picked - (leave if i == 0 else 0)
        if quantity <= 0:
            continue
        execution.pick(
            transfer_lot=part,
            actor=world.op,
            bin_scan=part.location.code,
            item_scan=barcode(part.line.sku),
            lot_scan=part.lot.number if part.lot else None,
            quantity=quantity,
            idempotency_key=f"{prefix}-{transfer.pk}-{part.pk}",
        )


def ship(world: World, transfer: Transfer, **kw: Any) -> Transfer:
    kw.setdefault("freight_fen", 10_000)
    kw.setdefault("handling_fen", 2_000)
    kw.setdefault("cost_basis", "weight")
    kw.setdefault("idempotency_key", f"ship-{transfer.pk}")
    return execution.ship(transfer=transfer, actor=world.op, **kw)


def shipped(world: World, *lines: tuple[Any, int], **kw: Any) -> Transfer:
    transfer = world.transfer(*lines)
    pick_all(world, transfer)
    return ship(world, transfer, **kw)


def moved(transfer: Transfer, **filters: Any) -> int:
    return (
        StockMove.objects.filter(operation__reference=transfer.number, **filters).aggregate(
            q=Sum("quantity")
        )["q"]
        or 0
    )


def assert_conserved(transfer: Transfer) -> None:
    """Units that left the source for transit == units into the destination from transit
    + units taken out of transit by resolutions + units still in transit (per the lines)."""
    transit = {"kind": LocationKind.TRANSIT}
    out_of_source = moved(transfer, to_location__kind=LocationKind.TRANSIT) - moved(
        transfer, to_location__kind=LocationKind.TRANSIT, from_location__site=transfer.destination
    )
    into_destination = moved(
        transfer, from_location__kind=transit["kind"], to_location__site=transfer.destination
    )
    resolved = moved(transfer, from_location__kind=transit["kind"]) - into_destination
    # Over units sent back pass through transit and out again: count them on both sides.
    returned_over = moved(
        transfer, to_location__kind=transit["kind"], from_location__site=transfer.destination
    )
    lines = list(transfer.lines.all())
    in_transit = sum(ln.in_transit for ln in lines)
    assert out_of_source + returned_over == into_destination + resolved + in_transit
    assert sum(ln.shipped for ln in lines) == out_of_source
    assert sum(ln.received + ln.damaged for ln in lines) <= into_destination
    assert all(ln.shipped == ln.received + ln.damaged + ln.resolved + ln.in_transit for ln in lines)


def on_hand(site: Site, sku: Any) -> int:
    row = SiteSku.objects.filter(site=site, sku=sku).first()
    return row.on_hand if row else 0


def avg_cost(site: Site, sku: Any) -> int:
    row = SiteSku.objects.filter(site=site, sku=sku).first()
    return row.avg_cost_micros if row else 0
