"""入库 Receiving and lot corrections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from chainstore.core import audit
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
    ReceiptLine,
    _internal,
    _open,
    _positive,
    _resolve_lot,
    _run,
    site_today,
)
from chainstore.sites.models import LocationKind, Site
from chainstore.sites.services import virtual_location


@transaction.atomic
def correct_lot_expiry(*, lot: Lot, expiry_date: dt.date | None, actor: Any) -> Lot:
    """Fix a lot's expiry after receipt; FEFO order follows immediately.

    A lot is chain-wide, so the actor needs the permission at every site holding it."""
    holding = set(Balance.objects.filter(lot=lot).values_list("site_id", flat=True))
    ensure_can(actor, "inventory.lots", sites=sorted(holding))
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

    return _run(idempotency_key, request_hash, create)
