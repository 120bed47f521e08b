"""Returns with the receipt: the 满减 worked example, partial returns in steps, refunds to
the tenders that paid, stock back in the sold lots, points reversed, and refusals that
change nothing."""

import datetime as dt

import pytest

from chainstore.core.errors import Conflict, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.core.testing import stock
from chainstore.core.tests.helpers import on_hand, snapshot
from chainstore.inventory.models import StockMove
from chainstore.inventory.services import site_today
from chainstore.inventory.verify import verify_ledger
from chainstore.pos.errors import NoOpenShift, TendersMismatch
from chainstore.pos.models import (
    GiftCard,
    Member,
    PointsEntry,
    Promotion,
    Sale,
    SaleLine,
    StoreSettings,
    Tender,
)
from chainstore.pos.services import shifts
from chainstore.pos.services.admin_stores import issue_gift_card
from chainstore.pos.services.returns import (
    OverReturn,
    ReturnLineInput,
    create_return,
    preview_return,
)
from chainstore.pos.services.tenders import TenderInput
from chainstore.pos.tests.returns_world import add_sku, make_member, make_world, sell, threshold
from chainstore.sites.models import Location

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    w = make_world(admin)
    add_sku(w, "A", 8_000, cost_micros=50_000_000)
    add_sku(w, "B", 4_000, cost_micros=25_000_000)
    shifts.open_shift(store=w.store, till=w.tills[0], opening_float_fen=0, actor=w.cashier)
    return w


def give_back(world, sale, *lines, key=None, actor=None, **kw):
    """Return (line_no, quantity[, condition]) of `sale` at till 1."""
    return create_return(
        store=world.store,
        till=world.tills[0],
        original=sale.number,
        lines=[
            ReturnLineInput(
                line_no=ln[0], quantity=ln[1], condition=ln[2] if len(ln) > 2 else "sellable"
            )
            for ln in lines
        ],
        actor=actor or world.cashier,
        reason="顾客不想要了",
        idempotency_key=key or f"ret-{sale.number}-{lines}-{Sale.objects.count()}",
        **kw,
    )


def _ab_sale(world):
    a, b = world.skus["A"], world.skus["B"]
    sale = sell(world, world.tills[0], world.cashier, [(a, 1), (b, 1)])
    assert sale.subtotal_fen == 12_000
    assert sale.total_fen == (10_000 if Promotion.objects.exists() else 12_000)
    return sale


# -- the worked example ----------------------------------------------------------------
def test_worked_example_recover_refunds_only_what_b_leaves_paid(world):
    promo = threshold("MJ100", [("100", "20")])
    sale = _ab_sale(world)
    nets = dict(SaleLine.objects.filter(sale=sale).values_list("line_no", "net_fen"))
    assert nets == {1: 6_667, 2: 3_333}

    ret = give_back(world, sale, (2, 1))

    assert (ret.kind, ret.original_id, ret.total_fen, ret.recovered_fen) == (
        "return",
        sale.pk,
        2_000,
        1_333,
    )
    assert ret.number.endswith("-R0001")
    assert ret.promotions[0]["promotion_id"] == promo.pk
    assert ret.promotions[0]["amount_fen"] == 1_333
    assert list(ret.tenders.values_list("kind", "amount_fen")) == [("cash", 2_000)]
    line = ret.lines.get()
    assert (line.sku, line.quantity, line.net_fen, line.condition) == (
        world.skus["B"],
        1_000,
        3_333,
        "sellable",
    )
    assert SaleLine.objects.get(sale=sale, line_no=2).returned_quantity == 1_000
    assert on_hand(world.store.stock_location, world.skus["B"]) == 100_000
    event = AuditEvent.objects.get(action="pos.return")
    assert (event.data["original"], event.data["refund_total_fen"]) == (sale.number, 2_000)
    assert event.data["reason"] == "顾客不想要了"

    # Returning A as well gives back what was recovered: ¥80.00, ¥100.00 in all.
    ret2 = give_back(world, sale, (1, 1))
    assert (ret2.total_fen, ret2.recovered_fen) == (8_000, -1_333)
    assert ret.total_fen + ret2.total_fen == sale.total_fen
    assert verify_ledger() == []


