# No `from __future__ import annotations` here: ninja must see Query[...] as a real type.
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from chainstore.catalog import selectors, services
from chainstore.catalog.models import Category
from chainstore.catalog.schemas import (
    BarcodeIn,
    BarcodeOut,
    CategoryIn,
    CategoryOut,
    ScanOut,
    SkuIn,
    SkuOut,
    SkuPatch,
)
from chainstore.core.errors import NotFound
from chainstore.core.pagination import LimitOffsetPagination
from chainstore.core.permissions import ensure_can
from chainstore.core.quantities import cost_to_micros, money_to_fen

router = Router()


class SkuFilter(Schema):
    search: str = ""
    category: str | None = None
    tracking: str = ""
    active: bool | None = None


def _category(code: str | None) -> Category | None:
    if not code:
        return None
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise NotFound("Unknown category.", code="category_not_found", category=code)
    return category


@router.get("/skus", response=list[SkuOut])
@paginate(LimitOffsetPagination)
def list_skus(request: HttpRequest, filters: Query[SkuFilter]) -> Any:
    ensure_can(request.user, "catalog.view")
    category = _category(filters.category)
    qs = selectors.list_skus(
        search=filters.search,
        category_id=category.pk if category else None,
        tracking=filters.tracking,
        active=filters.active,
    )
    return qs.prefetch_related("barcodes")


@router.post("/skus", response={201: SkuOut})
def create_sku(request: HttpRequest, payload: SkuIn) -> Status:
    brand = services.get_or_create_brand(payload.brand) if payload.brand else None
    sku = services.create_sku(
        code=payload.code,
        name=payload.name,
        actor=request.user,
        barcodes=[(b.code, b.kind) for b in payload.barcodes],
        category=_category(payload.category),
        brand=brand,
        base_unit=payload.base_unit,
        tracking=payload.tracking,
        shelf_life_days=payload.shelf_life_days,
        weight_g=payload.weight_g,
        volume_cm3=payload.volume_cm3,
        storage=payload.storage,
        retail_price_fen=money_to_fen(payload.retail_price),
        standard_cost_micros=cost_to_micros(payload.standard_cost),
    )
    return Status(201, SkuOut.from_orm(selectors.get_sku(sku_id=sku.pk)))


@router.get("/skus/{code}", response=SkuOut)
def get_sku(request: HttpRequest, code: str) -> SkuOut:
    ensure_can(request.user, "catalog.view")
    return SkuOut.from_orm(selectors.get_sku(code=code))


@router.patch("/skus/{code}", response=SkuOut)
def update_sku(request: HttpRequest, code: str, payload: SkuPatch) -> SkuOut:
    sku = selectors.get_sku(code=code)
    data = payload.dict(exclude_unset=True)
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if key == "category":
            fields["category"] = _category(value)
        elif key == "brand":
            fields["brand"] = services.get_or_create_brand(value) if value else None
        elif key == "retail_price":
            fields["retail_price_fen"] = money_to_fen(value)
        elif key == "standard_cost":
            fields["standard_cost_micros"] = cost_to_micros(value)
        else:
            fields[key] = value
    services.update_sku(sku=sku, actor=request.user, **fields)
    return SkuOut.from_orm(selectors.get_sku(code=code))


@router.post("/skus/{code}/barcodes", response={201: BarcodeOut})
def add_barcode(request: HttpRequest, code: str, payload: BarcodeIn) -> Status:
    sku = selectors.get_sku(code=code)
    barcode = services.add_barcode(
        sku=sku, code=payload.code, kind=payload.kind, actor=request.user
    )
    out = BarcodeOut(code=barcode.code, kind=barcode.kind, is_primary=barcode.is_primary)
    return Status(201, out)


@router.get("/categories", response=list[CategoryOut])
def list_categories(request: HttpRequest) -> list[CategoryOut]:
    ensure_can(request.user, "catalog.view")
    return [
        CategoryOut(id=c.pk, code=c.code, name=c.name, parent=c.parent.code if c.parent else None)
        for c in selectors.list_categories()
    ]


@router.post("/categories", response={201: CategoryOut})
def create_category(request: HttpRequest, payload: CategoryIn) -> Status:
    category = services.create_category(
        code=payload.code, name=payload.name, parent=_category(payload.parent), actor=request.user
    )
    out = CategoryOut(id=category.pk, code=category.code, name=category.name, parent=payload.parent)
    return Status(201, out)


@router.get("/scan", response=ScanOut)
def scan(request: HttpRequest, code: str) -> ScanOut:
    """Resolve any raw scan: EAN-13/UPC-A, GS1-128/DataMatrix element strings (AIs 01, 10,
    17, 21; HRI with parentheses or FNC1 as GS / `%1D`), RFID EPC, or an internal code."""
    ensure_can(request.user, "catalog.view")
    result = services.resolve_scan(code)
    return ScanOut(
        kind=result.parsed.kind,
        barcode=result.barcode,
        gtin=result.parsed.gtin,
        # the ORM row, not a SkuOut: nested schema instances fail ninja's resolvers
        sku=selectors.get_sku(sku_id=result.sku.pk),  # type: ignore[arg-type]
        lot=result.lot,
        expiry=result.expiry,
        serial=result.serial,
    )
