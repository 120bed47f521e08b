"""Stock use cases. Each public function is one transaction and one StockOperation.

Quantities are integer thousandths of the base unit; costs integer micro-yuan.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.core import audit
from chainstore.core.errors import ValidationFailed
from chainstore.core.idempotency import fingerprint, run_idempotent
from chainstore.core.permissions import ensure_can
from chainstore.inventory.errors import (
    ExpiredLot,
    ExpiryRequired,
    InvalidLocation,
    LotExpiryMismatch,
    LotNotTracked,
    LotRequired,
)
from chainstore.inventory.models import (
    Balance,
    Lot,
    OperationKind,
    Reservation,
    ReservationStatus,
    SiteSku,
    StockOperation,
)
from chainstore.inventory.posting import Posting, Taken
from chainstore.sites.models import Location, LocationKind, Site
from chainstore.sites.services import virtual_location

ISSUE_KINDS = (LocationKind.STORAGE, LocationKind.SELLING)


@dataclass(frozen=True)
class ReceiptLine:
    sku: Sku
    quantity: int
    unit_cost_micros: int | None = None
    lot_number: str | None = None
    expiry_date: dt.date | None = None
    location: Location | None = None


def site_today(site: Site) -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(site.timezone)).date()


def _positive(quantity: int) -> None:
    if not isinstance(quantity, int) or quantity <= 0:
        raise ValidationFailed(_("Quantity must be greater than zero."), code="invalid_quantity")


def _find_op(key: str) -> StockOperation | None:
    return StockOperation.objects.filter(idempotency_key=key).first()


def _open(
    kind: str,
    *,
    site: Site | None,
    actor: Any,
    key: str | None,
    request_hash: str,
    reference: str = "",
    partner: str = "",
    note: str = "",
) -> StockOperation:
    op = StockOperation.objects.create(
        kind=kind,
        site=site,
        actor=actor if getattr(actor, "pk", None) else None,
        idempotency_key=key,
        request_hash=request_hash,
        reference=reference[:100],
        partner=partner[:100],
        note=note[:500],
    )
    audit.record(
        actor=actor,
        action=f"stock.{kind}",
        obj=op,
        to_state="posted",
        site_id=site.pk if site else None,
    )
    return op


def _site_of(location: Location) -> Site:
    if location.site is None:
        raise InvalidLocation(_("Use a physical location."), location=location.code)
    return location.site


def _internal(location: Location, site: Site | None = None) -> None:
    if location.is_virtual or location.site_id is None:
        raise InvalidLocation(_("Use a physical location."), location=location.code)
    if site is not None and location.site_id != site.pk:
        raise InvalidLocation(_("The location belongs to another site."), location=location.code)


# -- lots ------------------------------------------------------------------------------
def _resolve_lot(
    sku: Sku, number: str | None, expiry: dt.date | None, *, today: dt.date, receiving: bool
) -> Lot | None:
    if not sku.is_lot_tracked:
        if number:
            raise LotNotTracked(sku=sku.code)
        return None
    if not number:
        raise LotRequired(sku=sku.code)
    lot = Lot.objects.filter(sku=sku, number=number).first()
    if lot is None:
        if receiving and expiry is None and sku.shelf_life_days:
            raise ExpiryRequired(sku=sku.code, lot=number)
        try:
            with transaction.atomic():
                lot = Lot.objects.create(
                    sku=sku,
                    number=number,
                    expiry_date=expiry,
                    first_received_at=timezone.now() if receiving else None,
                )
        except IntegrityError:
            lot = Lot.objects.get(sku=sku, number=number)
    if expiry is not None and lot.expiry_date is not None and lot.expiry_date != expiry:
        raise LotExpiryMismatch(
            sku=sku.code, lot=number, recorded=str(lot.expiry_date), given=str(expiry)
        )
    if expiry is not None and lot.expiry_date is None:
        Lot.objects.filter(pk=lot.pk).update(expiry_date=expiry)
        lot.expiry_date = expiry
    if receiving and lot.expiry_date is not None and lot.expiry_date < today:
        raise ExpiredLot(
            _("This lot has already expired; it cannot be received."),
            sku=sku.code,
            lot=number,
            expiry=str(lot.expiry_date),
        )
    if receiving and lot.first_received_at is None:
        Lot.objects.filter(pk=lot.pk).update(first_received_at=timezone.now())
    return lot


@transaction.atomic
def correct_lot_expiry(*, lot: Lot, expiry_date: dt.date | None, actor: Any) -> Lot:
    """Fix a lot's expiry after receipt; FEFO order follows immediately."""
    ensure_can(actor, "inventory.lots")
    before = lot.expiry_date
    Lot.objects.filter(pk=lot.pk).update(expiry_date=expiry_date)
    lot.expiry_date = expiry_date
    audit.record(
        actor=actor,
        action="lot.correct_expiry",
        obj=lot,
        data={"from": str(before), "to": str(expiry_date)},
    )
    return lot


