"""In headless Chromium: a cashier picks the till, opens the shift, rings up a basket with a
wedge scanner (typed + Enter) and the keyboard, gets 满减 and a buy-2-get-1 gift live, adds
a member, pays cash with change, checks the receipt and the store's stock, and takes one
return through the return screen. Again in Chinese on a phone, paying by card."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainstore.core import testing
from chainstore.core.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    browser_marks,
    login,
    screenshot,
)
from chainstore.inventory.models import Balance, SiteSku
from chainstore.inventory.verify import verify_ledger
from chainstore.pos.models import (
    Member,
    MemberTier,
    Promotion,
    Sale,
    SaleKind,
    Shift,
    StoreSettings,
    Till,
)
from chainstore.pos.services import shifts

pytestmark = browser_marks

TABLET = {"width": 1024, "height": 768}
MILK = testing.ean13(880001)
CHIPS = testing.ean13(880002)
WATER = testing.ean13(880003)
YOGURT = testing.ean13(880004)


@contextmanager
def browser_page(viewport: dict[str, int], locale: str, shots: Path) -> Iterator[Any]:
    """A Chromium page of the given size; on a failure it leaves `failure.png` behind."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=viewport, locale=locale, device_scale_factor=1)
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield page
        except BaseException:
            screenshot(page, shots, "failure")
            raise
        finally:
            context.close()
            browser.close()
        assert errors == [], errors  # no script error on any page


@dataclass
class Shop:
    store: Any
    till: Till
    cashier: Any
    member: Member
    milk: Any
    chips: Any
    water: Any
    yogurt: Any


def _shop(*, milk_price: int = 1250) -> Shop:
    admin = testing.make_user("admin")
    store = testing.make_site(admin, "store", code="SH001")
    store.name = "上海徐汇店"
    store.save(update_fields=["name"])
    StoreSettings.objects.create(site=store, receipt_footer="谢谢惠顾 · 7 天无理由退货")
    till = Till.objects.create(site=store, code="T01", name="1号收银台")
    skus = {
        "milk": testing.make_sku(
            admin, code="MILK1L", name="光明鲜牛奶 1L", barcode=MILK, retail_price_fen=milk_price
        ),
        "chips": testing.make_sku(
            admin, code="CHIPS70", name="乐事薯片 70g", barcode=CHIPS, retail_price_fen=790
        ),
        "water": testing.make_sku(
            admin, code="WATER550", name="农夫山泉 550ml", barcode=WATER, retail_price_fen=200
        ),
        "yogurt": testing.make_sku(
            admin, code="YOG100", name="安慕希酸奶 100g", barcode=YOGURT, retail_price_fen=500
        ),
    }
    for sku in skus.values():
        testing.stock(admin, store, sku, 10_000, location=store.stock_location)
    threshold = Promotion.objects.create(
        code="MJ30", name="满30减5", kind="threshold", params={"tiers": [["30", "5"]]}
    )
    threshold.stores.add(store)
    gift = Promotion.objects.create(
        code="B2G1",
        name="买2瓶牛奶送酸奶",
        kind="buy_x_get_y",
        params={"buy": 2, "get": 1},
        gift_sku=skus["yogurt"],
    )
    gift.target_skus.add(skus["milk"])
    tier = MemberTier.objects.create(code="gold", name="金卡", rank=1, points_per_yuan=1)
    member = Member.objects.create(
        card_number="8800001", phone="13800138000", name="王芳", tier=tier, points_balance=100
    )
    return Shop(
        store=store,
        till=till,
        cashier=testing.make_user("cashier", sites=[store]),
        member=member,
        **skus,
    )


def _on_hand(shop: Shop, sku: Any) -> int:
    return SiteSku.objects.get(site=shop.store, sku=sku).on_hand


def _settled(page: Any) -> None:
    page.wait_for_selector('[data-testid="checkout"][data-ready="true"]')


def _scan(page: Any, code: str) -> None:
    """A wedge scanner: types into the focused scan box and presses Enter."""
    assert page.evaluate("document.activeElement.id") == "pos-scan"
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_timeout(30)
    _settled(page)


