"""In headless Chromium on a desktop screen: an admin uploads a SKU CSV with one bad row as a
dry run, reads the error table (row, column, reason) and finds nothing created; then uploads
the corrected file, gets a clean dry run, clicks "Import now" and finds the SKUs in the list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chainstore.catalog.models import Barcode, Sku
from chainstore.core import testing
from chainstore.core.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    browser_marks,
    login,
    screenshot,
)
from chainstore.core.models import AuditEvent
from chainstore.integrations.spreadsheet import write_csv

pytestmark = browser_marks

DESKTOP: Any = {"width": 1366, "height": 900}
HEADERS = ["code", "name", "retail_price", "barcodes"]


@pytest.fixture
def desktop() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def _upload(page: Any, name: str, data: bytes) -> None:
    page.locator("#id_dataset").select_option("skus")
    page.locator("#id_file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )
    page.get_by_test_id("upload-submit").click()
    # the new page's report names the file just uploaded
    page.get_by_test_id("import-report").filter(has_text=name).wait_for()


def _catalog() -> dict[str, int]:
    return {
        "skus": Sku.objects.count(),
        "barcodes": Barcode.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_sku_csv_dry_run_errors_then_import_now(
    transactional_db: None, live_server: Any, desktop: Any, tmp_path: Path
) -> None:
    admin = testing.make_user("admin")
    good = [testing.ean13(880001), testing.ean13(880002), testing.ean13(880003)]
    bad_check = good[1][:-1] + str((int(good[1][-1]) + 1) % 10)
    rows = [
        ["BRW-TEA", "乌龙茶 500ml", "4.50", good[0]],
        ["BRW-COLA", "可乐 330ml", "3.00", bad_check],  # row 3: wrong check digit
        ["BRW-JUICE", "橙汁 1L", "9.90", good[2]],
    ]
    page = desktop
    login(page, live_server.url, admin)
    page.goto(f"{live_server.url}/data/")
    assert page.locator("#id_dry_run").is_checked()  # dry run is the default
    before = _catalog()

    _upload(page, "skus-bad.csv", write_csv(HEADERS, rows))
    assert page.get_by_test_id("total-rows").inner_text() == "3"
    assert page.get_by_test_id("error-count").inner_text() == "1"
    report = page.get_by_test_id("import-report")
    assert report.get_by_text("Nothing was changed", exact=True).is_visible()
    errors = page.get_by_test_id("error-row")
    assert errors.count() == 1
    row, column, value, reason = errors.first.locator("td").all_inner_texts()
    assert (row, column, value) == ("3", "barcodes", bad_check)
    assert "check digit does not match" in reason and "bad_check_digit" in reason
    assert page.get_by_test_id("import-now").count() == 0
    assert page.locator("#id_dry_run").is_checked()
    screenshot(page, tmp_path, "import-errors-desktop")
    assert _catalog() == before
    assert not Sku.objects.filter(code__startswith="BRW-").exists()

    rows[1][3] = good[1]
    _upload(page, "skus-fixed.csv", write_csv(HEADERS, rows))
    assert page.get_by_test_id("error-count").inner_text() == "0"
    assert page.get_by_test_id("would-create").inner_text() == "3"
    assert page.get_by_test_id("error-table").count() == 0
    assert report.get_by_text("Dry run: nothing was changed", exact=True).is_visible()
    screenshot(page, tmp_path, "import-dry-run-clean-desktop")
    assert _catalog() == before

    page.get_by_test_id("import-now").click()
    report.get_by_text("Imported", exact=True).wait_for()
    assert page.get_by_test_id("would-create").inner_text() == "3"
    assert page.get_by_test_id("import-now").count() == 0
    screenshot(page, tmp_path, "import-done-desktop")
    created = dict(Sku.objects.filter(code__startswith="BRW-").values_list("code", "name"))
    assert created == {"BRW-TEA": "乌龙茶 500ml", "BRW-COLA": "可乐 330ml", "BRW-JUICE": "橙汁 1L"}
    assert Sku.objects.get(code="BRW-COLA").barcodes.get().code == good[1]
    assert Sku.objects.get(code="BRW-TEA").retail_price_fen == 450

    page.goto(f"{live_server.url}/skus/?q=BRW-")
    table = page.locator("#sku-table tbody")
    assert sorted(table.locator("tr td:first-child").all_inner_texts()) == [
        "BRW-COLA",
        "BRW-JUICE",
        "BRW-TEA",
    ]
    juice = table.locator("tr", has_text="BRW-JUICE").inner_text()
    assert "橙汁 1L" in juice and "¥9.90" in juice and good[2] in juice
    screenshot(page, tmp_path, "import-sku-list-desktop")
