"""Review of returns, shifts, reports and the back office: refunds that could pay back more
than was paid, a Z report made stale by a shift opened after it, the store day in the
store's own timezone, and inputs that crashed (500) instead of a 4xx."""

from __future__ import annotations

import json
import zoneinfo
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from chainstore.core.errors import ValidationFailed
from chainstore.core.tests.helpers import snapshot
from chainstore.inventory.services import site_today
from chainstore.pos.errors import TendersMismatch
from chainstore.pos.models import (
    DayClose,
    GiftCard,
    Member,
    PointsEntry,
    PriceList,
    Sale,
    Shift,
    StoreSettings,
    Till,
)
from chainstore.pos.services import shifts
from chainstore.pos.services.admin_params import normalise_params
from chainstore.pos.services.admin_prices import parse_price
from chainstore.pos.services.admin_stores import issue_gift_card
from chainstore.pos.services.returns import ReturnLineInput, create_return
from chainstore.pos.services.tenders import TenderInput
from chainstore.pos.tests.returns_world import add_sku, make_member, make_world, post, sell
from chainstore.pos.views.till import TILL_COOKIE

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin: Any) -> Any:
    w = make_world(admin)
    add_sku(w, "A", 8_000, cost_micros=50_000_000)
    shifts.open_shift(store=w.store, till=w.tills[0], opening_float_fen=0, actor=w.cashier)
    StoreSettings.objects.filter(site=w.store).update(points_per_yuan_redeemed=100)
    return w


def _give_back(world: Any, sale: Sale, lines: list[tuple[int, int]], refund: Any) -> Sale:
    return create_return(
        store=world.store,
        till=world.tills[0],
        original=sale.number,
        lines=[ReturnLineInput(line_no=no, quantity=q) for no, q in lines],
        actor=world.cashier,
        reason="顾客不想要了",
        idempotency_key=f"review-{Sale.objects.count()}",
        refund=refund,
    )


def _points_sale(world: Any, member: Member) -> Sale:
    """Two A (160.00): 40.00 in 4,000 points, the rest in cash."""
    return sell(
        world,
        world.tills[0],
        world.cashier,
        [(world.skus["A"], 2)],
        member=member,
        tenders=[
            TenderInput(kind="points", amount_fen=4_000, points=4_000),
            TenderInput(kind="cash", amount_fen=12_000),
        ],
    )


# -- refund tenders chosen at the till ---------------------------------------------------
def test_given_points_refund_cannot_credit_more_points_than_paid(world):
    member = make_member(balance=5_000)
    sale = _points_sale(world, member)
    member.refresh_from_db()
    balance = member.points_balance
    before = (snapshot(), Sale.objects.count())

    with pytest.raises(TendersMismatch):
        _give_back(
            world,
            sale,
            [(1, 1)],  # 80.00
            [
                TenderInput(kind="points", amount_fen=2_000, points=4_000_000),
                TenderInput(kind="cash", amount_fen=6_000),
            ],
        )
    # Half the points for a quarter of the money is too many as well: the last return
    # would then refund the other 20.00 of points in cash.
    with pytest.raises(TendersMismatch):
        _give_back(
            world,
            sale,
            [(1, 1)],
            [
                TenderInput(kind="points", amount_fen=1_000, points=2_000),
                TenderInput(kind="cash", amount_fen=7_000),
            ],
        )

    assert (snapshot(), Sale.objects.count()) == before
    member.refresh_from_db()
    assert member.points_balance == balance


def test_given_points_refund_without_a_count_uses_the_sales_rate(world):
    member = make_member(balance=5_000)
    sale = _points_sale(world, member)
    member.refresh_from_db()
    balance = member.points_balance
    # The store now gives 200 points per yuan; the shopper paid 100 points per yuan.
    StoreSettings.objects.filter(site=world.store).update(points_per_yuan_redeemed=200)

    ret = _give_back(
        world,
        sale,
        [(1, 1)],
        [TenderInput(kind="points", amount_fen=2_000), TenderInput(kind="cash", amount_fen=6_000)],
    )

    assert ret.tenders.get(kind="points").points == 2_000
    assert PointsEntry.objects.get(sale=ret, kind="refund").delta == 2_000
    member.refresh_from_db()
    assert member.points_balance == balance + 2_000 - ret.points_earned  # earned reversed


def test_given_refund_cannot_load_one_gift_card_twice(world):
    card = issue_gift_card(amount_fen=10_000, actor=world.admin)
    sale = sell(
        world,
        world.tills[0],
        world.cashier,
        [(world.skus["A"], 2)],  # 160.00
        tenders=[
            TenderInput(kind="gift_card", amount_fen=8_000, card=card.number),
            TenderInput(kind="cash", amount_fen=8_000),
        ],
    )
    before = (snapshot(), Sale.objects.count())

    with pytest.raises(TendersMismatch):
        _give_back(
            world,
            sale,
            [(1, 2)],
            [
                TenderInput(kind="gift_card", amount_fen=8_000, card=card.number),
                TenderInput(kind="gift_card", amount_fen=8_000, card=card.number),
            ],
        )

    assert (snapshot(), Sale.objects.count()) == before
    assert GiftCard.objects.get(pk=card.pk).balance_fen == 2_000


