"""Refund tenders: points and gift cards back to themselves pro rata to what they paid,
the rest in cash, or the tenders chosen at the till (checked)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from chainstore.core.quantities import fen_to_money
from chainstore.pos.errors import TendersMismatch
from chainstore.pos.models import (
    Sale,
    SaleKind,
    Tender,
    TenderKind,
)
from chainstore.pos.services.returns.types import RefundPart, ReturnPlan
from chainstore.pos.services.tenders import TenderInput, tender_method

# -- refund tenders --------------------------------------------------------------------
SELF_REFUNDED = (TenderKind.POINTS, TenderKind.GIFT_CARD)


def plan_refunds(plan: ReturnPlan, given: Sequence[TenderInput] | None) -> list[RefundPart]:
    total = plan.refund_total_fen
    if given is not None:
        return _given_refunds(plan, list(given), total)
    if total <= 0:
        return []
    if plan.original is None:
        return [RefundPart(kind=TenderKind.CASH, amount_fen=total)]
    parts = _self_refunds(plan.original, total)
    rest = total - sum(p.amount_fen for p in parts)
    if rest > 0:
        parts.append(RefundPart(kind=TenderKind.CASH, amount_fen=rest))
    return parts


@dataclass
class _Paid:
    tender: Tender
    amount_fen: int
    points: int
    refunded_fen: int = 0
    refunded_points: int = 0


def _paid_by_self_refunded(original: Sale) -> dict[tuple[str, str], _Paid]:
    """Points and gift-card tenders of the sale with what earlier returns refunded to them."""
    paid: dict[tuple[str, str], _Paid] = {}
    for t in original.tenders.all():
        if t.kind in SELF_REFUNDED:
            key = (t.kind, t.reference if t.kind == TenderKind.GIFT_CARD else "")
            if key in paid:
                paid[key].amount_fen += t.amount_fen
                paid[key].points += t.points
            else:
                paid[key] = _Paid(t, t.amount_fen, t.points)
    if paid:
        for kind, ref, amount, points in Tender.objects.filter(
            sale__original=original, sale__kind=SaleKind.RETURN, kind__in=SELF_REFUNDED
        ).values_list("kind", "reference", "amount_fen", "points"):
            key = (kind, ref if kind == TenderKind.GIFT_CARD else "")
            if key in paid:
                paid[key].refunded_fen += amount
                paid[key].refunded_points += points
    return paid


def _self_refunds(original: Sale, total: int) -> list[RefundPart]:
    """Points and gift cards get back their share of everything refunded so far (pro rata
    to what they paid of the sale), so the last return squares them exactly."""
    paid = _paid_by_self_refunded(original)
    if not paid or original.total_fen <= 0:
        return []
    before = sum(
        Sale.objects.filter(original=original, kind=SaleKind.RETURN).values_list(
            "total_fen", flat=True
        )
    )
    after = min(before + total, original.total_fen)
    parts: list[RefundPart] = []
    budget = total
    for (kind, ref), p in sorted(paid.items()):
        target = p.amount_fen * after // original.total_fen
        amount = min(max(0, target - p.refunded_fen), budget)
        if amount <= 0:
            continue
        points = None
        if kind == TenderKind.POINTS:
            points = p.points * after // original.total_fen - p.refunded_points
            if points <= 0:
                continue
        budget -= amount
        parts.append(
            RefundPart(
                kind=kind,
                amount_fen=amount,
                points=points,
                card=ref,
                reference=ref,
                original=p.tender,
            )
        )
    return parts


def _given_refunds(plan: ReturnPlan, given: list[TenderInput], total: int) -> list[RefundPart]:
    """Refund tenders chosen at the till: they add up to the refund; points and gift cards
    only back to what paid the sale (and no more than it paid); no receipt: cash only."""
    amount = sum(t.amount_fen for t in given)
    if any(t.amount_fen <= 0 for t in given) or amount != total:
        raise TendersMismatch(
            _("The refund tenders must add up to the refund %(total)s.")
            % {"total": fen_to_money(total)},
            code="refund_mismatch",
            refund=str(fen_to_money(total)),
            given=str(fen_to_money(amount)),
        )
    paid = _paid_by_self_refunded(plan.original) if plan.original is not None else {}
    parts = []
    for t in given:
        tender_method(t.kind)  # unknown kinds are refused
        if plan.original is None and t.kind != TenderKind.CASH:
            raise TendersMismatch(
                _("A return without a receipt is refunded in cash."), code="cash_only", kind=t.kind
            )
        original_tender = None
        points = t.points
        card = (t.card or t.reference).strip()
        if t.kind in SELF_REFUNDED:
            p = paid.get((t.kind, card if t.kind == TenderKind.GIFT_CARD else ""))
            if p is None or t.amount_fen > p.amount_fen - p.refunded_fen:
                raise TendersMismatch(
                    _("Points and gift cards are refunded only to what paid the sale."),
                    code="refund_not_to_original",
                    kind=t.kind,
                )
            # Count this part against the tender, so two parts cannot refund it twice.
            p.refunded_fen += t.amount_fen
            if t.kind == TenderKind.POINTS:
                points = _points_back(p, t.points)
                p.refunded_points += points
            original_tender = p.tender
        parts.append(
            RefundPart(
                kind=t.kind,
                amount_fen=t.amount_fen,
                points=points,
                card=card,
                reference=t.reference,
                original=original_tender,
            )
        )
    return parts


def _points_back(paid: _Paid, asked: int | None) -> int:
    """The points a points refund credits: the tender's points pro rata to the money it has
    refunded in all (at the rate the sale paid, so the last refund squares it), and never
    more than that when the till names a number (`paid.refunded_fen` already counts this
    refund's money)."""
    due = paid.points * paid.refunded_fen // paid.amount_fen - paid.refunded_points
    points = due if asked is None else asked
    if points <= 0 or points > due:
        raise TendersMismatch(
            _("At most %(points)s points go back for this amount.") % {"points": max(due, 0)},
            code="refund_points_mismatch",
            points=max(due, 0),
        )
    return points
