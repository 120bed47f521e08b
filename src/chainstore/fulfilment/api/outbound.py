"""/api/v1/fulfilment/... (outbound): the check (复核), packing, shipping with carrier labels,
tracking (carrier webhooks and the generic tracking API) and lot trace for recalls.

Flow for a picked shipment: `GET /check/lookup` (scan a shipment, order or pick list
number) -> `POST /shipments/{number}/check-scan` per item -> `/complete-check` (weight) ->
`/pack` -> `/ship` (header `Idempotency-Key`) -> `GET /parcels/{tracking}/label`.
Quantities are decimal strings in base units, weights integer grams; errors are
`{code, message, details}`.
"""

# No `from __future__ import annotations` here: ninja must see the real parameter types.
import base64
import binascii
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Header, Router, Status

from chainstore.core.errors import DomainError, ValidationFailed
from chainstore.core.quantities import qty_to_milli
from chainstore.fulfilment.schemas_outbound import (
    CheckScanIn,
    CheckScanOut,
    CompleteCheckIn,
    LotOrderOut,
    OrderLotOut,
    PackIn,
    ShipmentOut,
    ShipmentSummaryOut,
    TrackingIn,
    TrackingResultOut,
    lot_order_out,
    order_lot_out,
    shipment_out,
    shipment_summary,
)
from chainstore.fulfilment.services import outbound, trace, tracking
from chainstore.integrations.carriers import TrackingUpdate
from chainstore.sites.selectors import get_site

router = Router()

KEY = Header(
    None,
    alias="Idempotency-Key",
    description="Client key, unique per shipment hand-over; a replay returns the first result",
)
LABEL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _shipment(request: HttpRequest, number: str, permission: str) -> Any:
    return outbound.get_shipment(number=number, actor=request.user, permission=permission)


def _detail(shipment: Any) -> dict[str, Any]:
    return shipment_out(shipment)


def _milli(value: Any) -> int:
    try:
        return qty_to_milli(value)
    except ValueError as exc:
        raise ValidationFailed(str(exc), code="invalid_quantity") from exc


# -- the check ---------------------------------------------------------------------------
@router.get("/check/lookup", response=list[ShipmentSummaryOut], url_name="outbound_check_lookup")
def check_lookup(request: HttpRequest, scan: str, site: str) -> Any:
    """The shipments at `site` (code) a scanned number stands for: a shipment number, an
    order number or a pick list number. 404 `nothing_to_check` when none."""
    where = get_site(code=site, actor=request.user)
    found = outbound.find_for_check(scan=scan, actor=request.user, site=where)
    return [shipment_summary(s) for s in found]


@router.get("/shipments/{number}", response=ShipmentOut, url_name="outbound_shipment")
def shipment_detail(request: HttpRequest, number: str) -> Any:
    """A shipment: lines with the lots picked (bin, picker, time), parcels with their
    labels, tracking events in time order."""
    return _detail(_shipment(request, number, "orders.view"))


@router.post("/shipments/{number}/check-scan", response=CheckScanOut)
def check_scan(request: HttpRequest, number: str, payload: CheckScanIn) -> Any:
    """Count one scanned item against what was picked, per lot: a GS1 lot counts only
    within that lot, a plain EAN fills the lots oldest expiry first. Refusals: 422
    `not_in_shipment`, `lot_mismatch` (lot not picked), `over_count` (more than was picked
    of the SKU, or of the scanned lot; `details.open_lots` lists the lots still open),
    `unknown_barcode`; 409 `already_checked`, `not_picked`, `order_cancelled`.

    ```json
    {"scan": "(01)06901234567892(17)261231(10)M2311", "quantity": "1"}
    ```
    """
    shipment = _shipment(request, number, "fulfilment.check")
    result = outbound.check_scan(
        shipment=shipment,
        actor=request.user,
        scan=payload.scan,
        quantity=_milli(payload.quantity) if payload.quantity is not None else None,
    )
    return {
        "line_id": result.line.pk,
        "sku": result.line.sku.code,
        "lot": result.lot.number if result.lot else None,
        "quantity": result.quantity,
        "complete": result.complete,
        "shipment": _detail(result.shipment),
    }


@router.post("/shipments/{number}/reset-check", response=ShipmentOut)
def reset_check(request: HttpRequest, number: str) -> Any:
    """Count the shipment again from zero (before the check is completed)."""
    shipment = _shipment(request, number, "fulfilment.check")
    return _detail(outbound.reset_check(shipment=shipment, actor=request.user))


@router.post("/shipments/{number}/complete-check", response=ShipmentOut)
def complete_check(request: HttpRequest, number: str, payload: CompleteCheckIn) -> Any:
    """Close the check with the scale's weight. Every picked unit must be counted (409
    `check_incomplete`); a weight outside the tolerance (10 percent, at least 50 g) is 409
    `weight_mismatch` with the expected weight, unless `override` by a manager."""
    shipment = _shipment(request, number, "fulfilment.check")
    done = outbound.complete_check(
        shipment=shipment,
        actor=request.user,
        weight_g=payload.weight_g,
        override=payload.override,
    )
    return _detail(done)


