"""What every outbound step shares: locking a shipment, the refusals for a shipment at the
wrong step or of a cancelled order, the conditional status change, the carrier in use."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from chainstore.core.errors import Conflict, InvalidState
from chainstore.core.quantities import milli_to_qty
from chainstore.fulfilment.models import CustomerOrder, OrderStatus, Shipment, ShipmentStatus


def carrier_code(shipment: Shipment) -> str:
    """The shipment's carrier, else the order's, else the channel's default."""
    order = shipment.order
    return shipment.carrier or order.carrier or order.channel.default_carrier or "sim"


def locked(shipment: Shipment) -> Shipment:
    """Lock the order, then the shipment: the order first, as cancelling does, so a cancel
    and a check or shipment of the same order queue instead of deadlocking."""
    list(CustomerOrder.objects.select_for_update().filter(pk=shipment.order_id))
    return (
        Shipment.objects.select_for_update()
        .select_related("order", "order__channel", "site")
        .get(pk=shipment.pk)
    )


def refuse_cancelled(shipment: Shipment) -> None:
    if (
        shipment.order.status == OrderStatus.CANCELLED
        or shipment.status == ShipmentStatus.CANCELLED
    ):
        raise InvalidState(
            _("Order %(order)s was cancelled: do not ship it; return the goods to stock.")
            % {"order": shipment.order.number},
            code="order_cancelled",
            order=shipment.order.number,
        )


_AFTER_CHECK = (
    ShipmentStatus.CHECKED,
    ShipmentStatus.PACKED,
    ShipmentStatus.SHIPPED,
    ShipmentStatus.DELIVERED,
)


def refuse_status(shipment: Shipment, wanted: str) -> None:
    """A clear refusal for a shipment that is not at the step asked for."""
    status = ShipmentStatus(shipment.status)
    details = {"status": status.value, "expected": wanted}
    if wanted == ShipmentStatus.PICKED and status in _AFTER_CHECK:
        raise Conflict(_("This shipment is already checked."), code="already_checked", **details)
    if status in (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED):
        raise InvalidState(_("This shipment has shipped."), code="already_shipped", **details)
    label = {"status": status.label}
    messages = {
        ShipmentStatus.PICKED: (
            _("This shipment is not picked yet (status: %(status)s).") % label,
            "not_picked",
        ),
        ShipmentStatus.CHECKED: (
            _("Finish the check before packing (status: %(status)s).") % label,
            "not_checked",
        ),
        ShipmentStatus.PACKED: (
            _("Pack the shipment before shipping it (status: %(status)s).") % label,
            "not_packed",
        ),
    }
    message, code = messages[ShipmentStatus(wanted)]
    raise InvalidState(message, code=code, **details)


def transition(shipment: Shipment, from_status: str, to_status: str, **fields: Any) -> None:
    """Move the shipment on only if it is still at `from_status` (else the refusal for
    where it is now), and mirror the change on the instance."""
    if not Shipment.objects.filter(pk=shipment.pk, status=from_status).update(
        status=to_status, **fields
    ):
        shipment.refresh_from_db()
        refuse_status(shipment, from_status)
    shipment.status = to_status
    for name, value in fields.items():
        setattr(shipment, name, value)


def qty(milli: int) -> str:
    """A quantity for a message: 2, 0.5 (no trailing zeros)."""
    return str(milli_to_qty(milli).normalize())
