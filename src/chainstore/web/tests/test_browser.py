"""End to end in headless Chromium on a phone-sized screen: log in, receive a GS1 scan with a
keyboard-wedge scanner (typed + Enter), post, and find the lot in the site's stock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from chainstore.core import testing
from chainstore.core.browser import browser_marks, login, phone_page, screenshot
from chainstore.inventory.models import SiteSku

GTIN = "6901234567892"

pytestmark = browser_marks


@pytest.fixture
def browser_page() -> Iterator[Any]:
    with phone_page("en-US") as page:
        yield page


def test_receive_a_gs1_scan_and_see_it_in_site_stock(
    transactional_db: None, live_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    admin = testing.make_user("admin")
    store = testing.make_site(admin, "store", code="SH001")
    sku = testing.make_sku(
        admin, code="MILK1L", name="光明鲜牛奶 1L", tracking="lot", shelf_life_days=30, barcode=GTIN
    )
    receiver = testing.make_user("warehouse_operator", sites=[store])
    expiry = timezone.localdate() + dt.timedelta(days=20)
    page = browser_page

    login(page, live_server.url, receiver)
    screenshot(page, tmp_path, "dashboard-phone")

    page.goto(f"{live_server.url}/receiving/")
    scan = page.get_by_test_id("scan-input")
    scan.wait_for()
    assert page.evaluate("document.activeElement.id") == "scan-input"
    # A wedge scanner types the GS1 element string (GTIN, expiry, lot) and presses Enter.
    page.keyboard.type(f"01{GTIN.zfill(14)}17{expiry:%y%m%d}10LOT-2026A")
    page.keyboard.press("Enter")
    line = page.get_by_test_id("receipt-line")
    line.wait_for()
    assert line.get_by_test_id("line-name").inner_text() == "光明鲜牛奶 1L"
    assert line.get_by_test_id("line-lot").inner_text() == "LOT-2026A"
    assert line.get_by_test_id("line-expiry").inner_text() == expiry.isoformat()
    assert page.evaluate("document.activeElement.id") == "scan-input"
    line.get_by_test_id("line-quantity").fill("12")
    screenshot(page, tmp_path, "receiving-phone")

    page.get_by_test_id("post-receipt").click()
    page.get_by_test_id("receipt-posted").wait_for()
    assert SiteSku.objects.get(site=store, sku=sku).on_hand == 12_000

    page.get_by_test_id("view-site-stock").click()
    table = page.get_by_test_id("site-stock")
    table.wait_for()
    row = table.locator("tbody tr", has_text="MILK1L")
    assert row.count() == 1
    text = row.inner_text()
    assert "LOT-2026A" in text and "12" in text and expiry.isoformat() in text
    screenshot(page, tmp_path, "site-stock-phone")
