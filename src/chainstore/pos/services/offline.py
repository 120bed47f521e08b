"""The store catalog an offline till keeps: every sellable SKU with its barcodes and the
store's current price, so the till can go on scanning and pricing when the server is out
of reach (its sales are uploaded later through `batch.upload_batch`).

A row per active SKU::

    {"code": "MILK1L", "name": "光明鲜牛奶 1L", "unit": "pcs", "weighed": false,
     "barcodes": ["6900000880001", "00123"], "plu": ["00123"],
     "price": "12.50", "tax_rate_bp": 1300}

`barcodes` are every registered code (EAN/UPC/GTIN-14, internal codes, EPC); `plu` the
internal codes among them, which is what an in-store scale barcode ``2 F PPPPP WWWWW C``
names (the SKU code also works as a PLU, as at the till). `price` is the store's price
now (per kg for weighed goods): store price lists, then chain-wide lists, then the SKU's
retail price, exactly as `pricing.store_prices` resolves it. No promotions: the till sells
offline at these prices and says so.

`version` is a hash of the store and the rows (not of the time), so the till revalidates
with ``If-None-Match`` and gets 304 while nothing changed. `next_change_at` is the next
moment a price list starts or ends, when the till should fetch again.

The work is a fixed number of queries whatever the number of SKUs: the SKUs, their
barcodes, the price lists' next boundary and the store prices (one query per
`PRICE_CHUNK` SKUs, to stay under the database's parameter limits).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from django.db.models import Min, Q
from django.utils import timezone

from chainstore.catalog.models import Barcode, BarcodeKind, Sku
from chainstore.core.permissions import ensure_can
from chainstore.core.quantities import fen_to_money
from chainstore.pos.models import PriceList
from chainstore.pos.services.pricing import store_prices
from chainstore.sites.models import Site

__all__ = ["PRICE_CHUNK", "StoreCatalog", "store_catalog"]

PRICE_CHUNK = 10_000


class _Row(NamedTuple):
    """What the catalog reads of a SKU (lighter than model instances, for 20k rows)."""

    pk: int
    code: str
    name: str
    base_unit: str
    retail_price_fen: int
    tax_rate_bp: int


@dataclass(frozen=True)
class StoreCatalog:
    store: Site
    generated_at: dt.datetime
    next_change_at: dt.datetime | None
    version: str
    skus: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store.code,
            "version": self.version,
            "generated_at": self.generated_at.isoformat(),
            "next_change_at": self.next_change_at.isoformat() if self.next_change_at else None,
            "count": len(self.skus),
            "skus": self.skus,
        }


def store_catalog(*, store: Site, actor: Any, at: dt.datetime | None = None) -> StoreCatalog:
    """The store's sellable SKUs with barcodes and current prices (pos.sell at the store)."""
    ensure_can(actor, "pos.sell", sites=[store.pk])
    at = at or timezone.now()
    skus = [
        _Row(*values)
        for values in Sku.objects.filter(is_active=True)
        .order_by("code")
        .values_list("id", "code", "name", "base_unit", "retail_price_fen", "tax_rate_bp")
    ]
    codes: dict[int, list[str]] = defaultdict(list)
    plus: dict[int, list[str]] = defaultdict(list)
    for sku_id, code, kind in (
        Barcode.objects.filter(sku__is_active=True)
        .order_by("sku_id", "-is_primary", "code")
        .values_list("sku_id", "code", "kind")
    ):
        codes[sku_id].append(code)
        if kind == BarcodeKind.INTERNAL:
            plus[sku_id].append(code)
    prices: dict[int, int] = {}
    for start in range(0, len(skus), PRICE_CHUNK):
        chunk = cast("list[Sku]", skus[start : start + PRICE_CHUNK])  # needs pk + retail price
        prices.update(store_prices(store=store, skus=chunk, at=at))
    rows = [
        {
            "code": sku.code,
            "name": sku.name,
            "unit": sku.base_unit,
            "weighed": sku.base_unit == "kg",  # as Sku.is_weighed
            "barcodes": codes.get(sku.pk, []),
            "plu": plus.get(sku.pk, []),
            "price": str(fen_to_money(prices[sku.pk])),
            "tax_rate_bp": sku.tax_rate_bp,
        }
        for sku in skus
    ]
    digest = hashlib.sha256(store.code.encode())
    digest.update(json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode())
    return StoreCatalog(
        store=store,
        generated_at=at,
        next_change_at=_next_price_change(store, at),
        version=digest.hexdigest()[:32],
        skus=rows,
    )


def _next_price_change(store: Site, at: dt.datetime) -> dt.datetime | None:
    """The next start or end of an active price list that applies to the store."""
    lists = PriceList.objects.filter(is_active=True).filter(
        Q(stores__isnull=True) | Q(stores=store)
    )
    bounds = lists.aggregate(
        start=Min("valid_from", filter=Q(valid_from__gt=at)),
        end=Min("valid_to", filter=Q(valid_to__gt=at)),
    )
    found = [b for b in (bounds["start"], bounds["end"]) if b is not None]
    return min(found) if found else None
