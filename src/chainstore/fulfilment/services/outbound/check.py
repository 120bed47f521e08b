"""The outbound check (复核): every picked unit is scanned against what was picked, lot by
lot, then the shipment is weighed (PICKED -> CHECKED).

The count is kept per PickedStock row (one pick: the lot it took) in `PickedStock.checked`;
the shipment line's `checked` is the sum of its rows. Which rows a scan counts against:

- a scan with a GS1 lot (lot-tracked SKU): the rows of that lot. A lot not picked for the
  shipment is `lot_mismatch`; a lot already counted in full is `over_count` even while the
  line's other lots are open, so one lot scanned twice never stands in for another;
- a plain EAN, or a SKU without lots: the line's rows, oldest expiry first (rows without an
  expiry last), then in pick order; an amount larger than the first row's room fills the
  next rows.

The line is the first line of the SKU with room for the whole amount (a SKU is on a
shipment once, short of an order listing it twice). Rows and line move by conditional
updates, so no count can pass what was picked.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, NoReturn

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.catalog.services import resolve_scan
from chainstore.core import audit
from chainstore.core.errors import Conflict, InvalidState, ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.fulfilment.models import (
    EventKind,
    PickedStock,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from chainstore.fulfilment.services.events import add_event
from chainstore.fulfilment.services.outbound._common import (
    locked,
    qty,
    refuse_cancelled,
    refuse_status,
    transition,
)
from chainstore.fulfilment.services.status import refresh_order_status
from chainstore.inventory.models import Lot

WEIGHT_TOLERANCE_PERCENT = 10
WEIGHT_TOLERANCE_MIN_G = 50


@dataclass
class CheckScanResult:
    shipment: Shipment
    line: ShipmentLine
    lot: Lot | None  # the lot on the scanned barcode, if any
    quantity: int
    complete: bool  # every picked row of the shipment is checked
    lines: list[ShipmentLine] = field(default_factory=list)


def expected_weight(shipment: Shipment) -> tuple[int, bool]:
    """Grams the picked goods should weigh (Sku.weight_g per base unit x quantity) and
    whether every line's weight is known (only then is the scale compared with it)."""
    total, known = 0, True
    for line in shipment.lines.select_related("sku"):
        if line.sku.weight_g is None:
            known = False
            continue
        total += line.sku.weight_g * line.picked
    return (total + 500) // 1000, known


def weight_tolerance(expected_g: int) -> int:
    """How far the scale may be from the expected weight: 10 percent, at least 50 g
    (packaging and scale error on light parcels)."""
    return max(WEIGHT_TOLERANCE_MIN_G, math.ceil(expected_g * WEIGHT_TOLERANCE_PERCENT / 100))


@transaction.atomic
def check_scan(
    *, shipment: Shipment, actor: Any, scan: str, quantity: int | None = None
) -> CheckScanResult:
    """Count one scanned item (quantity in milli; default one unit, or the rest for weighed
    goods) against what was picked for the shipment, per lot (see the module docstring)."""
    ensure_can(actor, "fulfilment.check", sites=[shipment.site_id])
    shipment = locked(shipment)
    refuse_cancelled(shipment)
    if shipment.status != ShipmentStatus.PICKED:
        refuse_status(shipment, ShipmentStatus.PICKED)
    scanned = resolve_scan(scan)
    sku = scanned.sku
    lines = [
        ln for ln in shipment.lines.select_related("sku").order_by("id") if ln.sku_id == sku.pk
    ]
    if not lines:
        raise ValidationFailed(
            _("%(sku)s is not on this shipment.") % {"sku": f"{sku.code} {sku.name}"},
            code="not_in_shipment",
            sku=sku.code,
        )
    rows = sorted(
        PickedStock.objects.filter(shipment_line__in=lines).select_related("lot"),
        key=_count_order,
    )
    lot, candidates = None, rows
    if sku.is_lot_tracked and scanned.lot:
        candidates = [r for r in rows if r.lot is not None and r.lot.number == scanned.lot]
        if not candidates:
            picked = sorted({r.lot.number for r in rows if r.lot is not None})
            raise ValidationFailed(
                _("Lot %(lot)s was not picked for this shipment (picked: %(picked)s).")
                % {"lot": scanned.lot, "picked": ", ".join(picked) or "-"},
                code="lot_mismatch",
                sku=sku.code,
                lot=scanned.lot,
                picked=picked,
            )
        lot = candidates[0].lot
    if all(r.checked >= r.quantity for r in rows):
        raise Conflict(
            _("All of %(sku)s is already checked.") % {"sku": sku.code},
            code="already_checked",
            sku=sku.code,
        )
    room: dict[int, int] = defaultdict(int)  # per line, in line order
    for row in candidates:
        if row.checked < row.quantity:
            room[row.shipment_line_id] += row.quantity - row.checked
    if not room:
        _over_count(sku, lot, 0, rows)
    first_line = next(iter(room))
    amount = quantity if quantity is not None else (room[first_line] if sku.is_weighed else 1000)
    if not isinstance(amount, int) or amount <= 0:
        raise ValidationFailed(_("Quantity must be greater than zero."), code="invalid_quantity")
    line_id = next((pk for pk, left in room.items() if left >= amount), first_line)
    if room[line_id] < amount:
        _over_count(sku, lot, room[line_id], rows)
    _count(candidates, line_id, amount, sku, lot, rows)
    all_lines = list(shipment.lines.select_related("sku").order_by("id"))
    return CheckScanResult(
        shipment=shipment,
        line=next(ln for ln in all_lines if ln.pk == line_id),
        lot=lot,
        quantity=amount,
        # A line's rows add up to its count and none passes its quantity (the constraint),
        # so a line counted in full has every lot counted in full.
        complete=all(ln.checked == ln.picked for ln in all_lines),
        lines=all_lines,
    )


