"""Stock counts (盘点): a frozen snapshot of book stock, counted lines, entries per counter.

Quantities are integer thousandths of the base unit; unit costs micro-yuan; values fen.

A line's *expected* quantity is the book quantity at the moment it was counted:
snapshot + net ledger moves for its key with `snapshot_move_id < id <= count_move_id`.
Variance = counted - expected, so sales and receipts during the count are accounted for.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chainstore.catalog.models import Sku
from chainstore.inventory.models import Lot, StockOperation
from chainstore.sites.models import Location, Site, Zone


class CountScope(models.TextChoices):
    FULL = "full", _("Full site")
    ZONE = "zone", _("Zone")
    SKUS = "skus", _("SKU set")


class CountStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    COUNTING = "counting", _("Counting")
    APPROVED = "approved", _("Approved")
    CANCELLED = "cancelled", _("Cancelled")


class StockCount(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=8, choices=CountScope.choices, default=CountScope.FULL)
    zone = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    skus = models.ManyToManyField(Sku, blank=True, related_name="+")
    status = models.CharField(
        max_length=10, choices=CountStatus.choices, default=CountStatus.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    snapshot_move_id = models.BigIntegerField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    operation = models.ForeignKey(
        StockOperation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approve_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    request_hash = models.CharField(max_length=64, blank=True, default="")
    # Results fixed at approval (live figures come from selectors before that).
    lines_counted = models.IntegerField(null=True, blank=True)
    lines_accurate = models.IntegerField(null=True, blank=True)
    gain_value_fen = models.BigIntegerField(null=True, blank=True)
    loss_value_fen = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["site", "status"], name="count_site_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope="zone", zone__isnull=False) | ~Q(scope="zone"),
                name="count_zone_scope_has_zone",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"

    @property
    def accuracy(self) -> float | None:
        """Share of counted lines with no variance (fixed at approval)."""
        if not self.lines_counted:
            return None
        return (self.lines_accurate or 0) / self.lines_counted


class CountLine(models.Model):
    """One balance key (location x sku x lot) of a count."""

    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    snapshot_qty = models.BigIntegerField(default=0)
    in_snapshot = models.BooleanField(default=True)
    counted_qty = models.BigIntegerField(null=True, blank=True)
    expected_qty = models.BigIntegerField(null=True, blank=True)
    count_move_id = models.BigIntegerField(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)
    round = models.PositiveSmallIntegerField(default=1)
    recount = models.BooleanField(default=False)
    previous_counted_qty = models.BigIntegerField(null=True, blank=True)
    unit_cost_micros = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["location_id", "sku_id", "lot_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["count", "location", "sku", "lot"],
                name="count_line_key_with_lot",
                condition=Q(lot__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["count", "location", "sku"],
                name="count_line_key_without_lot",
                condition=Q(lot__isnull=True),
            ),
            models.CheckConstraint(
                condition=Q(counted_qty__isnull=True) | Q(counted_qty__gte=0),
                name="count_line_counted_not_negative",
            ),
        ]

    @property
    def variance(self) -> int | None:
        if self.counted_qty is None or self.expected_qty is None:
            return None
        return self.counted_qty - self.expected_qty

    @property
    def status(self) -> str:
        if self.counted_qty is not None:
            return "counted"
        return "recount" if self.recount else "pending"


class CountEntry(models.Model):
    """One counter's recording for a line. Within a round, entries add up (several counters
    may count parts of one bin); a `replace` entry sets the line's total instead; a recount
    starts a new round whose entries replace the previous round's count."""

    line = models.ForeignKey(CountLine, on_delete=models.CASCADE, related_name="entries")
    counter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.BigIntegerField()
    replace = models.BooleanField(default=False)
    round = models.PositiveSmallIntegerField(default=1)
    raw_scan = models.CharField(max_length=200, blank=True, default="")
    recorded_at = models.DateTimeField(auto_now_add=True)
    client_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="count_entry_not_negative")
        ]
