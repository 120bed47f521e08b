"""Shared helpers of the stock use cases (not part of the public API)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.core import audit
from chainstore.core.errors import ValidationFailed
from chainstore.core.idempotency import run_idempotent
from chainstore.inventory.errors import (
    ExpiredLot,
    ExpiryRequired,
    InvalidLocation,
    LotExpiryMismatch,
    LotNotTracked,
    LotRequired,
)
from chainstore.inventory.models import (
    Lot,
    StockOperation,
)
from chainstore.sites.models import Location, LocationKind, Site

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
    if not location.is_active:
        raise InvalidLocation(
            _("This location is inactive."), code="location_inactive", location=location.code
        )


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
        # Set only if still unset: a concurrent receipt may have set another date.
        if not Lot.objects.filter(pk=lot.pk, expiry_date__isnull=True).update(expiry_date=expiry):
            recorded = Lot.objects.values_list("expiry_date", flat=True).get(pk=lot.pk)
            if recorded != expiry:
                raise LotExpiryMismatch(
                    sku=sku.code, lot=number, recorded=str(recorded), given=str(expiry)
                )
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


def _run(
    key: str | None, request_hash: str, create: Callable[[], StockOperation]
) -> StockOperation:
    return run_idempotent(key=key, request_hash=request_hash, find=_find_op, create=create)


def _issue_sources(site: Site, location: Location | None) -> list[Location]:
    """Where issue and reserve take from: the given location, or the site's storage bins and
    selling/shipping locations (never receiving or damaged stock)."""
    if location is not None:
        if location.kind not in ISSUE_KINDS:
            raise InvalidLocation(
                _("Stock is issued only from storage bins and selling/shipping locations."),
                code="not_an_issue_location",
                location=location.code,
            )
        return [location]
    return list(Location.objects.filter(site=site, kind__in=ISSUE_KINDS, is_active=True))
