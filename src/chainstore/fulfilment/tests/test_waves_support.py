"""Shared world of the wave and picking tests (no tests here).

A warehouse WH1 with a one-block layout (cross-aisles at y=0 and y=12, depot at the origin),
zone A (aisles at x=3 and x=6) and zone B (x=15); a regional warehouse WH2 farther from the
customers, used when a short pick is re-sourced. Orders enter through the real intake
(`create_order`, paid), so shipments, reservations and pick tasks are the sourcing
service's own.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from chainstore.catalog.models import Sku
from chainstore.core.testing import make_site, make_sku, make_user, stock
from chainstore.fulfilment.models import (
    CustomerOrder,
    PickTask,
    SalesChannel,
    ShipFromSite,
    Shipment,
)
from chainstore.fulfilment.services.intake import (
    AddressInput,
    OrderInput,
    OrderLineInput,
    create_order,
)
from chainstore.inventory.models import Balance, StockMove
from chainstore.sites.models import Location, Site
from chainstore.sites.services import create_bin, create_zone, set_layout

_ids = itertools.count(1)
API = "/api/v1/fulfilment"
# The customers live in Shanghai; WH1 is in Shanghai, WH2 in Hangzhou.
CUSTOMER = AddressInput(
    address="浦东新区世纪大道100号",
    province="上海",
    city="上海",
    latitude=Decimal("31.2304"),
    longitude=Decimal("121.4737"),
)


@dataclass
class World:
    admin: Any
    site: Site
    other: Site
    bins: dict[str, Location]
    milk: Sku
    yogurt: Sku  # lot-tracked
    channel: SalesChannel
    today: dt.date
    users: dict[str, Any] = field(default_factory=dict)

    def order(
        self,
        *lines: tuple[Sku, int],
        placed_at: dt.datetime | None = None,
        carrier: str = "",
    ) -> CustomerOrder:
        n = next(_ids)
        payload = OrderInput(
            channel_order_id=f"T{n:06d}",
            customer_name="张三",
            phone="13800138000",
            address=CUSTOMER,
            lines=[OrderLineInput(quantity=q, sku=sku.code) for sku, q in lines],
            placed_at=placed_at or timezone.now() - dt.timedelta(minutes=60 - n % 60),
            paid=True,
            carrier=carrier,
        )
        return create_order(channel_code=self.channel.code, payload=payload, actor=self.admin)

    def shipment(self, order: CustomerOrder) -> Shipment:
        return order.shipments.get(site=self.site)

    def user(self, role: str, *sites: Site) -> Any:
        key = role + ":" + ",".join(s.code for s in sites)
        if key not in self.users:
            self.users[key] = make_user(role, list(sites))
        return self.users[key]


def build_world(admin: Any) -> World:
    site = make_site(
        admin, "cdc", code="WH1", latitude=Decimal("31.2200"), longitude=Decimal("121.4800")
    )
    other = make_site(
        admin, "rdc", code="WH2", latitude=Decimal("30.2741"), longitude=Decimal("120.1551")
    )
    ShipFromSite.objects.create(site=site, cutoff_time=dt.time(16, 0))
    ShipFromSite.objects.create(site=other)
    set_layout(
        site=site,
        actor=admin,
        cross_aisles=[Decimal("0"), Decimal("12")],
        depot_x=Decimal("0"),
        depot_y=Decimal("0"),
        aisles=[Decimal("3"), Decimal("6"), Decimal("15")],
    )
    zone_a = create_zone(site=site, code="A", name="常温A区", actor=admin)
    zone_b = create_zone(site=site, code="B", name="冷藏B区", actor=admin)
    bins = {}
    for code, zone, x, y in [
        ("A-01-08", zone_a, "3", "9.6"),
        ("A-01-02", zone_a, "3", "2.4"),
        ("A-02-05", zone_a, "6", "6.0"),
        ("A-02-01", zone_a, "6", "1.2"),
        ("B-05-03", zone_b, "15", "3.6"),
    ]:
        bins[code] = create_bin(
            site=site,
            code=code,
            actor=admin,
            zone=zone,
            aisle=code[2:4],
            x=Decimal(x),
            y=Decimal(y),
        )
    bins["WH2-01"] = create_bin(site=other, code="R-01-01", actor=admin)
    milk = make_sku(admin, name="光明纯牛奶 1L", weight_g=1050)
    yogurt = make_sku(admin, name="安慕希酸奶 205g", tracking="lot", shelf_life_days=60)
    channel = SalesChannel.objects.create(code="TM", name="天猫旗舰店", platform="tmall")
    return World(
        admin=admin,
        site=site,
        other=other,
        bins=bins,
        milk=milk,
        yogurt=yogurt,
        channel=channel,
        today=timezone.localdate(),
    )


def put(world: World, sku: Sku, quantity: int, bin_code: str, **lot: Any) -> None:
    """Receive stock straight into a bin (lot=..., expiry=... for lot-tracked SKUs)."""
    location = world.bins[bin_code]
    stock(world.admin, location.site, sku, quantity, location=location, **lot)


def barcode(sku: Sku) -> str:
    return sku.barcodes.get().code


def gs1(sku: Sku, lot: str, expiry: dt.date) -> str:
    return f"(01)0{barcode(sku)}(17){expiry:%y%m%d}(10){lot}"


def tasks_of(shipment: Shipment) -> list[PickTask]:
    return list(
        PickTask.objects.filter(shipment_line__shipment=shipment)
        .select_related("location", "lot", "sku")
        .order_by("id")
    )


def snapshot() -> dict[str, Any]:
    """Everything a refused pick must leave untouched."""
    return {
        "balances": sorted(
            Balance.objects.values_list("location_id", "sku_id", "lot_id", "on_hand", "reserved")
        ),
        "moves": StockMove.objects.count(),
        "tasks": sorted(PickTask.objects.values_list("pk", "picked", "short", "status")),
        "shipments": sorted(Shipment.objects.values_list("pk", "status")),
    }


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client
