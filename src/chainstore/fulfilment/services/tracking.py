"""Tracking events from carriers: stored once per (carrier, event id), written to the order
timeline, and driving parcels and shipments to DELIVERED.

Carriers resend webhooks and integrators replay batches, so a replayed event is counted and
ignored (a unique constraint backs the check against concurrent duplicates). An event for a
tracking number we do not know is counted and reported, never raised: one stray number must
not make a carrier retry a whole batch forever.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chainstore.core import audit
from chainstore.core.errors import DomainError, NotFound, ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.fulfilment.models import (
    CustomerOrder,
    EventKind,
    Parcel,
    ParcelStatus,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)
from chainstore.fulfilment.services.events import add_event
from chainstore.fulfilment.services.status import refresh_order_status
from chainstore.integrations.carriers import CarrierError, TrackingCode, TrackingUpdate
from chainstore.integrations.carriers.registry import get_carrier, tracking_recorders
from chainstore.integrations.carriers.simulated import SIGNATURE_HEADER, SimulatedCarrier

_TROUBLE = {TrackingCode.EXCEPTION, TrackingCode.RETURNED}
_MOVING = {TrackingCode.PICKED_UP, TrackingCode.IN_TRANSIT, TrackingCode.OUT_FOR_DELIVERY}


class WebhookRefused(DomainError):
    """A carrier webhook whose signature does not verify: the caller is not the carrier."""

    code = "bad_signature"
    status = 401
    default_message = gettext_lazy("The webhook signature does not match.")


def receive_webhook(
    *, carrier_code: str, body: bytes, headers: Mapping[str, str]
) -> dict[str, Any]:
    """A carrier's webhook: the adapter verifies the signature over the raw body (the
    carrier's authentication; no user) and reads the events, which are then recorded.
    Nothing is recorded unless the whole body verifies and parses."""
    try:
        adapter = get_carrier(carrier_code)
    except ValidationFailed as exc:
        raise NotFound(exc.message, code="unknown_carrier", carrier=carrier_code) from exc
    try:
        updates = adapter.parse_webhook(body, dict(headers))
    except CarrierError as exc:
        if exc.code == "bad_signature":
            raise WebhookRefused(carrier=carrier_code) from exc
        raise ValidationFailed(str(exc), code=exc.code, carrier=carrier_code) from exc
    return record_tracking(carrier_code=carrier_code, updates=updates)


@transaction.atomic
def record_tracking(
    *, carrier_code: str, updates: Sequence[TrackingUpdate], actor: Any = None
) -> dict[str, Any]:
    """Store new tracking updates of one carrier. `actor` is None for a signed webhook (the
    signature is the authentication) and the integrator's user for the /tracking API.
    Returns counts: received, recorded, duplicates, unknown (+ the unknown numbers),
    delivered_parcels, delivered_shipments."""
    if actor is not None:
        ensure_can(actor, "fulfilment.tracking")
    get_carrier(carrier_code)
    for update in updates:
        if update.code not in TrackingCode.values:
            raise ValidationFailed(
                _("Unknown tracking code %(code)s.") % {"code": update.code},
                code="unknown_tracking_code",
                tracking_code=update.code,
            )
    numbers = {u.tracking_number for u in updates}
    parcels = {
        p.tracking_number: p
        for p in Parcel.objects.filter(
            carrier=carrier_code, tracking_number__in=numbers
        ).select_related("shipment__order", "shipment__site")
    }
    # One lock order with check/ship and cancel: the orders, then the shipments (by id).
    order_ids = sorted({p.shipment.order_id for p in parcels.values()})
    shipment_ids = sorted({p.shipment_id for p in parcels.values()})
    list(CustomerOrder.objects.select_for_update().filter(pk__in=order_ids).order_by("pk"))
    list(Shipment.objects.select_for_update().filter(pk__in=shipment_ids).order_by("pk"))
    seen = set(
        TrackingEvent.objects.filter(
            carrier=carrier_code, event_id__in=[u.event_id for u in updates]
        ).values_list("event_id", flat=True)
    )
    counts: dict[str, Any] = {
        "received": len(updates),
        "recorded": 0,
        "duplicates": 0,
        "unknown": 0,
        "unknown_tracking_numbers": [],
        "delivered_parcels": 0,
        "delivered_shipments": 0,
    }
    unknown: set[str] = set()
    touched: dict[int, Shipment] = {}
    for update in sorted(updates, key=lambda u: (u.tracking_number, u.at, u.event_id)):
        parcel = parcels.get(update.tracking_number)
        if parcel is None:
            counts["unknown"] += 1
            unknown.add(update.tracking_number)
            continue
        if update.event_id in seen or not _store(parcel, carrier_code, update):
            counts["duplicates"] += 1
            continue
        seen.add(update.event_id)
        counts["recorded"] += 1
        _timeline(parcel, carrier_code, update, actor)
        if _follow(parcel, update.code):
            counts["delivered_parcels"] += 1
        touched[parcel.shipment_id] = parcel.shipment
    for shipment in touched.values():
        if _deliver_shipment(shipment, actor):
            counts["delivered_shipments"] += 1
        refresh_order_status(shipment.order)
    # Numbers that are no parcel of ours may be another document's (a transfer, 调拨).
    for recorder in tracking_recorders():
        if not unknown:
            break
        theirs = recorder(carrier_code, [u for u in updates if u.tracking_number in unknown])
        unknown -= set(theirs["matched"])
        counts["unknown"] = sum(1 for u in updates if u.tracking_number in unknown)
        counts["recorded"] += theirs["recorded"]
        counts["duplicates"] += theirs["duplicates"]
    counts["unknown_tracking_numbers"] = sorted(unknown)
    return counts


def _store(parcel: Parcel, carrier_code: str, update: TrackingUpdate) -> bool:
    """Insert the event; False when a concurrent request stored the same event id."""
    try:
        with transaction.atomic():
            TrackingEvent.objects.create(
                parcel=parcel,
                carrier=carrier_code,
                event_id=update.event_id,
                code=update.code,
                at=update.at,
                description=update.description[:300],
                place=update.place[:100],
                latitude=update.latitude,
                longitude=update.longitude,
            )
    except IntegrityError:
        return False
    return True


def _timeline(parcel: Parcel, carrier_code: str, update: TrackingUpdate, actor: Any) -> None:
    add_event(
        parcel.shipment.order,
        EventKind.TRACKING,
        actor=actor,
        shipment=parcel.shipment,
        at=update.at,
        carrier=carrier_code,
        tracking_number=update.tracking_number,
        parcel=parcel.seq,
        code=update.code,
        description=update.description,
        place=update.place,
        latitude=str(update.latitude) if update.latitude is not None else None,
        longitude=str(update.longitude) if update.longitude is not None else None,
    )


def _follow(parcel: Parcel, code: str) -> bool:
    """Move the parcel's status with the event; never back from delivered. True when this
    event delivered it."""
    if code == TrackingCode.DELIVERED:
        done = Parcel.objects.filter(
            pk=parcel.pk, status__in=[ParcelStatus.SHIPPED, ParcelStatus.EXCEPTION]
        ).update(status=ParcelStatus.DELIVERED)
        if done:
            parcel.status = ParcelStatus.DELIVERED
        return bool(done)
    if code in _TROUBLE:
        Parcel.objects.filter(pk=parcel.pk, status=ParcelStatus.SHIPPED).update(
            status=ParcelStatus.EXCEPTION
        )
    elif code in _MOVING:
        Parcel.objects.filter(pk=parcel.pk, status=ParcelStatus.EXCEPTION).update(
            status=ParcelStatus.SHIPPED
        )
    return False


def _deliver_shipment(shipment: Shipment, actor: Any) -> bool:
    """A shipment is delivered when every one of its parcels is."""
    statuses = set(shipment.parcels.values_list("status", flat=True))
    if statuses != {ParcelStatus.DELIVERED}:
        return False
    delivered_at = (
        TrackingEvent.objects.filter(
            parcel__shipment=shipment, code=TrackingCode.DELIVERED
        ).aggregate(at=Max("at"))["at"]
        or timezone.now()
    )
    if not Shipment.objects.filter(pk=shipment.pk, status=ShipmentStatus.SHIPPED).update(
        status=ShipmentStatus.DELIVERED, delivered_at=delivered_at
    ):
        return False
    shipment.status, shipment.delivered_at = ShipmentStatus.DELIVERED, delivered_at
    add_event(
        shipment.order,
        EventKind.DELIVERED,
        actor=actor,
        shipment=shipment,
        at=delivered_at,
        parcels=shipment.parcels.count(),
    )
    audit.record(
        actor=actor,
        action="shipment.deliver",
        obj=shipment,
        from_state=ShipmentStatus.SHIPPED,
        to_state=ShipmentStatus.DELIVERED,
        site_id=shipment.site_id,
    )
    return True


# -- the simulated carrier's side ------------------------------------------------------------
def run_simulated_carrier(
    *,
    steps: int | None = 1,
    due_only: bool = False,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Play the simulated carrier for every shipped parcel it carries: the next `steps`
    events of each parcel's journey (None: all the rest; `due_only`: only those whose
    planned time has passed), posted through the same path as its webhook (sign, verify,
    parse, record). Planned times in the future are brought back to now, so a demo can
    deliver today what was shipped today."""
    carrier = SimulatedCarrier()
    now = now or timezone.now()
    parcels = list(
        Parcel.objects.filter(
            carrier=carrier.code,
            tracking_number__isnull=False,
            status__in=[ParcelStatus.SHIPPED, ParcelStatus.EXCEPTION],
        )
        .select_related("shipment__order", "shipment__site")
        .order_by("pk")
    )
    totals: dict[str, Any] = {"parcels": len(parcels), "recorded": 0, "duplicates": 0}
    totals.update(delivered_parcels=0, delivered_shipments=0)
    for done, parcel in enumerate(parcels, start=1):
        events = _next_events(carrier, parcel, steps=steps, due_only=due_only, now=now)
        if events:
            body = carrier.payload(events)
            updates = carrier.parse_webhook(body, {SIGNATURE_HEADER: carrier.sign(body)})
            counts = record_tracking(carrier_code=carrier.code, updates=updates)
            for key in ("recorded", "duplicates", "delivered_parcels", "delivered_shipments"):
                totals[key] += counts[key]
        if progress is not None:
            progress(done, len(parcels))
    return totals


def _next_events(
    carrier: SimulatedCarrier,
    parcel: Parcel,
    *,
    steps: int | None,
    due_only: bool,
    now: dt.datetime,
) -> list[TrackingUpdate]:
    shipment = parcel.shipment
    order, site = shipment.order, shipment.site
    assert parcel.tracking_number is not None
    plan = carrier.simulate_events(
        parcel.tracking_number,
        (site.latitude, site.longitude, site.city),
        (order.latitude, order.longitude, order.city),
        shipment.shipped_at or now,
    )
    recorded = set(
        TrackingEvent.objects.filter(carrier=carrier.code, parcel=parcel).values_list(
            "event_id", flat=True
        )
    )
    pending = [u for u in plan if u.event_id not in recorded]
    if due_only:
        pending = [u for u in pending if u.at <= now]
    if steps is not None:
        pending = pending[:steps]
    return [_at_most(u, now) for u in pending]


def _at_most(update: TrackingUpdate, now: dt.datetime) -> TrackingUpdate:
    return update if update.at <= now else replace(update, at=now)
