import datetime as dt

import pytest
from django.utils import timezone

from chainstore.core.testing import make_bin, make_sku
from chainstore.integrations.errors import ImportInvalid
from chainstore.integrations.services import import_file
from chainstore.integrations.tests.conftest import csv_bytes, errors_of, snapshot, xlsx_bytes
from chainstore.inventory.models import Balance, OperationKind, SiteSku, StockOperation
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db

OPEN = [
    "site_code",
    "location_code",
    "sku_code",
    "barcode",
    "quantity",
    "unit_cost",
    "lot",
    "expiry",
]


def run(actor, data, *, dry_run=True, filename="open.csv"):
    return import_file(
        dataset="opening_stock", data=data, filename=filename, actor=actor, dry_run=dry_run
    )


@pytest.fixture
def skus(admin):
    plain = make_sku(admin, code="WATER")
    milk = make_sku(admin, code="MILK", tracking="lot", shelf_life_days=30)
    return plain, milk


def on_hand(site, sku):
    return sum(Balance.objects.filter(site=site, sku=sku).values_list("on_hand", flat=True))


def test_opening_stock_import_posts_once_and_keeps_the_ledger(admin, warehouse, skus):
    plain, milk = skus
    bin_ = make_bin(admin, warehouse, code="A-01")
    expiry = (timezone.localdate() + dt.timedelta(days=20)).isoformat()
    rows = [
        [warehouse.code, "A-01", "WATER", "", "12.5", "1.25", "", ""],
        [warehouse.code, "", "", milk.barcodes.get().code, "3", "", "L1", expiry],
    ]
    data = csv_bytes(OPEN, rows)
    before = snapshot()
    dry = run(admin, data)
    assert (dry.create_rows, dry.errors) == ([2, 3], [])
    assert snapshot() == before
    report = run(admin, data, dry_run=False)
    assert report.applied
    assert Balance.objects.get(location=bin_, sku=plain).on_hand == 12500
    assert Balance.objects.get(location=warehouse.receiving_location, sku=milk).lot.number == "L1"
    assert SiteSku.objects.get(site=warehouse, sku=plain).avg_cost_micros == 1_250_000
    assert StockOperation.objects.get(kind=OperationKind.OPENING).site == warehouse
    assert verify_ledger() == []
    again = run(admin, data, dry_run=False, filename="renamed.csv")
    assert again.unchanged_rows == [2, 3]
    assert (on_hand(warehouse, plain), on_hand(warehouse, milk)) == (12500, 3000)
    assert StockOperation.objects.filter(kind=OperationKind.OPENING).count() == 1
    assert verify_ledger() == []


def test_xlsx_opening_stock(admin, store, skus):
    plain, _milk = skus
    data = xlsx_bytes(["门店编码", "商品编码", "数量"], [[store.code, "WATER", 7]])
    assert run(admin, data, dry_run=False, filename="open.xlsx").applied
    assert on_hand(store, plain) == 7000


def test_every_opening_stock_error_is_reported(admin, warehouse, store, skus):
    _plain, milk = skus
    today = timezone.localdate()
    future = (today + dt.timedelta(days=10)).isoformat()
    rows = [
        ["NOSITE", "", "WATER", "", "1", "", "", ""],
        [warehouse.code, "NOBIN", "WATER", "", "1", "", "", ""],
        [warehouse.code, "", "NOSKU", "", "1", "", "", ""],
        [warehouse.code, "", "", "6900000000000", "1", "", "", ""],
        [warehouse.code, "", "WATER", "", "1.2345", "", "", ""],
        [warehouse.code, "", "WATER", "", "0", "", "", ""],
        [warehouse.code, "", "WATER", "", "1", "-2", "", ""],
        [warehouse.code, "", "MILK", "", "1", "", "", future],
        [warehouse.code, "", "MILK", "", "1", "", "L9", ""],
        [warehouse.code, "", "MILK", "", "1", "", "L8", (today - dt.timedelta(days=1)).isoformat()],
        [warehouse.code, "", "MILK", "", "1", "", "L7", "2026-13-45"],
        [warehouse.code, "", "WATER", "", "1", "", "L1", ""],
        [warehouse.code, "", "", "", "1", "", "", ""],
        [store.code, "", "MILK", "", "1", "", "L6", future],
        [store.code, "", "MILK", "", "2", "", "L6", future],
    ]
    before = snapshot()
    report = run(admin, csv_bytes(OPEN, rows))
    assert errors_of(report) == [
        (2, "site_code", "unknown_site"),
        (3, "location_code", "unknown_location"),
        (4, "sku_code", "unknown_sku"),
        (5, "barcode", "unknown_barcode"),
        (6, "quantity", "too_many_decimals"),
        (7, "quantity", "not_positive"),
        (8, "unit_cost", "negative"),
        (9, "lot", "lot_required"),
        (10, "expiry", "expiry_required"),
        (11, "expiry", "expired_lot"),
        (12, "expiry", "invalid_date"),
        (13, "lot", "lot_not_tracked"),
        (14, "sku_code", "required"),
        (16, "sku_code", "duplicate_in_file"),
    ]
    with pytest.raises(ImportInvalid) as exc:
        run(admin, csv_bytes(OPEN, rows), dry_run=False)
    assert exc.value.details["error_count"] == 14
    assert snapshot() == before
    assert milk.lots.count() == 0


def test_one_bad_row_refuses_the_whole_file(admin, warehouse, skus):
    rows = [
        [warehouse.code, "", "WATER", "", "5", "", "", ""],
        [warehouse.code, "", "NOSKU", "", "5", "", "", ""],
    ]
    before = snapshot()
    with pytest.raises(ImportInvalid):
        run(admin, csv_bytes(OPEN, rows), dry_run=False)
    assert snapshot() == before
    assert verify_ledger() == []
