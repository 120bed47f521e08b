"""The engine's rounding rules (pos/engine/rounding.py), one by one."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainstore.pos.engine.rounding import (
    largest_remainder,
    round_half_up,
    round_half_up_fraction,
    unit_discount,
    yuan,
)
from chainstore.pos.engine.types import Item


def count(price: int) -> Item:
    return Item(key=1, sku_id=1, quantity=1000, unit_price_fen=price)


def kg(grams: int, per_kg: int) -> Item:
    return Item(key=1, sku_id=1, quantity=grams, unit_price_fen=per_kg, weighed=True)


def test_half_up_is_away_from_zero():
    assert [round_half_up(Decimal(v)) for v in ("0.5", "1.5", "2.5", "2.4999", "-0.5")] == [
        1,
        2,
        3,
        2,
        -1,
    ]
    assert round_half_up_fraction(Fraction(5, 2)) == 3
    assert round_half_up_fraction(Fraction(-5, 2)) == -3
    assert round_half_up_fraction(Fraction(7, 3)) == 2


def test_weighed_line_amount_rounds_half_up():
    assert kg(500, 1001).gross_fen == 501  # 500.5 → 501
    assert kg(333, 1000).gross_fen == 333
    assert kg(1, 499).gross_fen == 0  # 0.499 → 0
    assert kg(1, 500).gross_fen == 1  # 0.5 → 1


def test_unit_discounts():
    assert unit_discount("percent_off", count(333), percent=Decimal(15)) == 50  # 49.95
    assert unit_discount("percent_off", count(330), percent=Decimal(15)) == 50  # 49.5
    assert unit_discount("percent_off", count(329), percent=Decimal(15)) == 49  # 49.35
    assert unit_discount("percent_off", count(100), percent=Decimal(150)) == 100  # capped
    assert unit_discount("amount_off", count(100), amount_fen=250) == 100
    assert unit_discount("special_price", count(1299), price_fen=999) == 300
    assert unit_discount("special_price", count(999), price_fen=1299) == 0
    # Weighed: per line. 0.255 kg at ¥39.90/kg = 1017.45 → 1017.
    line = kg(255, 3990)
    assert line.gross_fen == 1017
    assert unit_discount("percent_off", line, percent=Decimal(10)) == 102  # 101.7
    assert unit_discount("amount_off", line, amount_fen=1000) == 255  # ¥10/kg × 0.255
    assert unit_discount("special_price", line, price_fen=2990) == 1017 - 762  # 762.45 → 762


def test_largest_remainder_gives_the_odd_fen_to_the_largest_remainders_then_smaller_key():
    assert largest_remainder(2000, {1: 8000, 2: 4000}) == {1: 1333, 2: 667}
    assert largest_remainder(100, {3: 1, 1: 1, 2: 1}) == {1: 34, 2: 33, 3: 33}
    assert largest_remainder(2, {5: 1, 4: 1, 9: 1}) == {4: 1, 5: 1, 9: 0}
    assert largest_remainder(0, {1: 5}) == {1: 0}
    assert largest_remainder(10, {1: 0, 2: 3}) == {1: 0, 2: 10}
    with pytest.raises(ValueError):
        largest_remainder(1, {1: 0})


def test_largest_remainder_respects_caps():
    assert largest_remainder(10, {1: 9, 2: 1}, {1: 6, 2: 10}) == {1: 6, 2: 4}
    assert largest_remainder(5, {1: Fraction(1, 3), 2: Fraction(2, 3)}, {1: 5, 2: 5}) == {
        1: 2,
        2: 3,
    }


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(0, 10**6),
    weights=st.dictionaries(st.integers(1, 50), st.integers(1, 10**5), min_size=1, max_size=8),
)
def test_largest_remainder_sums_exactly_and_stays_within_one_fen(total, weights):
    shares = largest_remainder(total, weights)
    assert sum(shares.values()) == total
    weight_sum = sum(weights.values())
    for key, share in shares.items():
        exact = Fraction(total * weights[key], weight_sum)
        assert exact - 1 < share < exact + 1


def test_yuan():
    assert [yuan(v) for v in (0, 5, 100, 12850, -250)] == [
        "¥0.00",
        "¥0.05",
        "¥1.00",
        "¥128.50",
        "-¥2.50",
    ]
