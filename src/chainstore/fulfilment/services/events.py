"""The order timeline: every node is one OrderEvent, written in the same transaction as the
change it records (see EventKind)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from chainstore.fulfilment.models import CustomerOrder, OrderEvent, Shipment
from chainstore.sites.models import Site


def add_event(
    order: CustomerOrder,
    kind: str,
    *,
    actor: Any = None,
    shipment: Shipment | None = None,
    site: Site | None = None,
    at: Any = None,
    **data: Any,
) -> OrderEvent:
    """Append a timeline node. `data` holds what a reader needs later (lot, bin, quantity,
    sourcing reasons, tracking text) as JSON-safe values."""
    if site is None and shipment is not None:
        site = shipment.site
    return OrderEvent.objects.create(
        order=order,
        shipment=shipment,
        kind=kind,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        site=site,
        data=data,
    )