def _line(page: Any, sku: Any) -> Any:
    return page.locator(f'[data-testid="basket-line"][data-sku="{sku.code}"]')


def _quantity(page: Any, sku: Any) -> str:
    return str(_line(page, sku).get_by_test_id("line-qty").inner_text()).strip()


def _text(page: Any, test_id: str) -> str:
    return str(page.get_by_test_id(test_id).inner_text()).strip()


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_checkout_with_promotions_member_cash_and_a_return(
    transactional_db: None, live_server: Any, tmp_path: Path
) -> None:
    shop = _shop()
    url = live_server.url
    with browser_page(TABLET, "en-US", tmp_path) as page:
        page.on("dialog", lambda dialog: dialog.accept())
        login(page, url, shop.cashier)

        # The device is not a till yet: pick it, then open the shift with a float.
        page.goto(f"{url}/pos/")
        page.get_by_test_id("till-T01").click()
        page.wait_for_url(f"{url}/pos/")
        page.get_by_test_id("opening-float").fill("500")
        page.get_by_test_id("open-shift").click()
        page.get_by_test_id("no-shift").wait_for(state="detached")
        assert Shift.objects.get(till=shop.till, status="open").opening_float_fen == 50_000
        _settled(page)

        # Scan: milk twice (one line, 2), 3* chips, water then Delete, an unknown code.
        _scan(page, MILK)
        _scan(page, MILK)
        assert _line(page, shop.milk).count() == 1
        assert _quantity(page, shop.milk) == "2"
        _scan(page, f"3*{CHIPS}")
        _scan(page, WATER)
        assert page.get_by_test_id("basket-line").count() == 3
        page.keyboard.press("Delete")  # the scanned line is selected; Delete removes it
        _settled(page)
        assert page.get_by_test_id("basket-line").count() == 2
        _scan(page, "6900000000000")
        page.get_by_test_id("flash-danger").wait_for()
        assert page.get_by_test_id("basket-line").count() == 2

        # Arrow keys and +/-: milk to 3 and back to 2.
        page.keyboard.press("ArrowUp")
        page.keyboard.press("+")
        _settled(page)
        assert _quantity(page, shop.milk) == "3"
        page.keyboard.press("-")
        _settled(page)
        assert _quantity(page, shop.milk) == "2"

        # Live promotions: 满30减5 on ¥48.70 and the free yogurt for two milks.
        assert _text(page, "subtotal") == "¥48.70"
        assert _text(page, "discount") == "-¥5.00"
        assert _text(page, "total") == "¥43.70"
        gift = page.get_by_test_id("gift-line")
        assert (
            gift.count() == 1 and "安慕希酸奶" in gift.inner_text() and "Gift" in gift.inner_text()
        )
        promotions = page.get_by_test_id("promotion")
        assert promotions.count() == 2
        panel = page.get_by_test_id("promotions").inner_text()
        assert "满30减5" in panel and "-¥5.00" in panel and "买2瓶牛奶送酸奶" in panel
        assert page.get_by_test_id("line-discount").count() >= 1

        # F2: the member by phone.
        page.keyboard.press("F2")
        page.get_by_test_id("member-query").fill("13800138000")
        page.keyboard.press("Enter")
        page.get_by_test_id("member").wait_for()
        _settled(page)
        assert "王芳" in page.get_by_test_id("member").inner_text()
        points = int(_text(page, "points-to-earn"))
        assert points > 0
        _no_sideways_scroll(page)
        screenshot(page, tmp_path, "pos-checkout-en-1024")

        # F9: cash 50, the change is shown live, Enter pays.
        page.keyboard.press("F9")
        page.get_by_test_id("tender-dialog").wait_for()
        assert _text(page, "tender-total") == "¥43.70"
        page.keyboard.type("50")
        assert _text(page, "change-due") == "¥6.30"
        screenshot(page, tmp_path, "pos-tender-en-1024")
        page.keyboard.press("Enter")
        page.get_by_test_id("done-dialog").wait_for()
        assert _text(page, "done-change") == "¥6.30"
        assert _text(page, "done-points") == str(points)

        sale = Sale.objects.get(kind=SaleKind.SALE)
        assert (sale.subtotal_fen, sale.discount_fen, sale.total_fen) == (4870, 500, 4370)
        assert sale.member == shop.member and sale.points_earned == points
        assert [
            (t.kind, t.amount_fen, t.tendered_fen, t.change_fen) for t in sale.tenders.all()
        ] == [("cash", 4370, 5000, 630)]
        shop.member.refresh_from_db()
        assert shop.member.points_balance == 100 + points
        # The stock left the store at payment: 2 milk, 3 chips, 1 free yogurt; water stays.
        assert _on_hand(shop, shop.milk) == 8_000
        assert _on_hand(shop, shop.chips) == 7_000
        assert _on_hand(shop, shop.yogurt) == 9_000
        assert _on_hand(shop, shop.water) == 10_000

        # Enter: the next shopper gets an empty basket, the scan box has the focus again.
        page.keyboard.press("Enter")
        page.get_by_test_id("done-dialog").wait_for(state="hidden")
        page.wait_for_function("document.activeElement.id === 'pos-scan'")
        assert page.get_by_test_id("empty-basket").is_visible()

        # The receipt: promotions with their explanation, gift, member points, totals.
        page.goto(f"{url}/pos/sales/{sale.pk}/receipt/")
        receipt = page.get_by_test_id("receipt").inner_text()
        assert sale.number in receipt and "上海徐汇店" in receipt
        assert "满30减5" in receipt and "spend" in receipt
        assert "买2瓶牛奶送酸奶" in receipt and "安慕希酸奶" in receipt
        assert _text(page, "receipt-subtotal") == "¥48.70"
        assert _text(page, "receipt-discount") == "-¥5.00"
        assert _text(page, "receipt-total") == "¥43.70"
        assert _text(page, "receipt-change") == "¥6.30"
        assert _text(page, "receipt-points-earned") == str(points)
        assert _text(page, "receipt-points-balance") == str(100 + points)
        assert "谢谢惠顾" in receipt
        screenshot(page, tmp_path, "pos-receipt-en")

        # A return through the UI: the 3 chips come back; without them the basket no longer
        # reaches ¥30, so the 满减 discount is recovered from the refund.
        page.goto(f"{url}/pos/")
        page.keyboard.press("F8")
        page.wait_for_url(f"{url}/pos/returns/")
        page.get_by_test_id("return-scan").fill(sale.number)
        page.keyboard.press("Enter")
        chips = page.get_by_test_id("return-line").filter(has_text="乐事薯片")
        chips.wait_for()
        for _ in range(3):
            chips.get_by_test_id("return-plus").click()
        page.get_by_test_id("return-preview").click()
        page.get_by_test_id("flash-warning").wait_for()  # a return needs a reason
        page.get_by_test_id("return-reason-choice").first.click()
        page.get_by_test_id("return-preview").click()
        page.get_by_test_id("return-preview-panel").wait_for()
        recovered = page.get_by_test_id("recovered")
        assert recovered.count() == 1 and "满30减5" in recovered.inner_text()
        preview_refund = _text(page, "refund-total")
        screenshot(page, tmp_path, "pos-return-preview-en")
        page.get_by_test_id("return-confirm").click()
        page.get_by_test_id("return-done").wait_for()

        refund = Sale.objects.get(kind=SaleKind.RETURN)
        assert refund.original == sale and refund.recovered_fen > 0
        assert _text(page, "return-refund") == preview_refund
        assert preview_refund == f"¥{refund.total_fen / 100:.2f}"
        assert _on_hand(shop, shop.chips) == 10_000  # back on the shelf
        page.goto(f"{url}/pos/sales/{refund.pk}/receipt/")
        assert sale.number in page.get_by_test_id("receipt-original").inner_text()
        screenshot(page, tmp_path, "pos-return-receipt-en")

    assert verify_ledger() == []


