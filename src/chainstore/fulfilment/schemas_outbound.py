"""API schemas of the outbound side: the check, packing, shipping, tracking and lot trace.
Quantities are decimal strings in the SKU's base unit; weights are integer grams."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.urls import reverse
from ninja import Field, Schema
from pydantic import field_validator

from chainstore.core.schemas import MilliQty
from chainstore.fulfilment.models import (
    Parcel,
    ParcelItem,
    ParcelStatus,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)
from chainstore.fulfilment.services.outbound import expected_weight, weight_tolerance
from chainstore.fulfilment.services.trace import (
    LotOrderRow,
    OrderLotRow,
    mask_name,
    pick_sources,
)
from chainstore.integrations.carriers import TrackingCode


# -- inputs ------------------------------------------------------------------------------
class CheckScanIn(Schema):
    scan: str = Field(
        min_length=1,
        max_length=200,
        description="The item's EAN or GS1 code (a GS1 lot must be one that was picked)",
        examples=["6901234567892", "(01)06901234567892(17)261231(10)M2311"],
    )
    quantity: Decimal | None = Field(
        default=None,
        gt=0,
        max_digits=12,
        decimal_places=3,
        description="Base units counted by this scan; default 1 (weighed goods: the rest)",
    )


class CompleteCheckIn(Schema):
    weight_g: int = Field(gt=0, le=1_000_000, description="What the scale shows, in grams")
    override: bool = Field(
        default=False,
        description="Accept a weight outside the tolerance (needs fulfilment.plan)",
    )


class ParcelItemIn(Schema):
    line_id: int
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=3)


class ParcelIn(Schema):
    weight_g: int | None = Field(
        default=None,
        gt=0,
        le=1_000_000,
        description="Grams; omitted: a share of the checked weight",
    )
    items: list[ParcelItemIn] = Field(min_length=1)


class PackIn(Schema):
    parcels: list[ParcelIn] | None = Field(
        default=None, description="Omitted: one parcel with everything checked"
    )


class TrackingEventIn(Schema):
    tracking_number: str = Field(min_length=1, max_length=40)
    event_id: str = Field(min_length=1, max_length=100, description="Unique per carrier")
    code: TrackingCode
    at: dt.datetime
    description: str = Field(default="", max_length=300)
    place: str = Field(default="", max_length=100)
    latitude: Decimal | None = Field(default=None, ge=-90, le=90, decimal_places=6)
    longitude: Decimal | None = Field(default=None, ge=-180, le=180, decimal_places=6)

    @field_validator("at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("give the time with its UTC offset")
        return value


class TrackingIn(Schema):
    carrier: str = Field(min_length=1, max_length=20, examples=["sim"])
    events: list[TrackingEventIn] = Field(min_length=1, max_length=1000)


# -- outputs -----------------------------------------------------------------------------
class ShipmentSummaryOut(Schema):
    number: str
    order: str
    status: str
    status_label: str
    site: str
    lines: int
    units: MilliQty
    checked: MilliQty


class PickedLotOut(Schema):
    lot: str | None
    expiry: dt.date | None
    quantity: MilliQty
    checked: MilliQty = Field(description="Counted at the outbound check")
    bin: str = Field(description="The bin it was picked from")
    picked_by: str
    picked_at: dt.datetime


class ShipmentLineOut(Schema):
    id: int
    sku: str
    name: str
    unit: str
    barcode: str
    lot_tracked: bool
    weight_g: int | None = Field(description="Per base unit, when known")
    quantity: MilliQty
    picked: MilliQty
    checked: MilliQty
    lots: list[PickedLotOut]


class ParcelItemOut(Schema):
    line_id: int
    sku: str
    lot: str | None
    quantity: MilliQty


class ParcelOut(Schema):
    seq: int
    status: str
    status_label: str
    weight_g: int
    carrier: str
    tracking_number: str | None
    label_url: str | None
    items: list[ParcelItemOut]


class TrackingOut(Schema):
    tracking_number: str
    code: str
    code_label: str
    at: dt.datetime
    description: str
    place: str
    latitude: Decimal | None
    longitude: Decimal | None


class ShipmentOut(Schema):
    number: str
    order: str
    status: str
    status_label: str
    site: str
    carrier: str
    receiver: str = Field(description="Masked name and city")
    weight_g: int | None
    expected_weight_g: int | None
    tolerance_g: int | None
    checked_by: str | None
    checked_at: dt.datetime | None
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    check_complete: bool
    lines: list[ShipmentLineOut]
    parcels: list[ParcelOut]
    tracking: list[TrackingOut]
    replayed: bool = False


class CheckScanOut(Schema):
    line_id: int
    sku: str
    lot: str | None
    quantity: MilliQty
    complete: bool
    shipment: ShipmentOut


class TrackingResultOut(Schema):
    received: int
    recorded: int
    duplicates: int
    unknown: int
    unknown_tracking_numbers: list[str]
    delivered_parcels: int
    delivered_shipments: int


class LotOrderOut(Schema):
    order: str
    shipment: str
    site: str
    status: str
    quantity: MilliQty
    customer: str
    phone: str
    city: str
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    parcels: list[str]


class OrderLotOut(Schema):
    shipment: str
    site: str
    sku: str
    name: str
    lot: str | None
    expiry: dt.date | None
    quantity: MilliQty
    checked: MilliQty = Field(description="Counted at the outbound check")
    bin: str = Field(description="The bin it was picked from")
    picked_by: str
    picked_at: dt.datetime
    parcels: list[str]


# -- builders ----------------------------------------------------------------------------
def label_url(parcel: Parcel) -> str | None:
    if not parcel.tracking_number:
        return None
    return reverse("api:outbound_parcel_label", kwargs={"tracking": parcel.tracking_number})


def shipment_summary(shipment: Shipment) -> dict[str, Any]:
    lines = list(shipment.lines.all())
    return {
        "number": shipment.number,
        "order": shipment.order.number,
        "status": shipment.status,
        "status_label": str(ShipmentStatus(shipment.status).label),
        "site": shipment.site.code,
        "lines": len(lines),
        "units": sum(ln.picked for ln in lines),
        "checked": sum(ln.checked for ln in lines),
    }


def shipment_out(shipment: Shipment) -> dict[str, Any]:
    """Everything the check screen and GET /shipments/{number} show, in a fixed number of
    queries."""
    replayed = bool(getattr(shipment, "replayed", False))
    shipment = Shipment.objects.select_related("order", "order__channel", "site", "checked_by").get(
        pk=shipment.pk
    )
    order = shipment.order
    lines = list(
        shipment.lines.select_related("sku")
        .prefetch_related(
            "sku__barcodes",
            "picked_stock__lot",
            "picked_stock__task__location",
            "picked_stock__from_location",
            "picked_stock__picked_by",
        )
        .order_by("id")
    )
    bins = pick_sources(ps for ln in lines for ps in ln.picked_stock.all())
    parcels = list(
        shipment.parcels.prefetch_related(
            Prefetch(
                "items",
                queryset=ParcelItem.objects.select_related("shipment_line__sku", "lot").order_by(
                    "id"
                ),
            )
        ).order_by("seq")
    )
    events = list(
        TrackingEvent.objects.filter(parcel__shipment=shipment)
        .select_related("parcel")
        .order_by("at", "id")
    )
    expected, known = expected_weight(shipment)
    checked_by = shipment.checked_by
    return {
        "number": shipment.number,
        "order": order.number,
        "status": shipment.status,
        "status_label": str(ShipmentStatus(shipment.status).label),
        "site": shipment.site.code,
        "carrier": shipment.carrier or order.carrier or order.channel.default_carrier,
        "receiver": " ".join(p for p in (mask_name(order.customer_name), order.city) if p),
        "weight_g": shipment.weight_g,
        "expected_weight_g": expected if known else None,
        "tolerance_g": weight_tolerance(expected) if known else None,
        "checked_by": checked_by.get_username() if checked_by else None,
        "checked_at": shipment.checked_at,
        "shipped_at": shipment.shipped_at,
        "delivered_at": shipment.delivered_at,
        "check_complete": bool(lines)
        and all(
            ln.checked == ln.picked
            and all(ps.checked == ps.quantity for ps in ln.picked_stock.all())
            for ln in lines
        ),
        "lines": [_line(ln, bins) for ln in lines],
        "parcels": [_parcel(p) for p in parcels],
        "tracking": [_tracking(e) for e in events],
        "replayed": replayed,
    }


def _line(line: Any, bins: dict[int, str]) -> dict[str, Any]:
    barcodes = list(line.sku.barcodes.all())
    primary = next((b for b in barcodes if b.is_primary), None)
    return {
        "id": line.pk,
        "sku": line.sku.code,
        "name": line.sku.name,
        "unit": line.sku.base_unit,
        "barcode": (primary or barcodes[0]).code if barcodes else "",
        "lot_tracked": line.sku.is_lot_tracked,
        "weight_g": line.sku.weight_g,
        "quantity": line.quantity,
        "picked": line.picked,
        "checked": line.checked,
        "lots": [
            {
                "lot": ps.lot.number if ps.lot else None,
                "expiry": ps.lot.expiry_date if ps.lot else None,
                "quantity": ps.quantity,
                "checked": ps.checked,
                "bin": bins[ps.pk],
                "picked_by": ps.picked_by.get_username() if ps.picked_by else "",
                "picked_at": ps.picked_at,
            }
            for ps in line.picked_stock.all()
        ],
    }


def _parcel(parcel: Parcel) -> dict[str, Any]:
    return {
        "seq": parcel.seq,
        "status": parcel.status,
        "status_label": str(ParcelStatus(parcel.status).label),
        "weight_g": parcel.weight_g,
        "carrier": parcel.carrier,
        "tracking_number": parcel.tracking_number,
        "label_url": label_url(parcel),
        "items": [
            {
                "line_id": item.shipment_line_id,
                "sku": item.shipment_line.sku.code,
                "lot": item.lot.number if item.lot else None,
                "quantity": item.quantity,
            }
            for item in parcel.items.all()
        ],
    }


def _tracking(event: TrackingEvent) -> dict[str, Any]:
    code = event.code
    return {
        "tracking_number": event.parcel.tracking_number or "",
        "code": code,
        "code_label": str(TrackingCode(code).label) if code in TrackingCode.values else code,
        "at": event.at,
        "description": event.description,
        "place": event.place,
        "latitude": event.latitude,
        "longitude": event.longitude,
    }


def lot_order_out(row: LotOrderRow) -> dict[str, Any]:
    return {
        "order": row.order_number,
        "shipment": row.shipment_number,
        "site": row.site_code,
        "status": row.status,
        "quantity": row.quantity,
        "customer": row.customer,
        "phone": row.phone,
        "city": row.city,
        "shipped_at": row.shipped_at,
        "delivered_at": row.delivered_at,
        "parcels": row.parcels,
    }


def order_lot_out(row: OrderLotRow) -> dict[str, Any]:
    return {
        "shipment": row.shipment_number,
        "site": row.site_code,
        "sku": row.sku_code,
        "name": row.sku_name,
        "lot": row.lot_number,
        "expiry": row.expiry_date,
        "quantity": row.quantity,
        "checked": row.checked,
        "bin": row.bin_code,
        "picked_by": row.picked_by,
        "picked_at": row.picked_at,
        "parcels": row.parcels,
    }
