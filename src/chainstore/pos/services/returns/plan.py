"""Planning a return (reads only): what each returned line refunds, what the promotions
recover (the engine's settle_return over the original sale), the points reversed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.core.errors import ValidationFailed
from chainstore.core.quantities import qty_to_milli
from chainstore.pos.engine.returns import SoldLine, settle_return
from chainstore.pos.engine.types import Discount, Item, Rule
from chainstore.pos.errors import InvalidPromotion
from chainstore.pos.models import (
    LineCondition,
    Promotion,
    PromotionKind,
    Sale,
    SaleKind,
    SaleLine,
)
from chainstore.pos.services.pricing import (
    LineInput,
    line_gross,
    line_tax,
    resolve_lines,
    store_prices,
)
from chainstore.pos.services.returns.refunds import plan_refunds
from chainstore.pos.services.returns.types import (
    TILL_DISCOUNT_RULE,
    PlannedLine,
    Recovery,
    ReturnLineInput,
    ReturnPlan,
    over_return,
)
from chainstore.pos.services.rules import rule_from_promotion
from chainstore.pos.services.scan import check_quantity
from chainstore.pos.services.tenders import TenderInput
from chainstore.sites.models import Site


# -- planning (reads only) -------------------------------------------------------------
def plan_return(
    store: Site,
    original: Sale | None,
    lines: Sequence[ReturnLineInput],
    refund: Sequence[TenderInput] | None,
) -> ReturnPlan:
    if not lines:
        raise ValidationFailed(_("Return at least one line."), code="empty_return")
    if len(lines) > 200:
        raise ValidationFailed(_("At most 200 lines per return."), code="too_many_lines")
    for ln in lines:
        if ln.condition not in LineCondition.values:
            raise ValidationFailed(_("Condition is sellable or damaged."), code="invalid_condition")
    if original is None:
        plan = _plan_unreceipted(store, lines)
    else:
        plan = _plan_receipted(store, original, lines)
    return replace(plan, refunds=tuple(plan_refunds(plan, refund)))


def _quantity(raw: Decimal | int | str | None, default: int, number: int) -> int:
    if raw is None:
        return default
    try:
        return qty_to_milli(raw)
    except ValueError:
        raise ValidationFailed(
            _("A quantity has at most 3 decimal places."), code="invalid_quantity", line=number
        ) from None


def _share(amount: int, quantity: int, before: int, after: int) -> int:
    """The part of `amount` (of `quantity` units) that units before..after returned carry:
    floor(amount × after / quantity) - floor(amount × before / quantity), so the last units
    returned take the remainder and a whole line in any pieces sums to `amount`."""
    return amount * after // quantity - amount * before // quantity


def _plan_receipted(store: Site, original: Sale, lines: Sequence[ReturnLineInput]) -> ReturnPlan:
    sold = {ln.line_no: ln for ln in original.lines.all()}
    asked: list[tuple[SaleLine, int, str]] = []
    totals: dict[int, int] = defaultdict(int)
    for number, ln in enumerate(lines, start=1):
        line = sold.get(ln.line_no or 0)
        if line is None:
            raise ValidationFailed(
                _("The receipt has no line %(line)s.") % {"line": ln.line_no},
                code="unknown_line",
                line_no=ln.line_no,
            )
        left = line.quantity - line.returned_quantity - totals[line.line_no]
        quantity = _quantity(ln.quantity, left, number)
        if ln.quantity is not None and quantity <= 0:
            raise ValidationFailed(
                _("Quantity must be greater than zero."), code="invalid_quantity", line=number
            )
        if left <= 0 or quantity > left:
            raise over_return(line, quantity or line.quantity)
        check_quantity(line.sku, quantity)
        totals[line.line_no] += quantity
        asked.append((line, quantity, ln.condition))
    settlement, promotions = _settle(original, sold, totals)
    planned: list[PlannedLine] = []
    done: dict[int, int] = defaultdict(int)
    for line, quantity, condition in asked:
        before = line.returned_quantity + done[line.line_no]
        after = before + quantity
        # The engine's refund of the line, split over its parts (e.g. sellable / damaged).
        part = done[line.line_no]
        done[line.line_no] += quantity
        refund = _share(
            settlement.refunds.get(line.line_no, 0), totals[line.line_no], part, part + quantity
        )
        planned.append(
            PlannedLine(
                line_no=len(planned) + 1,
                sku=line.sku,
                quantity=quantity,
                condition=condition,
                unit_price_fen=line.unit_price_fen,
                gross_fen=_share(line.gross_fen, line.quantity, before, after),
                refund_fen=refund,
                tax_rate_bp=line.tax_rate_bp,
                tax_fen=line_tax(refund, line.tax_rate_bp),
                points=_share(line.points_earned, line.quantity, before, after),
                original=line,
                is_gift=line.is_gift,
            )
        )
    recovered = tuple(
        Recovery(promotions[rule_id], amount, tuple(_rule_lines(original).get(rule_id, ())))
        for rule_id, amount in sorted(settlement.recovered.items())
    )
    return ReturnPlan(
        store=store,
        original=original,
        member=original.member,
        lines=tuple(planned),
        recovered=recovered,
        outstanding=dict(settlement.outstanding),
    )


def _rule_lines(original: Sale) -> dict[int, list[int]]:
    return {
        int(p["promotion_id"]): [int(n) for n in p.get("line_nos", [])]
        for p in original.promotions or []
        if p.get("promotion_id")
    }


def _settle(
    original: Sale, sold: Mapping[int, SaleLine], returning: Mapping[int, int]
) -> tuple[Any, dict[int, Promotion]]:
    """Run the engine's settlement over the original sale (rule ids = promotion ids)."""
    entries = {
        int(p["promotion_id"]): p for p in original.promotions or [] if p.get("promotion_id")
    }
    promotions = {p.pk: p for p in Promotion.objects.filter(pk__in=list(entries))}
    rules: dict[int, Rule] = {}
    for pk, promo in promotions.items():
        rule = _rule_of(promo, entries[pk])
        if rule is not None:
            rules[pk] = rule
    sold_lines = [
        SoldLine(
            item=Item(
                key=ln.line_no,
                sku_id=ln.sku_id,
                quantity=ln.quantity,
                unit_price_fen=ln.unit_price_fen,
                weighed=ln.sku.is_weighed,
                brand_id=ln.sku.brand_id,
            ),
            discounts=tuple(
                Discount(d.promotion_id or TILL_DISCOUNT_RULE, d.amount_fen)
                for d in ln.discounts.all()
                if d.amount_fen
            ),
            is_gift=ln.is_gift,
            gift_rule_id=ln.gift_promotion_id,
        )
        for ln in sold.values()
    ]
    kept_before = {no: ln.quantity - ln.returned_quantity for no, ln in sold.items()}
    kept_after = {no: kept_before[no] - returning.get(no, 0) for no in sold}
    settlement = settle_return(
        sold_lines,
        kept_before,
        kept_after,
        rules,
        _gift_prices(original, sold, entries, promotions),
        recovered_before=_recovered_before(original),
        rule_lines=_rule_lines(original),
    )
    return settlement, promotions


