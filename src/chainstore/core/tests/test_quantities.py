from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainstore.core.quantities import (
    cost_to_micros,
    fen_to_money,
    micros_to_cost,
    milli_to_qty,
    money_to_fen,
    qty_to_milli,
    value_fen,
    weighted_average_micros,
)

milli = st.integers(min_value=-(10**15), max_value=10**15)
qty = st.integers(min_value=1, max_value=10**12)
cost = st.integers(min_value=0, max_value=10**10)


@given(milli)
def test_qty_round_trip(m):
    assert qty_to_milli(milli_to_qty(m)) == m
    assert qty_to_milli(str(milli_to_qty(m))) == m


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False))
def test_qty_from_decimal_is_exact(d):
    assert milli_to_qty(qty_to_milli(d)) == d


@pytest.mark.parametrize("bad", ["1.0001", "0.0005", "abc", "NaN-ish"])
def test_qty_refuses_finer_than_thousandths(bad):
    with pytest.raises(ValueError):
        qty_to_milli(bad)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_money_round_trip(f):
    assert money_to_fen(fen_to_money(f)) == f


@given(st.integers(min_value=0, max_value=10**12))
def test_cost_round_trip(c):
    assert cost_to_micros(micros_to_cost(c)) == c


def test_money_rounds_half_up():
    assert money_to_fen("0.005") == 1
    assert money_to_fen("0.004") == 0
    assert money_to_fen("-0.005") == -1


@given(milli, cost)
def test_value_fen_is_the_exact_value_rounded_half_up(q, c):
    exact = Decimal(q) * Decimal(c) / Decimal(10**7)  # milli * micros -> fen
    got = value_fen(q, c)
    assert abs(Decimal(got) - exact) <= Decimal("0.5")
    assert value_fen(-q, c) == -got  # symmetric: rounding away from zero at .5


def test_value_fen_examples():
    assert value_fen(1_000, 2_750_000) == 275  # 1 unit at ¥2.75
    assert value_fen(1, 5_000_000) == 1  # 0.001 x ¥5 = ¥0.005 -> 1 fen (half up)
    assert value_fen(1, 4_999_999) == 0


@given(qty, cost, qty, cost)
def test_weighted_average_stays_between_the_two_costs(q1, c1, q2, c2):
    avg = weighted_average_micros(q1, c1, q2, c2)
    assert min(c1, c2) <= avg <= max(c1, c2)
    exact = Decimal(q1 * c1 + q2 * c2) / Decimal(q1 + q2)
    assert abs(Decimal(avg) - exact) <= Decimal("0.5")


@given(st.integers(max_value=0, min_value=-(10**9)), cost, qty, cost)
def test_weighted_average_restarts_from_empty_or_negative(q1, c1, q2, c2):
    assert weighted_average_micros(q1, c1, q2, c2) == c2


def test_weighted_average_example():
    assert weighted_average_micros(10_000, 2_000_000, 30_000, 3_000_000) == 2_750_000
