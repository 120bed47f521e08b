"""settle_return: refunds of what was really paid, and promotion clawbacks."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from chainstore.pos.engine import Item, Quote, Rule, Targets, price_basket
from chainstore.pos.engine.returns import SoldLine, settle_return
from chainstore.pos.tests.engine.strategies import (
    COMBO_KINDS,
    baskets,
    gift_price_maps,
    rule_sets,
)


def item(key: int, sku: int, units: int = 1, price: int = 1000) -> Item:
    return Item(key=key, sku_id=sku, quantity=units * 1000, unit_price_fen=price)


def sold(items: list[Item], rules: list[Rule], gift_prices: dict[int, int]) -> list[SoldLine]:
    """The sale as the sales service records it: priced lines, then one zero-priced line
    per gift (numbered after the basket's lines)."""
    quote = price_basket(items, rules, gift_prices, time_limit_s=5)
    return sale_lines(items, quote)


def sale_lines(items: list[Item], quote: Quote) -> list[SoldLine]:
    priced = {line.key: line for line in quote.lines}
    lines = [SoldLine(item=i, discounts=priced[i.key].discounts) for i in items]
    key = max((i.key for i in items), default=0)
    for gift in quote.gifts:
        key += 1
        lines.append(
            SoldLine(
                item=Item(key=key, sku_id=gift.sku_id, quantity=gift.quantity, unit_price_fen=0),
                is_gift=True,
                gift_rule_id=gift.rule_id,
            )
        )
    return lines


MANJIAN = Rule(id=1, code="MJ", name="满100减20", kind="threshold", tiers=((10000, 2000),))


def test_worked_example_return_the_item_that_qualified_the_tier():
    lines = sold([item(1, 1, price=8000), item(2, 2, price=4000)], [MANJIAN], {})
    assert [line.net_fen for line in lines] == [6667, 3333]
    rules = {1: MANJIAN}
    first = settle_return(lines, {}, {2: 0}, rules, {})
    assert first.refunds == {2: 3333}
    assert first.recovered == {1: 1333}
    assert first.refund_total == 2000  # ¥20.00: A is kept at its full price
    assert first.outstanding == {1: 1333}
    second = settle_return(lines, {2: 0}, {1: 0, 2: 0}, rules, {})
    assert second.refunds == {1: 6667}
    assert second.recovered == {1: -1333}
    assert second.refund_total == 8000
    assert first.refund_total + second.refund_total == 10000


def test_a_return_that_keeps_the_tier_recovers_nothing():
    lines = sold(
        [item(1, 1, price=8000), item(2, 2, price=4000), item(3, 3, price=3000)], [MANJIAN], {}
    )
    result = settle_return(lines, {}, {3: 0}, {1: MANJIAN}, {})
    assert result.recovered == {}
    assert result.refund_total == lines[2].net_fen


def test_keep_policy_recovers_nothing():
    keep = Rule(
        id=1,
        code="MJ",
        name="满100减20",
        kind="threshold",
        tiers=((10000, 2000),),
        recover_on_return=False,
    )
    lines = sold([item(1, 1, price=8000), item(2, 2, price=4000)], [keep], {})
    result = settle_return(lines, {}, {2: 0}, {1: keep}, {})
    assert (result.recovered, result.refund_total) == ({}, 3333)


def test_return_everything_refunds_exactly_what_was_paid():
    rules = [
        MANJIAN,
        Rule(
            id=2,
            code="P",
            name="9折",
            kind="percent_off",
            percent=Decimal(10),
            targets=Targets(sku_ids=frozenset({2})),
        ),
        Rule(
            id=3,
            code="N",
            name="第二件半价",
            kind="nth_item",
            nth=2,
            percent=Decimal(50),
            targets=Targets(sku_ids=frozenset({3})),
        ),
    ]
    items = [
        item(1, 1, units=2, price=3333),
        item(2, 2, units=3, price=1999),
        item(3, 3, units=3, price=1250),
    ]
    quote = price_basket(items, rules, {})
    lines = sale_lines(items, quote)
    result = settle_return(
        lines, {}, {line.item.key: 0 for line in lines}, {r.id: r for r in rules}, {}
    )
    assert result.refund_total == quote.total_fen
    assert result.recovered == {}


def test_second_unit_half_price_returned_unit_pays_back_the_half():
    rule = Rule(id=1, code="N", name="第二件半价", kind="nth_item", nth=2, percent=Decimal(50))
    lines = sold([item(1, 1, units=2, price=1000)], [rule], {})  # paid ¥15
    result = settle_return(lines, {}, {1: 1000}, {1: rule}, {})
    assert result.refunds == {1: 750}
    assert result.recovered == {1: 250}
    assert result.refund_total == 500  # the kept unit now costs its full ¥10


def test_buy_x_get_y_returning_bought_units_but_keeping_the_gifts():
    rule = Rule(id=1, code="B", name="买10送3", kind="buy_x_get_y", buy=10, get=3, gift_sku_id=1)
    lines = sold([item(1, 1, units=20, price=300)], [rule], {1: 300})
    gift = lines[1]
    assert (gift.is_gift, gift.item.quantity) == (True, 6000)
    # Return 10 bought units, keep 6 gifts: only 3 are still earned; 3 × ¥3 recovered.
    result = settle_return(lines, {}, {1: 10000}, {1: rule}, {1: 300})
    assert result.refunds == {1: 3000}
    assert result.recovered == {1: 900}
    assert result.refund_total == 2100
    # Returning the 3 gifts that are no longer earned gives the clawback back.
    back = settle_return(
        lines, {1: 10000}, {1: 10000, 2: 3000}, {1: rule}, {1: 300}, recovered_before={1: 900}
    )
    assert back.refunds == {2: 0}
    assert back.recovered == {1: -900}
    assert back.refund_total == 900


def test_the_refund_total_is_never_negative_and_the_shortfall_stays_owed():
    # A ¥95 + B ¥10, 满100减20: returning B breaks the tier that saved A ¥18.10.
    lines = sold([item(1, 1, price=9500), item(2, 2, price=1000)], [MANJIAN], {})
    first = settle_return(lines, {}, {2: 0}, {1: MANJIAN}, {})
    assert first.refund_total == 0
    assert first.recovered == {1: lines[1].net_fen}  # only what the refund covers
    second = settle_return(
        lines, {2: 0}, {1: 0, 2: 0}, {1: MANJIAN}, {}, recovered_before=first.recovered
    )
    assert first.refund_total + second.refund_total == 10500 - 2000


def test_kept_quantities_are_checked():
    lines = sold([item(1, 1, price=100)], [], {})
    try:
        settle_return(lines, {1: 0}, {1: 1000}, {}, {})
    except ValueError:
        pass
    else:
        raise AssertionError("returning more than kept must be refused")


@settings(max_examples=120, deadline=None)
@given(
    items=baskets(max_units=8, max_lines=5),
    rules=st.one_of(rule_sets(), rule_sets(min_rules=2, kinds=COMBO_KINDS)),
    gift_prices=gift_price_maps,
    data=st.data(),
)
def test_any_sequence_of_partial_returns_refunds_exactly_what_was_paid(
    items, rules, gift_prices, data
):
    quote = price_basket(items, rules, gift_prices, time_limit_s=5)
    lines = sale_lines(items, quote)
    by_id = {r.id: r for r in rules}
    # Nothing returned: nothing to recover.
    idle = settle_return(lines, {}, {}, by_id, gift_prices)
    assert (idle.refund_total, idle.recovered, idle.outstanding) == (0, {}, {})
    kept = {line.item.key: line.item.quantity for line in lines}
    recovered: dict[int, int] = defaultdict(int)
    refunded = 0
    while any(kept.values()):
        after = dict(kept)
        for key in data.draw(
            st.lists(
                st.sampled_from(sorted(k for k, q in kept.items() if q)), min_size=1, unique=True
            )
        ):
            line_item = next(line.item for line in lines if line.item.key == key)
            step = 1 if line_item.weighed else 1000
            after[key] = data.draw(st.integers(0, kept[key] // step - 1)) * step
        result = settle_return(lines, kept, after, by_id, gift_prices, recovered_before=recovered)
        assert result.refund_total >= 0
        # A line's refund splits its gross and each discount separately, each rounded
        # down, so one partial step of a line with several discounts may show -1 fen per
        # discount; the return total never goes below zero and the sums stay exact.
        assert all(v >= -len(by_id) for v in result.refunds.values())
        refunded += result.refund_total
        for rule_id, amount in result.recovered.items():
            recovered[rule_id] += amount
        assert all(v >= 0 for v in recovered.values())
        kept = after
    assert refunded == quote.total_fen
    assert not any(recovered.values())
