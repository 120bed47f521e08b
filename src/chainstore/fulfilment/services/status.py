"""Order status follows its lines and shipments; every service that changes either calls
`refresh_order_status` before it commits."""

from __future__ import annotations

from chainstore.fulfilment.models import (
    CustomerOrder,
    OrderStatus,
    ShipmentStatus,
)

_AT_WORK = {
    ShipmentStatus.WAVED,
    ShipmentStatus.PICKING,
    ShipmentStatus.PICKED,
    ShipmentStatus.CHECKED,
    ShipmentStatus.PACKED,
}


def derive_status(order: CustomerOrder) -> str:
    """The status an order's lines and shipments imply (cancelled stays cancelled; an
    unpaid order awaits payment whatever it holds)."""
    if order.status == OrderStatus.CANCELLED:
        return OrderStatus.CANCELLED
    if order.paid_at is None and order.pay_by is not None:
        return OrderStatus.PENDING_PAYMENT
    lines = list(order.lines.all())
    shipments = [s for s in order.shipments.all() if s.status != ShipmentStatus.CANCELLED]
    backordered = any(ln.quantity - ln.allocated - ln.shipped > 0 for ln in lines)
    statuses = {s.status for s in shipments}
    done = {ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED}
    if shipments and statuses <= {ShipmentStatus.DELIVERED} and not backordered:
        return OrderStatus.DELIVERED
    if shipments and statuses <= done and not backordered:
        return OrderStatus.SHIPPED
    if statuses & done:
        return OrderStatus.PARTIALLY_SHIPPED
    if statuses & _AT_WORK:
        return OrderStatus.IN_FULFILMENT
    if backordered:
        return OrderStatus.BACKORDER
    return OrderStatus.ALLOCATED


def refresh_order_status(order: CustomerOrder) -> str:
    """Recompute and store the order's status; returns it."""
    status = derive_status(order)
    if status != order.status:
        CustomerOrder.objects.filter(pk=order.pk).update(status=status)
        order.status = status
    return status
