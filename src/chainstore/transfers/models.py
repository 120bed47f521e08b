"""Transfers between sites (调拨): requests, approval chains configured as data, execution
through in-transit stock, receiving with discrepancies, tracking and landed cost.

Stock path: source bins --pick (reserved at approval)--> source OUTBOUND staging --ship-->
the chain's TRANSIT virtual location --receive--> destination receiving/bins; what does not
arrive leaves transit by a resolution (carrier claim or loss write-off to inventory loss,
return to the source). So for every line: shipped == received + damaged(received into
the damaged location) + resolved short, and in transit = shipped - received - damaged -
resolved. Quantities are integer milli, money integer fen, unit costs micro-yuan.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from chainstore.catalog.models import Category, Sku
from chainstore.inventory.models import Lot, Reservation
from chainstore.sites.models import Location, Site


class TransferKind(models.TextChoices):
    REPLENISHMENT = "replenishment", _("Store request from a warehouse")
    PUSH = "push", _("Warehouse push to a store")
    STORE_TO_STORE = "store_to_store", _("Store to store")
    WAREHOUSE_TO_WAREHOUSE = "warehouse_to_warehouse", _("Warehouse to warehouse")


class TransferStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Awaiting approval")
    RETURNED = "returned", _("Returned for changes")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved")
    PICKING = "picking", _("Picking")
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", _("Received (discrepancies open)")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class CostBasis(models.TextChoices):
    WEIGHT = "weight", _("By weight")
    VOLUME = "volume", _("By volume")
    VALUE = "value", _("By value")


class Transfer(models.Model):
    number = models.CharField(max_length=30, unique=True)
    kind = models.CharField(max_length=24, choices=TransferKind.choices)
    status = models.CharField(max_length=20, choices=TransferStatus.choices)
    source = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    destination = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    needed_by = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Value at the source's moving-average cost when submitted (drives approval rules).
    value_fen = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    carrier = models.CharField(max_length=20, blank=True, default="")
    tracking_number = models.CharField(max_length=40, null=True, blank=True, unique=True)
    label = models.TextField(blank=True, default="")
    weight_g = models.PositiveIntegerField(null=True, blank=True)
    freight_fen = models.BigIntegerField(default=0)
    handling_fen = models.BigIntegerField(default=0)
    cost_basis = models.CharField(max_length=8, choices=CostBasis.choices, default=CostBasis.WEIGHT)
    ship_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    receive_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "id"], name="transfer_status_idx"),
            models.Index(fields=["destination", "shipped_at"], name="transfer_dest_shipped_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=F("destination")), name="transfer_between_two_sites"
            ),
            models.CheckConstraint(
                condition=Q(freight_fen__gte=0) & Q(handling_fen__gte=0),
                name="transfer_costs_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()  # requested (editable until approved)
    shipped = models.BigIntegerField(default=0)
    received = models.BigIntegerField(default=0)  # into sellable stock at the destination
    damaged = models.BigIntegerField(default=0)  # received into the destination's damaged bin
    resolved = models.BigIntegerField(default=0)  # short units settled by a resolution
    unit_cost_micros = models.BigIntegerField(default=0)  # source cost when shipped
    allocated_cost_fen = models.BigIntegerField(default=0)  # freight + handling share

    class Meta:
        ordering = ["transfer", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_line_qty_positive"),
            models.CheckConstraint(
                condition=Q(received__gte=0)
                & Q(damaged__gte=0)
                & Q(resolved__gte=0)
                & Q(shipped__gte=F("received") + F("damaged") + F("resolved")),
                name="transfer_line_conserved",
            ),
        ]

    @property
    def in_transit(self) -> int:
        return self.shipped - self.received - self.damaged - self.resolved


class TransferLot(models.Model):
    """What of a line left the source, by lot (and the reservation part it came from)."""

    line = models.ForeignKey(TransferLine, on_delete=models.CASCADE, related_name="lots")
    reservation = models.ForeignKey(
        Reservation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()  # reserved for the transfer at this bin/lot
    picked = models.BigIntegerField(default=0)
    shipped = models.BigIntegerField(default=0)
    received = models.BigIntegerField(default=0)
    damaged = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["line", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_lot_qty_positive"),
            models.CheckConstraint(
                condition=Q(received__gte=0)
                & Q(damaged__gte=0)
                & Q(shipped__gte=F("received") + F("damaged")),
                name="transfer_lot_conserved",
            ),
        ]


# -- approval chains (configured by an admin) ------------------------------------------------
class ApprovalRule(models.Model):
    """When a submitted transfer matches every condition set here, it needs this rule's
    levels, in order. Several matching rules: the one with the lowest priority number wins.
    No matching rule: approved on submit."""

    name = models.CharField(max_length=100)
    priority = models.IntegerField(default=100)
    is_active = models.BooleanField(default=True)
    min_value_fen = models.BigIntegerField(null=True, blank=True)
    min_quantity = models.BigIntegerField(null=True, blank=True)  # milli, total of lines
    kinds = models.JSONField(default=list, blank=True)  # empty = every kind
    source_sites = models.ManyToManyField(Site, blank=True, related_name="+")
    destination_sites = models.ManyToManyField(Site, blank=True, related_name="+")
    categories = models.ManyToManyField(Category, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name


class ApprovalScope(models.TextChoices):
    SOURCE = "source", _("At the source site")
    DESTINATION = "destination", _("At the destination site")
    CHAIN = "chain", _("Chain-wide (all sites)")


class ApprovalLevel(models.Model):
    rule = models.ForeignKey(ApprovalRule, on_delete=models.CASCADE, related_name="levels")
    seq = models.PositiveIntegerField()
    role = models.CharField(max_length=32)  # a core.permissions role
    scope = models.CharField(max_length=12, choices=ApprovalScope.choices)
    name = models.CharField(
        max_length=100, blank=True, default=""
    )  # e.g. 区域经理 regional manager

    class Meta:
        ordering = ["rule", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "seq"], name="approval_level_seq_unique")
        ]


class StepStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for an earlier level")
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for changes")
    SUPERSEDED = "superseded", _("Superseded (resubmitted)")


class ApprovalStep(models.Model):
    """One level of one submission of a transfer (the chain is copied from the rule when the
    transfer is submitted, so editing a rule never changes a chain in flight)."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="steps")
    round = models.PositiveIntegerField(default=1)  # submission number
    seq = models.PositiveIntegerField()
    rule = models.ForeignKey(ApprovalRule, null=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=100, blank=True, default="")
    role = models.CharField(max_length=32)
    scope_site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=12, choices=StepStatus.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["transfer", "round", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "round", "seq"], name="approval_step_unique"
            )
        ]


