"""The engine's rounding rules, in one place (all money in integer fen).

1. A weighed line's amount is `round_half_up(unit_price_per_kg * grams / 1000)`
   (`Item.gross_fen`); a count line's amount is exact (`unit_price * units`).
2. A unit-discount rule's discount is rounded per unit (count goods) or per line
   (weighed goods), half up, then capped at the price:
   percent_off   round_half_up(price * percent / 100)
   amount_off    min(price, amount)             weighed: round_half_up(amount * kg)
   special_price max(0, price - special)         weighed: gross - round_half_up(special * kg)
   nth_item      round_half_up(price * percent / 100) per discounted unit
3. A discount spread over several lines (a bundle's saving, a 满减 saving, an N-th item
   discount over the lines of its units) is split proportionally to the lines' weights
   by the largest-remainder method: every line gets the floor of its exact share, and
   the fen left over go one each to the largest remainders, ties to the smaller line
   key. The shares add up exactly to the amount, and no line gets more than its cap
   (the line's money still left) when the caps allow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from chainstore.pos.engine.types import Item, round_half_up

__all__ = [
    "largest_remainder",
    "round_half_up",
    "round_half_up_fraction",
    "unit_discount",
    "yuan",
]


def round_half_up_fraction(value: Fraction) -> int:
    """Round a non-negative-or-negative fraction of a fen half away from zero."""
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    whole, rest = divmod(magnitude.numerator, magnitude.denominator)
    if 2 * rest >= magnitude.denominator:
        whole += 1
    return sign * whole


def _kg(item: Item) -> Fraction:
    return Fraction(item.quantity, 1000)


def unit_discount(
    kind: str,
    item: Item,
    *,
    percent: Decimal | None = None,
    amount_fen: int | None = None,
    price_fen: int | None = None,
) -> int:
    """Discount in fen of one unit (count goods) or of the whole line (weighed goods)
    under a unit-discount rule; 0 when the rule gives nothing. Never above the price."""
    base = item.gross_fen if item.weighed else item.unit_price_fen
    if kind == "percent_off" or kind == "nth_item":
        if percent is None or percent <= 0:
            return 0
        off = round_half_up(Decimal(base) * min(percent, Decimal(100)) / 100)
    elif kind == "amount_off":
        if amount_fen is None or amount_fen <= 0:
            return 0
        off = round_half_up_fraction(amount_fen * _kg(item)) if item.weighed else amount_fen
    elif kind == "special_price":
        if price_fen is None or price_fen < 0:
            return 0
        new = round_half_up_fraction(price_fen * _kg(item)) if item.weighed else price_fen
        off = base - new
    else:
        raise ValueError(f"not a unit-discount kind: {kind}")
    return max(0, min(off, base))


def largest_remainder(
    total: int,
    weights: Mapping[int, Fraction | int],
    caps: Mapping[int, int] | None = None,
) -> dict[int, int]:
    """Split `total` fen over keys proportionally to `weights` (largest remainder, ties
    to the smaller key), never giving a key more than its cap when caps are given and
    add up to at least `total`. The result's values add up exactly to `total`."""
    if total < 0:
        raise ValueError("total must not be negative")
    keys = sorted(k for k, w in weights.items() if w > 0)
    shares = dict.fromkeys(weights, 0)
    if total == 0:
        return shares
    if not keys:
        raise ValueError("no positive weight to allocate to")
    weight_sum = sum(Fraction(weights[k]) for k in keys)
    cap = {k: (caps[k] if caps is not None else None) for k in keys}
    remainders: dict[int, Fraction] = {}
    for k in keys:
        exact = Fraction(total) * Fraction(weights[k]) / weight_sum
        floor = exact.numerator // exact.denominator
        c = cap[k]
        if c is not None and floor >= c:
            shares[k] = max(c, 0)
            remainders[k] = Fraction(-1)  # full: takes nothing more
        else:
            shares[k] = floor
            remainders[k] = exact - floor
    left = total - sum(shares.values())
    order = sorted(keys, key=lambda k: (-remainders[k], k))
    # One fen each by remainder, then (only when caps bind) round-robin over room left.
    while left > 0:
        given = False
        for k in order:
            if left == 0:
                break
            c = cap[k]
            if c is not None and shares[k] >= c:
                continue
            shares[k] += 1
            left -= 1
            given = True
        if not given:  # caps too tight: put the rest on the heaviest key
            heaviest = max(keys, key=lambda k: (Fraction(weights[k]), -k))
            shares[heaviest] += left
            left = 0
    return shares


def yuan(fen: int) -> str:
    """Receipt money: 12850 → '¥128.50'."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100}.{fen % 100:02d}"
