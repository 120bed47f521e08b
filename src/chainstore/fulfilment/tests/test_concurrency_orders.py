"""Real concurrency on PostgreSQL: orders from many threads at once (each with its own
connection, released together by a barrier) racing for the last units at two sites, replays
of one channel order, and a payment racing its timeout. Never oversold, nothing twice."""

import datetime as dt

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from chainstore.accounts.services import issue_token
from chainstore.core.testing import make_sku, make_user
from chainstore.core.tests.helpers import API, bearer
from chainstore.fulfilment.models import (
    CustomerOrder,
    EventKind,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from chainstore.fulfilment.services.care import expire_unpaid
from chainstore.fulfilment.services.intake import confirm_payment, create_order
from chainstore.fulfilment.tests.orders_world import (
    BEIJING,
    make_channel,
    order_input,
    policy,
    put,
    ship_from,
)
from chainstore.inventory.models import Balance, Reservation, ReservationStatus
from chainstore.inventory.tests.concurrency import run_together
from chainstore.inventory.verify import verify_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 12


def _world(admin, near_units, far_units):
    policy()  # saved up front, as in any running chain
    channel = make_channel()
    near, near_bin = ship_from(admin)
    far, far_bin = ship_from(admin, at=BEIJING)
    hot = make_sku(admin, name="爆款")
    put(admin, near, near_bin, hot, near_units)
    if far_units:
        put(admin, far, far_bin, hot, far_units)
    return channel, near, far, hot


def test_orders_racing_for_the_last_units_never_oversell(admin):
    channel, near, far, hot = _world(admin, near_units=3, far_units=4)
    integrator = make_user("integrator")

    def work(i):
        units = 1 if i % 3 else 2  # 8 orders of 1 and 4 of 2: 16 units wanted, 7 in stock
        return create_order(
            channel_code=channel.code,
            payload=order_input([(hot, units)], order_id=f"RACE-{i}", paid=i % 2 == 0),
            actor=integrator,
        )

    results = run_together(THREADS, work)

    assert all(isinstance(r, CustomerOrder) for r in results), results
    lines = OrderLine.objects.filter(order__channel=channel)
    allocated = lines.aggregate(s=Sum("allocated"))["s"]
    assert allocated == 7000  # everything in stock is promised, once
    for line in lines:
        assert line.allocated + line.backordered == line.quantity
        assert line.allocated in (0, line.quantity) or line.quantity == 2000
    live = ShipmentLine.objects.exclude(shipment__status=ShipmentStatus.CANCELLED)
    assert live.aggregate(s=Sum("quantity"))["s"] == 7000
    for site, units in ((near, 3000), (far, 4000)):
        held = Reservation.objects.filter(site=site, sku=hot, status=ReservationStatus.ACTIVE)
        assert held.aggregate(s=Sum("open_quantity"))["s"] == units
        balances = Balance.objects.filter(site=site, sku=hot)
        assert all(b.on_hand >= b.reserved >= 0 for b in balances)
    statuses = {o.status for o in CustomerOrder.objects.all()}
    assert statuses <= {OrderStatus.ALLOCATED, OrderStatus.BACKORDER, OrderStatus.PENDING_PAYMENT}
    assert verify_ledger() == []


def test_parallel_posts_of_one_channel_order_create_one_order_over_http(admin):
    channel, near, _far, hot = _world(admin, near_units=50, far_units=0)
    user = make_user("integrator")
    _token, secret = issue_token(user=user, name="tmall")
    body = {
        "channel": channel.code,
        "channel_order_id": "DUP-1",
        "paid": True,
        "customer": {"name": "张三", "phone": "13800138000"},
        "address": {"address": "世纪大道100号", "latitude": "31.2304", "longitude": "121.4737"},
        "lines": [{"sku": hot.code, "quantity": "3"}],
    }

    def work(i):
        response = Client(**bearer(secret)).post(
            API + "/fulfilment/orders", body, content_type="application/json"
        )
        return response.status_code, response.json()["number"]

    results = run_together(8, work)

    assert sorted(code for code, _n in results) == [200] * 7 + [201], results
    assert len({number for _c, number in results}) == 1
    assert CustomerOrder.objects.count() == 1 and Shipment.objects.count() == 1
    assert OrderEvent.objects.filter(kind=EventKind.RECEIVED).count() == 1
    held = Reservation.objects.filter(site=near, status=ReservationStatus.ACTIVE)
    assert held.aggregate(s=Sum("open_quantity"))["s"] == 3000
    assert verify_ledger() == []


def test_two_orders_racing_with_one_idempotency_key_only_one_wins(admin):
    channel, near, _far, hot = _world(admin, near_units=50, far_units=0)
    user = make_user("integrator")
    _token, secret = issue_token(user=user, name="tmall")

    def work(i):
        body = {
            "channel": channel.code,
            "channel_order_id": "KEY-A" if i % 2 else "KEY-B",  # 4 posts of each order
            "paid": True,
            "customer": {"name": "张三", "phone": "13800138000"},
            "address": {"address": "世纪大道100号", "latitude": "31.2304", "longitude": "121.4737"},
            "lines": [{"sku": hot.code, "quantity": "2"}],
        }
        response = Client(**bearer(secret)).post(
            API + "/fulfilment/orders",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="K-RACE",
        )
        return body["channel_order_id"], response.status_code, response.json()

    results = run_together(8, work)

    order = CustomerOrder.objects.get()  # exactly one order, holding the key
    assert order.idempotency_key == "K-RACE"
    for channel_order_id, code, body in results:
        if channel_order_id == order.channel_order_id:
            assert code in (200, 201) and body["number"] == order.number, body
        else:
            assert code == 409 and body["code"] == "idempotency_key_reused", body
    assert sorted(code for _o, code, _b in results) == [200] * 3 + [201] + [409] * 4
    held = Reservation.objects.filter(site=near, status=ReservationStatus.ACTIVE)
    assert held.aggregate(s=Sum("open_quantity"))["s"] == 2000
    assert verify_ledger() == []


def test_payment_racing_its_timeout_is_either_paid_or_cancelled(admin):
    channel, near, _far, hot = _world(admin, near_units=20, far_units=0)
    placed = timezone.now() - dt.timedelta(hours=1)
    orders = [
        create_order(
            channel_code=channel.code,
            payload=order_input([(hot, 1)], order_id=f"PAY-{n}", paid=False, placed_at=placed),
            actor=admin,
        )
        for n in range(6)
    ]

    def work(i):
        if i == 0:
            return expire_unpaid()
        try:
            return confirm_payment(orders[i - 1], actor=admin)
        except Exception as exc:  # the timeout won: order_cancelled
            return exc

    results = run_together(7, work)

    for order, outcome in zip(orders, results[1:], strict=True):
        order.refresh_from_db()
        if order.status == OrderStatus.CANCELLED:
            assert getattr(outcome, "code", None) == "order_cancelled"
            assert order.paid_at is None
        else:
            assert order.paid_at is not None and order.status == OrderStatus.ALLOCATED
    cancelled = CustomerOrder.objects.filter(status=OrderStatus.CANCELLED).count()
    held = Reservation.objects.filter(site=near, status=ReservationStatus.ACTIVE)
    assert (held.aggregate(s=Sum("open_quantity"))["s"] or 0) == (6 - cancelled) * 1000
    assert verify_ledger() == []
