"""price_basket, rule by rule: the worked examples a cashier would check by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chainstore.pos.engine import Item, Quote, Rule, Targets, price_basket


def item(key: int, sku: int, units: int = 1, price: int = 1000, **kw: object) -> Item:
    return Item(key=key, sku_id=sku, quantity=units * 1000, unit_price_fen=price, **kw)  # type: ignore[arg-type]


def rule(rule_id: int, kind: str, **kw: object) -> Rule:
    return Rule(
        id=rule_id, code=f"R{rule_id}", name=kw.pop("name", f"Rule {rule_id}"), kind=kind, **kw
    )  # type: ignore[arg-type]


def skus(*ids: int) -> Targets:
    return Targets(sku_ids=frozenset(ids))


def shares(quote: Quote) -> dict[int, dict[int, int]]:
    return {line.key: {d.rule_id: d.amount_fen for d in line.discounts} for line in quote.lines}


def applied(quote: Quote) -> dict[int, int]:
    return {a.rule_id: a.amount_fen for a in quote.applied}


# -- unit-discount kinds -------------------------------------------------------------------
def test_percent_off_rounds_per_unit_half_up():
    # 12.5% of ¥3.33 = 41.625 fen → 42 fen a unit, 3 units → 126 fen (not round(124.875)).
    quote = price_basket(
        [item(1, 1, units=3, price=333)], [rule(1, "percent_off", percent=Decimal("12.5"))], {}
    )
    assert quote.discount_fen == 126
    assert shares(quote) == {1: {1: 126}}
    assert quote.applied[0].times == 3
    assert quote.applied[0].explanation == "Rule 1: 12.5% off, 3 unit(s), save ¥1.26"


def test_amount_off_never_below_zero():
    quote = price_basket(
        [item(1, 1, units=2, price=150)], [rule(1, "amount_off", amount_fen=200)], {}
    )
    assert quote.total_fen == 0
    assert quote.lines[0].net_fen == 0


def test_member_price_is_a_special_price_for_targeted_skus_only():
    basket = [item(1, 1, units=2, price=1299), item(2, 2, price=500)]
    quote = price_basket(basket, [rule(1, "special_price", price_fen=999, targets=skus(1))], {})
    assert shares(quote) == {1: {1: 600}, 2: {}}
    assert quote.total_fen == 2 * 999 + 500
    assert "special price ¥9.99" in quote.applied[0].explanation


def test_special_price_above_the_price_does_nothing():
    quote = price_basket([item(1, 1, price=800)], [rule(1, "special_price", price_fen=999)], {})
    assert quote.discount_fen == 0
    assert quote.applied == ()


# -- weighed goods -------------------------------------------------------------------------
def weighed(key: int, grams: int, per_kg: int, sku: int = 9) -> Item:
    return Item(key=key, sku_id=sku, quantity=grams, unit_price_fen=per_kg, weighed=True)


def test_weighed_line_amount_and_discounts_are_per_line():
    # 0.347 kg at ¥25.80/kg = 895.26 fen → ¥8.95.
    line = weighed(1, 347, 2580)
    assert line.gross_fen == 895
    quote = price_basket([line], [rule(1, "percent_off", percent=Decimal(15))], {})
    assert quote.discount_fen == 134  # 15% of 895 = 134.25 → 134, on the line
    # ¥3.00 off per kg: 0.347 × 300 = 104.1 → 104.
    quote = price_basket([line], [rule(1, "amount_off", amount_fen=300)], {})
    assert quote.discount_fen == 104
    # special ¥19.90/kg: 0.347 × 1990 = 690.53 → 691, so 895 - 691 = 204 off.
    quote = price_basket([line], [rule(1, "special_price", price_fen=1990)], {})
    assert quote.discount_fen == 204
    assert quote.applied[0].explanation == "Rule 1: special price ¥19.90/kg, 1 line(s), save ¥2.04"


def test_weighed_lines_of_one_sku_stay_separate_and_count_for_thresholds():
    basket = [weighed(1, 1500, 4000), weighed(2, 1000, 4000)]  # ¥60 + ¥40
    quote = price_basket(basket, [rule(1, "threshold", tiers=((10000, 2000),))], {})
    assert quote.discount_fen == 2000
    assert shares(quote) == {1: {1: 1200}, 2: {1: 800}}


def test_weighed_goods_never_trigger_nth_item_or_buy_x_get_y():
    basket = [weighed(1, 1000, 1000), weighed(2, 1000, 1000)]
    rules = [
        rule(1, "nth_item", nth=2, percent=Decimal(50)),
        rule(2, "buy_x_get_y", buy=1, get=1, gift_sku_id=9),
    ]
    quote = price_basket(basket, rules, {9: 1000})
    assert quote.discount_fen == 0 and quote.gifts == ()


# -- nth item, buy x get y, bundle -----------------------------------------------------
def test_second_unit_half_price_counts_per_sku():
    basket = [item(1, 1, units=3, price=1000), item(2, 2, units=1, price=1000)]
    quote = price_basket(basket, [rule(1, "nth_item", nth=2, percent=Decimal(50))], {})
    assert quote.discount_fen == 500  # 3 units of sku 1 → one set; sku 2 alone → none
    assert quote.applied[0].times == 1


def test_nth_item_over_several_lines_of_one_sku():
    basket = [
        item(1, 1, price=999),
        item(2, 1, price=999),
        item(3, 1, price=999),
        item(4, 1, price=999),
    ]
    quote = price_basket(basket, [rule(1, "nth_item", nth=2, percent=Decimal(50))], {})
    assert quote.discount_fen == 2 * 500  # 50% of 999 = 499.5 → 500 a discounted unit
    assert sum(line.net_fen for line in quote.lines) == 4 * 999 - 1000


def test_buy_10_get_3_scales_with_the_basket():
    quote = price_basket(
        [item(1, 1, units=20, price=350)],
        [rule(1, "buy_x_get_y", buy=10, get=3, gift_sku_id=1, name="买10送3")],
        {1: 350},
    )
    (gift,) = quote.gifts
    assert (gift.sku_id, gift.quantity, gift.value_fen) == (1, 6000, 2100)
    assert quote.discount_fen == 0 and quote.total_fen == 7000
    assert quote.applied[0].times == 2
    assert (
        quote.applied[0].explanation == "买10送3: buy 10 get 3 free, 20 bought, 6 free worth ¥21.00"
    )


def test_buy_x_get_y_other_sku_with_a_cap():
    quote = price_basket(
        [item(1, 1, units=3), item(2, 1, units=4)],
        [rule(1, "buy_x_get_y", buy=2, get=1, gift_sku_id=7, max_gifts=2)],
        {7: 450},
    )
    assert [(g.sku_id, g.quantity) for g in quote.gifts] == [(7, 2000)]
    assert quote.gift_value_fen == 900


def test_bundle_price_and_its_allocation():
    # A ¥30 + B ¥20 + C ¥10 for ¥48: two sets bought, save 2 × ¥12, split by price.
    basket = [
        item(1, 1, units=2, price=3000),
        item(2, 2, units=2, price=2000),
        item(3, 3, units=3, price=1000),
    ]
    quote = price_basket(
        basket, [rule(1, "bundle", components=((1, 1), (2, 1), (3, 1)), price_fen=4800)], {}
    )
    assert quote.discount_fen == 2400
    assert shares(quote) == {1: {1: 1200}, 2: {1: 800}, 3: {1: 400}}
    assert quote.applied[0].times == 2


def test_bundle_dearer_than_its_parts_is_ignored():
    basket = [item(1, 1, price=3000), item(2, 2, price=2000)]
    quote = price_basket(
        basket, [rule(1, "bundle", components=((1, 1), (2, 1)), price_fen=5000)], {}
    )
    assert quote.applied == ()


# -- thresholds (满减) ---------------------------------------------------------------------
def test_tiered_threshold_picks_the_tier_reached_and_splits_by_contribution():
    rules = [rule(1, "threshold", tiers=((10000, 2000), (20000, 5000)), name="满100减20")]
    quote = price_basket([item(1, 1, price=8000), item(2, 2, price=4000)], rules, {})
    assert quote.discount_fen == 2000
    assert shares(quote) == {1: {1: 1333}, 2: {1: 667}}  # 1333.3 / 666.7 → remainder to B
    assert quote.applied[0].explanation == "满100减20: spend ¥120.00 ≥ ¥100.00, save ¥20.00"
    quote = price_basket([item(1, 1, price=8000), item(2, 2, units=3, price=4000)], rules, {})
    assert quote.discount_fen == 5000
    assert quote.applied[0].times == 2


def test_threshold_not_reached_saves_nothing():
    rules = [rule(1, "threshold", tiers=((10000, 2000),))]
    assert price_basket([item(1, 1, price=9999)], rules, {}).discount_fen == 0


def test_repeating_threshold_with_a_cap():
    rules = [rule(1, "threshold", tiers=((10000, 1000),), repeat=True, max_repeats=2)]
    quote = price_basket([item(1, 1, units=35, price=1000)], rules, {})
    assert quote.discount_fen == 2000
    assert "2 × ¥100.00" in quote.applied[0].explanation
    rules = [rule(1, "threshold", tiers=((10000, 1000),), repeat=True)]
    assert price_basket([item(1, 1, units=35, price=1000)], rules, {}).discount_fen == 3000


def test_threshold_counts_units_after_their_item_discount():
    # 11 units of ¥10, 10% off each and 满100减5. All 11 at 10% off count ¥99 (no 满减):
    # ¥11 off. Leaving one unit at full price counts 10 × ¥9 + ¥10 = ¥100: ¥10 + ¥5 off.
    basket = [item(1, 1, units=11, price=1000)]
    rules = [
        rule(1, "percent_off", percent=Decimal(10)),
        rule(2, "threshold", tiers=((10000, 500),)),
    ]
    quote = price_basket(basket, rules, {})
    assert applied(quote) == {1: 1000, 2: 500}
    assert quote.applied[0].times == 10


# -- stacking, exclusivity, priority ----------------------------------------------------
def test_combinable_item_discount_stacks_with_a_threshold():
    basket = [item(1, 1, price=12000)]
    rules = [
        rule(1, "percent_off", percent=Decimal(10)),
        rule(2, "threshold", tiers=((10000, 2000),)),
    ]
    quote = price_basket(basket, rules, {})
    assert applied(quote) == {1: 1200, 2: 2000}
    assert quote.total_fen == 12000 - 1200 - 2000


def test_exclusive_item_rule_takes_its_units_out_of_thresholds():
    basket = [item(1, 1, price=12000)]
    rules = [
        rule(1, "percent_off", percent=Decimal(10), exclusive=True),
        rule(2, "threshold", tiers=((10000, 2000),)),
    ]
    quote = price_basket(basket, rules, {})
    assert applied(quote) == {2: 2000}  # 满减 alone beats the exclusive 10% (1200)


def test_exclusive_threshold_takes_no_item_discounted_units():
    basket = [item(1, 1, price=6000), item(2, 2, price=6000)]
    rules = [
        rule(1, "amount_off", amount_fen=500, targets=skus(1)),
        rule(2, "threshold", tiers=((12000, 3000),), exclusive=True),
    ]
    quote = price_basket(basket, rules, {})
    assert applied(quote) == {2: 3000}  # both units needed for the tier: no ¥5 off on sku 1
    rules[1] = rule(2, "threshold", tiers=((6000, 300),), exclusive=True)
    quote = price_basket(basket, rules, {})
    assert applied(quote) == {1: 500, 2: 300}
    assert shares(quote) == {1: {1: 500}, 2: {2: 300}}


def test_a_unit_gets_at_most_one_item_level_rule():
    basket = [item(1, 1, price=1000)]
    rules = [rule(1, "percent_off", percent=Decimal(10)), rule(2, "amount_off", amount_fen=300)]
    assert applied(price_basket(basket, rules, {})) == {2: 300}


def test_a_unit_counts_towards_one_threshold_only():
    basket = [item(1, 1, price=10000), item(2, 2, price=5000)]
    rules = [
        rule(1, "threshold", tiers=((10000, 1000),)),
        rule(2, "threshold", tiers=((5000, 800),)),
    ]
    quote = price_basket(basket, rules, {})
    assert applied(quote) == {1: 1000, 2: 800}
    assert shares(quote) == {1: {1: 1000}, 2: {2: 800}}


def test_ties_go_to_the_higher_priority_rule_then_the_lower_id():
    basket = [item(1, 1, units=2, price=1000)]
    low = rule(1, "amount_off", amount_fen=100, priority=0)
    high = rule(2, "percent_off", percent=Decimal(10), priority=5)
    for rules in ([low, high], [high, low]):
        assert applied(price_basket(basket, rules, {})) == {2: 200}
    same = rule(2, "percent_off", percent=Decimal(10), priority=0)
    assert applied(price_basket(basket, [same, low], {})) == {1: 200}


def test_more_money_beats_priority():
    basket = [item(1, 1, price=1000)]
    rules = [
        rule(1, "amount_off", amount_fen=100, priority=9),
        rule(2, "amount_off", amount_fen=101),
    ]
    assert applied(price_basket(basket, rules, {})) == {2: 101}


def test_gift_value_counts_as_saving():
    basket = [item(1, 1, units=2, price=1000)]
    rules = [
        rule(1, "percent_off", percent=Decimal(10)),  # 200 off
        rule(2, "buy_x_get_y", buy=2, get=1, gift_sku_id=5),  # a gift worth 250
    ]
    quote = price_basket(basket, rules, {5: 250})
    assert quote.discount_fen == 0 and quote.gift_value_fen == 250


# -- points ----------------------------------------------------------------------------
def test_points_multiplier_takes_the_highest_and_changes_no_money():
    basket = [item(1, 1, price=1000), item(2, 2, price=1000)]
    rules = [
        rule(1, "points_multiplier", multiplier=Decimal(2)),
        rule(2, "points_multiplier", multiplier=Decimal(3), targets=skus(2)),
    ]
    quote = price_basket(basket, rules, {})
    assert [line.points_multiplier for line in quote.lines] == [2, 3]
    assert quote.discount_fen == 0
    assert {a.rule_id: a.line_keys for a in quote.applied} == {1: (1,), 2: (2,)}


# -- the call ---------------------------------------------------------------------------
def test_empty_basket_and_no_rules():
    assert price_basket([], [], {}).total_fen == 0
    quote = price_basket([item(1, 1, price=1234)], [], {})
    assert (quote.total_fen, quote.optimal, quote.applied) == (1234, True, ())


def test_duplicate_line_keys_are_refused():
    with pytest.raises(ValueError):
        price_basket([item(1, 1), item(1, 2)], [], {})


def test_time_budget_exhausted_still_gives_a_legal_quote():
    basket = [item(k, k % 7, units=1 + k % 3, price=500 + 37 * k) for k in range(1, 51)]
    rules = [
        rule(1, "threshold", tiers=((5000, 500), (20000, 3000))),
        rule(2, "nth_item", nth=2, percent=Decimal(50)),
        rule(3, "bundle", components=((1, 1), (2, 1)), price_fen=900),
        rule(4, "percent_off", percent=Decimal(5), exclusive=True),
    ]
    quote = price_basket(basket, rules, {}, time_limit_s=0.000001)
    assert quote.total_fen == quote.subtotal_fen - quote.discount_fen >= 0
    assert all(line.net_fen >= 0 for line in quote.lines)
    full = price_basket(basket, rules, {}, time_limit_s=5)
    assert full.optimal
    assert full.discount_fen >= quote.discount_fen


def test_a_wrong_answer_from_the_solver_is_caught_and_repaired(monkeypatch):
    """HiGHS works in floating point: every solution is re-checked exactly, and one that
    claims a 满减 tier its units do not reach is repaired (optimal=False), never used."""
    from chainstore.pos.engine import solver

    def wrong(built, time_limit_s, check):
        values = [0.0] * len(built.model.cost)
        values[built.x[(0, solver.NONE, 0)]] = 1  # only the ¥80 unit counts for the 满减 ...
        values[built.x[(1, solver.NONE, solver.NONE)]] = 1
        values[built.y[(0, 0)]] = 1  # ... yet the ¥100 tier is claimed
        assert not check(values)
        return values, False

    monkeypatch.setattr(solver, "_solve", wrong)
    basket = [item(1, 1, price=8000), item(2, 2, price=4000)]
    quote = price_basket(basket, [rule(1, "threshold", tiers=((10000, 2000),))], {})
    assert (quote.discount_fen, quote.optimal, quote.applied) == (0, False, ())
