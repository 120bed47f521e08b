"""What a till scan means: SKU (+ lot and expiry from GS1) or a weighed item's weight.

Codes understood, in this order:

1. Any code catalog's `resolve_scan` knows: EAN-13/UPC-A/GTIN-14 registered on a SKU, GS1
   element strings (AI 01 GTIN, AI 10 lot, AI 17 expiry; HRI "(01)...(10)..." or FNC1/GS
   separated), RFID EPC, an internal barcode or the SKU code itself.
2. Chinese in-store scale barcodes (店内码, printed by the deli/produce scale), an EAN-13 in
   the restricted-circulation range starting with "2"::

       2 F PPPPP WWWWW C
       | | |     |     +-- GS1 mod-10 check digit over the first 12 digits (must be valid)
       | | |     +-------- net weight in grams, 5 digits (00001-99999 = 0.001-99.999 kg)
       | | +-------------- PLU: the SKU's internal barcode or SKU code (leading zeros optional)
       | +---------------- the scale's flag digit (any; scales print "0" by default)
       +------------------ "2": in-store code

   Example: ``2000123004563`` → PLU ``00123``, 456 g (0.456 kg) of the weighed SKU whose
   internal barcode (or code) is ``00123`` or ``123``. A full EAN-13 starting with "2" that
   is registered as a SKU barcode is that SKU (rule 1 wins). Only weighed SKUs (base unit
   kg) can be sold through a scale barcode.

Quantities: a weighed SKU's quantity is in kg with up to 3 decimals (grams); every other
SKU is sold in whole units.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from chainstore.catalog.barcodes import gtin_check_digit
from chainstore.catalog.errors import InvalidBarcode, UnknownBarcode
from chainstore.catalog.models import Barcode, BarcodeKind, Sku
from chainstore.catalog.services import resolve_scan
from chainstore.core.quantities import milli_to_qty
from chainstore.pos.errors import InvalidScaleBarcode, WholeQuantityRequired

SCALE_PREFIX = "2"


@dataclass(frozen=True)
class ScannedItem:
    sku: Sku
    lot_number: str | None = None
    expiry: dt.date | None = None
    quantity: int | None = None  # thousandths of the base unit, from a scale barcode
    barcode: str = ""


def scan_item(raw: str) -> ScannedItem:
    """Resolve one till scan (see the module docstring for the codes understood)."""
    text = raw.strip()
    if _looks_like_scale_code(text):
        try:
            result = resolve_scan(text)
        except UnknownBarcode:
            return _scale_item(text)
        return ScannedItem(sku=result.sku, barcode=result.barcode)
    result = resolve_scan(text)
    lot = result.lot if result.sku.is_lot_tracked else None
    expiry = result.expiry if result.sku.is_lot_tracked else None
    return ScannedItem(sku=result.sku, lot_number=lot, expiry=expiry, barcode=result.barcode)


def _looks_like_scale_code(text: str) -> bool:
    return len(text) == 13 and text.isdigit() and text.startswith(SCALE_PREFIX)


def scale_barcode(plu: str, grams: int, flag: str = "0") -> str:
    """Build a scale barcode (for tests, labels and the demo)."""
    if not (plu.isdigit() and len(plu) <= 5 and 0 < grams <= 99_999 and flag.isdigit()):
        raise ValueError("PLU is up to 5 digits, the weight 1-99999 g, the flag one digit")
    payload = f"{SCALE_PREFIX}{flag[:1]}{plu.zfill(5)}{grams:05d}"
    return payload + str(gtin_check_digit(payload))


def _scale_item(text: str) -> ScannedItem:
    if gtin_check_digit(text[:12]) != int(text[12]):
        raise InvalidBarcode(
            _("The check digit does not match."), code="bad_check_digit", barcode=text
        )
    plu, grams = text[2:7], int(text[7:12])
    if grams <= 0:
        raise InvalidScaleBarcode(_("The scale barcode carries no weight."), barcode=text)
    sku = _sku_by_plu(plu)
    if sku is None:
        raise UnknownBarcode(barcode=text, plu=plu)
    if not sku.is_weighed:
        raise InvalidScaleBarcode(
            _("Scale barcodes are only for weighed SKUs (sold per kg)."),
            barcode=text,
            sku=sku.code,
        )
    if not sku.is_active:
        raise InvalidBarcode(_("This SKU is inactive."), code="inactive_sku", sku=sku.code)
    return ScannedItem(sku=sku, quantity=grams, barcode=text)


def _sku_by_plu(plu: str) -> Sku | None:
    keys = list(dict.fromkeys([plu, plu.lstrip("0") or "0"]))
    barcode = (
        Barcode.objects.select_related("sku")
        .filter(code__in=keys, kind=BarcodeKind.INTERNAL)
        .order_by("code")
        .first()
    )
    if barcode is not None:
        return barcode.sku
    return Sku.objects.filter(code__in=keys).order_by("code").first()


def check_quantity(sku: Sku, quantity: int) -> None:
    """Weighed SKUs: kg with up to 3 decimals (any positive thousandths); others whole."""
    if quantity <= 0:
        raise WholeQuantityRequired(
            _("Quantity must be greater than zero."), code="invalid_quantity", sku=sku.code
        )
    if not sku.is_weighed and quantity % 1000:
        raise WholeQuantityRequired(sku=sku.code, quantity=str(milli_to_qty(quantity)))
