"""The world of the whole-flow state machine (test_fulfilment_stateful.py; no tests here),
and the invariants it checks after every step.

Three ship-from sites around a Shanghai customer (a warehouse in Shanghai, a regional
warehouse in Hangzhou, a ship-from store in Suzhou), each with a walking layout and three
bins on it; four SKUs: two with known weights, one without, and one lot-tracked with two
lots that expire at different dates. Floor work is done by site-scoped users (a manager
plans waves, an operator picks, checks, packs and ships), orders come from an integrator.
Stock is put in in the examples themselves, inside the savepoint each example rolls back.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, Sum
from django.utils import timezone

from chainstore.catalog.models import Sku
from chainstore.core.testing import make_site, make_sku, make_user, stock
from chainstore.fulfilment.models import (
    CustomerOrder,
    EventKind,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Parcel,
    ParcelItem,
    PickedStock,
    PickList,
    PickListStatus,
    PickTask,
    PickTaskStatus,
    SalesChannel,
    ShipFromSite,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    TrackingEvent,
    Wave,
    WaveStatus,
)
from chainstore.fulfilment.services.intake import AddressInput, OrderInput, OrderLineInput
from chainstore.fulfilment.services.status import derive_status
from chainstore.inventory.models import Balance, Reservation, ReservationStatus, StockMove
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.models import Location, LocationKind, Site
from chainstore.sites.services import create_bin, outbound_location, set_layout, virtual_location

_ids = itertools.count(1)
UNIT = 1000
SHANGHAI = (Decimal("31.230400"), Decimal("121.473700"))
CUSTOMER = AddressInput(
    address="世纪大道100号",
    province="上海",
    city="上海",
    district="浦东新区",
    latitude=SHANGHAI[0],
    longitude=SHANGHAI[1],
)
# Shipments whose stock has left (or whose order gave it back).
GONE = (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED)
DEAD = (ShipmentStatus.CANCELLED, *GONE)
# Shipments that are (still) being picked or may be: their open tasks hold reservations.
UNPICKED = (ShipmentStatus.ALLOCATED, ShipmentStatus.WAVED, ShipmentStatus.PICKING)
# Shipments every line of which is picked in full.
PICKED_THROUGH = (
    ShipmentStatus.PICKED,
    ShipmentStatus.CHECKED,
    ShipmentStatus.PACKED,
    *GONE,
)


@dataclass
class ShipSite:
    site: Site
    bins: list[Location]
    manager: Any
    operator: Any


@dataclass
class World:
    admin: Any
    integrator: Any
    channel: SalesChannel
    sites: list[ShipSite]
    skus: list[Sku]  # the last one is lot-tracked
    lots: list[tuple[str, dt.date]]  # (number, expiry) of the lot-tracked SKU, FEFO order

    def floor(self, site_id: int) -> ShipSite:
        return next(s for s in self.sites if s.site.pk == site_id)


def build_world(admin: Any) -> World:
    """Sites, layouts, bins, SKUs, users and the channel (no stock)."""
    for kind in (LocationKind.SUPPLIER, LocationKind.CUSTOMER, LocationKind.ADJUSTMENT):
        virtual_location(kind)
    places = [
        ("cdc", "上海", Decimal("31.220000"), Decimal("121.480000")),
        ("rdc", "杭州", Decimal("30.274100"), Decimal("120.155100")),
        ("store", "苏州", Decimal("31.298900"), Decimal("120.585300")),
    ]
    sites = []
    for kind, city, lat, lon in places:
        site = make_site(admin, kind, city=city, latitude=lat, longitude=lon)
        ShipFromSite.objects.create(site=site)
        set_layout(
            site=site,
            actor=admin,
            cross_aisles=[Decimal("0"), Decimal("10")],
            depot_x=Decimal("0"),
            depot_y=Decimal("0"),
            aisles=[Decimal("2"), Decimal("6")],
        )
        bins = [
            create_bin(
                site=site,
                code=f"{site.code}-{aisle}-{rack}",
                actor=admin,
                aisle=aisle,
                x=Decimal(x),
                y=Decimal(y),
            )
            for aisle, rack, x, y in [
                ("01", "02", "2", "2.4"),
                ("01", "07", "2", "8.4"),
                ("02", "04", "6", "4.8"),
            ]
        ]
        outbound_location(site)
        sites.append(
            ShipSite(
                site=site,
                bins=bins,
                manager=make_user("warehouse_manager", [site]),
                operator=make_user("warehouse_operator", [site]),
            )
        )
    skus = [
        make_sku(admin, name="康师傅红烧牛肉面", weight_g=120),
        make_sku(admin, name="光明纯牛奶 1L", weight_g=1050),
        make_sku(admin, name="手工香皂"),  # weight unknown: the scale is not compared
        make_sku(admin, name="安慕希酸奶 205g", tracking="lot", weight_g=215, shelf_life_days=60),
    ]
    today = timezone.localdate()
    lots = [("Y-SOON", today + dt.timedelta(days=10)), ("Y-LATE", today + dt.timedelta(days=40))]
    channel = SalesChannel.objects.create(
        code="FLOW", name="天猫旗舰店", platform="tmall", default_carrier="sim"
    )
    return World(
        admin=admin,
        integrator=make_user("integrator"),
        channel=channel,
        sites=sites,
        skus=skus,
        lots=lots,
    )


def put(world: World, site: int, bin_: int, sku: Sku, units: int, lot: int = 0) -> None:
    """Receive whole units into a bin (the lot-tracked SKU: lot `lot` of world.lots)."""
    floor = world.sites[site]
    extra: dict[str, Any] = {}
    if sku.is_lot_tracked:
        number, expiry = world.lots[lot]
        extra = {"lot": number, "expiry": expiry}
    stock(world.admin, floor.site, sku, units * UNIT, location=floor.bins[bin_], **extra)


def order_input(lines: list[tuple[Sku, int]], *, paid: bool) -> OrderInput:
    """An order of (sku, whole units) lines, delivered in Shanghai."""
    return OrderInput(
        channel_order_id=f"F{next(_ids):07d}",
        customer_name="张三",
        phone="13800138000",
        address=CUSTOMER,
        lines=[
            OrderLineInput(sku=sku.code, quantity=units * UNIT, unit_price_fen=990)
            for sku, units in lines
        ],
        paid=paid,
    )


def ean(sku: Sku) -> str:
    return sku.barcodes.get().code


def item_scan(sku: Sku, lot: Any) -> str:
    """What the picker or checker scans: GS1 with lot and expiry for a lot, else the EAN."""
    if lot is None:
        return ean(sku)
    expiry = f"(17){lot.expiry_date:%y%m%d}" if lot.expiry_date else ""
    return f"(01)0{ean(sku)}{expiry}(10){lot.number}"


def snapshot() -> dict[str, Any]:
    """Every row a replayed (or refused) call must leave as it was."""
    return {
        "balances": sorted(
            Balance.objects.values_list("location_id", "sku_id", "lot_id", "on_hand", "reserved")
        ),
        "moves": StockMove.objects.count(),
        "reservations": sorted(
            Reservation.objects.values_list("pk", "status", "open_quantity", "expires_at")
        ),
        "orders": sorted(
            CustomerOrder.objects.values_list("pk", "status", "paid_at", "cancelled_at")
        ),
        "lines": sorted(OrderLine.objects.values_list("pk", "allocated", "shipped")),
        "shipments": sorted(Shipment.objects.values_list("pk", "status", "wave_id", "weight_g")),
        "shipment_lines": sorted(
            ShipmentLine.objects.values_list("pk", "quantity", "picked", "checked")
        ),
        "tasks": sorted(
            PickTask.objects.values_list("pk", "status", "picked", "short", "pick_list_id")
        ),
        "picked_stock": sorted(PickedStock.objects.values_list("pk", "quantity", "checked")),
        "lists": sorted(PickList.objects.values_list("pk", "status")),
        "waves": sorted(Wave.objects.values_list("pk", "status")),
        "parcels": sorted(Parcel.objects.values_list("pk", "status", "tracking_number")),
        "events": OrderEvent.objects.count(),
        "tracking": TrackingEvent.objects.count(),
    }


# -- invariants ------------------------------------------------------------------------------
def _sum(qs: Any, field: str) -> int:
    return qs.aggregate(s=Sum(field))["s"] or 0


def check_ledger() -> None:
    """Balances == moves, reserved == open reservations, nothing available below zero."""
    assert verify_ledger() == []
    bad = Balance.objects.filter(
        Q(on_hand__lt=0) | Q(reserved__lt=0) | Q(on_hand__lt=F("reserved"))
    )
    assert not bad.exists(), list(
        bad.values_list("location__code", "sku__code", "on_hand", "reserved")
    )


def check_conservation(received: dict[int, int], written_off: dict[int, int]) -> None:
    """Per SKU: what entered (receipts) == on hand everywhere + shipped to customers +
    written off by short picks; shipped to customers == the order lines' shipped; written off
    == what the short picks reported; and no other way in or out was used."""
    moves = StockMove.objects.values_list(
        "sku_id", "from_location__kind", "to_location__kind"
    ).annotate(q=Sum("quantity"))
    flows: dict[tuple[int, str, str], int] = {(s, f, t): q for s, f, t, q in moves}
    virtual = {LocationKind.SUPPLIER, LocationKind.CUSTOMER, LocationKind.ADJUSTMENT}
    for (sku_id, src, dst), q in flows.items():
        if src in virtual or dst in virtual:
            assert (src, dst) in {
                (LocationKind.SUPPLIER, LocationKind.STORAGE),
                (LocationKind.OUTBOUND, LocationKind.CUSTOMER),
                (LocationKind.STORAGE, LocationKind.ADJUSTMENT),
            }, (sku_id, src, dst, q)
    on_hand = dict(
        Balance.objects.filter(location__is_virtual=False)
        .values_list("sku_id")
        .annotate(q=Sum("on_hand"))
        .values_list("sku_id", "q")
    )
    shipped = dict(
        OrderLine.objects.values_list("sku_id")
        .annotate(q=Sum("shipped"))
        .values_list("sku_id", "q")
    )
    for sku_id in set(received) | set(on_hand) | set(shipped):
        entered = flows.get((sku_id, LocationKind.SUPPLIER, LocationKind.STORAGE), 0)
        to_customer = flows.get((sku_id, LocationKind.OUTBOUND, LocationKind.CUSTOMER), 0)
        lost = flows.get((sku_id, LocationKind.STORAGE, LocationKind.ADJUSTMENT), 0)
        assert entered == received.get(sku_id, 0), (sku_id, entered, received.get(sku_id))
        assert entered == on_hand.get(sku_id, 0) + to_customer + lost, (
            sku_id,
            entered,
            on_hand.get(sku_id, 0),
            to_customer,
            lost,
        )
        assert to_customer == (shipped.get(sku_id) or 0), (sku_id, to_customer, shipped.get(sku_id))
        assert lost == written_off.get(sku_id, 0), (sku_id, lost, written_off.get(sku_id))


def check_lines() -> None:
    """Every order line: allocated == its live, unshipped shipment lines; shipped == its
    shipped shipment lines; allocated + shipped never more than ordered."""
    live: dict[int, int] = defaultdict(int)
    gone: dict[int, int] = defaultdict(int)
    for line_id, status, quantity in ShipmentLine.objects.values_list(
        "order_line_id", "shipment__status", "quantity"
    ):
        if status in GONE:
            gone[line_id] += quantity
        elif status != ShipmentStatus.CANCELLED:
            live[line_id] += quantity
    for line in OrderLine.objects.select_related("order"):
        where = (line.order.number, line.line_no)
        assert line.allocated >= 0 and line.shipped >= 0 and line.backordered >= 0, where
        assert line.allocated + line.backordered + line.shipped == line.quantity, where
        assert line.allocated == live[line.pk], (*where, line.allocated, live[line.pk])
        assert line.shipped == gone[line.pk], (*where, line.shipped, gone[line.pk])


def check_tasks() -> None:
    """Open pick tasks hold exactly their reservations' open quantity; every active
    reservation belongs to an open task of a shipment still to be picked; tasks and lines
    add up."""
    held: dict[int, int] = defaultdict(int)
    for task in PickTask.objects.filter(status=PickTaskStatus.OPEN).select_related(
        "shipment_line__shipment"
    ):
        assert task.shipment_line.shipment.status in UNPICKED, (
            task.pk,
            task.shipment_line.shipment.status,
        )
        assert task.reservation_id is not None, task.pk
        held[task.reservation_id] += task.quantity - task.picked - task.short
    active = dict(
        Reservation.objects.filter(status=ReservationStatus.ACTIVE).values_list(
            "pk", "open_quantity"
        )
    )
    assert held == active, ("open tasks hold", dict(held), "active reservations", active)
    # An unpaid order's holds lapse at its pay_by; a paid order's never.
    for paid_at, pay_by, expires_at in (
        PickTask.objects.filter(status=PickTaskStatus.OPEN)
        .values_list(
            "shipment_line__shipment__order__paid_at",
            "shipment_line__shipment__order__pay_by",
            "reservation__expires_at",
        )
        .distinct()
    ):
        assert expires_at == (None if paid_at else pay_by), (paid_at, pay_by, expires_at)
    for task in PickTask.objects.filter(status__in=(PickTaskStatus.PICKED, PickTaskStatus.SHORT)):
        assert task.picked + task.short == task.quantity, task.pk
    for sl in ShipmentLine.objects.exclude(shipment__status=ShipmentStatus.CANCELLED):
        tasks = list(PickTask.objects.filter(shipment_line=sl))
        picked_stock = _sum(PickedStock.objects.filter(shipment_line=sl), "quantity")
        assert sl.picked == picked_stock, (sl.pk, sl.picked, picked_stock)
        if tasks:
            assert sl.picked == sum(t.picked for t in tasks), sl.pk
            assert sl.quantity == sum(t.quantity - t.short for t in tasks), (
                sl.pk,
                sl.quantity,
                [(t.quantity, t.short) for t in tasks],
            )


def check_shipments() -> None:
    """Shipment statuses mean what they say."""
    for shipment in Shipment.objects.prefetch_related("lines", "parcels"):
        lines = list(shipment.lines.all())
        status = shipment.status
        if status != ShipmentStatus.CANCELLED:
            assert lines, (shipment.number, status)
        if status in PICKED_THROUGH:
            assert all(ln.picked == ln.quantity for ln in lines), shipment.number
        if status in (ShipmentStatus.PACKED, *GONE) or status == ShipmentStatus.CHECKED:
            assert all(ln.checked == ln.picked for ln in lines), shipment.number
        if status in GONE:
            parcels = list(shipment.parcels.all())
            assert parcels and all(p.tracking_number for p in parcels), shipment.number
        if status in (ShipmentStatus.PACKED, *GONE):
            # The parcels hold, line by line and lot by lot, what was picked and checked.
            packed = Counter(
                {
                    (line, lot): q
                    for line, lot, q in ParcelItem.objects.filter(parcel__shipment=shipment)
                    .values_list("shipment_line_id", "lot_id")
                    .annotate(q=Sum("quantity"))
                }
            )
            picked = Counter(
                {
                    (line, lot): q
                    for line, lot, q in PickedStock.objects.filter(shipment_line__shipment=shipment)
                    .values_list("shipment_line_id", "lot_id")
                    .annotate(q=Sum("quantity"))
                }
            )
            assert packed == picked, (shipment.number, packed, picked)
        if status == ShipmentStatus.DELIVERED:
            assert {p.status for p in shipment.parcels.all()} == {"delivered"}, shipment.number
        if status in (ShipmentStatus.WAVED, ShipmentStatus.PICKING):
            assert shipment.wave is not None and shipment.wave.status in (
                WaveStatus.RELEASED,
                WaveStatus.PICKING,
            ), shipment.number


def check_staging() -> None:
    """OUTBOUND staging holds exactly the picked stock of live, unshipped shipments, per
    (location, sku, lot)."""
    staged = {
        (loc, sku, lot): q
        for loc, sku, lot, q in Balance.objects.filter(location__kind=LocationKind.OUTBOUND)
        .exclude(on_hand=0)
        .values_list("location_id", "sku_id", "lot_id", "on_hand")
    }
    picked: dict[tuple[int, int, int | None], int] = defaultdict(int)
    rows = PickedStock.objects.exclude(shipment_line__shipment__status__in=DEAD).values_list(
        "location_id", "shipment_line__sku_id", "lot_id", "quantity"
    )
    for loc, sku, lot, q in rows:
        picked[(loc, sku, lot)] += q
    assert staged == dict(picked), ("staged", staged, "picked", dict(picked))


def check_orders() -> None:
    """Every order's status is the one its lines and shipments imply; a cancelled order
    holds nothing."""
    for order in CustomerOrder.objects.all():
        assert order.status == derive_status(order), (
            order.number,
            order.status,
            derive_status(order),
        )
        kinds = set(order.events.values_list("kind", flat=True))
        assert EventKind.RECEIVED in kinds, order.number
        if order.paid_at is not None and order.pay_by is not None:
            assert EventKind.PAID in kinds, order.number
        if order.lines.filter(shipped__gt=0).exists():
            assert EventKind.SHIPPED in kinds, order.number
        if order.status == OrderStatus.CANCELLED:
            assert EventKind.CANCELLED in kinds, order.number
            assert not order.lines.filter(Q(allocated__gt=0) | Q(shipped__gt=0)).exists(), (
                order.number
            )
            assert not order.shipments.exclude(status=ShipmentStatus.CANCELLED).exists(), (
                order.number
            )
            assert not PickTask.objects.filter(
                shipment_line__shipment__order=order, status=PickTaskStatus.OPEN
            ).exists(), order.number


def check_pick_lists() -> None:
    """A list still open or being picked has work left on it, and its wave is open."""
    for pick_list in PickList.objects.filter(
        status__in=(PickListStatus.OPEN, PickListStatus.PICKING)
    ):
        assert pick_list.tasks.filter(status=PickTaskStatus.OPEN).exists(), (
            pick_list.number,
            pick_list.status,
            list(pick_list.tasks.values_list("status", flat=True)),
        )
        assert pick_list.wave.status in (WaveStatus.RELEASED, WaveStatus.PICKING), pick_list.number


def check_all(received: dict[int, int], written_off: dict[int, int]) -> None:
    check_ledger()
    check_conservation(received, written_off)
    check_lines()
    check_tasks()
    check_shipments()
    check_staging()
    check_orders()
    check_pick_lists()