@transaction.atomic
def reset_check(*, shipment: Shipment, actor: Any) -> Shipment:
    """Start the count of a shipment again (the checker lost track): every lot and line
    back to zero."""
    ensure_can(actor, "fulfilment.check", sites=[shipment.site_id])
    shipment = locked(shipment)
    refuse_cancelled(shipment)
    if shipment.status != ShipmentStatus.PICKED:
        refuse_status(shipment, ShipmentStatus.PICKED)
    PickedStock.objects.filter(shipment_line__shipment=shipment).update(checked=0)
    ShipmentLine.objects.filter(shipment=shipment).update(checked=0)
    audit.record(actor=actor, action="shipment.check_reset", obj=shipment, site_id=shipment.site_id)
    return shipment


@transaction.atomic
def complete_check(
    *, shipment: Shipment, actor: Any, weight_g: int, override: bool = False
) -> Shipment:
    """Close the check: every picked lot counted in full and the scale within tolerance of
    the expected weight. Out of tolerance is refused (`weight_mismatch`) unless a manager
    (fulfilment.plan) overrides; the deviation and who decided are on the timeline."""
    ensure_can(actor, "fulfilment.check", sites=[shipment.site_id])
    shipment = locked(shipment)
    refuse_cancelled(shipment)
    if shipment.status != ShipmentStatus.PICKED:
        refuse_status(shipment, ShipmentStatus.PICKED)
    if not isinstance(weight_g, int) or weight_g <= 0:
        raise ValidationFailed(_("Enter the weight in grams."), code="invalid_weight")
    lines = list(shipment.lines.select_related("sku").order_by("id"))
    _refuse_incomplete(lines)
    expected, known = expected_weight(shipment)
    tolerance = weight_tolerance(expected)
    deviation = weight_g - expected
    outside = known and abs(deviation) > tolerance
    if outside and not override:
        raise Conflict(
            _("The parcel weighs %(actual)s g; expected %(expected)s g (plus or minus %(tol)s g).")
            % {"actual": weight_g, "expected": expected, "tol": tolerance},
            code="weight_mismatch",
            weight_g=weight_g,
            expected_weight_g=expected,
            tolerance_g=tolerance,
            deviation_g=deviation,
        )
    if outside:
        ensure_can(actor, "fulfilment.plan", sites=[shipment.site_id])
    now = timezone.now()
    transition(
        shipment,
        ShipmentStatus.PICKED,
        ShipmentStatus.CHECKED,
        weight_g=weight_g,
        expected_weight_g=expected if known else None,
        checked_by=actor,
        checked_at=now,
    )
    add_event(
        shipment.order,
        EventKind.CHECKED,
        actor=actor,
        shipment=shipment,
        at=now,
        checked_by=actor.get_username(),
        weight_g=weight_g,
        expected_weight_g=expected if known else None,
        deviation_g=deviation if known else None,
        tolerance_g=tolerance if known else None,
        weight_override=bool(outside),
        units=sum(ln.checked for ln in lines),
    )
    audit.record(
        actor=actor,
        action="shipment.check",
        obj=shipment,
        from_state=ShipmentStatus.PICKED,
        to_state=ShipmentStatus.CHECKED,
        site_id=shipment.site_id,
        data={"weight_g": weight_g, "expected_weight_g": expected, "override": bool(outside)},
    )
    refresh_order_status(shipment.order)
    return shipment


