"""Pricing a basket: the store's prices, the legal promotions, the engine, tax and points.

Store price of a SKU at a moment (`store_prices`, one query for the whole basket): among
active price lists in their window (valid_from <= at < valid_to) that apply to the store,
a list naming the store beats a chain-wide list (one without stores), then the higher
priority, then the newer list; without any, the SKU's retail price.

Tax: prices include VAT (价内税). Each line's tax = round_half_up(net × rate / (10000 +
rate)), rate in basis points; the receipt's tax is the sum of its lines.

Points (members only): per line floor(tier points_per_yuan × net in yuan), then × the
line's points multiplier (highest points_multiplier promotion on the line), floored.
Gift lines earn nothing.

`quote_basket` has no side effects; `create_sale` prices the same way inside its
transaction (`price_lines`), or checks a till's own pricing (`client_priced`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.catalog.models import Category, Sku
from chainstore.core.errors import ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.pos.engine import Item, Rule, price_basket
from chainstore.pos.engine.types import Targets, round_half_up
from chainstore.pos.errors import MemberInactive
from chainstore.pos.models import Member, PriceList, PriceListItem, Promotion, PromotionKind
from chainstore.pos.services.basket import BasketLine, LineInput, resolve_lines
from chainstore.pos.services.rules import LegalRules, legal_rules, rule_from_promotion
from chainstore.sites.models import Site

__all__ = [
    "AppliedPromotion",
    "BasketLine",
    "BasketQuote",
    "LineInput",
    "QuoteDiscount",
    "QuoteLine",
    "client_priced",
    "line_tax",
    "price_lines",
    "quote_basket",
    "resolve_lines",
    "rule_from_promotion",
    "store_prices",
]

QUOTE_TIME_LIMIT_S = 1.0
TILL_DISCOUNT = "till_discount"


# -- outputs ---------------------------------------------------------------------------
@dataclass(frozen=True)
class QuoteDiscount:
    promotion: Promotion | None  # None: a discount the till gave (client pricing)
    label: str
    amount_fen: int


@dataclass(frozen=True)
class QuoteLine:
    line_no: int
    sku: Sku
    quantity: int
    unit_price_fen: int
    gross_fen: int
    discounts: tuple[QuoteDiscount, ...]
    net_fen: int
    tax_rate_bp: int
    tax_fen: int
    lot_number: str | None = None
    expiry: dt.date | None = None
    is_gift: bool = False
    gift_promotion: Promotion | None = None
    gift_value_fen: int = 0
    points_multiplier: Decimal = Decimal(1)
    points: int = 0

    @property
    def discount_fen(self) -> int:
        return sum(d.amount_fen for d in self.discounts)


@dataclass(frozen=True)
class AppliedPromotion:
    promotion: Promotion
    amount_fen: int
    gift_value_fen: int
    times: int
    line_nos: tuple[int, ...]
    explanation: str
    # (English template, args) per engine rule, so a receipt re-renders in any language.
    explains: tuple[tuple[str, dict[str, str]], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The form stored on Sale.promotions (fen amounts)."""
        return {
            "promotion_id": self.promotion.pk,
            "code": self.promotion.code,
            "name": self.promotion.name,
            "kind": self.promotion.kind,
            "amount_fen": self.amount_fen,
            "gift_value_fen": self.gift_value_fen,
            "times": self.times,
            "line_nos": list(self.line_nos),
            "explanation": self.explanation,
            "explain": [[template, args] for template, args in self.explains],
            "recover_on_return": self.promotion.return_policy != "keep",
            # The rule as it stood at the sale, so a later return settles against it.
            "params": self.promotion.params,
            "gift_sku_id": self.promotion.gift_sku_id,
        }


@dataclass(frozen=True)
class BasketQuote:
    store: Site
    member: Member | None
    at: dt.datetime
    lines: tuple[QuoteLine, ...]
    promotions: tuple[AppliedPromotion, ...] = ()
    subtotal_fen: int = 0
    discount_fen: int = 0
    total_fen: int = 0
    tax_fen: int = 0
    gift_value_fen: int = 0
    points_to_earn: int = 0
    optimal: bool = True
    solve_ms: float = 0.0
    priced_by: str = "server"


