"""Lot traceability for recalls (追溯): which orders received units of a lot, and which lots
went into an order. Both read PickedStock, the record of the lot actually taken for each
shipment line, so shipments still in the warehouse show up too (stop them before they
ship). Customer names and phones are masked: a recall list travels further than the order.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.catalog.services import resolve_scan
from chainstore.core.errors import NotFound, PermissionDenied
from chainstore.core.permissions import ensure_can, scope_site_ids
from chainstore.core.quantities import milli_to_qty
from chainstore.fulfilment.models import (
    CustomerOrder,
    EventKind,
    ParcelItem,
    PickedStock,
    ShipmentStatus,
)
from chainstore.integrations.carriers import TrackingCode
from chainstore.integrations.spreadsheet import write_csv
from chainstore.inventory.models import Lot


@dataclass
class LotOrderRow:
    """One shipment that holds units of the lot."""

    order_number: str
    shipment_number: str
    site_code: str
    status: str
    quantity: int
    customer: str
    phone: str
    city: str
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    parcels: list[str] = field(default_factory=list)  # tracking numbers

    @property
    def status_label(self) -> str:
        return str(ShipmentStatus(self.status).label)


@dataclass
class OrderLotRow:
    """One lot picked for one shipment line of the order."""

    shipment_number: str
    site_code: str
    sku_code: str
    sku_name: str
    lot_number: str | None
    expiry_date: dt.date | None
    quantity: int
    checked: int  # counted at the outbound check
    bin_code: str  # the bin the picker took it from
    picked_by: str
    picked_at: dt.datetime
    parcels: list[str] = field(default_factory=list)


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***."""
    name = name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_phone(phone: str) -> str:
    """13800138000 -> 138****8000; short numbers keep their last two digits."""
    phone = phone.strip()
    if len(phone) >= 7:
        return phone[:3] + "****" + phone[-4:]
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


def get_order(*, number: str, actor: Any) -> CustomerOrder:
    """An order by number for tracing (fulfilment.trace; scope is applied to its rows)."""
    ensure_can(actor, "fulfilment.trace")
    order = CustomerOrder.objects.filter(number=number.strip()).first()
    if order is None:
        raise NotFound(_("No order has this number."), code="order_not_found", order=number)
    return order


def find_sku(text: str) -> Sku:
    """A SKU by its code, or by any barcode of it (a recall notice quotes either)."""
    sku = Sku.objects.filter(code=text.strip()).first()
    return sku if sku is not None else resolve_scan(text).sku


def get_lot(*, sku: Sku, lot_number: str) -> Lot:
    lot = Lot.objects.filter(sku=sku, number=lot_number.strip()).first()
    if lot is None:
        raise NotFound(
            _("%(sku)s has no lot %(lot)s.") % {"sku": sku.code, "lot": lot_number},
            code="lot_not_found",
            sku=sku.code,
            lot=lot_number,
        )
    return lot


def orders_for_lot(*, sku: Sku, lot_number: str, actor: Any) -> list[LotOrderRow]:
    """Every shipment (with its order and parcels) that holds or received units of the lot,
    newest first; a site-scoped user sees the shipments of their sites."""
    ensure_can(actor, "fulfilment.trace")
    lot = get_lot(sku=sku, lot_number=lot_number)
    picked = _scoped(
        PickedStock.objects.filter(lot=lot).select_related(
            "shipment_line__shipment__order", "shipment_line__shipment__site"
        ),
        actor,
    )
    rows: dict[int, LotOrderRow] = {}
    for ps in picked:
        shipment = ps.shipment_line.shipment
        row = rows.get(shipment.pk)
        if row is None:
            order = shipment.order
            row = rows[shipment.pk] = LotOrderRow(
                order_number=order.number,
                shipment_number=shipment.number,
                site_code=shipment.site.code,
                status=shipment.status,
                quantity=0,
                customer=mask_name(order.customer_name),
                phone=mask_phone(order.phone),
                city=order.city,
                shipped_at=shipment.shipped_at,
                delivered_at=shipment.delivered_at,
            )
        row.quantity += ps.quantity
    tracking = _parcels_by_shipment(lot, list(rows))
    for shipment_id, row in rows.items():
        row.parcels = tracking.get(shipment_id, [])
    far_past = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(
        rows.values(),
        key=lambda r: (r.shipped_at or far_past, r.shipment_number),
        reverse=True,
    )


def orders_for_lot_csv(rows: list[LotOrderRow]) -> bytes:
    """The recall list as CSV (UTF-8 with BOM, opens in Excel)."""
    headers = [
        _("Order number"),
        _("Shipment number"),
        _("Site"),
        _("Status"),
        _("Quantity"),
        _("Customer"),
        _("Phone"),
        _("City"),
        _("Shipped at"),
        _("Delivered at"),
        _("Tracking numbers"),
    ]
    return write_csv(
        headers,
        (
            [
                r.order_number,
                r.shipment_number,
                r.site_code,
                r.status,
                milli_to_qty(r.quantity),
                r.customer,
                r.phone,
                r.city,
                r.shipped_at.isoformat() if r.shipped_at else "",
                r.delivered_at.isoformat() if r.delivered_at else "",
                " ".join(r.parcels),
            ]
            for r in rows
        ),
    )


