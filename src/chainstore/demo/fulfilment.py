"""The demo chain's online shop: SKU weights, four sales channels, ship-from sites (both
warehouses and two stores), the sourcing policy, walking layouts of the warehouses, and
online orders in every state, all through the real fulfilment services.

Orders arrive from the integration user `shop_api` (customers in several cities, placed
over the last day and a half); the oldest ones fulfilled at CDC01 are taken through the
wave, the pick (by `wh_operator`), the check, packing, shipping with the simulated carrier
and delivery. What the demo leaves:
- delivered, shipped (in transit), packed, checked and picked shipments at CDC01;
- a released wave at CDC01 whose first pick list is partly picked by `wh_operator`;
- allocated orders (at the warehouses and, for nearby Shanghai customers, the stores);
- a few orders awaiting payment (their stock held until `pay_by`);
- one order split across two sites, one backordered, one cancelled by the customer.

Deterministic for a seed: dates are anchored on now, every choice comes from `rng`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from chainstore.catalog.models import Barcode, Sku
from chainstore.core import audit
from chainstore.demo import data
from chainstore.demo.master import BIN_WIDTH_M, CDC_LAYOUT, RDC_LAYOUT, Chain, DemoSku
from chainstore.demo.pos import GIVEN, SURNAMES
from chainstore.fulfilment import geo
from chainstore.fulfilment.models import (
    CustomerOrder,
    OrderStatus,
    PickedStock,
    PickList,
    PickTask,
    PickTaskStatus,
    Shipment,
    ShipmentStatus,
)
from chainstore.fulfilment.services import care, intake, outbound, picking, tracking, waves
from chainstore.fulfilment.services.sourcing import configure_ship_from, update_policy
from chainstore.inventory.models import Lot
from chainstore.inventory.services import available_to_promise
from chainstore.sites.models import Location, Site
from chainstore.sites.services import set_layout

CHANNELS = [  # code, name, platform, minutes an unpaid order holds its stock
    ("TM01", "天猫旗舰店", "tmall", 24 * 60),
    ("DY01", "抖音小店", "douyin", 30),
    ("JD01", "京东自营", "jd", 24 * 60),
    ("MP01", "小程序商城", "miniprogram", 15),
]
CHANNEL_WEIGHTS = (40, 25, 20, 15)

# Customer places: province, city, district, streets, weight (share of the orders). About
# half are nearest to CDC01 (Jiangsu, the north), a quarter to RDC01 (Zhejiang and inland
# south), a quarter in Shanghai itself, where the ship-from-store shops are closest.
PLACES: list[tuple[str, str, str, tuple[str, ...], int]] = [
    ("上海市", "上海市", "浦东新区", ("张杨路", "锦绣路", "东方路"), 4),
    ("上海市", "上海市", "闵行区", ("七莘路", "虹梅路"), 2),
    ("上海市", "上海市", "宝山区", ("牡丹江路", "友谊路"), 2),
    ("上海市", "上海市", "嘉定区", ("墨玉南路", "城中路"), 1),
    ("上海市", "上海市", "杨浦区", ("国权路", "控江路"), 2),
    ("江苏省", "苏州市", "姑苏区", ("人民路", "干将西路"), 5),
    ("江苏省", "苏州市", "工业园区", ("金鸡湖大道", "星湖街"), 4),
    ("江苏省", "南京市", "鼓楼区", ("中山北路", "广州路"), 4),
    ("江苏省", "南京市", "建邺区", ("江东中路", "应天大街"), 2),
    ("江苏省", "无锡市", "梁溪区", ("中山路", "解放南路"), 4),
    ("江苏省", "常州市", "武进区", ("延政中路", "花园街"), 3),
    ("北京市", "北京市", "朝阳区", ("望京街", "朝阳北路"), 4),
    ("北京市", "北京市", "海淀区", ("中关村大街", "学院路"), 3),
    ("天津市", "天津市", "南开区", ("卫津路", "鞍山西道"), 2),
    ("山东省", "青岛市", "市南区", ("香港中路", "山东路"), 3),
    ("浙江省", "杭州市", "西湖区", ("文一西路", "天目山路"), 4),
    ("浙江省", "杭州市", "拱墅区", ("莫干山路", "湖墅南路"), 2),
    ("浙江省", "宁波市", "鄞州区", ("天童南路", "宁南北路"), 3),
    ("安徽省", "合肥市", "蜀山区", ("长江西路", "潜山路"), 2),
    ("湖北省", "武汉市", "洪山区", ("珞喻路", "雄楚大道"), 2),
    ("广东省", "广州市", "天河区", ("天河路", "体育西路"), 2),
    ("四川省", "成都市", "武侯区", ("人民南路", "科华北路"), 1),
]

# Grams per base unit where the spec does not say (by category), and packaging on top.
CATEGORY_GRAMS = {
    "1003": 420,
    "1004": 700,
    "4001": 600,
    "5001": 900,
    "5004": 60,
}
DEFAULT_GRAMS = 300
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(ml|L|kg|g)(?:×(\d+))?")
_FIXED = {"桶装": 145}  # a cup of instant noodles
_COUNTED = [  # pattern, grams per counted piece, packaging grams
    (re.compile(r"(\d+)枚"), 58, 120),  # eggs in a carton
    (re.compile(r"(\d+)连包"), 112, 20),  # instant noodle multipack
    (re.compile(r"(\d+)卷装"), 125, 30),  # toilet paper rolls
    (re.compile(r"×(\d+)包"), 150, 20),  # tissue packs
    (re.compile(r"(\d+)支装"), 22, 25),  # toothbrushes
]

# CDC01 shipments taken through the floor, oldest first: (state, share of the 40 orders).
FLOOR_STATES = [
    ("delivered", 4),
    ("shipped", 3),
    ("packed", 1),
    ("checked", 1),
    ("picked", 2),
]
WAVE_SHIPMENTS = 6  # left in the released, partly picked wave


@dataclass(frozen=True)
class _Customer:
    name: str
    phone: str
    address: intake.AddressInput


def build_demo_fulfilment(
    chain: Chain, *, rng: random.Random, orders: int, on_step: Callable[[int], None]
) -> dict[str, int]:
    """Set up online fulfilment and place `orders` online orders (see the module docstring).
    Returns counts for the demo summary. `on_step` advances once per order plus twice."""
    admin = chain.users["admin"]
    set_weights(chain.skus, admin)
    channels = _channels(admin)
    ship_from = _ship_from(chain, admin)
    update_policy(
        actor=admin,
        strategy="fewest",
        weight_distance=Decimal(1),
        weight_shipments=Decimal(10_000),
        weight_cost=Decimal(1),
        max_candidates=10,
        max_shipments=3,
        allow_split=True,
        time_budget_ms=500,
    )
    _layouts(chain, admin)
    on_step(1)
    if orders <= 0:
        on_step(1)
        return {"orders": 0}
    shop = _Shop(chain, rng, channels, ship_from)
    placed = shop.place(orders, on_step)
    floor = _Floor(chain, rng)
    floor.run(scale=orders / 40)
    on_step(1)
    return {"orders": len(placed)}


# -- configuration ---------------------------------------------------------------------
def unit_grams(line: data.ProductLine, name: str) -> int:
    """Plausible gross grams of one base unit, read from the spec in the SKU name
    ("950ml", "250ml×24", "5kg", "30枚", ...); by category when the spec does not say.
    Liquids count about 1 g/ml, plus about 8 % packaging."""
    if line.by_weight:
        return 1000  # the base unit is the kilogram
    for word, grams in _FIXED.items():
        if word in name:
            return grams
    for pattern, per_piece, packaging in _COUNTED:
        found = pattern.search(name)
        if found:
            return int(found.group(1)) * per_piece + packaging
    found = _AMOUNT.search(name)
    if found is None:
        return CATEGORY_GRAMS.get(line.category, DEFAULT_GRAMS)
    amount, unit, count = float(found.group(1)), found.group(2), int(found.group(3) or 1)
    net = amount * {"ml": 1.0, "L": 1000.0, "g": 1.0, "kg": 1000.0}[unit]
    if line.category == "4003":  # cooking oil is lighter than water
        net *= 0.92
    return max(10, round(net * count * 1.08 + 5 * count))


def set_weights(skus: list[DemoSku], actor: Any) -> None:
    """Sku.weight_g for every demo SKU in one bulk update (one audit row for the load)."""
    rows = list(Sku.objects.filter(pk__in=[d.id for d in skus]).only("pk", "name"))
    by_id = {d.id: d for d in skus}
    for sku in rows:
        sku.weight_g = unit_grams(by_id[sku.pk].line, sku.name)
    Sku.objects.bulk_update(rows, ["weight_g"], batch_size=1000)
    audit.record(actor=actor, action="catalog.demo_weights", data={"skus": len(rows)})


def _channels(admin: Any) -> list[str]:
    for code, name, platform, timeout in CHANNELS:
        intake.save_channel(
            code=code,
            actor=admin,
            name=name,
            platform=platform,
            payment_timeout_minutes=timeout,
            default_carrier="sim",
        )
    return [code for code, *_rest in CHANNELS]


def _ship_from(chain: Chain, admin: Any) -> list[Site]:
    """Both warehouses, and the first two stores as ship-from-store: a store parcel costs
    more (staff time, small carrier volumes) but leaves from round the corner."""
    configs = [  # site, base fen, per kg fen, priority, cut-off
        (chain.cdc, 600, 120, 0, dt.time(16, 0)),
        (chain.rdc, 700, 150, 0, dt.time(15, 0)),
    ]
    configs += [
        (plan.site, base, per_kg, 10, dt.time(19, 0))
        for plan, (base, per_kg) in zip(chain.stores[:2], ((1000, 200), (1200, 250)), strict=False)
    ]
    for site, base, per_kg, priority, cutoff in configs:
        configure_ship_from(
            site=site,
            actor=admin,
            enabled=True,
            base_cost_fen=base,
            per_kg_cost_fen=per_kg,
            priority=priority,
            cutoff_time=cutoff,
        )
    return [c[0] for c in configs]


def _layouts(chain: Chain, admin: Any) -> None:
    """Walking layouts: the aisles are the bins' x; CDC01 has a cross-aisle through the
    middle of its racks (two blocks), RDC01 only front and back (one block)."""
    for site, layout, middle in ((chain.cdc, CDC_LAYOUT, True), (chain.rdc, RDC_LAYOUT, False)):
        racks = max(zone[4] for zone in layout)
        back = BIN_WIDTH_M * racks
        cross = [Decimal(0), back]
        if middle:
            cross.insert(1, BIN_WIDTH_M * (racks // 2))
        xs = Location.objects.filter(site=site, zone__isnull=False, x__isnull=False)
        aisles = sorted({x for x in xs.values_list("x", flat=True) if x is not None})
        set_layout(
            site=site,
            actor=admin,
            cross_aisles=cross,
            aisles=aisles,
            depot_x=Decimal(0),
            depot_y=Decimal(0),
        )


# -- placing orders ----------------------------------------------------------------------
class _Shop:
    """Customers ordering through the channels (as `shop_api`, the integration user)."""

    def __init__(
        self, chain: Chain, rng: random.Random, channels: list[str], ship_from: list[Site]
    ) -> None:
        self.rng = rng
        self.actor = chain.users["shop_api"]
        self.channels = channels
        self.site_ids = [s.pk for s in ship_from]
        self.cdc = chain.cdc
        self.skus = [d for d in chain.skus if not d.line.by_weight]
        self.prices = dict(
            Sku.objects.filter(pk__in=[d.id for d in self.skus]).values_list(
                "pk", "retail_price_fen"
            )
        )
        self.now = timezone.now()

    def place(self, count: int, on_step: Callable[[int], None]) -> list[CustomerOrder]:
        """`count` orders, oldest first over the last 36 hours; the newest few unpaid."""
        atp = self._atp()
        # What the warehouse has plenty of: ordinary orders are filled without backorders.
        stocked = [d for d in self.skus if atp.get((self.cdc.pk, d.id), 0) >= 20_000]
        unpaid = max(1, count // 12)
        split_at, backorder_at = count // 6, count // 2
        cancel_at = min(count - unpaid - 1, backorder_at + 3)
        placed = []
        for n in range(count):
            minutes_ago = (count - n) * 36 * 60 // count - self.rng.randint(0, 20)
            placed_at = self.now - dt.timedelta(minutes=max(2, minutes_ago))
            if n == split_at:
                lines = self._split_line()
            elif n == backorder_at:
                lines = self._short_line()
            else:
                lines = self._basket(stocked)
            order = self._order(n, lines, placed_at, paid=n < count - unpaid)
            if n == cancel_at:
                order = care.cancel_order(order, actor=self.actor, reason="买家取消订单")
            placed.append(order)
            on_step(1)
        return placed

    def _atp(self) -> dict[tuple[int, int], int]:
        return available_to_promise(
            site_ids=self.site_ids,
            sku_ids=[d.id for d in self.skus],
            today=timezone.localdate(),
        )

    def _basket(self, stocked: list[DemoSku]) -> list[tuple[DemoSku, int]]:
        size = self.rng.choices([1, 2, 3, 4], weights=[35, 35, 20, 10])[0]
        picks = self.rng.sample(stocked, min(size, len(stocked)))
        return [(d, self.rng.choice([1, 1, 1, 2, 2, 3])) for d in picks]

    def _split_line(self) -> list[tuple[DemoSku, int]]:
        """One more unit than any single site has, but no more than two sites hold together:
        the order must be split (the SKU whose largest site holding is smallest)."""
        atp = self._atp()
        best: tuple[int, DemoSku] | None = None
        for d in self.skus:
            held = sorted((atp.get((s, d.id), 0) // 1000 for s in self.site_ids), reverse=True)
            if held[0] >= 1 and held[1] >= 1 and (best is None or held[0] < best[0]):
                best = (held[0], d)
        return [(best[1], best[0] + 1)] if best else []

    def _short_line(self) -> list[tuple[DemoSku, int]]:
        """Two more units than all sites hold together (the scarcest SKU): backordered."""
        atp = self._atp()
        held = {d.id: sum(atp.get((s, d.id), 0) for s in self.site_ids) // 1000 for d in self.skus}
        scarce = min(self.skus, key=lambda d: (held[d.id], d.code))
        return [(scarce, held[scarce.id] + 2)]

    def _order(
        self, n: int, lines: list[tuple[DemoSku, int]], placed_at: dt.datetime, *, paid: bool
    ) -> CustomerOrder:
        # Unpaid orders come from the channels holding stock for a day.
        channel = (
            self.rng.choice(["TM01", "JD01"])
            if not paid
            else self.rng.choices(self.channels, weights=CHANNEL_WEIGHTS)[0]
        )
        customer = self._customer(channel)
        payload = intake.OrderInput(
            channel_order_id=self._channel_order_id(channel, n, placed_at),
            customer_name=customer.name,
            phone=customer.phone,
            address=customer.address,
            lines=[
                intake.OrderLineInput(
                    sku=d.code,
                    quantity=units * 1000,
                    unit_price_fen=self.prices[d.id],
                    channel_line_id=str(k),
                )
                for k, (d, units) in enumerate(lines or self._basket(self.skus), start=1)
            ],
            placed_at=placed_at,
            paid=paid,
            paid_at=placed_at + dt.timedelta(minutes=self.rng.randint(1, 6)) if paid else None,
            shipping_fee_fen=self.rng.choice([0, 0, 0, 600, 800]),
            note=self.rng.choice(["", "", "", "请尽快发货", "放快递柜", "工作日白天送货"]),
        )
        return intake.create_order(channel_code=channel, payload=payload, actor=self.actor)

    def _channel_order_id(self, channel: str, n: int, placed_at: dt.datetime) -> str:
        """Order ids shaped like each platform's (all digits; the mini-program's dated)."""
        day = f"{timezone.localtime(placed_at):%y%m%d}"
        tail = f"{n:04d}{self.rng.randint(100, 999)}"
        prefixes = {"TM01": "3", "DY01": "69", "JD01": "28"}
        if channel in prefixes:
            return f"{prefixes[channel]}{day}{self.rng.randint(10_000, 99_999)}{tail}"
        return f"MP{day}{tail}"

    def _customer(self, channel: str) -> _Customer:
        rng = self.rng
        province, city, district, streets, _weight = rng.choices(
            PLACES, weights=[p[-1] for p in PLACES]
        )[0]
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])
        # Marketplaces hand out masked numbers; the own mini-program has the real one.
        head = f"1{rng.choice('35789')}{rng.randint(0, 9)}"
        phone = (
            f"{head}{rng.randint(0, 99_999_999):08d}"
            if channel == "MP01"
            else f"{head}****{rng.randint(0, 9999):04d}"
        )
        street = rng.choice(streets)
        address = (
            f"{street}{rng.randint(1, 1999)}弄{rng.randint(1, 40)}号"
            f"{rng.randint(1, 28)}{rng.randint(1, 4):02d}室"
        )
        centre = geo.city_centroid(city)
        lat = lon = None
        if centre is not None:  # a point within ~6 km of the city centre
            lat = Decimal(f"{centre[0] + rng.uniform(-0.05, 0.05):.6f}")
            lon = Decimal(f"{centre[1] + rng.uniform(-0.06, 0.06):.6f}")
        return _Customer(
            name=name,
            phone=phone,
            address=intake.AddressInput(
                province=province,
                city=city,
                district=district,
                address=address,
                postcode="",
                latitude=lat,
                longitude=lon,
            ),
        )


# -- the warehouse floor -------------------------------------------------------------------
class _Floor:
    """CDC01's day: waves, picks, the check, packing, shipping and the carrier's scans."""

    def __init__(self, chain: Chain, rng: random.Random) -> None:
        self.rng = rng
        self.site = chain.cdc
        self.manager = chain.users["wh_manager"]
        self.operator = chain.users["wh_operator"]
        self.barcodes = dict(
            Barcode.objects.filter(
                sku_id__in=[d.id for d in chain.skus], is_primary=True
            ).values_list("sku_id", "code")
        )

    def run(self, *, scale: float) -> None:
        pool = list(
            Shipment.objects.filter(
                site=self.site,
                status=ShipmentStatus.ALLOCATED,
                order__status=OrderStatus.ALLOCATED,
            ).order_by("order__placed_at", "id")
        )
        sizes = [max(1, round(share * scale)) for _state, share in FLOOR_STATES]
        groups: dict[str, list[Shipment]] = {}
        start = 0
        for (state, _share), size in zip(FLOOR_STATES, sizes, strict=True):
            groups[state] = pool[start : start + size]
            start += size
        in_wave = pool[start : start + max(2, round(WAVE_SHIPMENTS * scale))]
        through = [s for members in groups.values() for s in members]
        if through:
            self._pick_wave(through, cart_size=6, tasks=None)
        for state in ("delivered", "shipped", "packed", "checked"):
            for shipment in groups[state]:
                self._check(shipment)
        for state in ("delivered", "shipped", "packed"):
            for shipment in groups[state]:
                outbound.pack(shipment=shipment, actor=self.operator)
        for shipment in groups["delivered"]:
            self._ship(shipment)
        tracking.run_simulated_carrier(steps=None)  # every parcel shipped so far arrives
        for shipment in groups["shipped"]:
            self._ship(shipment)
        tracking.run_simulated_carrier(steps=2)  # collected, and on its way
        if len(in_wave) >= 2:
            # The second cart's list stays open; the first is picked about halfway.
            self._pick_wave(in_wave, cart_size=math.ceil(len(in_wave) / 2), tasks=0.5)

    def _pick_wave(self, shipments: list[Shipment], *, cart_size: int, tasks: float | None) -> None:
        """Wave the shipments; pick every list (tasks None) or a share of the first list's
        tasks (the rest of the wave stays open)."""
        wave = waves.create_wave(
            site=self.site,
            actor=self.manager,
            shipment_ids=[s.pk for s in shipments],
            max_orders=len(shipments),
            cart_size=cart_size,
        )
        lists = list(PickList.objects.filter(wave=wave).order_by("id"))
        if tasks is not None:
            lists = lists[:1]
        for pick_list in lists:
            picking.start_pick_list(pick_list, self.operator)
            todo = list(
                pick_list.tasks.filter(status=PickTaskStatus.OPEN)
                .select_related("location", "sku", "lot")
                .order_by("sequence", "id")
            )
            if tasks is not None:
                todo = todo[: max(1, min(len(todo) - 1, round(len(todo) * tasks)))]
            for task in todo:
                self._pick(task)

    def _pick(self, task: PickTask) -> None:
        picking.confirm_pick(
            task=task,
            actor=self.operator,
            bin_scan=task.location.code,
            item_scan=self._scan(task.sku_id, task.lot),
            quantity=task.quantity,
            idempotency_key=f"demo-pick-{task.pk}",
        )

    def _scan(self, sku_id: int, lot: Lot | None) -> str:
        """What the scanner reads: the EAN, or for a lot the GS1 string with lot and expiry."""
        ean = self.barcodes[sku_id]
        if lot is None:
            return ean
        expiry = f"(17){lot.expiry_date:%y%m%d}" if lot.expiry_date else ""
        return f"(01)0{ean}{expiry}(10){lot.number}"

    def _check(self, shipment: Shipment) -> None:
        """Scan each picked lot's quantity, then weigh within tolerance (box and tape)."""
        rows = (
            PickedStock.objects.filter(shipment_line__shipment=shipment)
            .select_related("lot", "shipment_line")
            .order_by("id")
        )
        for row in rows:
            outbound.check_scan(
                shipment=shipment,
                actor=self.operator,
                scan=self._scan(row.shipment_line.sku_id, row.lot),
                quantity=row.quantity,
            )
        expected, _known = outbound.expected_weight(shipment)
        tolerance = outbound.weight_tolerance(expected)
        weight = expected + self.rng.randint(-tolerance // 4, tolerance // 2)
        outbound.complete_check(shipment=shipment, actor=self.operator, weight_g=max(1, weight))

    def _ship(self, shipment: Shipment) -> None:
        outbound.ship(
            shipment=shipment, actor=self.operator, idempotency_key=f"demo-ship-{shipment.number}"
        )
