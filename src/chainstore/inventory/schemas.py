from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema
from pydantic import model_validator

from chainstore.core.schemas import MicroCost, MilliQty
from chainstore.inventory.models import Balance, StockMove

Qty = Decimal


class ReceiptLineIn(Schema):
    sku: str | None = Field(default=None, description="SKU code; or give `scan`")
    scan: str | None = Field(
        default=None, description="Raw barcode/GS1 scan (fills sku, lot, expiry)"
    )
    quantity: Qty = Field(gt=0, decimal_places=3)
    unit_cost: Decimal | None = Field(default=None, ge=0, decimal_places=6)
    lot: str | None = Field(default=None, max_length=64)
    expiry: dt.date | None = None
    location: str | None = None

    @model_validator(mode="after")
    def sku_or_scan(self) -> ReceiptLineIn:
        if not self.sku and not self.scan:
            raise ValueError("give sku or scan")
        return self


class ReceiptIn(Schema):
    site: str
    supplier: str = Field(default="", max_length=100)
    reference: str = Field(default="", max_length=100)
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=5000)


class MoveIn(Schema):
    site: str
    sku: str
    quantity: Qty = Field(gt=0, decimal_places=3)
    from_location: str
    to_location: str
    lot: str | None = None
    kind: str = Field(default="move", pattern="^(move|putaway)$")


class IssueIn(Schema):
    site: str
    sku: str
    quantity: Qty = Field(gt=0, decimal_places=3)
    location: str | None = None
    lot: str | None = None
    reason: str = Field(default="issue", max_length=32)
    reference: str = Field(default="", max_length=100)


class AdjustIn(Schema):
    site: str
    location: str
    sku: str
    delta: Qty = Field(decimal_places=3, description="positive = gain, negative = loss")
    reason: str
    lot: str | None = None
    expiry: dt.date | None = None
    note: str = Field(default="", max_length=500)


class ReserveIn(Schema):
    site: str
    sku: str
    quantity: Qty = Field(gt=0, decimal_places=3)
    reference: str = Field(default="", max_length=100)
    location: str | None = None


class ReleaseIn(Schema):
    quantity: Qty | None = Field(default=None, gt=0, decimal_places=3)


class SafetyStockIn(Schema):
    site: str
    sku: str
    quantity: Qty | None = Field(default=None, ge=0, decimal_places=3)


class LotPatch(Schema):
    expiry: dt.date | None


class WriteOffIn(Schema):
    site: str


class MoveOut(Schema):
    id: int
    sku: str = Field(alias="sku.code")
    lot: str | None = Field(None, alias="lot.number")
    expiry: dt.date | None = Field(None, alias="lot.expiry_date")
    quantity: MilliQty
    from_location: str
    to_location: str
    unit_cost: MicroCost = Field(alias="unit_cost_micros")
    reason: str
    created_at: dt.datetime

    @staticmethod
    def resolve_from_location(obj: StockMove) -> str:
        return str(obj.from_location)

    @staticmethod
    def resolve_to_location(obj: StockMove) -> str:
        return str(obj.to_location)


class ReservationOut(Schema):
    id: int
    site: str = Field(alias="site.code")
    location: str = Field(alias="location.code")
    sku: str = Field(alias="sku.code")
    lot: str | None = Field(None, alias="lot.number")
    quantity: MilliQty
    open_quantity: MilliQty
    reference: str
    status: str


class OperationOut(Schema):
    id: int
    kind: str
    site: str | None
    reference: str
    partner: str
    created_at: dt.datetime
    replayed: bool = False
    moves: list[MoveOut]
    reservations: list[ReservationOut] = []


class BalanceOut(Schema):
    site: str = Field(alias="site.code")
    location: str = Field(alias="location.code")
    sku: str = Field(alias="sku.code")
    sku_name: str = Field(alias="sku.name")
    lot: str | None = Field(None, alias="lot.number")
    expiry: dt.date | None = Field(None, alias="lot.expiry_date")
    on_hand: MilliQty
    reserved: MilliQty
    available: MilliQty

    @staticmethod
    def resolve_available(obj: Balance) -> int:
        return obj.on_hand - obj.reserved


class AvailabilityOut(Schema):
    site: str
    site_name: str
    kind: str
    on_hand: Qty
    reserved: Qty
    available: Qty
    safety_stock: Qty | None
    avg_cost: Decimal


class LedgerRowOut(Schema):
    move: MoveOut
    operation_id: int
    kind: str
    delta: Qty
    balance_after: Qty
    actor: str | None


class LedgerOut(Schema):
    count: int
    items: list[LedgerRowOut]


class AlertOut(Schema):
    """A row of inventory.selectors.below_safety_stock (annotated with available, shortfall)."""

    site: str = Field(alias="site.code")
    sku: str = Field(alias="sku.code")
    sku_name: str = Field(alias="sku.name")
    on_hand: MilliQty
    available: MilliQty
    safety_stock: MilliQty
    shortfall: MilliQty
