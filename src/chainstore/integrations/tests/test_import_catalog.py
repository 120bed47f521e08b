import pytest

from chainstore.catalog.models import Barcode, Category, Sku
from chainstore.core.errors import PermissionDenied
from chainstore.core.testing import ean13, make_sku, stock
from chainstore.integrations.errors import ImportInvalid
from chainstore.integrations.services import import_file
from chainstore.integrations.tests.conftest import csv_bytes, errors_of, snapshot

pytestmark = pytest.mark.django_db

CAT = ["code", "name", "parent_code"]
SKU = [
    "code",
    "name",
    "category_code",
    "brand",
    "base_unit",
    "tracking",
    "shelf_life_days",
    "storage",
    "retail_price",
    "standard_cost",
    "barcodes",
]


def run(actor, dataset, headers, rows, *, dry_run=True, **kw):
    return import_file(
        dataset=dataset,
        data=csv_bytes(headers, rows, **kw),
        filename="f.csv",
        actor=actor,
        dry_run=dry_run,
    )


def test_categories_with_parents_later_in_the_file_are_created_parents_first(admin):
    rows = [["C11", "碳酸饮料", "C1"], ["C1", "饮料", "ROOT"], ["ROOT", "全部", ""]]
    report = run(admin, "categories", CAT, rows, dry_run=False)
    assert report.applied and report.create_rows == [2, 3, 4]
    child = Category.objects.get(code="C11")
    assert [c.code for c in child.path()] == ["ROOT", "C1", "C11"]


def test_category_errors_are_all_reported_and_nothing_changes(admin):
    rows = [
        ["C1", "饮料", ""],
        ["C1", "重复", ""],  # duplicate code
        ["C2", "", "C1"],  # name missing
        ["C3", "零食", "NOPE"],  # unknown parent
        ["C4", "自己", "C4"],  # own parent
        ["C5", "甲", "C6"],  # cycle C5 -> C6 -> C5
        ["C6", "乙", "C5"],
    ]
    before = snapshot()
    report = run(admin, "categories", CAT, rows)
    assert errors_of(report) == [
        (3, "code", "duplicate_in_file"),
        (4, "name", "required"),
        (5, "parent_code", "unknown_category"),
        (6, "parent_code", "cyclic_parent"),
        (7, "parent_code", "cyclic_parent"),
        (8, "parent_code", "cyclic_parent"),
    ]
    with pytest.raises(ImportInvalid) as exc:
        run(admin, "categories", CAT, rows, dry_run=False)
    assert exc.value.code == "import_invalid"
    assert len(exc.value.details["errors"]) == 6
    assert snapshot() == before


def test_missing_required_column_is_reported_on_the_header_row(admin):
    report = run(admin, "categories", ["code", "parent_code"], [["C1", ""]])
    assert errors_of(report) == [(1, "name", "missing_column")]


def test_chinese_headers_and_choice_aliases(admin):
    Category.objects.create(code="DRINK", name="饮料")
    headers = [
        "商品编码",
        "商品名称",
        "分类编码",
        "品牌",
        "单位",
        "批次管理",
        "保质期天数",
        "储存条件",
        "零售价",
        "标准成本",
        "条码",
    ]
    code = ean13(1)
    row = [
        "S1",
        "农夫山泉 550ml",
        "DRINK",
        "农夫山泉",
        "瓶",
        "批次",
        "365",
        "常温",
        "2.00",
        "1.2",
        code,
    ]
    report = run(admin, "skus", headers, [row], dry_run=False, encoding="gb18030")
    assert report.applied and report.create_rows == [2]
    sku = Sku.objects.get(code="S1")
    assert (sku.tracking, sku.storage, sku.shelf_life_days) == ("lot", "ambient", 365)
    assert (sku.retail_price_fen, sku.standard_cost_micros) == (200, 1_200_000)
    assert (sku.brand.name, sku.category.code, sku.base_unit) == ("农夫山泉", "DRINK", "瓶")
    assert list(sku.barcodes.values_list("code", "kind", "is_primary")) == [(code, "ean13", True)]


