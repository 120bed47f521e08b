"""/api/v1/transfers/... (execution): pick list, pick by scan, ship with a carrier label,
receive by scan with discrepancies, resolve them, in-transit ageing.

Flow at the source: `GET /{number}/pick-list` -> `POST /lots/{id}/pick` per bin (header
`Idempotency-Key`) -> `POST /{number}/ship` (`Idempotency-Key`) -> `GET /{number}/label`.
At the destination: `POST /{number}/receive` (`Idempotency-Key`; `final: false` for a
partial receipt) -> `GET /discrepancies` -> `POST /discrepancies/{id}/resolve`.
Quantities are decimal strings in base units; money in yuan; errors `{code, message,
details}`.
"""

# No `from __future__ import annotations` here: ninja must see the real parameter types.
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Header, Router, Status

from chainstore.core.errors import InvalidState, ValidationFailed
from chainstore.core.quantities import money_to_fen, qty_to_milli
from chainstore.inventory.models import Lot
from chainstore.sites.models import Location
from chainstore.sites.selectors import get_site
from chainstore.transfers.schemas_execution import (
    AgeingOut,
    DiscrepancyOut,
    ExecTransferOut,
    PickIn,
    PickOut,
    PickTaskOut,
    ReceiptOut,
    ReceiveIn,
    ResolveIn,
    ShipIn,
    ageing_out,
    discrepancy_out,
    task_out,
    transfer_out,
)
from chainstore.transfers.selectors import get_transfer
from chainstore.transfers.services import execution, receiving, tracking

router = Router()

KEY = Header(
    None,
    alias="Idempotency-Key",
    description="Client key, unique per pick / shipment / receipt; a replay returns the "
    "first result and moves nothing",
)
LABEL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _key(key: str | None) -> str:
    if not key:
        raise ValidationFailed(
            _("Send an Idempotency-Key header."), code="idempotency_key_required"
        )
    return key


@router.get("/{number}/pick-list", response=list[PickTaskOut], url_name="transfer_pick_list")
def pick_list(request: HttpRequest, number: str) -> Any:
    """The reserved parts of the transfer in walking order at the source."""
    transfer = get_transfer(number=number, actor=request.user)
    return [task_out(p, i) for i, p in enumerate(execution.pick_list(transfer), start=1)]


@router.post("/lots/{lot_id}/pick", response={200: PickOut, 201: PickOut})
def pick(
    request: HttpRequest, lot_id: int, payload: PickIn, idempotency_key: str | None = KEY
) -> Any:
    """Pick a reserved part by scan: the bin, the item (EAN or GS1 with lot) and the lot.
    Refusals: 422 `wrong_bin`, `wrong_item`, `lot_required`, `wrong_lot`, `over_quantity`;
    409 `transfer_not_pickable`. A replay answers 200 with `replayed: true`."""
    part = execution.get_transfer_lot(lot_id=lot_id, actor=request.user)
    result = execution.pick(
        transfer_lot=part,
        actor=request.user,
        bin_scan=payload.bin_scan,
        item_scan=payload.item_scan,
        lot_scan=payload.lot_scan,
        quantity=qty_to_milli(payload.quantity),
        idempotency_key=_key(idempotency_key),
    )
    part = execution.get_transfer_lot(lot_id=lot_id, actor=request.user)
    body = {"task": task_out(part, 0), "replayed": result.replayed}
    return Status(200 if result.replayed else 201, body)


@router.post("/{number}/ship", response={200: ExecTransferOut, 201: ExecTransferOut})
def ship(
    request: HttpRequest, number: str, payload: ShipIn, idempotency_key: str | None = KEY
) -> Any:
    """Ship what was picked: a carrier label, OUTBOUND -> in transit, freight + handling
    allocated to the lines by `cost_basis` (weight/volume fall back to value when a SKU
    lacks it). 502 `carrier_failed` ships nothing; a replay answers 200."""
    transfer = get_transfer(number=number, actor=request.user)
    done = execution.ship(
        transfer=transfer,
        actor=request.user,
        carrier=payload.carrier,
        freight_fen=money_to_fen(payload.freight),
        handling_fen=money_to_fen(payload.handling),
        cost_basis=payload.cost_basis,
        weight_g=payload.weight_g,
        idempotency_key=_key(idempotency_key),
    )
    replayed = bool(getattr(done, "replayed", False))
    return Status(200 if replayed else 201, transfer_out(done, replayed=replayed))


