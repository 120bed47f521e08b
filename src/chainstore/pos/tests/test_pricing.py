"""Pricing: store prices from price lists, legal promotions, engine results, tax, points."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chainstore.catalog.models import Sku
from chainstore.catalog.services import create_category, get_or_create_brand
from chainstore.core.errors import PermissionDenied
from chainstore.core.testing import make_site, make_sku, make_user, stock
from chainstore.pos.errors import InvalidPromotion
from chainstore.pos.models import (
    MemberTier,
    PriceList,
    PriceListItem,
    Promotion,
)
from chainstore.pos.services.pricing import (
    LineInput,
    line_points,
    line_tax,
    quote_basket,
    rule_from_promotion,
    store_prices,
)
from chainstore.pos.tests.sales_world import *  # noqa: F403
from chainstore.pos.tests.sales_world import cash, sell

pytestmark = pytest.mark.django_db


def _list(code, price_fen, skus, *, stores=(), priority=0, **kw):
    pl = PriceList.objects.create(code=code, name=code, priority=priority, **kw)
    pl.stores.set(stores)
    for sku in skus:
        PriceListItem.objects.create(price_list=pl, sku=sku, price_fen=price_fen)
    return pl


def promo(code, kind, params, *, skus=(), categories=(), brands=(), stores=(), tiers=(), **kw):
    p = Promotion.objects.create(
        code=code, name=kw.pop("name", code), kind=kind, params=params, **kw
    )
    p.target_skus.set(skus)
    p.target_categories.set(categories)
    p.target_brands.set(brands)
    p.stores.set(stores)
    p.member_tiers.set(tiers)
    return p


def _quote(store, actor, lines, **kw):
    return quote_basket(store=store, lines=lines, actor=actor, **kw)


# -- store prices ----------------------------------------------------------------------
def test_price_list_precedence(admin, store, sku):
    other = make_site(admin, "store")
    now = timezone.now()
    assert store_prices(store=store, skus=[sku], at=now) == {sku.pk: 1_000}  # retail price

    _list("CHAIN-LOW", 900, [sku], priority=1)
    _list("CHAIN-HIGH", 800, [sku], priority=5)
    assert store_prices(store=store, skus=[sku], at=now)[sku.pk] == 800

    _list("OTHER-STORE", 500, [sku], stores=[other], priority=99)
    _list("MINE", 950, [sku], stores=[store], priority=0)
    assert store_prices(store=store, skus=[sku], at=now)[sku.pk] == 950  # store beats chain
    assert store_prices(store=other, skus=[sku], at=now)[sku.pk] == 500

    _list("MINE-NEWER", 940, [sku], stores=[store], priority=0)
    assert store_prices(store=store, skus=[sku], at=now)[sku.pk] == 940  # newer wins a tie


def test_price_list_window_and_active_flag(store, sku):
    now = timezone.now()
    _list("FUTURE", 700, [sku], valid_from=now + dt.timedelta(hours=1))
    _list("PAST", 600, [sku], valid_to=now - dt.timedelta(seconds=1))
    _list("OFF", 500, [sku], is_active=False)
    assert store_prices(store=store, skus=[sku], at=now)[sku.pk] == 1_000
    assert store_prices(store=store, skus=[sku], at=now + dt.timedelta(hours=2))[sku.pk] == 700


def test_store_prices_are_one_query_for_the_basket(admin, store):
    skus = [make_sku(admin) for _ in range(5)]
    _list("CHAIN", 300, skus[:3])
    _list("MINE", 250, skus[2:4], stores=[store])

    with CaptureQueriesContext(connection) as ctx:
        prices = store_prices(store=store, skus=skus, at=timezone.now())

    assert len(ctx.captured_queries) == 1
    assert [prices[s.pk] for s in skus] == [300, 300, 250, 250, 200]


# -- promotions through the engine -----------------------------------------------------
def test_threshold_saving_is_allocated_to_lines_and_taxed_per_line(admin, store, cashier):
    a = make_sku(admin, retail_price_fen=6_000)
    b = make_sku(admin, retail_price_fen=4_000)
    promo(
        "MJ", "threshold", {"tiers": [["100.00", "20.00"], ["200.00", "50.00"]]}, name="满100减20"
    )

    q = _quote(store, cashier, [LineInput(sku_code=a.code), LineInput(sku_code=b.code)])

    assert (q.subtotal_fen, q.discount_fen, q.total_fen) == (10_000, 2_000, 8_000)
    assert [ln.discount_fen for ln in q.lines] == [1_200, 800]
    assert sum(ln.net_fen for ln in q.lines) == q.total_fen
    assert q.tax_fen == sum(line_tax(ln.net_fen, 1300) for ln in q.lines)
    (applied,) = q.promotions
    assert (applied.promotion.code, applied.amount_fen) == ("MJ", 2_000)
    assert "¥100.00" in applied.explanation


def test_member_price_applies_only_to_members(admin, store, cashier, member):
    sku = make_sku(admin, retail_price_fen=1_000)
    promo(
        "VIP",
        "special_price",
        {"prices": {str(sku.pk): "8.50"}},
        skus=[sku],
        member_condition="members",
    )

    anyone = _quote(store, cashier, [LineInput(sku_code=sku.code, quantity=2)])
    vip = _quote(store, cashier, [LineInput(sku_code=sku.code, quantity=2)], member=member)

    assert anyone.total_fen == 2_000 and anyone.promotions == ()
    assert vip.total_fen == 1_700
    assert vip.lines[0].discounts[0].promotion.code == "VIP"


def test_tier_only_rule_follows_the_member_tier(admin, store, cashier, member, gold):
    silver = MemberTier.objects.create(code="silver", name="银卡", rank=1)
    sku = make_sku(admin, retail_price_fen=1_000)
    promo(
        "SILVER-10",
        "percent_off",
        {"percent": "10"},
        skus=[sku],
        member_condition="tiers",
        tiers=[silver],
    )

    assert _quote(store, cashier, [LineInput(sku_code=sku.code)], member=member).total_fen == 1_000
    member.tier = silver
    member.save()
    assert _quote(store, cashier, [LineInput(sku_code=sku.code)], member=member).total_fen == 900


def test_promotion_window_store_set_and_active_flag(admin, store, cashier):
    other = make_site(admin, "store")
    sku = make_sku(admin, retail_price_fen=1_000)
    now = timezone.now()
    promo("ELSEWHERE", "amount_off", {"amount": "1.00"}, skus=[sku], stores=[other])
    promo(
        "LATER", "amount_off", {"amount": "2.00"}, skus=[sku], valid_from=now + dt.timedelta(days=1)
    )
    promo("OFF", "amount_off", {"amount": "3.00"}, skus=[sku], is_active=False)
    assert _quote(store, cashier, [LineInput(sku_code=sku.code)]).total_fen == 1_000

    promo("HERE", "amount_off", {"amount": "0.50"}, skus=[sku], stores=[store])
    assert _quote(store, cashier, [LineInput(sku_code=sku.code)]).total_fen == 950


def test_category_target_covers_subcategories_and_brand_target(admin, store, cashier):
    food = create_category(code="10", name="食品", actor=admin)
    dairy = create_category(code="1001", name="乳品", parent=food, actor=admin)
    milk = make_sku(admin, retail_price_fen=1_000, category=dairy)
    brand = get_or_create_brand("蒙牛")
    yogurt = make_sku(admin, retail_price_fen=500, brand=brand)
    promo("FOOD-10", "percent_off", {"percent": "10"}, categories=[food])
    promo("MENGNIU", "amount_off", {"amount": "1.00"}, brands=[brand])

    q = _quote(store, cashier, [LineInput(sku_code=milk.code), LineInput(sku_code=yogurt.code)])

    assert [ln.net_fen for ln in q.lines] == [900, 400]


def test_buy_two_get_one_adds_a_zero_priced_gift_line_that_consumes_stock(
    admin, store, till, shift, cashier
):
    dumpling = make_sku(admin, retail_price_fen=1_500, name="速冻水饺")
    soup = make_sku(admin, retail_price_fen=800, name="汤圆")
    for s in (dumpling, soup):
        stock(admin, store, s, 20_000, location=store.stock_location)
    promo("GIFT", "buy_x_get_y", {"buy": 2, "get": 1}, skus=[dumpling], gift_sku=soup)

    q = _quote(store, cashier, [LineInput(sku_code=dumpling.code, quantity=4)])
    assert q.total_fen == 6_000 and q.gift_value_fen == 1_600
    gift = q.lines[-1]
    assert (gift.sku, gift.quantity, gift.gross_fen, gift.is_gift) == (soup, 2_000, 0, True)

    sale = sell(
        store, till, cashier, [LineInput(sku_code=dumpling.code, quantity=4)], [cash(6_000)]
    )
    from chainstore.core.tests.helpers import on_hand

    assert on_hand(store.stock_location, soup) == 18_000
    assert sale.lines.get(is_gift=True).gift_promotion.code == "GIFT"


def test_points_earned_at_the_tier_rate_with_a_multiplier(admin, store, cashier, member):
    fruit = make_sku(admin, retail_price_fen=1_999)
    rice = make_sku(admin, retail_price_fen=2_550)
    promo("2X", "points_multiplier", {"multiplier": "2"}, skus=[fruit])

    q = _quote(
        store,
        cashier,
        [LineInput(sku_code=fruit.code), LineInput(sku_code=rice.code)],
        member=member,
    )

    # gold: 2 points per yuan; floor(2 × 19.99) × 2 = 78; floor(2 × 25.50) = 51
    assert [ln.points for ln in q.lines] == [78, 51]
    assert q.points_to_earn == 129
    assert _quote(store, cashier, [LineInput(sku_code=fruit.code)]).points_to_earn == 0


def test_arithmetic_helpers():
    assert line_tax(11_300, 1300) == 1_300
    assert line_tax(100, 900) == 8  # 8.26
    assert line_tax(1_000, 0) == 0
    assert line_points(1, 999, Decimal(1)) == 9
    assert line_points(3, 1_050, Decimal("1.5")) == 46  # floor(31.5) = 31 × 1.5 = 46.5


def test_quote_needs_pos_sell_at_the_store(admin, store, sku):
    outsider = make_user("cashier", sites=[make_site(admin, "store")])
    with pytest.raises(PermissionDenied):
        _quote(store, outsider, [LineInput(sku_code=sku.code)])


# -- promotion rows → rules ------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("percent_off", {"percent": "120"}, "params.percent"),
        ("percent_off", {}, "params.percent"),
        ("amount_off", {"amount": "1.005"}, "params.amount"),
        ("threshold", {"tiers": [["100", "20"], ["50", "30"]]}, "params.tiers"),
        ("threshold", {"tiers": [["100", "20"], ["200", "30"]], "repeat": True}, "params.repeat"),
        ("nth_item", {"nth": 1, "percent": "50"}, "params.nth"),
        ("bundle", {"components": [["1", 1]], "price": "5"}, "params.components"),
        ("points_multiplier", {"multiplier": "0"}, "params.multiplier"),
        ("special_price", {}, "params.price"),
    ],
)
def test_rule_from_promotion_names_the_bad_parameter(kind, params, field):
    p = Promotion.objects.create(code="BAD", name="bad", kind=kind, params=params)
    with pytest.raises(InvalidPromotion) as exc:
        rule_from_promotion(p)
    assert exc.value.details["field"] == field
    assert exc.value.status == 422


def test_rule_from_promotion_reads_stored_params(admin):
    a, b = make_sku(admin), make_sku(admin)
    p = promo(
        "BUNDLE",
        "bundle",
        {"components": [[str(a.pk), 1], [str(b.pk), 2]], "price": "15.90"},
        stacking="exclusive",
        priority=7,
    )
    (rule,) = rule_from_promotion(p)
    assert (rule.components, rule.price_fen, rule.exclusive, rule.priority) == (
        ((a.pk, 1), (b.pk, 2)),
        1_590,
        True,
        7,
    )
    gift = promo("B2G1", "buy_x_get_y", {"buy": "2", "get": 1}, skus=[a])
    (rule,) = rule_from_promotion(gift)
    assert (rule.buy, rule.get, rule.gift_sku_id) == (2, 1, a.pk)  # same SKU as the gift


def test_a_broken_stored_promotion_is_skipped_at_the_till(admin, store, cashier, sku):
    promo("BROKEN", "percent_off", {"percent": "abc"}, skus=[sku])
    promo("GOOD", "amount_off", {"amount": "1.00"}, skus=[sku])
    assert _quote(store, cashier, [LineInput(sku_code=sku.code)]).total_fen == 900


def test_inactive_sku_cannot_be_quoted(admin, store, cashier, sku):
    from chainstore.catalog.errors import InvalidBarcode

    Sku.objects.filter(pk=sku.pk).update(is_active=False)
    with pytest.raises(InvalidBarcode):
        _quote(store, cashier, [LineInput(sku_code=sku.code)])