# -- receiving -------------------------------------------------------------------------
def receive(
    *,
    site: Site,
    lines: Sequence[ReceiptLine],
    actor: Any,
    supplier: str = "",
    reference: str = "",
    idempotency_key: str | None = None,
    kind: str = OperationKind.RECEIPT,
) -> StockOperation:
    """入库: stock arrives from a supplier into the receiving (or a given) location."""
    ensure_can(actor, "inventory.receive", sites=[site.pk])
    if not lines:
        raise ValidationFailed(_("A receipt needs at least one line."), code="empty_document")
    for line in lines:
        _positive(line.quantity)
        if line.unit_cost_micros is not None and line.unit_cost_micros < 0:
            raise ValidationFailed(_("Unit cost cannot be negative."), code="negative_amount")
        if line.location is not None:
            _internal(line.location, site)
    request_hash = fingerprint(
        {
            "op": kind,
            "site": site.pk,
            "supplier": supplier,
            "reference": reference,
            "lines": [
                [
                    ln.sku.pk,
                    ln.quantity,
                    ln.unit_cost_micros,
                    ln.lot_number,
                    ln.expiry_date,
                    ln.location.pk if ln.location else None,
                ]
                for ln in lines
            ],
        }
    )

    def create() -> StockOperation:
        op = _open(
            kind,
            site=site,
            actor=actor,
            key=idempotency_key,
            request_hash=request_hash,
            reference=reference,
            partner=supplier,
        )
        posting = Posting(op)
        posting.lock((site.pk, ln.sku.pk) for ln in lines)
        supplier_loc = virtual_location(LocationKind.SUPPLIER)
        today = site_today(site)
        default_loc = site.receiving_location
        for ln in sorted(lines, key=lambda ln: (ln.sku.pk, ln.lot_number or "")):
            lot = _resolve_lot(ln.sku, ln.lot_number, ln.expiry_date, today=today, receiving=True)
            dest = ln.location or default_loc
            assert dest is not None
            posting.put(dest, ln.sku, lot, ln.quantity)
            posting.record(
                sku=ln.sku,
                lot=lot,
                quantity=ln.quantity,
                from_location=supplier_loc,
                to_location=dest,
                reason=kind,
                unit_cost_micros=ln.unit_cost_micros
                if ln.unit_cost_micros is not None
                else ln.sku.standard_cost_micros,
            )
        posting.finish()
        return op

    return run_idempotent(
        key=idempotency_key, request_hash=request_hash, find=_find_op, create=create
    )


