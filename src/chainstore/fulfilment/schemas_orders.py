"""API schemas of online orders: the generic JSON order format, webhooks, order care, the
sourcing settings. Inputs are decimals in base units and yuan; outputs turn stored
thousandths and fen into decimal strings (core.schemas MilliQty / Fen)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import model_validator

from chainstore.core.quantities import money_to_fen, qty_to_milli
from chainstore.core.schemas import Fen, MilliQty
from chainstore.fulfilment.models import (
    CustomerOrder,
    SalesChannel,
    ShipFromSite,
    Shipment,
    SourcingDecision,
    SourcingPolicy,
)
from chainstore.fulfilment.selectors import OrderDetail, ShipFromRow, TimelineRow
from chainstore.fulfilment.services.intake import AddressInput, OrderInput, OrderLineInput

Money = Decimal


# -- inputs ----------------------------------------------------------------------------
class CustomerIn(Schema):
    name: str = Field(max_length=100, examples=["张三"])
    phone: str = Field(max_length=30, examples=["13800138000"])


class AddressIn(Schema):
    province: str = Field(default="", max_length=50, examples=["上海"])
    city: str = Field(default="", max_length=50, examples=["上海市"])
    district: str = Field(default="", max_length=50, examples=["浦东新区"])
    address: str = Field(max_length=300, examples=["世纪大道100号"])
    postcode: str = Field(default="", max_length=12)
    latitude: Decimal | None = Field(default=None, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(default=None, max_digits=9, decimal_places=6)

    def to_input(self) -> AddressInput:
        return AddressInput(
            province=self.province,
            city=self.city,
            district=self.district,
            address=self.address,
            postcode=self.postcode,
            latitude=self.latitude,
            longitude=self.longitude,
        )


class OrderLineIn(Schema):
    sku: str | None = Field(default=None, max_length=40, description="SKU code; or `barcode`")
    barcode: str | None = Field(
        default=None, max_length=200, description="EAN-13/UPC-A/GTIN or a GS1 element string"
    )
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=3, examples=["2"])
    unit_price: Money = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=2)
    channel_line_id: str = Field(default="", max_length=64)

    @model_validator(mode="after")
    def sku_or_barcode(self) -> OrderLineIn:
        if not self.sku and not self.barcode:
            raise ValueError("give sku or barcode")
        return self


class OrderDataIn(Schema):
    """The order a channel sends (also `data` of the webhook's order.created)."""

    channel_order_id: str = Field(max_length=64, examples=["TB2026112500001"])
    placed_at: dt.datetime | None = Field(default=None, description="default: now")
    paid: bool = Field(default=False, description="false: stock is held until pay_by")
    paid_at: dt.datetime | None = None
    pay_by: dt.datetime | None = Field(
        default=None, description="unpaid orders: default placed_at + the channel's timeout"
    )
    customer: CustomerIn
    address: AddressIn
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)
    shipping_fee: Money = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=2)
    carrier: str = Field(default="", max_length=20, description="default: the channel's")
    note: str = Field(default="", max_length=500)

    def to_input(self) -> OrderInput:
        return OrderInput(
            channel_order_id=self.channel_order_id,
            customer_name=self.customer.name,
            phone=self.customer.phone,
            address=self.address.to_input(),
            lines=[
                OrderLineInput(
                    sku=ln.sku,
                    barcode=ln.barcode if not ln.sku else None,
                    quantity=qty_to_milli(ln.quantity),
                    unit_price_fen=money_to_fen(ln.unit_price),
                    channel_line_id=ln.channel_line_id,
                )
                for ln in self.lines
            ],
            placed_at=self.placed_at,
            paid=self.paid,
            paid_at=self.paid_at,
            pay_by=self.pay_by,
            shipping_fee_fen=money_to_fen(self.shipping_fee),
            carrier=self.carrier,
            note=self.note,
        )


class OrderIn(OrderDataIn):
    channel: str = Field(max_length=20, description="Sales channel code", examples=["TM01"])


class WebhookIn(Schema):
    event: Literal["order.created", "order.paid", "order.cancelled", "order.address_changed"]
    data: dict[str, Any]


class PayIn(Schema):
    paid_at: dt.datetime | None = None


class CancelIn(Schema):
    reason: str = Field(min_length=1, max_length=200, examples=["customer asked"])


class ReceiverIn(Schema):
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=30)


