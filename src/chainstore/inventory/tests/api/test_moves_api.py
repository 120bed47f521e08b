import pytest

from chainstore.core.testing import make_bin, stock
from chainstore.core.tests.helpers import on_hand, post, snapshot

pytestmark = pytest.mark.django_db


def test_put_away_via_api(api, admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 5_000)
    body = {
        "site": warehouse.code,
        "sku": sku.code,
        "quantity": "2",
        "from_location": "RECV",
        "to_location": bin_a.code,
        "kind": "putaway",
    }
    res = post(api, "/inventory/moves", body, key="m-1")
    assert res.status_code == 201, res.content
    assert res.json()["kind"] == "putaway"
    assert on_hand(bin_a, sku) == 2_000
    assert post(api, "/inventory/moves", body, key="m-1").status_code == 200
    assert on_hand(bin_a, sku) == 2_000


def test_bad_moves(api, admin, warehouse, store, sku, bin_a):
    stock(admin, warehouse, sku, 5_000)
    make_bin(admin, store, code="S-BIN")
    before = snapshot()
    base = {"site": warehouse.code, "sku": sku.code, "quantity": "1", "from_location": "RECV"}
    cases = [
        ({**base, "to_location": "S-BIN"}, 404, "location_not_found"),
        ({**base, "to_location": "RECV"}, 422, "same_location"),
        ({**base, "to_location": bin_a.code, "quantity": "6"}, 409, "insufficient_stock"),
        ({**base, "to_location": bin_a.code, "kind": "teleport"}, 422, "validation_error"),
    ]
    for i, (body, status, code) in enumerate(cases):
        res = post(api, "/inventory/moves", body, key=f"bad-{i}")
        assert (res.status_code, res.json()["code"]) == (status, code), body
    assert snapshot() == before


def test_adjustment_via_api(api, admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 5_000, location=bin_a)
    body = {
        "site": warehouse.code,
        "location": bin_a.code,
        "sku": sku.code,
        "delta": "-1.25",
        "reason": "damage",
    }
    res = post(api, "/inventory/adjustments", body, key="a-1")
    assert res.status_code == 201, res.content
    assert on_hand(bin_a, sku) == 3_750
    before = snapshot()
    res = post(api, "/inventory/adjustments", {**body, "delta": "-10"}, key="a-2")
    assert (res.status_code, res.json()["code"]) == (409, "insufficient_stock")
    res = post(api, "/inventory/adjustments", {**body, "reason": "magic"}, key="a-3")
    assert (res.status_code, res.json()["code"]) == (422, "invalid_reason")
    assert snapshot() == before
