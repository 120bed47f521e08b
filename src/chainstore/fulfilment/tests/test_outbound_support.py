"""Shared world of the outbound, tracking and trace tests (no tests here).

A warehouse in Wuhan with two bins; milk (lot-tracked, 1,050 g) in two lots that expire at
different dates, cup noodles (no lots, 120 g), tea (lot-tracked, weight unknown). Orders go
through the real intake, wave and pick services, so a shipment reaches the check exactly as
it does in production: PICKED, with PickedStock rows in the site's OUTBOUND location.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from chainstore.catalog.models import Sku
from chainstore.core.testing import make_bin, make_site, make_sku, make_user, stock
from chainstore.fulfilment.models import (
    CustomerOrder,
    OrderEvent,
    Parcel,
    PickList,
    SalesChannel,
    ShipFromSite,
    Shipment,
    ShipmentLine,
    TrackingEvent,
)
from chainstore.fulfilment.services.intake import (
    AddressInput,
    OrderInput,
    OrderLineInput,
    create_order,
)
from chainstore.fulfilment.services.picking import confirm_pick, next_task, start_pick_list
from chainstore.fulfilment.services.waves import create_wave
from chainstore.inventory.models import Balance, StockMove
from chainstore.sites.models import Location, Site

API = "/api/v1/fulfilment"
_ids = itertools.count(1)
WUHAN = (Decimal("30.593100"), Decimal("114.305400"))
SHANGHAI = (Decimal("31.230400"), Decimal("121.473700"))


@dataclass
class World:
    admin: Any
    site: Site
    bin_a: Location
    bin_b: Location
    milk: Sku  # lot-tracked, 1,050 g
    noodles: Sku  # no lots, 120 g
    tea: Sku  # lot-tracked, weight unknown
    channel: SalesChannel
    soon: dt.date
    late: dt.date
    users: dict[str, Any] = field(default_factory=dict)

    def user(self, role: str, *sites: Site) -> Any:
        key = role + ":" + ",".join(s.code for s in sites)
        if key not in self.users:
            self.users[key] = make_user(role, list(sites))
        return self.users[key]

    @property
    def operator(self) -> Any:
        return self.user("warehouse_operator", self.site)

    @property
    def manager(self) -> Any:
        return self.user("warehouse_manager", self.site)

    def order(self, *lines: tuple[Sku, int], **kw: Any) -> CustomerOrder:
        """An order of (sku, whole units), paid, delivered in Shanghai."""
        n = next(_ids)
        payload = OrderInput(
            channel_order_id=f"E{n:06d}",
            customer_name=kw.pop("customer_name", "张三"),
            phone=kw.pop("phone", "13800138000"),
            address=AddressInput(
                province="上海",
                city="上海",
                district="浦东新区",
                address="世纪大道100号",
                latitude=SHANGHAI[0],
                longitude=SHANGHAI[1],
            ),
            lines=[OrderLineInput(sku=sku.code, quantity=q * 1000) for sku, q in lines],
            paid=True,
            **kw,
        )
        return create_order(channel_code=self.channel.code, payload=payload, actor=self.admin)

    def picked(self, *lines: tuple[Sku, int], **kw: Any) -> Shipment:
        """An order picked completely at the site: its shipment, PICKED."""
        order = self.order(*lines, **kw)
        shipment = order.shipments.get(site=self.site)
        pick_all(self, shipment)
        shipment.refresh_from_db()
        assert shipment.status == "picked", shipment.status
        return shipment


def build_world(admin: Any) -> World:
    site = make_site(
        admin,
        "cdc",
        city="武汉",
        address="东西湖区物流园8号",
        latitude=WUHAN[0],
        longitude=WUHAN[1],
    )
    ShipFromSite.objects.create(site=site)
    bin_a, bin_b = make_bin(admin, site, code="A-01-01"), make_bin(admin, site, code="A-01-02")
    milk = make_sku(admin, name="光明纯牛奶 1L", tracking="lot", weight_g=1050, shelf_life_days=60)
    noodles = make_sku(admin, name="康师傅红烧牛肉面", weight_g=120)
    tea = make_sku(admin, name="西湖龙井 250g", tracking="lot", shelf_life_days=700)
    today = timezone.localdate()
    soon, late = today + dt.timedelta(days=10), today + dt.timedelta(days=40)
    stock(admin, site, milk, 1000, lot="M-SOON", expiry=soon, location=bin_a)
    stock(admin, site, milk, 20000, lot="M-LATE", expiry=late, location=bin_b)
    stock(admin, site, noodles, 50000, location=bin_a)
    stock(admin, site, tea, 10000, lot="T-1", expiry=today + dt.timedelta(days=300), location=bin_b)
    channel = SalesChannel.objects.create(
        code="TM", name="天猫旗舰店", platform="tmall", default_carrier="sim"
    )
    return World(
        admin=admin,
        site=site,
        bin_a=bin_a,
        bin_b=bin_b,
        milk=milk,
        noodles=noodles,
        tea=tea,
        channel=channel,
        soon=soon,
        late=late,
    )


def pick_all(world: World, shipment: Shipment) -> PickList:
    """Wave the shipment and pick every task with the scans a picker would make."""
    wave = create_wave(site=world.site, actor=world.manager, shipment_ids=[shipment.pk])
    pick_list = wave.pick_lists.get()
    start_pick_list(pick_list, world.operator)
    while (task := next_task(pick_list)) is not None:
        item = gs1(task.sku, task.lot.number, task.lot.expiry_date) if task.lot else ean(task.sku)
        confirm_pick(
            task=task,
            actor=world.operator,
            bin_scan=task.location.code,
            item_scan=item,
            quantity=task.quantity,
            idempotency_key=uuid.uuid4().hex,
        )
    return pick_list


def ean(sku: Sku) -> str:
    return sku.barcodes.get().code


def gs1(sku: Sku, lot: str, expiry: dt.date | None = None) -> str:
    expiry_part = f"(17){expiry:%y%m%d}" if expiry else ""
    return f"(01)0{ean(sku)}{expiry_part}(10){lot}"


def scan_all(world: World, shipment: Shipment, actor: Any | None = None) -> None:
    """Check every picked unit by scanning it (lots by GS1)."""
    from chainstore.fulfilment.models import PickedStock
    from chainstore.fulfilment.services.outbound import check_scan

    for row in PickedStock.objects.filter(shipment_line__shipment=shipment).select_related(
        "lot", "shipment_line__sku"
    ):
        sku = row.shipment_line.sku
        code = gs1(sku, row.lot.number, row.lot.expiry_date) if row.lot else ean(sku)
        for _unit in range(row.quantity // 1000):
            check_scan(shipment=shipment, actor=actor or world.operator, scan=code)


def expected_g(shipment: Shipment) -> int:
    return sum(
        (ln.sku.weight_g or 0) * ln.picked // 1000 for ln in shipment.lines.select_related("sku")
    )


def snapshot() -> dict[str, Any]:
    """Everything a refused outbound step must leave untouched."""
    return {
        "balances": sorted(
            Balance.objects.values_list("location_id", "sku_id", "lot_id", "on_hand", "reserved")
        ),
        "moves": StockMove.objects.count(),
        "shipments": sorted(
            Shipment.objects.values_list("pk", "status", "weight_g", "checked_by_id")
        ),
        "lines": sorted(ShipmentLine.objects.values_list("pk", "picked", "checked")),
        "parcels": sorted(Parcel.objects.values_list("pk", "status", "tracking_number")),
        "events": OrderEvent.objects.count(),
        "tracking": TrackingEvent.objects.count(),
    }


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client