# -- day close -----------------------------------------------------------------------------
def test_no_shift_opens_on_a_day_already_closed(world):
    today = site_today(world.store)
    shift = Shift.objects.get(till=world.tills[0], status="open")
    shifts.close_shift(shift=shift, counted_cash_fen=0, actor=world.cashier)
    shifts.close_day(store=world.store, business_date=today, actor=world.manager)

    # Sales on a new shift today would be in no Z report.
    with pytest.raises(shifts.DayAlreadyClosed):
        shifts.open_shift(
            store=world.store, till=world.tills[1], opening_float_fen=0, actor=world.cashier2
        )
    assert not Shift.objects.filter(till=world.tills[1]).exists()


def test_a_till_closed_for_the_day_opens_no_shift_but_the_others_do(world):
    today = site_today(world.store)
    shift = Shift.objects.get(till=world.tills[0], status="open")
    shifts.close_shift(shift=shift, counted_cash_fen=0, actor=world.cashier)
    shifts.close_day(
        store=world.store, till=world.tills[0], business_date=today, actor=world.manager
    )

    with pytest.raises(shifts.DayAlreadyClosed):
        shifts.open_shift(
            store=world.store, till=world.tills[0], opening_float_fen=0, actor=world.cashier
        )
    shifts.open_shift(
        store=world.store, till=world.tills[1], opening_float_fen=0, actor=world.cashier2
    )
    assert DayClose.objects.count() == 1


# -- inputs that crashed -----------------------------------------------------------------
@pytest.mark.parametrize("raw", ["1e30", "1E+50", "-1e40"])
def test_huge_promotion_numbers_are_refused_not_crashing(raw):
    with pytest.raises(ValidationFailed):
        normalise_params("percent_off", {"percent": raw})
    with pytest.raises(ValidationFailed):
        normalise_params("amount_off", {"amount": raw})
    with pytest.raises(ValidationFailed):
        parse_price(raw)


def test_huge_amounts_in_the_back_office_api_are_422(client, admin):
    client.force_login(admin)
    PriceList.objects.create(code="PL1", name="基本价")
    sku_code = add_sku(make_world(admin), "B", 500).code

    price = post(client, "/api/v1/pos/price-lists/PL1/items", {"sku": sku_code, "price": "1e30"})
    card = post(client, "/api/v1/pos/gift-cards", {"amount": "1e30"})
    bulk = post(
        client,
        "/api/v1/pos/price-lists/PL1/bulk",
        {"items": [{"sku": sku_code, "price": "1e30"}]},
    )

    assert price.status_code == 422, price.content
    assert card.status_code == 422, card.content
    assert bulk.status_code == 422, bulk.content
    assert not GiftCard.objects.exists()


# -- the store-day page ------------------------------------------------------------------
def test_store_day_page_defaults_to_the_stores_own_day(client, admin):
    shanghai = timezone.localdate()
    # A timezone whose date differs from the chain's home date right now.
    zone = next(
        z
        for z in ("Etc/GMT+12", "Etc/GMT-14")
        if timezone.now().astimezone(zoneinfo.ZoneInfo(z)).date() != shanghai
    )
    w = make_world(admin)
    w.store.timezone = zone
    w.store.save(update_fields=["timezone"])
    client.force_login(w.manager)

    page = client.get(reverse("pos:store_day"), {"store": w.store.code})

    assert page.status_code == 200
    assert page.context["day"] == site_today(w.store) != shanghai


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_store_day_page_at_the_ends_of_the_calendar(client, admin, day):
    w = make_world(admin)
    client.force_login(w.manager)

    page = client.get(reverse("pos:store_day"), {"store": w.store.code, "date": day})

    assert page.status_code in (200, 422)


# -- the returns page --------------------------------------------------------------------
def test_returns_page_offers_only_cash_for_returns_without_a_receipt(client, admin):
    w = make_world(admin)
    client.force_login(w.manager)
    client.cookies[TILL_COOKIE] = str(Till.objects.filter(site=w.store).first().pk)

    html = client.get(reverse("pos:returns")).content.decode()

    # The service refunds a return without a receipt in cash only (cash_only otherwise).
    for kind in ("bank_card", "wechat_pay", "alipay"):
        assert f'value="{kind}"' not in html
    assert json.loads(
        html.split('id="returns-config" type="application/json">', 1)[1].split("</script>", 1)[0]
    )["unreceipted"]
