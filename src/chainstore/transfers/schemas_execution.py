"""API schemas of transfer execution: pick list, pick, ship, receive, discrepancies, ageing.
Quantities are decimal strings in the SKU's base unit; money in CNY (yuan, 2 places)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from chainstore.core.quantities import fen_to_money, micros_to_cost, milli_to_qty
from chainstore.transfers.models import Discrepancy, Transfer, TransferLot
from chainstore.transfers.services.receiving import landed_unit_cost

Qty = Field(gt=0, max_digits=12, decimal_places=3)
QtyOrZero = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=3)


# -- inputs ------------------------------------------------------------------------------------
class PickIn(Schema):
    bin_scan: str = Field(min_length=1, max_length=60, examples=["A-01-02"])
    item_scan: str = Field(
        min_length=1, max_length=200, examples=["6901234567892", "(01)06901234567892(10)L1"]
    )
    lot_scan: str | None = Field(default=None, max_length=64)
    quantity: Decimal = Qty


class ShipIn(Schema):
    carrier: str = Field(default="sim", max_length=20)
    freight: Decimal = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=2)
    handling: Decimal = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=2)
    cost_basis: str = Field(default="weight", pattern="^(weight|volume|value)$")
    weight_g: int | None = Field(default=None, gt=0, le=10_000_000)


class ReceiveLineIn(Schema):
    line_id: int
    received: Decimal = QtyOrZero
    damaged: Decimal = QtyOrZero
    lot: str | None = Field(default=None, max_length=64)


class ReceiveIn(Schema):
    lines: list[ReceiveLineIn] = Field(max_length=500)
    location: str | None = Field(
        default=None, max_length=40, description="A bin code at the destination (default RECV)"
    )
    final: bool = Field(
        default=True,
        description="The count is complete: what is still missing becomes a SHORT discrepancy",
    )


class ResolveIn(Schema):
    resolution: str = Field(pattern="^(carrier_claim|write_off|return_to_source|accept)$")
    claim: Decimal = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=2)
    note: str = Field(default="", max_length=300)


# -- outputs -----------------------------------------------------------------------------------
class PickTaskOut(Schema):
    id: int
    sequence: int
    bin: str
    sku: str
    sku_name: str
    lot: str | None
    expiry: dt.date | None
    quantity: Decimal
    picked: Decimal
    remaining: Decimal


class PickOut(Schema):
    task: PickTaskOut
    replayed: bool


class ExecLineOut(Schema):
    id: int
    sku: str
    sku_name: str
    quantity: Decimal
    shipped: Decimal
    received: Decimal
    damaged: Decimal
    resolved: Decimal
    in_transit: Decimal
    unit_cost: Decimal
    allocated_cost: Decimal
    landed_unit_cost: Decimal


class ExecTransferOut(Schema):
    number: str
    status: str
    source: str
    destination: str
    carrier: str
    tracking_number: str | None
    shipped_at: dt.datetime | None
    received_at: dt.datetime | None
    closed_at: dt.datetime | None
    freight: Decimal
    handling: Decimal
    cost_basis: str
    weight_g: int | None
    lines: list[ExecLineOut]
    replayed: bool = False


class DiscrepancyOut(Schema):
    id: int
    transfer: str
    line_id: int
    sku: str
    kind: str
    quantity: Decimal
    resolution: str
    claim: Decimal
    note: str
    reported_at: dt.datetime
    resolved_at: dt.datetime | None


class ReceiptOut(Schema):
    transfer: ExecTransferOut
    discrepancies: list[DiscrepancyOut]
    replayed: bool


class AgeingRowOut(Schema):
    number: str
    source: str
    destination: str
    shipped_at: dt.datetime
    days: int
    bucket: str
    quantity: Decimal
    value: Decimal
    tracking_number: str | None
    status: str


class AgeingBucketOut(Schema):
    bucket: str
    transfers: int
    quantity: Decimal
    value: Decimal


class AgeingOut(Schema):
    rows: list[AgeingRowOut]
    buckets: list[AgeingBucketOut]
    total_value: Decimal


# -- builders ----------------------------------------------------------------------------------
def task_out(part: TransferLot, sequence: int) -> dict[str, Any]:
    return {
        "id": part.pk,
        "sequence": sequence,
        "bin": part.location.code,
        "sku": part.line.sku.code,
        "sku_name": part.line.sku.name,
        "lot": part.lot.number if part.lot else None,
        "expiry": part.lot.expiry_date if part.lot else None,
        "quantity": milli_to_qty(part.quantity),
        "picked": milli_to_qty(part.picked),
        "remaining": milli_to_qty(part.quantity - part.picked),
    }


def transfer_out(transfer: Transfer, *, replayed: bool = False) -> dict[str, Any]:
    lines = list(transfer.lines.select_related("sku").order_by("id"))
    return {
        "number": transfer.number,
        "status": transfer.status,
        "source": transfer.source.code,
        "destination": transfer.destination.code,
        "carrier": transfer.carrier,
        "tracking_number": transfer.tracking_number,
        "shipped_at": transfer.shipped_at,
        "received_at": transfer.received_at,
        "closed_at": transfer.closed_at,
        "freight": fen_to_money(transfer.freight_fen),
        "handling": fen_to_money(transfer.handling_fen),
        "cost_basis": transfer.cost_basis,
        "weight_g": transfer.weight_g,
        "replayed": replayed,
        "lines": [
            {
                "id": ln.pk,
                "sku": ln.sku.code,
                "sku_name": ln.sku.name,
                "quantity": milli_to_qty(ln.quantity),
                "shipped": milli_to_qty(ln.shipped),
                "received": milli_to_qty(ln.received),
                "damaged": milli_to_qty(ln.damaged),
                "resolved": milli_to_qty(ln.resolved),
                "in_transit": milli_to_qty(ln.in_transit),
                "unit_cost": micros_to_cost(ln.unit_cost_micros),
                "allocated_cost": fen_to_money(ln.allocated_cost_fen),
                "landed_unit_cost": micros_to_cost(landed_unit_cost(ln)),
            }
            for ln in lines
        ],
    }


def discrepancy_out(d: Discrepancy) -> dict[str, Any]:
    return {
        "id": d.pk,
        "transfer": d.line.transfer.number,
        "line_id": d.line_id,
        "sku": d.line.sku.code,
        "kind": d.kind,
        "quantity": milli_to_qty(d.quantity),
        "resolution": d.resolution,
        "claim": fen_to_money(d.claim_fen),
        "note": d.note,
        "reported_at": d.reported_at,
        "resolved_at": d.resolved_at,
    }


def ageing_out(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "rows": [
            {**r, "quantity": milli_to_qty(r["units"]), "value": fen_to_money(r["value_fen"])}
            for r in report["rows"]
        ],
        "buckets": [
            {**b, "quantity": milli_to_qty(b["units"]), "value": fen_to_money(b["value_fen"])}
            for b in report["buckets"]
        ],
        "total_value": fen_to_money(report["total_value_fen"]),
    }
