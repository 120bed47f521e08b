import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import F

from chainstore.catalog.models import Sku
from chainstore.demo.fulfilment import unit_grams
from chainstore.fulfilment.models import (
    CustomerOrder,
    OrderStatus,
    Parcel,
    PickList,
    PickTask,
    PickTaskStatus,
    SalesChannel,
    ShipFromSite,
    Shipment,
    ShipmentStatus,
    SourcingPolicy,
    TrackingEvent,
    Wave,
)
from chainstore.inventory.models import Balance, Reservation, ReservationStatus
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.models import WarehouseLayout

SMALL = {"stores": 2, "skus": 30, "days": 5, "seed": 1}


def _demo(**options):
    out = io.StringIO()
    call_command("demo", stdout=out, **{**SMALL, **options})
    return out.getvalue()


def _orders_digest() -> list[tuple]:
    """The online orders independent of row ids and of the wall clock."""
    return [
        (
            o.channel.code,
            o.channel_order_id,
            o.status,
            o.customer_name,
            o.phone,
            o.address,
            str(o.latitude),
            sorted(o.lines.values_list("sku__code", "quantity", "allocated", "shipped")),
            sorted(o.shipments.values_list("site__code", "status")),
        )
        for o in CustomerOrder.objects.select_related("channel").order_by("channel_order_id")
    ]


@pytest.mark.django_db
def test_demo_sets_up_channels_ship_from_sites_policy_layouts_and_weights():
    output = _demo()

    assert "40 online orders" in output
    assert sorted(SalesChannel.objects.values_list("name", "platform")) == sorted(
        [
            ("天猫旗舰店", "tmall"),
            ("抖音小店", "douyin"),
            ("京东自营", "jd"),
            ("小程序商城", "miniprogram"),
        ]
    )
    ship_from = {c.site.code: c for c in ShipFromSite.objects.select_related("site")}
    assert sorted(ship_from) == ["CDC01", "RDC01", "S001", "S002"]
    assert all(c.enabled for c in ship_from.values())
    assert len({(c.base_cost_fen, c.per_kg_cost_fen) for c in ship_from.values()}) == 4
    # A parcel from a store costs more than one from the central warehouse.
    assert ship_from["S001"].base_cost_fen > ship_from["CDC01"].base_cost_fen
    assert SourcingPolicy.objects.get(pk=1).strategy == "fewest"
    layouts = {lay.site.code: lay for lay in WarehouseLayout.objects.select_related("site")}
    assert len(layouts["CDC01"].cross_aisles) == 3  # a middle cross-aisle: two blocks
    assert len(layouts["RDC01"].cross_aisles) == 2
    assert layouts["CDC01"].aisles
    assert not Sku.objects.filter(weight_g__isnull=True).exists()
    assert not Sku.objects.filter(weight_g__lte=0).exists()


@pytest.mark.django_db
def test_demo_orders_are_in_every_state_and_the_ledger_stays_true():
    _demo()

    statuses = Counter(CustomerOrder.objects.values_list("status", flat=True))
    assert sum(statuses.values()) == 40
    for status in (
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.ALLOCATED,
        OrderStatus.BACKORDER,
        OrderStatus.IN_FULFILMENT,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
    ):
        assert statuses[status] >= 1, status
    assert statuses[OrderStatus.CANCELLED] == 1
    assert statuses[OrderStatus.BACKORDER] == 1
    # Unpaid orders hold their stock until pay_by.
    for order in CustomerOrder.objects.filter(status=OrderStatus.PENDING_PAYMENT):
        assert order.pay_by is not None and order.paid_at is None
        assert Reservation.objects.filter(
            reference=order.number, status=ReservationStatus.ACTIVE, expires_at=order.pay_by
        ).exists()
    # Customers in several cities, with coordinates.
    orders = CustomerOrder.objects.all()
    assert len(set(orders.values_list("city", flat=True))) >= 4
    assert not orders.filter(latitude__isnull=True).exists()
    # One order split across two sites.
    split = [
        o
        for o in orders
        if o.shipments.exclude(status=ShipmentStatus.CANCELLED).values("site").distinct().count()
        >= 2
    ]
    assert split
    # Shipments at CDC01 at every step of the floor; parcels tracked, some delivered.
    at_cdc = set(Shipment.objects.filter(site__code="CDC01").values_list("status", flat=True))
    assert {"delivered", "shipped", "packed", "checked", "picked", "picking"} <= at_cdc
    assert Parcel.objects.filter(status="delivered").exists()
    assert Parcel.objects.filter(status="shipped", tracking_number__isnull=False).exists()
    assert TrackingEvent.objects.filter(code="delivered").exists()
    # A released wave whose first list is partly picked by wh_operator, the second open.
    wave = Wave.objects.get(site__code="CDC01", status__in=["released", "picking"])
    lists = list(PickList.objects.filter(wave=wave).order_by("id"))
    assert [pl.status for pl in lists] == ["picking", "open"]
    assert lists[0].picker.username == "wh_operator"
    tasks = PickTask.objects.filter(pick_list=lists[0])
    assert tasks.filter(status=PickTaskStatus.PICKED).exists()
    assert tasks.filter(status=PickTaskStatus.OPEN).exists()
    assert all(pl.route_length_m for pl in lists)
    # Nothing promised twice: reservations match the balances and never exceed stock.
    assert verify_ledger() == []
    assert not Balance.objects.filter(reserved__gt=0).filter(reserved__gt=F("on_hand")).exists()
    for task in PickTask.objects.filter(status=PickTaskStatus.OPEN).select_related("reservation"):
        assert task.reservation.status == ReservationStatus.ACTIVE
        assert task.reservation.open_quantity >= task.quantity - task.picked - task.short


@pytest.mark.django_db
def test_no_online_orders_on_request():
    output = _demo(online_orders=0)

    assert "0 online orders" in output
    assert not CustomerOrder.objects.exists()
    assert ShipFromSite.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_same_seed_gives_the_same_online_orders():
    _demo()
    first = _orders_digest()

    _demo(reset=True)
    second = _orders_digest()

    assert first == second
    assert len(first) == 40
    assert verify_ledger() == []


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("光明 鲜牛奶 950ml", 950, 1100),
        ("农夫山泉 饮用天然水 550ml×24", 13_000, 15_000),
        ("福临门 东北大米 5kg", 5_000, 5_600),
        ("德青源 鲜鸡蛋 30枚", 1_600, 2_100),
        ("康师傅 红烧牛肉面 桶装", 100, 200),
        ("金龙鱼 花生油 5L", 4_500, 5_100),
        ("维达 抽纸 3层100抽×6包", 700, 1_200),
    ],
)
def test_unit_weights_are_plausible(name, low, high):
    from chainstore.demo import data

    line = next(ln for ln in data.LINES if any(item in name for item in ln.items))
    assert low <= unit_grams(line, name) <= high


def test_weighed_goods_weigh_a_kilogram_per_unit():
    from chainstore.demo import data

    line = next(ln for ln in data.LINES if ln.by_weight)
    assert unit_grams(line, "香蕉 散装称重") == 1000
