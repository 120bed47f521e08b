"""Tenders: cash and change, recorded payments, points, gift cards, sums, refunds."""

import pytest
from django.utils import timezone

from chainstore.pos.errors import (
    GiftCardInsufficient,
    GiftCardNotFound,
    InvalidTender,
    MemberRequired,
    PointsInsufficient,
    TendersMismatch,
)
from chainstore.pos.models import (
    GiftCard,
    GiftCardEntry,
    Member,
    PointsEntry,
    Sale,
    SaleKind,
    StoreSettings,
    Tender,
)
from chainstore.pos.services.sales import insert_sale, store_settings
from chainstore.pos.services.tenders import (
    RecordedTender,
    TenderContext,
    plan_tenders,
    register_tender,
    tender_method,
)
from chainstore.pos.tests.sales_world import *  # noqa: F403
from chainstore.pos.tests.sales_world import LineInput, TenderInput, cash, pos_snapshot, sell

pytestmark = pytest.mark.django_db


def _tenders(sale):
    return list(
        Tender.objects.filter(sale=sale)
        .order_by("id")
        .values_list("kind", "amount_fen", "tendered_fen", "change_fen", "points", "reference")
    )


def test_cash_amount_above_the_total_is_change(store, till, shift, cashier, stocked):
    sale = sell(store, till, cashier, [LineInput(sku_code=stocked.code, quantity=3)], [cash(5_000)])
    assert _tenders(sale) == [("cash", 3_000, 5_000, 2_000, 0, "")]


def test_split_wechat_and_cash(store, till, shift, cashier, stocked):
    sale = sell(
        store,
        till,
        cashier,
        [LineInput(sku_code=stocked.code, quantity=3)],
        [TenderInput(kind="wechat_pay", amount_fen=2_000, reference="WX42"), cash(1_000, 2_000)],
    )
    assert _tenders(sale) == [
        ("wechat_pay", 2_000, 0, 0, 0, "WX42"),
        ("cash", 1_000, 2_000, 1_000, 0, ""),
    ]


def test_cash_handed_over_below_its_amount_is_refused(store, till, shift, cashier, stocked):
    with pytest.raises(InvalidTender) as exc:
        sell(store, till, cashier, [LineInput(sku_code=stocked.code)], [cash(1_000, 500)])
    assert exc.value.code == "cash_tendered_short"


def test_only_cash_may_exceed_the_total(store, till, shift, cashier, stocked):
    before = pos_snapshot()
    with pytest.raises(TendersMismatch) as exc:
        sell(
            store,
            till,
            cashier,
            [LineInput(sku_code=stocked.code)],
            [TenderInput(kind="alipay", amount_fen=1_001)],
        )
    assert exc.value.code == "tenders_exceed_total"
    with pytest.raises(TendersMismatch) as exc:
        sell(
            store,
            till,
            cashier,
            [LineInput(sku_code=stocked.code)],
            [TenderInput(kind="bank_card", amount_fen=1_000), cash(100)],
        )
    assert exc.value.code == "tender_not_needed"
    assert pos_snapshot() == before


def test_plan_tenders_zero_total_needs_nothing():
    settings = StoreSettings()
    assert plan_tenders([], total_fen=0, settings=settings) == []
    with pytest.raises(TendersMismatch):
        plan_tenders([], total_fen=1, settings=settings)


def test_unknown_kind_is_refused():
    with pytest.raises(InvalidTender) as exc:
        tender_method("crypto")
    assert exc.value.code == "unknown_tender_kind"


# -- points ----------------------------------------------------------------------------
def test_points_pay_part_and_the_sale_earns_points(store, till, shift, cashier, stocked, member):
    Member.objects.filter(pk=member.pk).update(points_balance=1_000)
    member.refresh_from_db()

    sale = sell(
        store,
        till,
        cashier,
        [LineInput(sku_code=stocked.code, quantity=3)],
        [TenderInput(kind="points", amount_fen=500, points=500), cash(2_500)],
        member=member,
    )

    assert sale.points_redeemed == 500
    assert sale.points_earned == 60  # gold: 2 points × ¥30.00
    member.refresh_from_db()
    assert member.points_balance == 1_000 - 500 + 60
    entries = list(
        PointsEntry.objects.filter(member=member).values_list("kind", "delta", "balance_after")
    )
    assert entries == [("redeem", -500, 500), ("earn", 60, 560)]
    assert _tenders(sale)[0] == ("points", 500, 0, 0, 500, "")


def test_points_rate_from_store_settings(store, till, shift, cashier, stocked, member):
    StoreSettings.objects.create(site=store, points_per_yuan_redeemed=50)
    Member.objects.filter(pk=member.pk).update(points_balance=1_000)

    sale = sell(
        store,
        till,
        cashier,
        [LineInput(sku_code=stocked.code)],
        [TenderInput(kind="points", amount_fen=1_000)],  # 10 yuan × 50 points
        member=member,
    )

    assert sale.points_redeemed == 500


def test_points_and_amount_that_disagree_are_refused(store, till, shift, cashier, stocked, member):
    Member.objects.filter(pk=member.pk).update(points_balance=1_000)
    with pytest.raises(InvalidTender) as exc:
        sell(
            store,
            till,
            cashier,
            [LineInput(sku_code=stocked.code)],
            [TenderInput(kind="points", amount_fen=1_000, points=900)],
            member=member,
        )
    assert exc.value.code == "points_amount_mismatch"


