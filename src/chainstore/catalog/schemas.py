from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

from chainstore.core.schemas import Fen, MicroCost


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
    category: str | None = Field(None, alias="category.code")
    brand: str | None = Field(None, alias="brand.name")
    base_unit: str
    tracking: str
    shelf_life_days: int | None
    weight_g: int | None = None
    volume_cm3: int | None = None
    storage: str
    retail_price: Fen = Field(alias="retail_price_fen")
    standard_cost: MicroCost = Field(alias="standard_cost_micros")
    is_active: bool
    barcodes: list[BarcodeOut]


class SkuIn(Schema):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    category: str | None = None
    brand: str | None = None
    base_unit: str = "pcs"
    tracking: str = "none"
    shelf_life_days: int | None = Field(default=None, ge=0)
    weight_g: int | None = Field(default=None, ge=0, le=10_000_000)
    volume_cm3: int | None = Field(default=None, ge=0, le=100_000_000)
    storage: str = "ambient"
    retail_price: Decimal = Field(default=Decimal(0), ge=0, decimal_places=2)
    standard_cost: Decimal = Field(default=Decimal(0), ge=0, decimal_places=6)
    barcodes: list[BarcodeIn] = []


class SkuPatch(Schema):
    name: str | None = None
    category: str | None = None
    brand: str | None = None
    shelf_life_days: int | None = Field(default=None, ge=0)
    weight_g: int | None = Field(default=None, ge=0, le=10_000_000)
    volume_cm3: int | None = Field(default=None, ge=0, le=100_000_000)
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