@router.post("/shipments/{number}/pack", response=ShipmentOut)
def pack(request: HttpRequest, number: str, payload: PackIn) -> Any:
    """Pack the checked goods; without `parcels`, one parcel with everything. The parcels'
    items must add up to what was checked (422 `parcel_items_mismatch`).

    ```json
    {"parcels": [{"weight_g": 2200, "items": [{"line_id": 11, "quantity": "2"}]},
                 {"items": [{"line_id": 11, "quantity": "1"}, {"line_id": 12, "quantity": "2"}]}]}
    ```
    """
    shipment = _shipment(request, number, "fulfilment.check")
    parcels = None
    if payload.parcels is not None:
        parcels = [
            outbound.ParcelInput(
                items=[(item.line_id, _milli(item.quantity)) for item in p.items],
                weight_g=p.weight_g,
            )
            for p in payload.parcels
        ]
    outbound.pack(shipment=shipment, actor=request.user, parcels=parcels)
    return _detail(shipment)


@router.post("/shipments/{number}/ship", response={200: ShipmentOut, 201: ShipmentOut})
def ship(request: HttpRequest, number: str, idempotency_key: str | None = KEY) -> Any:
    """Hand the packed shipment to its carrier: a label per parcel, the picked lots leave
    the site for the customer. 201 on the first call; a replay of the same
    `Idempotency-Key` answers 200 with `replayed: true` and moves nothing. 502
    `carrier_failed` when the carrier refuses (nothing shipped)."""
    if not idempotency_key:
        raise ValidationFailed(
            _("Send an Idempotency-Key header to ship."), code="idempotency_key_required"
        )
    shipment = _shipment(request, number, "fulfilment.ship")
    done = outbound.ship(shipment=shipment, actor=request.user, idempotency_key=idempotency_key)
    return Status(200 if getattr(done, "replayed", False) else 201, _detail(done))


@router.get("/parcels/{tracking}/label", url_name="outbound_parcel_label")
def parcel_label(request: HttpRequest, tracking: str) -> HttpResponse:
    """The carrier's label of a parcel, ready to print (HTML 100x150 mm for the simulated
    carrier; PDF or ZPL for carriers that send those)."""
    parcel = outbound.get_parcel(tracking_number=tracking, actor=request.user)
    if parcel.label_format == "pdf-base64":
        try:
            content = base64.b64decode(parcel.label, validate=True)
        except binascii.Error as exc:
            raise DomainError(_("The stored label is damaged."), code="bad_label") from exc
        response = HttpResponse(content, content_type="application/pdf")
    elif parcel.label_format == "html":
        response = HttpResponse(parcel.label, content_type="text/html; charset=utf-8")
        response["Content-Security-Policy"] = LABEL_CSP
    else:
        response = HttpResponse(parcel.label, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{parcel.tracking_number}"'
    return response


# -- tracking ----------------------------------------------------------------------------
@router.post("/carriers/{code}/webhook", response=TrackingResultOut, auth=None)
def carrier_webhook(request: HttpRequest, code: str) -> Any:
    """A carrier's tracking webhook. No user token: the carrier signs the raw body (for the
    simulated carrier HMAC-SHA256, hex, in `X-Carrier-Signature`). A bad signature is 401
    `bad_signature` and records nothing; replayed events are counted as duplicates."""
    return tracking.receive_webhook(
        carrier_code=code, body=request.body, headers=dict(request.headers)
    )


@router.post("/tracking", response=TrackingResultOut)
def post_tracking(request: HttpRequest, payload: TrackingIn) -> Any:
    """Tracking events in the generic format, from an integrator (permission
    fulfilment.tracking). Idempotent by (carrier, event_id); unknown tracking numbers are
    counted and listed, not refused.

    ```json
    {"carrier": "sim", "events": [{"tracking_number": "SIM123456789012",
      "event_id": "SIM123456789012-2", "code": "in_transit",
      "at": "2026-11-25T18:40:00+08:00", "place": "上海转运中心",
      "latitude": "31.1", "longitude": "121.3"}]}
    ```
    """
    updates = [
        TrackingUpdate(
            tracking_number=e.tracking_number,
            event_id=e.event_id,
            code=e.code.value,
            at=e.at,
            description=e.description,
            place=e.place,
            latitude=e.latitude,
            longitude=e.longitude,
        )
        for e in payload.events
    ]
    return tracking.record_tracking(
        carrier_code=payload.carrier, updates=updates, actor=request.user
    )


# -- lot trace ---------------------------------------------------------------------------
def _lot_rows(request: HttpRequest, sku: str, lot: str) -> list[trace.LotOrderRow]:
    return trace.orders_for_lot(sku=trace.find_sku(sku), lot_number=lot, actor=request.user)


@router.get("/trace/lots", response=list[LotOrderOut])
def trace_lot(request: HttpRequest, sku: str, lot: str) -> Any:
    """Every order and shipment that received (or holds, not yet shipped) units of a lot,
    with quantities, ship dates, tracking numbers and masked customer details (recalls)."""
    return [lot_order_out(r) for r in _lot_rows(request, sku, lot)]


@router.get("/trace/lots.csv", url_name="outbound_trace_lot_csv")
def trace_lot_csv(request: HttpRequest, sku: str, lot: str) -> HttpResponse:
    """The same list as CSV (UTF-8 with BOM, opens in Excel)."""
    rows = _lot_rows(request, sku, lot)
    response = HttpResponse(trace.orders_for_lot_csv(rows), content_type="text/csv")
    name = f"trace-{sku}-{lot}.csv".replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/trace/orders/{number}/lots", response=list[OrderLotOut])
def trace_order(request: HttpRequest, number: str) -> Any:
    """The lots that went into an order: SKU, lot, expiry, quantity, bin, picker, time and
    parcels."""
    order = trace.get_order(number=number, actor=request.user)
    return [order_lot_out(r) for r in trace.lots_for_order(order=order, actor=request.user)]
