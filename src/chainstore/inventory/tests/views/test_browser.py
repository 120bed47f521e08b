"""In headless Chromium on a phone: put away by scanning with a keyboard-wedge scanner (types
the code + Enter), and every operation screen fits a 390 px wide screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chainstore.core.browser import PHONE, browser_marks, login, phone_page, screenshot
from chainstore.inventory.models import Balance

from .conftest import MILK_GTIN, Warehouse

pytestmark = browser_marks


@pytest.fixture
def phone() -> Iterator[Any]:
    with phone_page("zh-CN") as page:
        yield page


def _focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id"))


def test_put_away_by_scanning_on_a_phone(
    transactional_db: None, live_server: Any, phone: Any, wh: Warehouse, tmp_path: Path
) -> None:
    page = phone
    login(page, live_server.url, wh.operator)
    page.goto(f"{live_server.url}/ops/")
    page.get_by_test_id("op-tile").first.click()  # 上架 put-away
    page.get_by_test_id("source-lines").wait_for()
    assert page.get_by_test_id("source-line").count() == 2  # milk and rice in receiving
    assert _focused(page) == "sku-scan"
    screenshot(page, tmp_path, "ops-putaway-phone")

    # The scanner types the GS1 string (GTIN, expiry, lot) and presses Enter.
    page.keyboard.type(f"01{MILK_GTIN.zfill(14)}17{wh.expiry:%y%m%d}10L1")
    page.keyboard.press("Enter")
    page.get_by_test_id("selected-line").wait_for()
    assert page.get_by_test_id("move-quantity").input_value() == "10"
    assert _focused(page) == "destination-input"
    page.get_by_test_id("move-quantity").fill("6")
    page.get_by_test_id("destination-input").click()
    screenshot(page, tmp_path, "ops-putaway-line-phone")

    page.keyboard.type("A-01")
    page.keyboard.press("Enter")  # the bin scan posts the form
    page.get_by_test_id("op-result").wait_for()
    assert page.get_by_test_id("result-to").inner_text() == "A-01"
    assert _focused(page) == "sku-scan"  # ready for the next item
    screenshot(page, tmp_path, "ops-putaway-done-phone")
    on_hand = dict(Balance.objects.filter(sku=wh.milk).values_list("location__code", "on_hand"))
    assert on_hand == {"RECV": 4_000, "A-01": 6_000}

    page.goto(f"{live_server.url}/stock/?site=W1")
    row = page.get_by_test_id("site-stock").locator("tbody tr", has_text="MILK1L")
    assert row.count() == 2
    assert "A-01" in row.nth(0).inner_text() and "L1" in row.nth(0).inner_text()


def test_every_operation_screen_fits_a_phone(
    transactional_db: None, live_server: Any, phone: Any, wh: Warehouse, tmp_path: Path
) -> None:
    page = phone
    login(page, live_server.url, wh.manager)
    lot_id = wh.milk.lots.get(number="L1").pk
    screens = {
        "ops-index": "/ops/",
        "ops-move": "/ops/move/?site=W1&source=RECV",
        "ops-adjust": f"/ops/adjust/?site=W1&location=RECV&sku={wh.milk.pk}",
        "ops-issue": f"/ops/issue/?site=W1&sku={wh.rice.pk}",
        "ops-safety": f"/ops/safety-stock/?site=W1&sku={wh.rice.pk}",
        "ops-lots": f"/ops/lots/?site=W1&sku={wh.milk.pk}",
        "ops-lot-expiry": f"/ops/lots/{lot_id}/expiry/?site=W1",
    }
    for name, path in screens.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
        screenshot(page, tmp_path, f"{name}-phone")
