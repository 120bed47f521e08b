"""One transfer (调拨) end to end in headless Chromium, every step through the real screens.

A store manager of S1 (desktop, English) sees yogurt below safety stock, clicks "Request
transfer" and submits the prefilled request (source: the warehouse W that holds it in a
bin) plus a line of noodles. The approval rule wants two levels: the regional manager (a
store manager over S1 and S2) approves from the inbox; the requester is offered no button
and a forged decision is refused; HQ approves level 2 on a phone in Chinese. A warehouse
operator at W picks on a phone by typed scans (bin, EAN; GS1 with the lot for the yogurt),
enters freight and handling and ships with the simulated carrier; its signed webhook adds
tracking events to the transfer's timeline. The store receives by scan one noodle short;
the SHORT is resolved as a carrier claim and the transfer closes. The ledger then proves
conservation, the landed cost in S1's moving average and the audit trail of both decisions.
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

from django.db.models import Sum
from django.utils import timezone

from chainstore.catalog.models import Sku
from chainstore.core.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, browser_marks, login, screenshot
from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_bin, make_site, make_sku, make_user, stock
from chainstore.integrations.carriers.simulated import SIGNATURE_HEADER, SimulatedCarrier
from chainstore.inventory.models import SiteSku, StockMove
from chainstore.inventory.services import set_safety_stock
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.models import Location, LocationKind, Site
from chainstore.sites.services import virtual_location
from chainstore.transfers.models import (
    ApprovalStep,
    Discrepancy,
    DiscrepancyKind,
    Resolution,
    StepStatus,
    Transfer,
    TransferStatus,
    TransferTrackingEvent,
)
from chainstore.transfers.services import rules
from chainstore.transfers.services.rules import LevelInput, RuleInput

pytestmark = browser_marks

DESKTOP: Any = {"width": 1280, "height": 900}
UNIT = 1000  # milli per unit
LOT = "Y2605"
YOGURT_COST = 3_000_000  # micro-yuan per unit at W
NOODLES_COST = 2_500_000
FREIGHT, HANDLING = "12.00", "3.00"  # yuan, entered on the ship screen
WEBHOOK = "/api/v1/fulfilment/carriers/sim/webhook"


@dataclass
class Chain:
    warehouse: Site
    store: Site  # S1, the destination
    yogurt: Sku  # lot-tracked, below safety stock at S1
    noodles: Sku
    expiry: dt.date
    requester: Any  # store manager of S1
    regional: Any  # store manager of S1 and S2: the rule's 区域经理
    hq: Any
    operator: Any  # warehouse operator at W


def _chain() -> Chain:
    """W (Shanghai) with yogurt and noodles in two bins, stores S1 and S2 (Suzhou), S1's
    safety stock of yogurt at 6 with none on hand, a two-level rule over 10 yuan."""
    admin = make_user("admin")
    warehouse = make_site(
        admin, "cdc", code="W-SH", city="上海", latitude=Decimal("31.230400"),
        longitude=Decimal("121.473700"),
    )  # fmt: skip
    store = make_site(
        admin, "store", code="S1-SZ", city="苏州", latitude=Decimal("31.298900"),
        longitude=Decimal("120.585300"),
    )  # fmt: skip
    other = make_site(admin, "store", code="S2-SZ", city="苏州")
    yogurt = make_sku(
        admin, code="YOG100", name="安慕希酸奶 100g", tracking="lot", shelf_life_days=60,
        weight_g=150,
    )  # fmt: skip
    noodles = make_sku(admin, code="NOOD1", name="康师傅红烧牛肉面", weight_g=120)
    expiry = timezone.localdate() + dt.timedelta(days=45)
    stock(
        admin, warehouse, yogurt, 200 * UNIT, lot=LOT, expiry=expiry, cost=YOGURT_COST,
        location=make_bin(admin, warehouse, "A-01-01"),
    )  # fmt: skip
    stock(
        admin, warehouse, noodles, 100 * UNIT, cost=NOODLES_COST,
        location=make_bin(admin, warehouse, "B-02-01"),
    )  # fmt: skip
    set_safety_stock(site=store, sku=yogurt, quantity=6 * UNIT, actor=admin)
    rules.create_rule(
        actor=admin,
        data=RuleInput(
            name="小额以上两级审批",
            min_value_fen=1_000,
            levels=[
                LevelInput(role="store_manager", scope="destination", name="区域经理"),
                LevelInput(role="hq_planner", scope="chain", name="总部计划"),
            ],
        ),
    )
    return Chain(
        warehouse=warehouse,
        store=store,
        yogurt=yogurt,
        noodles=noodles,
        expiry=expiry,
        requester=make_user("store_manager", [store]),
        regional=make_user("store_manager", [store, other]),
        hq=make_user("hq_planner"),
        operator=make_user("warehouse_operator", [warehouse]),
    )


def _ean(sku: Sku) -> str:
    return sku.barcodes.get().code


def _gs1(sku: Sku, lot: str, expiry: dt.date) -> str:
    return f"(01)0{_ean(sku)}(17){expiry:%y%m%d}(10){lot}"


class Browser:
    """One Chromium, a context per person; script errors on any page fail the test and a
    failure leaves a screenshot of the page it happened on."""

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


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _timeline_kinds(page: Any) -> list[str]:
    items = page.get_by_test_id("timeline").locator("li")
    return list(items.evaluate_all("items => items.map(li => li.dataset.kind)"))


def _moved(number: str, *, into: Any = None, out_of: Any = None) -> int:
    """Units of the transfer's stock operations moved into / out of the given locations."""
    moves = StockMove.objects.filter(operation__reference=number)
    if into is not None:
        moves = moves.filter(to_location__in=into)
    if out_of is not None:
        moves = moves.filter(from_location__in=out_of)
    return int(moves.aggregate(q=Sum("quantity"))["q"] or 0)


