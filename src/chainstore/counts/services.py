"""Stock count use cases (盘点). Each public function is one transaction.

Lifecycle: draft → counting (snapshot frozen) → approved (variances posted) | cancelled.
Lock order, shared with the posting engine: the count row, then SiteSku rows in
(site, sku) order, then count lines.

Entries: within a round, entries of several counters add up to the line's counted
quantity (each counter counts a part of the bin); an entry with `replace=True` sets the
line's total. A recount opens a new round whose entries replace the previous count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.core import audit
from chainstore.core.errors import InsufficientStock, ValidationFailed
from chainstore.core.idempotency import fingerprint, run_idempotent
from chainstore.core.permissions import ensure_can
from chainstore.core.quantities import value_fen
from chainstore.inventory.errors import LotNotTracked, LotRequired
from chainstore.inventory.models import Lot, StockMove
from chainstore.inventory.services import CountAdjustment, post_count_adjustments
from chainstore.sites.models import Location, Site, Zone

from . import ledger
from .errors import (
    CountIncomplete,
    CountStockChanged,
    InvalidState,
    NothingToRecount,
)
from .models import CountLine, CountScope, CountStatus, StockCount
from .recording import EntryInput, record_entries_locked

__all__ = [
    "EntryInput",
    "approve_count",
    "cancel_count",
    "create_count",
    "freeze_count",
    "record_entries",
    "record_entry",
    "request_recount",
]


def _lock(count: StockCount) -> StockCount:
    # of=("self",): lock the count row only. Without it PostgreSQL also locks the joined
    # site row FOR UPDATE, which blocks every posting's foreign-key check at that site.
    return (
        StockCount.objects.select_for_update(of=("self",)).select_related("site").get(pk=count.pk)
    )


def _require(count: StockCount, *states: str) -> None:
    if count.status not in states:
        raise InvalidState(
            _("This count is %(status)s; it cannot do this now.")
            % {"status": count.get_status_display()},
            status=count.status,
        )


def _audit(actor: Any, action: str, count: StockCount, before: str, **data: Any) -> None:
    audit.record(
        actor=actor,
        action=action,
        obj=count,
        from_state=before,
        to_state=count.status,
        site_id=count.site_id,
        data=data or None,
    )


# -- create / freeze / cancel ----------------------------------------------------------
@transaction.atomic
def create_count(
    *,
    site: Site,
    name: str,
    actor: Any,
    scope: str = CountScope.FULL,
    zone: Zone | None = None,
    skus: Sequence[Sku] = (),
) -> StockCount:
    """A draft count of a whole site, one zone, or a set of SKUs."""
    ensure_can(actor, "count.manage", sites=[site.pk])
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed(_("Give the count a name (1-100 characters)."), code="invalid_name")
    if scope not in CountScope.values:
        raise ValidationFailed(_("Scope is full, zone or skus."), code="invalid_scope")
    if scope == CountScope.ZONE and (zone is None or zone.site_id != site.pk):
        raise ValidationFailed(_("Choose a zone of this site."), code="invalid_zone")
    if scope == CountScope.SKUS and not skus:
        raise ValidationFailed(_("Choose at least one SKU."), code="empty_document")
    count = StockCount.objects.create(
        site=site,
        name=name,
        scope=scope,
        zone=zone if scope == CountScope.ZONE else None,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    if scope == CountScope.SKUS:
        count.skus.set(list({s.pk: s for s in skus}.values()))
    _audit(actor, "count.create", count, "", scope=scope)
    return count


@transaction.atomic
def freeze_count(*, count: StockCount, actor: Any) -> StockCount:
    """Start counting: snapshot the book quantity of every non-zero key in scope."""
    ensure_can(actor, "count.manage", sites=[count.site_id])
    count = _lock(count)
    _require(count, CountStatus.DRAFT)
    ledger.lock_scope(count)
    mark = ledger.high_water_move_id()
    lines = [
        CountLine(
            count=count,
            location_id=loc,
            sku_id=sku,
            lot_id=lot,
            snapshot_qty=on_hand,
        )
        for loc, sku, lot, on_hand in ledger.snapshot_balances(count)
        .values_list("location_id", "sku_id", "lot_id", "on_hand")
        .order_by("location_id", "sku_id", "lot_id")
        .iterator(chunk_size=5000)
    ]
    CountLine.objects.bulk_create(lines, batch_size=2000)
    before = count.status
    count.status = CountStatus.COUNTING
    count.frozen_at = timezone.now()
    count.snapshot_move_id = mark
    count.save(update_fields=["status", "frozen_at", "snapshot_move_id"])
    _audit(actor, "count.freeze", count, before, lines=len(lines), snapshot_move_id=mark)
    return count


@transaction.atomic
def cancel_count(*, count: StockCount, actor: Any) -> StockCount:
    ensure_can(actor, "count.manage", sites=[count.site_id])
    count = _lock(count)
    _require(count, CountStatus.DRAFT, CountStatus.COUNTING)
    before = count.status
    count.status = CountStatus.CANCELLED
    count.cancelled_at = timezone.now()
    count.save(update_fields=["status", "cancelled_at"])
    _audit(actor, "count.cancel", count, before)
    return count


# -- recording -------------------------------------------------------------------------
def _check_lot(sku: Sku, lot: Lot | None) -> None:
    if lot is None and sku.is_lot_tracked:
        raise LotRequired(sku=sku.code)
    if lot is not None and not sku.is_lot_tracked:
        raise LotNotTracked(sku=sku.code)
    if lot is not None and lot.sku_id != sku.pk:
        raise ValidationFailed(_("The lot belongs to another SKU."), code="lot_sku_mismatch")


def record_entry(
    *,
    count: StockCount,
    location: Location,
    sku: Sku,
    quantity: int,
    actor: Any,
    lot: Lot | None = None,
    replace: bool = False,
    raw_scan: str = "",
    client_key: str | None = None,
) -> CountLine:
    """One counter's scan: add `quantity` to (or with replace, set) the line's count.

    A key not in the snapshot (found stock) gets a new line with a book quantity of zero.
    With a client key, a replay returns the line and records nothing."""
    return record_entries(
        count=count,
        actor=actor,
        entries=[
            EntryInput(
                location=location,
                sku=sku,
                lot=lot,
                quantity=quantity,
                replace=replace,
                raw_scan=raw_scan,
                client_key=client_key,
            )
        ],
    )[0]


def record_entries(
    *, count: StockCount, entries: Sequence[EntryInput], actor: Any
) -> list[CountLine]:
    """Record many entries at once (a scanner batch upload); returns their lines in order."""
    ensure_can(actor, "count.record", sites=[count.site_id])
    if not entries:
        raise ValidationFailed(_("Record at least one entry."), code="empty_document")
    for entry in entries:
        if not isinstance(entry.quantity, int) or entry.quantity < 0:
            raise ValidationFailed(
                _("A counted quantity cannot be negative."), code="invalid_quantity"
            )
        _check_lot(entry.sku, entry.lot)
    with transaction.atomic():
        locked = _lock(count)
        _require(locked, CountStatus.COUNTING)
        return record_entries_locked(locked, entries, actor)


# -- recount ---------------------------------------------------------------------------
@transaction.atomic
def request_recount(*, count: StockCount, actor: Any, line_ids: Sequence[int] | None = None) -> int:
    """Send counted lines back for a recount: the chosen ones, or every line with a variance.
    Their next entries replace the previous count. Returns how many lines were reopened."""
    ensure_can(actor, "count.manage", sites=[count.site_id])
    count = _lock(count)
    _require(count, CountStatus.COUNTING)
    lines = CountLine.objects.filter(count=count, counted_qty__isnull=False)
    if line_ids is None:
        lines = lines.exclude(counted_qty=F("expected_qty"))
    else:
        lines = lines.filter(pk__in=list(line_ids))
    reopened = lines.update(
        previous_counted_qty=F("counted_qty"),
        counted_qty=None,
        counted_at=None,
        recount=True,
        round=F("round") + 1,
    )
    if not reopened:
        raise NothingToRecount()
    _audit(actor, "count.recount", count, count.status, lines=reopened)
    return reopened


# -- approve ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Counted:
    line_id: int
    sku_id: int
    variance: int


def approve_count(*, count: StockCount, actor: Any, idempotency_key: str | None) -> StockCount:
    """Post every variance (counted - expected) as one count operation and close the count.

    Refused while a line is uncounted or awaiting recount, and when stock moved after a
    line was counted so that the loss can no longer be taken. A replay with the same key
    returns the approved count and posts nothing."""
    ensure_can(actor, "count.approve", sites=[count.site_id])
    request_hash = fingerprint({"op": "count.approve", "count": count.pk})

    def create() -> StockCount:
        locked = _lock(count)
        _require(locked, CountStatus.COUNTING)
        rows = list(
            CountLine.objects.filter(count=locked).values_list(
                "id", "sku_id", "counted_qty", "expected_qty"
            )
        )
        pending = sum(1 for _id, _sku, counted, _exp in rows if counted is None)
        if pending:
            raise CountIncomplete(pending=pending)
        counted = [_Counted(i, s, (c or 0) - (e or 0)) for i, s, c, e in rows]
        varied = {c.line_id: c for c in counted if c.variance}
        costs = _post(locked, varied, actor)
        gain = sum(
            value_fen(c.variance, costs[c.line_id]) for c in varied.values() if c.variance > 0
        )
        loss = sum(
            value_fen(-c.variance, costs[c.line_id]) for c in varied.values() if c.variance < 0
        )
        before = locked.status
        locked.status = CountStatus.APPROVED
        locked.approved_by = actor if getattr(actor, "pk", None) else None
        locked.approved_at = timezone.now()
        locked.approve_key = idempotency_key
        locked.request_hash = request_hash
        locked.lines_counted = len(counted)
        locked.lines_accurate = len(counted) - len(varied)
        locked.gain_value_fen = gain
        locked.loss_value_fen = loss
        locked.save()
        _audit(
            actor,
            "count.approve",
            locked,
            before,
            operation=locked.operation_id,
            lines_with_variance=len(varied),
        )
        return locked

    return run_idempotent(
        key=idempotency_key,
        request_hash=request_hash,
        find=lambda key: StockCount.objects.filter(approve_key=key).first(),
        create=create,
    )


def _post(count: StockCount, varied: dict[int, _Counted], actor: Any) -> dict[int, int]:
    """Post the variance lines; store each line's unit cost; return line id -> unit cost."""
    if not varied:
        return {}
    lines = list(
        CountLine.objects.filter(pk__in=list(varied))
        .select_related("location", "sku", "lot")
        .order_by("sku_id", "location_id", "lot_id")
        if len(varied) <= ledger.MANY
        else _all_lines_with_variance(count, varied)
    )
    adjustments = [
        CountAdjustment(location=ln.location, sku=ln.sku, lot=ln.lot, delta=varied[ln.pk].variance)
        for ln in lines
    ]
    try:
        op = post_count_adjustments(
            site=count.site,
            lines=adjustments,
            actor=actor,
            reference=f"COUNT-{count.pk}",
            idempotency_key=None,  # the count row lock and its status prevent a double post
        )
    except InsufficientStock as exc:
        raise CountStockChanged(**exc.details) from exc
    count.operation = op
    moved: dict[tuple[int, int, int | None], int] = {}
    for src, dst, sku, lot, cost in StockMove.objects.filter(operation=op).values_list(
        "from_location_id", "to_location_id", "sku_id", "lot_id", "unit_cost_micros"
    ):
        moved[(src, sku, lot)] = moved[(dst, sku, lot)] = cost
    for ln in lines:
        ln.unit_cost_micros = moved[(ln.location_id, ln.sku_id, ln.lot_id)]
    ledger.save_lines(lines, ["unit_cost_micros"])
    return {ln.pk: ln.unit_cost_micros or 0 for ln in lines}


def _all_lines_with_variance(count: StockCount, varied: dict[int, _Counted]) -> list[CountLine]:
    qs = CountLine.objects.filter(count=count).select_related("location", "sku", "lot")
    return [ln for ln in qs.order_by("sku_id", "location_id", "lot_id") if ln.pk in varied]
