"""Tenders: how a receipt is paid (or refunded), one class per kind behind one interface.

    method = tender_method("wechat_pay")
    method.charge(ctx, planned)           # a sale: money in, writes the Tender row
    method.refund(ctx, amount_fen=...)    # a return: money back, writes the Tender row

Kinds: cash (handed over / change), bank_card, wechat_pay, alipay (recorded with the
terminal's reference; no gateway here — subclass `RecordedTender` and `register_tender`
to plug one in), points (the sale's member; StoreSettings.points_per_yuan_redeemed points
make one yuan), gift_card (reference = the card number). Points and gift cards are debited
with one conditional UPDATE that refuses to go below zero, and an append-only ledger entry
(PointsEntry / GiftCardEntry) records the balance after.

`plan_tenders` checks a sale's tenders before anything is charged: they must add up to
the total exactly; only cash may exceed what is due, and the excess is change.

Everything here runs inside the caller's transaction (create_sale, the returns service);
permissions are the caller's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import F
from django.utils.translation import gettext as _

from chainstore.core.quantities import fen_to_money
from chainstore.pos.errors import (
    GiftCardInsufficient,
    GiftCardNotFound,
    InvalidTender,
    MemberRequired,
    TendersMismatch,
)
from chainstore.pos.models import (
    GiftCard,
    GiftCardEntry,
    Member,
    Sale,
    StoreSettings,
    Tender,
    TenderKind,
)
from chainstore.pos.services.members import redeem_points, refund_points

__all__ = [
    "CashTender",
    "GiftCardTender",
    "PlannedTender",
    "PointsTender",
    "RecordedTender",
    "TenderContext",
    "TenderInput",
    "TenderMethod",
    "credit_gift_card",
    "debit_gift_card",
    "plan_tenders",
    "points_to_fen",
    "register_tender",
    "tender_method",
]


@dataclass(frozen=True)
class TenderInput:
    """One tender as the till sends it. amount_fen: the money this tender pays (cash: may
    exceed what is due, the excess is change); tendered_fen: cash handed over; points: the
    points used (points tender; computed from the amount if omitted); card: the gift card
    number; reference: the terminal's / wallet's transaction reference."""

    kind: str
    amount_fen: int
    tendered_fen: int | None = None
    reference: str = ""
    points: int | None = None
    card: str = ""


@dataclass(frozen=True)
class PlannedTender:
    """A tender checked against the total: what it pays, cash handed over and change."""

    kind: str
    amount_fen: int
    tendered_fen: int = 0
    change_fen: int = 0
    points: int = 0
    reference: str = ""
    card: str = ""


@dataclass(frozen=True)
class TenderContext:
    sale: Sale  # the sale being paid, or the return being refunded
    settings: StoreSettings
    member: Member | None
    actor: Any


class TenderMethod:
    """The interface: one instance per kind in the registry."""

    kind: ClassVar[str] = ""

    def plan(self, tender: TenderInput, settings: StoreSettings) -> PlannedTender:
        """Check one tender's own fields (the sum is checked by plan_tenders)."""
        return PlannedTender(kind=self.kind, amount_fen=tender.amount_fen)

    def charge(self, ctx: TenderContext, planned: PlannedTender) -> Tender:
        """Take the money for a sale and write its Tender row."""
        return self._row(ctx, planned)

    def refund(
        self,
        ctx: TenderContext,
        *,
        amount_fen: int,
        original: Tender | None = None,
        reference: str = "",
        card: str = "",
        points: int | None = None,
    ) -> Tender:
        """Pay `amount_fen` back on a return (ctx.sale is the return) and write its Tender
        row. `original`: the sale's tender being refunded (gift card and reference default
        from it)."""
        _positive(amount_fen)
        ref = reference or (original.reference if original is not None else "")
        planned = PlannedTender(kind=self.kind, amount_fen=amount_fen, reference=ref[:64])
        return self._row(ctx, planned)

    def _row(self, ctx: TenderContext, planned: PlannedTender) -> Tender:
        return Tender.objects.create(
            sale=ctx.sale,
            kind=self.kind,
            amount_fen=planned.amount_fen,
            tendered_fen=planned.tendered_fen,
            change_fen=planned.change_fen,
            points=planned.points,
            reference=planned.reference[:64],
        )


class CashTender(TenderMethod):
    kind = TenderKind.CASH

    def plan(self, tender: TenderInput, settings: StoreSettings) -> PlannedTender:
        handed = tender.tendered_fen if tender.tendered_fen is not None else tender.amount_fen
        if handed < tender.amount_fen:
            raise InvalidTender(
                _("Cash handed over is less than the cash amount."),
                code="cash_tendered_short",
                amount=str(fen_to_money(tender.amount_fen)),
                tendered=str(fen_to_money(handed)),
            )
        return PlannedTender(kind=self.kind, amount_fen=tender.amount_fen, tendered_fen=handed)


