from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema
from pydantic import model_validator

from chainstore.core.quantities import micros_to_cost, milli_to_qty
from chainstore.inventory.models import Balance, Reservation, SiteSku, StockMove

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
    sku: str
    lot: str | None
    expiry: dt.date | None
    quantity: Qty
    from_location: str
    to_location: str
    unit_cost: Decimal
    reason: str
    created_at: dt.datetime

    @staticmethod
    def resolve_sku(obj: StockMove) -> str:
        return obj.sku.code

    @staticmethod
    def resolve_lot(obj: StockMove) -> str | None:
        return obj.lot.number if obj.lot else None

    @staticmethod
    def resolve_expiry(obj: StockMove) -> dt.date | None:
        return obj.lot.expiry_date if obj.lot else None

    @staticmethod
    def resolve_quantity(obj: StockMove) -> Decimal:
        return milli_to_qty(obj.quantity)

    @staticmethod
    def resolve_from_location(obj: StockMove) -> str:
        return str(obj.from_location)

    @staticmethod
    def resolve_to_location(obj: StockMove) -> str:
        return str(obj.to_location)

    @staticmethod
    def resolve_unit_cost(obj: StockMove) -> Decimal:
        return micros_to_cost(obj.unit_cost_micros)


class ReservationOut(Schema):
    id: int
    site: str
    location: str
    sku: str
    lot: str | None
    quantity: Qty
    open_quantity: Qty
    reference: str
    status: str

    @staticmethod
    def resolve_site(obj: Reservation) -> str:
        return obj.site.code

    @staticmethod
    def resolve_location(obj: Reservation) -> str:
        return obj.location.code

    @staticmethod
    def resolve_sku(obj: Reservation) -> str:
        return obj.sku.code

    @staticmethod
    def resolve_lot(obj: Reservation) -> str | None:
        return obj.lot.number if obj.lot else None

    @staticmethod
    def resolve_quantity(obj: Reservation) -> Decimal:
        return milli_to_qty(obj.quantity)

    @staticmethod
    def resolve_open_quantity(obj: Reservation) -> Decimal:
        return milli_to_qty(obj.open_quantity)


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
    site: str
    location: str
    sku: str
    sku_name: str
    lot: str | None
    expiry: dt.date | None
    on_hand: Qty
    reserved: Qty
    available: Qty

    @staticmethod
    def resolve_site(obj: Balance) -> str:
        return obj.site.code

    @staticmethod
    def resolve_location(obj: Balance) -> str:
        return obj.location.code

    @staticmethod
    def resolve_sku(obj: Balance) -> str:
        return obj.sku.code

    @staticmethod
    def resolve_sku_name(obj: Balance) -> str:
        return obj.sku.name

    @staticmethod
    def resolve_lot(obj: Balance) -> str | None:
        return obj.lot.number if obj.lot else None

    @staticmethod
    def resolve_expiry(obj: Balance) -> dt.date | None:
        return obj.lot.expiry_date if obj.lot else None

    @staticmethod
    def resolve_on_hand(obj: Balance) -> Decimal:
        return milli_to_qty(obj.on_hand)

    @staticmethod
    def resolve_reserved(obj: Balance) -> Decimal:
        return milli_to_qty(obj.reserved)

    @staticmethod
    def resolve_available(obj: Balance) -> Decimal:
        return milli_to_qty(obj.on_hand - obj.reserved)


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
    site: str
    sku: str
    sku_name: str
    on_hand: Qty
    available: Qty
    safety_stock: Qty
    shortfall: Qty

    @staticmethod
    def resolve_site(obj: SiteSku) -> str:
        return obj.site.code

    @staticmethod
    def resolve_sku(obj: SiteSku) -> str:
        return obj.sku.code

    @staticmethod
    def resolve_sku_name(obj: SiteSku) -> str:
        return obj.sku.name

    @staticmethod
    def resolve_on_hand(obj: SiteSku) -> Decimal:
        return milli_to_qty(obj.on_hand)

    @staticmethod
    def resolve_available(obj: SiteSku) -> Decimal:
        return milli_to_qty(obj.available)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_safety_stock(obj: SiteSku) -> Decimal:
        return milli_to_qty(obj.safety_stock or 0)

    @staticmethod
    def resolve_shortfall(obj: SiteSku) -> Decimal:
        return milli_to_qty(obj.shortfall)  # type: ignore[attr-defined]
