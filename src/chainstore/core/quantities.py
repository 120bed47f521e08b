"""Exact quantities and money.

The database stores integers in fixed minor units; Decimal exists only at the edges.
- quantity: thousandths of the SKU's base unit ("milli"), e.g. 1.5 kg -> 1500
- money: fen (0.01 CNY)
- unit cost: micro-yuan (0.000001 CNY) per base unit, so moving averages stay exact enough
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

QTY_SCALE = 1000
MONEY_SCALE = 100
COST_SCALE = 1_000_000

_QTY_Q = Decimal("0.001")
_MONEY_Q = Decimal("0.01")
_COST_Q = Decimal("0.000001")


def _decimal(value: Decimal | int | str | float) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not a number: {value!r}") from exc


def qty_to_milli(value: Decimal | int | str) -> int:
    """Decimal quantity in base units -> integer thousandths; refuses finer precision."""
    d = _decimal(value)
    if d != d.quantize(_QTY_Q):
        raise ValueError("quantity has more than 3 decimal places")
    return int(d * QTY_SCALE)


def milli_to_qty(value: int) -> Decimal:
    return (Decimal(value) / QTY_SCALE).quantize(_QTY_Q)


def money_to_fen(value: Decimal | int | str) -> int:
    return int((_decimal(value) * MONEY_SCALE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fen_to_money(value: int) -> Decimal:
    return (Decimal(value) / MONEY_SCALE).quantize(_MONEY_Q)


def cost_to_micros(value: Decimal | int | str) -> int:
    return int((_decimal(value) * COST_SCALE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def micros_to_cost(value: int) -> Decimal:
    return (Decimal(value) / COST_SCALE).quantize(_COST_Q)


def value_fen(quantity_milli: int, unit_cost_micros: int) -> int:
    """Stock value in fen of a quantity at a unit cost, rounded half up."""
    # milli * micros = 1e-9 CNY; fen = 1e-2 CNY -> divide by 1e7
    numerator = quantity_milli * unit_cost_micros
    sign = -1 if numerator < 0 else 1
    return sign * ((abs(numerator) + 5_000_000) // 10_000_000)


def weighted_average_micros(
    old_qty_milli: int, old_cost_micros: int, in_qty_milli: int, in_cost_micros: int
) -> int:
    """Moving weighted average after receiving in_qty at in_cost (移动加权平均).

    When the existing quantity is zero or negative the incoming cost becomes the average.
    """
    if old_qty_milli <= 0:
        return in_cost_micros
    total_qty = old_qty_milli + in_qty_milli
    total_value = old_qty_milli * old_cost_micros + in_qty_milli * in_cost_micros
    return (total_value + total_qty // 2) // total_qty
