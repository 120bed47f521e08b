"""Lot trace for recalls: lot -> orders (masked customers, CSV) and order -> lots."""

import csv
import io

import pytest
from django.utils import translation

from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.core.testing import make_site
from chainstore.fulfilment.models import PickedStock
from chainstore.fulfilment.services import outbound
from chainstore.fulfilment.services.trace import (
    lots_for_order,
    mask_name,
    mask_phone,
    orders_for_lot,
    orders_for_lot_csv,
)
from chainstore.fulfilment.tests.test_outbound_support import build_world, expected_g, scan_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return build_world(admin)


def ship(world, shipment):
    scan_all(world, shipment)
    outbound.complete_check(shipment=shipment, actor=world.operator, weight_g=expected_g(shipment))
    outbound.pack(shipment=shipment, actor=world.operator)
    outbound.ship(shipment=shipment, actor=world.operator, idempotency_key=shipment.number)
    shipment.refresh_from_db()
    return shipment


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("李", "李*"), ("", "")]
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13800138000", "138****8000"), ("021-5555", "021****5555"), ("12345", "***45")],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


def test_lot_to_orders_lists_shipped_and_waiting_shipments(world):
    first = ship(world, world.picked((world.milk, 2), customer_name="王芳", phone="13912345678"))
    # the second order takes what is left of M-SOON: none; FEFO gives M-LATE
    waiting = world.picked((world.milk, 1), customer_name="李四")
    lots_first = dict(
        PickedStock.objects.filter(shipment_line__shipment=first).values_list(
            "lot__number", "quantity"
        )
    )
    assert lots_first == {"M-SOON": 1000, "M-LATE": 1000}

    rows = orders_for_lot(sku=world.milk, lot_number="M-LATE", actor=world.admin)
    assert [(r.shipment_number, r.quantity, r.status) for r in rows] == [
        (first.number, 1000, "shipped"),
        (waiting.number, 1000, "picked"),
    ]
    shipped = rows[0]
    assert (shipped.customer, shipped.phone, shipped.city) == ("王*", "139****5678", "上海")
    assert shipped.order_number == first.order.number
    assert shipped.shipped_at == first.shipped_at
    assert shipped.parcels == [first.parcels.get().tracking_number]
    assert rows[1].parcels == [] and rows[1].shipped_at is None

    soon = orders_for_lot(sku=world.milk, lot_number="M-SOON", actor=world.admin)
    assert [r.shipment_number for r in soon] == [first.number]

    with translation.override("en"):
        data = orders_for_lot_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0][:5] == ["Order number", "Shipment number", "Site", "Status", "Quantity"]
    assert table[1][:7] == [
        first.order.number,
        first.number,
        world.site.code,
        "shipped",
        "1",
        "王*",
        "139****5678",
    ]
    assert table[1][-1] == first.parcels.get().tracking_number
    assert "王芳" not in data.decode("utf-8-sig") and "13912345678" not in data.decode("utf-8-sig")


def test_unknown_lot_is_not_found(world):
    with pytest.raises(DomainError) as exc:
        orders_for_lot(sku=world.milk, lot_number="NOPE", actor=world.admin)
    assert exc.value.code == "lot_not_found"


def test_order_to_lots_shows_bin_picker_time_and_parcel(world):
    shipment = ship(world, world.picked((world.milk, 2), (world.noodles, 1)))
    rows = lots_for_order(order=shipment.order, actor=world.manager)
    number = shipment.parcels.get().tracking_number
    assert sorted((r.sku_code, r.lot_number, r.quantity, r.bin_code) for r in rows) == sorted(
        [
            (world.milk.code, "M-SOON", 1000, world.bin_a.code),
            (world.milk.code, "M-LATE", 1000, world.bin_b.code),
            (world.noodles.code, None, 1000, world.bin_a.code),
        ],
        key=str,
    )
    soon = next(r for r in rows if r.lot_number == "M-SOON")
    assert soon.expiry_date == world.soon
    assert soon.picked_by == world.operator.username and soon.picked_at is not None
    assert all(r.parcels == [number] for r in rows)
    assert {r.shipment_number for r in rows} == {shipment.number}


def test_trace_respects_role_and_site_scope(world, admin):
    shipment = ship(world, world.picked((world.milk, 1)))
    elsewhere = make_site(admin, "cdc")
    outsider = world.user("warehouse_manager", elsewhere)
    assert orders_for_lot(sku=world.milk, lot_number="M-SOON", actor=outsider) == []
    with pytest.raises(PermissionDenied) as exc:
        lots_for_order(order=shipment.order, actor=outsider)
    assert exc.value.code == "site_out_of_scope"
    auditor = world.user("auditor")
    assert len(orders_for_lot(sku=world.milk, lot_number="M-SOON", actor=auditor)) == 1
    for role in ("cashier", "warehouse_operator"):
        with pytest.raises(PermissionDenied):
            orders_for_lot(sku=world.milk, lot_number="M-SOON", actor=world.user(role, world.site))


def test_outbound_events_read_well_on_the_timeline(world):
    from chainstore.fulfilment.models import OrderEvent
    from chainstore.fulfilment.services.trace import describe_outbound_event
    from chainstore.fulfilment.services.tracking import run_simulated_carrier

    shipment = ship(world, world.picked((world.milk, 2)))
    run_simulated_carrier(steps=None)
    number = shipment.parcels.get().tracking_number
    with translation.override("en"):
        texts = {
            e.kind: describe_outbound_event(e.kind, e.data)
            for e in OrderEvent.objects.filter(shipment=shipment).order_by("at", "id")
        }
    assert texts["checked"] == "weight 2100 g, expected 2100 g, deviation 0 g"
    assert texts["packed"] == (
        f"parcel 1 (2100 g): {world.milk.code} × 1 [M-SOON], {world.milk.code} × 1 [M-LATE]"
    )
    assert texts["shipped"] == f"carrier sim, tracking {number}"
    assert texts["tracking"].startswith("Delivered · 上海 · ") and texts["tracking"].endswith(
        f"({number})"
    )
    assert texts["delivered"] == "every parcel delivered (1)"
    assert texts["picked"] is None
