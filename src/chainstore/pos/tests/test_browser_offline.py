"""In headless Chromium: the till loses the network, goes on selling from its saved
catalog (store prices, no promotions, cash and card only), keeps the sales through a
reload, and uploads them once the server answers again — each exactly once, even when the
answer to the first upload is lost; a sale the store's "block" policy refuses stays on
screen as a sync problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chainstore.catalog.models import Barcode
from chainstore.core import testing
from chainstore.core.browser import browser_marks, login, screenshot
from chainstore.inventory.models import SiteSku
from chainstore.inventory.verify import verify_ledger
from chainstore.pos.models import Promotion, Sale, SaleKind, StoreSettings, Till
from chainstore.pos.services import shifts
from chainstore.pos.services.scan import scale_barcode
from chainstore.pos.tests.test_browser_checkout import TABLET, browser_page

pytestmark = browser_marks

MILK = testing.ean13(890001)
CHIPS = testing.ean13(890002)
LAST = testing.ean13(890003)
APPLES_456G = scale_barcode("00123", 456)  # 0.456 kg of the weighed apples


def _world() -> dict[str, Any]:
    admin = testing.make_user("admin")
    store = testing.make_site(admin, "store", code="SH002")
    StoreSettings.objects.create(site=store, short_sale_policy="block")
    till = Till.objects.create(site=store, code="T02", name="2号收银台")
    milk = testing.make_sku(
        admin, code="MILK1L", name="光明鲜牛奶 1L", barcode=MILK, retail_price_fen=1250
    )
    chips = testing.make_sku(
        admin, code="CHIPS70", name="乐事薯片 70g", barcode=CHIPS, retail_price_fen=790
    )
    last = testing.make_sku(
        admin, code="LAST1", name="最后一盒饼干", barcode=LAST, retail_price_fen=1500
    )
    apples = testing.make_sku(
        admin, code="APPLE", name="红富士苹果", base_unit="kg", retail_price_fen=1298
    )
    Barcode.objects.create(sku=apples, code="00123", kind="internal")
    for sku, milli in ((milk, 10_000), (chips, 10_000), (last, 1_000), (apples, 5_000)):
        testing.stock(admin, store, sku, milli, location=store.stock_location)
    threshold = Promotion.objects.create(
        code="MJ30", name="满30减5", kind="threshold", params={"tiers": [["30", "5"]]}
    )
    threshold.stores.add(store)
    cashier = testing.make_user("cashier", sites=[store])
    shifts.open_shift(store=store, till=till, opening_float_fen=10_000, actor=cashier)
    return {
        "store": store,
        "till": till,
        "cashier": cashier,
        "milk": milk,
        "chips": chips,
        "last": last,
        "apples": apples,
    }


def _on_hand(w: dict[str, Any], sku: Any) -> int:
    return SiteSku.objects.get(site=w["store"], sku=sku).on_hand


def _settled(page: Any) -> None:
    page.wait_for_selector('[data-testid="checkout"][data-ready="true"]')


def _scan(page: Any, code: str) -> None:
    page.get_by_test_id("pos-scan").focus()
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_timeout(30)
    _settled(page)


def _text(page: Any, test_id: str) -> str:
    return str(page.get_by_test_id(test_id).inner_text()).strip()


def _queue(page: Any) -> list[dict[str, Any]]:
    raw = page.evaluate("window.localStorage.getItem('cs-pos-offline:SH002:T02') || '[]'")
    return list(json.loads(raw))


def _pay_cash(page: Any, received: str) -> None:
    page.keyboard.press("F9")
    page.get_by_test_id("tender-dialog").wait_for()
    page.get_by_test_id("tender-cash-received").fill(received)
    page.get_by_test_id("tender-submit").click()
    page.get_by_test_id("done-dialog").wait_for()


def _next_shopper(page: Any) -> None:
    page.keyboard.press("Enter")
    page.get_by_test_id("done-dialog").wait_for(state="hidden")
    _settled(page)


def test_offline_sales_survive_a_reload_and_upload_exactly_once(
    transactional_db: None, live_server: Any, tmp_path: Path
) -> None:
    w = _world()
    url = live_server.url
    with browser_page(TABLET, "en-US", tmp_path) as page:
        context = page.context
        login(page, url, w["cashier"])
        context.add_cookies([{"name": "cs_till", "value": str(w["till"].pk), "url": url}])
        page.goto(f"{url}/pos/")
        _settled(page)
        # Online: the catalog is kept on the till, the page for a reload without network.
        page.wait_for_selector('[data-testid="checkout"][data-catalog="4"]')
        page.wait_for_function(
            "navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready"
        )
        page.wait_for_function(
            "caches.open('cs-pos-pages-v1').then(c => c.match('/pos/', {ignoreVary: true}))"
            ".then(r => !!r)"
        )

        # The network goes: the till says so and sells from its catalog.
        context.set_offline(True)
        page.wait_for_selector('[data-testid="checkout"][data-offline="true"]')
        banner = page.get_by_test_id("offline-banner")
        banner.wait_for()
        assert "no promotions" in banner.inner_text()
        assert _text(page, "offline-queue-count") == "0"

        # Sale 1: two milks and a scale label of apples; ¥30.92 (online 满30减5 would apply).
        _scan(page, MILK)
        _scan(page, MILK)
        _scan(page, APPLES_456G)
        _scan(page, "6900000000000")  # not in the catalog: refused, the basket unchanged
        page.get_by_test_id("flash-danger").wait_for()
        assert page.get_by_test_id("basket-line").count() == 2
        assert _text(page, "total") == "¥30.92"  # 2 × 12.50 + round(12.98 × 0.456)
        assert _text(page, "discount") == "¥0.00"
        page.keyboard.press("F9")
        page.get_by_test_id("tender-dialog").wait_for()
        kinds = page.locator('[data-testid^="tender-kind-"]')
        assert kinds.count() == 4  # no points, no gift card offline
        assert page.get_by_test_id("tender-kind-gift_card").count() == 0
        page.keyboard.type("50")
        assert _text(page, "change-due") == "¥19.08"
        page.keyboard.press("Enter")
        page.get_by_test_id("done-offline").wait_for()
        assert _text(page, "done-change") == "¥19.08"
        first_number = _text(page, "done-number")
        assert "-OFF-" in first_number
        page.get_by_test_id("print-receipt").click()
        receipt = page.frame_locator("iframe.cs-print-frame").locator("body")
        assert "OFFLINE RECEIPT" in receipt.inner_text()
        assert first_number in receipt.inner_text() and "¥30.92" in receipt.inner_text()
        screenshot(page, tmp_path, "pos-offline-done-en")
        _next_shopper(page)
        assert _text(page, "offline-queue-count") == "1"

        # Sale 2: chips by card.
        _scan(page, CHIPS)
        page.keyboard.press("F10")
        page.get_by_test_id("tender-reference").fill("POS-1234")
        page.get_by_test_id("tender-submit").click()
        page.get_by_test_id("done-dialog").wait_for()
        _next_shopper(page)

        # Sale 3: two of the last box of biscuits — the store blocks short sales.
        _scan(page, f"2*{LAST}")
        _pay_cash(page, "")
        _next_shopper(page)
        assert _text(page, "offline-queue-count") == "3"
        assert Sale.objects.count() == 0  # nothing reached the server

        # A reload while offline: the page comes from the till, the queue is still there.
        page.reload()
        _settled(page)
        page.wait_for_selector('[data-testid="checkout"][data-offline="true"]')
        assert _text(page, "offline-queue-count") == "3"
        queue = _queue(page)
        assert [e["body"]["priced_by"] for e in queue] == ["client"] * 3
        assert len({e["key"] for e in queue}) == 3
        screenshot(page, tmp_path, "pos-offline-reloaded-en")

        # The network is back, but the answer to the first upload is lost on the way.
        lost: list[int] = []

        def lose_answer(route: Any) -> None:
            if lost:
                route.continue_()
                return
            response = route.fetch()  # the server processes the batch ...
            lost.append(response.status)
            route.abort("connectionreset")  # ... and the till never hears back

        page.route("**/api/v1/pos/batches", lose_answer)
        context.set_offline(False)
        page.wait_for_function("() => window.navigator.onLine")
        page.get_by_test_id("sync-problems").wait_for(timeout=60_000)
        page.wait_for_selector('[data-testid="checkout"][data-offline="false"]')
        assert lost == [200]
        page.get_by_test_id("sync-pending").wait_for(state="hidden")
        assert _queue(page) == []

        sales = list(Sale.objects.filter(kind=SaleKind.SALE).order_by("pk"))
        assert [(s.total_fen, s.offline, s.priced_by) for s in sales] == [
            (3092, True, "client"),
            (790, True, "client"),
        ]
        assert [t.kind for t in sales[1].tenders.all()] == ["bank_card"]
        assert _on_hand(w, w["milk"]) == 8_000
        assert _on_hand(w, w["apples"]) == 5_000 - 456
        assert _on_hand(w, w["chips"]) == 9_000
        assert _on_hand(w, w["last"]) == 1_000  # refused: nothing moved

        problem = page.get_by_test_id("sync-problem")
        assert problem.count() == 1
        assert problem.get_attribute("data-code") == "insufficient_stock"
        assert _text(page, "sync-problem-error")
        screenshot(page, tmp_path, "pos-offline-sync-problem-en")

        # The same queue once more (say a second tab had it): nothing new.
        replay = page.evaluate(
            """async (sales) => {
                const csrf = document.querySelector('meta[name=csrf-token]').content;
                const r = await fetch('/api/v1/pos/batches', {method: 'POST',
                    headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
                    body: JSON.stringify({store: 'SH002', till: 'T02', sales: sales})});
                return (await r.json()).results.map(x => x.status);
            }""",
            [e["body"] for e in queue],
        )
        assert replay == ["replayed", "replayed", "rejected"]
        assert Sale.objects.filter(kind=SaleKind.SALE).count() == 2
        assert _on_hand(w, w["milk"]) == 8_000

        # The manager fixes the stock and tries the refused sale again: now it goes in.
        testing.stock(
            testing.make_user("admin"),
            w["store"],
            w["last"],
            5_000,
            location=w["store"].stock_location,
        )
        page.get_by_test_id("sync-problem-retry").click()
        page.get_by_test_id("sync-problems").wait_for(state="hidden")
        page.wait_for_function(
            "window.localStorage.getItem('cs-pos-offline:SH002:T02') === '[]'", timeout=30_000
        )
        assert page.get_by_test_id("sync-problem").count() == 0
        assert Sale.objects.filter(kind=SaleKind.SALE).count() == 3
        assert _on_hand(w, w["last"]) == 4_000

    assert verify_ledger() == []


def test_a_payment_whose_answer_is_lost_is_kept_and_never_sold_twice(
    transactional_db: None, live_server: Any, tmp_path: Path
) -> None:
    w = _world()
    url = live_server.url
    with browser_page(TABLET, "en-US", tmp_path) as page:
        login(page, url, w["cashier"])
        page.context.add_cookies([{"name": "cs_till", "value": str(w["till"].pk), "url": url}])
        page.goto(f"{url}/pos/")
        _settled(page)
        _scan(page, MILK)
        _scan(page, CHIPS)
        assert _text(page, "total") == "¥20.40"

        def lose_answer(route: Any) -> None:
            route.fetch()  # the sale is rung up on the server ...
            route.abort("connectionreset")  # ... but the till never hears back

        page.route("**/api/v1/pos/sales", lose_answer)
        page.keyboard.press("F9")
        page.get_by_test_id("tender-dialog").wait_for()
        page.get_by_test_id("tender-submit").click()
        page.get_by_test_id("payment-uncertain").wait_for()
        assert Sale.objects.count() == 1
        page.unroute("**/api/v1/pos/sales")

        # The cashier keeps it for the upload (same key, same body) and serves the next one.
        page.get_by_test_id("keep-for-upload").click()
        page.get_by_test_id("done-offline").wait_for()
        assert _text(page, "done-total") == "¥20.40"
        _next_shopper(page)

        # The upload replays the payment: still one sale, the stock taken once.
        page.wait_for_function(
            "window.localStorage.getItem('cs-pos-offline:SH002:T02') === '[]'", timeout=40_000
        )
        assert page.get_by_test_id("sync-problem").count() == 0
        assert Sale.objects.count() == 1
        assert _on_hand(w, w["milk"]) == 9_000 and _on_hand(w, w["chips"]) == 9_000
