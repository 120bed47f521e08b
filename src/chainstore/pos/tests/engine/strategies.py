"""Hypothesis strategies: tiny baskets (≤ 5 units) and up to 3 rules of every kind."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from chainstore.pos.engine.types import Item, Rule, Targets

WEIGHED_SKU = 4


def make_item(key: int, sku: int, quantity: int, price: int) -> Item:
    return Item(
        key=key,
        sku_id=sku,
        quantity=quantity,
        unit_price_fen=price,
        weighed=sku == WEIGHED_SKU,
        category_ids=frozenset({10 + sku % 2, 9}),
        brand_id=20 + sku % 3,
    )


@st.composite
def baskets(draw: Any, max_units: int = 5, max_lines: int = 4) -> list[Item]:
    prices = {sku: draw(st.integers(50, 3000)) for sku in (1, 2, 3, WEIGHED_SKU)}
    items: list[Item] = []
    units = 0
    for key in range(1, draw(st.integers(1, max_lines)) + 1):
        sku = draw(st.sampled_from([1, 2, 3, WEIGHED_SKU]))
        if sku == WEIGHED_SKU:
            quantity, used = draw(st.integers(50, 3000)), 1
        else:
            used = draw(st.integers(1, 3))
            quantity = used * 1000
        if units + used > max_units:
            break
        units += used
        items.append(make_item(key, sku, quantity, prices[sku]))
    return items


targets = st.sampled_from(
    [
        Targets(),
        Targets(sku_ids=frozenset({1})),
        Targets(sku_ids=frozenset({1, 2})),
        Targets(sku_ids=frozenset({2, WEIGHED_SKU})),
        Targets(category_ids=frozenset({10})),
        Targets(category_ids=frozenset({11})),
        Targets(brand_ids=frozenset({20})),
    ]
)


@st.composite
def rules_(draw: Any, rule_id: int, kinds: list[str] | None = None) -> Rule:
    kind = draw(
        st.sampled_from(
            kinds
            or [
                "percent_off",
                "amount_off",
                "special_price",
                "nth_item",
                "buy_x_get_y",
                "bundle",
                "threshold",
                "threshold",
            ]
        )
    )
    base: dict[str, Any] = {
        "id": rule_id,
        "code": f"R{rule_id}",
        "name": f"Rule {rule_id}",
        "kind": kind,
        "targets": draw(targets),
        "priority": draw(st.integers(0, 2)),
        "exclusive": draw(st.booleans()),
    }
    if kind == "percent_off":
        base["percent"] = draw(st.sampled_from([Decimal(5), Decimal("12.5"), Decimal(33), 50, 100]))
        base["percent"] = Decimal(base["percent"])
    elif kind == "amount_off":
        base["amount_fen"] = draw(st.integers(1, 800))
    elif kind == "special_price":
        base["price_fen"] = draw(st.integers(0, 2500))
    elif kind == "nth_item":
        base["nth"] = draw(st.integers(2, 3))
        base["percent"] = Decimal(draw(st.sampled_from([30, 50, 100])))
    elif kind == "buy_x_get_y":
        base["buy"] = draw(st.integers(1, 3))
        base["get"] = draw(st.integers(1, 2))
        base["gift_sku_id"] = draw(st.sampled_from([1, 2, 3]))
        base["max_gifts"] = draw(st.none() | st.integers(1, 3))
    elif kind == "bundle":
        skus = draw(st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=2, unique=True))
        base["components"] = tuple((s, draw(st.integers(1, 2))) for s in sorted(skus))
        base["price_fen"] = draw(st.integers(0, 5000))
    elif kind == "threshold":
        first = draw(st.integers(100, 6000))
        tiers = [(first, draw(st.integers(1, first)))]
        if draw(st.booleans()):
            second = first + draw(st.integers(1, 4000))
            tiers.append((second, draw(st.integers(1, second))))
        base["tiers"] = tuple(tiers)
        base["repeat"] = draw(st.booleans())
        base["max_repeats"] = draw(st.none() | st.integers(1, 3))
    return Rule(**base)


@st.composite
def rule_sets(
    draw: Any, max_rules: int = 3, min_rules: int = 1, kinds: list[str] | None = None
) -> list[Rule]:
    count = draw(st.integers(min_rules, max_rules))
    return [draw(rules_(rule_id, kinds)) for rule_id in range(1, count + 1)]


# Rules that interact the most: baskets of few SKUs, rules of the "set" kinds and 满减.
COMBO_KINDS = ["bundle", "threshold", "nth_item", "buy_x_get_y", "percent_off"]


gift_price_maps = st.fixed_dictionaries(
    {1: st.integers(0, 1500), 2: st.integers(1, 1500), 3: st.integers(1, 1500)}
)
