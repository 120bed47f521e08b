import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chainstore.core.testing import make_bin, make_sku, stock
from chainstore.core.tests.helpers import API
from chainstore.inventory import services
from chainstore.inventory.tests.conftest import days

pytestmark = pytest.mark.django_db


def test_site_stock_pagination_and_filters(api, admin, warehouse):
    skus = [make_sku(admin, code=f"P{i:02d}") for i in range(5)]
    bin_ = make_bin(admin, warehouse, code="Z-9")
    for s in skus:
        stock(admin, warehouse, s, 1_000, location=bin_)
    stock(admin, warehouse, skus[0], 2_000, location=warehouse.stock_location)
    url = f"{API}/inventory/sites/{warehouse.code}/stock"

    page = api.get(url, {"limit": 2, "offset": 0}).json()
    assert page["count"] == 6
    assert len(page["items"]) == 2
    rest = api.get(url, {"limit": 10, "offset": 2}).json()["items"]
    assert len(rest) == 4
    all_keys = [(r["location"], r["sku"]) for r in page["items"] + rest]
    assert len(set(all_keys)) == 6

    by_sku = api.get(url, {"sku": "P00"}).json()
    assert sorted((r["location"], r["on_hand"]) for r in by_sku["items"]) == [
        ("STOCK", "2.000"),
        ("Z-9", "1.000"),
    ]
    assert api.get(url, {"location": "STOCK"}).json()["count"] == 1
    assert api.get(url, {"search": "P03"}).json()["count"] == 1
    assert api.get(url, {"sku": "NOPE"}).status_code == 404


def test_site_stock_query_count_is_flat(api, admin, warehouse, django_assert_max_num_queries):
    url = f"{API}/inventory/sites/{warehouse.code}/stock"
    bin_ = make_bin(admin, warehouse)
    stock(admin, warehouse, make_sku(admin), 1_000, location=bin_)
    api.get(url)
    with CaptureQueriesContext(connection) as small:
        assert api.get(url).json()["count"] == 1
    for _ in range(15):
        stock(admin, warehouse, make_sku(admin, tracking="lot"), 1_000, lot="L", location=bin_)
    with CaptureQueriesContext(connection) as large:
        assert api.get(url).json()["count"] == 16
    assert len(large.captured_queries) == len(small.captured_queries)
    with django_assert_max_num_queries(len(small.captured_queries)):
        api.get(url)


def test_availability_ledger_expiring_operation(api, admin, warehouse, store, sku, today):
    stock(admin, warehouse, sku, 4_000, cost=2_000_000, location=warehouse.stock_location)
    stock(admin, store, sku, 1_000, cost=3_000_000, location=store.stock_location)
    services.reserve(site=warehouse, sku=sku, quantity=1_000, actor=admin)
    op = services.issue(site=warehouse, sku=sku, quantity=500, actor=admin)

    avail = api.get(f"{API}/inventory/availability/{sku.code}").json()
    assert [
        (r["site"], r["on_hand"], r["reserved"], r["available"], r["avg_cost"]) for r in avail
    ] == sorted(
        [
            (warehouse.code, "3.500", "1.000", "2.500", "2.000000"),
            (store.code, "1.000", "0.000", "1.000", "3.000000"),
        ]
    )

    ledger = api.get(f"{API}/inventory/ledger", {"site": warehouse.code, "sku": sku.code})
    assert ledger.status_code == 200, ledger.content
    body = ledger.json()
    assert body["count"] == 2
    assert [(r["kind"], r["delta"], r["balance_after"]) for r in body["items"]] == [
        ("issue", "-0.500", "3.500"),
        ("receipt", "4.000", "4.000"),
    ]

    res = api.get(f"{API}/inventory/operations/{op.pk}")
    assert (res.status_code, res.json()["id"], res.json()["kind"]) == (200, op.pk, "issue")
    assert api.get(f"{API}/inventory/operations/999999").json()["code"] == "operation_not_found"

    lot_sku = make_sku(admin, tracking="lot", shelf_life_days=90)
    stock(admin, warehouse, lot_sku, 1_000, lot="SOON", expiry=days(today, 5))
    stock(admin, warehouse, lot_sku, 1_000, lot="LATER", expiry=days(today, 60))
    expiring = api.get(f"{API}/inventory/expiring", {"days": 30}).json()
    assert [r["lot"] for r in expiring["items"]] == ["SOON"]
    assert api.get(f"{API}/inventory/expiring", {"days": -1}).json()["code"] == "invalid_days"