# -- use cases -------------------------------------------------------------------------
def quote_basket(
    *,
    store: Site,
    lines: Sequence[LineInput],
    actor: Any,
    member: Member | None = None,
    at: dt.datetime | None = None,
) -> BasketQuote:
    """Price a basket at the store for the shopper (no side effects). Permission pos.sell."""
    ensure_can(actor, "pos.sell", sites=[store.pk])
    check_member(member)
    return price_lines(store=store, lines=resolve_lines(lines), member=member, at=at)


def check_member(member: Member | None) -> None:
    if member is not None and not member.is_active:
        raise MemberInactive(member=member.card_number)


# -- store prices ----------------------------------------------------------------------
def store_prices(*, store: Site, skus: Sequence[Sku], at: dt.datetime) -> dict[int, int]:
    """The store's price (fen per unit or per kg) of each SKU at `at`, in one query."""
    ids = {s.pk for s in skus}
    through = PriceList.stores.through
    specific = Exists(
        through.objects.filter(pricelist_id=OuterRef("price_list_id"), site_id=store.pk)
    )
    limited = Exists(through.objects.filter(pricelist_id=OuterRef("price_list_id")))
    rows = (
        PriceListItem.objects.filter(sku_id__in=ids, price_list__is_active=True)
        .filter(
            Q(price_list__valid_from__isnull=True) | Q(price_list__valid_from__lte=at),
            Q(price_list__valid_to__isnull=True) | Q(price_list__valid_to__gt=at),
        )
        .annotate(specific=specific, limited=limited)
        .filter(Q(specific=True) | Q(limited=False))
        .values_list(
            "sku_id",
            "price_fen",
            "specific",
            "price_list__priority",
            "price_list__created_at",
            "price_list_id",
        )
    )
    best: dict[int, tuple[Any, ...]] = {}
    for sku_id, price, is_specific, priority, created, list_id in rows:
        rank = (bool(is_specific), priority, created, list_id)
        if sku_id not in best or rank > best[sku_id][0]:
            best[sku_id] = (rank, price)
    return {s.pk: best[s.pk][1] if s.pk in best else s.retail_price_fen for s in skus}


# -- server pricing --------------------------------------------------------------------
def price_lines(
    *,
    store: Site,
    lines: Sequence[BasketLine],
    member: Member | None,
    at: dt.datetime | None = None,
) -> BasketQuote:
    """Price resolved lines with the store's prices and the best legal promotions."""
    at = at or timezone.now()
    legal = legal_rules(store=store, at=at, member=member)
    ancestors = _category_ancestors()
    skus = {ln.sku.pk: ln.sku for ln in lines}
    rules = _relevant(legal.rules, lines, ancestors)
    gift_ids = {r.gift_sku_id for r in rules if r.gift_sku_id is not None}
    gift_skus = {s.pk: s for s in Sku.objects.filter(pk__in=gift_ids - set(skus))}
    gift_skus.update({pk: skus[pk] for pk in gift_ids & set(skus)})
    prices = store_prices(store=store, skus=[*skus.values(), *gift_skus.values()], at=at)
    items = [
        Item(
            key=ln.line_no,
            sku_id=ln.sku.pk,
            quantity=ln.quantity,
            unit_price_fen=prices[ln.sku.pk],
            weighed=ln.sku.is_weighed,
            category_ids=ancestors.get(ln.sku.category_id or 0, frozenset()),
            brand_id=ln.sku.brand_id,
        )
        for ln in lines
    ]
    quote = price_basket(
        items, rules, {pk: prices[pk] for pk in gift_ids}, time_limit_s=QUOTE_TIME_LIMIT_S
    )
    ppy = member.tier.points_per_yuan if member is not None else 0
    out: list[QuoteLine] = []
    for ln, item, priced in zip(lines, items, quote.lines, strict=True):
        net = priced.net_fen
        out.append(
            QuoteLine(
                line_no=ln.line_no,
                sku=ln.sku,
                quantity=ln.quantity,
                unit_price_fen=item.unit_price_fen,
                gross_fen=priced.gross_fen,
                discounts=_discounts(priced.discounts, legal),
                net_fen=net,
                tax_rate_bp=ln.sku.tax_rate_bp,
                tax_fen=line_tax(net, ln.sku.tax_rate_bp),
                lot_number=ln.lot_number,
                expiry=ln.expiry,
                points_multiplier=priced.points_multiplier,
                points=line_points(ppy, net, priced.points_multiplier),
            )
        )
    for gift in quote.gifts:
        sku = gift_skus[gift.sku_id]
        out.append(
            QuoteLine(
                line_no=len(out) + 1,
                sku=sku,
                quantity=gift.quantity,
                unit_price_fen=0,
                gross_fen=0,
                discounts=(),
                net_fen=0,
                tax_rate_bp=sku.tax_rate_bp,
                tax_fen=0,
                is_gift=True,
                gift_promotion=legal.promotion_of[gift.rule_id],
                gift_value_fen=gift.value_fen,
            )
        )
    return _totals(
        store=store,
        member=member,
        at=at,
        lines=out,
        promotions=_applied(quote.applied, legal),
        optimal=quote.optimal,
        solve_ms=quote.solve_ms,
    )