def test_barcode_kinds_are_inferred(admin):
    ean, upc, gtin = ean13(2), "012345678905", "10012345678902"
    epc = "3034257bf7194e4000001a85"
    report = run(
        admin,
        "skus",
        ["code", "name", "barcodes"],
        [["S1", "x", f"{ean}|{upc};{gtin}|{epc}|INT-77"]],
        dry_run=False,
    )
    assert report.applied
    kinds = dict(Barcode.objects.filter(sku__code="S1").values_list("code", "kind"))
    assert kinds == {
        ean: "ean13",
        upc: "upca",
        gtin: "gtin14",
        epc.upper(): "epc",
        "INT-77": "internal",
    }


def test_sku_validation_errors_name_row_and_column(admin):
    other = make_sku(admin, code="TAKEN")
    taken = other.barcodes.first().code
    good = ean13(3)
    bad_check = good[:-1] + str((int(good[-1]) + 1) % 10)
    rows = [
        ["S1", "ok", "", "", "", "", "", "", "1", "1", good],
        ["S2", "", "", "", "", "", "", "", "", "", ""],  # name missing
        ["S3", "x", "NOCAT", "", "", "", "", "", "", "", ""],  # unknown category
        ["S4", "x", "", "", "", "often", "", "", "", "", ""],  # bad choice
        ["S5", "x", "", "", "", "", "1.5", "", "", "", ""],  # not whole number
        ["S6", "x", "", "", "", "", "", "", "-1", "", ""],  # negative price
        ["S7", "x", "", "", "", "", "", "", "1.234", "", ""],  # too many decimals
        ["S8", "x", "", "", "", "", "", "", "abc", "", ""],  # bad number
        ["S9", "x", "", "", "", "", "", "", "", "", bad_check],  # check digit
        ["S10", "x", "", "", "", "", "", "", "", "", good],  # barcode also on row 2
        ["S11", "x", "", "", "", "", "", "", "", "", taken],  # barcode of another SKU
        ["S1", "dup", "", "", "", "", "", "", "", "", ""],  # duplicate code
    ]
    before = snapshot()
    report = run(admin, "skus", SKU, rows)
    assert errors_of(report) == [
        (3, "name", "required"),
        (4, "category_code", "unknown_category"),
        (5, "tracking", "invalid_choice"),
        (6, "shelf_life_days", "invalid_number"),
        (7, "retail_price", "negative"),
        (8, "retail_price", "too_many_decimals"),
        (9, "retail_price", "invalid_number"),
        (10, "barcodes", "bad_check_digit"),
        (11, "barcodes", "duplicate_in_file"),
        (12, "barcodes", "barcode_taken"),
        (13, "code", "duplicate_in_file"),
    ]
    assert report.errors[-1].value == "S1"
    assert snapshot() == before


def test_existing_sku_is_updated_and_reported_as_update(admin):
    sku = make_sku(admin, code="S1", name="旧名", retail_price_fen=100)
    old_barcode = sku.barcodes.get().code
    new_barcode = ean13(4)
    rows = [
        ["S1", "新名", "", "", "", "", "", "", "3.50", "", f"{old_barcode}|{new_barcode}"],
        ["S2", "新品", "", "", "", "", "", "", "1", "", ""],
    ]
    dry = run(admin, "skus", SKU, rows)
    assert (dry.create_rows, dry.update_rows, dry.errors) == ([3], [2], [])
    assert Sku.objects.get(code="S1").name == "旧名"
    report = run(admin, "skus", SKU, rows, dry_run=False)
    assert report.applied and report.update_rows == [2]
    sku.refresh_from_db()
    assert (sku.name, sku.retail_price_fen, sku.standard_cost_micros) == ("新名", 350, 1_000_000)
    assert set(sku.barcodes.values_list("code", flat=True)) == {old_barcode, new_barcode}
    again = run(admin, "skus", SKU, rows)
    assert (again.unchanged_rows, again.update_rows, again.create_rows) == ([2, 3], [], [])


def test_tracking_of_a_sku_with_stock_cannot_change(admin, store):
    sku = make_sku(admin, code="S1")
    stock(admin, store, sku, 1000)
    report = run(admin, "skus", ["code", "name", "tracking"], [["S1", sku.name, "lot"]])
    assert errors_of(report) == [(2, "tracking", "tracking_locked")]


def test_planner_may_import_catalog_but_cashier_may_not(planner, cashier):
    assert run(planner, "categories", CAT, [["C1", "饮料", ""]], dry_run=False).applied
    before = snapshot()
    with pytest.raises(PermissionDenied):
        run(cashier, "categories", CAT, [["C2", "零食", ""]], dry_run=False)
    assert snapshot() == before
