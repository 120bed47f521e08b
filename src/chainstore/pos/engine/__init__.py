"""The promotion engine: best legal combination of promotions for a basket (exact MIP)."""

from chainstore.pos.engine.returns import ReturnSettlement, SoldLine, settle_return
from chainstore.pos.engine.solver import price_basket
from chainstore.pos.engine.types import (
    AppliedRule,
    Discount,
    Gift,
    Item,
    PricedLine,
    Quote,
    Rule,
    Targets,
)

__all__ = [
    "AppliedRule",
    "Discount",
    "Gift",
    "Item",
    "PricedLine",
    "Quote",
    "ReturnSettlement",
    "Rule",
    "SoldLine",
    "Targets",
    "price_basket",
    "settle_return",
]