# -- internal moves --------------------------------------------------------------------
def move_stock(
    *,
    sku: Sku,
    quantity: int,
    from_location: Location,
    to_location: Location,
    actor: Any,
    lot: Lot | None = None,
    idempotency_key: str | None = None,
    kind: str = OperationKind.MOVE,
) -> StockOperation:
    """Move between two physical locations of one site (上架 put-away or bin-to-bin)."""
    _internal(from_location)
    _internal(to_location)
    if from_location.site_id != to_location.site_id:
        raise InvalidLocation(
            _("Both locations must be at the same site; use a transfer."), code="cross_site_move"
        )
    if from_location.pk == to_location.pk:
        raise InvalidLocation(_("Source and destination are the same."), code="same_location")
    ensure_can(actor, "inventory.move", sites=[from_location.site_id])
    _positive(quantity)
    if lot is not None and lot.sku_id != sku.pk:
        raise ValidationFailed(_("The lot belongs to another SKU."), code="lot_sku_mismatch")
    site = _site_of(from_location)
    request_hash = fingerprint(
        {
            "op": kind,
            "sku": sku.pk,
            "q": quantity,
            "from": from_location.pk,
            "to": to_location.pk,
            "lot": lot.pk if lot else None,
        }
    )

    def create() -> StockOperation:
        op = _open(kind, site=site, actor=actor, key=idempotency_key, request_hash=request_hash)
        posting = Posting(op)
        posting.lock([(site.pk, sku.pk)])
        if lot is None and sku.is_lot_tracked:
            parts = posting.take_fefo([from_location], sku, quantity, today=dt.date.min)
        else:
            posting.take(from_location, sku, lot, quantity)
            parts = [Taken(from_location, lot, quantity)]
        for part in parts:
            posting.put(to_location, sku, part.lot, part.quantity)
            posting.record(
                sku=sku,
                lot=part.lot,
                quantity=part.quantity,
                from_location=from_location,
                to_location=to_location,
                reason=kind,
            )
        posting.finish()
        return op

    return run_idempotent(
        key=idempotency_key, request_hash=request_hash, find=_find_op, create=create
    )


def put_away(**kwargs: Any) -> StockOperation:
    """上架: from the receiving location to a storage bin."""
    return move_stock(kind=OperationKind.PUTAWAY, **kwargs)


# -- issue -----------------------------------------------------------------------------
def issue(
    *,
    site: Site,
    sku: Sku,
    quantity: int,
    actor: Any,
    location: Location | None = None,
    lot: Lot | None = None,
    reason: str = "issue",
    reference: str = "",
    idempotency_key: str | None = None,
) -> StockOperation:
    """出库: take available stock FEFO (then FIFO) to the customer; never an expired lot."""
    ensure_can(actor, "inventory.issue", sites=[site.pk])
    _positive(quantity)
    if location is not None:
        _internal(location, site)
    if lot is not None and lot.sku_id != sku.pk:
        raise ValidationFailed(_("The lot belongs to another SKU."), code="lot_sku_mismatch")
    today = site_today(site)
    if lot is not None and lot.expiry_date is not None and lot.expiry_date < today:
        raise ExpiredLot(sku=sku.code, lot=lot.number, expiry=str(lot.expiry_date))
    request_hash = fingerprint(
        {
            "op": "issue",
            "site": site.pk,
            "sku": sku.pk,
            "q": quantity,
            "loc": location.pk if location else None,
            "lot": lot.pk if lot else None,
            "reason": reason,
            "ref": reference,
        }
    )

    def create() -> StockOperation:
        op = _open(
            OperationKind.ISSUE,
            site=site,
            actor=actor,
            key=idempotency_key,
            request_hash=request_hash,
            reference=reference,
            note=reason,
        )
        posting = Posting(op)
        posting.lock([(site.pk, sku.pk)])
        sources = (
            [location]
            if location is not None
            else list(Location.objects.filter(site=site, kind__in=ISSUE_KINDS, is_active=True))
        )
        parts = posting.take_fefo(sources, sku, quantity, today=today, lot=lot)
        customer = virtual_location(LocationKind.CUSTOMER)
        for part in parts:
            posting.record(
                sku=sku,
                lot=part.lot,
                quantity=part.quantity,
                from_location=part.location,
                to_location=customer,
                reason=reason,
            )
        posting.finish()
        return op

    return run_idempotent(
        key=idempotency_key, request_hash=request_hash, find=_find_op, create=create
    )


