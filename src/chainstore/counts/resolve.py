"""Turn what a counter typed or scanned (location code, barcode / GS1, SKU code, lot) into
entry inputs. Reads only; codes are looked up in bulk for batch uploads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from chainstore.catalog.errors import SkuNotFound
from chainstore.catalog.models import Sku
from chainstore.catalog.services import resolve_scan
from chainstore.core.errors import ValidationFailed
from chainstore.inventory.errors import LotNotFound
from chainstore.inventory.models import Lot
from chainstore.sites.errors import LocationNotFound
from chainstore.sites.models import Location

from .models import StockCount
from .recording import EntryInput


@dataclass(frozen=True)
class EntryRow:
    location: str
    quantity: int
    scan: str | None = None
    sku: str | None = None
    lot: str | None = None
    replace: bool = False
    client_key: str | None = None


def resolve_rows(count: StockCount, rows: Sequence[EntryRow]) -> list[EntryInput]:
    """Resolve rows; a scan gives the SKU (and with GS1, the lot) unless a lot is typed."""
    locations = {
        loc.code: loc
        for loc in Location.objects.filter(
            site_id=count.site_id, code__in={r.location for r in rows}
        )
    }
    skus = {s.code: s for s in Sku.objects.filter(code__in={r.sku for r in rows if r.sku})}
    scanned: dict[str, tuple[Sku, str | None]] = {}
    for raw in {r.scan for r in rows if r.scan}:
        result = resolve_scan(raw)
        scanned[raw] = (result.sku, result.lot)
    wanted: list[tuple[Sku, str | None, EntryRow]] = []
    for row in rows:
        if row.location not in locations:
            raise LocationNotFound(site=count.site.code, location=row.location)
        if row.scan:
            sku, scan_lot = scanned[row.scan]
            wanted.append((sku, row.lot or (scan_lot if sku.is_lot_tracked else None), row))
        elif row.sku:
            if row.sku not in skus:
                raise SkuNotFound(sku=row.sku)
            wanted.append((skus[row.sku], row.lot, row))
        else:
            raise ValidationFailed(_("Give a scan or a SKU code."), code="missing_field")
    lots = _lots({(sku.pk, number) for sku, number, _row in wanted if number})
    out = []
    for sku, number, row in wanted:
        lot = None
        if number:
            lot = lots.get((sku.pk, number))
            if lot is None:
                raise LotNotFound(sku=sku.code, lot=number)
        out.append(
            EntryInput(
                location=locations[row.location],
                sku=sku,
                lot=lot,
                quantity=row.quantity,
                replace=row.replace,
                raw_scan=row.scan or "",
                client_key=row.client_key,
            )
        )
    return out


def _lots(keys: set[tuple[int, str]]) -> dict[tuple[int, str], Lot]:
    if not keys:
        return {}
    qs = Lot.objects.filter(sku_id__in={k[0] for k in keys}, number__in={k[1] for k in keys})
    return {(lot.sku_id, lot.number): lot for lot in qs if (lot.sku_id, lot.number) in keys}