def test_points_need_a_member(store, till, shift, cashier, stocked):
    before = pos_snapshot()
    with pytest.raises(MemberRequired):
        sell(
            store,
            till,
            cashier,
            [LineInput(sku_code=stocked.code)],
            [TenderInput(kind="points", amount_fen=1_000)],
        )
    assert pos_snapshot() == before


def test_points_beyond_the_balance_are_409_and_nothing_changes(
    store, till, shift, cashier, stocked, member
):
    Member.objects.filter(pk=member.pk).update(points_balance=999)
    before = pos_snapshot()

    with pytest.raises(PointsInsufficient):
        sell(
            store,
            till,
            cashier,
            [LineInput(sku_code=stocked.code)],
            [TenderInput(kind="points", amount_fen=1_000)],
            member=member,
        )

    assert pos_snapshot() == before


# -- gift cards ------------------------------------------------------------------------
def test_gift_card_is_debited_with_a_ledger_entry(store, till, shift, cashier, stocked):
    card = GiftCard.objects.create(number="GC001", balance_fen=5_000)

    sale = sell(
        store,
        till,
        cashier,
        [LineInput(sku_code=stocked.code, quantity=3)],
        [TenderInput(kind="gift_card", amount_fen=3_000, card="GC001")],
    )

    card.refresh_from_db()
    assert card.balance_fen == 2_000
    entry = GiftCardEntry.objects.get(card=card)
    assert (entry.delta_fen, entry.balance_after_fen, entry.sale) == (-3_000, 2_000, sale)
    assert _tenders(sale) == [("gift_card", 3_000, 0, 0, 0, "GC001")]


def test_gift_card_short_unknown_or_inactive(store, till, shift, cashier, stocked):
    GiftCard.objects.create(number="GC-LOW", balance_fen=999)
    GiftCard.objects.create(number="GC-OFF", balance_fen=5_000, is_active=False)
    before = pos_snapshot()
    line = [LineInput(sku_code=stocked.code)]

    with pytest.raises(GiftCardInsufficient):
        sell(
            store,
            till,
            cashier,
            line,
            [TenderInput(kind="gift_card", amount_fen=1_000, card="GC-LOW")],
        )
    for number in ("GC-OFF", "NOPE"):
        with pytest.raises(GiftCardNotFound):
            sell(
                store,
                till,
                cashier,
                line,
                [TenderInput(kind="gift_card", amount_fen=1_000, card=number)],
            )

    assert pos_snapshot() == before


# -- refunds (used by returns) ---------------------------------------------------------
def _return_of(sale, actor):
    return insert_sale(
        Sale(
            kind=SaleKind.RETURN,
            site=sale.site,
            till=sale.till,
            cashier=actor,
            member=sale.member,
            original=sale,
            business_date=sale.business_date,
            sold_at=timezone.now(),
        )
    )


def test_refunds_go_back_to_points_gift_card_and_cash(store, till, shift, cashier, stocked, member):
    Member.objects.filter(pk=member.pk).update(points_balance=500)
    member.refresh_from_db()
    GiftCard.objects.create(number="GC9", balance_fen=1_000)
    sale = sell(
        store,
        till,
        cashier,
        [LineInput(sku_code=stocked.code, quantity=3)],
        [
            TenderInput(kind="points", amount_fen=500),
            TenderInput(kind="gift_card", amount_fen=1_000, card="GC9"),
            cash(1_500),
        ],
        member=member,
    )
    refund = _return_of(sale, cashier)
    ctx = TenderContext(sale=refund, settings=store_settings(store), member=member, actor=cashier)
    originals = {t.kind: t for t in sale.tenders.all()}

    tender_method("points").refund(ctx, amount_fen=500, original=originals["points"])
    tender_method("gift_card").refund(ctx, amount_fen=400, original=originals["gift_card"])
    tender_method("cash").refund(ctx, amount_fen=1_500)

    assert refund.number.endswith("-R0001")
    member.refresh_from_db()
    assert member.points_balance == 500 - 500 + 60 + 500
    assert PointsEntry.objects.filter(sale=refund).get().kind == "refund"
    assert GiftCard.objects.get(number="GC9").balance_fen == 400
    assert _tenders(refund) == [
        ("points", 500, 0, 0, 500, ""),
        ("gift_card", 400, 0, 0, 0, "GC9"),
        ("cash", 1_500, 0, 0, 0, ""),
    ]


def test_a_gateway_plugs_in_by_kind(store, till, shift, cashier, stocked):
    calls = []

    class FakeAlipay(RecordedTender):
        kind = "alipay"

        def charge(self, ctx, planned):
            calls.append((ctx.sale.number, planned.amount_fen, planned.reference))
            return super().charge(ctx, planned)

    original = tender_method("alipay")
    register_tender(FakeAlipay())
    try:
        sale = sell(
            store,
            till,
            cashier,
            [LineInput(sku_code=stocked.code)],
            [TenderInput(kind="alipay", amount_fen=1_000, reference="ALI-1")],
        )
    finally:
        register_tender(original)
    assert calls == [(sale.number, 1_000, "ALI-1")]
    assert tender_method("alipay") is original
