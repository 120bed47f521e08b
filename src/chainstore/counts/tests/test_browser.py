"""In headless Chromium on a phone: a store manager creates a SKU-set count, freezes it,
counts by scanning with a keyboard-wedge scanner (GS1 and EAN-13, typed + Enter), reviews the
variances with their value, approves, and finds the counted quantities in the site's stock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from chainstore.core import testing
from chainstore.core.browser import PHONE, browser_marks, login, phone_page, screenshot
from chainstore.counts.models import CountStatus, StockCount
from chainstore.inventory.models import Balance
from chainstore.inventory.verify import verify_ledger

from .conftest import put

pytestmark = browser_marks

MILK_GTIN = "6901234567892"


@pytest.fixture
def phone() -> Iterator[Any]:
    with phone_page("en-US") as page:
        yield page


def _focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id"))


def _scan(page: Any, code: str, quantity: str | None = None) -> Any:
    """Type the quantity (when not 1), then let the scanner type the code and press Enter."""
    before = page.get_by_test_id("recent-entries").locator("li").count()
    if quantity is not None:
        page.get_by_test_id("count-quantity").fill(quantity)
        page.get_by_test_id("count-scan").focus()
    assert _focused(page) == "count-scan"
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    ok = page.get_by_test_id("scan-ok")
    page.get_by_test_id("recent-entries").locator("li").nth(before).wait_for()
    ok.wait_for()
    return ok


def test_count_by_scanning_on_a_phone_and_approve(
    transactional_db: None, live_server: Any, phone: Any, tmp_path: Path
) -> None:
    admin = testing.make_user("admin")
    store = testing.make_site(admin, "store", code="SH001")
    shelf = testing.make_bin(admin, store, code="A-01")
    milk = testing.make_sku(
        admin,
        code="MILK1L",
        name="鲜牛奶 1L",
        tracking="lot",
        shelf_life_days=30,
        barcode=MILK_GTIN,
    )
    rice_barcode = testing.ean13(777001)
    rice = testing.make_sku(admin, code="RICE5KG", name="大米 5kg", barcode=rice_barcode)
    other = testing.make_sku(admin, code="WATER")  # at the store but not in the count
    expiry = timezone.localdate() + dt.timedelta(days=20)
    put(admin, store, milk, shelf, 10_000, lot="L1", expiry=expiry, cost=5_000_000)  # 10 @ ¥5
    put(admin, store, rice, shelf, 5_000, cost=30_000_000)  # 5 @ ¥30
    put(admin, store, other, shelf, 3_000)
    manager = testing.make_user("store_manager", sites=[store])
    page = phone

    page.on("dialog", lambda dialog: dialog.accept())  # "Post all variances?" confirm()
    login(page, live_server.url, manager)
    page.goto(f"{live_server.url}/counts/")
    page.get_by_test_id("new-count").click()
    page.locator("#count-name").fill("五月抽盘")
    page.locator("#count-site").select_option("SH001")
    page.locator("#scope-skus").check()
    page.locator("#count-skus").fill("MILK1L\nRICE5KG")
    screenshot(page, tmp_path, "count-create-phone")
    page.get_by_test_id("create-count").click()

    page.get_by_test_id("freeze").click()
    count = StockCount.objects.get(name="五月抽盘")
    page.get_by_test_id("start-scanning").wait_for()
    assert page.get_by_test_id("count-status").inner_text() == "Counting"
    assert page.get_by_test_id("progress").inner_text() == "0 / 2"
    assert page.get_by_test_id("count-line").count() == 2  # WATER is out of scope
    assert page.get_by_test_id("approve").is_disabled()  # nothing counted yet

    page.get_by_test_id("start-scanning").click()
    page.wait_for_url(f"{live_server.url}/counts/{count.pk}/scan/")
    page.get_by_test_id("count-location").select_option("A-01")
    page.get_by_test_id("count-scan").focus()
    assert _focused(page) == "count-scan"

    # GS1 element string from the wedge scanner: GTIN, expiry, lot; 8 counted.
    ok = _scan(page, f"01{MILK_GTIN.zfill(14)}17{expiry:%y%m%d}10L1", "8")
    assert "MILK1L" in ok.inner_text() and "L1" in ok.inner_text()
    assert "counted 8" in ok.inner_text()
    assert page.get_by_test_id("scan-progress").inner_text() == "Progress: 1 / 2"
    assert _focused(page) == "count-scan"  # ready for the next scan
    assert page.get_by_test_id("count-quantity").input_value() == "1"

    # EAN-13: five, then one more single scan adds to the line.
    ok = _scan(page, rice_barcode, "5")
    assert "RICE5KG" in ok.inner_text() and "counted 5" in ok.inner_text()
    ok = _scan(page, rice_barcode)
    assert "counted 6" in ok.inner_text()
    assert page.get_by_test_id("scan-progress").inner_text() == "Progress: 2 / 2"
    assert page.get_by_test_id("recent-entries").locator("li").count() == 3
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    screenshot(page, tmp_path, "count-scan-phone")

    # Variance review: milk -2 x ¥5 loss, rice +1 x ¥30 gain.
    page.goto(f"{live_server.url}/counts/{count.pk}/?show=variance")
    assert page.get_by_test_id("progress").inner_text() == "2 / 2"
    assert page.get_by_test_id("net-value").inner_text() == "¥20.00"
    lines = page.get_by_test_id("count-line")
    assert lines.count() == 2
    # the last cells: book (snapshot), expected, counted, variance, value
    milk_cells = lines.filter(has_text="MILK1L").locator("td").all_inner_texts()
    rice_cells = lines.filter(has_text="RICE5KG").locator("td").all_inner_texts()
    assert milk_cells[-5:] == ["10", "10", "8", "-2", "-¥10.00"], milk_cells
    assert rice_cells[-5:] == ["5", "5", "6", "+1", "¥30.00"], rice_cells
    screenshot(page, tmp_path, "count-review-phone")

    page.get_by_test_id("approve").click()
    page.get_by_test_id("count-status").filter(has_text="Approved").wait_for()
    count.refresh_from_db()
    assert count.status == CountStatus.APPROVED

    page.goto(f"{live_server.url}/stock/?site=SH001")
    table = page.get_by_test_id("site-stock")
    milk_stock = table.locator("tbody tr", has_text="MILK1L")
    rice_stock = table.locator("tbody tr", has_text="RICE5KG")
    assert milk_stock.count() == 1 and rice_stock.count() == 1
    assert milk_stock.locator("td.num").first.inner_text().split()[0] == "8"
    assert rice_stock.locator("td.num").first.inner_text().split()[0] == "6"
    screenshot(page, tmp_path, "count-site-stock-phone")

    assert Balance.objects.get(location=shelf, sku=milk).on_hand == 8_000
    assert Balance.objects.get(location=shelf, sku=rice).on_hand == 6_000
    assert Balance.objects.get(location=shelf, sku=other).on_hand == 3_000
    assert verify_ledger() == []
