"""The store catalog for offline tills (/api/v1/pos/catalog).

The till caches it and, when the server is out of reach, scans and prices from it at the
store's prices (no promotions); its sales are uploaded later with `POST /batches`.
"""

# No `from __future__ import annotations` here: ninja must see the real parameter types.
import datetime as dt
import json

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string
from ninja import Field, Router, Schema

from chainstore.pos.services.offline import store_catalog
from chainstore.sites.selectors import get_site

router = Router()

GZIP_MIN_BYTES = 1024


class CatalogSkuOut(Schema):
    code: str
    name: str
    unit: str = Field(description="Base unit; `kg` for weighed goods (price per kg)")
    weighed: bool
    barcodes: list[str] = Field(description="Every registered code (EAN/UPC/GTIN, internal)")
    plu: list[str] = Field(description="Internal codes: the PLU of in-store scale barcodes")
    price: str = Field(description="The store's price now, in yuan", examples=["12.50"])
    tax_rate_bp: int = Field(description="VAT included in the price, basis points (1300=13%)")


class CatalogOut(Schema):
    store: str
    version: str = Field(description="Changes when any row changes; also the ETag")
    generated_at: dt.datetime
    next_change_at: dt.datetime | None = Field(
        description="Next start or end of a price list: fetch again then"
    )
    count: int
    skus: list[CatalogSkuOut]


@router.get("/catalog", response=CatalogOut)
def catalog(request: HttpRequest, store: str) -> HttpResponse:
    """The store's sellable SKUs, barcodes and current prices, for a till to keep and use
    when it is offline (no promotions offline). Permission pos.sell at the store.

    Send the last `ETag` as `If-None-Match`: 304 while nothing changed. gzip when the
    client accepts it (20,000 SKUs: about 3.3 MB, 0.25 MB gzipped).
    """
    site = get_site(code=store, actor=request.user)
    result = store_catalog(store=site, actor=request.user)
    etag = f'"{result.version}"'
    if etag in _etags(request.headers.get("If-None-Match", "")):
        response: HttpResponse = HttpResponseNotModified()
    else:
        body = json.dumps(result.as_dict(), ensure_ascii=False, separators=(",", ":")).encode()
        response = HttpResponse(body, content_type="application/json")
        if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("Accept-Encoding", ""):
            response.content = compress_string(body)
            response["Content-Encoding"] = "gzip"
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ("Accept-Encoding",))
    return response


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
