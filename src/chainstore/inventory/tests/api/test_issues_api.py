import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chainstore.core.testing import make_bin, make_sku, stock
from chainstore.core.tests.helpers import on_hand, post, snapshot
from chainstore.inventory.models import StockMove
from chainstore.inventory.tests.conftest import days

pytestmark = pytest.mark.django_db


def _issue(client, site, sku, quantity, key, **extra):
    body = {"site": site.code, "sku": sku.code, "quantity": quantity, **extra}
    return post(client, "/inventory/issues", body, key=key)


def test_issue_then_replay(api, admin, warehouse, sku):
    stock(admin, warehouse, sku, 5_000, cost=2_000_000, location=warehouse.stock_location)

    first = _issue(api, warehouse, sku, "1.5", "i-1")
    again = _issue(api, warehouse, sku, "1.5", "i-1")

    assert first.status_code == 201, first.content
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    assert again.json()["moves"] == first.json()["moves"]
    (move,) = first.json()["moves"]
    assert (move["quantity"], move["unit_cost"], move["to_location"]) == (
        "1.500",
        "2.000000",
        "VIRTUAL/CUSTOMER",
    )
    assert on_hand(warehouse.stock_location, sku) == 3_500


def test_insufficient_stock_is_409_with_details(api, admin, warehouse, sku):
    stock(admin, warehouse, sku, 1_000, location=warehouse.stock_location)
    before = snapshot()

    res = _issue(api, warehouse, sku, "1.001", "i-1")

    assert res.status_code == 409
    body = res.json()
    assert body["code"] == "insufficient_stock"
    assert body["details"]["requested"] == "1.001"
    assert body["details"]["available"] == "1.000"
    assert body["message"]
    assert snapshot() == before


def test_issue_expired_named_lot_is_409(api, admin, warehouse, today):
    from chainstore.inventory import services
    from chainstore.inventory.models import Lot

    lot_sku = make_sku(admin, tracking="lot", shelf_life_days=30)
    stock(
        admin,
        warehouse,
        lot_sku,
        1_000,
        lot="OLD",
        expiry=days(today, 1),
        location=warehouse.stock_location,
    )
    services.correct_lot_expiry(
        lot=Lot.objects.get(number="OLD"), expiry_date=days(today, -1), actor=admin
    )
    before = snapshot()

    res = _issue(api, warehouse, lot_sku, "1", "i-1", lot="OLD")
    assert (res.status_code, res.json()["code"]) == (409, "lot_expired")
    res = _issue(api, warehouse, lot_sku, "1", "i-2")
    assert (res.status_code, res.json()["code"]) == (409, "insufficient_stock")
    res = _issue(api, warehouse, lot_sku, "1", "i-3", lot="NOPE")
    assert (res.status_code, res.json()["code"]) == (404, "lot_not_found")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("quantity", "key", "code"),
    [
        ("0", "k", "validation_error"),
        ("-1", "k", "validation_error"),
        ("1", None, "idempotency_key_required"),
    ],
)
def test_bad_issue_is_422(api, admin, warehouse, sku, quantity, key, code):
    stock(admin, warehouse, sku, 5_000, location=warehouse.stock_location)
    before = snapshot()
    res = _issue(api, warehouse, sku, quantity, key)
    assert res.status_code == 422
    assert res.json()["code"] == code
    assert isinstance(res.json()["details"], dict)
    assert snapshot() == before


def _count_issue_queries(client, site, sku, key):
    with CaptureQueriesContext(connection) as ctx:
        res = _issue(client, site, sku, "1", key)
    assert res.status_code == 201, res.content
    return len(ctx.captured_queries)


def test_issue_query_count_does_not_grow_with_rows(
    api, admin, warehouse, sku, django_assert_max_num_queries
):
    loc = warehouse.stock_location
    stock(admin, warehouse, sku, 10_000, location=loc)
    _issue(api, warehouse, sku, "1", "warm-up")  # virtual location cache, session
    small = _count_issue_queries(api, warehouse, sku, "q-1")

    # many more moves, other SKUs and bins at the site
    for _i in range(20):
        stock(admin, warehouse, sku, 1_000, location=loc)
        stock(admin, warehouse, make_sku(admin), 1_000, location=make_bin(admin, warehouse))
    assert StockMove.objects.count() > 40
    large = _count_issue_queries(api, warehouse, sku, "q-2")

    assert large == small
    with django_assert_max_num_queries(small):
        _issue(api, warehouse, sku, "1", "q-3")
    assert small <= 30  # pin: raise deliberately, never by accident
