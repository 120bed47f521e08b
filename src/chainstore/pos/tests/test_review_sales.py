"""Review of the checkout side: regressions for bugs found in review."""

import datetime as dt

import pytest

from chainstore.core.errors import Conflict
from chainstore.core.testing import make_sku, stock
from chainstore.inventory.models import Lot, StockMove
from chainstore.inventory.services import site_today
from chainstore.pos.models import Member, SaleLine, StockDiscrepancy
from chainstore.pos.services.members import enroll_member, find_member
from chainstore.pos.tests.sales_world import *  # noqa: F403
from chainstore.pos.tests.sales_world import (
    LineInput,
    cash,
    client_for,
    pos_snapshot,
    post_sale,
    sell,
    set_policy,
)

pytestmark = pytest.mark.django_db


# -- a scanned lot and a lot-less line of the same SKU ---------------------------------
@pytest.fixture
def two_lots(admin, store):
    """One unit in lot LATE and one in lot SOON (SOON expires first)."""
    sku = make_sku(admin, tracking="lot", shelf_life_days=30, retail_price_fen=500)
    today = site_today(store)
    loc = store.stock_location
    stock(admin, store, sku, 1_000, lot="LATE", expiry=today + dt.timedelta(days=20), location=loc)
    stock(admin, store, sku, 1_000, lot="SOON", expiry=today + dt.timedelta(days=3), location=loc)
    return sku, today


def _scan(sku, lot, expiry):
    return f"(01)0{sku.barcodes.get().code}(10){lot}(17){expiry:%y%m%d}"


@pytest.mark.parametrize("policy", ["block", "allow"])
def test_scanned_lot_is_taken_before_fefo_picks_for_a_lotless_line_of_the_same_sku(
    store, till, shift, cashier, two_lots, policy
):
    # The shopper holds both units: SOON (scanned with its GS1 lot) and LATE (keyed by
    # code). FEFO must not hand SOON to the lot-less line and leave the scanned one short.
    sku, today = two_lots
    set_policy(store, policy)
    lines = [
        LineInput(scan=_scan(sku, "SOON", today + dt.timedelta(days=3))),
        LineInput(sku_code=sku.code),
    ]

    sale = sell(store, till, cashier, lines, [cash(1_000)])

    assert not sale.went_short
    assert not StockDiscrepancy.objects.exists()
    moved = sorted(
        (m.lot.number, m.quantity) for m in StockMove.objects.filter(operation_id=sale.operation_id)
    )
    assert moved == [("LATE", 1_000), ("SOON", 1_000)]
    assert SaleLine.objects.get(sale=sale, line_no=1).lot == Lot.objects.get(number="SOON")


# -- sold_at out of range --------------------------------------------------------------
def test_sold_at_far_in_the_past_is_422_not_500(store, till, shift, cashier, stocked):
    api = client_for(cashier)
    api.raise_request_exception = False
    before = pos_snapshot()
    body = {
        "store": store.code,
        "till": till.code,
        "offline": True,
        "sold_at": "0001-01-01T00:00:00+08:00",
        "lines": [{"sku": stocked.code}],
        "tenders": [{"kind": "cash", "amount": "10.00"}],
    }

    res = post_sale(api, body)

    assert res.status_code == 422, res.content
    assert res.json()["code"] == "sold_at_out_of_range"
    assert pos_snapshot() == before


# -- members: a phone that is another member's card number -----------------------------
def test_enrolment_refuses_a_card_number_that_is_another_members_phone(cashier, member):
    with pytest.raises(Conflict) as exc:
        enroll_member(phone="13900139000", card_number=member.phone, actor=cashier)
    assert exc.value.code == "duplicate_card_number"


def test_enrolment_refuses_a_phone_that_is_another_members_card_number(cashier, gold):
    Member.objects.create(card_number="13700137000", phone="13600136000", tier=gold)
    with pytest.raises(Conflict) as exc:
        enroll_member(phone="13700137000", actor=cashier)
    assert exc.value.code == "duplicate_phone"


def test_lookup_prefers_the_card_number_over_another_members_phone(gold):
    # Rows from before the enrolment check (or edited in the back office): a scanned card
    # is the card's member, whatever phone numbers look like.
    by_phone = Member.objects.create(card_number="88000001", phone="99000000001", tier=gold)
    by_card = Member.objects.create(card_number="99000000001", phone="13500135000", tier=gold)

    assert find_member("99000000001") == by_card
    assert find_member("13500135000") == by_card
    assert find_member("88000001") == by_phone


# -- a replay answers the first sale, whatever changed since ----------------------------
def test_replay_after_the_member_was_deactivated_returns_the_first_sale(
    store, till, shift, cashier, stocked, member
):
    lines, tenders = [LineInput(sku_code=stocked.code)], [cash(1_000)]
    first = sell(store, till, cashier, lines, tenders, member=member, idempotency_key="m-1")
    Member.objects.filter(pk=member.pk).update(is_active=False)
    member.refresh_from_db()
    before = pos_snapshot()

    again = sell(store, till, cashier, lines, tenders, member=member, idempotency_key="m-1")

    assert again.replayed and again.pk == first.pk
    assert pos_snapshot() == before


def test_a_back_dated_live_sale_is_priced_now_an_offline_one_at_its_time(
    store, till, shift, cashier, stocked
):
    from django.utils import timezone as tz

    from chainstore.pos.models import Promotion, PromotionKind

    now = tz.now()
    Promotion.objects.create(
        code="ENDED",
        name="ended",
        kind=PromotionKind.PERCENT_OFF,
        params={"percent": "50"},
        valid_from=now - dt.timedelta(days=2),
        valid_to=now - dt.timedelta(hours=1),
    )
    two_hours_ago = now - dt.timedelta(hours=2)
    line = [LineInput(sku_code=stocked.code, quantity=1)]

    live = sell(store, till, cashier, line, [cash(1_000)], sold_at=two_hours_ago)
    offline = sell(store, till, cashier, line, [cash(500)], sold_at=two_hours_ago, offline=True)

    assert (live.total_fen, live.sold_at) == (1_000, two_hours_ago)
    assert offline.total_fen == 500
