"""The order screens on a phone (390x844) in headless Chromium: the list, the detail with
its sourcing decision and timeline, cancelling through the confirm dialog, the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chainstore.core.browser import browser_marks, login, phone_page, screenshot
from chainstore.core.testing import make_sku, make_user
from chainstore.fulfilment.models import OrderStatus
from chainstore.fulfilment.services.intake import create_order
from chainstore.fulfilment.tests.orders_world import (
    BEIJING,
    available,
    make_channel,
    order_input,
    put,
    ship_from,
)

pytestmark = browser_marks


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_order_pages_on_a_phone(transactional_db: None, live_server: Any, tmp_path: Path) -> None:
    admin = make_user("admin")
    channel = make_channel()
    near, near_bin = ship_from(admin)
    far, far_bin = ship_from(admin, at=BEIJING)
    milk, tea = make_sku(admin, name="蒙牛纯牛奶 250ml"), make_sku(admin, name="东方树叶乌龙茶")
    put(admin, near, near_bin, milk, 2)
    put(admin, far, far_bin, milk, 5)
    put(admin, far, far_bin, tea, 5)
    order = create_order(
        channel_code=channel.code,
        payload=order_input([(milk, 3), (tea, 1)], customer_name="王芳"),
        actor=admin,
    )
    hq = make_user("hq_planner")
    url = live_server.url
    with phone_page("zh-CN") as page:
        login(page, url, hq)

        page.goto(f"{url}/fulfilment/orders/")
        assert order.number in page.get_by_test_id("orders").inner_text()
        _no_sideways_scroll(page)
        screenshot(page, tmp_path, "orders-list-zh-390")

        page.get_by_role("link", name=order.number).click()
        page.get_by_test_id("decision").wait_for()
        chosen = page.locator('[data-testid="candidates"] tr[data-chosen="1"]')
        assert chosen.count() == 1 and far.code in chosen.inner_text()
        assert page.locator('[data-testid="timeline"] li').count() == 3
        _no_sideways_scroll(page)
        screenshot(page, tmp_path, "order-detail-zh-390")

        page.get_by_test_id("cancel").click()
        page.get_by_test_id("cancel-reason").fill("顾客取消")
        screenshot(page, tmp_path, "order-cancel-dialog-zh-390")
        page.get_by_test_id("confirm-cancel").click()
        page.wait_for_url(f"{url}/fulfilment/orders/{order.number}/")
        assert page.locator('[data-testid="timeline"] li[data-kind="cancelled"]').count() == 1
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED
        assert available(far, milk) == 5000 and available(near, milk) == 2000

        page.goto(f"{url}/fulfilment/settings/")
        page.get_by_test_id("policy-form").wait_for()
        _no_sideways_scroll(page)
        screenshot(page, tmp_path, "fulfilment-settings-zh-390")
