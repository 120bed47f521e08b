"""Reservations and safety stock."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.core import audit
from chainstore.core.errors import ValidationFailed
from chainstore.core.idempotency import fingerprint
from chainstore.core.permissions import ensure_can
from chainstore.inventory.models import (
    Balance,
    Lot,
    OperationKind,
    Reservation,
    ReservationStatus,
    SiteSku,
    StockOperation,
)
from chainstore.inventory.posting import Posting
from chainstore.inventory.services._common import (
    _internal,
    _issue_sources,
    _open,
    _positive,
    _run,
    site_today,
)
from chainstore.sites.models import Location, Site


# -- reservations ----------------------------------------------------------------------
def reserve(
    *,
    site: Site,
    sku: Sku,
    quantity: int,
    actor: Any,
    reference: str = "",
    location: Location | None = None,
    idempotency_key: str | None = None,
) -> StockOperation:
    """Hold available stock (FEFO lots) for a document; available = on hand - reserved."""
    ensure_can(actor, "inventory.reserve", sites=[site.pk])
    _positive(quantity)
    if location is not None:
        _internal(location, site)
    request_hash = fingerprint(
        {
            "op": "reserve",
            "site": site.pk,
            "sku": sku.pk,
            "q": quantity,
            "ref": reference,
            "loc": location.pk if location else None,
        }
    )

    def create() -> StockOperation:
        op = _open(
            OperationKind.RESERVE,
            site=site,
            actor=actor,
            key=idempotency_key,
            request_hash=request_hash,
            reference=reference,
        )
        posting = Posting(op)
        posting.lock([(site.pk, sku.pk)])
        sources = _issue_sources(site, location)
        parts = posting.take_fefo(sources, sku, quantity, today=site_today(site), reserve=True)
        for part in parts:
            Reservation.objects.create(
                operation=op,
                site=site,
                location=part.location,
                sku=sku,
                lot=part.lot,
                quantity=part.quantity,
                open_quantity=part.quantity,
                reference=reference,
            )
        return op

    return _run(idempotency_key, request_hash, create)


def release(
    *,
    reservation: Reservation,
    actor: Any,
    quantity: int | None = None,
    idempotency_key: str | None = None,
) -> Reservation:
    """Give back all (or part) of a reservation's open quantity. A replay with the same
    key releases nothing more and returns the reservation as it is now."""
    ensure_can(actor, "inventory.reserve", sites=[reservation.site_id])
    amount = reservation.open_quantity if quantity is None else quantity
    if quantity is not None:
        _positive(quantity)
    request_hash = fingerprint({"op": "release", "reservation": reservation.pk, "q": quantity})

    def create() -> StockOperation:
        _positive(amount)
        op = _open(
            OperationKind.RELEASE,
            site=reservation.site,
            actor=actor,
            key=idempotency_key,
            request_hash=request_hash,
            reference=f"reservation:{reservation.pk}",
        )
        updated = Reservation.objects.filter(
            pk=reservation.pk, status=ReservationStatus.ACTIVE, open_quantity__gte=amount
        ).update(open_quantity=F("open_quantity") - amount)
        if not updated:
            raise ValidationFailed(
                _("The reservation does not hold that much."), code="reservation_exceeded"
            )
        Balance.objects.filter(
            location=reservation.location, sku_id=reservation.sku_id, lot=reservation.lot
        ).update(reserved=F("reserved") - amount)
        Reservation.objects.filter(pk=reservation.pk, open_quantity=0).update(
            status=ReservationStatus.RELEASED
        )
        audit.record(
            actor=actor,
            action="reservation.release",
            obj=reservation,
            from_state=ReservationStatus.ACTIVE,
            to_state=Reservation.objects.get(pk=reservation.pk).status,
            site_id=reservation.site_id,
            data={"quantity": amount},
        )
        return op

    _run(idempotency_key, request_hash, create)
    reservation.refresh_from_db()
    return reservation


def shorten_reservations_for_loss(
    *, location: Location, sku: Sku, lot: Lot | None, quantity: int, actor: Any
) -> int:
    """A counted loss is physical. If taking it would leave less on hand than is reserved,
    shorten the newest reservations of that key by the difference: they are no longer
    backed by stock. Call under the posting's (site, sku) lock. Returns the amount cut."""
    row = (
        Balance.objects.filter(location=location, sku=sku, lot=lot)
        .values_list("on_hand", "reserved")
        .first()
    )
    if row is None:
        return 0
    on_hand, reserved = row
    excess = reserved - max(on_hand - quantity, 0)
    cut_total = 0
    active = Reservation.objects.filter(
        location=location, sku=sku, lot=lot, status=ReservationStatus.ACTIVE
    ).order_by("-id")
    for reservation in active:
        if excess <= 0:
            break
        cut = min(excess, reservation.open_quantity)
        if not Reservation.objects.filter(pk=reservation.pk, open_quantity__gte=cut).update(
            open_quantity=F("open_quantity") - cut
        ):
            continue  # released meanwhile
        Reservation.objects.filter(pk=reservation.pk, open_quantity=0).update(
            status=ReservationStatus.RELEASED
        )
        Balance.objects.filter(location=location, sku=sku, lot=lot).update(
            reserved=F("reserved") - cut
        )
        audit.record(
            actor=actor,
            action="reservation.shortened",
            obj=reservation,
            from_state=ReservationStatus.ACTIVE,
            to_state=Reservation.objects.get(pk=reservation.pk).status,
            site_id=reservation.site_id,
            data={"quantity": cut, "reason": "count"},
        )
        excess -= cut
        cut_total += cut
    return cut_total


# -- safety stock ----------------------------------------------------------------------
@transaction.atomic
def set_safety_stock(*, site: Site, sku: Sku, quantity: int | None, actor: Any) -> SiteSku:
    ensure_can(actor, "inventory.safety_stock", sites=[site.pk])
    if quantity is not None and quantity < 0:
        raise ValidationFailed(_("Safety stock cannot be negative."), code="invalid_quantity")
    row, _created = SiteSku.objects.get_or_create(site=site, sku=sku)
    SiteSku.objects.filter(pk=row.pk).update(safety_stock=quantity)
    audit.record(
        actor=actor,
        action="safety_stock.set",
        obj=row,
        site_id=site.pk,
        data={"from": row.safety_stock, "to": quantity},
    )
    row.safety_stock = quantity
    return row