@router.get("/{number}/label", url_name="transfer_label")
def label(request: HttpRequest, number: str) -> HttpResponse:
    """The carrier label of a shipped transfer, ready to print."""
    transfer = get_transfer(number=number, actor=request.user)
    if not transfer.label:
        raise InvalidState(_("This transfer has no label yet."), code="no_label")
    response = HttpResponse(transfer.label, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = LABEL_CSP
    return response


@router.post("/{number}/receive", response={200: ReceiptOut, 201: ReceiptOut})
def receive(
    request: HttpRequest, number: str, payload: ReceiveIn, idempotency_key: str | None = KEY
) -> Any:
    """Receive what arrived. Units beyond what is in transit are OVER (a gain); damaged
    ones go to the DAMAGED location; with `final` (default) what is missing becomes SHORT.

    ```json
    {"lines": [{"line_id": 11, "received": "7", "damaged": "1"}], "final": true}
    ```
    """
    transfer = get_transfer(number=number, actor=request.user)
    by_id = {ln.pk: ln for ln in transfer.lines.select_related("sku")}
    lines = []
    for item in payload.lines:
        line = by_id.get(item.line_id)
        if line is None:
            raise ValidationFailed(_("The line belongs to another transfer."), code="wrong_line")
        lot = None
        if item.lot:
            lot = Lot.objects.filter(sku=line.sku, number=item.lot).first()
            if lot is None:
                raise ValidationFailed(_("Unknown lot for this SKU."), code="unknown_lot")
        lines.append(
            receiving.ReceiveLine(
                line=line,
                received=qty_to_milli(item.received),
                damaged=qty_to_milli(item.damaged),
                lot=lot,
            )
        )
    location = None
    if payload.location:
        location = Location.objects.filter(
            site_id=transfer.destination_id, code__iexact=payload.location
        ).first()
        if location is None:
            raise ValidationFailed(_("Unknown location."), code="unknown_location")
    result = receiving.receive(
        transfer=transfer,
        actor=request.user,
        lines=lines,
        idempotency_key=_key(idempotency_key),
        location=location,
        final=payload.final,
    )
    body = {
        "transfer": transfer_out(result.transfer, replayed=result.replayed),
        "discrepancies": [discrepancy_out(d) for d in result.discrepancies],
        "replayed": result.replayed,
    }
    return Status(200 if result.replayed else 201, body)


@router.get("/discrepancies", response=list[DiscrepancyOut], url_name="transfer_discrepancies")
def discrepancies(request: HttpRequest, status: str = "open", site: str | None = None) -> Any:
    """Discrepancies of transfers from or to your sites; `status=all` includes resolved."""
    where = get_site(code=site, actor=request.user) if site else None
    found = receiving.list_discrepancies(actor=request.user, open_only=status != "all", site=where)
    return [discrepancy_out(d) for d in found[:500]]


@router.post("/discrepancies/{discrepancy_id}/resolve", response=DiscrepancyOut)
def resolve(request: HttpRequest, discrepancy_id: int, payload: ResolveIn) -> Any:
    """Settle a discrepancy: SHORT -> carrier_claim / write_off / return_to_source;
    OVER -> accept / return_to_source; DAMAGED -> carrier_claim / write_off. A second
    resolve is 409 `already_resolved`."""
    found = receiving.get_discrepancy(discrepancy_id=discrepancy_id, actor=request.user)
    done = receiving.resolve(
        discrepancy=found,
        actor=request.user,
        resolution=payload.resolution,
        claim_fen=money_to_fen(payload.claim),
        note=payload.note,
    )
    return discrepancy_out(receiving.get_discrepancy(discrepancy_id=done.pk, actor=request.user))


@router.get("/in-transit", response=AgeingOut, url_name="transfer_in_transit")
def in_transit(request: HttpRequest, site: str | None = None) -> Any:
    """Transfers with units in transit: days since shipped, buckets 0-2 / 3-7 / 8-14 / >14
    days, units and value in transit (source cost)."""
    where = get_site(code=site, actor=request.user) if site else None
    return ageing_out(tracking.in_transit_ageing(actor=request.user, site=where))
