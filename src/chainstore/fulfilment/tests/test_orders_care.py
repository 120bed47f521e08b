"""Order care: cancel at every stage, payment timeout, address changes, scope."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from chainstore.core.errors import InvalidState, PermissionDenied
from chainstore.core.testing import make_bin, make_sku, make_user
from chainstore.core.tests.helpers import on_hand, snapshot
from chainstore.fulfilment.models import (
    EventKind,
    OrderStatus,
    PickedStock,
    PickTask,
    PickTaskStatus,
    ShipmentStatus,
)
from chainstore.fulfilment.services.care import (
    PAYMENT_TIMEOUT,
    cancel_order,
    change_address,
    expire_unpaid,
)
from chainstore.fulfilment.services.intake import AddressInput, confirm_payment, create_order
from chainstore.fulfilment.tests.orders_world import (
    BEIJING,
    available,
    make_channel,
    open_reserved,
    order_input,
    put,
    ship_from,
)
from chainstore.inventory.services import pick_reserved
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.services import outbound_location

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    channel = make_channel()
    site, bin_ = ship_from(admin)
    milk = make_sku(admin, name="纯牛奶")
    put(admin, site, bin_, milk, 10)
    return channel, site, bin_, milk


def _order(admin, channel, milk, units=3, **kw):
    return create_order(
        channel_code=channel.code, payload=order_input([(milk, units)], **kw), actor=admin
    )


def _pick_all(order, actor, *, substitute=None, record_bin=False):
    """What the picking screen does: pick each task's reservation into outbound staging,
    from `substitute` instead of the reserved bin if given; `record_bin` fills
    PickedStock.from_location (rows written before that field existed leave it empty)."""
    for task in PickTask.objects.filter(shipment_line__order_line__order=order).select_related(
        "reservation", "shipment_line__shipment__site", "location"
    ):
        shipment = task.shipment_line.shipment
        staging = outbound_location(shipment.site)
        source = substitute or task.location
        pick_reserved(
            reservation=task.reservation,
            quantity=task.quantity,
            to_location=staging,
            actor=actor,
            reference=shipment.number,
            from_location=source,
        )
        PickedStock.objects.create(
            shipment_line=task.shipment_line,
            task=task,
            location=staging,
            from_location=source if record_bin else None,
            lot=task.lot,
            quantity=task.quantity,
        )
        PickTask.objects.filter(pk=task.pk).update(
            status=PickTaskStatus.PICKED, picked=task.quantity
        )
        task.shipment_line.picked += task.quantity
        task.shipment_line.save()
        shipment.status = ShipmentStatus.PICKED
        shipment.save()


def test_cancel_an_allocated_order_releases_its_stock(admin, world):
    channel, site, _bin, milk = world
    order = _order(admin, channel, milk)
    assert available(site, milk) == 7000

    cancelled = cancel_order(order, actor=admin, reason="customer asked")

    assert cancelled.status == OrderStatus.CANCELLED and cancelled.cancel_reason == "customer asked"
    assert cancelled.cancelled_at is not None
    assert available(site, milk) == 10_000 and open_reserved(site, milk) == 0
    assert order.shipments.get().status == ShipmentStatus.CANCELLED
    assert set(PickTask.objects.values_list("status", flat=True)) == {PickTaskStatus.CANCELLED}
    assert order.lines.get().allocated == 0
    event = order.events.get(kind=EventKind.CANCELLED)
    assert event.actor == admin and event.data["reason"] == "customer asked"
    assert verify_ledger() == []


def test_cancel_twice_is_a_replay(admin, world):
    channel, _site, _bin, milk = world
    order = _order(admin, channel, milk)
    cancel_order(order, actor=admin, reason="x")
    before = snapshot()

    again = cancel_order(order, actor=admin, reason="y")

    assert again.replayed is True and again.cancel_reason == "x"
    assert snapshot() == before
    assert order.events.filter(kind=EventKind.CANCELLED).count() == 1


def test_cancel_a_waved_order(admin, world):
    channel, site, _bin, milk = world
    order = _order(admin, channel, milk)
    order.shipments.update(status=ShipmentStatus.WAVED)

    cancel_order(order, actor=admin, reason="x")

    assert available(site, milk) == 10_000
    assert order.shipments.get().status == ShipmentStatus.CANCELLED


def test_cancel_after_pick_puts_the_stock_back_in_its_bin(admin, world):
    channel, site, bin_, milk = world
    order = _order(admin, channel, milk)
    _pick_all(order, admin)
    staging = outbound_location(site)
    assert on_hand(staging, milk) == 3000 and on_hand(bin_, milk) == 7000

    cancel_order(order, actor=admin, reason="changed mind")

    assert on_hand(staging, milk) == 0
    assert on_hand(bin_, milk) == 10_000 and available(site, milk) == 10_000
    put_back = order.events.get(kind=EventKind.CANCELLED).data["put_back"]
    assert put_back == [
        {
            "sku": milk.code,
            "lot": "",
            "from": staging.code,
            "bin": bin_.code,
            "quantity": "3.000",
            "shipment": order.shipments.get().number,
        }
    ]
    assert verify_ledger() == []


def test_cancel_after_a_substituted_pick_puts_the_stock_back_where_it_was_taken(admin, world):
    channel, site, bin_, milk = world
    order = _order(admin, channel, milk)
    assert PickTask.objects.get().location == bin_
    other = make_bin(admin, site)
    put(admin, site, other, milk, 4)
    _pick_all(order, admin, substitute=other, record_bin=True)
    assert on_hand(other, milk) == 1000 and on_hand(bin_, milk) == 10_000

    cancel_order(order, actor=admin, reason="changed mind")

    assert on_hand(other, milk) == 4000 and on_hand(bin_, milk) == 10_000
    assert on_hand(outbound_location(site), milk) == 0
    assert available(site, milk) == 14_000
    [put_back] = order.events.get(kind=EventKind.CANCELLED).data["put_back"]
    assert put_back["bin"] == other.code
    assert verify_ledger() == []


def test_cancel_of_a_pick_without_its_bin_recorded_falls_back_to_the_task_bin(admin, world):
    channel, site, bin_, milk = world
    order = _order(admin, channel, milk)
    _pick_all(order, admin)
    assert PickedStock.objects.get().from_location is None

    cancel_order(order, actor=admin, reason="changed mind")

    assert on_hand(bin_, milk) == 10_000 and available(site, milk) == 10_000


def test_nothing_can_be_cancelled_or_readdressed_once_shipped(admin, world):
    channel, _site, _bin, milk = world
    order = _order(admin, channel, milk)
    order.shipments.update(status=ShipmentStatus.SHIPPED)
    before = snapshot()

    with pytest.raises(InvalidState) as cancel:
        cancel_order(order, actor=admin, reason="late")
    with pytest.raises(InvalidState) as readdress:
        change_address(order, actor=admin, address=AddressInput(address="新地址"))

    assert cancel.value.code == readdress.value.code == "order_shipped"
    assert snapshot() == before
    order.refresh_from_db()
    assert order.status != OrderStatus.CANCELLED and order.address == "世纪大道100号"


def test_unpaid_orders_expire_after_pay_by_and_release_stock(admin, world):
    channel, site, _bin, milk = world
    placed = timezone.now() - dt.timedelta(minutes=40)
    stale = _order(admin, channel, milk, units=2, paid=False, placed_at=placed)
    fresh = _order(admin, channel, milk, units=3, paid=False)
    paid_late = _order(admin, channel, milk, units=1, paid=False, placed_at=placed)
    confirm_payment(paid_late, actor=admin)
    assert available(site, milk) == 4000

    expired = expire_unpaid()

    assert [o.pk for o in expired] == [stale.pk]
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == OrderStatus.CANCELLED and stale.cancel_reason == PAYMENT_TIMEOUT
    assert fresh.status == OrderStatus.PENDING_PAYMENT
    assert available(site, milk) == 6000
    event = stale.events.get(kind=EventKind.CANCELLED)
    assert event.actor is None and event.data["reason"] == PAYMENT_TIMEOUT
    with pytest.raises(InvalidState) as exc:
        confirm_payment(stale, actor=admin)
    assert exc.value.code == "order_cancelled"
    assert expire_unpaid(now=timezone.now() + dt.timedelta(hours=1))[0].pk == fresh.pk
    assert available(site, milk) == 9000 and verify_ledger() == []


def test_fulfilment_tick_command_expires_and_retries(admin, world, capsys):
    channel, _site, _bin, milk = world
    placed = timezone.now() - dt.timedelta(hours=1)
    unpaid = _order(admin, channel, milk, units=10, paid=False, placed_at=placed)
    waiting = _order(admin, channel, milk, units=4)
    assert waiting.status == OrderStatus.BACKORDER

    call_command("fulfilment_tick")

    out = capsys.readouterr().out
    unpaid.refresh_from_db()
    waiting.refresh_from_db()
    assert unpaid.status == OrderStatus.CANCELLED
    assert waiting.status == OrderStatus.ALLOCATED
    assert unpaid.number in out and waiting.number in out
    assert verify_ledger() == []


def test_address_change_is_recorded_with_old_and_new(admin, world):
    channel, _site, _bin, milk = world
    order = _order(admin, channel, milk)

    changed = change_address(
        order,
        actor=admin,
        customer_name="李四",
        address=AddressInput(province="浙江", city="杭州", address="西湖区文三路1号"),
    )

    assert (changed.customer_name, changed.city, changed.address) == (
        "李四",
        "杭州",
        "西湖区文三路1号",
    )
    assert changed.latitude is None and changed.resourced is False
    event = order.events.get(kind=EventKind.ADDRESS_CHANGED)
    assert event.data["old"]["city"] == "上海" and event.data["new"]["city"] == "杭州"
    assert event.data["old"]["customer_name"] == "张三"


def test_address_change_with_resource_moves_an_unwaved_order(admin, world):
    channel, site, _bin, milk = world
    far, far_bin = ship_from(admin, at=BEIJING)
    put(admin, far, far_bin, milk, 10)
    order = _order(admin, channel, milk)
    assert order.shipments.get().site == site

    changed = change_address(
        order,
        actor=admin,
        address=AddressInput(
            address="朝阳区1号", city="北京", latitude=BEIJING[0], longitude=BEIJING[1]
        ),
        resource=True,
    )

    assert changed.resourced is True
    live = order.shipments.exclude(status=ShipmentStatus.CANCELLED).get()
    assert live.site == far
    assert available(site, milk) == 10_000 and available(far, milk) == 7000


def test_address_change_does_not_resource_a_waved_order(admin, world):
    channel, _site, _bin, milk = world
    order = _order(admin, channel, milk)
    order.shipments.update(status=ShipmentStatus.WAVED)

    changed = change_address(
        order, actor=admin, address=AddressInput(address="新地址"), resource=True
    )

    assert changed.resourced is False and changed.address == "新地址"
    assert order.shipments.get().status == ShipmentStatus.WAVED
    assert order.events.get(kind=EventKind.ADDRESS_CHANGED).data["resourced"] is False


def test_site_scoped_managers_act_only_on_orders_at_their_sites(admin, world):
    channel, site, _bin, milk = world
    other, _other_bin = ship_from(admin, at=BEIJING)
    here = make_user("warehouse_manager", sites=[site])
    there = make_user("warehouse_manager", sites=[other])
    order = _order(admin, channel, milk)

    with pytest.raises(PermissionDenied) as exc:
        cancel_order(order, actor=there, reason="x")
    assert exc.value.code == "site_out_of_scope"
    cancel_order(order, actor=here, reason="x")

    backordered = _order(admin, channel, make_sku(admin))
    with pytest.raises(PermissionDenied):  # no shipment anywhere: chain-level staff only
        cancel_order(backordered, actor=here, reason="x")
    with pytest.raises(PermissionDenied):
        cancel_order(order, actor=make_user("warehouse_operator", sites=[site]), reason="x")
