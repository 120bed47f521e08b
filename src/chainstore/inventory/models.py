"""The stock ledger: immutable double-entry moves, and balances kept in step with them.

Quantities are integers in thousandths of the SKU's base unit; unit costs are integers
in micro-yuan per base unit (see chainstore.core.quantities).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from chainstore.catalog.models import Sku
from chainstore.sites.models import Location, Site


class Lot(models.Model):
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="lots")
    number = models.CharField(max_length=64)
    expiry_date = models.DateField(null=True, blank=True)
    first_received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sku", "number"], name="lot_unique_per_sku")]
        indexes = [models.Index(fields=["expiry_date"], name="lot_expiry_idx")]

    def __str__(self) -> str:
        return self.number


class OperationKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    PUTAWAY = "putaway", _("Put-away")
    MOVE = "move", _("Bin move")
    ISSUE = "issue", _("Issue")
    ADJUSTMENT = "adjustment", _("Adjustment")
    RESERVE = "reserve", _("Reservation")
    RELEASE = "release", _("Release")
    COUNT = "count", _("Count adjustment")
    SCRAP = "scrap", _("Write-off")
    OPENING = "opening", _("Opening stock")
    RETURN = "return", _("Customer return")
    PICK = "pick", _("Pick")
    SHIPMENT = "shipment", _("Outbound shipment")


class StockOperation(models.Model):
    """The document header of one posting: what happened, by whom, under which client key."""

    kind = models.CharField(max_length=12, choices=OperationKind.choices)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT)
    reference = models.CharField(max_length=100, blank=True, default="")
    partner = models.CharField(max_length=100, blank=True, default="")
    note = models.CharField(max_length=500, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    request_hash = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class StockMove(models.Model):
    """One immutable ledger entry: quantity of sku/lot from one location to another."""

    operation = models.ForeignKey(StockOperation, on_delete=models.PROTECT, related_name="moves")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    from_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    to_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    unit_cost_micros = models.BigIntegerField(default=0)
    reason = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="move_quantity_positive"),
            models.CheckConstraint(
                condition=~Q(from_location=F("to_location")), name="move_between_two_locations"
            ),
        ]
        indexes = [
            models.Index(fields=["sku", "from_location", "id"], name="move_sku_from_idx"),
            models.Index(fields=["sku", "to_location", "id"], name="move_sku_to_idx"),
            models.Index(fields=["created_at"], name="move_created_idx"),
        ]

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("Stock moves are immutable")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class BalanceQuerySet(models.QuerySet["Balance"]):
    def at_site(self, site: Site | int) -> BalanceQuerySet:
        return self.filter(site=site)

    def nonzero(self) -> BalanceQuerySet:
        return self.filter(~Q(on_hand=0) | ~Q(reserved=0))

    def with_available(self) -> BalanceQuerySet:
        return self.annotate(available=F("on_hand") - F("reserved"))


class Balance(models.Model):
    """On hand and reserved per physical location x sku x lot; maintained with each move."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="balances")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="balances")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    on_hand = models.BigIntegerField(default=0)
    reserved = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BalanceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["location", "sku", "lot"],
                name="balance_key_with_lot",
                condition=Q(lot__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["location", "sku"],
                name="balance_key_without_lot",
                condition=Q(lot__isnull=True),
            ),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="balance_reserved_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["sku", "site"], name="balance_sku_site_idx"),
            models.Index(fields=["site", "location"], name="balance_site_location_idx"),
        ]


class SiteSku(models.Model):
    """Per site x sku: total on hand (internal locations), moving-average cost, safety stock."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="site_stock")
    on_hand = models.BigIntegerField(default=0)
    avg_cost_micros = models.BigIntegerField(default=0)
    safety_stock = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "sku"], name="site_sku_unique")]
        indexes = [models.Index(fields=["sku"], name="site_sku_sku_idx")]


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RELEASED = "released", _("Released")
    CONSUMED = "consumed", _("Consumed")


class Reservation(models.Model):
    operation = models.ForeignKey(
        StockOperation, on_delete=models.PROTECT, related_name="reservations"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    open_quantity = models.BigIntegerField()
    reference = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="reservation_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(open_quantity__gte=0) & Q(open_quantity__lte=F("quantity")),
                name="reservation_open_within_quantity",
            ),
        ]
