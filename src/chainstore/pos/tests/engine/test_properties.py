"""Property tests of price_basket against the brute-force reference and its invariants."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from chainstore.pos.engine import Quote, price_basket
from chainstore.pos.tests.engine.reference import best_saving
from chainstore.pos.tests.engine.strategies import (
    COMBO_KINDS,
    baskets,
    gift_price_maps,
    rule_sets,
)

SETTINGS = settings(max_examples=150, deadline=None)


def saving(quote: Quote) -> int:
    return quote.discount_fen + quote.gift_value_fen


def by_key(quote: Quote) -> Quote:
    """The quote without what legitimately differs between runs (line order, timing)."""
    return dataclasses.replace(
        quote, lines=tuple(sorted(quote.lines, key=lambda x: x.key)), solve_ms=0
    )


@SETTINGS
@given(items=baskets(), rules=rule_sets(), gift_prices=gift_price_maps)
def test_saving_equals_brute_force(items, rules, gift_prices):
    quote = price_basket(items, rules, gift_prices, time_limit_s=5)
    assert quote.optimal
    assert saving(quote) == best_saving(items, rules, gift_prices)


@SETTINGS
@given(
    items=baskets(),
    rules=rule_sets(min_rules=2, kinds=COMBO_KINDS),
    gift_prices=gift_price_maps,
)
def test_interacting_rules_saving_equals_brute_force(items, rules, gift_prices):
    quote = price_basket(items, rules, gift_prices, time_limit_s=5)
    assert saving(quote) == best_saving(items, rules, gift_prices)


@SETTINGS
@given(items=baskets(), rules=rule_sets(), gift_prices=gift_price_maps)
def test_totals_and_allocation_add_up(items, rules, gift_prices):
    quote = price_basket(items, rules, gift_prices, time_limit_s=5)
    assert quote.subtotal_fen == sum(item.gross_fen for item in items)
    assert [line.key for line in quote.lines] == [item.key for item in items]
    assert quote.total_fen >= 0
    per_rule: dict[int, int] = defaultdict(int)
    for line in quote.lines:
        assert line.net_fen >= 0
        assert all(d.amount_fen > 0 for d in line.discounts)
        assert line.net_fen == line.gross_fen - sum(d.amount_fen for d in line.discounts)
        for d in line.discounts:
            per_rule[d.rule_id] += d.amount_fen
    assert sum(per_rule.values()) == quote.discount_fen
    assert quote.total_fen == quote.subtotal_fen - quote.discount_fen
    assert {a.rule_id: a.amount_fen for a in quote.applied if a.amount_fen} == dict(per_rule)
    assert quote.gift_value_fen == sum(g.value_fen for g in quote.gifts)
    assert quote.gift_value_fen == sum(a.gift_value_fen for a in quote.applied)
    for applied in quote.applied:
        assert applied.explanation
        assert applied.explanation_template % dict(applied.explanation_args) == applied.explanation


@SETTINGS
@given(items=baskets(), rules=rule_sets(), gift_prices=gift_price_maps)
def test_never_worse_than_any_single_rule(items, rules, gift_prices):
    best = saving(price_basket(items, rules, gift_prices, time_limit_s=5))
    for rule in rules:
        assert saving(price_basket(items, [rule], gift_prices, time_limit_s=5)) <= best


@SETTINGS
@given(
    items=baskets(max_units=12, max_lines=6),
    rules=rule_sets(max_rules=4),
    gift_prices=gift_price_maps,
    data=st.data(),
)
def test_same_basket_any_order_same_quote(items, rules, gift_prices, data):
    first = price_basket(items, rules, gift_prices, time_limit_s=5)
    again = price_basket(items, rules, gift_prices, time_limit_s=5)
    assert dataclasses.replace(first, solve_ms=0) == dataclasses.replace(again, solve_ms=0)
    shuffled = data.draw(st.permutations(items))
    rules_shuffled = data.draw(st.permutations(rules))
    other = price_basket(shuffled, rules_shuffled, gift_prices, time_limit_s=5)
    assert by_key(other) == by_key(first)