# -- adjustments -----------------------------------------------------------------------
ADJUST_REASONS = {"damage", "loss", "found", "expired", "correction", "count", "theft", "opening"}


def adjust(
    *,
    location: Location,
    sku: Sku,
    delta: int,
    reason: str,
    actor: Any,
    lot_number: str | None = None,
    expiry_date: dt.date | None = None,
    note: str = "",
    idempotency_key: str | None = None,
) -> StockOperation:
    """Gain (delta > 0) from or loss (delta < 0) to the inventory loss/gain location."""
    _internal(location)
    ensure_can(actor, "inventory.adjust", sites=[location.site_id])
    if delta == 0 or not isinstance(delta, int):
        raise ValidationFailed(
            _("An adjustment needs a non-zero quantity."), code="invalid_quantity"
        )
    if reason not in ADJUST_REASONS:
        raise ValidationFailed(
            _("Unknown adjustment reason."), code="invalid_reason", allowed=sorted(ADJUST_REASONS)
        )
    site = _site_of(location)
    request_hash = fingerprint(
        {
            "op": "adjust",
            "loc": location.pk,
            "sku": sku.pk,
            "d": delta,
            "reason": reason,
            "lot": lot_number,
            "exp": expiry_date,
        }
    )

    def create() -> StockOperation:
        op = _open(
            OperationKind.ADJUSTMENT,
            site=site,
            actor=actor,
            key=idempotency_key,
            request_hash=request_hash,
            note=note or reason,
        )
        posting = Posting(op)
        posting.lock([(site.pk, sku.pk)])
        lot = (
            _resolve_lot(sku, lot_number, expiry_date, today=site_today(site), receiving=False)
            if (lot_number or sku.is_lot_tracked)
            else None
        )
        virtual = virtual_location(LocationKind.ADJUSTMENT)
        quantity = abs(delta)
        if delta > 0:
            posting.put(location, sku, lot, quantity)
            posting.record(
                sku=sku,
                lot=lot,
                quantity=quantity,
                from_location=virtual,
                to_location=location,
                reason=reason,
            )
        else:
            posting.take(location, sku, lot, quantity)
            posting.record(
                sku=sku,
                lot=lot,
                quantity=quantity,
                from_location=location,
                to_location=virtual,
                reason=reason,
            )
        posting.finish()
        return op

    return run_idempotent(
        key=idempotency_key, request_hash=request_hash, find=_find_op, create=create
    )


def write_off_expired(
    *, site: Site, actor: Any, idempotency_key: str | None = None
) -> StockOperation | None:
    """Move every expired, unreserved lot at the site to scrap. None if nothing expired."""
    ensure_can(actor, "inventory.adjust", sites=[site.pk])
    today = site_today(site)
    request_hash = fingerprint({"op": "scrap", "site": site.pk, "day": today})

    def create() -> StockOperation:
        expired = list(
            Balance.objects.filter(site=site, lot__expiry_date__lt=today, on_hand__gt=F("reserved"))
            .select_related("sku", "lot", "location")
            .order_by("sku_id", "lot_id", "location_id")
        )
        if not expired:
            raise _NothingExpired  # rolls back: no empty operation, no audit row
        op = _open(
            OperationKind.SCRAP,
            site=site,
            actor=actor,
            key=idempotency_key,
            request_hash=request_hash,
            note="expired",
        )
        posting = Posting(op)
        posting.lock((site.pk, b.sku_id) for b in expired)
        scrap = virtual_location(LocationKind.SCRAP)
        for b in expired:
            quantity = b.on_hand - b.reserved
            posting.take(b.location, b.sku, b.lot, quantity)
            posting.record(
                sku=b.sku,
                lot=b.lot,
                quantity=quantity,
                from_location=b.location,
                to_location=scrap,
                reason="expired",
            )
        posting.finish()
        return op

    try:
        op = run_idempotent(
            key=idempotency_key, request_hash=request_hash, find=_find_op, create=create
        )
    except _NothingExpired:
        return None
    return op if op.moves.exists() else None


