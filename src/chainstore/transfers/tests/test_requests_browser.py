"""Request and approval screens on a phone (390x844) in headless Chromium: a store manager
asks for stock from the safety-stock suggestion, the regional manager approves from the
inbox, HQ approves on the detail page; the rules page builds a two-level chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chainstore.core.browser import browser_marks, login, phone_page, screenshot
from chainstore.inventory.services import set_safety_stock
from chainstore.transfers.models import ApprovalRule, Transfer, TransferStatus
from chainstore.transfers.tests.test_requests_world import make_rule, make_user, world

pytestmark = browser_marks
__all__ = ["world"]


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_request_and_two_approvals_on_a_phone(
    transactional_db: None, live_server: Any, tmp_path: Path, world: Any, admin: Any
) -> None:
    w = world
    make_rule(admin, ("store_manager", "destination"), ("hq_planner", "chain"), name="两级审批")
    set_safety_stock(site=w.store_a, sku=w.milk, quantity=20_000, actor=admin)
    regional = make_user("store_manager", [w.store_a, w.store_b])
    hq = make_user("hq_planner")
    url = live_server.url

    with phone_page("zh-CN") as page:
        login(page, url, w.requester)
        page.goto(f"{url}/transfers/new/?site={w.store_a.code}&sku={w.milk.code}")
        page.get_by_test_id("suggestion").wait_for()
        assert page.get_by_test_id("line-sku").input_value() == w.milk.code
        assert page.get_by_test_id("line-quantity").input_value() == "20"
        page.get_by_test_id("add-line").click()
        page.get_by_test_id("line-sku").nth(1).fill(w.soap.code)
        page.get_by_test_id("line-quantity").nth(1).fill("3")
        _no_sideways_scroll(page)
        screenshot(page, tmp_path, "transfer-new-zh-390")
        page.get_by_test_id("submit").click()
        page.get_by_test_id("approval-chain").wait_for()
        transfer = Transfer.objects.get()
        assert transfer.status == TransferStatus.PENDING_APPROVAL
        assert transfer.lines.count() == 2

    with phone_page("zh-CN") as page:
        login(page, url, regional)
        page.goto(f"{url}/transfers/approvals/")
        item = page.get_by_test_id("inbox-item")
        assert item.count() == 1 and transfer.number in item.inner_text()
        _no_sideways_scroll(page)
        screenshot(page, tmp_path, "transfer-inbox-zh-390")
        item.get_by_test_id("decide-comment").fill("区域经理同意")
        item.get_by_test_id("approve").click()
        page.wait_for_url(f"{url}/transfers/approvals/")
        assert page.get_by_test_id("inbox-item").count() == 0

    with phone_page("en-US") as page:
        login(page, url, hq)
        page.goto(f"{url}/transfers/{transfer.number}/")
        assert page.get_by_test_id("reject").is_disabled()  # a comment is required first
        page.get_by_test_id("decide-comment").fill("OK from HQ")
        _no_sideways_scroll(page)
        screenshot(page, tmp_path, "transfer-detail-en-390")
        page.get_by_test_id("approve").click()
        page.locator('[data-testid="timeline"] li[data-kind="reserved"]').wait_for()
        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.APPROVED

        page.goto(f"{url}/transfers/rules/")
        page.get_by_test_id("add-level").click()
        assert page.get_by_test_id("level").count() == 2
        page.fill("input[name=name]", "Big pushes")
        page.fill("input[name=min_quantity]", "500")
        _no_sideways_scroll(page)
        screenshot(page, tmp_path, "transfer-rules-en-390")
        page.get_by_test_id("save-rule").click()
        page.get_by_text("Big pushes").wait_for()
        rule = ApprovalRule.objects.get(name="Big pushes")
        assert list(rule.levels.values_list("role", flat=True)) == ["store_manager", "hq_planner"]
