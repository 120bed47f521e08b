import datetime as dt

import pytest
from django.utils import timezone

from chainstore.catalog.models import Category
from chainstore.core.errors import PermissionDenied
from chainstore.core.testing import make_bin, make_sku, make_user, stock
from chainstore.integrations.services import export_file, import_file, template_file
from chainstore.integrations.spreadsheet import read_sheet
from chainstore.integrations.tests.conftest import snapshot

pytestmark = pytest.mark.django_db


def body(result):
    return [cells for _n, cells in read_sheet(result.content, result.filename).rows]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_catalog_export_imports_back_unchanged(admin, fmt):
    parent = Category.objects.create(code="FOOD", name="食品")
    Category.objects.create(code="SNACK", name="零食", parent=parent)
    make_sku(
        admin,
        code="S1",
        name="薯片",
        tracking="lot",
        shelf_life_days=180,
        retail_price_fen=650,
        standard_cost_micros=4_123_456,
    )
    for dataset in ("categories", "skus"):
        exported = export_file(dataset=dataset, actor=admin, fmt=fmt)
        report = import_file(
            dataset=dataset,
            data=exported.content,
            filename=exported.filename,
            actor=admin,
            dry_run=True,
        )
        assert report.errors == [] and report.create_rows == [] and report.update_rows == []
        assert report.unchanged == exported.rows > 0
    row = body(export_file(dataset="skus", actor=admin, fmt=fmt))[0]
    assert row[:9] == ["S1", "薯片", "", "", "pcs", "lot", "180", "ambient", "6.5"]
    assert row[9] == "4.123456"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_opening_stock_export_is_balances_in_import_columns(admin, warehouse, fmt):
    milk = make_sku(admin, code="MILK", tracking="lot", shelf_life_days=30)
    bin_ = make_bin(admin, warehouse, code="A-01")
    expiry = timezone.localdate() + dt.timedelta(days=9)
    stock(admin, warehouse, milk, 2500, lot="L1", expiry=expiry, cost=3_000_000, location=bin_)
    exported = export_file(dataset="opening_stock", actor=admin, fmt=fmt)
    assert body(exported) == [
        [warehouse.code, "A-01", "MILK", "", "2.5", "3", "L1", expiry.isoformat()]
    ]
    before = snapshot()
    report = import_file(
        dataset="opening_stock",
        data=exported.content,
        filename=exported.filename,
        actor=admin,
        dry_run=True,
    )
    assert (report.errors, report.create_rows) == ([], [2])
    assert snapshot() == before


def test_export_is_scoped_to_the_users_sites(admin, warehouse, store):
    sku = make_sku(admin, code="W")
    stock(admin, warehouse, sku, 1000)
    stock(admin, store, sku, 2000)
    manager = make_user("store_manager", sites=[store])
    rows = body(export_file(dataset="opening_stock", actor=manager, fmt="csv"))
    assert [(r[0], r[4]) for r in rows] == [(store.code, "2")]
    assert [r[0] for r in body(export_file(dataset="sites", actor=manager))] == [store.code]
    with pytest.raises(PermissionDenied):
        export_file(dataset="opening_stock", actor=manager, site=warehouse)
    cashier = make_user("cashier", sites=[store])
    with pytest.raises(PermissionDenied):
        export_file(dataset="skus", actor=cashier)


def test_templates_are_header_only(db):
    result = template_file(dataset="opening_stock", fmt="xlsx")
    sheet = read_sheet(result.content, result.filename)
    assert sheet.headers[:3] == ["site_code", "location_code", "sku_code"]
    assert sheet.rows == []


def test_sites_and_locations_export_imports_back_unchanged(admin, warehouse):
    make_bin(admin, warehouse, code="A-01-01")
    for dataset in ("sites", "locations"):
        exported = export_file(dataset=dataset, actor=admin, fmt="csv")
        report = import_file(
            dataset=dataset,
            data=exported.content,
            filename=exported.filename,
            actor=admin,
            dry_run=True,
        )
        assert (report.errors, report.create_rows) == ([], [])
        assert report.unchanged == exported.rows
    codes = [r[1] for r in body(export_file(dataset="locations", actor=admin))]
    assert codes == ["A-01-01", "DAMAGED", "RECV", "STOCK"]
