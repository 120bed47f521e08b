"""The orders API through the mounted URLs: intake, webhook, reads, care, settings."""

import csv
import io

import pytest
from django.test import Client

from chainstore.accounts.services import issue_token
from chainstore.core.testing import ean13, make_sku, make_user
from chainstore.core.tests.helpers import API, bearer, snapshot
from chainstore.fulfilment.models import (
    CustomerOrder,
    EventKind,
    SalesChannel,
    ShipFromSite,
    SourcingPolicy,
)
from chainstore.fulfilment.tests.orders_world import (
    BEIJING,
    available,
    make_channel,
    put,
    ship_from,
)
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db

F = API + "/fulfilment"


@pytest.fixture
def world(admin):
    channel = make_channel()
    site, bin_ = ship_from(admin)
    milk = make_sku(admin, name="纯牛奶", weight_g=260)
    put(admin, site, bin_, milk, 10)
    return channel, site, milk


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
        "address": {
            "province": "上海",
            "city": "上海市",
            "address": "世纪大道100号",
            "latitude": "31.230400",
            "longitude": "121.473700",
        },
        "lines": [{"sku": milk.code, "quantity": "2", "unit_price": "9.90"}],
        "shipping_fee": "6.00",
    }
    body.update(extra)
    return body


def _post(client, path, body, **extra):
    return client.post(F + path, body, content_type="application/json", **extra)


def test_post_order_201_then_replay_200_then_conflict_409(world, integrator):
    _channel, site, milk = world

    first = _post(integrator, "/orders", _body(milk), HTTP_IDEMPOTENCY_KEY="k-1")
    replay = _post(integrator, "/orders", _body(milk), HTTP_IDEMPOTENCY_KEY="k-1")
    before = snapshot()
    conflict = _post(
        integrator, "/orders", _body(milk, lines=[{"sku": milk.code, "quantity": "3"}])
    )
    reused = _post(integrator, "/orders", _body(milk, order_id="TB-2"), HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == 201, first.content
    order = first.json()
    assert order["status"] == "allocated" and order["sites"] == [site.code]
    assert order["goods"] == "19.80" and order["shipping_fee"] == "6.00"
    assert order["order_lines"][0]["allocated"] == "2.000"
    assert order["order_lines"][0]["backordered"] == "0.000"
    assert order["decisions"][0]["candidates"][0]["site"] == site.code
    assert order["replayed"] is False
    assert replay.status_code == 200 and replay.json()["replayed"] is True
    assert replay.json()["number"] == order["number"]
    assert conflict.status_code == 409 and conflict.json()["code"] == "order_conflict"
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    assert snapshot() == before and CustomerOrder.objects.count() == 1
    assert available(site, milk) == 8000


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"lines": [{"sku": "NOPE", "quantity": "1"}]}, 422, "unknown_sku"),
        ({"lines": [{"barcode": ean13(987_654), "quantity": "1"}]}, 422, "unknown_barcode"),
        ({"lines": [{"sku": "X", "quantity": "0"}]}, 422, "validation_error"),
        ({"lines": [{"quantity": "1"}]}, 422, "validation_error"),
        ({"lines": []}, 422, "validation_error"),
        ({"channel": "NOPE"}, 404, "channel_not_found"),
        ({"address": {"address": ""}}, 422, "address_required"),
    ],
)
def test_post_order_refusals(world, integrator, change, status, code):
    _channel, _site, milk = world

    res = _post(integrator, "/orders", _body(milk, **change))

    assert res.status_code == status, res.content
    assert res.json()["code"] == code
    assert CustomerOrder.objects.count() == 0


def test_unknown_sku_names_the_line(world, integrator):
    _channel, _site, milk = world
    lines = [{"sku": milk.code, "quantity": "1"}, {"sku": "NOPE", "quantity": "1"}]

    res = _post(integrator, "/orders", _body(milk, lines=lines))

    assert res.json()["details"] == {"line": 2, "sku": "NOPE"}


def test_authentication_and_roles(world):
    _channel, site, milk = world
    anonymous = _post(Client(), "/orders", _body(milk))
    cashier = Client()
    cashier.force_login(make_user("cashier", sites=[site]))

    refused = _post(cashier, "/orders", _body(milk))

    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert CustomerOrder.objects.count() == 0


