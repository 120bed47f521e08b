"""Shipping a packed shipment (PACKED -> SHIPPED): a carrier label per parcel, then the
stock counted at the check posted from the site's OUTBOUND staging to the customer.

Carriers are called outside the transaction: labels are booked first, stored only when
the shipment is posted, and voided when posting fails or a concurrent hand-over with the
same Idempotency-Key won.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chainstore.core import audit
from chainstore.core.errors import (
    Conflict,
    DomainError,
    IdempotencyKeyReused,
    InvalidState,
    ValidationFailed,
)
from chainstore.core.permissions import ensure_can
from chainstore.fulfilment.models import (
    EventKind,
    OrderLine,
    Parcel,
    ParcelStatus,
    PickedStock,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from chainstore.fulfilment.services.events import add_event
from chainstore.fulfilment.services.outbound._common import (
    carrier_code,
    locked,
    refuse_cancelled,
    refuse_status,
)
from chainstore.fulfilment.services.status import refresh_order_status
from chainstore.integrations.carriers import Address, CarrierError, Label, ParcelRequest
from chainstore.integrations.carriers.registry import get_carrier
from chainstore.inventory.services import StagedLine, ship_staged

_LABEL_ATTEMPTS = 3


class CarrierFailed(DomainError):
    """The carrier refused or could not be reached; nothing was shipped."""

    code = "carrier_failed"
    status = 502
    default_message = gettext_lazy("The carrier could not create a label.")


def ship(*, shipment: Shipment, actor: Any, idempotency_key: str) -> Shipment:
    """Hand a packed shipment to its carrier: a label per parcel, then one transaction that
    posts the picked lots from OUTBOUND to the customer, moves the order lines from
    allocated to shipped and marks everything shipped. A replay of the key returns the
    first result (`.replayed`) and posts nothing; if the carrier fails nothing ships."""
    if not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= 100:
        raise ValidationFailed(
            _("Send an Idempotency-Key of 1-100 characters."), code="idempotency_key_required"
        )
    prior = _shipped_with(idempotency_key, shipment, actor)
    if prior is not None:
        return prior
    ensure_can(actor, "fulfilment.ship", sites=[shipment.site_id])
    shipment = Shipment.objects.select_related("order", "order__channel", "site").get(
        pk=shipment.pk
    )
    refuse_cancelled(shipment)
    if shipment.status != ShipmentStatus.PACKED:
        refuse_status(shipment, ShipmentStatus.PACKED)
    parcels = list(shipment.parcels.order_by("seq"))
    adapter = get_carrier(carrier_code(shipment))
    labels = _book_labels(adapter, shipment, parcels)
    try:
        with transaction.atomic():
            done = _post_shipment(shipment, parcels, labels, actor, idempotency_key)
    except BaseException:
        _cancel_labels(adapter, labels)
        raise
    if done is not shipment:  # a concurrent request with the same key won
        _cancel_labels(adapter, labels)
    return done


def _shipped_with(key: str, shipment: Shipment, actor: Any) -> Shipment | None:
    prior = Shipment.objects.filter(ship_idempotency_key=key).first()
    if prior is None:
        return None
    if prior.pk != shipment.pk:
        raise IdempotencyKeyReused(idempotency_key=key)
    ensure_can(actor, "fulfilment.ship", sites=[prior.site_id])
    prior.replayed = True  # type: ignore[attr-defined]
    return prior


def _post_shipment(
    shipment: Shipment, parcels: list[Parcel], labels: list[Label], actor: Any, key: str
) -> Shipment:
    now = timezone.now()
    refuse_cancelled(locked(shipment))
    claimed = Shipment.objects.filter(
        pk=shipment.pk, status=ShipmentStatus.PACKED, ship_idempotency_key__isnull=True
    ).update(status=ShipmentStatus.SHIPPED, shipped_at=now, ship_idempotency_key=key)
    if not claimed:
        winner = _shipped_with(key, shipment, actor)
        if winner is not None:
            return winner
        shipment.refresh_from_db()
        refuse_status(shipment, ShipmentStatus.PACKED)
    if set(shipment.parcels.values_list("pk", flat=True)) != {p.pk for p in parcels}:
        raise Conflict(_("The parcels changed while shipping; try again."), code="parcels_changed")
    for parcel, label in zip(parcels, labels, strict=True):
        Parcel.objects.filter(pk=parcel.pk).update(
            status=ParcelStatus.SHIPPED,
            tracking_number=label.tracking_number,
            label_format=label.format,
            label=label.content,
        )
        parcel.tracking_number = label.tracking_number
    lines = list(shipment.lines.select_related("sku", "order_line"))
    ship_staged(
        site=shipment.site,
        lines=_staged_lines(lines),
        actor=actor,
        reference=shipment.number,
    )
    for line in lines:
        if line.checked and not OrderLine.objects.filter(
            pk=line.order_line_id, allocated__gte=line.checked
        ).update(allocated=F("allocated") - line.checked, shipped=F("shipped") + line.checked):
            raise InvalidState(
                _("The order line no longer holds this shipment's quantity."),
                code="order_line_changed",
                line_id=line.order_line_id,
            )
    shipment.status, shipment.shipped_at, shipment.ship_idempotency_key = (
        ShipmentStatus.SHIPPED,
        now,
        key,
    )
    code = carrier_code(shipment)
    add_event(
        shipment.order,
        EventKind.SHIPPED,
        actor=actor,
        shipment=shipment,
        at=now,
        shipped_by=actor.get_username(),
        carrier=code,
        tracking_numbers=[p.tracking_number for p in parcels],
    )
    audit.record(
        actor=actor,
        action="shipment.ship",
        obj=shipment,
        from_state=ShipmentStatus.PACKED,
        to_state=ShipmentStatus.SHIPPED,
        site_id=shipment.site_id,
        data={"carrier": code, "tracking_numbers": [p.tracking_number for p in parcels]},
    )
    refresh_order_status(shipment.order)
    shipment.replayed = False  # type: ignore[attr-defined]
    return shipment


def _staged_lines(lines: list[ShipmentLine]) -> list[StagedLine]:
    """What the picks put into OUTBOUND for these lines, merged per (location, lot). Every
    row must have been counted in full at the check, and the rows must add up to the
    line's count: what leaves is exactly what was checked, lot by lot."""
    by_key: dict[tuple[int, int, int | None], int] = defaultdict(int)
    objects: dict[tuple[int, int, int | None], tuple[Any, Any, Any]] = {}
    per_line: dict[int, int] = defaultdict(int)
    wrong: set[int] = set()
    rows = PickedStock.objects.filter(shipment_line__in=lines).select_related("location", "lot")
    sku_of = {ln.pk: ln.sku for ln in lines}
    for row in rows:
        key = (row.location_id, sku_of[row.shipment_line_id].pk, row.lot_id)
        by_key[key] += row.quantity
        objects[key] = (row.location, sku_of[row.shipment_line_id], row.lot)
        per_line[row.shipment_line_id] += row.quantity
        if row.checked != row.quantity:
            wrong.add(row.shipment_line_id)
    wrong.update(ln.pk for ln in lines if per_line[ln.pk] != ln.checked)
    if wrong:
        raise InvalidState(
            _("What was picked does not match what was checked."),
            code="picked_stock_mismatch",
            lines=sorted(wrong),
        )
    return [
        StagedLine(location=loc, sku=sku, lot=lot, quantity=by_key[key])
        for key, (loc, sku, lot) in objects.items()
    ]


