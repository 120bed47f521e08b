"""Adjustments, expired write-offs and count (盘点) postings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import F
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.core.errors import ValidationFailed
from chainstore.core.idempotency import fingerprint
from chainstore.core.permissions import ensure_can
from chainstore.inventory.models import (
    Balance,
    Lot,
    OperationKind,
    StockOperation,
)
from chainstore.inventory.posting import Posting
from chainstore.inventory.services._common import (
    _internal,
    _open,
    _resolve_lot,
    _run,
    _site_of,
    site_today,
)
from chainstore.inventory.services.reservations import shorten_reservations_for_loss
from chainstore.sites.models import Location, LocationKind, Site
from chainstore.sites.services import virtual_location

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

    return _run(idempotency_key, request_hash, create)


def write_off_expired(
    *, site: Site, actor: Any, idempotency_key: str | None = None
) -> StockOperation | None:
    """Move every expired, unreserved lot at the site to scrap. None if nothing expired."""
    ensure_can(actor, "inventory.adjust", sites=[site.pk])
    today = site_today(site)
    request_hash = fingerprint({"op": "scrap", "site": site.pk, "day": today})

    def expired_balances() -> list[Balance]:
        return list(
            Balance.objects.filter(site=site, lot__expiry_date__lt=today, on_hand__gt=F("reserved"))
            .select_related("sku", "lot", "location")
            .order_by("sku_id", "lot_id", "location_id")
        )

    def create() -> StockOperation:
        candidates = expired_balances()
        if not candidates:
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
        posting.lock((site.pk, b.sku_id) for b in candidates)
        # Re-read under the locks: a posting that committed meanwhile changed the quantities.
        locked_skus = {b.sku_id for b in candidates}
        expired = [b for b in expired_balances() if b.sku_id in locked_skus]
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
        op = _run(idempotency_key, request_hash, create)
    except _NothingExpired:
        return None
    return op if op.moves.exists() else None


class _NothingExpired(Exception):
    pass


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
    loss/gain. A loss is physical, so reservations it leaves unbacked are shortened (newest
    first); a loss larger than the stock on hand raises InsufficientStock."""
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
                shorten_reservations_for_loss(
                    location=ln.location, sku=ln.sku, lot=ln.lot, quantity=quantity, actor=actor
                )
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

    return _run(idempotency_key, request_hash, create)
