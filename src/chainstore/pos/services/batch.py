"""Offline and third-party tills: upload sales made earlier, in a batch.

Each sale carries its own idempotency key and is rung up in its own transaction, in the
order given (so a short sale is judged against the stock the earlier ones left). The
outcome of each is `created`, `replayed` (the key was seen: the first result, nothing
changes) or `rejected` (the error, nothing of that sale changed); one rejected sale does
not stop the rest. Uploading the same batch again therefore changes nothing. Sales that
went short follow the store's short-sale policy, as at the till.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError
from django.utils.translation import gettext as _

from chainstore.core.errors import DomainError, ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.pos.models import Member, PricedBy, Sale, Till
from chainstore.pos.services.pricing import LineInput
from chainstore.pos.services.sales import create_sale
from chainstore.pos.services.shifts import check_store_till
from chainstore.pos.services.tenders import TenderInput
from chainstore.sites.models import Site

__all__ = ["MAX_BATCH", "BatchOutcome", "BatchSale", "upload_batch"]

MAX_BATCH = 500
CREATED, REPLAYED, REJECTED = "created", "replayed", "rejected"


@dataclass(frozen=True)
class BatchSale:
    """One sale of a batch. `error`, when set, rejects this sale as it stands (the API
    sets it when, say, the sale's member card is unknown), without stopping the rest."""

    idempotency_key: str
    lines: Sequence[LineInput]
    tenders: Sequence[TenderInput]
    sold_at: dt.datetime | None = None
    member: Member | None = None
    expected_total_fen: int | None = None
    priced_by: str = PricedBy.SERVER
    error: DomainError | None = field(default=None)


@dataclass(frozen=True)
class BatchOutcome:
    idempotency_key: str
    status: str
    sale: Sale | None = None
    error: dict[str, Any] | None = None


def upload_batch(
    *, store: Site, till: Till, sales: Sequence[BatchSale], actor: Any
) -> list[BatchOutcome]:
    """Ring up offline sales in order, each on its own (pos.sell at the store)."""
    ensure_can(actor, "pos.sell", sites=[store.pk])
    check_store_till(store, till)
    if not sales:
        raise ValidationFailed(_("The batch is empty."), code="empty_batch")
    if len(sales) > MAX_BATCH:
        raise ValidationFailed(
            _("At most %(n)s sales per batch.") % {"n": MAX_BATCH}, code="batch_too_large"
        )
    keys = [s.idempotency_key for s in sales]
    if len(set(keys)) != len(keys):
        raise ValidationFailed(
            _("Each sale of a batch needs its own idempotency key."), code="duplicate_keys"
        )
    return [_one(store, till, item, actor) for item in sales]


def _one(store: Site, till: Till, item: BatchSale, actor: Any) -> BatchOutcome:
    if item.error is not None:
        return BatchOutcome(item.idempotency_key, REJECTED, error=item.error.as_dict())
    try:
        sale = create_sale(
            store=store,
            till=till,
            lines=item.lines,
            tenders=item.tenders,
            actor=actor,
            member=item.member,
            idempotency_key=item.idempotency_key,
            expected_total_fen=item.expected_total_fen,
            sold_at=item.sold_at,
            offline=True,
            priced_by=item.priced_by,
        )
    except DomainError as exc:
        return BatchOutcome(item.idempotency_key, REJECTED, error=exc.as_dict())
    except DatabaseError:  # e.g. a serialisation failure: this sale only, retry later
        error = {"code": "database_busy", "message": _("Try this sale again."), "details": {}}
        return BatchOutcome(item.idempotency_key, REJECTED, error=error)
    status = REPLAYED if getattr(sale, "replayed", False) else CREATED
    return BatchOutcome(item.idempotency_key, status, sale=sale)