def lots_for_order(*, order: CustomerOrder, actor: Any) -> list[OrderLotRow]:
    """Every lot picked for the order: SKU, lot, expiry, quantity (and how much of it the
    check counted), the bin it came from (see `pick_sources`), who picked it and when, and
    the parcels it left in."""
    ensure_can(actor, "fulfilment.trace")
    allowed = scope_site_ids(actor)
    if allowed is not None:
        sites = set(order.shipments.values_list("site_id", flat=True))
        if sites and not sites & allowed:
            raise PermissionDenied(_("This site is outside your scope."), code="site_out_of_scope")
    picked = list(
        _scoped(
            PickedStock.objects.filter(shipment_line__shipment__order=order)
            .select_related(
                "shipment_line__shipment__site",
                "shipment_line__sku",
                "lot",
                "task__location",
                "from_location",
                "picked_by",
            )
            .order_by("shipment_line__shipment_id", "shipment_line_id", "picked_at", "id"),
            actor,
        )
    )
    parcels: dict[tuple[int, int | None], list[str]] = defaultdict(list)
    items = ParcelItem.objects.filter(
        shipment_line__shipment__order=order, parcel__tracking_number__isnull=False
    ).values_list("shipment_line_id", "lot_id", "parcel__tracking_number")
    for line_id, lot_id, number in items:
        if number and number not in parcels[(line_id, lot_id)]:
            parcels[(line_id, lot_id)].append(number)
    bins = pick_sources(picked)
    return [
        OrderLotRow(
            shipment_number=ps.shipment_line.shipment.number,
            site_code=ps.shipment_line.shipment.site.code,
            sku_code=ps.shipment_line.sku.code,
            sku_name=ps.shipment_line.sku.name,
            lot_number=ps.lot.number if ps.lot else None,
            expiry_date=ps.lot.expiry_date if ps.lot else None,
            quantity=ps.quantity,
            checked=ps.checked,
            bin_code=bins[ps.pk],
            picked_by=ps.picked_by.get_username() if ps.picked_by else "",
            picked_at=ps.picked_at,
            parcels=parcels.get((ps.shipment_line_id, ps.lot_id), []),
        )
        for ps in picked
    ]


def pick_sources(rows: Iterable[PickedStock]) -> dict[int, str]:
    """The bin code each PickedStock row was picked from: its `from_location` (the task's
    bin or the substitute the picker scanned); rows written before that was recorded fall
    back to the task's bin."""
    return {
        ps.pk: (ps.from_location.code if ps.from_location_id else ps.task.location.code)  # type: ignore[union-attr]
        for ps in rows
    }


def _scoped(qs: QuerySet[PickedStock], actor: Any) -> QuerySet[PickedStock]:
    allowed = scope_site_ids(actor)
    if allowed is None:
        return qs
    return qs.filter(shipment_line__shipment__site_id__in=allowed)


def _parcels_by_shipment(lot: Lot, shipment_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    items = (
        ParcelItem.objects.filter(
            lot=lot, parcel__shipment_id__in=shipment_ids, parcel__tracking_number__isnull=False
        )
        .values_list("parcel__shipment_id", "parcel__tracking_number")
        .order_by("parcel__shipment_id", "parcel__seq")
        .distinct()
    )
    for shipment_id, number in items:
        if number:
            out[shipment_id].append(number)
    return out


def describe_outbound_event(kind: str, data: dict[str, Any]) -> str | None:
    """A person's reading of a checked / packed / shipped / tracking / delivered timeline
    event (the order timeline and its CSV); None for other kinds."""
    if kind == EventKind.CHECKED:
        text = _("weight %(weight)s g") % {"weight": data.get("weight_g")}
        if data.get("expected_weight_g") is not None:
            text += ", " + _("expected %(expected)s g, deviation %(deviation)s g") % {
                "expected": data["expected_weight_g"],
                "deviation": data.get("deviation_g"),
            }
        if data.get("weight_override"):
            text += "; " + _("weight accepted by a manager")
        return text
    if kind == EventKind.PACKED:
        parcels = [
            _("parcel %(seq)s (%(weight)s g): %(items)s")
            % {
                "seq": p.get("seq"),
                "weight": p.get("weight_g"),
                "items": ", ".join(
                    f"{i.get('sku')} × {milli_to_qty(i.get('quantity') or 0).normalize()}"
                    + (f" [{i['lot']}]" if i.get("lot") else "")
                    for i in p.get("items") or []
                ),
            }
            for p in data.get("parcels") or []
        ]
        return "; ".join(parcels)
    if kind == EventKind.SHIPPED:
        return _("carrier %(carrier)s, tracking %(numbers)s") % {
            "carrier": data.get("carrier", ""),
            "numbers": " ".join(data.get("tracking_numbers") or []),
        }
    if kind == EventKind.TRACKING:
        code = data.get("code", "")
        label = str(TrackingCode(code).label) if code in TrackingCode.values else code
        parts = [label, data.get("place") or "", data.get("description") or ""]
        text = " · ".join(p for p in parts if p)
        return f"{text} ({data.get('tracking_number', '')})"
    if kind == EventKind.DELIVERED:
        return _("every parcel delivered (%(n)s)") % {"n": data.get("parcels", 0)}
    return None