def test_checkout_in_chinese_on_a_phone_paid_by_card(
    transactional_db: None, live_server: Any, tmp_path: Path
) -> None:
    shop = _shop()
    shifts.open_shift(
        store=shop.store, till=shop.till, opening_float_fen=20_000, actor=shop.cashier
    )
    url = live_server.url
    with browser_page(PHONE, "zh-CN", tmp_path) as page:
        login(page, url, shop.cashier)
        page.context.add_cookies([{"name": "cs_till", "value": str(shop.till.pk), "url": url}])
        page.goto(f"{url}/pos/")
        assert page.evaluate("document.documentElement.lang") == "zh-hans"
        _settled(page)

        # F4 parks a basket (挂单), F6 brings it back.
        _scan(page, WATER)
        page.keyboard.press("F4")
        page.get_by_test_id("suspend-label").fill("穿红衣服的顾客")
        page.keyboard.press("Enter")
        page.get_by_test_id("empty-basket").wait_for()
        _settled(page)
        page.keyboard.press("F6")
        page.get_by_test_id("suspended-basket").filter(has_text="穿红衣服的顾客").wait_for()
        page.keyboard.press("Enter")
        _line(page, shop.water).wait_for()
        _settled(page)
        page.keyboard.press("Delete")
        page.get_by_test_id("empty-basket").wait_for()
        _settled(page)

        _scan(page, f"2*{MILK}")
        _scan(page, CHIPS)
        page.keyboard.press("F2")
        page.get_by_test_id("member-query").fill("8800001")  # the member card
        page.keyboard.press("Enter")
        page.get_by_test_id("member").wait_for()
        _settled(page)
        # 2 × 12.50 + 7.90 = 32.90 ≥ 30: 满30减5, and the gift for two milks.
        assert _text(page, "total") == "¥27.90"
        assert page.get_by_test_id("gift-line").count() == 1
        assert "满30减5" in page.get_by_test_id("promotions").inner_text()
        assert "数量" in page.get_by_test_id("function-keys").inner_text()  # F3 Quantity
        _no_sideways_scroll(page)
        screenshot(page, tmp_path, "pos-checkout-zh-phone")

        page.keyboard.press("F10")  # bank card for the whole amount
        page.get_by_test_id("tender-reference").fill("POS-778812")
        page.get_by_test_id("tender-submit").click()
        page.get_by_test_id("done-dialog").wait_for()
        assert _text(page, "done-change") == "¥0.00"
        screenshot(page, tmp_path, "pos-done-zh-phone")

        sale = Sale.objects.get(kind=SaleKind.SALE)
        assert sale.total_fen == 2790
        tender = sale.tenders.get()
        assert (tender.kind, tender.amount_fen, tender.reference) == (
            "bank_card",
            2790,
            "POS-778812",
        )
        assert _on_hand(shop, shop.milk) == 8_000
        assert _on_hand(shop, shop.chips) == 9_000
        assert _on_hand(shop, shop.yogurt) == 9_000

        page.goto(f"{url}/pos/sales/{sale.pk}/receipt/")
        receipt = page.get_by_test_id("receipt").inner_text()
        assert "满30减5" in receipt and "POS-778812" in receipt
        screenshot(page, tmp_path, "pos-receipt-zh-phone")

        # The shift: the X report has the card sale; close with ¥0.50 short in the drawer.
        page.on("dialog", lambda dialog: dialog.accept())  # "Close the shift …?"
        page.goto(f"{url}/pos/shift/")
        page.get_by_test_id("x-report").wait_for()
        page.get_by_test_id("x-net").filter(has_text="¥27.90").wait_for()
        assert _text(page, "x-sales-count") == "1"
        assert _text(page, "x-expected") == "¥200.00"  # the float; no cash taken
        page.get_by_test_id("counted-cash").fill("199.50")
        assert _text(page, "variance-preview").endswith("-¥0.50")
        _no_sideways_scroll(page)
        screenshot(page, tmp_path, "pos-shift-zh-phone")
        page.get_by_test_id("close-shift").click()
        page.get_by_test_id("shift-closed").wait_for()
        assert _text(page, "variance") == "-¥0.50"
        shift = Shift.objects.get(till=shop.till)
        assert (shift.status, shift.counted_cash_fen, shift.expected_cash_fen) == (
            "closed",
            19_950,
            20_000,
        )
    assert verify_ledger() == []


