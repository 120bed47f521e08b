"""In headless Chromium on a phone: put away by scanning with a keyboard-wedge scanner (types
the code + Enter), and every operation screen fits a 390 px wide screen."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chainstore.inventory.models import Balance
from chainstore.web.tests.test_browser import CHROMIUM, CHROMIUM_ARGS, PHONE

from .conftest import MILK_GTIN, Warehouse

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium"),
]


@pytest.fixture
def phone() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def _screenshot(page: Any, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("CHAINSTORE_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _login(page: Any, url: str, user: Any) -> None:
    page.goto(f"{url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-123456")
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"{url}/")


def _focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id"))


def test_put_away_by_scanning_on_a_phone(
    transactional_db: None, live_server: Any, phone: Any, wh: Warehouse, tmp_path: Path
) -> None:
    page = phone
    _login(page, live_server.url, wh.operator)
    page.goto(f"{live_server.url}/ops/")
    page.get_by_test_id("op-tile").first.click()  # 上架 put-away
    page.get_by_test_id("source-lines").wait_for()
    assert page.get_by_test_id("source-line").count() == 2  # milk and rice in receiving
    assert _focused(page) == "sku-scan"
    _screenshot(page, tmp_path, "ops-putaway-phone")

    # The scanner types the GS1 string (GTIN, expiry, lot) and presses Enter.
    page.keyboard.type(f"01{MILK_GTIN.zfill(14)}17{wh.expiry:%y%m%d}10L1")
    page.keyboard.press("Enter")
    page.get_by_test_id("selected-line").wait_for()
    assert page.get_by_test_id("move-quantity").input_value() == "10"
    assert _focused(page) == "destination-input"
    page.get_by_test_id("move-quantity").fill("6")
    page.get_by_test_id("destination-input").click()
    _screenshot(page, tmp_path, "ops-putaway-line-phone")

    page.keyboard.type("A-01")
    page.keyboard.press("Enter")  # the bin scan posts the form
    page.get_by_test_id("op-result").wait_for()
    assert page.get_by_test_id("result-to").inner_text() == "A-01"
    assert _focused(page) == "sku-scan"  # ready for the next item
    _screenshot(page, tmp_path, "ops-putaway-done-phone")
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
    _login(page, live_server.url, wh.manager)
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
        _screenshot(page, tmp_path, f"{name}-phone")
