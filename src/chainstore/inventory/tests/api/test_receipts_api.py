import pytest
from django.test import Client

from chainstore.core.testing import make_sku
from chainstore.core.tests.helpers import API, bearer, on_hand, post, snapshot
from chainstore.inventory.models import Lot, StockMove
from chainstore.inventory.tests.conftest import days

pytestmark = pytest.mark.django_db


def _body(site, sku, **line):
    return {"site": site.code, "supplier": "康师傅", "lines": [{"sku": sku.code, **line}]}


def test_receipt_created_then_replayed(api, warehouse, sku):
    body = _body(warehouse, sku, quantity="10.5", unit_cost="2.30")
    first = post(api, "/inventory/receipts", body, key="r-1")
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["replayed"] is False
    assert data["partner"] == "康师傅"
    assert [(m["sku"], m["quantity"], m["unit_cost"]) for m in data["moves"]] == [
        (sku.code, "10.500", "2.300000")
    ]

    again = post(api, "/inventory/receipts", body, key="r-1")

    assert again.status_code == 200
    assert again.json()["replayed"] is True
    assert again.json()["id"] == data["id"]
    assert again.json()["moves"] == data["moves"]
    assert StockMove.objects.filter(sku=sku).count() == 1
    assert on_hand(warehouse.receiving_location, sku) == 10_500


def test_same_key_different_body_is_409(api, warehouse, sku):
    post(api, "/inventory/receipts", _body(warehouse, sku, quantity="1"), key="r-1")
    before = snapshot()
    res = post(api, "/inventory/receipts", _body(warehouse, sku, quantity="2"), key="r-1")
    assert res.status_code == 409
    assert res.json()["code"] == "idempotency_key_reused"
    assert snapshot() == before


def test_missing_idempotency_key_is_422(api, warehouse, sku):
    before = snapshot()
    res = post(api, "/inventory/receipts", _body(warehouse, sku, quantity="1"))
    assert res.status_code == 422
    assert res.json()["code"] == "idempotency_key_required"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ({"quantity": "0"}, "validation_error"),
        ({"quantity": "1.0001"}, "validation_error"),
        ({"quantity": "abc"}, "validation_error"),
        ({"quantity": "1", "unit_cost": "-1"}, "validation_error"),
        ({"quantity": "1", "lot": "L1"}, "lot_not_tracked"),
        ({"quantity": "1", "location": "NOPE"}, "location_not_found"),
    ],
)
def test_bad_receipt_lines(api, warehouse, sku, line, code):
    before = snapshot()
    res = post(api, "/inventory/receipts", _body(warehouse, sku, **line), key="k")
    assert res.status_code in (404, 422), res.content
    body = res.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert snapshot() == before


def test_unknown_sku_and_site_are_404(api, warehouse, sku):
    res = post(
        api,
        "/inventory/receipts",
        {"site": "NOPE", "lines": [{"sku": sku.code, "quantity": "1"}]},
        key="k",
    )
    assert (res.status_code, res.json()["code"]) == (404, "site_not_found")
    res = post(
        api,
        "/inventory/receipts",
        {"site": warehouse.code, "lines": [{"sku": "NOPE", "quantity": "1"}]},
        key="k",
    )
    assert (res.status_code, res.json()["code"]) == (404, "sku_not_found")


def test_receipt_by_gs1_scan_fills_lot_and_expiry(api, admin, warehouse, today):
    sku = make_sku(admin, tracking="lot", shelf_life_days=30, barcode="6901234567892")
    expiry = days(today, 20)
    scan = f"]C1010690123456789217{expiry:%y%m%d}10LOT-7\x1d21SN1"
    body = {"site": warehouse.code, "lines": [{"scan": scan, "quantity": "3"}]}

    res = post(api, "/inventory/receipts", body, key="scan-1")

    assert res.status_code == 201, res.content
    (move,) = res.json()["moves"]
    assert (move["sku"], move["lot"], move["expiry"]) == (sku.code, "LOT-7", str(expiry))
    assert Lot.objects.get(sku=sku, number="LOT-7").expiry_date == expiry


def test_receipt_with_bearer_token(admin_token, warehouse, sku):
    res = post(
        Client(),
        "/inventory/receipts",
        _body(warehouse, sku, quantity="1"),
        key="t-1",
        **bearer(admin_token),
    )
    assert res.status_code == 201


def test_unauthenticated_is_401(warehouse, sku):
    before = snapshot()
    res = post(Client(), "/inventory/receipts", _body(warehouse, sku, quantity="1"), key="u-1")
    assert res.status_code == 401
    assert res.json()["code"] == "not_authenticated"
    res = post(
        Client(),
        "/inventory/receipts",
        _body(warehouse, sku, quantity="1"),
        key="u-1",
        **bearer("cs_wrong"),
    )
    assert res.status_code == 401
    assert Client().get(f"{API}/inventory/sites/{warehouse.code}/stock").status_code == 401
    assert snapshot() == before


def test_session_post_without_csrf_token_is_403(admin, warehouse, sku):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    before = snapshot()
    res = post(client, "/inventory/receipts", _body(warehouse, sku, quantity="1"), key="c-1")
    assert res.status_code == 403
    assert snapshot() == before
    # with the token from the cookie the same request goes through
    client.get("/api/v1/accounts/me")
    from django.middleware.csrf import _get_new_csrf_string

    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    res = post(
        client,
        "/inventory/receipts",
        _body(warehouse, sku, quantity="1"),
        key="c-1",
        HTTP_X_CSRFTOKEN=token,
    )
    assert res.status_code == 201, res.content