def test_store_manager_takes_back_damaged_goods_without_a_receipt(
    transactional_db: None, live_server: Any, tmp_path: Path
) -> None:
    shop = _shop()
    manager = testing.make_user("store_manager", sites=[shop.store])
    shifts.open_shift(store=shop.store, till=shop.till, opening_float_fen=0, actor=manager)
    url = live_server.url
    with browser_page(TABLET, "en-US", tmp_path) as page:
        login(page, url, manager)
        page.context.add_cookies([{"name": "cs_till", "value": str(shop.till.pk), "url": url}])
        page.goto(f"{url}/pos/returns/")
        page.get_by_test_id("mode-unreceipted").click()
        page.get_by_test_id("return-scan").fill(WATER)
        page.keyboard.press("Enter")
        page.get_by_test_id("return-scan").fill(WATER)  # the same item again: 2
        page.keyboard.press("Enter")
        line = page.get_by_test_id("return-line")
        assert line.count() == 1
        assert line.get_by_test_id("return-quantity").input_value() == "2"
        line.get_by_test_id("return-condition").select_option("damaged")
        page.get_by_test_id("return-reason").fill("包装破损")
        page.get_by_test_id("return-preview").click()
        page.get_by_test_id("refund-total").filter(has_text="¥4.00").wait_for()
        assert "农夫山泉" in page.get_by_test_id("return-preview-panel").inner_text()
        screenshot(page, tmp_path, "pos-return-unreceipted-en-1024")
        page.get_by_test_id("return-confirm").click()
        page.get_by_test_id("return-done").wait_for()
        assert _text(page, "return-refund") == "¥4.00"

    refund = Sale.objects.get(kind=SaleKind.RETURN)
    assert refund.original is None and refund.total_fen == 400
    line = refund.lines.get()
    assert (line.sku, line.quantity, line.condition) == (shop.water, 2_000, "damaged")
    assert [(t.kind, t.amount_fen) for t in refund.tenders.all()] == [("cash", 400)]
    # Back in the store, but not on the shelf: the damaged-goods location holds them.
    shelf = Balance.objects.get(location=shop.store.stock_location, sku=shop.water)
    damaged = Balance.objects.get(location__site=shop.store, location__kind="damaged")
    assert (shelf.on_hand, damaged.sku, damaged.on_hand) == (10_000, shop.water, 2_000)
    assert verify_ledger() == []