class RecordedTender(TenderMethod):
    """A payment taken on an external terminal or wallet: recorded with its reference.
    A real gateway subclasses this and overrides charge/refund."""

    def plan(self, tender: TenderInput, settings: StoreSettings) -> PlannedTender:
        if len(tender.reference) > 64:
            raise InvalidTender(_("The reference is at most 64 characters."), kind=self.kind)
        return PlannedTender(
            kind=self.kind, amount_fen=tender.amount_fen, reference=tender.reference.strip()
        )


class BankCardTender(RecordedTender):
    kind = TenderKind.BANK_CARD


class WechatPayTender(RecordedTender):
    kind = TenderKind.WECHAT_PAY


class AlipayTender(RecordedTender):
    kind = TenderKind.ALIPAY


class PointsTender(TenderMethod):
    """Points as money: `points_per_yuan_redeemed` points (store setting) = 1 yuan."""

    kind = TenderKind.POINTS

    def plan(self, tender: TenderInput, settings: StoreSettings) -> PlannedTender:
        rate = settings.points_per_yuan_redeemed
        points = tender.points
        if points is None:
            if (tender.amount_fen * rate) % 100:
                raise InvalidTender(
                    _("This amount is not a whole number of points."), code="points_not_whole"
                )
            points = tender.amount_fen * rate // 100
        if points <= 0 or points_to_fen(points, rate) != tender.amount_fen:
            raise InvalidTender(
                _("%(points)s points are not worth %(amount)s.")
                % {"points": points, "amount": fen_to_money(tender.amount_fen)},
                code="points_amount_mismatch",
                points_per_yuan=rate,
            )
        return PlannedTender(kind=self.kind, amount_fen=tender.amount_fen, points=points)

    def charge(self, ctx: TenderContext, planned: PlannedTender) -> Tender:
        if ctx.member is None:
            raise MemberRequired()
        redeem_points(member=ctx.member, points=planned.points, sale=ctx.sale, actor=ctx.actor)
        return self._row(ctx, planned)

    def refund(
        self,
        ctx: TenderContext,
        *,
        amount_fen: int,
        original: Tender | None = None,
        reference: str = "",
        card: str = "",
        points: int | None = None,
    ) -> Tender:
        """Credit points back to the member: `points`, or the amount at the store's rate."""
        _positive(amount_fen)
        if ctx.member is None:
            raise MemberRequired()
        if points is None:
            rate = ctx.settings.points_per_yuan_redeemed
            if (amount_fen * rate) % 100:
                raise InvalidTender(
                    _("This amount is not a whole number of points."), code="points_not_whole"
                )
            points = amount_fen * rate // 100
        refund_points(member=ctx.member, points=points, sale=ctx.sale, actor=ctx.actor)
        planned = PlannedTender(kind=self.kind, amount_fen=amount_fen, points=points)
        return self._row(ctx, planned)


class GiftCardTender(TenderMethod):
    """A stored-value card; the Tender's reference is the card number."""

    kind = TenderKind.GIFT_CARD

    def plan(self, tender: TenderInput, settings: StoreSettings) -> PlannedTender:
        card = (tender.card or tender.reference).strip()
        if not card:
            raise InvalidTender(_("Give the gift card number."), code="gift_card_required")
        return PlannedTender(
            kind=self.kind, amount_fen=tender.amount_fen, reference=card, card=card
        )

    def charge(self, ctx: TenderContext, planned: PlannedTender) -> Tender:
        debit_gift_card(number=planned.card, amount_fen=planned.amount_fen, sale=ctx.sale)
        return self._row(ctx, planned)

    def refund(
        self,
        ctx: TenderContext,
        *,
        amount_fen: int,
        original: Tender | None = None,
        reference: str = "",
        card: str = "",
        points: int | None = None,
    ) -> Tender:
        """Load the amount back onto the card (`card`, or the original tender's card)."""
        _positive(amount_fen)
        number = card or reference or (original.reference if original is not None else "")
        if not number:
            raise InvalidTender(_("Give the gift card number."), code="gift_card_required")
        credit_gift_card(number=number, amount_fen=amount_fen, sale=ctx.sale)
        planned = PlannedTender(kind=self.kind, amount_fen=amount_fen, reference=number)
        return self._row(ctx, planned)


_REGISTRY: dict[str, TenderMethod] = {}