class _NothingExpired(Exception):
    pass


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
        sources = (
            [location]
            if location is not None
            else list(Location.objects.filter(site=site, kind__in=ISSUE_KINDS, is_active=True))
        )
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

    return run_idempotent(
        key=idempotency_key, request_hash=request_hash, find=_find_op, create=create
    )


@transaction.atomic
def release(*, reservation: Reservation, actor: Any, quantity: int | None = None) -> Reservation:
    """Give back all (or part) of a reservation's open quantity."""
    ensure_can(actor, "inventory.reserve", sites=[reservation.site_id])
    amount = reservation.open_quantity if quantity is None else quantity
    _positive(amount)
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
    reservation.refresh_from_db()
    if reservation.open_quantity == 0:
        Reservation.objects.filter(pk=reservation.pk).update(status=ReservationStatus.RELEASED)
        reservation.status = ReservationStatus.RELEASED
    audit.record(
        actor=actor,
        action="reservation.release",
        obj=reservation,
        from_state=ReservationStatus.ACTIVE,
        to_state=reservation.status,
        site_id=reservation.site_id,
        data={"quantity": amount},
    )
    return reservation


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


# -- stock counts ----------------------------------------------------------------------
@dataclass(frozen=True)
class CountAdjustment:
    """One counted key's variance: delta = counted - expected (non-zero)."""

    location: Location
    sku: Sku
    lot: Lot | None
    delta: int


def post_count_adjustments(
    *,
    site: Site,
    lines: Sequence[CountAdjustment],
    actor: Any,
    reference: str = "",
    idempotency_key: str | None = None,
) -> StockOperation:
    """盘点 Post a count's variances as one operation: gains from, losses to inventory
    loss/gain. A loss the current available stock cannot cover raises InsufficientStock."""
    ensure_can(actor, "count.approve", sites=[site.pk])
    if not lines:
        raise ValidationFailed(
            _("A count adjustment needs at least one line."), code="empty_document"
        )
    for ln in lines:
        if ln.delta == 0 or not isinstance(ln.delta, int):
            raise ValidationFailed(
                _("A count line needs a non-zero variance."), code="invalid_quantity"
            )
        _internal(ln.location, site)
    ordered = sorted(lines, key=lambda ln: (ln.sku.pk, ln.location.pk, ln.lot.pk if ln.lot else 0))
    request_hash = fingerprint(
        {
            "op": "count",
            "site": site.pk,
            "ref": reference,
            "lines": [
                [ln.location.pk, ln.sku.pk, ln.lot.pk if ln.lot else None, ln.delta]
                for ln in ordered
            ],
        }
    )

    def create() -> StockOperation:
        op = _open(
            OperationKind.COUNT,
            site=site,
            actor=actor,
            key=idempotency_key,
            request_hash=request_hash,
            reference=reference,
        )
        posting = Posting(op)
        posting.lock((site.pk, ln.sku.pk) for ln in ordered)
        virtual = virtual_location(LocationKind.ADJUSTMENT)
        for ln in ordered:
            quantity = abs(ln.delta)
            if ln.delta > 0:
                posting.put(ln.location, ln.sku, ln.lot, quantity)
                source, dest = virtual, ln.location
            else:
                posting.take(ln.location, ln.sku, ln.lot, quantity)
                source, dest = ln.location, virtual
            posting.record(
                sku=ln.sku,
                lot=ln.lot,
                quantity=quantity,
                from_location=source,
                to_location=dest,
                reason="count",
            )
        posting.finish()
        return op

    return run_idempotent(
        key=idempotency_key, request_hash=request_hash, find=_find_op, create=create
    )
