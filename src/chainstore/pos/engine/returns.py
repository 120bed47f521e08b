"""Settling a return against the promotions of the original sale (pure, no Django).

A return refunds what was really paid for the returned units, and recovers the part of a
promotion that the units kept are no longer entitled to (the rule's `recover_on_return`).

Refund of a line: the line's gross minus each of its allocated discounts, every one of them
pro rata to the returned quantity, rounded down, with the last units of the line taking
the remainder: part(x) = F(returned after) - F(returned before), F(r) = floor(x * r /
quantity). Splitting the gross and each discount separately (not the net) keeps the
refunded and the kept shares of every amount consistent with A_r below, so a broken tier
leaves the kept units at exactly their full price. Returning a whole line in any number of
pieces refunds exactly its net.

Clawback of a rule r on the kept units K, for every applied rule with recover_on_return:
    C_r(K) = max(0, A_r(K) - D_r(K))
- A_r(K): what r gave the kept units: its allocated shares on the kept units, pro rata per
  line (the same floor rule as refunds); for buy_x_get_y the gifts kept, at their value.
- D_r(K): what r alone entitles the kept units to (the kept units of the lines r used,
  never more than r gave in the sale): a unit discount per kept unit; nth_item and bundle
  recounted on the kept units; 满减 (threshold) re-checked on the kept units' spend after
  their item-level discounts (pro rata); buy_x_get_y: triggers on the kept units × get,
  at most max_gifts and at most the gifts kept.
This return recovers, per rule, C_r(K after) minus what earlier returns of the sale
recovered (by default C_r(K before)); it is negative when this return gives back an
earlier clawback (returning the rest of a broken 满减). The refund total is the refunds
minus the recoveries, never below zero (the shortfall is then not recovered now; it stays
owed in C_r and the next return settles it, because recoveries are always measured
against what was really recovered before). Over any sequence of returns of the whole
basket, the refunds add up to exactly what was paid.

Worked example: A ¥80 + B ¥40, 满100减20 (recover). The ¥20 is allocated A ¥13.33, B ¥6.67
(largest remainder), so A's net is ¥66.67 and B's ¥33.33; paid ¥100.00.
- Return B: refund B = ¥33.33. Kept {A}: A_r = ¥13.33, the spend ¥80 no longer reaches
  ¥100, D_r = 0, so C_r = ¥13.33 recovered. Refund total ¥33.33 - ¥13.33 = ¥20.00: the
  shopper keeps A at its full price ¥80.
- Then return A: refund A = ¥66.67; C_r(nothing kept) = 0, recovery 0 - ¥13.33 = -¥13.33,
  refund total ¥80.00. In all ¥20.00 + ¥80.00 = ¥100.00, what was paid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

from chainstore.pos.engine.rounding import unit_discount
from chainstore.pos.engine.types import ITEM_KINDS, THRESHOLD, Discount, Item, Rule, round_half_up

__all__ = ["ReturnSettlement", "SoldLine", "settle_return"]


@dataclass(frozen=True)
class SoldLine:
    """One line of the original sale as sold: `item.key` is the line number, quantity and
    unit price as sold (a gift line: unit price 0)."""

    item: Item
    discounts: tuple[Discount, ...] = ()
    is_gift: bool = False
    gift_rule_id: int | None = None

    @property
    def net_fen(self) -> int:
        return self.item.gross_fen - sum(d.amount_fen for d in self.discounts)


@dataclass(frozen=True)
class ReturnSettlement:
    refunds: dict[int, int] = field(default_factory=dict)  # line key -> refund (returned lines)
    recovered: dict[int, int] = field(default_factory=dict)  # rule id -> recovered now (≠ 0)
    refund_total: int = 0  # sum(refunds) - sum(recovered), never below zero
    outstanding: dict[int, int] = field(default_factory=dict)  # rule id -> C_r(K after) (≠ 0)


def _part(amount: int, quantity: int, kept: int) -> int:
    """The part of `amount` that stays with `kept` of `quantity` (the returned part is
    rounded down, so the last units returned take the remainder)."""
    return amount - amount * (quantity - kept) // quantity


def settle_return(
    lines: Sequence[SoldLine],
    kept_before: Mapping[int, int],
    kept_after: Mapping[int, int],
    rules: Mapping[int, Rule],
    gift_prices: Mapping[int, int],
    *,
    recovered_before: Mapping[int, int] | None = None,
    rule_lines: Mapping[int, Iterable[int]] | None = None,
) -> ReturnSettlement:
    """Settle one return of a sale.

    kept_before / kept_after: quantity (thousandths) of each line the shopper keeps
    before and after this return; a line missing from kept_before is kept whole, one
    missing from kept_after keeps its kept_before quantity. `rules`: the applied rules by
    id (every rule that discounted these lines; a discount of an unknown rule is treated
    as item-level and never recovered). `gift_prices`: gift SKU → value of one unit.
    `recovered_before`: per rule, what earlier returns of this sale recovered in total
    (default C_r(kept_before), right unless an earlier refund total was floored at zero).
    `rule_lines`: per rule, the lines it used (AppliedRule.line_keys); by default the
    lines it discounted, and for buy_x_get_y the non-gift lines its targets match.
    """
    by_key = {line.item.key: line for line in lines}
    before = {key: kept_before.get(key, line.item.quantity) for key, line in by_key.items()}
    after = {key: kept_after.get(key, before[key]) for key in by_key}
    for key, line in by_key.items():
        if not 0 <= after[key] <= before[key] <= line.item.quantity:
            raise ValueError(f"line {key}: kept quantities must satisfy 0 ≤ after ≤ before ≤ sold")

    refunds = {}
    for key, line in by_key.items():
        if after[key] < before[key]:
            # The gross and each discount split by the same rule as A_r below, so what
            # is refunded and what stays with the kept units always add up to the line.
            def returned(amount: int, line: SoldLine = line, key: int = key) -> int:
                q = line.item.quantity
                return _part(amount, q, before[key]) - _part(amount, q, after[key])

            refunds[key] = returned(line.item.gross_fen) - sum(
                returned(d.amount_fen) for d in line.discounts
            )

    used = _rule_lines(lines, rules, rule_lines)
    applied_ids = sorted(
        {d.rule_id for line in lines for d in line.discounts}
        | {line.gift_rule_id for line in lines if line.is_gift and line.gift_rule_id is not None}
    )
    outstanding: dict[int, int] = {}
    recovered: dict[int, int] = {}
    for rule_id in applied_ids:
        rule = rules.get(rule_id)
        if rule is None or not rule.recover_on_return:
            continue
        keys = used.get(rule_id, [])
        owed_after = _clawback(rule, rules, lines, keys, after, gift_prices)
        if recovered_before is not None:
            owed_before = recovered_before.get(rule_id, 0)
        else:
            owed_before = _clawback(rule, rules, lines, keys, before, gift_prices)
        if owed_after:
            outstanding[rule_id] = owed_after
        if owed_after != owed_before:
            recovered[rule_id] = owed_after - owed_before

    total = sum(refunds.values()) - sum(recovered.values())
    if total < 0:  # recover only what this refund can cover; the rest stays owed
        short = -total
        for rule_id in sorted(recovered, key=lambda r: (-recovered[r], r)):
            if short == 0:
                break
            if recovered[rule_id] > 0:
                cut = min(short, recovered[rule_id])
                recovered[rule_id] -= cut
                short -= cut
        recovered = {r: v for r, v in recovered.items() if v}
        total = 0
    return ReturnSettlement(
        refunds=refunds, recovered=recovered, refund_total=total, outstanding=outstanding
    )


def _rule_lines(
    lines: Sequence[SoldLine], rules: Mapping[int, Rule], given: Mapping[int, Iterable[int]] | None
) -> dict[int, list[int]]:
    used: dict[int, list[int]] = defaultdict(list)
    for line in lines:
        for d in line.discounts:
            used[d.rule_id].append(line.item.key)
    for rule in rules.values():
        if rule.kind == "buy_x_get_y" and rule.id not in used:
            used[rule.id] = [
                line.item.key
                for line in lines
                if not line.is_gift and not line.item.weighed and rule.targets.matches(line.item)
            ]
    keys = {line.item.key for line in lines}
    for rule_id, line_keys in (given or {}).items():
        used[rule_id] = sorted(k for k in set(line_keys) if k in keys)
    return used


def _kept_item(item: Item, kept: int) -> Item:
    return replace(item, quantity=kept)


def _clawback(
    rule: Rule,
    rules: Mapping[int, Rule],
    lines: Sequence[SoldLine],
    keys: Sequence[int],
    kept: Mapping[int, int],
    gift_prices: Mapping[int, int],
) -> int:
    """C_r(K) = max(0, A_r(K) - D_r(K))."""
    by_key = {line.item.key: line for line in lines}
    if rule.kind == "buy_x_get_y":
        value = max(gift_prices.get(rule.gift_sku_id or 0, 0), 0)
        gifts_kept = sum(
            kept[line.item.key] // 1000
            for line in lines
            if line.is_gift and line.gift_rule_id == rule.id
        )
        bought = sum(kept[k] // 1000 for k in keys if not by_key[k].is_gift)
        entitled = bought // rule.buy * rule.get if rule.buy > 0 else 0
        if rule.max_gifts is not None:
            entitled = min(entitled, rule.max_gifts)
        return max(0, gifts_kept - entitled) * value
    given = 0
    given_kept = 0
    for line in lines:
        for d in line.discounts:
            if d.rule_id == rule.id:
                given += d.amount_fen
                given_kept += _part(d.amount_fen, line.item.quantity, kept[line.item.key])
    entitled = min(_entitlement(rule, [by_key[k] for k in keys], kept, rules), given)
    return max(0, given_kept - entitled)


def _entitlement(
    rule: Rule, lines: list[SoldLine], kept: Mapping[int, int], rules: Mapping[int, Rule]
) -> int:
    """D_r(K): what `rule` alone gives the kept units of `lines`."""
    kind = rule.kind
    live = [line for line in lines if kept[line.item.key] > 0 and not line.is_gift]
    if kind in ("percent_off", "amount_off", "special_price"):
        total = 0
        for line in live:
            item = _kept_item(line.item, kept[line.item.key])
            d = unit_discount(
                kind,
                item,
                percent=rule.percent,
                amount_fen=rule.amount_fen,
                price_fen=rule.price_fen,
            )
            total += d if item.weighed else d * item.units
        return total
    if kind == "nth_item":
        units: dict[tuple[int, int], int] = defaultdict(int)
        for line in live:
            if not line.item.weighed:
                units[(line.item.sku_id, line.item.unit_price_fen)] += kept[line.item.key] // 1000
        if rule.nth < 2 or rule.percent is None:
            return 0
        return sum(
            count // rule.nth * round_half_up(price * rule.percent / 100)
            for (_, price), count in units.items()
        )
    if kind == "bundle":
        needs: dict[int, int] = defaultdict(int)
        for sku, need in rule.components:
            needs[sku] += need
        have: dict[int, int] = defaultdict(int)
        price: dict[int, int] = {}
        for line in live:
            if not line.item.weighed:
                have[line.item.sku_id] += kept[line.item.key] // 1000
                price[line.item.sku_id] = max(
                    price.get(line.item.sku_id, 0), line.item.unit_price_fen
                )
        if not needs or any(sku not in price or need <= 0 for sku, need in needs.items()):
            return 0
        bundles = min(have[sku] // need for sku, need in needs.items())
        saving = sum(price[sku] * need for sku, need in needs.items()) - (rule.price_fen or 0)
        return bundles * max(saving, 0)
    if kind == THRESHOLD:
        spend = Fraction(0)
        for line in live:
            item_level = sum(
                d.amount_fen
                for d in line.discounts
                if d.rule_id not in rules or rules[d.rule_id].kind in ITEM_KINDS
            )
            spend += Fraction(
                (line.item.gross_fen - item_level) * kept[line.item.key], line.item.quantity
            )
        tiers = sorted((s, v) for s, v in rule.tiers if v > 0 and s >= 0)
        if not tiers:
            return 0
        if rule.repeat:
            first_spend, first_save = tiers[0]
            if first_spend <= 0:
                return 0
            times = int(spend // max(first_spend, first_save))
            if rule.max_repeats is not None:
                times = min(times, rule.max_repeats)
            return times * first_save
        return max((v for s, v in tiers if spend >= s and spend >= v), default=0)
    return 0
