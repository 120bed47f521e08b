"""Order care before shipping: cancel, change the delivery address, cancel unpaid orders
whose payment window closed, and retry backorders when stock arrives.

Cancelling releases every hold: open pick tasks' reservations are released, and stock
already picked into outbound staging goes back to the bin it was picked from (a bin move in
the ledger), so nothing stays stranded in staging. Once any parcel has shipped the order
can no longer be cancelled or re-addressed here (that is a return / a carrier redirect).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.core import audit
from chainstore.core.errors import DomainError, InvalidState, ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.core.quantities import milli_to_qty
from chainstore.fulfilment.models import (
    CustomerOrder,
    EventKind,
    OrderLine,
    OrderStatus,
    Parcel,
    PickedStock,
    PickTask,
    PickTaskStatus,
    Shipment,
    ShipmentStatus,
    SourcingDecision,
)
from chainstore.fulfilment.selectors import ensure_order_access
from chainstore.fulfilment.services.events import add_event
from chainstore.fulfilment.services.intake import AddressInput, check_address
from chainstore.fulfilment.services.sourcing import SYSTEM, source_remainder, sourceable
from chainstore.fulfilment.services.status import refresh_order_status
from chainstore.fulfilment.services.waves import settle_pick_lists
from chainstore.inventory.services import move_stock, release_reservations

PAYMENT_TIMEOUT = "payment_timeout"
_GONE = (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED)
# Open, paid orders that may still wait for part of their goods.
_WAITING = (OrderStatus.BACKORDER, OrderStatus.IN_FULFILMENT, OrderStatus.PARTIALLY_SHIPPED)
# Shipments whose stock may be handed back and sourced again: nothing picked yet.
_UNPICKED = (ShipmentStatus.ALLOCATED, ShipmentStatus.WAVED, ShipmentStatus.PICKING)
_ADDRESS_FIELDS = (
    "customer_name",
    "phone",
    "province",
    "city",
    "district",
    "address",
    "postcode",
    "latitude",
    "longitude",
)


def _refuse_if_closed(order: CustomerOrder, shipments: list[Shipment]) -> None:
    if order.status == OrderStatus.CANCELLED:
        raise InvalidState(_("The order is cancelled."), code="order_cancelled")
    if any(s.status in _GONE for s in shipments) or any(ln.shipped for ln in order.lines.all()):
        raise InvalidState(
            _("Part of the order has shipped; it can no longer be changed here."),
            code="order_shipped",
        )


# -- cancel ----------------------------------------------------------------------------
def cancel_order(order: CustomerOrder, *, actor: Any, reason: str) -> CustomerOrder:
    """Cancel an order nothing of which has shipped (orders.manage): release its stock,
    put picked stock back in its bins, cancel its shipments. Cancelling a cancelled order
    returns it unchanged (`replayed=True`)."""
    reason = (reason or "").strip()[:200] or "cancelled"
    with transaction.atomic():
        order = CustomerOrder.objects.select_for_update().get(pk=order.pk)
        ensure_order_access(actor, "orders.manage", order)
        if order.status == OrderStatus.CANCELLED:
            order.replayed = True  # type: ignore[attr-defined]
            return order
        live = list(order.shipments.select_related("site").exclude(status=ShipmentStatus.CANCELLED))
        _refuse_if_closed(order, live)
        put_back: list[dict[str, str]] = []
        released: dict[str, list[dict[str, str]]] = {}
        for shipment in live:
            put_back += _put_back_picked(shipment)
            released[shipment.number] = _release_shipment(
                shipment, reason=f"order cancelled: {reason}"
            )
        OrderLine.objects.filter(order=order).update(allocated=0)
        order.status = OrderStatus.CANCELLED
        order.cancelled_at = timezone.now()
        order.cancel_reason = reason
        order.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
        add_event(
            order,
            EventKind.CANCELLED,
            actor=actor,
            reason=reason,
            released=released,
            put_back=put_back,
        )
    order.replayed = False  # type: ignore[attr-defined]
    return order


def _put_back_picked(shipment: Shipment) -> list[dict[str, str]]:
    """Picked, unshipped stock leaves outbound staging for the bin it was picked from: the
    substitute bin the picker actually took it from, else (rows picked before the bin was
    recorded) the task's bin."""
    moved = []
    rows = PickedStock.objects.filter(shipment_line__shipment=shipment).select_related(
        "shipment_line__sku", "task__location", "from_location", "location", "lot"
    )
    for ps in rows.order_by("id"):
        home = ps.from_location or ps.task.location
        move_stock(
            sku=ps.shipment_line.sku,
            quantity=ps.quantity,
            from_location=ps.location,
            to_location=home,
            lot=ps.lot,
            actor=SYSTEM,
            idempotency_key=f"order-cancel-putback-{ps.pk}",
        )
        moved.append(
            {
                "sku": ps.shipment_line.sku.code,
                "lot": ps.lot.number if ps.lot else "",
                "from": ps.location.code,
                "bin": home.code,
                "quantity": str(milli_to_qty(ps.quantity)),
                "shipment": shipment.number,
            }
        )
    return moved