def test_worked_example_keep_policy_refunds_what_b_was_paid(world):
    threshold("MJ100K", [("100", "20")], policy="keep")
    sale = _ab_sale(world)

    ret = give_back(world, sale, (2, 1))

    assert (ret.total_fen, ret.recovered_fen, ret.promotions) == (3_333, 0, [])
    ret2 = give_back(world, sale, (1, 1))
    assert ret2.total_fen == 6_667
    assert verify_ledger() == []


def test_preview_shows_the_same_numbers_and_changes_nothing(world):
    threshold("MJ100", [("100", "20")])
    sale = _ab_sale(world)
    before = (snapshot(), Sale.objects.count(), Tender.objects.count())

    plan = preview_return(
        store=world.store,
        till=world.tills[0],
        original=sale.number,
        lines=[ReturnLineInput(line_no=2, quantity=1)],
        actor=world.cashier,
    )

    assert (plan.refund_total_fen, plan.recovered_fen, plan.refund_lines_fen) == (
        2_000,
        1_333,
        3_333,
    )
    assert [(r.promotion.code, r.amount_fen) for r in plan.recovered] == [("MJ100", 1_333)]
    assert [(p.kind, p.amount_fen) for p in plan.refunds] == [("cash", 2_000)]
    assert (snapshot(), Sale.objects.count(), Tender.objects.count()) == before
    assert SaleLine.objects.get(sale=sale, line_no=2).returned_quantity == 0


def test_a_broken_tier_leaves_the_kept_units_at_their_full_price(world):
    threshold("MJ100", [("100", "20")])
    sale = sell(world, world.tills[0], world.cashier, [(world.skus["B"], 3)])  # 120 - 20

    ret = give_back(world, sale, (1, 1))

    assert sale.total_fen - ret.total_fen == 2 * 4_000


# -- partial returns -------------------------------------------------------------------
def test_partial_returns_in_steps_refund_exactly_what_was_paid(world):
    threshold("MJ30", [("30", "7")])
    c = add_sku(world, "C", 999)
    d = add_sku(world, "D", 455)
    sale = sell(world, world.tills[0], world.cashier, [(c, 3), (d, 2)])
    assert sale.total_fen == 3 * 999 + 2 * 455 - 700

    steps = [(1, 1), (2, 1), (1, 2), (2, 1)]
    refunds = [give_back(world, sale, step).total_fen for step in steps]

    assert sum(refunds) == sale.total_fen
    assert all(r >= 0 for r in refunds)
    assert list(SaleLine.objects.filter(sale=sale).values_list("returned_quantity", flat=True)) == [
        3_000,
        2_000,
    ]
    assert on_hand(world.store.stock_location, c) == 100_000
    assert verify_ledger() == []


def test_over_return_is_refused_and_changes_nothing(world):
    sale = _ab_sale(world)
    give_back(world, sale, (2, 1))
    before = (snapshot(), Sale.objects.count(), Tender.objects.count())

    with pytest.raises(OverReturn) as exc:
        give_back(world, sale, (1, 2))
    assert exc.value.status == 409
    assert exc.value.details["line_no"] == 1
    with pytest.raises(OverReturn):  # line 2 is all back already
        give_back(world, sale, (2, 1))
    with pytest.raises(OverReturn):  # nor what is left of it by default
        give_back(world, sale, (2, None))
    with pytest.raises(ValidationFailed) as exc3:
        give_back(world, sale, (9, 1))
    assert exc3.value.code == "unknown_line"

    assert (snapshot(), Sale.objects.count(), Tender.objects.count()) == before


def test_return_needs_an_open_shift_and_a_sale_of_this_store(world, admin):
    sale = _ab_sale(world)
    shift = Sale.objects.get(pk=sale.pk).shift
    shifts.close_shift(shift=shift, counted_cash_fen=None, actor=world.cashier)
    with pytest.raises(NoOpenShift):
        give_back(world, sale, (2, 1))
    other = make_world(admin)
    with pytest.raises(ValidationFailed) as exc:
        create_return(
            store=other.store,
            till=other.tills[0],
            original=sale.number,
            lines=[ReturnLineInput(line_no=2)],
            actor=admin,
            reason="x",
            idempotency_key="other-store",
        )
    assert exc.value.code == "original_other_store"
    assert SaleLine.objects.get(sale=sale, line_no=2).returned_quantity == 0