# -- receiving discrepancies -------------------------------------------------------------------
class DiscrepancyKind(models.TextChoices):
    SHORT = "short", _("Short")
    OVER = "over", _("Over")
    DAMAGED = "damaged", _("Damaged")


class Resolution(models.TextChoices):
    CARRIER_CLAIM = "carrier_claim", _("Claim against the carrier")
    WRITE_OFF = "write_off", _("Loss write-off")
    RETURN_TO_SOURCE = "return_to_source", _("Return to the source")
    ACCEPT = "accept", _("Accept (keep the extra units)")


class Discrepancy(models.Model):
    line = models.ForeignKey(TransferLine, on_delete=models.CASCADE, related_name="discrepancies")
    kind = models.CharField(max_length=8, choices=DiscrepancyKind.choices)
    quantity = models.BigIntegerField()
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True, default="")
    claim_fen = models.BigIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True, default="")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["line", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="discrepancy_qty_positive")
        ]


# -- tracking and timeline ---------------------------------------------------------------------
class TransferTrackingEvent(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="tracking")
    carrier = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    code = models.CharField(max_length=20)
    at = models.DateTimeField()
    description = models.CharField(max_length=300, blank=True, default="")
    place = models.CharField(max_length=100, blank=True, default="")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        ordering = ["transfer", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "event_id"], name="transfer_tracking_unique_per_carrier"
            )
        ]


class TransferEvent(models.Model):
    """The transfer's timeline: requested, submitted, each approval decision, picked,
    shipped, tracking, received, discrepancies and resolutions, closed."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["transfer", "at", "id"]
