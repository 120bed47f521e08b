"""Online orders and their fulfilment: intake, sourcing, shipments, waves, pick lists,
parcels, tracking and the order timeline.

Quantities are integer thousandths of the SKU's base unit, money integer fen, weights grams
(see chainstore.core.quantities). An order is split by sourcing into one Shipment per
fulfilment site; each shipment's stock is held by inventory Reservations, one PickTask per
reserved (bin, lot) part.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from chainstore.catalog.models import Sku
from chainstore.inventory.models import Lot, Reservation
from chainstore.sites.models import Location, Site


# -- configuration ---------------------------------------------------------------------
class Platform(models.TextChoices):
    TMALL = "tmall", _("Taobao / Tmall")
    DOUYIN = "douyin", _("Douyin shop")
    JD = "jd", _("JD.com")
    MINIPROGRAM = "miniprogram", _("Own mini-program")
    GENERIC = "generic", _("Other (generic JSON)")


class SalesChannel(models.Model):
    """An e-commerce channel that sends orders (one shop on one platform)."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    platform = models.CharField(max_length=12, choices=Platform.choices)
    is_active = models.BooleanField(default=True)
    # Unpaid orders hold their stock this long, then are cancelled and released (超时未付款).
    payment_timeout_minutes = models.PositiveIntegerField(default=30)
    default_carrier = models.CharField(max_length=20, blank=True, default="sim")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Strategy(models.TextChoices):
    NEAREST = "nearest", _("Nearest site")
    FEWEST = "fewest", _("Fewest shipments")
    CHEAPEST = "cheapest", _("Lowest shipping cost")
    CUSTOM = "custom", _("Custom weights")


class SourcingPolicy(models.Model):
    """The chain's sourcing rules (one row, pk=1). A strategy is a preset of the three weights;
    `custom` uses the weights as stored. See docs/fulfilment.md."""

    strategy = models.CharField(max_length=10, choices=Strategy.choices, default=Strategy.FEWEST)
    weight_distance = models.DecimalField(max_digits=10, decimal_places=4, default=1)  # per km
    weight_shipments = models.DecimalField(max_digits=10, decimal_places=4, default=100)
    weight_cost = models.DecimalField(max_digits=10, decimal_places=4, default=1)  # per yuan
    max_candidates = models.PositiveIntegerField(default=10)
    max_shipments = models.PositiveIntegerField(default=3)
    allow_split = models.BooleanField(default=True)
    time_budget_ms = models.PositiveIntegerField(default=500)
    updated_at = models.DateTimeField(auto_now=True)


