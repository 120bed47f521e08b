"""API schemas of the checkout side: quote, sales, batches, members, gift cards, suspended
baskets. Inputs are decimals in yuan and base units (kg for weighed goods); outputs turn
stored fen and thousandths into decimal strings (core.schemas Fen / MilliQty)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import model_validator

from chainstore.core.schemas import Fen, MilliQty
from chainstore.pos.models import Member, PointsEntry, Sale, SaleLine, SuspendedBasket
from chainstore.pos.services.pricing import (
    TILL_DISCOUNT,
    BasketQuote,
    QuoteLine,
    stored_explanation,
)

TenderKindIn = Literal["cash", "bank_card", "wechat_pay", "alipay", "points", "gift_card"]
Money = Decimal


# -- inputs ----------------------------------------------------------------------------
class LineIn(Schema):
    sku: str | None = Field(default=None, description="SKU code; or give `scan`")
    scan: str | None = Field(
        default=None,
        max_length=200,
        description="Raw scan: EAN-13/UPC-A, GS1 (lot from AI 10), or an in-store scale "
        "barcode 2FPPPPPWWWWWC (flag, PLU, grams)",
        examples=["6901234567892", "(01)06901234567892(10)L2311(17)261231", "2000123004563"],
    )
    quantity: Decimal | None = Field(
        default=None,
        gt=0,
        max_digits=12,
        decimal_places=3,
        description="Base units, default 1; weighed goods in kg (3 decimals); with a scale "
        "barcode the number of labels",
    )
    lot: str | None = Field(default=None, max_length=64, description="Sell from this lot")
    unit_price: Money | None = Field(
        default=None,
        ge=0,
        max_digits=12,
        decimal_places=2,
        description="priced_by=client only: price charged per unit (per kg)",
    )
    discount: Money | None = Field(
        default=None,
        ge=0,
        max_digits=12,
        decimal_places=2,
        description="priced_by=client only: the line's total discount",
    )

    @model_validator(mode="after")
    def sku_or_scan(self) -> LineIn:
        if not self.sku and not self.scan:
            raise ValueError("give sku or scan")
        return self


class QuoteIn(Schema):
    store: str = Field(description="Store code", examples=["S001"])
    till: str | None = Field(default=None, description="Till code (optional for a quote)")
    member: str | None = Field(
        default=None, description="Member card number or phone", examples=["13800138000"]
    )
    lines: list[LineIn] = Field(min_length=1, max_length=200)


class TenderIn(Schema):
    kind: TenderKindIn
    amount: Money = Field(
        gt=0,
        max_digits=12,
        decimal_places=2,
        description="What this tender pays; cash may exceed what is due (the excess is change)",
    )
    tendered: Money | None = Field(
        default=None, gt=0, max_digits=12, decimal_places=2, description="Cash handed over"
    )
    reference: str = Field(
        default="", max_length=64, description="Card terminal / WeChat / Alipay reference"
    )
    points: int | None = Field(
        default=None, gt=0, description="Points used (points tender; default: from amount)"
    )
    card: str | None = Field(default=None, max_length=32, description="Gift card number")


class SaleIn(QuoteIn):
    till: str = Field(description="Till code", examples=["T01"])  # type: ignore[assignment]
    tenders: list[TenderIn] = Field(default_factory=list, max_length=20)
    expected_total: Money | None = Field(
        default=None,
        max_digits=12,
        decimal_places=2,
        description="The total the cashier saw; a different total is 409 price_changed",
    )
    sold_at: dt.datetime | None = Field(default=None, description="When sold (offline sales)")
    offline: bool = False
    priced_by: Literal["server", "client"] = "server"


class BatchSaleIn(Schema):
    idempotency_key: str = Field(min_length=1, max_length=100)
    sold_at: dt.datetime
    member: str | None = None
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    tenders: list[TenderIn] = Field(default_factory=list, max_length=20)
    expected_total: Money | None = Field(default=None, max_digits=12, decimal_places=2)
    priced_by: Literal["server", "client"] = "server"


class BatchIn(Schema):
    store: str
    till: str
    sales: list[BatchSaleIn] = Field(min_length=1, max_length=500)


class MemberIn(Schema):
    phone: str = Field(min_length=5, max_length=20)
    name: str = Field(default="", max_length=100)
    card_number: str | None = Field(default=None, max_length=32)
    tier: str | None = Field(default=None, description="Tier code (default: the lowest)")
    home_store: str | None = Field(default=None, description="Store code")


class SuspendIn(Schema):
    store: str
    till: str | None = None
    label: str = Field(default="", max_length=100)
    payload: dict[str, Any] = Field(description="The basket as the till holds it")


# -- outputs ---------------------------------------------------------------------------
class MemberOut(Schema):
    id: int
    card_number: str
    phone: str
    name: str
    tier: str = Field(alias="tier.code")
    tier_name: str = Field(alias="tier.name")
    points_balance: int
    is_active: bool


class DiscountOut(Schema):
    promotion: str | None = Field(description="Promotion code; null for a till discount")
    name: str
    amount: Fen


class LineOut(Schema):
    line_no: int
    sku: str
    name: str
    unit: str
    quantity: MilliQty
    lot: str | None
    unit_price: Fen
    gross: Fen
    discounts: list[DiscountOut]
    net: Fen
    tax: Fen
    is_gift: bool
    gift_value: Fen | None = None
    points: int = 0
    returned_quantity: MilliQty | None = None


class PromotionOut(Schema):
    code: str
    name: str
    kind: str
    amount: Fen
    gift_value: Fen
    explanation: str
    lines: list[int] = Field(default_factory=list, description="line_no of the lines it used")


class QuoteOut(Schema):
    lines: list[LineOut]
    promotions: list[PromotionOut]
    subtotal: Fen
    discount: Fen
    total: Fen
    tax: Fen
    gift_value: Fen
    points_to_earn: int
    member: MemberOut | None
    optimal: bool
    solve_ms: float


class TenderOut(Schema):
    kind: str
    amount: Fen = Field(alias="amount_fen")
    tendered: Fen = Field(alias="tendered_fen")
    change: Fen = Field(alias="change_fen")
    reference: str
    points: int


class DiscrepancyOut(Schema):
    id: int
    sku: str
    short_quantity: MilliQty
    status: str


class SaleOut(Schema):
    id: int
    number: str
    kind: str
    store: str
    till: str | None
    cashier: str | None
    member: MemberOut | None
    sold_at: dt.datetime
    business_date: dt.date
    offline: bool
    priced_by: str
    lines: list[LineOut]
    tenders: list[TenderOut]
    change: Fen
    subtotal: Fen
    discount: Fen
    total: Fen
    tax: Fen
    promotions: list[PromotionOut]
    points_earned: int
    points_redeemed: int
    member_points_balance: int | None
    went_short: bool
    discrepancies: list[DiscrepancyOut]
    original: str | None = Field(default=None, description="Returns: the original receipt")
    replayed: bool = False


class SaleSummaryOut(Schema):
    id: int
    number: str
    kind: str
    store: str = Field(alias="site.code")
    till: str | None = Field(default=None, alias="till.code")
    cashier: str | None = None
    member: str | None = Field(default=None, alias="member.card_number")
    sold_at: dt.datetime
    business_date: dt.date
    total: Fen = Field(alias="total_fen")
    went_short: bool
    offline: bool

    @staticmethod
    def resolve_cashier(obj: Sale) -> str | None:
        return obj.cashier.get_username() if obj.cashier else None


class BatchResultOut(Schema):
    idempotency_key: str
    status: Literal["created", "replayed", "rejected"]
    sale_id: int | None
    number: str | None
    error: dict[str, Any] | None


class BatchOut(Schema):
    results: list[BatchResultOut]


class PointsEntryOut(Schema):
    id: int
    kind: str
    delta: int
    balance_after: int
    sale: str | None = Field(default=None, alias="sale.number")
    note: str
    created_at: dt.datetime


class GiftCardOut(Schema):
    number: str
    balance: Fen = Field(alias="balance_fen")
    is_active: bool


class SuspendedOut(Schema):
    id: int
    store: str = Field(alias="site.code")
    till: str | None = Field(default=None, alias="till.code")
    cashier: str | None = None
    label: str
    payload: dict[str, Any]
    created_at: dt.datetime
    resumed_at: dt.datetime | None

    @staticmethod
    def resolve_cashier(obj: SuspendedBasket) -> str | None:
        return obj.cashier.get_username() if obj.cashier else None


# -- builders --------------------------------------------------------------------------
def member_out(member: Member | None) -> MemberOut | None:
    return MemberOut.model_validate(member) if member is not None else None


def quote_line_out(line: QuoteLine) -> dict[str, Any]:
    return dict(
        line_no=line.line_no,
        sku=line.sku.code,
        name=line.sku.name,
        unit=line.sku.base_unit,
        quantity=line.quantity,
        lot=line.lot_number,
        unit_price=line.unit_price_fen,
        gross=line.gross_fen,
        discounts=[
            dict(
                promotion=d.promotion.code if d.promotion else None,
                name=d.promotion.name if d.promotion else _label(d.label),
                amount=d.amount_fen,
            )
            for d in line.discounts
        ],
        net=line.net_fen,
        tax=line.tax_fen,
        is_gift=line.is_gift,
        gift_value=line.gift_value_fen if line.is_gift else None,
        points=line.points,
    )


def quote_out(quote: BasketQuote) -> QuoteOut:
    return QuoteOut.model_validate(
        dict(
            lines=[quote_line_out(ln) for ln in quote.lines],
            promotions=[_promotion_out(p.as_dict()) for p in quote.promotions],
            subtotal=quote.subtotal_fen,
            discount=quote.discount_fen,
            total=quote.total_fen,
            tax=quote.tax_fen,
            gift_value=quote.gift_value_fen,
            points_to_earn=quote.points_to_earn if quote.member else 0,
            member=quote.member,
            optimal=quote.optimal,
            solve_ms=round(quote.solve_ms, 3),
        )
    )


def _promotion_out(data: dict[str, Any]) -> dict[str, Any]:
    return dict(
        code=data.get("code", ""),
        name=data.get("name", ""),
        kind=data.get("kind", ""),
        amount=int(data.get("amount_fen", 0)),
        gift_value=int(data.get("gift_value_fen", 0)),
        explanation=stored_explanation(data),
        lines=list(data.get("line_nos", [])),
    )


def _label(label: str) -> str:
    return _("Till discount") if label == TILL_DISCOUNT else label


def sale_line_out(line: SaleLine) -> dict[str, Any]:
    return dict(
        line_no=line.line_no,
        sku=line.sku.code,
        name=line.sku.name,
        unit=line.sku.base_unit,
        quantity=line.quantity,
        lot=line.lot.number if line.lot else None,
        unit_price=line.unit_price_fen,
        gross=line.gross_fen,
        discounts=[
            dict(
                promotion=d.promotion.code if d.promotion else None,
                name=d.promotion.name if d.promotion else _label(d.label),
                amount=d.amount_fen,
            )
            for d in line.discounts.all()
        ],
        net=line.net_fen,
        tax=line.tax_fen,
        is_gift=line.is_gift,
        points=line.points_earned,
        returned_quantity=line.returned_quantity,
    )


def sale_out(sale: Sale) -> SaleOut:
    """A receipt (sale or return) with its lines, tenders and discrepancies; `sale` comes
    from selectors.sale_detail_queryset (or is re-read through it)."""
    tenders = list(sale.tenders.all())
    member = sale.member
    balance: int | None = None
    if member is not None:
        balance = Member.objects.values_list("points_balance", flat=True).get(pk=member.pk)
    return SaleOut.model_validate(
        dict(
            id=sale.pk,
            number=sale.number,
            kind=sale.kind,
            store=sale.site.code,
            till=sale.till.code if sale.till else None,
            cashier=sale.cashier.get_username() if sale.cashier else None,
            member=member,
            sold_at=sale.sold_at,
            business_date=sale.business_date,
            offline=sale.offline,
            priced_by=sale.priced_by,
            lines=[sale_line_out(ln) for ln in sale.lines.all()],
            tenders=tenders,
            change=sum(t.change_fen for t in tenders) or 0,
            subtotal=sale.subtotal_fen,
            discount=sale.discount_fen,
            total=sale.total_fen,
            tax=sale.tax_fen,
            promotions=[_promotion_out(p) for p in sale.promotions or []],
            points_earned=sale.points_earned,
            points_redeemed=sale.points_redeemed,
            member_points_balance=balance,
            went_short=sale.went_short,
            discrepancies=[
                dict(id=d.pk, sku=d.sku.code, short_quantity=d.short_quantity, status=d.status)
                for d in sale.discrepancies.all()
            ],
            original=sale.original.number if sale.original_id and sale.original else None,
            replayed=getattr(sale, "replayed", False),
        )
    )


def points_entry_out(entry: PointsEntry) -> PointsEntryOut:
    return PointsEntryOut.model_validate(entry)