def _release_shipment(shipment: Shipment, *, reason: str) -> list[dict[str, str]]:
    """Hand back a shipment's holds: release the open tasks' reservations, cancel the tasks
    and the shipment, and take its lines off `OrderLine.allocated` (picked stock: see
    `_put_back_picked`). Returns what was released, for the event."""
    open_tasks = list(
        PickTask.objects.filter(shipment_line__shipment=shipment, status=PickTaskStatus.OPEN)
        .select_related("reservation", "sku", "location", "lot")
        .order_by("id")
    )
    reservations = {t.reservation_id: t.reservation for t in open_tasks if t.reservation}
    release_reservations(
        reservations=[r for r in reservations.values() if r is not None],
        actor=SYSTEM,
        reason=reason,
    )
    PickTask.objects.filter(pk__in=[t.pk for t in open_tasks]).update(
        status=PickTaskStatus.CANCELLED
    )
    for sl in shipment.lines.all():
        OrderLine.objects.filter(pk=sl.order_line_id).update(allocated=F("allocated") - sl.quantity)
    Shipment.objects.filter(pk=shipment.pk).update(status=ShipmentStatus.CANCELLED)
    settle_pick_lists(shipments=[shipment])
    audit.record(
        actor=SYSTEM,
        action="shipment.cancel",
        obj=shipment,
        from_state=shipment.status,
        to_state=ShipmentStatus.CANCELLED,
        site_id=shipment.site_id,
        data={"reason": reason},
    )
    shipment.status = ShipmentStatus.CANCELLED
    return [
        {
            "sku": t.sku.code,
            "lot": t.lot.number if t.lot else "",
            "bin": t.location.code,
            "quantity": str(milli_to_qty(t.quantity - t.picked - t.short)),
        }
        for t in open_tasks
    ]


def resource_order(order: CustomerOrder, *, actor: Any) -> SourcingDecision | None:
    """Hand back every shipment nothing has been picked for yet (its stock is released and
    it is cancelled) and source the order again. A shipment already being picked keeps its
    stock: the picker is walking it, and a short pick re-sources its own gap."""
    with transaction.atomic():
        order = CustomerOrder.objects.select_for_update().get(pk=order.pk)
        ensure_order_access(actor, "orders.manage", order)
        if order.status == OrderStatus.CANCELLED:
            raise InvalidState(_("The order is cancelled."), code="order_cancelled")
        movable = [
            s
            for s in order.shipments.select_related("site").filter(status__in=_UNPICKED)
            if not s.lines.filter(picked__gt=0).exists()
        ]
        released = {s.number: _release_shipment(s, reason="resource") for s in movable}
        if released:
            add_event(order, EventKind.RELEASED, actor=actor, reason="resource", shipments=released)
        refresh_order_status(order)
        if not released and not any(ln.backordered for ln in order.lines.all()):
            raise ValidationFailed(
                _("Nothing to re-source: every shipment is already being picked or shipped."),
                code="nothing_to_resource",
            )
        return source_remainder(order, actor=actor, trigger="resource")


