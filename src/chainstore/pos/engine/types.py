"""The promotion engine's inputs and outputs: plain, immutable values, no Django.

The engine (`chainstore.pos.engine.price_basket`) takes the basket's items with their
store prices and the promotion rules that are legal for this basket (window, store and
member condition already checked by the caller), and returns the best legal combination
for the shopper, with every discount allocated to lines.

Units: money in integer fen; quantities in thousandths of the base unit (a count SKU's
quantity is a multiple of 1000; a weighed SKU's quantity is grams of a kg SKU).

Rule semantics (documented in docs/pos.md):
- Item-level rules (percent_off, amount_off, special_price, nth_item, buy_x_get_y as
  the trigger, bundle) each claim units; a unit gets at most one item-level rule.
- threshold (满减) rules count units towards their spend at the units' price after
  item-level discounts; a unit counts towards at most one threshold rule.
- exclusive: the units a rule uses get no other promotion (item-level or threshold).
  combinable: its units may also count towards another combinable rule of the other
  level (an item-level discount plus a 满减).
- points_multiplier rules never change money; a line earns points at the highest
  multiplier among the rules that target it (stacking policy does not apply).
- The engine maximises the shopper's saving (money off + value of gifts at the gift
  SKU's price). Ties go to the higher-priority rules; the result is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ITEM_KINDS = frozenset(
    {"percent_off", "amount_off", "special_price", "nth_item", "buy_x_get_y", "bundle"}
)
THRESHOLD = "threshold"
POINTS_MULTIPLIER = "points_multiplier"
KINDS = ITEM_KINDS | {THRESHOLD, POINTS_MULTIPLIER}


def round_half_up(value: Decimal) -> int:
    """Round a fen amount to a whole fen, half away from zero (the rule on receipts)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Item:
    """One basket line as the engine sees it."""

    key: int  # the line's number in the basket; unique
    sku_id: int
    quantity: int  # thousandths of the base unit, > 0
    unit_price_fen: int  # the store's price per base unit (per kg for weighed goods)
    weighed: bool = False
    category_ids: frozenset[int] = frozenset()  # the SKU's category and its ancestors
    brand_id: int | None = None

    @property
    def units(self) -> int:
        """Whole units for count goods; a weighed line is one indivisible unit."""
        return 1 if self.weighed else self.quantity // 1000

    @property
    def gross_fen(self) -> int:
        if self.weighed:
            return round_half_up(Decimal(self.unit_price_fen * self.quantity) / 1000)
        return self.unit_price_fen * (self.quantity // 1000)


@dataclass(frozen=True)
class Targets:
    """Which SKUs a rule applies to: any listed SKU, category (incl. sub-categories,
    through Item.category_ids) or brand. All empty = every SKU."""

    sku_ids: frozenset[int] = frozenset()
    category_ids: frozenset[int] = frozenset()
    brand_ids: frozenset[int] = frozenset()

    def matches(self, item: Item) -> bool:
        if not (self.sku_ids or self.category_ids or self.brand_ids):
            return True
        return (
            item.sku_id in self.sku_ids
            or bool(self.category_ids & item.category_ids)
            or (item.brand_id is not None and item.brand_id in self.brand_ids)
        )


@dataclass(frozen=True)
class Rule:
    """One legal promotion rule. Only the parameters of its kind are used:

    percent_off    percent (0 < p <= 100) off each targeted unit (weighed: the line)
    amount_off     amount_fen off each targeted unit (weighed: per kg), never below zero
    special_price  price_fen per unit (weighed: per kg) for targeted units, e.g. 会员价
    threshold      tiers ((spend_fen, save_fen), ...) ascending: the highest tier reached
                   saves its amount; repeat=True: every full tiers[0] spend saves tiers[0]
                   save (每满减), at most max_repeats times
    buy_x_get_y    every `buy` targeted units bought earn `get` units of gift_sku_id free
                   (a zero-priced gift line that consumes stock), at most max_gifts units;
                   count goods only
    nth_item       every nth unit of the same SKU gets percent off; count goods only
    bundle         components ((sku_id, units), ...) together for price_fen
    points_multiplier  multiplier (e.g. 2) on points earned by targeted lines
    """

    id: int
    code: str
    name: str
    kind: str
    targets: Targets = field(default_factory=Targets)
    priority: int = 0
    exclusive: bool = False
    recover_on_return: bool = True
    percent: Decimal | None = None
    amount_fen: int | None = None
    price_fen: int | None = None
    tiers: tuple[tuple[int, int], ...] = ()
    repeat: bool = False
    max_repeats: int | None = None
    buy: int = 0
    get: int = 0
    gift_sku_id: int | None = None
    max_gifts: int | None = None
    nth: int = 0
    components: tuple[tuple[int, int], ...] = ()
    multiplier: Decimal | None = None


@dataclass(frozen=True)
class Discount:
    rule_id: int
    amount_fen: int


@dataclass(frozen=True)
class PricedLine:
    key: int
    gross_fen: int
    discounts: tuple[Discount, ...]  # each applied rule's share of this line, > 0
    net_fen: int  # gross - sum(discounts), never negative
    points_multiplier: Decimal = Decimal(1)


@dataclass(frozen=True)
class Gift:
    rule_id: int
    sku_id: int
    quantity: int  # thousandths (whole units)
    value_fen: int  # at the gift SKU's price, for the receipt ("you saved")


@dataclass(frozen=True)
class AppliedRule:
    rule_id: int
    code: str
    name: str
    kind: str
    amount_fen: int  # money off the basket from this rule
    gift_value_fen: int  # value of the gifts it added
    times: int  # units discounted / bundles / triggers / repeats; the tier's index + 1
    line_keys: tuple[int, ...]
    explanation: str  # human text, e.g. "满100减20: spend ¥128.00 ≥ ¥100.00, save ¥20.00"
    # The same as an English %-template (translate it, then `% dict(explanation_args)`).
    explanation_template: str = ""
    explanation_args: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Quote:
    lines: tuple[PricedLine, ...]  # in the order of the items given
    gifts: tuple[Gift, ...]
    applied: tuple[AppliedRule, ...]
    subtotal_fen: int  # sum of gross
    discount_fen: int  # sum of line discounts
    total_fen: int  # subtotal - discount
    gift_value_fen: int
    optimal: bool  # False only when the solver hit its time budget
    solve_ms: float
