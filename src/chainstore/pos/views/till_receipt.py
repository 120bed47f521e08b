"""The receipt print view's data: one stored sale (or return) with its lines, discounts,
promotions, VAT, tenders and points, read in a fixed handful of queries."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zoneinfo
from dataclasses import dataclass
from typing import Any

import barcode
import barcode.writer
from django.utils.safestring import SafeString, mark_safe

from chainstore.pos import selectors
from chainstore.pos.models import PointsEntry, Sale, SaleKind, StoreSettings
from chainstore.pos.services.pricing import stored_explanation

SVG_NS = "http://www.w3.org/2000/svg"
_ALLOWED = {
    "svg": {"width", "height", "version", "viewBox"},
    "g": set(),
    "rect": {"x", "y", "width", "height", "style"},
    "text": {"x", "y", "style"},
}
_BARCODE_OPTIONS = {
    "module_width": 0.2,
    "module_height": 9.0,
    "quiet_zone": 2.0,
    "write_text": False,
}


def get_receipt_sale(*, actor: Any, sale_id: int) -> Sale:
    """The sale with everything its receipt shows, if the actor may read the store's sales."""
    return selectors.get_sale(sale_id=sale_id, actor=actor)


@dataclass(frozen=True)
class VatRow:
    rate_bp: int
    tax_fen: int

    @property
    def rate_percent(self) -> str:
        return f"{self.rate_bp / 100:g}"


def receipt_context(sale: Sale) -> dict[str, Any]:
    settings = StoreSettings.objects.filter(site=sale.site).first()
    lines = list(sale.lines.all())
    vat: dict[int, int] = {}
    for line in lines:
        vat[line.tax_rate_bp] = vat.get(line.tax_rate_bp, 0) + line.tax_fen
    tenders = list(sale.tenders.all())
    last_points = (
        PointsEntry.objects.filter(sale=sale)
        .order_by("-id")
        .values_list("balance_after", flat=True)
        .first()
    )
    return {
        "sale": sale,
        "is_return": sale.kind == SaleKind.RETURN,
        "lines": lines,
        "promotions": [_promotion(p) for p in sale.promotions or [] if isinstance(p, dict)],
        "vat": [VatRow(rate, tax) for rate, tax in sorted(vat.items()) if tax],
        "tenders": tenders,
        "change_fen": sum(t.change_fen for t in tenders),
        "points_balance": last_points,
        "header": settings.receipt_header if settings else "",
        "footer": settings.receipt_footer if settings else "",
        "tz": zoneinfo.ZoneInfo(sale.site.timezone or "Asia/Shanghai"),
        "number_barcode": number_barcode(sale.number),
    }


def _promotion(data: dict[str, Any]) -> dict[str, Any]:
    """A stored promotion entry in one shape (amounts in fen or as decimal strings)."""
    return {
        "code": str(data.get("code", "")),
        "name": str(data.get("name", "")),
        "kind": str(data.get("kind", "")),
        "amount_fen": _fen(data, "amount"),
        "gift_value_fen": _fen(data, "gift_value"),
        "explanation": stored_explanation(data),
    }


def _fen(data: dict[str, Any], name: str) -> int:
    if f"{name}_fen" in data:
        return int(data[f"{name}_fen"] or 0)
    from chainstore.core.quantities import money_to_fen

    try:
        return money_to_fen(str(data.get(name) or "0"))
    except (ValueError, ArithmeticError):
        return 0


def number_barcode(number: str) -> SafeString:
    """The receipt number as an inline Code 128 SVG, for scanning it back at a return."""
    symbol = barcode.get("code128", number, writer=barcode.writer.SVGWriter())
    out = io.BytesIO()
    symbol.write(out, options=_BARCODE_OPTIONS)
    source = ET.fromstring(out.getvalue())  # our own library's output, rebuilt below
    return mark_safe(ET.tostring(_copy(source), encoding="unicode", short_empty_elements=True))


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
        if isinstance(child.tag, str):
            clean.append(_copy(child))
    return clean
