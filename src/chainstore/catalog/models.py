from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def path(self) -> list[Category]:
        node: Category | None = self
        out: list[Category] = []
        while node is not None and len(out) < 20:
            out.append(node)
            node = node.parent
        return list(reversed(out))


class Brand(models.Model):
    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class Tracking(models.TextChoices):
    NONE = "none", _("None")
    LOT = "lot", _("Lot")
    SERIAL = "serial", _("Serial")


class Storage(models.TextChoices):
    AMBIENT = "ambient", _("Ambient")
    CHILLED = "chilled", _("Chilled")
    FROZEN = "frozen", _("Frozen")


class Sku(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT)
    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.PROTECT)
    base_unit = models.CharField(max_length=16, default="pcs")
    tracking = models.CharField(max_length=8, choices=Tracking.choices, default=Tracking.NONE)
    shelf_life_days = models.PositiveIntegerField(null=True, blank=True)
    storage = models.CharField(max_length=8, choices=Storage.choices, default=Storage.AMBIENT)
    retail_price_fen = models.BigIntegerField(default=0)
    standard_cost_micros = models.BigIntegerField(default=0)
    # VAT rate in basis points (1300 = 13%); selling prices include it (价内税).
    tax_rate_bp = models.PositiveIntegerField(default=1300)
    # Per base unit (pcs, or kg for weighed goods): drives shipping cost, the outbound weight
    # check and freight allocation. Unknown stays null.
    weight_g = models.PositiveIntegerField(null=True, blank=True)
    volume_cm3 = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(retail_price_fen__gte=0), name="sku_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(standard_cost_micros__gte=0), name="sku_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_lot_tracked(self) -> bool:
        return self.tracking != Tracking.NONE

    @property
    def is_weighed(self) -> bool:
        """Sold by weight: quantities are grams of a kg SKU, prices per kg."""
        return self.base_unit == "kg"


class BarcodeKind(models.TextChoices):
    EAN13 = "ean13", "EAN-13"
    UPCA = "upca", "UPC-A"
    GTIN14 = "gtin14", "GTIN-14"
    INTERNAL = "internal", _("Internal code")
    EPC = "epc", "RFID EPC"


class Barcode(models.Model):
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="barcodes")
    code = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=BarcodeKind.choices)
    is_primary = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.code
