"""Review of order intake, sourcing and order care (R1): each test pins one bug found in
review (it failed before the fix)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from chainstore.accounts.services import issue_token
from chainstore.core.testing import make_sku, make_user
from chainstore.core.tests.helpers import API, bearer, snapshot
from chainstore.fulfilment.models import CustomerOrder, EventKind
from chainstore.fulfilment.services.intake import create_order
from chainstore.fulfilment.tests.orders_world import (
    make_channel,
    order_input,
    put,
    ship_from,
)

pytestmark = pytest.mark.django_db

F = API + "/fulfilment"


@pytest.fixture
def world(admin):
    channel = make_channel()
    site, bin_ = ship_from(admin)
    milk = make_sku(admin, name="纯牛奶", weight_g=260)
    put(admin, site, bin_, milk, 10)
    return channel, site, bin_, milk


@pytest.fixture
def integrator(db):
    user = make_user("integrator")
    _token, secret = issue_token(user=user, name="tmall")
    return Client(**bearer(secret))


def _body(milk, order_id="TB-1", **extra):
    body = {
        "channel": "TM01",
        "channel_order_id": order_id,
        "paid": True,
        "customer": {"name": "张三", "phone": "13800138000"},
        "address": {"city": "上海市", "address": "世纪大道100号"},
        "lines": [{"sku": milk.code, "quantity": "2", "unit_price": "9.90"}],
    }
    body.update(extra)
    return body


def _post(client, path, body, **extra):
    return client.post(F + path, body, content_type="application/json", **extra)


@pytest.mark.parametrize(
    "change",
    [
        {"placed_at": "2026-01-05T10:00:00"},
        {"paid": False, "pay_by": "2026-01-05T10:00:00"},
        {"paid": False, "placed_at": "2026-01-05T10:00:00+08:00", "pay_by": "2026-01-05T11:00"},
    ],
)
def test_naive_datetimes_are_422_not_500(world, integrator, change):
    _channel, _site, _bin, milk = world
    before = snapshot()

    res = _post(integrator, "/orders", _body(milk, **change))

    assert res.status_code == 422, res.content
    assert res.json()["code"] == "naive_datetime"
    assert snapshot() == before


def test_order_amount_beyond_storage_is_422_not_500(world, integrator):
    _channel, _site, _bin, milk = world
    huge = {"sku": milk.code, "quantity": "999999999", "unit_price": "9999999999.99"}

    res = _post(integrator, "/orders", _body(milk, lines=[huge]))

    assert res.status_code == 422, res.content
    assert res.json()["code"] == "amount_too_large"
    assert CustomerOrder.objects.count() == 0


def test_resource_answers_the_new_status(admin, world):
    channel, site, bin_, milk = world
    order = create_order(channel_code=channel.code, payload=order_input([(milk, 12)]), actor=admin)
    assert order.status == "backorder"
    put(admin, site, bin_, milk, 5)
    client = Client()
    client.force_login(admin)

    res = client.post(F + f"/orders/{order.number}/resource", content_type="application/json")

    assert res.status_code == 200, res.content
    assert res.json()["order_lines"][0]["backordered"] == "0.000"
    assert res.json()["status"] == "allocated"


def test_order_list_queries_do_not_grow_with_orders(admin, world, integrator):
    channel, _site, _bin, milk = world
    client = Client()
    client.force_login(admin)

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as api:
            assert client.get(F + "/orders").status_code == 200
        with CaptureQueriesContext(connection) as page:
            assert client.get("/fulfilment/orders/").status_code == 200
        return len(api), len(page)

    create_order(channel_code=channel.code, payload=order_input([(milk, 1)]), actor=admin)
    one = count()
    for _ in range(4):
        create_order(channel_code=channel.code, payload=order_input([(milk, 1)]), actor=admin)

    assert count() == one


def test_naive_paid_at_on_pay_is_422(admin, world):
    channel, _site, _bin, milk = world
    order = create_order(
        channel_code=channel.code, payload=order_input([(milk, 1)], paid=False), actor=admin
    )
    client = Client()
    client.force_login(admin)

    res = client.post(
        F + f"/orders/{order.number}/pay",
        {"paid_at": "2026-01-05T10:00:00"},
        content_type="application/json",
    )

    assert res.status_code == 422, res.content
    assert res.json()["code"] == "naive_datetime"
    order.refresh_from_db()
    assert order.paid_at is None and order.status == "pending_payment"


def test_address_change_delivered_twice_changes_the_order_once(admin, world, integrator):
    channel, _site, _bin, milk = world
    order = create_order(channel_code=channel.code, payload=order_input([(milk, 1)]), actor=admin)
    event = {
        "event": "order.address_changed",
        "data": {
            "channel_order_id": order.channel_order_id,
            "address": {
                "city": "上海市",
                "address": "南京路1号",
                "latitude": "31.2304",
                "longitude": "121.4737",
            },
            "resource": True,
        },
    }

    first = _post(integrator, "/channels/TM01/webhook", event)
    again = _post(integrator, "/channels/TM01/webhook", event)

    assert first.status_code == again.status_code == 200, again.content
    assert order.events.filter(kind=EventKind.ADDRESS_CHANGED).count() == 1
    assert order.sourcing_decisions.filter(trigger="resource").count() == 1


def test_blank_receiver_in_an_address_change_keeps_the_receiver(admin, world, integrator):
    channel, _site, _bin, milk = world
    order = create_order(channel_code=channel.code, payload=order_input([(milk, 1)]), actor=admin)

    res = _post(
        integrator,
        f"/orders/{order.number}/address",
        {"customer": {"name": "  ", "phone": " "}, "address": {"address": "南京路1号"}},
    )

    assert res.status_code == 200, res.content
    assert res.json()["customer_name"] == "张三" and res.json()["phone"] == "13800138000"


@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01"])
def test_extreme_filter_dates_are_not_500(admin, world, query):
    channel, _site, _bin, milk = world
    order = create_order(channel_code=channel.code, payload=order_input([(milk, 1)]), actor=admin)
    client = Client(raise_request_exception=False)
    client.force_login(admin)

    api = client.get(F + "/orders?" + query)
    page = client.get("/fulfilment/orders/?" + query)

    assert api.status_code == 200, api.content
    assert [o["number"] for o in api.json()["items"]] == [order.number]
    assert page.status_code == 200 and order.number in page.content.decode()
