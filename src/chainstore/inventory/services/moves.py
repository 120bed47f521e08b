"""上架 put-away, bin moves and 出库 issue (FEFO)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.core.errors import ValidationFailed
from chainstore.core.idempotency import fingerprint
from chainstore.core.permissions import ensure_can
from chainstore.inventory.errors import (
    ExpiredLot,
    InvalidLocation,
)
from chainstore.inventory.models import (
    Lot,
    OperationKind,
    StockOperation,
)
from chainstore.inventory.posting import Posting, Taken
from chainstore.inventory.services._common import (
    _internal,
    _issue_sources,
    _open,
    _positive,
    _run,
    _site_of,
    site_today,
)
from chainstore.sites.models import Location, LocationKind, Site
from chainstore.sites.services import virtual_location


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

    return _run(idempotency_key, request_hash, create)


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
        sources = _issue_sources(site, location)
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

    return _run(idempotency_key, request_hash, create)
