"""Placeholder until the solver lands (being written)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chainstore.pos.engine.types import Item, Quote, Rule


def price_basket(
    items: Sequence[Item],
    rules: Sequence[Rule],
    gift_prices: Mapping[int, int],
    *,
    time_limit_s: float = 0.5,
) -> Quote:
    raise NotImplementedError
