"""A basket as the till sends it → resolved lines: SKUs from codes or scans (EAN/UPC, GS1
with lot and expiry, in-store scale barcodes), quantities in thousandths of the base unit
(weighed goods: kg with up to 3 decimals; everything else whole units). No writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from chainstore.catalog.errors import InvalidBarcode, SkuNotFound
from chainstore.catalog.models import Sku
from chainstore.core.errors import ValidationFailed
from chainstore.core.quantities import qty_to_milli
from chainstore.pos.services.scan import check_quantity, scan_item

__all__ = ["MAX_LINES", "BasketLine", "LineInput", "resolve_lines"]

MAX_LINES = 200


@dataclass(frozen=True)
class LineInput:
    """One basket line as a till sends it: a SKU (code or object) or a raw scan.

    quantity: base units (kg for weighed goods), default one unit; with a scale barcode it
    counts labels (default 1) and the weight comes from the barcode.
    unit_price_fen / discount_fen: only for priced_by="client" (the price charged per unit
    or per kg, and the line's total discount)."""

    sku_code: str | None = None
    scan: str | None = None
    quantity: Decimal | int | str | None = None
    lot: str | None = None
    unit_price_fen: int | None = None
    discount_fen: int = 0
    sku: Sku | None = None


@dataclass(frozen=True)
class BasketLine:
    """A resolved line: SKU, quantity in thousandths, the lot the scan named (if any)."""

    line_no: int
    sku: Sku
    quantity: int
    lot_number: str | None = None
    expiry: dt.date | None = None
    unit_price_fen: int | None = None
    discount_fen: int = 0


def resolve_lines(lines: Sequence[LineInput]) -> list[BasketLine]:
    """Scans and SKU codes → SKUs, quantities in thousandths, scanned lots (no writes)."""
    if not lines:
        raise ValidationFailed(_("The basket is empty."), code="empty_basket")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(
            _("At most %(n)s lines per basket.") % {"n": MAX_LINES}, code="too_many_lines"
        )
    by_code = _skus_by_code([ln.sku_code for ln in lines if ln.sku is None and not ln.scan])
    out: list[BasketLine] = []
    for number, line in enumerate(lines, start=1):
        out.append(_resolve_line(number, line, by_code))
    return out


def _skus_by_code(codes: list[str | None]) -> dict[str, Sku]:
    wanted = {c for c in codes if c}
    found = {s.code: s for s in Sku.objects.filter(code__in=wanted).select_related("category")}
    missing = sorted(wanted - set(found))
    if missing:
        raise SkuNotFound(sku=missing[0])
    return found


def _resolve_line(number: int, line: LineInput, by_code: dict[str, Sku]) -> BasketLine:
    lot, expiry, weight = line.lot or None, None, None
    if line.sku is not None:
        sku = line.sku
    elif line.scan:
        item = scan_item(line.scan)
        sku, weight = item.sku, item.quantity
        lot, expiry = lot or item.lot_number, item.expiry
    elif line.sku_code:
        sku = by_code[line.sku_code]
    else:
        raise ValidationFailed(
            _("Give a SKU or a scan on every line."), code="missing_sku", line=number
        )
    if not sku.is_active:
        raise InvalidBarcode(_("This SKU is inactive."), code="inactive_sku", sku=sku.code)
    quantity = _quantity(line, number)
    if weight is not None:  # a scale label: quantity counts labels of this weight
        if quantity % 1000:
            raise ValidationFailed(
                _("Give a whole number of scale labels."), code="invalid_quantity", line=number
            )
        quantity = weight * (quantity // 1000)
    elif sku.is_weighed and line.quantity is None:
        raise ValidationFailed(
            _("Give the weight of %(sku)s in kg.") % {"sku": sku.code},
            code="quantity_required",
            sku=sku.code,
            line=number,
        )
    check_quantity(sku, quantity)
    if not sku.is_lot_tracked:
        lot, expiry = None, None
    return BasketLine(
        line_no=number,
        sku=sku,
        quantity=quantity,
        lot_number=lot,
        expiry=expiry,
        unit_price_fen=line.unit_price_fen,
        discount_fen=line.discount_fen,
    )


def _quantity(line: LineInput, number: int) -> int:
    if line.quantity is None:
        return 1000
    try:
        return qty_to_milli(line.quantity)
    except ValueError:
        raise ValidationFailed(
            _("A quantity has at most 3 decimal places."), code="invalid_quantity", line=number
        ) from None
