import pytest

from chainstore.core.testing import make_sku, stock
from chainstore.core.tests.helpers import API, post, reserved, snapshot
from chainstore.inventory import services
from chainstore.inventory.models import Lot
from chainstore.inventory.tests.conftest import days

pytestmark = pytest.mark.django_db


def test_reserve_list_release(api, admin, warehouse, sku):
    loc = warehouse.stock_location
    stock(admin, warehouse, sku, 5_000, location=loc)
    body = {"site": warehouse.code, "sku": sku.code, "quantity": "2", "reference": "SO-9"}
    res = post(api, "/inventory/reservations", body, key="r-1")
    assert res.status_code == 201, res.content
    (reservation,) = res.json()["reservations"]
    assert (reservation["quantity"], reservation["status"], reservation["reference"]) == (
        "2.000",
        "active",
        "SO-9",
    )
    assert reserved(loc, sku) == 2_000

    listed = api.get(f"{API}/inventory/reservations", {"site": warehouse.code}).json()
    assert listed["count"] == 1
    assert listed["items"][0]["id"] == reservation["id"]

    rid = reservation["id"]
    res = post(api, f"/inventory/reservations/{rid}/release", {"quantity": "0.5"}, key="rel-1")
    assert res.status_code == 200, res.content
    assert res.json()["open_quantity"] == "1.500"
    replay = post(api, f"/inventory/reservations/{rid}/release", {"quantity": "0.5"}, key="rel-1")
    assert replay.json()["open_quantity"] == "1.500"  # a retried release releases nothing
    assert reserved(loc, sku) == 1_500
    missing_key = post(api, f"/inventory/reservations/{rid}/release", {"quantity": "0.5"})
    assert (missing_key.status_code, missing_key.json()["code"]) == (
        422,
        "idempotency_key_required",
    )
    res = post(api, f"/inventory/reservations/{rid}/release", {}, key="rel-2")
    assert res.json()["status"] == "released"
    assert reserved(loc, sku) == 0
    assert api.get(f"{API}/inventory/reservations").json()["count"] == 0
    assert api.get(f"{API}/inventory/reservations", {"active": "false"}).json()["count"] == 1

    before = snapshot()
    res = post(api, f"/inventory/reservations/{rid}/release", {"quantity": "1"}, key="rel-3")
    assert (res.status_code, res.json()["code"]) == (422, "reservation_exceeded")
    res = post(api, "/inventory/reservations/999999/release", {}, key="rel-4")
    assert (res.status_code, res.json()["code"]) == (404, "reservation_not_found")
    assert snapshot() == before


def test_reserve_more_than_available_is_409(api, admin, warehouse, sku):
    stock(admin, warehouse, sku, 1_000, location=warehouse.stock_location)
    before = snapshot()
    body = {"site": warehouse.code, "sku": sku.code, "quantity": "1.001"}
    res = post(api, "/inventory/reservations", body, key="r-1")
    assert (res.status_code, res.json()["code"]) == (409, "insufficient_stock")
    assert snapshot() == before


def test_write_off_and_lot_correction_via_api(api, admin, warehouse, today):
    lot_sku = make_sku(admin, tracking="lot", shelf_life_days=30)
    stock(
        admin,
        warehouse,
        lot_sku,
        1_000,
        lot="L1",
        expiry=days(today, 3),
        location=warehouse.stock_location,
    )
    before = snapshot()
    res = post(api, "/inventory/write-off-expired", {"site": warehouse.code}, key="w-0")
    assert (res.status_code, res.json()["code"]) == (404, "nothing_expired")
    assert snapshot() == before

    res = api.patch(
        f"{API}/inventory/lots/{lot_sku.code}/L1",
        {"expiry": str(days(today, -1))},
        content_type="application/json",
    )
    assert res.status_code == 200, res.content
    assert Lot.objects.get(number="L1").expiry_date == days(today, -1)

    res = post(api, "/inventory/write-off-expired", {"site": warehouse.code}, key="w-1")
    assert res.status_code == 201, res.content
    (move,) = res.json()["moves"]
    assert (move["lot"], move["quantity"], move["to_location"]) == ("L1", "1.000", "VIRTUAL/SCRAP")
    again = post(api, "/inventory/write-off-expired", {"site": warehouse.code}, key="w-1")
    assert (again.status_code, again.json()["replayed"]) == (200, True)


def test_safety_stock_and_alerts(api, admin, warehouse, store, sku):
    stock(admin, warehouse, sku, 1_000, location=warehouse.stock_location)
    res = api.put(
        f"{API}/inventory/safety-stock",
        {"site": warehouse.code, "sku": sku.code, "quantity": "3"},
        content_type="application/json",
    )
    assert res.status_code == 200, res.content
    services.set_safety_stock(site=store, sku=sku, quantity=500, actor=admin)
    alerts = api.get(f"{API}/inventory/alerts/below-safety-stock").json()
    assert alerts["count"] == 2
    assert alerts["items"][0] == {
        "site": warehouse.code,
        "sku": sku.code,
        "sku_name": sku.name,
        "on_hand": "1.000",
        "available": "1.000",
        "safety_stock": "3.000",
        "shortfall": "2.000",
    }
    page = api.get(f"{API}/inventory/alerts/below-safety-stock", {"site": store.code}).json()
    assert [r["site"] for r in page["items"]] == [store.code]