def test_webhook_events_drive_the_order(world, integrator):
    _channel, site, milk = world
    data = _body(milk, paid=False)
    del data["channel"]

    created = _post(integrator, "/channels/TM01/webhook", {"event": "order.created", "data": data})
    again = _post(integrator, "/channels/TM01/webhook", {"event": "order.created", "data": data})
    paid = _post(
        integrator,
        "/channels/TM01/webhook",
        {"event": "order.paid", "data": {"channel_order_id": "TB-1"}},
    )
    moved = _post(
        integrator,
        "/channels/TM01/webhook",
        {
            "event": "order.address_changed",
            "data": {
                "channel_order_id": "TB-1",
                "customer": {"phone": "13900000000"},
                "address": {"city": "北京", "address": "朝阳区1号"},
            },
        },
    )
    cancelled = _post(
        integrator,
        "/channels/TM01/webhook",
        {"event": "order.cancelled", "data": {"channel_order_id": "TB-1", "reason": "买家取消"}},
    )
    cancelled_again = _post(
        integrator,
        "/channels/TM01/webhook",
        {"event": "order.cancelled", "data": {"channel_order_id": "TB-1"}},
    )

    assert created.status_code == 201 and created.json()["order"]["status"] == "pending_payment"
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert paid.status_code == 200 and paid.json()["order"]["status"] == "allocated"
    assert moved.status_code == 200 and moved.json()["order"]["phone"] == "13900000000"
    assert moved.json()["order"]["city"] == "北京"
    assert cancelled.status_code == 200 and cancelled.json()["order"]["status"] == "cancelled"
    assert cancelled.json()["order"]["cancel_reason"] == "买家取消"
    assert cancelled_again.json()["replayed"] is True
    assert available(site, milk) == 10_000 and verify_ledger() == []


def test_webhook_refusals(world, integrator):
    _channel, _site, _milk = world

    bad_event = _post(integrator, "/channels/TM01/webhook", {"event": "order.eaten", "data": {}})
    bad_data = _post(
        integrator, "/channels/TM01/webhook", {"event": "order.created", "data": {"lines": []}}
    )
    unknown = _post(
        integrator,
        "/channels/TM01/webhook",
        {"event": "order.paid", "data": {"channel_order_id": "NOPE"}},
    )

    assert bad_event.status_code == 422
    assert bad_data.status_code == 422 and bad_data.json()["code"] == "validation_error"
    assert bad_data.json()["details"]["errors"][0]["loc"][0] == "data"
    assert unknown.status_code == 404 and unknown.json()["code"] == "order_not_found"


def test_list_filters_paginates_and_scopes(admin, world, integrator):
    _channel, site, milk = world
    other, other_bin = ship_from(admin, at=BEIJING)
    put(admin, other, other_bin, milk, 10)
    for n in range(3):
        assert _post(integrator, "/orders", _body(milk, order_id=f"A-{n}")).status_code == 201
    ShipFromSite.objects.filter(site=site).update(enabled=False)
    far = _post(
        integrator,
        "/orders",
        _body(milk, order_id="B-1", customer={"name": "李四", "phone": "139"}),
    )
    assert far.json()["sites"] == [other.code]
    manager = Client()
    manager.force_login(make_user("warehouse_manager", sites=[other]))

    everything = integrator.get(F + "/orders", {"limit": 2})
    by_site = integrator.get(F + "/orders", {"site": other.code})
    by_name = integrator.get(F + "/orders", {"q": "李四"})
    by_status = integrator.get(F + "/orders", {"status": "backorder"})
    scoped = manager.get(F + "/orders")
    hidden = manager.get(F + f"/orders/{everything.json()['items'][1]['number']}")
    bad = integrator.get(F + "/orders", {"status": "lost"})

    assert everything.json()["count"] == 4 and len(everything.json()["items"]) == 2
    assert everything.json()["items"][0]["number"] == far.json()["number"]
    assert [o["channel_order_id"] for o in by_site.json()["items"]] == ["B-1"]
    assert [o["channel_order_id"] for o in by_name.json()["items"]] == ["B-1"]
    assert by_status.json()["count"] == 0
    assert [o["channel_order_id"] for o in scoped.json()["items"]] == ["B-1"]
    assert hidden.status_code == 403 and hidden.json()["code"] == "site_out_of_scope"
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_status"
    assert integrator.get(F + "/orders/SO-NOPE").json()["code"] == "order_not_found"


