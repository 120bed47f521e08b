"""Carrier tracking of transfers and the in-transit ageing report.

Carrier webhooks arrive at fulfilment's endpoint (one per carrier); updates whose tracking
numbers match no online-order parcel are handed here. Events are stored once per
(carrier, event id) and written to the transfer's timeline. `delivered` is only an event:
stock leaves transit when the destination receives by scan, never on the carrier's word.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from chainstore.core.permissions import ensure_can, scope_site_ids
from chainstore.core.quantities import milli_to_qty, value_fen
from chainstore.integrations.carriers import TrackingUpdate
from chainstore.transfers.models import (
    Transfer,
    TransferLine,
    TransferStatus,
    TransferTrackingEvent,
)
from chainstore.transfers.services.events import add_event

AGE_BUCKETS = [("0-2", 0, 2), ("3-7", 3, 7), ("8-14", 8, 14), (">14", 15, None)]


@transaction.atomic
def record_transfer_tracking(
    carrier_code: str, updates: Sequence[TrackingUpdate]
) -> dict[str, Any]:
    """Store the updates that belong to transfers of this carrier. Returns counts:
    recorded, duplicates, matched (tracking numbers that are transfers')."""
    numbers = {u.tracking_number for u in updates}
    transfers: dict[str, Transfer] = {
        t.tracking_number: t
        for t in Transfer.objects.filter(carrier=carrier_code, tracking_number__in=numbers)
        if t.tracking_number
    }
    counts: dict[str, Any] = {"recorded": 0, "duplicates": 0, "matched": sorted(transfers)}
    for update in sorted(updates, key=lambda u: (u.tracking_number, u.at, u.event_id)):
        transfer = transfers.get(update.tracking_number)
        if transfer is None:
            continue
        if not _store(transfer, carrier_code, update):
            counts["duplicates"] += 1
            continue
        counts["recorded"] += 1
        add_event(
            transfer,
            "tracking",
            at=update.at,
            carrier=carrier_code,
            tracking_number=update.tracking_number,
            code=update.code,
            description=update.description,
            place=update.place,
            latitude=str(update.latitude) if update.latitude is not None else None,
            longitude=str(update.longitude) if update.longitude is not None else None,
        )
    return counts


def _store(transfer: Transfer, carrier_code: str, update: TrackingUpdate) -> bool:
    """Insert the event; False when it was stored before (or by a concurrent request)."""
    try:
        with transaction.atomic():
            TransferTrackingEvent.objects.create(
                transfer=transfer,
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


def in_transit_ageing(
    *, actor: Any, site: Any = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Transfers with units still in transit (including short units awaiting a
    resolution), oldest first: days since shipped, the age bucket, units and value in
    transit (at the source cost). Scoped to transfers from or to the actor's sites."""
    ensure_can(actor, "transfers.view", sites=[site.pk] if site is not None else [])
    now = now or timezone.now()
    qs = Transfer.objects.filter(
        status__in=[TransferStatus.IN_TRANSIT, TransferStatus.RECEIVED], shipped_at__isnull=False
    ).select_related("source", "destination")
    allowed = scope_site_ids(actor)
    if allowed is not None:
        qs = qs.filter(Q(source_id__in=allowed) | Q(destination_id__in=allowed))
    if site is not None:
        qs = qs.filter(Q(source=site) | Q(destination=site))
    transfers = list(qs.order_by("shipped_at", "id"))
    lines: dict[int, list[TransferLine]] = {}
    for ln in TransferLine.objects.filter(transfer__in=transfers):
        lines.setdefault(ln.transfer_id, []).append(ln)
    rows = []
    buckets: dict[str, dict[str, Any]] = {
        name: {"bucket": name, "transfers": 0, "units": 0, "value_fen": 0}
        for name, _lo, _hi in AGE_BUCKETS
    }
    for t in transfers:
        units = sum(ln.in_transit for ln in lines.get(t.pk, []))
        if units <= 0:
            continue
        value = sum(value_fen(ln.in_transit, ln.unit_cost_micros) for ln in lines.get(t.pk, []))
        assert t.shipped_at is not None
        days = (now - t.shipped_at).days
        bucket = _bucket(days)
        rows.append(
            {
                "transfer": t,
                "number": t.number,
                "source": t.source.code,
                "destination": t.destination.code,
                "shipped_at": t.shipped_at,
                "days": days,
                "bucket": bucket,
                "units": units,
                "quantity": milli_to_qty(units),
                "value_fen": value,
                "tracking_number": t.tracking_number,
                "status": t.status,
            }
        )
        buckets[bucket]["transfers"] += 1
        buckets[bucket]["units"] += units
        buckets[bucket]["value_fen"] += value
    return {
        "rows": rows,
        "buckets": list(buckets.values()),
        "total_value_fen": sum(r["value_fen"] for r in rows),
    }


def _bucket(days: int) -> str:
    for name, low, high in AGE_BUCKETS:
        if days >= low and (high is None or days <= high):
            return name
    return AGE_BUCKETS[0][0]