def test_a_replayed_return_refunds_once(world):
    sale = _ab_sale(world)
    first = give_back(world, sale, (2, 1), key="same")
    again = give_back(world, sale, (2, 1), key="same")
    assert (again.pk, again.replayed) == (first.pk, True)
    assert Sale.objects.filter(kind="return").count() == 1
    assert SaleLine.objects.get(sale=sale, line_no=2).returned_quantity == 1_000


def test_returning_the_trigger_but_keeping_the_gift_pays_for_the_gift(world):
    cup = add_sku(world, "杯子", 1_000)
    promo = Promotion.objects.create(
        code="B2G1", name="买二送一", kind="buy_x_get_y", params={"buy": 2, "get": 1}, gift_sku=cup
    )
    promo.target_skus.add(cup)
    sale = sell(world, world.tills[0], world.cashier, [(cup, 2)])
    lines = list(SaleLine.objects.filter(sale=sale).values_list("line_no", "is_gift", "quantity"))
    assert lines == [(1, False, 2_000), (2, True, 1_000)]
    assert sale.total_fen == 2_000

    keep_gift = give_back(world, sale, (1, 1))  # one cup paid for, the free one kept
    gift_back = give_back(world, sale, (2, 1))  # then the free cup comes back too

    assert (keep_gift.total_fen, keep_gift.recovered_fen) == (0, 1_000)
    assert (gift_back.total_fen, gift_back.recovered_fen) == (1_000, -1_000)
    assert sale.total_fen - keep_gift.total_fen - gift_back.total_fen == 1_000  # one cup kept
    assert on_hand(world.store.stock_location, cup) == 100_000 - 3_000 + 2_000
    assert verify_ledger() == []


def test_weighed_goods_come_back_by_the_gram(world):
    apples = add_sku(world, "苹果", 1_580, base_unit="kg")
    sale = sell(world, world.tills[0], world.cashier, [(apples, "1.234")])
    assert sale.total_fen == 1_950  # 15.80 × 1.234 = 19.4972, half up

    first = give_back(world, sale, (1, "0.5"))
    rest = give_back(world, sale, (1, None))  # what is left: 0.734 kg

    assert (first.lines.get().quantity, rest.lines.get().quantity) == (500, 734)
    assert first.total_fen + rest.total_fen == sale.total_fen
    assert on_hand(world.store.stock_location, apples) == 100_000
    assert verify_ledger() == []


# -- where the goods go ----------------------------------------------------------------
def test_damaged_goods_go_to_the_damaged_location(world):
    sale = sell(world, world.tills[0], world.cashier, [(world.skus["A"], 3)])
    damaged = Location.objects.get(site=world.store, kind="damaged")

    give_back(world, sale, (1, 1, "damaged"), (1, 1, "sellable"))

    a = world.skus["A"]
    assert on_hand(damaged, a) == 1_000
    assert on_hand(world.store.stock_location, a) == 100_000 - 3_000 + 1_000
    assert verify_ledger() == []


def test_a_store_without_a_damaged_location_gets_one(world, admin):
    sale = sell(world, world.tills[0], world.cashier, [(world.skus["A"], 1)])
    Location.objects.filter(site=world.store, kind="damaged").update(is_active=False)
    with pytest.raises(Conflict) as exc:  # a cashier may not create locations
        give_back(world, sale, (1, 1, "damaged"))
    assert exc.value.code == "no_damaged_location"

    give_back(world, sale, (1, 1, "damaged"), actor=admin)

    created = Location.objects.get(site=world.store, kind="damaged", is_active=True)
    assert created.code == "DAMAGED-2"
    assert on_hand(created, world.skus["A"]) == 1_000


def test_goods_come_back_in_the_sold_lot_at_its_cost(world, admin):

    milk = add_sku(world, "鲜牛奶", 1_500, quantity=0, tracking="lot", shelf_life_days=10)
    soon = site_today(world.store) + dt.timedelta(days=3)
    later = site_today(world.store) + dt.timedelta(days=8)
    loc = world.store.stock_location
    stock(admin, world.store, milk, 2_000, lot="L-SOON", expiry=soon, cost=4_000_000, location=loc)
    stock(
        admin, world.store, milk, 5_000, lot="L-LATER", expiry=later, cost=6_000_000, location=loc
    )
    sale = sell(world, world.tills[0], world.cashier, [(milk, 3)])  # FEFO: 2 soon + 1 later
    out = {
        m.lot.number: (m.quantity, m.unit_cost_micros)
        for m in StockMove.objects.filter(operation=sale.operation)
    }

    ret = give_back(world, sale, (1, 3))

    back = {
        m.lot.number: (m.quantity, m.unit_cost_micros)
        for m in StockMove.objects.filter(operation=ret.operation)
    }
    assert back == out
    assert {k: v[0] for k, v in back.items()} == {"L-SOON": 2_000, "L-LATER": 1_000}
    assert verify_ledger() == []