class AddressChangeIn(Schema):
    customer: ReceiverIn | None = None
    address: AddressIn
    resource: bool = Field(
        default=False, description="source again for the new address if nothing is waved yet"
    )


class PolicyIn(Schema):
    strategy: Literal["nearest", "fewest", "cheapest", "custom"]
    weight_distance: Decimal = Field(ge=0, max_digits=14, decimal_places=4)
    weight_shipments: Decimal = Field(ge=0, max_digits=14, decimal_places=4)
    weight_cost: Decimal = Field(ge=0, max_digits=14, decimal_places=4)
    max_candidates: int = Field(ge=1, le=20)
    max_shipments: int = Field(ge=1, le=10)
    allow_split: bool
    time_budget_ms: int = Field(ge=10, le=10_000)


class ShipFromIn(Schema):
    site: str = Field(description="Site code")
    enabled: bool
    base_cost: Money = Field(ge=0, max_digits=12, decimal_places=2, description="yuan/parcel")
    per_kg_cost: Money = Field(ge=0, max_digits=12, decimal_places=2, description="yuan/kg")
    priority: int = Field(default=0, ge=-1000, le=1000, description="lower first on ties")
    cutoff_time: dt.time | None = None


class ChannelIn(Schema):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=100)
    platform: Literal["tmall", "douyin", "jd", "miniprogram", "generic"]
    payment_timeout_minutes: int = Field(default=30, ge=1, le=10_080)
    default_carrier: str = Field(default="sim", max_length=20)
    is_active: bool = True


# -- outputs ---------------------------------------------------------------------------
class OrderSummaryOut(Schema):
    number: str
    channel: str
    channel_order_id: str
    status: str
    placed_at: dt.datetime
    paid_at: dt.datetime | None
    pay_by: dt.datetime | None
    customer_name: str
    city: str
    lines: int
    goods: Fen
    shipping_fee: Fen
    sites: list[str]


class OrderLineOut(Schema):
    line_no: int
    sku: str
    name: str
    channel_line_id: str
    quantity: MilliQty
    allocated: MilliQty
    shipped: MilliQty
    backordered: MilliQty
    unit_price: Fen


class ShipmentLineOut(Schema):
    sku: str
    quantity: MilliQty
    picked: MilliQty
    checked: MilliQty


class ShipmentOut(Schema):
    number: str
    site: str
    status: str
    carrier: str
    wave: str | None
    expected_weight_g: int | None
    weight_g: int | None
    tracking_numbers: list[str]
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    lines: list[ShipmentLineOut]


class DecisionOut(Schema):
    id: int
    created_at: dt.datetime
    trigger: str
    strategy: str
    weights: dict[str, Any]
    method: str
    optimal: bool
    objective: float
    elapsed_ms: float
    summary: str
    candidates: list[dict[str, Any]]
    plan: dict[str, Any]
    unfilled: dict[str, Any]


class TimelineOut(Schema):
    at: dt.datetime
    kind: str
    label: str
    actor: str
    site: str
    shipment: str
    details: str
    data: dict[str, Any]


class OrderOut(OrderSummaryOut):
    phone: str
    province: str
    district: str
    address: str
    postcode: str
    latitude: Decimal | None
    longitude: Decimal | None
    carrier: str
    note: str
    cancelled_at: dt.datetime | None
    cancel_reason: str
    order_lines: list[OrderLineOut]
    shipments: list[ShipmentOut]
    decisions: list[DecisionOut]
    replayed: bool = False


class WebhookOut(Schema):
    event: str
    order: OrderOut
    replayed: bool


class PolicyOut(Schema):
    strategy: str
    weight_distance: Decimal
    weight_shipments: Decimal
    weight_cost: Decimal
    effective_weights: dict[str, float]
    max_candidates: int
    max_shipments: int
    allow_split: bool
    time_budget_ms: int


class ShipFromOut(Schema):
    site: str
    name: str
    kind: str
    is_active: bool
    enabled: bool
    base_cost: Fen
    per_kg_cost: Fen
    priority: int
    cutoff_time: dt.time | None


class ChannelOut(Schema):
    code: str
    name: str
    platform: str
    payment_timeout_minutes: int
    default_carrier: str
    is_active: bool


