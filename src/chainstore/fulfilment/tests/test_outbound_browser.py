"""The phone check screen in headless Chromium at 390x844: open a shipment by its order
number, scan the items (a wrong item is refused on screen), weigh, split into two parcels,
pack, ship and find the label."""

from pathlib import Path
from typing import Any

from chainstore.core.browser import browser_marks, login, phone_page, screenshot
from chainstore.core.testing import make_user
from chainstore.fulfilment.models import PickedStock, ShipmentStatus
from chainstore.fulfilment.services.tracking import run_simulated_carrier
from chainstore.fulfilment.tests.test_outbound_support import build_world, ean, gs1
from chainstore.inventory.verify import verify_ledger

pytestmark = browser_marks


def test_check_pack_and_ship_on_a_phone(
    transactional_db: None, live_server: Any, tmp_path: Path
) -> None:
    world = build_world(make_user("admin"))
    shipment = world.picked((world.milk, 2), (world.noodles, 1))
    picked = PickedStock.objects.filter(shipment_line__shipment=shipment).select_related(
        "lot", "shipment_line__sku"
    )
    scans = [
        gs1(ps.shipment_line.sku, ps.lot.number, ps.lot.expiry_date)
        if ps.lot
        else ean(ps.shipment_line.sku)
        for ps in picked
    ]
    url = live_server.url

    with phone_page("en-US") as page:
        login(page, url, world.operator)
        page.goto(f"{url}/fulfilment/check/?scan={shipment.order.number}")
        page.get_by_test_id("shipment-number").get_by_text(shipment.number).wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        page.get_by_test_id("item-scan").fill(ean(world.tea))
        page.get_by_test_id("item-scan").press("Enter")
        page.get_by_test_id("check-messages").get_by_text("is not on this shipment").wait_for()

        for n, code in enumerate(scans, start=1):
            page.get_by_test_id("item-scan").fill(code)
            page.get_by_test_id("item-scan").press("Enter")
            page.get_by_test_id("check-progress").get_by_text(f"{n} / 3").wait_for()
        screenshot(page, tmp_path, "check-all-scanned")

        page.get_by_test_id("weight").fill("9000")
        page.get_by_test_id("complete-check").click()
        page.get_by_test_id("check-messages").get_by_text("weight_mismatch").wait_for()
        page.get_by_test_id("weight").fill(str(2 * 1050 + 120))
        page.get_by_test_id("complete-check").click()
        page.get_by_test_id("packing").wait_for()

        page.get_by_test_id("add-parcel").click()
        second = page.get_by_test_id("parcel").nth(1)
        first = page.get_by_test_id("parcel").nth(0)
        first.locator("input[type=number]").nth(2).fill("0")  # noodles out of parcel 1
        second.locator("input[type=number]").nth(2).fill("1")  # ... into parcel 2
        page.get_by_test_id("pack").click()
        page.get_by_test_id("ship").click()
        page.get_by_test_id("labels").wait_for()
        links = page.get_by_test_id("print-label")
        assert links.count() == 2
        href = links.nth(0).get_attribute("href")
        screenshot(page, tmp_path, "check-shipped")
        label = page.context.new_page()
        label.goto(f"{url}{href}")
        assert "SIM" in label.title()
        screenshot(label, tmp_path, "check-label")

        run_simulated_carrier(steps=None)
        page.goto(f"{url}/fulfilment/shipments/{shipment.number}/")
        page.get_by_test_id("journey-map").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, tmp_path, "shipment-detail")

    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert shipment.checked_by == world.operator
    assert list(shipment.parcels.values_list("seq", flat=True)) == [1, 2]
    assert verify_ledger() == []
