"""A brute-force reference for tiny baskets, written from the rule semantics in
pos/engine/types.py (not from the MIP): every unit of the basket (a count line's whole
units; a weighed line as one unit) is given every possible (item-level rule or none,
threshold rule or none[, nth "discounted" flag]) and the best legal total saving wins.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from chainstore.pos.engine.types import Item, Rule

ITEM = {"percent_off", "amount_off", "special_price", "nth_item", "buy_x_get_y", "bundle"}


@dataclass(frozen=True)
class Unit:
    item: Item
    price: int  # what this unit costs (weighed: the line amount)


def half_up(value: Fraction) -> int:
    return int(
        (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    )


def per_unit_off(rule: Rule, unit: Unit) -> int:
    """percent_off / amount_off / special_price on one unit (weighed: the line)."""
    item, price = unit.item, unit.price
    kg = Fraction(item.quantity, 1000)
    if rule.kind == "percent_off":
        off = half_up(Fraction(price) * Fraction(rule.percent or 0) / 100)
    elif rule.kind == "amount_off":
        off = half_up(rule.amount_fen * kg) if item.weighed else (rule.amount_fen or 0)
    else:
        special = rule.price_fen or 0
        off = price - (half_up(special * kg) if item.weighed else special)
    return max(0, min(price, off))


def units_of(items: Sequence[Item]) -> list[Unit]:
    out = []
    for item in sorted(items, key=lambda i: i.key):
        if item.weighed:
            out.append(Unit(item, item.gross_fen))
        else:
            out.extend(Unit(item, item.unit_price_fen) for _ in range(item.quantity // 1000))
    return out


def can_take(rule: Rule, unit: Unit) -> bool:
    if rule.kind == "bundle":
        return not unit.item.weighed and unit.item.sku_id in {s for s, _ in rule.components}
    if rule.kind in ("nth_item", "buy_x_get_y") and unit.item.weighed:
        return False
    return rule.targets.matches(unit.item)


def best_saving(
    items: Sequence[Item], rules: Sequence[Rule], gift_prices: Mapping[int, int]
) -> int:
    units = units_of(items)
    item_rules = [r for r in rules if r.kind in ITEM]
    thresholds = [r for r in rules if r.kind == "threshold"]
    # Units of one line are interchangeable: enumerate multisets of choices per line.
    per_line: list[list[tuple[tuple[Rule | None, Rule | None, bool], ...]]] = []
    ordered: list[Unit] = []
    for key in sorted({u.item.key for u in units}):
        line_units = [u for u in units if u.item.key == key]
        unit = line_units[0]
        choices = []
        for a in [None, *item_rules]:
            if a is not None and not can_take(a, unit):
                continue
            for b in [None, *thresholds]:
                if b is not None and not b.targets.matches(unit.item):
                    continue
                if a is not None and b is not None and (a.exclusive or b.exclusive):
                    continue
                flags = [False, True] if a is not None and a.kind == "nth_item" else [False]
                choices.extend((a, b, flag) for flag in flags)
        per_line.append(list(itertools.combinations_with_replacement(choices, len(line_units))))
        ordered.extend(line_units)
    best = 0
    for parts in itertools.product(*per_line):
        assignment = [choice for part in parts for choice in part]
        value = evaluate(ordered, assignment, gift_prices)
        if value is not None and value > best:
            best = value
    return best


def evaluate(
    units: list[Unit],
    assignment: Sequence[tuple[Rule | None, Rule | None, bool]],
    gift_prices: Mapping[int, int],
) -> int | None:
    """The saving of one per-unit assignment, or None if it is not a legal one."""
    saving = 0
    # What each unit still counts for a threshold after its item-level rule.
    counts: list[Fraction] = [Fraction(u.price) for u in units]
    by_rule: dict[int, list[int]] = defaultdict(list)
    rules: dict[int, Rule] = {}
    for i, (a, _, _) in enumerate(assignment):
        if a is not None:
            by_rule[a.id].append(i)
            rules[a.id] = a
    for rid, idx in by_rule.items():
        rule = rules[rid]
        if rule.kind in ("percent_off", "amount_off", "special_price"):
            for i in idx:
                off = per_unit_off(rule, units[i])
                saving += off
                counts[i] -= off
        elif rule.kind == "nth_item":
            by_sku: dict[int, list[int]] = defaultdict(list)
            for i in idx:
                by_sku[units[i].item.sku_id].append(i)
            for members in by_sku.values():
                flagged = [i for i in members if assignment[i][2]]
                if rule.nth < 2 or len(flagged) != len(members) // rule.nth:
                    return None
                for i in flagged:
                    off = half_up(Fraction(units[i].price) * Fraction(rule.percent or 0) / 100)
                    off = min(off, units[i].price)
                    saving += off
                    counts[i] -= off
        elif rule.kind == "buy_x_get_y":
            price = gift_prices.get(rule.gift_sku_id or 0, 0)
            if rule.buy > 0 and rule.get > 0:
                gifts = len(idx) // rule.buy * rule.get
                if rule.max_gifts is not None:
                    gifts = min(gifts, rule.max_gifts)
                saving += gifts * max(price, 0)
        elif rule.kind == "bundle":
            need: dict[int, int] = defaultdict(int)
            for sku, n in rule.components:
                need[sku] += n
            by_sku = defaultdict(list)
            for i in idx:
                by_sku[units[i].item.sku_id].append(i)
            bundles = min(len(by_sku[s]) // n for s, n in need.items())
            if bundles == 0:
                continue
            gross = sum(units[by_sku[s][0]].price * n for s, n in need.items())
            price = rule.price_fen or 0
            if gross <= price:
                continue
            saving += bundles * (gross - price)
            for s, n in need.items():
                for i in by_sku[s][: bundles * n]:
                    counts[i] = Fraction(units[i].price * price, gross)
    for rule in {b.id: b for _, b, _ in assignment if b is not None}.values():
        spend = sum((counts[i] for i, (_, b, _) in enumerate(assignment) if b is rule), Fraction(0))
        tiers = [(s, v) for s, v in rule.tiers if v > 0 and s >= 0]
        if rule.repeat:
            if not tiers or tiers[0][0] <= 0:
                continue
            first_spend, first_save = min(tiers)
            times = int(spend // max(first_spend, first_save))
            if rule.max_repeats is not None:
                times = min(times, rule.max_repeats)
            saving += times * first_save
        else:
            reached = [v for s, v in tiers if spend >= s and spend >= v]
            saving += max(reached, default=0)
    return saving