def _relevant(
    rules: list[Rule], lines: Sequence[BasketLine], ancestors: dict[int, frozenset[int]]
) -> list[Rule]:
    """Drop rules no line of the basket could trigger (fewer variables for the engine)."""
    probes = [
        Item(
            key=0,
            sku_id=ln.sku.pk,
            quantity=1000,
            unit_price_fen=0,
            category_ids=ancestors.get(ln.sku.category_id or 0, frozenset()),
            brand_id=ln.sku.brand_id,
        )
        for ln in lines
    ]
    sku_ids = {ln.sku.pk for ln in lines}
    out = []
    for rule in rules:
        if rule.kind == PromotionKind.BUNDLE:
            if all(sku in sku_ids for sku, _units in rule.components):
                out.append(rule)
        elif _matches_any(rule.targets, probes):
            out.append(rule)
    return out


def _matches_any(targets: Targets, probes: list[Item]) -> bool:
    return any(targets.matches(p) for p in probes)


def _category_ancestors() -> dict[int, frozenset[int]]:
    """Each category id → itself and its ancestors (one query over the category tree)."""
    parents = dict(Category.objects.values_list("id", "parent_id"))
    out: dict[int, frozenset[int]] = {}
    for cid in parents:
        chain: list[int] = []
        node: int | None = cid
        while node is not None and node not in chain and len(chain) < 50:
            chain.append(node)
            node = parents.get(node)
        out[cid] = frozenset(chain)
    return out


def _discounts(discounts: Sequence[Any], legal: LegalRules) -> tuple[QuoteDiscount, ...]:
    merged: dict[int, int] = defaultdict(int)
    order: list[Promotion] = []
    for d in discounts:
        promo = legal.promotion_of[d.rule_id]
        if promo.pk not in merged:
            order.append(promo)
        merged[promo.pk] += d.amount_fen
    return tuple(QuoteDiscount(p, p.name, merged[p.pk]) for p in order if merged[p.pk])


def _applied(applied: Sequence[Any], legal: LegalRules) -> tuple[AppliedPromotion, ...]:
    by_promo: dict[int, AppliedPromotion] = {}
    for a in applied:
        promo = legal.promotion_of[a.rule_id]
        prev = by_promo.get(promo.pk)
        if prev is None:
            by_promo[promo.pk] = AppliedPromotion(
                promotion=promo,
                amount_fen=a.amount_fen,
                gift_value_fen=a.gift_value_fen,
                times=a.times,
                line_nos=tuple(sorted(a.line_keys)),
                explanation=_explain(a),
                explains=_template(a),
            )
        else:
            by_promo[promo.pk] = AppliedPromotion(
                promotion=promo,
                amount_fen=prev.amount_fen + a.amount_fen,
                gift_value_fen=prev.gift_value_fen + a.gift_value_fen,
                times=prev.times + a.times,
                line_nos=tuple(sorted({*prev.line_nos, *a.line_keys})),
                explanation=f"{prev.explanation}; {_explain(a)}",
                explains=prev.explains + _template(a),
            )
    return tuple(by_promo.values())


def _template(applied: Any) -> tuple[tuple[str, dict[str, str]], ...]:
    template = getattr(applied, "explanation_template", "")
    return ((template, dict(applied.explanation_args)),) if template else ()


def stored_explanation(entry: dict[str, Any]) -> str:
    """A promotion as stored on Sale.promotions, explained in the active language."""
    parts = []
    for template, args in entry.get("explain") or []:
        try:
            parts.append(_(template) % args)
        except (KeyError, TypeError, ValueError):
            return str(entry.get("explanation", ""))
    return "; ".join(parts) if parts else str(entry.get("explanation", ""))


