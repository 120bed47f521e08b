"""Catalog use cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from chainstore.catalog.barcodes import ParsedScan, gtin_lookup_keys, normalise_barcode, parse_scan
from chainstore.catalog.errors import InvalidBarcode, UnknownBarcode
from chainstore.catalog.models import Barcode, Brand, Category, Sku, Tracking
from chainstore.core import audit
from chainstore.core.errors import Conflict, ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.inventory.selectors import sku_has_moves

SKU_FIELDS = {
    "name",
    "category",
    "brand",
    "base_unit",
    "tracking",
    "shelf_life_days",
    "weight_g",
    "volume_cm3",
    "storage",
    "retail_price_fen",
    "standard_cost_micros",
    "is_active",
}


@transaction.atomic
def create_category(
    *, code: str, name: str, parent: Category | None = None, actor: Any
) -> Category:
    ensure_can(actor, "catalog.manage")
    if Category.objects.filter(code=code).exists():
        raise Conflict("A category with this code exists.", code="duplicate_category", code_=code)
    category = Category.objects.create(code=code, name=name, parent=parent)
    audit.record(actor=actor, action="category.create", obj=category, to_state="active")
    return category


def get_or_create_brand(name: str) -> Brand:
    brand, _ = Brand.objects.get_or_create(name=name.strip())
    return brand


@transaction.atomic
def create_sku(
    *,
    code: str,
    name: str,
    actor: Any,
    barcodes: list[tuple[str, str]] | None = None,
    **fields: Any,
) -> Sku:
    """Create a SKU with its barcodes [(code, kind)]; the first barcode is primary."""
    ensure_can(actor, "catalog.manage")
    _check_sku_fields(fields)
    code = code.strip()
    if not code or not name.strip():
        raise ValidationFailed("SKU code and name are required.", code="missing_field")
    if Sku.objects.filter(code=code).exists():
        raise Conflict("A SKU with this code exists.", code="duplicate_sku", sku_code=code)
    sku = Sku.objects.create(code=code, name=name.strip(), **fields)
    for i, (barcode, kind) in enumerate(barcodes or []):
        _add_barcode(sku, barcode, kind, primary=i == 0)
    audit.record(actor=actor, action="sku.create", obj=sku, to_state="active")
    return sku


@transaction.atomic
def update_sku(*, sku: Sku, actor: Any, **fields: Any) -> Sku:
    ensure_can(actor, "catalog.manage")
    _check_sku_fields(fields)
    _check_tracking_change(sku, fields)
    audit.save_changes(sku, fields, actor=actor, action="sku.update")
    return sku


def _check_tracking_change(sku: Sku, fields: dict[str, Any]) -> None:
    """Tracking is fixed once stock has moved: lots on the ledger would no longer match."""
    if "tracking" not in fields or fields["tracking"] == sku.tracking:
        return
    if sku_has_moves(sku=sku):
        raise Conflict(
            "The SKU has stock moves; its tracking can no longer change.",
            code="tracking_locked",
            sku=sku.code,
        )


@transaction.atomic
def update_category(
    *, category: Category, name: str, parent: Category | None, actor: Any
) -> Category:
    """Rename a category and/or move it under another parent (None = top level)."""
    ensure_can(actor, "catalog.manage")
    name = name.strip()
    if not name:
        raise ValidationFailed("The category name is required.", code="missing_field")
    # Lock every category row in id order: concurrent moves cannot build a cycle together.
    parents = dict(
        Category.objects.select_for_update().order_by("pk").values_list("pk", "parent_id")
    )
    node = parent.pk if parent is not None else None
    seen: set[int] = set()
    while node is not None and node not in seen:
        seen.add(node)
        if node == category.pk:
            raise ValidationFailed(
                "A category cannot be moved under itself or one of its subcategories.",
                code="category_cycle",
                category=category.code,
            )
        node = parents.get(node)
    before = {"name": category.name, "parent": category.parent_id}
    category.name = name
    category.parent = parent
    category.save(update_fields=["name", "parent"])
    audit.record(
        actor=actor,
        action="category.update",
        obj=category,
        data={
            "name": [before["name"], name],
            "parent": [before["parent"], parent.pk if parent else None],
        },
    )
    return category


@transaction.atomic
def add_barcode(*, sku: Sku, code: str, kind: str, actor: Any, primary: bool = False) -> Barcode:
    ensure_can(actor, "catalog.manage")
    barcode = _add_barcode(sku, code, kind, primary=primary)
    audit.record(actor=actor, action="barcode.add", obj=sku, data={"barcode": barcode.code})
    return barcode


def _add_barcode(sku: Sku, code: str, kind: str, *, primary: bool) -> Barcode:
    code = normalise_barcode(code, kind)
    try:
        with transaction.atomic():
            return Barcode.objects.create(sku=sku, code=code, kind=kind, is_primary=primary)
    except IntegrityError:
        raise Conflict(
            "This barcode already belongs to a SKU.", code="duplicate_barcode", barcode=code
        ) from None


def _check_sku_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - SKU_FIELDS
    if unknown:
        raise ValidationFailed("Unknown SKU fields.", code="unknown_field", fields=sorted(unknown))
    if "tracking" in fields and fields["tracking"] not in Tracking.values:
        raise ValidationFailed("Tracking is none, lot or serial.", code="invalid_tracking")
    for money in ("retail_price_fen", "standard_cost_micros"):
        if fields.get(money) is not None and fields[money] < 0:
            raise ValidationFailed("Prices and costs cannot be negative.", code="negative_amount")


@dataclass(frozen=True)
class ScanResult:
    sku: Sku
    parsed: ParsedScan
    barcode: str

    @property
    def lot(self) -> str | None:
        return self.parsed.lot

    @property
    def expiry(self) -> dt.date | None:
        return self.parsed.expiry

    @property
    def serial(self) -> str | None:
        return self.parsed.serial


def resolve_scan(raw: str) -> ScanResult:
    """Any raw scan -> SKU (+ lot, expiry, serial when the code carries them)."""
    parsed = parse_scan(raw)
    if parsed.gtin is not None:
        keys = gtin_lookup_keys(parsed.gtin)
    else:
        keys = [parsed.lookup_code or ""]
    barcode = Barcode.objects.select_related("sku").filter(code__in=keys).first()
    if barcode is None and parsed.kind == "internal":
        sku = Sku.objects.filter(code=parsed.lookup_code).first()
        if sku is not None:
            return ScanResult(sku=sku, parsed=parsed, barcode=sku.code)
    if barcode is None:
        raise UnknownBarcode(barcode=parsed.gtin or parsed.lookup_code)
    if not barcode.sku.is_active:
        raise InvalidBarcode("This SKU is inactive.", code="inactive_sku", sku=barcode.sku.code)
    return ScanResult(sku=barcode.sku, parsed=parsed, barcode=barcode.code)
