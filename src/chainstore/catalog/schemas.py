from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

from chainstore.catalog.models import Sku
from chainstore.core.quantities import fen_to_money, micros_to_cost


class BarcodeOut(Schema):
    code: str
    kind: str
    is_primary: bool


class BarcodeIn(Schema):
    code: str = Field(min_length=1, max_length=64)
    kind: str = "ean13"


class SkuOut(Schema):
    id: int
    code: str
    name: str
    category: str | None
    brand: str | None
    base_unit: str
    tracking: str
    shelf_life_days: int | None
    storage: str
    retail_price: Decimal
    standard_cost: Decimal
    is_active: bool
    barcodes: list[BarcodeOut]

    @staticmethod
    def resolve_category(obj: Sku) -> str | None:
        return obj.category.code if obj.category else None

    @staticmethod
    def resolve_brand(obj: Sku) -> str | None:
        return obj.brand.name if obj.brand else None

    @staticmethod
    def resolve_retail_price(obj: Sku) -> Decimal:
        return fen_to_money(obj.retail_price_fen)

    @staticmethod
    def resolve_standard_cost(obj: Sku) -> Decimal:
        return micros_to_cost(obj.standard_cost_micros)

    @staticmethod
    def resolve_barcodes(obj: Sku) -> list[BarcodeOut]:
        return [
            BarcodeOut(code=b.code, kind=b.kind, is_primary=b.is_primary)
            for b in obj.barcodes.all()
        ]

    @staticmethod
    def from_sku(sku: Sku) -> SkuOut:
        return SkuOut.from_orm(sku)


class SkuIn(Schema):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    category: str | None = None
    brand: str | None = None
    base_unit: str = "pcs"
    tracking: str = "none"
    shelf_life_days: int | None = Field(default=None, ge=0)
    storage: str = "ambient"
    retail_price: Decimal = Field(default=Decimal(0), ge=0, decimal_places=2)
    standard_cost: Decimal = Field(default=Decimal(0), ge=0, decimal_places=6)
    barcodes: list[BarcodeIn] = []


class SkuPatch(Schema):
    name: str | None = None
    category: str | None = None
    brand: str | None = None
    shelf_life_days: int | None = Field(default=None, ge=0)
    storage: str | None = None
    retail_price: Decimal | None = Field(default=None, ge=0, decimal_places=2)
    standard_cost: Decimal | None = Field(default=None, ge=0, decimal_places=6)
    is_active: bool | None = None


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    parent: str | None


class CategoryIn(Schema):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    parent: str | None = None


class ScanOut(Schema):
    kind: str
    barcode: str
    gtin: str | None
    sku: SkuOut
    lot: str | None
    expiry: dt.date | None
    serial: str | None