class ShipFromSite(models.Model):
    """A site enabled to ship online orders (every warehouse; stores when ship-from-store)."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="ship_from")
    enabled = models.BooleanField(default=True)
    base_cost_fen = models.BigIntegerField(default=800)  # per shipment
    per_kg_cost_fen = models.BigIntegerField(default=200)
    priority = models.IntegerField(default=0)  # lower first, breaks ties
    cutoff_time = models.TimeField(null=True, blank=True)  # same-day dispatch cut-off

    def __str__(self) -> str:
        return f"ship from {self.site.code}"


# -- orders ----------------------------------------------------------------------------
class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    BACKORDER = "backorder", _("Backorder")
    ALLOCATED = "allocated", _("Allocated")
    IN_FULFILMENT = "in_fulfilment", _("In fulfilment")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_ORDER_STATUSES = (
    OrderStatus.PENDING_PAYMENT,
    OrderStatus.BACKORDER,
    OrderStatus.ALLOCATED,
    OrderStatus.IN_FULFILMENT,
    OrderStatus.PARTIALLY_SHIPPED,
)


class CustomerOrder(models.Model):
    number = models.CharField(max_length=30, unique=True)
    channel = models.ForeignKey(SalesChannel, on_delete=models.PROTECT, related_name="orders")
    channel_order_id = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    request_hash = models.CharField(max_length=64, blank=True, default="")
    # The client's optional Idempotency-Key header (the channel order id is the natural key).
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    placed_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    pay_by = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True, default="")
    # Receiver (address changes allowed until the first parcel ships).
    customer_name = models.CharField(max_length=100)
    phone = models.CharField(max_length=30)
    province = models.CharField(max_length=50, blank=True, default="")
    city = models.CharField(max_length=50, blank=True, default="")
    district = models.CharField(max_length=50, blank=True, default="")
    address = models.CharField(max_length=300)
    postcode = models.CharField(max_length=12, blank=True, default="")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    carrier = models.CharField(max_length=20, blank=True, default="")
    goods_fen = models.BigIntegerField(default=0)
    shipping_fee_fen = models.BigIntegerField(default=0)
    note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "channel_order_id"], name="order_unique_per_channel"
            )
        ]
        indexes = [models.Index(fields=["status", "id"], name="order_status_idx")]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(CustomerOrder, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    channel_line_id = models.CharField(max_length=64, blank=True, default="")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    unit_price_fen = models.BigIntegerField(default=0)
    allocated = models.BigIntegerField(default=0)  # held by active shipments
    shipped = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="order_line_no_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_qty_positive"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0) & Q(allocated__lte=F("quantity")),
                name="order_line_allocated_within_qty",
            ),
            models.CheckConstraint(
                condition=Q(shipped__gte=0) & Q(shipped__lte=F("quantity")),
                name="order_line_shipped_within_qty",
            ),
        ]

    @property
    def backordered(self) -> int:
        return self.quantity - self.allocated - self.shipped


class SourcingDecision(models.Model):
    """Why an order (or its remainder) went where it went: the candidates with their scores,
    the chosen plan, the method (exact / heuristic) and whether it is proven optimal."""

    order = models.ForeignKey(
        CustomerOrder, on_delete=models.CASCADE, related_name="sourcing_decisions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    trigger = models.CharField(max_length=20)  # intake, payment, resource, short_pick, manual
    strategy = models.CharField(max_length=10, choices=Strategy.choices)
    weights = models.JSONField(default=dict)
    method = models.CharField(max_length=20)
    optimal = models.BooleanField(default=False)
    objective = models.FloatField(default=0)
    elapsed_ms = models.FloatField(default=0)
    candidates = models.JSONField(default=list)
    plan = models.JSONField(default=dict)
    unfilled = models.JSONField(default=dict)
    summary = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["order", "id"]


# -- shipments, waves, picking -----------------------------------------------------------
class ShipmentStatus(models.TextChoices):
    ALLOCATED = "allocated", _("Allocated")
    WAVED = "waved", _("In a wave")
    PICKING = "picking", _("Picking")
    PICKED = "picked", _("Picked")
    CHECKED = "checked", _("Checked")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


class WaveStatus(models.TextChoices):
    RELEASED = "released", _("Released")
    PICKING = "picking", _("Picking")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Wave(models.Model):
    """A batch of shipments at one site picked together (波次), split into pick lists."""

    number = models.CharField(max_length=30, unique=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=WaveStatus.choices)
    cutoff = models.DateTimeField(null=True, blank=True)
    carrier = models.CharField(max_length=20, blank=True, default="")
    zone = models.CharField(max_length=20, blank=True, default="")
    criteria = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.number


class Shipment(models.Model):
    """The part of an order one site ships (发货单)."""

    number = models.CharField(max_length=30, unique=True)
    order = models.ForeignKey(CustomerOrder, on_delete=models.CASCADE, related_name="shipments")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ShipmentStatus.choices)
    wave = models.ForeignKey(
        Wave, null=True, blank=True, on_delete=models.SET_NULL, related_name="shipments"
    )
    carrier = models.CharField(max_length=20, blank=True, default="")
    weight_g = models.PositiveIntegerField(null=True, blank=True)  # measured at the check
    expected_weight_g = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    ship_idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["site", "status"], name="shipment_site_status_idx")]

    def __str__(self) -> str:
        return self.number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    picked = models.BigIntegerField(default=0)
    checked = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["shipment", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_qty_positive"),
            models.CheckConstraint(
                condition=Q(picked__gte=0) & Q(picked__lte=F("quantity")),
                name="shipment_line_picked_within_qty",
            ),
            models.CheckConstraint(
                condition=Q(checked__gte=0) & Q(checked__lte=F("picked")),
                name="shipment_line_checked_within_picked",
            ),
        ]


class PickListStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PICKING = "picking", _("Picking")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class PickList(models.Model):
    """One picker's walk (one cart) in a wave: tasks in route order, the route drawn on the
    warehouse map, and the lengths of the baseline routes it was compared with."""

    number = models.CharField(max_length=30, unique=True)
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="pick_lists")
    status = models.CharField(max_length=10, choices=PickListStatus.choices)
    picker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    route_method = models.CharField(max_length=30, blank=True, default="")
    route_length_m = models.FloatField(null=True, blank=True)
    sshape_length_m = models.FloatField(null=True, blank=True)
    sequence_length_m = models.FloatField(null=True, blank=True)
    route_path = models.JSONField(default=list)  # [[x, y], ...] depot -> ... -> depot
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["wave", "id"]

    def __str__(self) -> str:
        return self.number


class PickTaskStatus(models.TextChoices):
    OPEN = "open", _("To pick")
    PICKED = "picked", _("Picked")
    SHORT = "short", _("Short")
    CANCELLED = "cancelled", _("Cancelled")


class PickTask(models.Model):
    """One reserved part of a shipment line: take `quantity` of sku/lot from `location`.
    Created at sourcing (with its reservation); put on a pick list when waved."""

    shipment_line = models.ForeignKey(ShipmentLine, on_delete=models.CASCADE, related_name="tasks")
    reservation = models.ForeignKey(
        Reservation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pick_list = models.ForeignKey(
        PickList, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    sequence = models.PositiveIntegerField(default=0)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    picked = models.BigIntegerField(default=0)
    short = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=PickTaskStatus.choices, default=PickTaskStatus.OPEN
    )
    picked_lot = models.ForeignKey(
        Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    picked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pick_list", "sequence", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="pick_task_qty_positive"),
            models.CheckConstraint(
                condition=Q(picked__gte=0)
                & Q(short__gte=0)
                & Q(picked__lte=F("quantity") - F("short")),
                name="pick_task_within_qty",
            ),
        ]


class PickedStock(models.Model):
    """What a pick put into the site's outbound staging location for a shipment line: the
    lot actually taken. The outbound check reads it; shipping posts it to the customer."""

    shipment_line = models.ForeignKey(
        ShipmentLine, on_delete=models.CASCADE, related_name="picked_stock"
    )
    task = models.ForeignKey(PickTask, on_delete=models.PROTECT, related_name="picked_stock")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    # The bin it was actually taken from (the task's bin, or a substitute).
    from_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    checked = models.BigIntegerField(default=0)  # counted at the outbound check, per lot
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    picked_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="picked_stock_qty_positive"),
            models.CheckConstraint(
                condition=Q(checked__gte=0) & Q(checked__lte=F("quantity")),
                name="picked_stock_checked_within_qty",
            ),
        ]


# -- outbound: parcels and tracking --------------------------------------------------------
class ParcelStatus(models.TextChoices):
    PACKED = "packed", _("Packed")
    LABELLED = "labelled", _("Label printed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")


class Parcel(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="parcels")
    seq = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=ParcelStatus.choices)
    weight_g = models.PositiveIntegerField()
    carrier = models.CharField(max_length=20)
    tracking_number = models.CharField(max_length=40, null=True, blank=True, unique=True)
    label_format = models.CharField(max_length=10, blank=True, default="")
    label = models.TextField(blank=True, default="")
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shipment", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "seq"], name="parcel_seq_unique")
        ]


class ParcelItem(models.Model):
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="items")
    shipment_line = models.ForeignKey(ShipmentLine, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="parcel_item_qty_positive")
        ]


class TrackingEvent(models.Model):
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="tracking")
    carrier = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    code = models.CharField(max_length=20)  # see integrations.carriers.TrackingCode
    at = models.DateTimeField()
    description = models.CharField(max_length=300, blank=True, default="")
    place = models.CharField(max_length=100, blank=True, default="")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["parcel", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "event_id"], name="tracking_event_unique_per_carrier"
            )
        ]


# -- the timeline --------------------------------------------------------------------------
class EventKind(models.TextChoices):
    RECEIVED = "received", _("Order received")
    PAID = "paid", _("Payment confirmed")
    SOURCED = "sourced", _("Sourced")
    RESERVED = "reserved", _("Reserved")
    BACKORDERED = "backordered", _("Backordered")
    RELEASED = "released", _("Reservation released")
    ADDRESS_CHANGED = "address_changed", _("Address changed")
    CANCELLED = "cancelled", _("Cancelled")
    WAVED = "waved", _("Added to a wave")
    PICKED = "picked", _("Picked")
    SHORT_PICKED = "short_picked", _("Short pick")
    CHECKED = "checked", _("Checked")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    TRACKING = "tracking", _("Tracking event")
    DELIVERED = "delivered", _("Delivered")


class OrderEvent(models.Model):
    """One node of an order's timeline: what, when, who, where, with the details (lot, bin,
    sourcing reasons, tracking text). Append-only; written in the same transaction."""

    order = models.ForeignKey(CustomerOrder, on_delete=models.CASCADE, related_name="events")
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["order", "at", "id"]