# -- address -------------------------------------------------------------------------------
def change_address(
    order: CustomerOrder,
    *,
    actor: Any,
    address: AddressInput,
    customer_name: str | None = None,
    phone: str | None = None,
    resource: bool = False,
) -> CustomerOrder:
    """Change the receiver and delivery address until the first parcel ships
    (orders.manage). With `resource`, and while nothing is waved yet, the order is sourced
    again for the new address; `order.resourced` says whether that happened."""
    check_address(address)
    with transaction.atomic():
        order = CustomerOrder.objects.select_for_update().get(pk=order.pk)
        ensure_order_access(actor, "orders.manage", order)
        live = list(order.shipments.exclude(status=ShipmentStatus.CANCELLED))
        _refuse_if_closed(order, live)
        old = {f: _plain(getattr(order, f)) for f in _ADDRESS_FIELDS}
        # Blank keeps the receiver (an order always has a name and a phone, as at intake).
        order.customer_name = ((customer_name or "").strip() or order.customer_name)[:100]
        order.phone = ((phone or "").strip() or order.phone)[:30]
        order.province = address.province.strip()[:50]
        order.city = address.city.strip()[:50]
        order.district = address.district.strip()[:50]
        order.address = address.address.strip()[:300]
        order.postcode = address.postcode.strip()[:12]
        order.latitude = _coordinate(address.latitude)
        order.longitude = _coordinate(address.longitude)
        new = {f: _plain(getattr(order, f)) for f in _ADDRESS_FIELDS}
        order.resourced = False  # type: ignore[attr-defined]
        if new == old:
            return order
        order.save(update_fields=[*_ADDRESS_FIELDS, "updated_at"])
        will_resource = (
            resource and bool(live) and all(s.status == ShipmentStatus.ALLOCATED for s in live)
        )
        labelled = list(
            Parcel.objects.filter(shipment__in=live, tracking_number__isnull=False).values_list(
                "tracking_number", flat=True
            )
        )
        add_event(
            order,
            EventKind.ADDRESS_CHANGED,
            actor=actor,
            old=old,
            new=new,
            resource=resource,
            resourced=will_resource,
            labels_to_reprint=labelled,
        )
        if will_resource:
            resource_order(order, actor=actor)
            order.resourced = True  # type: ignore[attr-defined]
        order.refresh_from_db()
    return order


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def _coordinate(value: Decimal | None) -> Decimal | None:
    """At the stored precision, so a repeat of one change ("31.2304" after the stored
    "31.230400") compares equal and changes nothing."""
    return None if value is None else value.quantize(Decimal("0.000001"))


# -- jobs ----------------------------------------------------------------------------------
def expire_unpaid(*, now: dt.datetime | None = None, actor: Any = SYSTEM) -> list[CustomerOrder]:
    """Cancel every order still awaiting payment after its `pay_by` (reason
    `payment_timeout`) and release its stock. One transaction per order; a payment that
    arrives first wins."""
    ensure_can(actor, "orders.manage")
    now = now or timezone.now()
    due = CustomerOrder.objects.filter(
        status=OrderStatus.PENDING_PAYMENT, paid_at__isnull=True, pay_by__lt=now
    ).order_by("pay_by", "id")
    expired = []
    for order_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            order = CustomerOrder.objects.select_for_update().get(pk=order_id)
            if order.paid_at is not None or order.status != OrderStatus.PENDING_PAYMENT:
                continue
            expired.append(cancel_order(order, actor=actor, reason=PAYMENT_TIMEOUT))
    return expired


@dataclass(frozen=True)
class BackorderRetry:
    order: CustomerOrder
    decision: SourcingDecision | None
    error: DomainError | None = None


def retry_backorders(*, actor: Any = SYSTEM, limit: int = 100) -> list[BackorderRetry]:
    """Source what paid orders still wait for, oldest first: backordered orders and orders
    already in fulfilment or partly shipped with a remainder (after a short pick, say).
    Only when some enabled site now has some of it, so idle retries record no decision.
    A refusal for one order is reported and the others go on."""
    ensure_can(actor, "orders.manage")
    waiting = (
        CustomerOrder.objects.filter(
            status__in=_WAITING,
            lines__quantity__gt=F("lines__allocated") + F("lines__shipped"),
        )
        .distinct()
        .order_by("placed_at", "id")
    )
    results = []
    for order in waiting[: max(limit, 0)]:
        if not sourceable(order):
            continue
        try:
            decision = source_remainder(order, actor=actor, trigger="backorder_retry")
        except DomainError as exc:
            results.append(BackorderRetry(order, None, exc))
            continue
        order.refresh_from_db()
        results.append(BackorderRetry(order, decision))
    return results
