"""The phone picking screen in headless Chromium at 390x844: a wedge scanner types the bin
and the item (Enter after each), a wrong bin is refused on screen, a short pick is reported
with the found quantity, and the list completes."""

from pathlib import Path
from typing import Any

from chainstore.core.browser import browser_marks, login, phone_page, screenshot
from chainstore.core.testing import make_user
from chainstore.fulfilment.models import PickListStatus, PickTaskStatus
from chainstore.fulfilment.services import waves
from chainstore.fulfilment.tests.test_waves_support import barcode, build_world, put, tasks_of
from chainstore.inventory.verify import verify_ledger

pytestmark = browser_marks


def test_pick_a_list_by_scan_on_a_phone(
    transactional_db: None, live_server: Any, tmp_path: Path
) -> None:
    admin = make_user("admin")
    world = build_world(admin)
    put(world, world.milk, 10_000, "A-01-08")
    put(
        world,
        world.yogurt,
        5_000,
        "A-02-01",
        lot="Y1",
        expiry=world.today.replace(year=world.today.year + 1),
    )
    order = world.order((world.milk, 2000), (world.yogurt, 3000))
    wave = waves.create_wave(site=world.site, actor=admin)
    pick_list = wave.pick_lists.get()
    picker = make_user("warehouse_operator", [world.site])
    by_sku = {t.sku_id: t for t in tasks_of(world.shipment(order))}
    url = live_server.url

    with phone_page("en-US") as page:
        login(page, url, picker)
        page.goto(f"{url}/fulfilment/pick/")
        page.get_by_test_id("start-list").click()
        page.wait_for_url(f"{url}/fulfilment/pick/{pick_list.number}/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        first_bin = page.get_by_test_id("task-bin").inner_text()
        first = next(t for t in by_sku.values() if t.location.code == first_bin)
        screenshot(page, tmp_path, "pick-first-task")

        page.get_by_test_id("scan-bin").fill("B-05-03")
        page.get_by_test_id("scan-bin").press("Enter")
        page.get_by_test_id("scan-item").fill(barcode(first.sku))
        page.get_by_test_id("scan-item").press("Enter")
        if first.lot is not None:
            page.get_by_test_id("scan-lot").fill(first.lot.number)
            page.get_by_test_id("scan-lot").press("Enter")
        page.get_by_test_id("pick-messages").get_by_text("Wrong bin").wait_for()

        page.get_by_test_id("scan-bin").fill(first_bin)
        page.get_by_test_id("scan-bin").press("Enter")
        if page.get_by_test_id("scan-item").input_value() == "":
            page.get_by_test_id("scan-item").fill(barcode(first.sku))
        page.get_by_test_id("confirm-pick").click()
        second = next(t for t in by_sku.values() if t.pk != first.pk)
        page.get_by_test_id("task-bin").get_by_text(second.location.code).wait_for()
        assert page.get_by_test_id("pick-progress").inner_text().strip() == "1/2"

        page.get_by_test_id("short-button").click()
        page.get_by_test_id("short-found").fill("1")
        page.get_by_test_id("confirm-short").click()
        page.get_by_test_id("pick-done").wait_for()
        screenshot(page, tmp_path, "pick-done")

    first.refresh_from_db()
    second.refresh_from_db()
    pick_list.refresh_from_db()
    assert (first.status, first.picked, first.picked_by) == (
        PickTaskStatus.PICKED,
        first.quantity,
        picker,
    )
    assert (second.status, second.picked) == (PickTaskStatus.SHORT, 1000)
    assert pick_list.status == PickListStatus.DONE
    assert verify_ledger() == []