def _book_labels(adapter: Any, shipment: Shipment, parcels: list[Parcel]) -> list[Label]:
    """One label per parcel, before anything is written. A tracking number already on file
    is voided and asked for again; any carrier failure voids what was booked."""
    order = shipment.order
    site = shipment.site
    sender = Address(
        name=site.name,
        phone="",
        address=site.address or site.name,
        city=site.city,
        province=site.region,
        latitude=site.latitude,
        longitude=site.longitude,
    )
    receiver = Address(
        name=order.customer_name,
        phone=order.phone,
        address=" ".join(p for p in (order.district, order.address) if p),
        city=order.city,
        province=order.province,
        postcode=order.postcode,
        latitude=order.latitude,
        longitude=order.longitude,
    )
    labels: list[Label] = []
    try:
        for parcel in parcels:
            request = ParcelRequest(
                reference=f"{shipment.number}-{parcel.seq}",
                weight_g=parcel.weight_g,
                sender=sender,
                receiver=receiver,
                items=_units(parcel),
                note=f"{order.number} {parcel.seq}/{len(parcels)}",
            )
            labels.append(_book_one(adapter, request))
    except (CarrierError, OSError) as exc:
        _cancel_labels(adapter, labels)
        raise CarrierFailed(
            _("The carrier %(carrier)s could not create a label: %(reason)s")
            % {"carrier": adapter.name, "reason": exc},
            carrier=adapter.code,
            carrier_code=getattr(exc, "code", type(exc).__name__),
        ) from exc
    return labels


def _book_one(adapter: Any, request: ParcelRequest) -> Label:
    for _attempt in range(_LABEL_ATTEMPTS):
        label: Label = adapter.create_label(request)
        if not Parcel.objects.filter(tracking_number=label.tracking_number).exists():
            return label
        adapter.cancel_label(label.tracking_number)
    raise CarrierError("the carrier keeps returning tracking numbers already in use")


def _cancel_labels(adapter: Any, labels: list[Label]) -> None:
    """Best effort: a label that cannot be voided is only a wasted number."""
    for label in labels:
        try:
            adapter.cancel_label(label.tracking_number)
        except (CarrierError, OSError):
            continue


def _units(parcel: Parcel) -> int:
    count = 0
    for item in parcel.items.select_related("shipment_line__sku"):
        weighed = item.shipment_line.sku.is_weighed
        count += 1 if weighed else max(1, item.quantity // 1000)
    return max(count, 1)