# -- builders --------------------------------------------------------------------------
def summary_out(order: CustomerOrder) -> dict[str, Any]:
    shipments = list(order.shipments.all())
    return {
        "number": order.number,
        "channel": order.channel.code,
        "channel_order_id": order.channel_order_id,
        "status": order.status,
        "placed_at": order.placed_at,
        "paid_at": order.paid_at,
        "pay_by": order.pay_by,
        "customer_name": order.customer_name,
        "city": order.city,
        "lines": getattr(order, "line_count", None) or order.lines.count(),
        "goods": order.goods_fen,
        "shipping_fee": order.shipping_fee_fen,
        "sites": sorted({s.site.code for s in shipments if s.status != "cancelled"}),
    }


def _shipment(s: Shipment) -> dict[str, Any]:
    return {
        "number": s.number,
        "site": s.site.code,
        "status": s.status,
        "carrier": s.carrier,
        "wave": s.wave.number if s.wave else None,
        "expected_weight_g": s.expected_weight_g,
        "weight_g": s.weight_g,
        "tracking_numbers": [p.tracking_number for p in s.parcels.all() if p.tracking_number],
        "shipped_at": s.shipped_at,
        "delivered_at": s.delivered_at,
        "lines": [
            {
                "sku": sl.sku.code,
                "quantity": sl.quantity,
                "picked": sl.picked,
                "checked": sl.checked,
            }
            for sl in s.lines.all()
        ],
    }


def _decision(d: SourcingDecision) -> dict[str, Any]:
    return {
        f: getattr(d, f)
        for f in (
            "id",
            "created_at",
            "trigger",
            "strategy",
            "weights",
            "method",
            "optimal",
            "objective",
            "elapsed_ms",
            "summary",
            "candidates",
            "plan",
            "unfilled",
        )
    }


def order_out(detail: OrderDetail, *, replayed: bool = False) -> dict[str, Any]:
    o = detail.order
    return {
        **summary_out(o),
        "lines": len(detail.lines),
        "phone": o.phone,
        "province": o.province,
        "district": o.district,
        "address": o.address,
        "postcode": o.postcode,
        "latitude": o.latitude,
        "longitude": o.longitude,
        "carrier": o.carrier,
        "note": o.note,
        "cancelled_at": o.cancelled_at,
        "cancel_reason": o.cancel_reason,
        "order_lines": [
            {
                "line_no": ln.line_no,
                "sku": ln.sku.code,
                "name": ln.sku.name,
                "channel_line_id": ln.channel_line_id,
                "quantity": ln.quantity,
                "allocated": ln.allocated,
                "shipped": ln.shipped,
                "backordered": ln.backordered,
                "unit_price": ln.unit_price_fen,
            }
            for ln in detail.lines
        ],
        "shipments": [_shipment(s) for s in detail.shipments],
        "decisions": [_decision(d) for d in detail.decisions],
        "replayed": replayed,
    }


def timeline_out(rows: list[TimelineRow]) -> list[dict[str, Any]]:
    return [
        {
            "at": r.at,
            "kind": r.kind,
            "label": r.label,
            "actor": r.actor,
            "site": r.site,
            "shipment": r.shipment,
            "details": r.details,
            "data": r.data,
        }
        for r in rows
    ]


def policy_out(policy: SourcingPolicy, effective: dict[str, float]) -> dict[str, Any]:
    return {
        "strategy": policy.strategy,
        "weight_distance": policy.weight_distance,
        "weight_shipments": policy.weight_shipments,
        "weight_cost": policy.weight_cost,
        "effective_weights": effective,
        "max_candidates": policy.max_candidates,
        "max_shipments": policy.max_shipments,
        "allow_split": policy.allow_split,
        "time_budget_ms": policy.time_budget_ms,
    }


def ship_from_out(row: ShipFromRow) -> dict[str, Any]:
    config = row.config or ShipFromSite(site=row.site, enabled=False)
    return {
        "site": row.site.code,
        "name": row.site.name,
        "kind": row.site.kind,
        "is_active": row.site.is_active,
        "enabled": row.enabled,
        "base_cost": config.base_cost_fen,
        "per_kg_cost": config.per_kg_cost_fen,
        "priority": config.priority,
        "cutoff_time": config.cutoff_time,
    }


def channel_out(channel: SalesChannel) -> dict[str, Any]:
    return {
        "code": channel.code,
        "name": channel.name,
        "platform": channel.platform,
        "payment_timeout_minutes": channel.payment_timeout_minutes,
        "default_carrier": channel.default_carrier,
        "is_active": channel.is_active,
    }