def _rule_of(promo: Promotion, entry: Mapping[str, Any]) -> Rule | None:
    """The engine rule of an applied promotion, as it stood at the sale when the sale
    recorded its parameters (`params` in Sale.promotions), else as it stands now."""
    stored = entry.get("params")
    if isinstance(stored, dict):
        promo = Promotion(
            pk=promo.pk,
            code=promo.code,
            name=promo.name,
            kind=entry.get("kind", promo.kind),
            params=stored,
            gift_sku_id=entry.get("gift_sku_id", promo.gift_sku_id),
            stacking=promo.stacking,
            return_policy=promo.return_policy,
            priority=promo.priority,
        )
    try:
        rules = rule_from_promotion(promo)
    except InvalidPromotion:
        return None
    recover = bool(entry.get("recover_on_return", promo.return_policy != "keep"))
    if promo.kind == PromotionKind.SPECIAL_PRICE:
        recover = False  # a price per unit: returning units never breaks it
    return replace(rules[0], id=promo.pk, recover_on_return=recover)


def _gift_prices(
    original: Sale,
    sold: Mapping[int, SaleLine],
    entries: Mapping[int, Mapping[str, Any]],
    promotions: Mapping[int, Promotion],
) -> dict[int, int]:
    """Value of one gift unit per gift SKU, from what the sale recorded for the gifts."""
    units: dict[int, int] = defaultdict(int)
    skus: dict[int, int] = {}
    for ln in sold.values():
        if ln.is_gift and ln.gift_promotion_id:
            units[ln.gift_promotion_id] += ln.quantity // 1000
            skus[ln.gift_promotion_id] = ln.sku_id
    prices: dict[int, int] = {}
    for pk, count in units.items():
        value = int(entries.get(pk, {}).get("gift_value_fen", 0))
        if count > 0 and value > 0:
            prices[skus[pk]] = value // count
    return prices


def _recovered_before(original: Sale) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    for promotions in Sale.objects.filter(original=original, kind=SaleKind.RETURN).values_list(
        "promotions", flat=True
    ):
        for p in promotions or []:
            if p.get("recovered") and p.get("promotion_id"):
                totals[int(p["promotion_id"])] += int(p.get("amount_fen", 0))
    return dict(totals)


def _plan_unreceipted(store: Site, lines: Sequence[ReturnLineInput]) -> ReturnPlan:
    for ln in lines:
        if ln.line_no is not None:
            raise ValidationFailed(
                _("Without a receipt, give SKUs or scans, not line numbers."),
                code="receipt_required",
            )
    basket = resolve_lines(
        [
            LineInput(
                sku_code=ln.sku_code, scan=ln.scan, quantity=ln.quantity, lot=ln.lot, sku=ln.sku
            )
            for ln in lines
        ]
    )
    prices = store_prices(store=store, skus=[b.sku for b in basket], at=timezone.now())
    planned = []
    for b, ln in zip(basket, lines, strict=True):
        if b.sku.is_lot_tracked and not b.lot_number:
            raise ValidationFailed(
                _("Give the lot of %(sku)s.") % {"sku": b.sku.code},
                code="lot_required",
                sku=b.sku.code,
            )
        price = prices[b.sku.pk]
        gross = line_gross(price, b.quantity, weighed=b.sku.is_weighed)
        planned.append(
            PlannedLine(
                line_no=b.line_no,
                sku=b.sku,
                quantity=b.quantity,
                condition=ln.condition,
                unit_price_fen=price,
                gross_fen=gross,
                refund_fen=gross,
                tax_rate_bp=b.sku.tax_rate_bp,
                tax_fen=line_tax(gross, b.sku.tax_rate_bp),
                lot_number=b.lot_number,
                expiry=b.expiry,
            )
        )
    return ReturnPlan(store=store, original=None, member=None, lines=tuple(planned))