def register_tender(method: TenderMethod) -> None:
    """Install (or replace) the method of a kind, e.g. a real WeChat Pay gateway."""
    if method.kind not in TenderKind.values:
        raise ValueError(f"unknown tender kind {method.kind!r}")
    _REGISTRY[method.kind] = method


for _method in (
    CashTender(),
    BankCardTender(),
    WechatPayTender(),
    AlipayTender(),
    PointsTender(),
    GiftCardTender(),
):
    register_tender(_method)


def tender_method(kind: str) -> TenderMethod:
    method = _REGISTRY.get(kind)
    if method is None:
        raise InvalidTender(
            _("Unknown tender kind %(kind)s.") % {"kind": kind},
            code="unknown_tender_kind",
            kind=kind,
        )
    return method


def plan_tenders(
    tenders: Sequence[TenderInput], *, total_fen: int, settings: StoreSettings
) -> list[PlannedTender]:
    """Check the tenders against the total; cash pays what the others leave, and change.

    Non-cash tenders may not exceed the total; with the cash amounts they must reach it;
    the excess of cash over what is due is change (a cash tender that pays nothing is
    refused). A zero total needs no tenders."""
    if len(tenders) > 20:
        raise TendersMismatch(_("At most 20 tenders per sale."), code="too_many_tenders")
    planned = []
    for tender in tenders:
        _positive(tender.amount_fen)
        planned.append(tender_method(tender.kind).plan(tender, settings))
    non_cash = sum(p.amount_fen for p in planned if p.kind != TenderKind.CASH)
    cash = sum(p.amount_fen for p in planned if p.kind == TenderKind.CASH)
    details = {
        "total": str(fen_to_money(total_fen)),
        "tendered": str(fen_to_money(non_cash + cash)),
    }
    if non_cash > total_fen:
        raise TendersMismatch(
            _("Card, wallet, points and gift card tenders exceed the total."),
            code="tenders_exceed_total",
            **details,
        )
    if non_cash + cash < total_fen:
        raise TendersMismatch(
            _("The tenders do not cover the total."), code="tenders_short", **details
        )
    due = total_fen - non_cash
    out: list[PlannedTender] = []
    for p in planned:
        if p.kind != TenderKind.CASH:
            out.append(p)
            continue
        applied = min(p.amount_fen, due)
        if applied <= 0:
            raise TendersMismatch(
                _("A cash tender pays nothing: the rest is already covered."),
                code="tender_not_needed",
                **details,
            )
        due -= applied
        out.append(
            PlannedTender(
                kind=p.kind,
                amount_fen=applied,
                tendered_fen=p.tendered_fen,
                change_fen=p.tendered_fen - applied,
            )
        )
    return out


def points_to_fen(points: int, points_per_yuan: int) -> int:
    """Money value of points (exact when the result is a whole fen, else rounded down)."""
    return points * 100 // points_per_yuan


# -- gift cards ------------------------------------------------------------------------
def debit_gift_card(*, number: str, amount_fen: int, sale: Sale | None) -> GiftCardEntry:
    """Take `amount_fen` off an active card with one conditional UPDATE (never below 0)."""
    _positive(amount_fen)
    card = GiftCard.objects.filter(number=number, is_active=True).first()
    if card is None:
        raise GiftCardNotFound(card=number)
    updated = GiftCard.objects.filter(pk=card.pk, balance_fen__gte=amount_fen).update(
        balance_fen=F("balance_fen") - amount_fen
    )
    if not updated:
        balance = GiftCard.objects.values_list("balance_fen", flat=True).get(pk=card.pk)
        raise GiftCardInsufficient(
            card=number,
            balance=str(fen_to_money(balance)),
            requested=str(fen_to_money(amount_fen)),
        )
    return _gift_entry(card, -amount_fen, sale)


def credit_gift_card(*, number: str, amount_fen: int, sale: Sale | None) -> GiftCardEntry:
    """Load `amount_fen` back onto a card (a refund to the card it was paid with)."""
    _positive(amount_fen)
    card = GiftCard.objects.filter(number=number).first()
    if card is None:
        raise GiftCardNotFound(card=number)
    GiftCard.objects.filter(pk=card.pk).update(balance_fen=F("balance_fen") + amount_fen)
    return _gift_entry(card, amount_fen, sale)


def _gift_entry(card: GiftCard, delta: int, sale: Sale | None) -> GiftCardEntry:
    # Our UPDATE holds the row lock until commit: the balance read back is ours.
    after = GiftCard.objects.values_list("balance_fen", flat=True).get(pk=card.pk)
    return GiftCardEntry.objects.create(
        card=card, delta_fen=delta, balance_after_fen=after, sale=sale
    )


def _positive(amount_fen: int) -> None:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InvalidTender(_("A tender amount must be greater than zero."), code="invalid_amount")
