"""Packing a checked shipment into parcels (CHECKED -> PACKED; re-packing while PACKED).

Parcel items take their lots from what was picked and counted at the check, per
PickedStock row in pick order, so the parcels of a two-lot line say which lot is in which.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from chainstore.core import audit
from chainstore.core.errors import InvalidState, ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.fulfilment.models import (
    EventKind,
    Parcel,
    ParcelItem,
    ParcelStatus,
    PickedStock,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from chainstore.fulfilment.services.events import add_event
from chainstore.fulfilment.services.outbound._common import (
    carrier_code,
    locked,
    refuse_cancelled,
    refuse_status,
    transition,
)
from chainstore.fulfilment.services.status import refresh_order_status
from chainstore.integrations.carriers.registry import get_carrier
from chainstore.inventory.models import Lot


@dataclass(frozen=True)
class ParcelInput:
    """One parcel: (shipment_line_id, quantity in milli) items; `weight_g` None shares the
    checked weight among the parcels without one, by their expected weight."""

    items: list[tuple[int, int]]
    weight_g: int | None = None


@transaction.atomic
def pack(
    *, shipment: Shipment, actor: Any, parcels: list[ParcelInput] | None = None
) -> list[Parcel]:
    """Put the checked goods into parcels (default: one parcel with everything). Items must
    add up exactly to what was checked, line by line; each parcel item takes its lot from
    the lots counted at the check. A packed shipment may be re-packed until it ships."""
    ensure_can(actor, "fulfilment.check", sites=[shipment.site_id])
    shipment = locked(shipment)
    refuse_cancelled(shipment)
    if shipment.status not in (ShipmentStatus.CHECKED, ShipmentStatus.PACKED):
        refuse_status(shipment, ShipmentStatus.CHECKED)
    code = carrier_code(shipment)
    get_carrier(code)  # refuse an unknown carrier now, not at the dock
    lines = {ln.pk: ln for ln in shipment.lines.select_related("sku")}
    if parcels is None:
        parcels = [ParcelInput(items=[(pk, ln.checked) for pk, ln in lines.items()])]
    _validate_parcels(parcels, lines)
    weights = _parcel_weights(parcels, lines, shipment.weight_g or 0)
    from_status = shipment.status
    Parcel.objects.filter(shipment=shipment).delete()
    lots = _lot_queues(list(lines))
    created: list[Parcel] = []
    for seq, (spec, weight) in enumerate(zip(parcels, weights, strict=True), start=1):
        parcel = Parcel.objects.create(
            shipment=shipment,
            seq=seq,
            status=ParcelStatus.PACKED,
            weight_g=weight,
            carrier=code,
            packed_by=actor,
        )
        items = []
        for line_id, quantity in spec.items:
            for lot, part in _take_lots(lots[line_id], quantity):
                items.append(
                    ParcelItem(parcel=parcel, shipment_line_id=line_id, lot=lot, quantity=part)
                )
        ParcelItem.objects.bulk_create(items)
        created.append(parcel)
    transition(shipment, from_status, ShipmentStatus.PACKED, carrier=code)
    add_event(
        shipment.order,
        EventKind.PACKED,
        actor=actor,
        shipment=shipment,
        packed_by=actor.get_username(),
        carrier=code,
        parcels=[_parcel_summary(p) for p in created],
    )
    audit.record(
        actor=actor,
        action="shipment.pack",
        obj=shipment,
        from_state=from_status,
        to_state=ShipmentStatus.PACKED,
        site_id=shipment.site_id,
        data={"parcels": len(created), "weights_g": weights},
    )
    refresh_order_status(shipment.order)
    return created


def _validate_parcels(parcels: list[ParcelInput], lines: dict[int, ShipmentLine]) -> None:
    if not parcels:
        raise ValidationFailed(_("Pack at least one parcel."), code="no_parcels")
    totals: dict[int, int] = defaultdict(int)
    for index, spec in enumerate(parcels, start=1):
        if not spec.items:
            raise ValidationFailed(
                _("Parcel %(n)s is empty.") % {"n": index}, code="empty_parcel", parcel=index
            )
        if spec.weight_g is not None and (not isinstance(spec.weight_g, int) or spec.weight_g <= 0):
            raise ValidationFailed(
                _("Parcel %(n)s needs a weight in grams.") % {"n": index},
                code="invalid_weight",
                parcel=index,
            )
        for line_id, quantity in spec.items:
            if line_id not in lines:
                raise ValidationFailed(
                    _("Line %(line)s is not on this shipment.") % {"line": line_id},
                    code="unknown_line",
                    line_id=line_id,
                )
            if not isinstance(quantity, int) or quantity <= 0:
                raise ValidationFailed(
                    _("Quantity must be greater than zero."), code="invalid_quantity"
                )
            totals[line_id] += quantity
    wrong = [
        {"line_id": pk, "checked": ln.checked, "packed": totals.get(pk, 0)}
        for pk, ln in lines.items()
        if totals.get(pk, 0) != ln.checked
    ]
    if wrong:
        raise ValidationFailed(
            _("The parcels must hold exactly what was checked."),
            code="parcel_items_mismatch",
            lines=wrong,
        )


def _parcel_weights(
    parcels: list[ParcelInput], lines: dict[int, ShipmentLine], measured: int
) -> list[int]:
    """Given weights as they are; the rest of the measured weight is shared by the parcels
    without one, in proportion to their expected weight (or units when unknown)."""
    given = sum(p.weight_g for p in parcels if p.weight_g is not None)
    missing = [i for i, p in enumerate(parcels) if p.weight_g is None]
    if not missing:
        return [p.weight_g or 0 for p in parcels]
    left = measured - given
    if left < len(missing):
        raise ValidationFailed(
            _("Weigh each parcel: the parcels' weights exceed the checked weight."),
            code="parcel_weight_required",
        )

    def share(p: ParcelInput) -> int:
        return sum((lines[pk].sku.weight_g or 1) * q for pk, q in p.items)

    shares = [share(parcels[i]) for i in missing]
    total = sum(shares) or 1
    weights = [p.weight_g or 0 for p in parcels]
    assigned = 0
    for n, (i, s) in enumerate(zip(missing, shares, strict=True)):
        last = n == len(missing) - 1
        w = left - assigned if last else max(1, left * s // total)
        weights[i] = w
        assigned += w
    return weights


def _lot_queues(line_ids: list[int]) -> dict[int, list[list[Any]]]:
    """Per line, the lots counted at the check and how much of each is still to put in a
    parcel (pick order; rows of one lot merged)."""
    queues: dict[int, list[list[Any]]] = {pk: [] for pk in line_ids}
    merged: dict[tuple[int, int | None], list[Any]] = {}
    for row in PickedStock.objects.filter(shipment_line_id__in=line_ids).select_related("lot"):
        key = (row.shipment_line_id, row.lot_id)
        if key in merged:
            merged[key][1] += row.checked
        else:
            merged[key] = [row.lot, row.checked]
            queues[row.shipment_line_id].append(merged[key])
    return queues


def _take_lots(queue: list[list[Any]], quantity: int) -> list[tuple[Lot | None, int]]:
    parts: list[tuple[Lot | None, int]] = []
    while quantity > 0 and queue:
        lot, available = queue[0]
        part = min(available, quantity)
        parts.append((lot, part))
        quantity -= part
        if part == available:
            queue.pop(0)
        else:
            queue[0][1] = available - part
    if quantity > 0:
        raise InvalidState(
            _("What was picked does not match what was checked."), code="picked_stock_mismatch"
        )
    return parts


def _parcel_summary(parcel: Parcel) -> dict[str, Any]:
    return {
        "seq": parcel.seq,
        "weight_g": parcel.weight_g,
        "items": [
            {
                "sku": item.shipment_line.sku.code,
                "lot": item.lot.number if item.lot else None,
                "quantity": item.quantity,
            }
            for item in parcel.items.select_related("shipment_line__sku", "lot").order_by("id")
        ],
    }
