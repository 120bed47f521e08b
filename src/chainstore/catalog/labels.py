"""Printable shelf labels: the SKU's EAN-13 (or UPC-A) drawn as inline SVG by python-barcode.

The SVG is parsed and rebuilt from an allow-list of elements and attributes before it is
marked safe, so nothing but shapes and text can reach the page.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import barcode
import barcode.writer
from django.utils.safestring import SafeString, mark_safe

from chainstore.catalog.barcodes import is_valid_gtin
from chainstore.catalog.models import Barcode, BarcodeKind, Sku

SVG_NS = "http://www.w3.org/2000/svg"
_SYMBOLOGY: dict[str, str] = {BarcodeKind.EAN13: "ean13", BarcodeKind.UPCA: "upca"}
_LENGTH: dict[str, int] = {BarcodeKind.EAN13: 13, BarcodeKind.UPCA: 12}
_ALLOWED = {
    "svg": {"width", "height", "version", "viewBox"},
    "g": set(),
    "rect": {"x", "y", "width", "height", "style"},
    "text": {"x", "y", "style"},
}
WRITER_OPTIONS = {
    "module_width": 0.33,
    "module_height": 14.0,
    "font_size": 9,
    "text_distance": 4.0,
    "quiet_zone": 3.0,
}


def label_barcode(sku: Sku) -> Barcode | None:
    """The barcode a label shows: the primary EAN-13/UPC-A first, then any other."""
    candidates = [b for b in sku.barcodes.all() if b.kind in _SYMBOLOGY]
    candidates.sort(key=lambda b: (not b.is_primary, b.kind != BarcodeKind.EAN13, b.pk))
    return candidates[0] if candidates else None


def barcode_svg(code: str, kind: str = BarcodeKind.EAN13) -> SafeString:
    """A valid EAN-13 / UPC-A as an inline <svg> element (millimetre sized, print-true)."""
    if kind not in _SYMBOLOGY or len(code) != _LENGTH[kind] or not is_valid_gtin(code):
        raise ValueError(f"not a valid {kind}: {code!r}")
    symbol = barcode.get(_SYMBOLOGY[kind], code, writer=barcode.writer.SVGWriter())
    out = io.BytesIO()
    symbol.write(out, options=WRITER_OPTIONS)
    return mark_safe(_clean_svg(out.getvalue()))  # rebuilt from an allow-list


def _clean_svg(raw: bytes) -> str:
    source = ET.fromstring(raw)  # our own library's output
    return ET.tostring(_copy(source), encoding="unicode", short_empty_elements=True)


def _copy(node: ET.Element) -> ET.Element:
    tag = node.tag.removeprefix("{" + SVG_NS + "}")
    if tag not in _ALLOWED:
        raise ValueError(f"unexpected SVG element {tag!r}")
    clean = ET.Element(tag, {k: v for k, v in node.attrib.items() if k in _ALLOWED[tag]})
    if tag == "svg":
        clean.set("xmlns", SVG_NS)
        clean.set("role", "img")
    clean.text = node.text if tag == "text" else None
    for child in node:
        if isinstance(child.tag, str):  # comments and processing instructions are dropped
            clean.append(_copy(child))
    return clean
