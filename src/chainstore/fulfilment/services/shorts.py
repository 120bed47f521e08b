"""Short picks (缺货): the bin holds less than a pick task needs. The picker reports what
they found; that much is picked, the rest of the reservation released, the free stock the
ledger still shows at the bin written off, the shipment line and the order's allocation
shrunk, and the missing quantity re-sourced (another bin or site) or backordered.

One transaction per report, behind the same locks as a pick (`picking.lock_task`): a pick
and a short pick of one task posted at once queue, and the second is refused (409
`task_not_open`) or, for a resent key, answered with the first result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from chainstore.core.errors import (
    Conflict,
    DomainError,
    IdempotencyKeyReused,
    InvalidState,
    ValidationFailed,
)
from chainstore.core.permissions import ensure_can
from chainstore.core.quantities import milli_to_qty
from chainstore.fulfilment.models import (
    EventKind,
    OrderEvent,
    OrderLine,
    PickTask,
    PickTaskStatus,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from chainstore.fulfilment.services import picking
from chainstore.fulfilment.services.events import add_event
from chainstore.fulfilment.services.sourcing import SYSTEM, source_remainder
from chainstore.fulfilment.services.status import refresh_order_status
from chainstore.inventory.locks import lock_site_skus, lock_sites_shared
from chainstore.inventory.models import Balance, ReservationStatus
from chainstore.inventory.services import release, write_off_missing

log = logging.getLogger(__name__)


@dataclass
class ShortResult:
    """What a short pick did. `decision` is the re-sourcing decision (None when nothing was
    re-sourced); `resource_error` the code when re-sourcing was refused."""

    task_id: int
    found: int
    short: int
    written_off: int
    shipment_status: str
    decision_id: int | None = None
    resource_error: str | None = None
    replayed: bool = False
    picked_stock_id: int | None = None
    pick_list: str = ""  # the number of the list the task was on when reported


def report_short(*, task: PickTask, actor: Any, found: int, idempotency_key: str) -> ShortResult:
    """The bin holds less than the task needs: pick what was `found` (from the task's bin
    and lot), release the rest of the reservation, write off the free stock the ledger
    still shows there (so it is not promised again), shrink the shipment line and the
    order's allocation, and re-source the remainder (another bin or site, or backorder).
    A shipment left with nothing is cancelled. Replaying the key (even concurrently)
    returns the first result."""
    site_id = task.shipment_line.shipment.site_id
    ensure_can(actor, "fulfilment.pick", sites=[site_id])
    if not idempotency_key or len(idempotency_key) > 100:
        raise ValidationFailed(
            _("Idempotency key must be 1-100 characters."), code="invalid_idempotency_key"
        )
    replay = _short_replay(idempotency_key, task.pk)
    if replay is not None:
        return replay
    try:
        with transaction.atomic():
            try:
                locked = picking.lock_task(task.pk)
            except InvalidState:
                locked = None  # gone: removed by a short pick, perhaps this key's
            # A resend of this key that waited for the lock answers with the first result.
            replay = _short_replay(idempotency_key, task.pk)
            if replay is not None:
                return replay
            if locked is None:
                raise InvalidState(
                    _("This task is already done."), code="task_not_open", task=task.pk
                )
            return _short(locked, actor, found, idempotency_key)
    except IntegrityError as exc:  # the key was used for a pick
        raise IdempotencyKeyReused(idempotency_key=idempotency_key) from exc


def replay_short(*, task_id: int, actor: Any, idempotency_key: str) -> ShortResult | None:
    """The first result of a short pick reported with this key for this task, None if
    there was none. For a resend whose task is gone: a short pick that found nothing
    removes its shipment line and the task with it, so the task cannot be looked up."""
    event = OrderEvent.objects.filter(
        kind=EventKind.SHORT_PICKED, data__idempotency_key=idempotency_key
    ).first()
    if event is None:
        return None
    ensure_can(actor, "fulfilment.pick", sites=[event.site_id])
    return _short_replay(idempotency_key, task_id)


def _short(task: PickTask, actor: Any, found: int, idempotency_key: str) -> ShortResult:
    shipment = task.shipment_line.shipment
    order = shipment.order
    picking.check_workable(task, actor)
    remaining = picking.remaining(task)
    if not isinstance(found, int) or not 0 <= found < remaining:
        raise ValidationFailed(
            _("Found must be at least 0 and less than the %(n)s to pick.")
            % {"n": milli_to_qty(remaining)},
            code="invalid_found",
            remaining=str(milli_to_qty(remaining)),
        )
    picked_before, picked_stock = task.picked, None
    _lock_stock(task)
    if found:
        source = picking.Source(task.location, task.lot)
        picked_stock = picking.take(task, actor, found, source, idempotency_key)
    missing = remaining - found
    assert task.reservation is not None
    # The hold is the order's, not the picker's (see sourcing.SYSTEM); the write-off below
    # is the picker's own report and is posted in their name. Only this task's missing part
    # is released: two lines of one SKU share one reserved part (one task each).
    held = task.reservation
    held.refresh_from_db(fields=["open_quantity", "status"])
    to_release = min(missing, held.open_quantity)
    if held.status == ReservationStatus.ACTIVE and to_release > 0:
        release(reservation=held, actor=SYSTEM, quantity=to_release)
    if not PickTask.objects.filter(
        pk=task.pk, status=PickTaskStatus.OPEN, picked=picked_before + found, short=task.short
    ).update(short=F("short") + missing, status=PickTaskStatus.SHORT):
        raise Conflict(_("This task changed meanwhile; reload it."), code="task_not_open")
    written_off = _write_off_bin(task, actor, f"{shipment.number}/short")
    # The short pick goes on the timeline before what it causes (a cancelled shipment, the
    # re-sourcing); its outcome is filled in below, in the same transaction.
    event = add_event(
        order,
        EventKind.SHORT_PICKED,
        actor=actor,
        shipment=shipment,
        task=task.pk,
        pick_list=task.pick_list.number if task.pick_list else "",
        bin=task.location.code,
        sku=task.sku.code,
        lot=task.lot.number if task.lot else None,
        expected=str(milli_to_qty(remaining)),
        found=str(milli_to_qty(found)),
        short=str(milli_to_qty(missing)),
        written_off=str(milli_to_qty(written_off)),
        idempotency_key=idempotency_key,
    )
    _shrink(task, shipment, missing, actor)
    result = ShortResult(
        task_id=task.pk,
        found=found,
        short=missing,
        written_off=written_off,
        shipment_status="",
        picked_stock_id=picked_stock.pk if picked_stock else None,
        pick_list=task.pick_list.number if task.pick_list else "",
    )
    _resource(order, actor, result)
    # After the re-sourcing: its stock locks come before the pick list's and the wave's
    # (the global order), which settling the list takes.
    picking.after_progress(task, shipment)
    status = Shipment.objects.values_list("status", flat=True).get(pk=shipment.pk)
    result.shipment_status = status
    event.data.update(
        decision=result.decision_id,
        resource_error=result.resource_error,
        result={
            "found": found,
            "short": missing,
            "written_off": written_off,
            "shipment_status": status,
            "picked_stock": result.picked_stock_id,
        },
    )
    OrderEvent.objects.filter(pk=event.pk).update(data=event.data)
    refresh_order_status(order)
    return result


def _lock_stock(task: PickTask) -> None:
    """Take the stock locks of the task's SKU at the site before releasing its reservation,
    in the inventory's order (site, then (site, sku), then balances): releasing touches the
    bin's balance row and the write-off after it posts, so without this a pick of another
    order at the same bin (posting lock, then balance) could wait on us while we wait on it."""
    site_id = task.shipment_line.shipment.site_id
    lock_sites_shared([site_id])
    lock_site_skus([(site_id, task.sku_id)])


def _write_off_bin(task: PickTask, actor: Any, reference: str) -> int:
    """The picker took all they found: whatever free stock of the SKU/lot the ledger still
    shows at the bin is not there. Write it all off (not only this task's gap), so the
    re-sourcing below cannot send the next picker to the same empty bin. Stock other
    orders hold stays reserved: their pickers report for themselves."""
    on_hand = (
        Balance.objects.filter(location=task.location, sku_id=task.sku_id, lot=task.lot_id)
        .values_list("on_hand", flat=True)
        .first()
    )
    if not on_hand or on_hand <= 0:
        return 0
    return write_off_missing(
        location=task.location,
        sku=task.sku,
        lot=task.lot,
        quantity=on_hand,
        actor=actor,
        reference=reference,
    )


def _short_replay(key: str, task_id: int) -> ShortResult | None:
    event = OrderEvent.objects.filter(
        kind=EventKind.SHORT_PICKED, data__idempotency_key=key
    ).first()
    if event is None:
        return None
    if event.data.get("task") != task_id:
        raise IdempotencyKeyReused(idempotency_key=key)
    stored = event.data.get("result", {})
    return ShortResult(
        task_id=task_id,
        found=stored.get("found", 0),
        short=stored.get("short", 0),
        written_off=stored.get("written_off", 0),
        shipment_status=stored.get("shipment_status", ""),
        decision_id=event.data.get("decision"),
        resource_error=event.data.get("resource_error"),
        picked_stock_id=stored.get("picked_stock"),
        replayed=True,
        pick_list=event.data.get("pick_list", ""),
    )


def _shrink(task: PickTask, shipment: Shipment, missing: int, actor: Any) -> None:
    """Take the missing quantity off the shipment line and the order line's allocation.
    A line that drops to nothing is removed with its tasks (the event keeps the record);
    a shipment left without lines is cancelled. Moving the shipment, list and wave on is
    the caller's (`picking.after_progress`), after the re-sourcing."""
    line = task.shipment_line
    OrderLine.objects.filter(pk=line.order_line_id).update(allocated=F("allocated") - missing)
    if line.quantity - missing > 0:
        ShipmentLine.objects.filter(pk=line.pk).update(quantity=F("quantity") - missing)
    else:
        ShipmentLine.objects.filter(pk=line.pk).delete()
    if not shipment.lines.exists():
        Shipment.objects.filter(pk=shipment.pk).update(status=ShipmentStatus.CANCELLED)
        add_event(
            shipment.order,
            EventKind.CANCELLED,
            actor=actor,
            shipment=shipment,
            reason="short_pick",
        )


def _resource(order: Any, actor: Any, result: ShortResult) -> None:
    """Re-source what the order now misses. A refusal (no permission at another site, ...)
    must not undo the short pick, which records what is physically true: the order stays
    backordered for a planner to re-source, and the code is kept on the event."""
    try:
        with transaction.atomic():
            decision = source_remainder(order, actor=actor, trigger="short_pick")
    except DomainError as exc:
        log.warning("re-sourcing %s after a short pick refused: %s", order.number, exc.code)
        result.resource_error = exc.code
        return
    result.decision_id = decision.pk if decision is not None else None