def test_a_lost_payment_answer_is_retried_with_the_same_key_and_charges_once(
    transactional_db: None, live_server: Any, tmp_path: Path
) -> None:
    shop = _shop()
    shifts.open_shift(store=shop.store, till=shop.till, opening_float_fen=0, actor=shop.cashier)
    url = live_server.url
    keys: list[str] = []

    def answer_lost_once(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        response = route.fetch()  # the server takes the payment ...
        if len(keys) == 1:
            route.abort()  # ... but the till never hears back
        else:
            route.fulfill(response=response)

    with browser_page(TABLET, "en-US", tmp_path) as page:
        login(page, url, shop.cashier)
        page.context.add_cookies([{"name": "cs_till", "value": str(shop.till.pk), "url": url}])
        page.route("**/api/v1/pos/sales", answer_lost_once)
        page.goto(f"{url}/pos/")
        _settled(page)
        _scan(page, CHIPS)
        page.keyboard.press("F9")
        page.get_by_test_id("tender-dialog").wait_for()
        page.keyboard.press("Enter")  # exact cash
        page.get_by_test_id("payment-uncertain").wait_for()
        assert Sale.objects.count() == 1  # it did go through

        # Even after a reload the till remembers the unanswered payment and its key.
        page.reload()
        page.get_by_test_id("retry-payment").click()
        page.get_by_test_id("retry-confirm").click()
        page.get_by_test_id("done-dialog").wait_for()
        assert _text(page, "done-number") == Sale.objects.get().number

    assert len(keys) == 2 and keys[0] == keys[1]
    assert Sale.objects.count() == 1
    assert _on_hand(shop, shop.chips) == 9_000  # one unit left the shelf, once
    assert verify_ledger() == []
