from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SiteKind(models.TextChoices):
    CDC = "cdc", _("Central warehouse (CDC)")
    RDC = "rdc", _("Regional warehouse (RDC)")
    STORE = "store", _("Store")


class Site(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=SiteKind.choices)
    address = models.CharField(max_length=200, blank=True, default="")
    city = models.CharField(max_length=50, blank=True, default="")
    region = models.CharField(max_length=50, blank=True, default="")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    timezone = models.CharField(max_length=50, default="Asia/Shanghai")
    is_active = models.BooleanField(default=True)
    receiving_location = models.ForeignKey(
        "Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stock_location = models.ForeignKey(
        "Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Default selling (store) or shipping (warehouse) location.",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_warehouse(self) -> bool:
        return self.kind in (SiteKind.CDC, SiteKind.RDC)


class Zone(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="zones")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    storage = models.CharField(max_length=8, default="ambient")

    class Meta:
        ordering = ["site", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="zone_code_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site.code}/{self.code}"


class LocationKind(models.TextChoices):
    RECEIVING = "receiving", _("Receiving")
    STORAGE = "storage", _("Storage bin")
    SELLING = "selling", _("Selling floor / shipping")
    DAMAGED = "damaged", _("Damaged goods")
    # Picked goods waiting for the outbound check and shipping: held for their documents,
    # never available to another reservation, sale or issue.
    OUTBOUND = "outbound", _("Outbound staging (picked)")
    # Virtual locations: the other side of every move that enters or leaves the chain.
    SUPPLIER = "supplier", _("Supplier (virtual)")
    CUSTOMER = "customer", _("Customer (virtual)")
    TRANSIT = "transit", _("In transit (virtual)")
    ADJUSTMENT = "adjustment", _("Inventory loss/gain (virtual)")
    SCRAP = "scrap", _("Scrap (virtual)")


VIRTUAL_KINDS = {
    LocationKind.SUPPLIER,
    LocationKind.CUSTOMER,
    LocationKind.TRANSIT,
    LocationKind.ADJUSTMENT,
    LocationKind.SCRAP,
}


class Location(models.Model):
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="locations"
    )
    zone = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.PROTECT, related_name="locations"
    )
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=100, blank=True, default="")
    kind = models.CharField(max_length=12, choices=LocationKind.choices)
    is_virtual = models.BooleanField(default=False)
    aisle = models.CharField(max_length=10, blank=True, default="")
    rack = models.CharField(max_length=10, blank=True, default="")
    level = models.CharField(max_length=10, blank=True, default="")
    position = models.CharField(max_length=10, blank=True, default="")
    x = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    y = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "code"],
                name="location_code_unique_per_site",
                condition=models.Q(site__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["kind"],
                name="one_global_virtual_location_per_kind",
                condition=models.Q(site__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site.code}/{self.code}" if self.site else self.code


class WarehouseLayout(models.Model):
    """The walking layout of a site for pick routes: parallel aisles (vertical, each at an x),
    cross-aisles (horizontal, each at a y; two = one block, more = several blocks) and the
    depot where every pick route starts and ends. A bin's pick point is (the aisle x nearest
    its x, its y). Metres. Empty aisles mean the distinct x of the site's storage bins."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="layout")
    aisles = models.JSONField(default=list, help_text="x of each aisle centre line, sorted")
    cross_aisles = models.JSONField(default=list, help_text="y of each cross-aisle, sorted")
    depot_x = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    depot_y = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"layout of {self.site.code}"
