"""In headless Chromium: the counting screen's camera button feeds the decoded barcode into
the scan field and records it, like a wedge scanner. The camera library is replaced by a stub
that "decodes" one EAN-13 (headless Chromium has no camera); the page's own wiring is real."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chainstore.core import testing
from chainstore.core.browser import browser_marks, login, phone_page
from chainstore.counts import services as counts
from chainstore.counts.models import CountLine

pytestmark = browser_marks

EAN = "6901234567892"
FAKE_CAMERA = """
window.Html5QrcodeSupportedFormats = {};
window.Html5Qrcode = class {
  constructor(id) { this.id = id; }
  start(camera, config, onSuccess) {
    setTimeout(() => onSuccess(window.FAKE_DECODED), 50);
    return Promise.resolve();
  }
  stop() { return Promise.resolve(); }
  clear() {}
};
""".replace("window.FAKE_DECODED", f'"{EAN}"')


@pytest.fixture
def phone() -> Iterator[Any]:
    with phone_page("en-US") as page:
        page.add_init_script(FAKE_CAMERA)
        yield page


def test_camera_scan_records_a_count_line(
    transactional_db: None, live_server: Any, phone: Any
) -> None:
    admin = testing.make_user("admin")
    store = testing.make_site(admin, "store", code="SH009")
    sku = testing.make_sku(admin, code="COLA", barcode=EAN)
    testing.stock(admin, store, sku, 3_000, location=store.stock_location)
    manager = testing.make_user("store_manager", sites=[store])
    count = counts.freeze_count(
        count=counts.create_count(site=store, name="camera", actor=manager), actor=manager
    )
    page = phone
    login(page, live_server.url, manager)

    page.goto(f"{live_server.url}/counts/{count.pk}/scan/?location={store.stock_location.code}")
    page.get_by_test_id("count-camera").click()
    ok = page.get_by_test_id("scan-ok")
    ok.wait_for()

    assert "COLA" in ok.inner_text()
    line = CountLine.objects.get(count=count, sku=sku)
    assert line.counted_qty == 1_000
