"""Stock primitives of outbound documents (online-order shipments, transfers): reserve the
lines of a document at one or more sites in one posting, pick what is reserved into a
staging location, post staged stock out, release holds. The caller owns the transaction and
the document; these keep the ledger, the balances and the reservations in step."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.core import audit
from chainstore.core.errors import ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.inventory.errors import ExpiredLot, InvalidLocation
from chainstore.inventory.locks import lock_site_skus, lock_sites_shared
from chainstore.inventory.models import (
    Balance,
    Lot,
    OperationKind,
    Reservation,
    ReservationStatus,
    StockOperation,
)
from chainstore.inventory.posting import Posting, Taken
from chainstore.inventory.services._common import (
    ISSUE_KINDS,
    _internal,
    _issue_sources,
    _open,
    _positive,
    site_today,
)
from chainstore.sites.models import Location, LocationKind, Site
from chainstore.sites.services import virtual_location


@dataclass(frozen=True)
class ReserveLine:
    site: Site
    sku: Sku
    quantity: int


def available_to_promise(
    *, site_ids: list[int], sku_ids: list[int], today: dt.date | None = None
) -> dict[tuple[int, int], int]:
    """Available (on hand - reserved) per (site, sku) in the locations stock is issued and
    reserved from (storage bins, selling/shipping), never counting expired lots or balances
    driven negative by short sales. The same rows `reserve_lines` takes from."""
    if not site_ids or not sku_ids:
        return {}
    qs = Balance.objects.filter(
        site_id__in=site_ids,
        sku_id__in=sku_ids,
        location__kind__in=ISSUE_KINDS,
        location__is_active=True,
        on_hand__gt=F("reserved"),
    )
    if today is not None:
        qs = qs.filter(
            Q(lot__isnull=True) | Q(lot__expiry_date__isnull=True) | Q(lot__expiry_date__gte=today)
        )
    rows = qs.values("site_id", "sku_id").annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    return {(r["site_id"], r["sku_id"]): r["on_hand"] - r["reserved"] for r in rows}


@transaction.atomic
def reserve_lines(
    *,
    lines: list[ReserveLine],
    actor: Any,
    reference: str,
    expires_at: dt.datetime | None = None,
) -> list[Reservation]:
    """Reserve every line FEFO (never an expired lot) in one posting, across sites: all or
    nothing. Refuses with InsufficientStock when any line is short; call inside the caller's
    transaction so a refusal rolls the document back too. Locks (site, sku) in global order."""
    if not lines:
        return []
    site_ids = sorted({ln.site.pk for ln in lines})
    ensure_can(actor, "inventory.reserve", sites=site_ids)
    for ln in lines:
        _positive(ln.quantity)
    op = _open(
        OperationKind.RESERVE,
        site=lines[0].site if len(site_ids) == 1 else None,
        actor=actor,
        key=None,
        request_hash="",
        reference=reference,
    )
    posting = Posting(op)
    posting.lock((ln.site.pk, ln.sku.pk) for ln in lines)
    merged: dict[tuple[int, int], int] = defaultdict(int)
    by_key: dict[tuple[int, int], ReserveLine] = {}
    for ln in lines:
        merged[(ln.site.pk, ln.sku.pk)] += ln.quantity
        by_key[(ln.site.pk, ln.sku.pk)] = ln
    sources: dict[int, list[Location]] = {}
    out: list[Reservation] = []
    for key in sorted(merged):
        ln = by_key[key]
        if ln.site.pk not in sources:
            sources[ln.site.pk] = _issue_sources(ln.site, None)
        parts = posting.take_fefo(
            sources[ln.site.pk], ln.sku, merged[key], today=site_today(ln.site), reserve=True
        )
        for part in parts:
            out.append(
                Reservation(
                    operation=op,
                    site=ln.site,
                    location=part.location,
                    sku=ln.sku,
                    lot=part.lot,
                    quantity=part.quantity,
                    open_quantity=part.quantity,
                    reference=reference[:100],
                    expires_at=expires_at,
                )
            )
    return Reservation.objects.bulk_create(out)


@transaction.atomic
def release_reservations(*, reservations: list[Reservation], actor: Any, reason: str) -> int:
    """Give back the open quantity of each reservation (cancel, timeout, re-sourcing).
    Conditional updates: a reservation already released or consumed gives back nothing.
    Takes the (site, sku) locks first, like every posting, so a release never deadlocks with
    a pick or a reservation of the same stock. Returns the total released."""
    total = 0
    if not reservations:
        return 0
    pairs = [(r.site_id, r.sku_id) for r in reservations]
    lock_sites_shared(site for site, _sku in pairs)
    lock_site_skus(pairs)
    for res in sorted(reservations, key=lambda r: (r.site_id, r.sku_id, r.pk)):
        res.refresh_from_db(fields=["open_quantity", "status"])
        amount = res.open_quantity
        if res.status != ReservationStatus.ACTIVE or amount <= 0:
            continue
        ensure_can(actor, "inventory.reserve", sites=[res.site_id])
        if not Reservation.objects.filter(
            pk=res.pk, status=ReservationStatus.ACTIVE, open_quantity=amount
        ).update(open_quantity=0, status=ReservationStatus.RELEASED):
            continue  # changed under us: whoever changed it owns the balance update
        Balance.objects.filter(
            location_id=res.location_id, sku_id=res.sku_id, lot=res.lot_id
        ).update(reserved=F("reserved") - amount)
        audit.record(
            actor=actor,
            action="reservation.release",
            obj=res,
            from_state=ReservationStatus.ACTIVE,
            to_state=ReservationStatus.RELEASED,
            site_id=res.site_id,
            data={"quantity": amount, "reason": reason},
        )
        total += amount
    return total


@transaction.atomic
def pick_reserved(
    *,
    reservation: Reservation,
    quantity: int,
    to_location: Location,
    actor: Any,
    reference: str,
    from_location: Location | None = None,
    lot: Lot | None = None,
) -> list[Taken]:
    """Move `quantity` held by `reservation` from its bin into `to_location` (the site's
    outbound staging), consuming the reservation. When the picker took it from another bin
    or another lot, that much of the reservation is released and the same quantity is taken
    from what is available there instead (never an expired lot). Returns what was taken."""
    _positive(quantity)
    site = reservation.site
    ensure_can(actor, "inventory.move", sites=[site.pk])
    _internal(to_location, site)
    source = from_location or reservation.location
    _internal(source, site)
    if source.kind not in ISSUE_KINDS:
        raise InvalidLocation(
            _("Stock is picked only from storage bins and selling/shipping locations."),
            code="not_an_issue_location",
            location=source.code,
        )
    sku = reservation.sku
    if lot is not None and lot.sku_id != sku.pk:
        raise ValidationFailed(_("The lot belongs to another SKU."), code="lot_sku_mismatch")
    substitute = source.pk != reservation.location_id or (
        lot is not None and lot.pk != reservation.lot_id
    )
    op = _open(
        OperationKind.PICK, site=site, actor=actor, key=None, request_hash="", reference=reference
    )
    posting = Posting(op)
    posting.lock([(site.pk, sku.pk)])
    if not Reservation.objects.filter(
        pk=reservation.pk, status=ReservationStatus.ACTIVE, open_quantity__gte=quantity
    ).update(open_quantity=F("open_quantity") - quantity):
        raise ValidationFailed(
            _("The reservation does not hold that much."), code="reservation_exceeded"
        )
    Reservation.objects.filter(pk=reservation.pk, open_quantity=0).update(
        status=ReservationStatus.CONSUMED
    )
    if substitute:
        Balance.objects.filter(
            location_id=reservation.location_id, sku_id=sku.pk, lot=reservation.lot_id
        ).update(reserved=F("reserved") - quantity)
        today = site_today(site)
        if lot is not None and lot.expiry_date is not None and lot.expiry_date < today:
            raise ExpiredLot(sku=sku.code, lot=lot.number, expiry=str(lot.expiry_date))
        if lot is not None or not sku.is_lot_tracked:
            posting.take(source, sku, lot, quantity)
            parts = [Taken(source, lot, quantity)]
        else:
            parts = posting.take_fefo([source], sku, quantity, today=today)
    else:
        posting.take(source, sku, reservation.lot, quantity, consume_reserved=True)
        parts = [Taken(source, reservation.lot, quantity)]
    for part in parts:
        posting.put(to_location, sku, part.lot, part.quantity)
        posting.record(
            sku=sku,
            lot=part.lot,
            quantity=part.quantity,
            from_location=part.location,
            to_location=to_location,
            reason="pick",
        )
    posting.finish()
    reservation.refresh_from_db()
    return parts


@dataclass(frozen=True)
class StagedLine:
    location: Location
    sku: Sku
    lot: Lot | None
    quantity: int


@transaction.atomic
def ship_staged(
    *,
    site: Site,
    lines: list[StagedLine],
    actor: Any,
    reference: str,
    to_kind: str = LocationKind.CUSTOMER,
) -> StockOperation:
    """Post staged (picked and checked) stock out of the site: to the customer (online
    orders) or into transit (transfers). One posting; refuses if any line is not there."""
    ensure_can(actor, "inventory.issue", sites=[site.pk])
    if not lines:
        raise ValidationFailed(_("Nothing to ship."), code="nothing_to_ship")
    for ln in lines:
        _positive(ln.quantity)
        _internal(ln.location, site)
    op = _open(
        OperationKind.SHIPMENT,
        site=site,
        actor=actor,
        key=None,
        request_hash="",
        reference=reference,
    )
    posting = Posting(op)
    posting.lock((site.pk, ln.sku.pk) for ln in lines)
    destination = virtual_location(to_kind)
    for ln in sorted(lines, key=lambda x: (x.sku.pk, x.lot.pk if x.lot else 0, x.location.pk)):
        posting.take(ln.location, ln.sku, ln.lot, ln.quantity)
        posting.record(
            sku=ln.sku,
            lot=ln.lot,
            quantity=ln.quantity,
            from_location=ln.location,
            to_location=destination,
            reason="shipment",
        )
    posting.finish()
    return op


@transaction.atomic
def write_off_missing(
    *, location: Location, sku: Sku, lot: Lot | None, quantity: int, actor: Any, reference: str
) -> int:
    """A picker found less than the ledger says (short pick): write off up to `quantity` of
    what is available (not reserved) at the bin to inventory loss, reason `pick_short`, so
    the stock is not promised again. A later count puts back what turns up. Returns the
    quantity written off (0 when other reservations hold all that is left)."""
    _positive(quantity)
    site = _site_of_location(location)
    ensure_can(actor, "inventory.issue", sites=[site.pk])
    op = _open(
        OperationKind.ADJUSTMENT,
        site=site,
        actor=actor,
        key=None,
        request_hash="",
        reference=reference,
        note="pick_short",
    )
    posting = Posting(op)
    posting.lock([(site.pk, sku.pk)])
    row = (
        Balance.objects.filter(location=location, sku=sku, lot=lot)
        .values_list("on_hand", "reserved")
        .first()
    )
    amount = min(quantity, max(row[0] - row[1], 0)) if row else 0
    if amount <= 0:
        return 0
    posting.take(location, sku, lot, amount)
    posting.record(
        sku=sku,
        lot=lot,
        quantity=amount,
        from_location=location,
        to_location=virtual_location(LocationKind.ADJUSTMENT),
        reason="pick_short",
    )
    posting.finish()
    return amount


def _site_of_location(location: Location) -> Site:
    _internal(location)
    assert location.site is not None
    return location.site