def _explain(applied: Any) -> str:
    """The engine's explanation in the active language (its template, translated)."""
    template = getattr(applied, "explanation_template", "")
    if not template:
        return str(applied.explanation)
    try:
        return _(template) % dict(applied.explanation_args)
    except (KeyError, TypeError, ValueError):
        return str(applied.explanation)


# -- client pricing --------------------------------------------------------------------
def client_priced(
    *,
    store: Site,
    lines: Sequence[BasketLine],
    member: Member | None,
    at: dt.datetime | None = None,
) -> BasketQuote:
    """A till's own pricing (offline / third-party), checked for consistency: every line
    has a unit price >= 0, gross = price × quantity (weighed: per kg, rounded half up), and
    0 <= discount <= gross. Discounts are recorded as the till's, not as promotions."""
    ppy = member.tier.points_per_yuan if member is not None else 0
    out: list[QuoteLine] = []
    for ln in lines:
        price = ln.unit_price_fen
        if price is None or price < 0:
            raise ValidationFailed(
                _("Client pricing needs a unit price of at least zero on every line."),
                code="invalid_client_price",
                line=ln.line_no,
            )
        gross = line_gross(price, ln.quantity, weighed=ln.sku.is_weighed)
        if not 0 <= ln.discount_fen <= gross:
            raise ValidationFailed(
                _("A line's discount must be between zero and its gross amount."),
                code="invalid_client_discount",
                line=ln.line_no,
                gross=gross,
                discount=ln.discount_fen,
            )
        net = gross - ln.discount_fen
        discounts = (
            (QuoteDiscount(None, TILL_DISCOUNT, ln.discount_fen),) if ln.discount_fen else ()
        )
        out.append(
            QuoteLine(
                line_no=ln.line_no,
                sku=ln.sku,
                quantity=ln.quantity,
                unit_price_fen=price,
                gross_fen=gross,
                discounts=discounts,
                net_fen=net,
                tax_rate_bp=ln.sku.tax_rate_bp,
                tax_fen=line_tax(net, ln.sku.tax_rate_bp),
                lot_number=ln.lot_number,
                expiry=ln.expiry,
                points=line_points(ppy, net, Decimal(1)),
            )
        )
    return _totals(
        store=store,
        member=member,
        at=at or timezone.now(),
        lines=out,
        promotions=(),
        optimal=True,
        solve_ms=0.0,
        priced_by="client",
    )


# -- arithmetic ------------------------------------------------------------------------
def line_gross(unit_price_fen: int, quantity: int, *, weighed: bool) -> int:
    if weighed:
        return round_half_up(Decimal(unit_price_fen * quantity) / 1000)
    return unit_price_fen * (quantity // 1000)


def line_tax(net_fen: int, rate_bp: int) -> int:
    """VAT included in a net amount: round_half_up(net × rate / (10000 + rate))."""
    return round_half_up(Decimal(net_fen * rate_bp) / (10_000 + rate_bp))


def line_points(points_per_yuan: int, net_fen: int, multiplier: Decimal) -> int:
    """floor(points_per_yuan × net yuan), × the multiplier, floored; never negative."""
    if points_per_yuan <= 0 or net_fen <= 0:
        return 0
    base = points_per_yuan * net_fen // 100
    return int((Decimal(base) * multiplier).to_integral_value(rounding=ROUND_FLOOR))


def _totals(
    *,
    store: Site,
    member: Member | None,
    at: dt.datetime,
    lines: list[QuoteLine],
    promotions: tuple[AppliedPromotion, ...],
    optimal: bool,
    solve_ms: float,
    priced_by: str = "server",
) -> BasketQuote:
    paid = [ln for ln in lines if not ln.is_gift]
    subtotal = sum(ln.gross_fen for ln in paid)
    discount = sum(ln.discount_fen for ln in paid)
    return BasketQuote(
        store=store,
        member=member,
        at=at,
        lines=tuple(lines),
        promotions=promotions,
        subtotal_fen=subtotal,
        discount_fen=discount,
        total_fen=subtotal - discount,
        tax_fen=sum(ln.tax_fen for ln in lines),
        gift_value_fen=sum(ln.gift_value_fen for ln in lines),
        points_to_earn=sum(ln.points for ln in lines),
        optimal=optimal,
        solve_ms=solve_ms,
        priced_by=priced_by,
    )
