"""API schemas of returns, shifts (X/Z), the store day and stock discrepancies.

Inputs are decimals in yuan / base units; outputs turn stored fen and thousandths into
decimal strings (core.schemas Fen / MilliQty)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import model_validator

from chainstore.core.schemas import Fen, MilliQty
from chainstore.pos.models import DayClose, Sale, Shift, StockDiscrepancy
from chainstore.pos.schemas import SaleOut, sale_out
from chainstore.pos.selectors_reports import SalesTotals, TenderTotal
from chainstore.pos.services.reports import StoreDay
from chainstore.pos.services.returns import ReturnPlan
from chainstore.pos.services.shifts import CashCount, ShiftReport, ZReport


# -- shifts ----------------------------------------------------------------------------
class ShiftOpenIn(Schema):
    store: str = Field(description="Store code")
    till: str = Field(description="Till code at the store")
    opening_float: Decimal = Field(
        default=Decimal(0), ge=0, max_digits=12, decimal_places=2, description="Cash in the drawer"
    )


class ShiftCloseIn(Schema):
    counted_cash: Decimal = Field(
        ge=0, max_digits=12, decimal_places=2, description="Cash counted in the drawer"
    )
    note: str = Field(default="", max_length=200)


class ShiftOut(Schema):
    id: int
    store: str
    till: str
    cashier: str
    status: str
    business_date: dt.date
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    opening_float: Fen
    expected_cash: Fen | None
    counted_cash: Fen | None
    variance: Fen | None
    note: str

    @classmethod
    def of(cls, shift: Shift) -> ShiftOut:
        counted, expected = shift.counted_cash_fen, shift.expected_cash_fen
        data: dict[str, Any] = {
            "id": shift.pk,
            "store": shift.site.code,
            "till": shift.till.code,
            "cashier": shift.cashier.get_username(),
            "status": shift.status,
            "business_date": shift.business_date,
            "opened_at": shift.opened_at,
            "closed_at": shift.closed_at,
            "opening_float": shift.opening_float_fen,
            "expected_cash": expected,
            "counted_cash": counted,
            "variance": (
                counted - expected if counted is not None and expected is not None else None
            ),
            "note": shift.note,
        }
        return cls(**data)


class ShiftPageOut(Schema):
    count: int
    items: list[ShiftOut]


class TotalsOut(Schema):
    sales_count: int
    gross: Fen
    discount: Fen
    net: Fen
    tax: Fen
    average_basket: Fen
    returns_count: int
    refunds: Fen
    refund_tax: Fen
    recovered: Fen
    net_after_refunds: Fen

    @classmethod
    def of(cls, t: SalesTotals) -> TotalsOut:
        data: dict[str, Any] = {
            "sales_count": t.sales_count,
            "gross": t.gross_fen,
            "discount": t.discount_fen,
            "net": t.net_fen,
            "tax": t.tax_fen,
            "average_basket": t.average_basket_fen,
            "returns_count": t.returns_count,
            "refunds": t.refunds_fen,
            "refund_tax": t.refund_tax_fen,
            "recovered": t.recovered_fen,
            "net_after_refunds": t.net_after_refunds_fen,
        }
        return cls(**data)


class TenderTotalOut(Schema):
    kind: str
    count: int
    sales: Fen
    refunds: Fen
    net: Fen

    @classmethod
    def of(cls, t: TenderTotal) -> TenderTotalOut:
        data: dict[str, Any] = {
            "kind": t.kind,
            "count": t.count,
            "sales": t.sales_fen,
            "refunds": t.refunds_fen,
            "net": t.net_fen,
        }
        return cls(**data)


class CashOut(Schema):
    opening_float: Fen
    cash_received: Fen
    change: Fen
    cash_refunds: Fen
    expected: Fen
    counted: Fen | None
    variance: Fen | None

    @classmethod
    def of(cls, c: CashCount) -> CashOut:
        data: dict[str, Any] = {
            "opening_float": c.opening_float_fen,
            "cash_received": c.cash_received_fen,
            "change": c.change_fen,
            "cash_refunds": c.cash_refunds_fen,
            "expected": c.expected_fen,
            "counted": c.counted_fen,
            "variance": c.variance_fen,
        }
        return cls(**data)


class XReportOut(Schema):
    shift: ShiftOut
    generated_at: dt.datetime
    totals: TotalsOut
    tenders: list[TenderTotalOut]
    cash: CashOut

    @classmethod
    def of(cls, r: ShiftReport) -> XReportOut:
        return cls(
            shift=ShiftOut.of(r.shift),
            generated_at=r.generated_at,
            totals=TotalsOut.of(r.totals),
            tenders=[TenderTotalOut.of(t) for t in r.totals.tenders],
            cash=CashOut.of(r.cash),
        )


class DayCloseIn(Schema):
    store: str
    till: str | None = Field(default=None, description="Till code; omit for the whole store")
    date: dt.date = Field(description="Business date in the store's timezone")


class TillTotalsOut(Schema):
    till: str | None
    sales_count: int
    net: Fen
    returns_count: int
    refunds: Fen


class ZReportOut(Schema):
    id: int
    number: int
    store: str
    till: str | None
    business_date: dt.date
    closed_by: str
    closed_at: dt.datetime
    totals: TotalsOut
    tenders: list[TenderTotalOut]
    cash: CashOut
    tills: list[TillTotalsOut]
    shifts: list[int]
    replayed: bool = False

    @classmethod
    def of(cls, r: ZReport) -> ZReportOut:
        close: DayClose = r.day_close
        return cls(
            id=close.pk,
            number=close.number,
            store=close.site.code,
            till=close.till.code if close.till else None,
            business_date=close.business_date,
            closed_by=close.closed_by.get_username(),
            closed_at=close.closed_at,
            totals=TotalsOut.of(r.totals),
            tenders=[TenderTotalOut.of(t) for t in r.totals.tenders],
            cash=CashOut.of(r.cash),
            tills=[
                TillTotalsOut(
                    till=t["till"],
                    sales_count=t["sales_count"],
                    net=t["net_fen"],
                    returns_count=t["returns_count"],
                    refunds=t["refunds_fen"],
                )
                for t in r.tills
            ],
            shifts=r.shifts,
            replayed=bool(getattr(close, "replayed", False)),
        )


# -- store day -------------------------------------------------------------------------
class HourOut(Schema):
    hour: int
    sales_count: int
    net: Fen
    returns_count: int
    refunds: Fen


class CashierOut(Schema):
    cashier: str | None
    name: str
    sales_count: int
    net: Fen
    discount: Fen
    returns_count: int
    refunds: Fen


class CategoryOut(Schema):
    category: str | None
    name: str
    lines: int
    gross: Fen
    discount: Fen
    net: Fen
    refunds: Fen


class SellerOut(Schema):
    sku: str
    name: str
    unit: str
    quantity: MilliQty
    amount: Fen
    receipts: int


class BestSellersOut(Schema):
    by_quantity: list[SellerOut]
    by_amount: list[SellerOut]


class RefundsOut(Schema):
    count: int
    total: Fen
    tax: Fen
    recovered: Fen


class PointsOut(Schema):
    issued: int
    redeemed: int
    reversed: int
    refunded: int


class StoreDayOut(Schema):
    store: str
    date: dt.date
    timezone: str
    totals: TotalsOut
    by_hour: list[HourOut]
    by_cashier: list[CashierOut]
    by_category: list[CategoryOut]
    best_sellers: BestSellersOut
    refunds: RefundsOut
    points_issued: int
    points: PointsOut
    tenders: list[TenderTotalOut]

    @classmethod
    def of(cls, day: StoreDay) -> StoreDayOut:
        t = day.totals
        return cls(
            store=day.store.code,
            date=day.business_date,
            timezone=day.store.timezone,
            totals=TotalsOut.of(t),
            by_hour=[
                HourOut(
                    hour=r["hour"],
                    sales_count=r["sales_count"],
                    net=r["net_fen"],
                    returns_count=r["returns_count"],
                    refunds=r["refunds_fen"],
                )
                for r in day.by_hour
            ],
            by_cashier=[
                CashierOut(
                    cashier=r["cashier__username"],
                    name=r["cashier__first_name"] or r["cashier__username"] or "",
                    sales_count=r["sales_count"],
                    net=r["net_fen"],
                    discount=r["discount_sum"],
                    returns_count=r["returns_count"],
                    refunds=r["refunds_fen"],
                )
                for r in day.by_cashier
            ],
            by_category=[
                CategoryOut(
                    category=r["sku__category__code"],
                    name=r["sku__category__name"] or "",
                    lines=r["lines"],
                    gross=r["gross_sum"],
                    discount=r["discount_sum"],
                    net=r["net_sum"],
                    refunds=r["refunds_fen"],
                )
                for r in day.by_category
            ],
            best_sellers=BestSellersOut(
                by_quantity=[_seller(r) for r in day.best_by_quantity],
                by_amount=[_seller(r) for r in day.best_by_amount],
            ),
            refunds=RefundsOut(
                count=t.returns_count,
                total=t.refunds_fen,  # type: ignore[arg-type]
                tax=t.refund_tax_fen,  # type: ignore[arg-type]
                recovered=t.recovered_fen,  # type: ignore[arg-type]
            ),
            points_issued=day.points["issued"],
            points=PointsOut(**day.points),
            tenders=[TenderTotalOut.of(x) for x in t.tenders],
        )


def _seller(row: dict[str, Any]) -> SellerOut:
    return SellerOut(
        sku=row["sku__code"],
        name=row["sku__name"],
        unit=row["sku__base_unit"],
        quantity=row["qty_sum"],
        amount=row["amount_sum"],
        receipts=row["receipts"],
    )


# -- discrepancies ---------------------------------------------------------------------
class DiscrepancyOut(Schema):
    id: int
    store: str
    sku: str
    sku_name: str
    sale: str
    sale_id: int
    short_quantity: MilliQty
    status: str
    count_id: int | None
    created_at: dt.datetime
    resolved_at: dt.datetime | None

    @classmethod
    def of(cls, d: StockDiscrepancy) -> DiscrepancyOut:
        return cls(
            id=d.pk,
            store=d.site.code,
            sku=d.sku.code,
            sku_name=d.sku.name,
            sale=d.sale.number,
            sale_id=d.sale_id,
            short_quantity=d.short_quantity,  # type: ignore[arg-type]
            status=d.status,
            count_id=d.count_id,
            created_at=d.created_at,
            resolved_at=d.resolved_at,
        )


class DiscrepancyPageOut(Schema):
    count: int
    items: list[DiscrepancyOut]


class RecountIn(Schema):
    discrepancies: list[int] = Field(min_length=1, max_length=500)


class RecountOut(Schema):
    count_id: int
    count_status: str
    discrepancies: list[DiscrepancyOut]


# -- returns ---------------------------------------------------------------------------
class ReturnLineIn(Schema):
    line_no: int | None = Field(
        default=None, ge=1, description="Line number on the original receipt (with a receipt)"
    )
    sku: str | None = Field(default=None, description="SKU code (without a receipt)")
    scan: str | None = Field(
        default=None, max_length=200, description="Raw scan (without a receipt; GS1 gives the lot)"
    )
    lot: str | None = Field(default=None, max_length=64, description="Lot (without a receipt)")
    quantity: Decimal | None = Field(
        default=None,
        gt=0,
        max_digits=12,
        decimal_places=3,
        description="Base units (kg for weighed goods); default: what is left of the line "
        "(with a receipt), one unit (without)",
    )
    condition: Literal["sellable", "damaged"] = "sellable"

    @model_validator(mode="after")
    def one_reference(self) -> ReturnLineIn:
        if self.line_no is None and not self.sku and not self.scan:
            raise ValueError("give line_no (with a receipt), or sku or scan")
        return self


class RefundIn(Schema):
    kind: Literal["cash", "bank_card", "wechat_pay", "alipay", "points", "gift_card"]
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    reference: str = Field(default="", max_length=64)
    points: int | None = Field(default=None, gt=0, description="Points credited back")
    card: str | None = Field(default=None, max_length=32, description="Gift card number")


class ReturnIn(Schema):
    store: str = Field(description="Store code", examples=["S001"])
    till: str = Field(description="Till code", examples=["T01"])
    original: str | None = Field(
        default=None,
        max_length=40,
        description="Receipt number of the sale; omit for a return without a receipt "
        "(store managers: pos.return_unreceipted)",
    )
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=200)
    refund: list[RefundIn] | None = Field(
        default=None,
        max_length=20,
        description="How to pay the refund; default: points and gift cards back to "
        "themselves (their share), the rest in cash. Must add up to the refund.",
    )
    reason: str = Field(default="", max_length=200)


class RecoveredOut(Schema):
    promotion: str
    name: str
    amount: Fen
    explanation: str


class RefundPartOut(Schema):
    kind: str
    amount: Fen
    points: int | None
    card: str


class ReturnPreviewLineOut(Schema):
    line_no: int
    original_line_no: int | None
    sku: str
    name: str
    quantity: MilliQty
    condition: str
    unit_price: Fen
    gross: Fen
    refund: Fen
    tax: Fen
    points_reversed: int


class ReturnPreviewOut(Schema):
    store: str
    original: str | None
    lines: list[ReturnPreviewLineOut]
    subtotal: Fen
    discount: Fen
    recovered: list[RecoveredOut]
    recovered_total: Fen
    refund_total: Fen
    tax: Fen
    points_reversed: int
    refunds: list[RefundPartOut]

    @classmethod
    def of(cls, plan: ReturnPlan) -> ReturnPreviewOut:
        data: dict[str, Any] = {
            "store": plan.store.code,
            "original": plan.original.number if plan.original else None,
            "lines": [
                {
                    "line_no": ln.line_no,
                    "original_line_no": ln.original.line_no if ln.original else None,
                    "sku": ln.sku.code,
                    "name": ln.sku.name,
                    "quantity": ln.quantity,
                    "condition": ln.condition,
                    "unit_price": ln.unit_price_fen,
                    "gross": ln.gross_fen,
                    "refund": ln.refund_fen,
                    "tax": ln.tax_fen,
                    "points_reversed": ln.points,
                }
                for ln in plan.lines
            ],
            "subtotal": plan.subtotal_fen,
            "discount": plan.discount_fen,
            "recovered": [
                {
                    "promotion": r.promotion.code,
                    "name": r.promotion.name,
                    "amount": r.amount_fen,
                    "explanation": r.as_dict()["explanation"],
                }
                for r in plan.recovered
            ],
            "recovered_total": plan.recovered_fen,
            "refund_total": plan.refund_total_fen,
            "tax": plan.tax_fen,
            "points_reversed": plan.points_reversed,
            "refunds": [
                {"kind": p.kind, "amount": p.amount_fen, "points": p.points, "card": p.card}
                for p in plan.refunds
            ],
        }
        return cls(**data)


class ReturnOut(SaleOut):
    refund_total: Fen
    recovered_total: Fen
    recovered: list[RecoveredOut]
    points_reversed: int
    points_refunded: int


def return_out(sale: Sale) -> ReturnOut:
    """A return receipt: the sale detail plus what it refunded, recovered and reversed."""
    # Dumped by alias, as ninja itself does before validating a response.
    detail = sale_out(sale).model_dump(by_alias=True)
    recovered = [
        {
            "promotion": p.get("code", ""),
            "name": p.get("name", ""),
            "amount": int(p.get("amount_fen", 0)),
            "explanation": p.get("explanation", ""),
        }
        for p in sale.promotions or []
        if p.get("recovered")
    ]
    data: dict[str, Any] = {
        **detail,
        "refund_total": sale.total_fen,
        "recovered_total": sale.recovered_fen,
        "recovered": recovered,
        "points_reversed": sale.points_earned,
        "points_refunded": sale.points_redeemed,
    }
    return ReturnOut.model_validate(data)
