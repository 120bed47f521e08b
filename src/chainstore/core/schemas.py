"""Shared pieces of the API schemas: output types that turn the database's integer minor
units into Decimal at the edge (inputs stay plain Decimal, in base units and yuan)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator

from chainstore.core.quantities import fen_to_money, micros_to_cost, milli_to_qty


def _stored(convert: Callable[[int], Decimal]) -> BeforeValidator:
    """Convert a stored integer; leave anything else (already a Decimal) to pydantic."""
    return BeforeValidator(lambda value: convert(value) if type(value) is int else value)


MilliQty = Annotated[Decimal, _stored(milli_to_qty)]
"""A stored quantity (thousandths of the base unit) shown as a decimal in base units."""

MicroCost = Annotated[Decimal, _stored(micros_to_cost)]
"""A stored unit cost (micro-yuan) shown as a decimal in yuan."""

Fen = Annotated[Decimal, _stored(fen_to_money)]
"""A stored amount of money (fen) shown as a decimal in yuan."""