def test_timeline_json_and_csv(world, integrator):
    _channel, _site, milk = world
    number = _post(integrator, "/orders", _body(milk)).json()["number"]
    _post(integrator, f"/orders/{number}/cancel", {"reason": "=HYPERLINK(1)"})

    events = integrator.get(F + f"/orders/{number}/timeline").json()
    export = integrator.get(F + f"/orders/{number}/timeline.csv")

    assert [e["kind"] for e in events] == ["received", "sourced", "reserved", "cancelled"]
    assert events[2]["data"]["lines"][0]["quantity"] == "2.000"
    assert events[0]["actor"].startswith("integrator")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert f"{number}-timeline.csv" in export["Content-Disposition"]
    text = export.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 5
    assert rows[0][1] in ("Event", "事件") and rows[4][1] in ("Cancelled", "已取消")
    assert "=HYPERLINK(1)" in rows[4][5]
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_care_endpoints(admin, world, integrator):
    _channel, site, milk = world
    unpaid = _post(integrator, "/orders", _body(milk, paid=False)).json()["number"]

    paid = _post(integrator, f"/orders/{unpaid}/pay", {})
    paid_again = _post(integrator, f"/orders/{unpaid}/pay", {})
    far, far_bin = ship_from(admin, at=BEIJING)
    put(admin, far, far_bin, milk, 5)
    moved = _post(
        integrator,
        f"/orders/{unpaid}/address",
        {
            "address": {
                "city": "北京",
                "address": "朝阳区1号",
                "latitude": str(BEIJING[0]),
                "longitude": str(BEIJING[1]),
            },
            "resource": True,
        },
    )
    resourced = _post(integrator, f"/orders/{unpaid}/resource", {})
    cancelled = _post(integrator, f"/orders/{unpaid}/cancel", {"reason": "no"})
    after = _post(integrator, f"/orders/{unpaid}/resource", {})
    no_reason = _post(integrator, f"/orders/{unpaid}/cancel", {})

    assert paid.status_code == 200 and paid.json()["status"] == "allocated"
    assert paid_again.json()["replayed"] is True
    assert moved.status_code == 200 and moved.json()["sites"] == [far.code]
    assert resourced.status_code == 200 and len(resourced.json()["decisions"]) == 3
    assert cancelled.json()["status"] == "cancelled"
    assert after.status_code == 409 and after.json()["code"] == "order_cancelled"
    assert no_reason.status_code == 422
    assert available(site, milk) == 10_000 and available(far, milk) == 5000


def test_settings_endpoints(admin, world, integrator):
    _channel, site, _milk = world
    hq = Client()
    hq.force_login(make_user("hq_planner"))
    manager = Client()
    manager.force_login(make_user("warehouse_manager", sites=[site]))
    custom = {
        "strategy": "custom",
        "weight_distance": "2.5",
        "weight_shipments": "50",
        "weight_cost": "1",
        "max_candidates": 8,
        "max_shipments": 2,
        "allow_split": True,
        "time_budget_ms": 300,
    }

    default = manager.get(F + "/sourcing-policy")
    refused = manager.put(F + "/sourcing-policy", custom, content_type="application/json")
    saved = hq.put(F + "/sourcing-policy", custom, content_type="application/json")
    nearest = hq.put(
        F + "/sourcing-policy", {**custom, "strategy": "nearest"}, content_type="application/json"
    )
    sites = hq.put(
        F + "/ship-from-sites",
        [{"site": site.code, "enabled": False, "base_cost": "6.50", "per_kg_cost": "1.20"}],
        content_type="application/json",
    )
    channel = _post(
        hq,
        "/channels",
        {"code": "JD01", "name": "京东自营", "platform": "jd", "payment_timeout_minutes": 15},
    )
    channel_again = _post(hq, "/channels", {"code": "JD01", "name": "京东旗舰店", "platform": "jd"})
    listed = integrator.get(F + "/channels")

    assert default.status_code == 200 and default.json()["strategy"] == "fewest"
    assert refused.status_code == 403
    assert saved.status_code == 200 and saved.json()["effective_weights"] == {
        "distance": 2.5,
        "shipments": 50.0,
        "cost": 1.0,
    }
    assert nearest.json()["effective_weights"]["shipments"] == 1.0
    assert SourcingPolicy.objects.get().max_shipments == 2
    row = next(r for r in sites.json() if r["site"] == site.code)
    assert row == {
        "site": site.code,
        "name": site.name,
        "kind": site.kind,
        "is_active": True,
        "enabled": False,
        "base_cost": "6.50",
        "per_kg_cost": "1.20",
        "priority": 0,
        "cutoff_time": None,
    }
    assert channel.status_code == 201 and channel.json()["payment_timeout_minutes"] == 15
    assert channel_again.status_code == 200 and channel_again.json()["name"] == "京东旗舰店"
    assert SalesChannel.objects.get(code="JD01").payment_timeout_minutes == 30
    assert [c["code"] for c in listed.json()] == ["JD01", "TM01"]


def test_intake_query_count_does_not_grow_with_stock_history(
    admin, world, integrator, django_assert_max_num_queries
):
    _channel, site, milk = world
    bin_ = site.locations.get(kind="storage")
    for _ in range(20):  # more receipts, more ledger rows: the same work per order
        put(admin, site, bin_, milk, 1)

    with django_assert_max_num_queries(110):
        res = _post(integrator, "/orders", _body(milk, order_id="Q-1"))

    assert res.status_code == 201
    assert CustomerOrder.objects.get().events.filter(kind=EventKind.RESERVED).count() == 1
