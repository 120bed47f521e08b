"""One online order end to end in headless Chromium, every step through the real screens.

Two orders arrive from a channel over the API (bearer token): milk + lot-tracked yogurt,
and cup noodles. The warehouse manager (desktop, English) sets the walking layout, opens
the order (sourcing decision, timeline) and plans a wave whose route is drawn on the map.
A picker on a phone in Chinese picks the list by typed scans + Enter (bin, EAN, GS1 with
the lot) and reports the noodles short; a checker on a phone scans the items, weighs,
packs, ships and opens the label. The simulated carrier then posts its signed webhook
and the manager sees the whole timeline; the stock ledger still verifies.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone

from chainstore.accounts.services import issue_token
from chainstore.catalog.models import Sku
from chainstore.core.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, browser_marks, login, screenshot
from chainstore.core.testing import make_site, make_sku, make_user, stock
from chainstore.fulfilment.models import (
    CustomerOrder,
    OrderStatus,
    Parcel,
    PickTask,
    SalesChannel,
    ShipFromSite,
    ShipmentStatus,
)
from chainstore.integrations.carriers.simulated import SIGNATURE_HEADER, SimulatedCarrier
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.models import Location, Site, WarehouseLayout
from chainstore.sites.services import BinGrid, create_bin_grid, create_zone

pytestmark = browser_marks

DESKTOP: Any = {"width": 1280, "height": 900}
API = "/api/v1/fulfilment"
SHANGHAI = ("31.230400", "121.473700")
LOT = "Y2601"
WEIGHTS = {"milk": 1050, "yogurt": 150, "noodles": 120}


@dataclass
class Warehouse:
    site: Site
    milk: Sku
    yogurt: Sku  # lot-tracked
    noodles: Sku  # the short pick
    expiry: dt.date
    manager: Any
    picker: Any
    checker: Any
    token: str


def _warehouse() -> Warehouse:
    """A Shanghai warehouse with 4 aisles x 8 racks of bins (x/y from the grid), stock in
    three bins, a channel shipping with the simulated carrier, and its people."""
    admin = make_user("admin")
    site = make_site(
        admin, "cdc", code="WH-SH", city="上海", latitude=Decimal("31.2200"),
        longitude=Decimal("121.4800"),
    )  # fmt: skip
    ShipFromSite.objects.create(site=site)
    zone = create_zone(site=site, code="A", name="常温区", actor=admin)
    grid = BinGrid(aisle_from=1, aisle_to=4, rack_from=1, rack_to=8, level_from=1, level_to=1)
    create_bin_grid(site=site, zone=zone, grid=grid, actor=admin)
    bins = {b.code: b for b in Location.objects.filter(site=site, zone=zone)}
    milk = make_sku(admin, code="MILK1L", name="光明纯牛奶 1L", weight_g=WEIGHTS["milk"])
    yogurt = make_sku(
        admin, code="YOG100", name="安慕希酸奶 100g", tracking="lot", shelf_life_days=60,
        weight_g=WEIGHTS["yogurt"],
    )  # fmt: skip
    noodles = make_sku(admin, code="NOOD1", name="康师傅红烧牛肉面", weight_g=WEIGHTS["noodles"])
    expiry = timezone.localdate() + dt.timedelta(days=45)
    stock(admin, site, milk, 10_000, location=bins["A-04-07-1"])
    stock(admin, site, yogurt, 10_000, lot=LOT, expiry=expiry, location=bins["A-01-05-1"])
    stock(admin, site, noodles, 2_000, location=bins["A-03-02-1"])
    SalesChannel.objects.create(code="TM01", name="天猫旗舰店", platform="tmall")
    _token, secret = issue_token(user=make_user("integrator"), name="tmall")
    return Warehouse(
        site=site,
        milk=milk,
        yogurt=yogurt,
        noodles=noodles,
        expiry=expiry,
        manager=make_user("warehouse_manager", [site]),
        picker=make_user("warehouse_operator", [site]),
        checker=make_user("warehouse_operator", [site]),
        token=secret,
    )


def _order_body(channel_order_id: str, lines: list[tuple[Sku, int]]) -> dict[str, Any]:
    return {
        "channel": "TM01",
        "channel_order_id": channel_order_id,
        "paid": True,
        "customer": {"name": "王芳", "phone": "13800138000"},
        "address": {
            "province": "上海",
            "city": "上海市",
            "district": "浦东新区",
            "address": "世纪大道100号",
            "latitude": SHANGHAI[0],
            "longitude": SHANGHAI[1],
        },
        "lines": [
            {"sku": sku.code, "quantity": str(units), "unit_price": "9.90"} for sku, units in lines
        ],
        "shipping_fee": "6.00",
    }


def _ean(sku: Sku) -> str:
    return sku.barcodes.get().code


def _gs1(sku: Sku, lot: str, expiry: dt.date) -> str:
    return f"(01)0{_ean(sku)}(17){expiry:%y%m%d}(10){lot}"


class Browser:
    """One Chromium, a context per person; script errors on any page fail the test and a
    failure leaves a screenshot of every open page."""

    def __init__(self, playwright: Any, url: str, shots: Path) -> None:
        self.browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        self.url, self.shots = url, shots
        self.errors: list[str] = []

    @contextmanager
    def person(self, user: Any, viewport: Any, locale: str, name: str) -> Iterator[Any]:
        context = self.browser.new_context(viewport=viewport, locale=locale)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda exc: self.errors.append(f"{name}: {exc}"))
        try:
            login(page, self.url, user)
            yield page
        except BaseException:
            screenshot(page, self.shots, f"failure-{name}")
            raise
        finally:
            context.close()


def _wait_focus(page: Any, element_id: str) -> None:
    page.wait_for_function(
        f"document.activeElement && document.activeElement.id === {element_id!r}"
    )


def _scan(page: Any, element_id: str, code: str) -> None:
    """A wedge scanner: types into the focused field, then Enter."""
    _wait_focus(page, element_id)
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def _timeline_kinds(page: Any) -> list[str]:
    kinds = (
        page.get_by_test_id("timeline")
        .locator("li")
        .evaluate_all("items => items.map(li => li.dataset.kind)")
    )
    return list(kinds)


def test_an_online_order_from_intake_to_delivery(
    transactional_db: None, live_server: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    wh = _warehouse()
    url = live_server.url
    with sync_playwright() as playwright:
        # -- the channel posts two orders ---------------------------------------------
        channel = playwright.request.new_context(
            base_url=url, extra_http_headers={"Authorization": f"Bearer {wh.token}"}
        )
        first = channel.post(
            f"{API}/orders",
            data=_order_body("TB-E2E-1", [(wh.milk, 2), (wh.yogurt, 3)]),
            headers={"Idempotency-Key": "tb-e2e-1"},
        )
        assert first.status == 201, first.text()
        second = channel.post(f"{API}/orders", data=_order_body("TB-E2E-2", [(wh.noodles, 2)]))
        assert second.status == 201, second.text()
        order = CustomerOrder.objects.get(number=first.json()["number"])
        other = CustomerOrder.objects.get(number=second.json()["number"])
        assert order.shipments.get().site == wh.site
        browser = Browser(playwright, url, tmp_path)

        with browser.person(wh.manager, DESKTOP, "en-US", "manager") as desk:
            # -- the walking layout: the bins' layout prefilled, a live preview, saved
            desk.goto(f"{url}/sites/{wh.site.code}/layout/")
            assert (
                desk.get_by_test_id("layout-source").inner_text().strip() == "Derived from the bins"
            )
            assert desk.get_by_label("Cross-aisles").input_value() == "0.2, 10.6"
            desk.get_by_label("Cross-aisles").fill("0, 10.8")
            desk.get_by_label("Depot x").fill("0")
            desk.get_by_label("Depot y").fill("0")
            desk.get_by_test_id("preview-unsaved").wait_for()  # htmx, nothing saved yet
            assert not WarehouseLayout.objects.filter(site=wh.site).exists()
            desk.get_by_test_id("save-layout").click()
            desk.get_by_test_id("layout-source").get_by_text("Saved").wait_for()
            assert WarehouseLayout.objects.get(site=wh.site).cross_aisles == ["0", "10.8"]
            screenshot(desk, tmp_path, "01-layout")

            # -- the order: where it ships from and why, and its timeline so far
            desk.goto(f"{url}/fulfilment/orders/")
            desk.get_by_test_id("orders").get_by_role("link", name=order.number).click()
            desk.get_by_test_id("order-number").get_by_text(order.number).wait_for()
            chosen = desk.get_by_test_id("candidates").locator('tr[data-chosen="1"]')
            assert chosen.count() == 1 and wh.site.code in chosen.inner_text()
            desk.get_by_test_id("shipments").get_by_text(order.shipments.get().number).wait_for()
            assert {"received", "sourced", "reserved"} <= set(_timeline_kinds(desk))
            screenshot(desk, tmp_path, "02-order-sourced")

            # -- a wave for both orders, its route on the warehouse map
            desk.goto(f"{url}/fulfilment/waves/")
            assert "2 orders" in desk.get_by_test_id("candidate-totals").inner_text()
            desk.get_by_test_id("create-wave").click()
            desk.wait_for_url(f"{url}/fulfilment/waves/WV*/")
            card = desk.get_by_test_id("pick-list-card")
            assert card.count() == 1
            card.get_by_test_id("map-route").wait_for()
            assert card.get_by_test_id("map-stop").count() == 3
            assert "Route" in card.get_by_test_id("map-lengths").inner_text()
            screenshot(desk, tmp_path, "03-wave-route")

        tasks = {
            t.location.code: t
            for t in PickTask.objects.filter(pick_list__wave__site=wh.site).select_related(
                "location", "sku", "lot"
            )
        }
        assert len(tasks) == 3

        with browser.person(wh.picker, PHONE, "zh-CN", "picker") as phone:
            # -- picking on a phone, in Chinese, by typed scans
            phone.goto(f"{url}/fulfilment/pick/")
            phone.get_by_test_id("start-list").click()
            phone.wait_for_url(f"{url}/fulfilment/pick/PL*/")
            assert phone.evaluate("document.documentElement.lang") == "zh-hans"
            phone.get_by_text("扫描库位").wait_for()
            assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            screenshot(phone, tmp_path, "04-pick-first-stop")
            for done in range(1, 4):
                task = tasks[phone.get_by_test_id("task-bin").inner_text().strip()]
                _scan(phone, "pick-bin", task.location.code)
                _wait_focus(phone, "pick-item")
                if task.sku_id == wh.noodles.pk:  # only one of the two is there
                    phone.get_by_test_id("short-button").click()
                    phone.get_by_test_id("short-found").fill("1")
                    phone.get_by_test_id("confirm-short").click()
                elif task.lot is not None:
                    _scan(phone, "pick-item", _gs1(task.sku, task.lot.number, wh.expiry))
                else:
                    _scan(phone, "pick-item", _ean(task.sku))
                phone.get_by_test_id("pick-progress").get_by_text(f"{done}/3").wait_for()
            phone.get_by_test_id("pick-done").wait_for()
            screenshot(phone, tmp_path, "05-pick-done")

        shipment = order.shipments.get()
        assert shipment.status == ShipmentStatus.PICKED
        with browser.person(wh.checker, PHONE, "zh-CN", "checker") as phone:
            # -- the outbound check: scan every unit, weigh, pack, ship, print the label
            phone.goto(f"{url}/fulfilment/check/")
            _scan(phone, "doc-scan", order.number)
            phone.get_by_test_id("shipment-number").get_by_text(shipment.number).wait_for()
            scans = [_ean(wh.milk)] * 2 + [_gs1(wh.yogurt, LOT, wh.expiry)] * 3
            for n, code in enumerate(scans, start=1):
                _scan(phone, "item-scan", code)
                phone.get_by_test_id("check-progress").get_by_text(f"{n} / 5").wait_for()
            phone.get_by_test_id("weight").fill(str(2 * WEIGHTS["milk"] + 3 * WEIGHTS["yogurt"]))
            phone.get_by_test_id("complete-check").click()
            phone.get_by_test_id("packing").wait_for()
            phone.get_by_test_id("pack").click()
            phone.get_by_test_id("ship").click()
            phone.get_by_test_id("labels").wait_for()
            tracking = Parcel.objects.get(shipment=shipment).tracking_number
            assert tracking
            phone.get_by_test_id("labels").get_by_text(tracking).wait_for()
            assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            screenshot(phone, tmp_path, "06-check-shipped")
            with phone.context.expect_page() as opened:
                phone.get_by_test_id("print-label").click()
            label = opened.value
            label.wait_for_load_state()
            assert tracking in label.content()
            screenshot(label, tmp_path, "07-label")

        # -- the carrier's signed webhook: the journey up to delivery
        shipment.refresh_from_db()
        assert shipment.status == ShipmentStatus.SHIPPED and shipment.shipped_at is not None
        carrier, now = SimulatedCarrier(), timezone.now()
        journey = [
            dataclasses.replace(u, at=min(u.at, now))
            for u in carrier.simulate_events(
                tracking,
                (wh.site.latitude, wh.site.longitude, wh.site.city),
                (order.latitude, order.longitude, order.city),
                shipment.shipped_at,
            )
        ]
        body = carrier.payload(journey)
        refused = playwright.request.new_context(base_url=url).post(
            f"{API}/carriers/sim/webhook",
            data=body,
            headers={SIGNATURE_HEADER: "00" * 32, "Content-Type": "application/json"},
        )
        assert refused.status == 401
        hook = playwright.request.new_context(base_url=url).post(
            f"{API}/carriers/sim/webhook",
            data=body,
            headers={SIGNATURE_HEADER: carrier.sign(body), "Content-Type": "application/json"},
        )
        assert hook.status == 200, hook.text()
        assert hook.json()["recorded"] == len(journey)

        with browser.person(wh.manager, DESKTOP, "en-US", "manager-after") as desk:
            desk.goto(f"{url}/fulfilment/orders/{order.number}/")
            timeline = desk.get_by_test_id("timeline")
            timeline.locator('li[data-kind="delivered"]').wait_for()
            kinds = _timeline_kinds(desk)
            first_seen = list(dict.fromkeys(kinds))
            expected = ["received", "sourced", "reserved", "waved", "picked", "checked",
                        "packed", "shipped", "tracking", "delivered"]  # fmt: skip
            assert [k for k in first_seen if k in expected] == expected, kinds
            picked = timeline.locator('li[data-kind="picked"]').all_inner_texts()
            assert any(wh.picker.username in text and LOT in text for text in picked), picked
            checked = timeline.locator('li[data-kind="checked"]').inner_text()
            assert wh.checker.username in checked
            assert tracking in timeline.inner_text()
            screenshot(desk, tmp_path, "08-order-delivered")
            desk.goto(f"{url}/fulfilment/orders/{other.number}/")
            assert desk.get_by_test_id("timeline").locator('li[data-kind="short_picked"]').count()
            screenshot(desk, tmp_path, "09-short-picked-order")

        browser.browser.close()
    assert browser.errors == [], browser.errors

    order.refresh_from_db()
    shipment.refresh_from_db()
    assert (order.status, shipment.status) == (OrderStatus.DELIVERED, ShipmentStatus.DELIVERED)
    assert shipment.checked_by == wh.checker
    assert verify_ledger() == []