def _count_order(row: PickedStock) -> tuple[int, bool, dt.date, int]:
    """Line, then oldest expiry first (no expiry last), then pick order."""
    expiry = row.lot.expiry_date if row.lot is not None else None
    return (row.shipment_line_id, expiry is None, expiry or dt.date.max, row.pk)


def _count(
    candidates: list[PickedStock],
    line_id: int,
    amount: int,
    sku: Sku,
    lot: Lot | None,
    rows: list[PickedStock],
) -> None:
    """Add `amount` to the line's candidate rows in order, then to the line. Each update is
    conditional on the room it was computed from: the shipment is locked, so a refusal
    here means the data changed under the lock's feet, and everything rolls back."""
    left = amount
    for row in candidates:
        part = min(left, row.quantity - row.checked)
        if row.shipment_line_id != line_id or part <= 0:
            continue
        if not PickedStock.objects.filter(pk=row.pk, checked__lte=F("quantity") - part).update(
            checked=F("checked") + part
        ):
            _over_count(sku, lot, 0, rows)
        row.checked += part
        left -= part
    if left or not ShipmentLine.objects.filter(
        pk=line_id, checked__lte=F("picked") - amount
    ).update(checked=F("checked") + amount):
        raise InvalidState(
            _("What was picked does not match what was checked."),
            code="picked_stock_mismatch",
            lines=[line_id],
        )


def _over_count(sku: Sku, lot: Lot | None, left: int, rows: list[PickedStock]) -> NoReturn:
    """Refuse a count beyond what was picked: of the SKU, or of the scanned lot (then the
    lots still open are named, the checker has probably scanned the wrong one)."""
    open_lots = sorted({r.lot.number for r in rows if r.lot is not None and r.checked < r.quantity})
    if lot is not None and left == 0:
        raise ValidationFailed(
            _("Lot %(lot)s of %(sku)s is counted in full; still open: %(open)s.")
            % {"lot": lot.number, "sku": sku.code, "open": ", ".join(open_lots) or "-"},
            code="over_count",
            sku=sku.code,
            lot=lot.number,
            remaining=0,
            open_lots=open_lots,
        )
    if lot is not None:
        raise ValidationFailed(
            _("Only %(left)s more of %(sku)s lot %(lot)s were picked.")
            % {"left": qty(left), "sku": sku.code, "lot": lot.number},
            code="over_count",
            sku=sku.code,
            lot=lot.number,
            remaining=left,
            open_lots=open_lots,
        )
    raise ValidationFailed(
        _("Only %(left)s more of %(sku)s were picked.") % {"left": qty(left), "sku": sku.code},
        code="over_count",
        sku=sku.code,
        remaining=left,
    )


def _refuse_incomplete(lines: list[ShipmentLine]) -> None:
    """Every picked row counted in full (and so every line), and something picked at all."""
    open_rows: dict[int, list[PickedStock]] = defaultdict(list)
    for row in PickedStock.objects.filter(shipment_line__in=lines).select_related("lot"):
        if row.checked != row.quantity:
            open_rows[row.shipment_line_id].append(row)
    open_lines = [ln for ln in lines if ln.checked != ln.picked or open_rows[ln.pk]]
    if open_lines or not any(ln.picked for ln in lines):
        raise InvalidState(
            _("Check every picked item first."),
            code="check_incomplete",
            lines=[
                {
                    "line_id": ln.pk,
                    "sku": ln.sku.code,
                    "picked": ln.picked,
                    "checked": ln.checked,
                    "lots": [
                        {
                            "lot": r.lot.number if r.lot else None,
                            "quantity": r.quantity,
                            "checked": r.checked,
                        }
                        for r in open_rows[ln.pk]
                    ],
                }
                for ln in open_lines
            ],
        )