# -- points and tenders ----------------------------------------------------------------
def test_points_earned_on_the_returned_part_are_reversed(world):

    member = make_member(points_per_yuan=2)
    sale = sell(
        world,
        world.tills[0],
        world.cashier,
        [(world.skus["A"], 1), (world.skus["B"], 2)],
        member=member,
    )
    earned = dict(SaleLine.objects.filter(sale=sale).values_list("line_no", "points_earned"))
    assert earned == {1: 160, 2: 160}

    ret = give_back(world, sale, (2, 1))

    assert ret.points_earned == 80
    entry = PointsEntry.objects.get(sale=ret)
    assert (entry.kind, entry.delta) == ("reverse", -80)
    member.refresh_from_db()
    assert member.points_balance == 320 - 80 == entry.balance_after
    assert member.points_balance == sum(
        PointsEntry.objects.filter(member=member).values_list("delta", flat=True)
    )


def test_points_and_gift_cards_are_refunded_to_themselves_the_rest_in_cash(world):

    StoreSettings.objects.filter(site=world.store).update(points_per_yuan_redeemed=100)
    member = make_member(balance=5_000)
    card = issue_gift_card(amount_fen=10_000, actor=world.admin)
    a = world.skus["A"]
    sale = sell(
        world,
        world.tills[0],
        world.cashier,
        [(a, 2)],  # 160.00
        member=member,
        tenders=[
            TenderInput(kind="points", amount_fen=4_000, points=4_000),
            TenderInput(kind="gift_card", amount_fen=8_000, card=card.number),
            TenderInput(kind="cash", amount_fen=4_000),
        ],
    )

    ret = give_back(world, sale, (1, 1))  # half: 80.00

    assert sorted(ret.tenders.values_list("kind", "amount_fen", "points")) == [
        ("cash", 2_000, 0),
        ("gift_card", 4_000, 0),
        ("points", 2_000, 2_000),
    ]
    assert GiftCard.objects.get(pk=card.pk).balance_fen == 2_000 + 4_000
    refund_entry = PointsEntry.objects.get(sale=ret, kind="refund")
    assert refund_entry.delta == 2_000
    # The rest squares every tender exactly.
    ret2 = give_back(world, sale, (1, 1))
    paid = dict(Tender.objects.filter(sale=sale).values_list("kind", "amount_fen"))
    back = {}
    for kind, amount in Tender.objects.filter(sale__in=[ret, ret2]).values_list(
        "kind", "amount_fen"
    ):
        back[kind] = back.get(kind, 0) + amount
    assert back == paid
    assert GiftCard.objects.get(pk=card.pk).balance_fen == 10_000
    member.refresh_from_db()
    assert member.points_balance == sum(
        PointsEntry.objects.filter(member=member).values_list("delta", flat=True)
    )


def test_given_refund_tenders_must_add_up(world):
    sale = _ab_sale(world)
    before = (snapshot(), Sale.objects.count())
    with pytest.raises(TendersMismatch) as exc:
        give_back(world, sale, (2, 1), refund=[TenderInput(kind="cash", amount_fen=1_000)])
    assert exc.value.code == "refund_mismatch"
    with pytest.raises(TendersMismatch) as exc:
        give_back(
            world, sale, (2, 1), refund=[TenderInput(kind="gift_card", amount_fen=4_000, card="X")]
        )
    assert exc.value.code == "refund_not_to_original"
    assert (snapshot(), Sale.objects.count()) == before

    ret = give_back(
        world,
        sale,
        (2, 1),
        refund=[TenderInput(kind="wechat_pay", amount_fen=4_000, reference="WX1")],
    )
    assert list(ret.tenders.values_list("kind", "amount_fen", "reference")) == [
        ("wechat_pay", 4_000, "WX1")
    ]
    assert Member.objects.count() == 0