def test_a_transfer_from_alert_to_closed_with_a_carrier_claim(
    transactional_db: None, live_server: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    c = _chain()
    url = live_server.url
    with sync_playwright() as playwright:
        browser = Browser(playwright, url, tmp_path)

        # -- 1. the store manager asks from the safety-stock alert (desktop, English) ------
        with browser.person(c.requester, DESKTOP, "en-US", "requester") as desk:
            desk.goto(f"{url}/alerts/safety-stock/")
            row = desk.get_by_test_id("alerts").locator("tr", has_text=c.yogurt.code)
            assert row.count() == 1
            screenshot(desk, tmp_path, "01-safety-alerts")
            row.get_by_test_id("request-transfer").click()
            desk.get_by_test_id("suggestion").wait_for()
            assert desk.get_by_test_id("source").input_value() == c.warehouse.code
            assert desk.get_by_test_id("destination").input_value() == c.store.code
            assert desk.get_by_test_id("line-sku").input_value() == c.yogurt.code
            assert desk.get_by_test_id("line-quantity").input_value() == "6"
            desk.get_by_test_id("add-line").click()
            desk.get_by_test_id("line-sku").nth(1).fill(c.noodles.code)
            desk.get_by_test_id("line-quantity").nth(1).fill("4")
            screenshot(desk, tmp_path, "02-request-form")
            desk.get_by_test_id("submit").click()
            desk.get_by_test_id("approval-chain").wait_for()
            transfer = Transfer.objects.get()
            number = transfer.number
            assert transfer.status == TransferStatus.PENDING_APPROVAL
            assert (transfer.source, transfer.destination) == (c.warehouse, c.store)
            assert transfer.value_fen == 6 * 300 + 4 * 250
            assert desk.get_by_test_id("step").count() == 2
            assert "区域经理" in desk.get_by_test_id("step").first.inner_text()
            # the requester may not approve their own request: no button, nothing in the
            # inbox, and a forged decision is refused
            assert desk.get_by_test_id("approve").count() == 0
            token = desk.locator('meta[name="csrf-token"]').get_attribute("content")
            forged = desk.request.post(
                f"{url}/transfers/{number}/decide/",
                form={"decision": "approve", "comment": "自己批", "csrfmiddlewaretoken": token},
            )
            assert forged.ok  # a refusal is a message on the page it redirects to
            assert ApprovalStep.objects.get(seq=1).status == StepStatus.PENDING
            desk.goto(f"{url}/transfers/approvals/")
            assert desk.get_by_test_id("inbox-item").count() == 0
            screenshot(desk, tmp_path, "03-requester-detail")

        # -- 2a. the regional manager approves level 1 from the inbox ------------------------
        with browser.person(c.regional, DESKTOP, "en-US", "regional") as desk:
            desk.goto(f"{url}/transfers/approvals/")
            item = desk.get_by_test_id("inbox-item")
            assert item.count() == 1 and number in item.inner_text()
            item.get_by_test_id("decide-comment").fill("区域经理同意，尽快补货")
            screenshot(desk, tmp_path, "04-inbox-regional")
            item.get_by_test_id("approve").click()
            desk.wait_for_url(f"{url}/transfers/approvals/")
            assert desk.get_by_test_id("inbox-item").count() == 0

        # -- 2b. HQ approves level 2 on a phone, in Chinese ----------------------------------
        with browser.person(c.hq, PHONE, "zh-CN", "hq") as phone:
            phone.goto(f"{url}/transfers/{number}/")
            assert phone.evaluate("document.documentElement.lang") == "zh-hans"
            assert phone.get_by_test_id("step").nth(1).get_by_test_id("approve").count() == 1
            phone.get_by_test_id("decide-comment").fill("总部同意")
            _no_sideways_scroll(phone)
            screenshot(phone, tmp_path, "05-hq-approve-zh-390")
            phone.get_by_test_id("approve").click()
            phone.locator('[data-testid="timeline"] li[data-kind="reserved"]').wait_for()
            assert phone.get_by_test_id("ship-link").count() == 1
        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.APPROVED

        # -- 3. the warehouse operator picks by scan and ships (phone, Chinese) --------------
        with browser.person(c.operator, PHONE, "zh-CN", "operator") as phone:
            phone.goto(f"{url}/transfers/{number}/ship/")
            assert phone.get_by_test_id("task-list").locator("li").count() == 2
            _no_sideways_scroll(phone)
            screenshot(phone, tmp_path, "06-ship-pick-list-zh-390")
            for _ in range(2):
                bin_code = phone.get_by_test_id("task-bin").inner_text().strip()
                lot_tracked = bin_code == "A-01-01"
                _scan(phone, "exec-bin", bin_code)
                if lot_tracked:  # the GS1 code carries the lot; Enter on the lot field picks
                    _scan(phone, "exec-item", _gs1(c.yogurt, LOT, c.expiry))
                    _scan(phone, "exec-lot", "")
                else:
                    _scan(phone, "exec-item", _ean(c.noodles))
                phone.wait_for_function(
                    "code => { const bin = document.querySelector('[data-testid=task-bin]');"
                    " return !bin || bin.textContent.trim() !== code; }",
                    arg=bin_code,
                )
            phone.get_by_test_id("current-task").wait_for(state="detached")
            phone.get_by_test_id("ship-freight").fill(FREIGHT)
            phone.locator("#ship-handling").fill(HANDLING)
            phone.locator("#ship-carrier").select_option("sim")
            phone.locator("#ship-basis").select_option("weight")
            phone.get_by_test_id("ship-button").click()
            phone.get_by_test_id("shipped").wait_for()
            transfer.refresh_from_db()
            tracking = transfer.tracking_number
            assert tracking and transfer.status == TransferStatus.IN_TRANSIT
            assert tracking in phone.get_by_test_id("shipped").inner_text()
            _no_sideways_scroll(phone)
            screenshot(phone, tmp_path, "07-shipped-zh-390")

        # -- the simulated carrier posts its signed webhook ----------------------------------
        carrier, now = SimulatedCarrier(), timezone.now()
        assert transfer.shipped_at is not None
        journey = [
            dataclasses.replace(u, at=min(u.at, now))
            for u in carrier.simulate_events(
                tracking,
                (c.warehouse.latitude, c.warehouse.longitude, c.warehouse.city),
                (c.store.latitude, c.store.longitude, c.store.city),
                transfer.shipped_at,
            )
        ]
        body = carrier.payload(journey)
        hooks = playwright.request.new_context(base_url=url)
        refused = hooks.post(
            WEBHOOK,
            data=body,
            headers={SIGNATURE_HEADER: "00" * 32, "Content-Type": "application/json"},
        )
        assert refused.status == 401
        hook = hooks.post(
            WEBHOOK,
            data=body,
            headers={SIGNATURE_HEADER: carrier.sign(body), "Content-Type": "application/json"},
        )
        assert hook.status == 200, hook.text()
        assert hook.json()["recorded"] == len(journey)
        assert TransferTrackingEvent.objects.filter(transfer=transfer).count() == len(journey)

        with browser.person(c.requester, DESKTOP, "en-US", "requester-in-transit") as desk:
            desk.goto(f"{url}/transfers/{number}/")
            status = desk.locator('[data-status="in_transit"]')
            assert status.inner_text().strip() == "In transit"
            timeline = desk.get_by_test_id("timeline")
            assert timeline.locator('li[data-kind="tracking"]').count() == len(journey)
            assert timeline.locator('li[data-kind="shipped"]').count() == 1
            screenshot(desk, tmp_path, "08-detail-in-transit")

        # -- 4. the store receives by scan, one noodle short (phone, Chinese) ---------------
        with browser.person(c.requester, PHONE, "zh-CN", "receiver") as phone:
            phone.on("dialog", lambda dialog: dialog.accept())  # "post the receipt?"
            phone.goto(f"{url}/transfers/{number}/receive/")
            assert tracking in phone.locator("body").inner_text()
            scans = [(c.yogurt, _gs1(c.yogurt, LOT, c.expiry))] * 6 + [
                (c.noodles, _ean(c.noodles))
            ] * 3
            counted: dict[str, int] = {}
            for sku, code in scans:
                phone.get_by_test_id("receive-scan").focus()
                _scan(phone, "recv-scan", code)
                counted[sku.code] = counted.get(sku.code, 0) + 1
                phone.wait_for_function(
                    '([id, n]) => document.querySelector(`[data-testid="counted-${id}"]`)'
                    ".value === String(n)",
                    arg=[sku.code, counted[sku.code]],
                )
            _no_sideways_scroll(phone)
            screenshot(phone, tmp_path, "09-receive-counted-zh-390")
            assert phone.get_by_test_id("receive-final").is_checked()
            phone.get_by_test_id("receive-submit").click()
            found = phone.get_by_test_id("receive-discrepancies").locator(
                "li", has_text=c.noodles.code
            )
            found.wait_for()
            assert found.locator("strong").inner_text().strip() == "1"
            screenshot(phone, tmp_path, "10-receive-short-zh-390")

        short = Discrepancy.objects.get()
        assert (short.kind, short.quantity, short.line.sku) == (
            DiscrepancyKind.SHORT,
            UNIT,
            c.noodles,
        )
        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.RECEIVED

        # -- the store manager settles the shortage as a carrier claim ----------------------
        with browser.person(c.requester, DESKTOP, "en-US", "resolver") as desk:
            desk.goto(f"{url}/transfers/discrepancies/")
            row = desk.get_by_test_id(f"discrepancy-{short.pk}")
            assert c.noodles.code in row.inner_text()
            row.locator("select[name=resolution]").select_option(Resolution.CARRIER_CLAIM)
            row.locator("input[name=claim]").fill("2.50")
            row.locator("input[name=note]").fill("承运商丢失一件")
            screenshot(desk, tmp_path, "11-discrepancies")
            row.locator("button[type=submit]").click()
            desk.get_by_test_id("no-discrepancies").wait_for()
            desk.goto(f"{url}/transfers/{number}/")
            assert desk.locator('[data-status="closed"]').count() == 1
            kinds = _timeline_kinds(desk)
            first_seen = list(dict.fromkeys(kinds))
            expected = ["submitted", "approved", "reserved", "picked", "shipped", "tracking",
                        "received", "discrepancy", "resolved", "closed"]  # fmt: skip
            assert [k for k in first_seen if k in expected] == expected, kinds
            screenshot(desk, tmp_path, "12-detail-closed")

        browser.browser.close()
    assert browser.errors == [], browser.errors

    # -- 5. the books ------------------------------------------------------------------------
    transfer.refresh_from_db()
    short.refresh_from_db()
    assert transfer.status == TransferStatus.CLOSED and transfer.closed_at is not None
    assert (short.resolution, short.claim_fen, short.resolved_by) == (
        Resolution.CARRIER_CLAIM,
        250,
        c.requester,
    )
    assert (transfer.freight_fen, transfer.handling_fen) == (1_200, 300)
    lines = {ln.sku_id: ln for ln in transfer.lines.all()}
    yogurt, noodles = lines[c.yogurt.pk], lines[c.noodles.pk]
    assert (yogurt.shipped, yogurt.received, yogurt.resolved) == (6 * UNIT, 6 * UNIT, 0)
    assert (noodles.shipped, noodles.received, noodles.resolved) == (4 * UNIT, 3 * UNIT, UNIT)

    # stock conserved: what left W's shelves == what S1 took in + the claimed unit
    w_places = Location.objects.filter(site=c.warehouse)
    s1_places = Location.objects.filter(site=c.store)
    transit = virtual_location(LocationKind.TRANSIT)
    loss = virtual_location(LocationKind.ADJUSTMENT)
    out_of_w = _moved(number, out_of=w_places, into=[transit])
    into_s1 = _moved(number, out_of=[transit], into=s1_places)
    claimed = _moved(number, out_of=[transit], into=[loss])
    assert (out_of_w, into_s1, claimed) == (10 * UNIT, 9 * UNIT, UNIT)
    assert out_of_w == into_s1 + claimed
    on_hand = {
        (row.site_id, row.sku_id): row
        for row in SiteSku.objects.filter(site__in=[c.warehouse, c.store])
    }
    assert on_hand[(c.warehouse.pk, c.yogurt.pk)].on_hand == 194 * UNIT
    assert on_hand[(c.warehouse.pk, c.noodles.pk)].on_hand == 96 * UNIT
    assert on_hand[(c.store.pk, c.yogurt.pk)].on_hand == 6 * UNIT
    assert on_hand[(c.store.pk, c.noodles.pk)].on_hand == 3 * UNIT
    assert verify_ledger() == []

    # landed cost: freight + handling (15 yuan) split by weight, in S1's moving average
    assert yogurt.allocated_cost_fen + noodles.allocated_cost_fen == 1_500
    assert yogurt.allocated_cost_fen > noodles.allocated_cost_fen > 0  # 900 g vs 480 g
    assert (yogurt.unit_cost_micros, noodles.unit_cost_micros) == (YOGURT_COST, NOODLES_COST)
    for line, units in ((yogurt, 6), (noodles, 4)):
        landed = line.unit_cost_micros + round(line.allocated_cost_fen * 10_000 / units)
        assert on_hand[(c.store.pk, line.sku_id)].avg_cost_micros == landed
        assert landed > line.unit_cost_micros

    # the audit trail: both approval decisions, by the right people
    decisions = AuditEvent.objects.filter(
        action="transfer.approved", object_type="transfers.transfer", object_id=str(transfer.pk)
    ).order_by("id")
    assert [(e.actor, e.data["level"], e.data["comment"]) for e in decisions] == [
        (c.regional, 1, "区域经理同意，尽快补货"),
        (c.hq, 2, "总部同意"),
    ]
    assert [e.to_state for e in decisions] == [
        TransferStatus.PENDING_APPROVAL,
        TransferStatus.APPROVED,
    ]
    steps = ApprovalStep.objects.filter(transfer=transfer).order_by("seq")
    assert [(s.decided_by, s.status) for s in steps] == [
        (c.regional, StepStatus.APPROVED),
        (c.hq, StepStatus.APPROVED),
    ]
