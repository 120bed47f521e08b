"""Picking by scan (拣货): a picker walks a pick list task by task, confirming the bin, the
item and (for lot-tracked SKUs) the lot by scan; or reports a short pick (services/shorts.py).

Every call is one transaction. A pick moves the reserved stock into the site's outbound
staging location and records a PickedStock row keyed by the client's idempotency key, so a
replayed request returns the first result and moves nothing.

Substitution rules (what a picker may take instead of the task's bin and lot):
- another active storage/selling bin of the site, if the same SKU (and lot) is available
  there (not reserved by anyone) in the quantity picked;
- another lot only if it is not expired and expires no later than the reserved lot (FEFO:
  taking a later lot would leave the earlier one behind to expire). A lot without an
  expiry date counts as expiring last. If the reserved lot is missing, report a short pick:
  it is written off and the remainder re-sourced, which reserves the next lot FEFO.

Locks: every write that changes a pick task takes its rows in one global order, the
customer order first, then the shipment, then the task (`lock_task`), then the stock rows
(inside the inventory primitives), then the pick list and the wave. Order care and the
outbound check lock the order first too, so two writers of one order queue instead of
deadlocking, whatever each goes on to touch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.catalog.services import resolve_scan
from chainstore.core import audit
from chainstore.core.errors import (
    Conflict,
    IdempotencyKeyReused,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from chainstore.core.idempotency import run_idempotent
from chainstore.core.permissions import ensure_can, has_perm, scope_site_ids
from chainstore.core.quantities import milli_to_qty
from chainstore.fulfilment.models import (
    CustomerOrder,
    EventKind,
    PickedStock,
    PickList,
    PickListStatus,
    PickTask,
    PickTaskStatus,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    Wave,
    WaveStatus,
)
from chainstore.fulfilment.services.events import add_event
from chainstore.fulfilment.services.status import refresh_order_status
from chainstore.fulfilment.services.waves import ensure_floor, lock_shipments, settle_pick_lists
from chainstore.inventory.errors import ExpiredLot
from chainstore.inventory.models import Balance, Lot
from chainstore.inventory.services import ISSUE_KINDS, pick_reserved, site_today
from chainstore.sites.models import Location, Site
from chainstore.sites.services import outbound_location


# -- starting a list ---------------------------------------------------------------------
@transaction.atomic
def start_pick_list(pick_list: PickList, actor: Any) -> PickList:
    """Take an open list (the actor becomes its picker); its shipments go to PICKING.
    Starting one's own list again is a no-op; another picker's list is refused."""
    wave = pick_list.wave
    ensure_can(actor, "fulfilment.pick", sites=[wave.site_id])
    waved = Shipment.objects.filter(
        lines__tasks__pick_list=pick_list, status=ShipmentStatus.WAVED
    ).values_list("pk", flat=True)
    ids = lock_shipments(set(waved), statuses=(ShipmentStatus.WAVED,))
    now = timezone.now()
    if not PickList.objects.filter(pk=pick_list.pk, status=PickListStatus.OPEN).update(
        status=PickListStatus.PICKING, picker=actor, started_at=now
    ):
        pick_list.refresh_from_db()
        if pick_list.status == PickListStatus.PICKING and pick_list.picker_id == actor.pk:
            return pick_list
        if pick_list.status == PickListStatus.PICKING:
            raise Conflict(
                _("Another picker is working on this list."),
                code="pick_list_taken",
                picker=pick_list.picker.get_username() if pick_list.picker else "",
            )
        raise InvalidState(
            _("This pick list is finished."), code="pick_list_finished", pick_list=pick_list.number
        )
    Shipment.objects.filter(pk__in=ids, status=ShipmentStatus.WAVED).update(
        status=ShipmentStatus.PICKING
    )
    Wave.objects.filter(pk=wave.pk, status=WaveStatus.RELEASED).update(status=WaveStatus.PICKING)
    audit.record(
        actor=actor,
        action="pick_list.start",
        obj=pick_list,
        from_state=PickListStatus.OPEN,
        to_state=PickListStatus.PICKING,
        site_id=wave.site_id,
        data={"shipments": len(ids)},
    )
    pick_list.refresh_from_db()
    return pick_list


def next_task(pick_list: PickList) -> PickTask | None:
    """The first task still to pick, in route order."""
    return (
        pick_list.tasks.filter(status=PickTaskStatus.OPEN)
        .select_related("location", "sku", "lot", "shipment_line__shipment__order")
        .order_by("sequence", "id")
        .first()
    )


# -- confirming a pick -------------------------------------------------------------------
def confirm_pick(
    *,
    task: PickTask,
    actor: Any,
    bin_scan: str,
    item_scan: str,
    quantity: int,
    idempotency_key: str,
    lot_scan: str | None = None,
) -> PickedStock:
    """Pick `quantity` of the task after checking the scans (see the module docstring for
    substitutes). Returns the PickedStock; `.replayed` is True when the key was seen before
    (nothing moves). Refusals change nothing and carry a code: unknown_bin, wrong_bin,
    wrong_item, lot_required, unknown_lot, wrong_lot, lot_expired, fefo_violation,
    over_quantity, task_not_open, pick_list_not_started, pick_list_assigned_elsewhere."""
    site_id = task.shipment_line.shipment.site_id
    ensure_can(actor, "fulfilment.pick", sites=[site_id])

    def find(key: str) -> PickedStock | None:
        found = PickedStock.objects.filter(idempotency_key=key).first()
        if found is not None and found.task_id != task.pk:
            raise IdempotencyKeyReused(idempotency_key=key)
        return found

    with transaction.atomic():
        # Locked before the key is looked up: a resend that waited here for the first post
        # finds its PickedStock and replays it.
        locked = lock_task(task.pk)

        def create() -> PickedStock:
            return _pick(locked, actor, bin_scan, item_scan, lot_scan, quantity, idempotency_key)

        return run_idempotent(key=idempotency_key, request_hash="", find=find, create=create)


def lock_task(task_id: int) -> PickTask:
    """Lock the task's order, its shipment (while picking can still change it) and the task,
    in that order, and return the task as it is now (what a concurrent writer committed
    while we waited included). 409 `task_not_open` when the task is gone (a short pick
    that found nothing removes its line and tasks)."""
    keys = (
        PickTask.objects.filter(pk=task_id)
        .values_list("shipment_line__shipment__order_id", "shipment_line__shipment_id")
        .first()
    )
    if keys is not None:
        order_id, shipment_id = keys
        list(CustomerOrder.objects.select_for_update().filter(pk=order_id))
        list(Shipment.objects.select_for_update().filter(pk=shipment_id, status__in=_PICKABLE))
    task = (
        PickTask.objects.select_for_update(of=("self",))
        .select_related(
            "location",
            "sku",
            "lot",
            "reservation",
            "pick_list",
            "pick_list__wave",
            "shipment_line",
            "shipment_line__shipment",
            "shipment_line__shipment__order",
            "shipment_line__shipment__site",
        )
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise InvalidState(_("This task is already done."), code="task_not_open", task=task_id)
    return task


# Shipments a pick or a short pick may still change. Others (shipped ones above all) are
# not locked: a carrier's delivery update locks a shipped shipment before its order.
_PICKABLE = (ShipmentStatus.ALLOCATED, ShipmentStatus.WAVED, ShipmentStatus.PICKING)


@dataclass(frozen=True)
class Source:
    """Where a pick takes stock from: a bin and (lot-tracked SKUs) a lot."""

    location: Location
    lot: Lot | None

    @property
    def label(self) -> str:
        return f"{self.location.code} {self.lot.number if self.lot else ''}".strip()


def _pick(
    task: PickTask,
    actor: Any,
    bin_scan: str,
    item_scan: str,
    lot_scan: str | None,
    quantity: int,
    key: str | None,
) -> PickedStock:
    shipment = task.shipment_line.shipment
    check_workable(task, actor)
    _check_quantity(task, quantity)
    location = _scanned_bin(task, bin_scan)
    scan = resolve_scan(item_scan)
    if scan.sku.pk != task.sku_id:
        raise ValidationFailed(
            _("Wrong item: this task is %(sku)s.") % {"sku": task.sku.name},
            code="wrong_item",
            sku=scan.sku.code,
            expected=task.sku.code,
        )
    lot = _scanned_lot(task, scan.lot, lot_scan)
    source = Source(location, lot)
    substitute = location.pk != task.location_id or (lot is not None and lot.pk != task.lot_id)
    if substitute:
        _check_substitute(task, source, quantity)
    picked_stock = take(task, actor, quantity, source, key)
    reserved = Source(task.location, task.lot)
    add_event(
        shipment.order,
        EventKind.PICKED,
        actor=actor,
        shipment=shipment,
        task=task.pk,
        pick_list=task.pick_list.number if task.pick_list else "",
        bin=location.code,
        sku=task.sku.code,
        lot=lot.number if lot else None,
        expiry=str(lot.expiry_date) if lot and lot.expiry_date else None,
        quantity=str(milli_to_qty(quantity)),
        substituted_for=reserved.label if substitute else None,
    )
    after_progress(task, shipment)
    return picked_stock


def check_workable(task: PickTask, actor: Any) -> None:
    """Refuse work on a task that is done, on no started list, or on another's list."""
    if task.status != PickTaskStatus.OPEN:
        raise InvalidState(_("This task is already done."), code="task_not_open", task=task.pk)
    pick_list = task.pick_list
    if pick_list is None or pick_list.status != PickListStatus.PICKING:
        raise InvalidState(
            _("Start the pick list first."),
            code="pick_list_not_started",
            pick_list=pick_list.number if pick_list else None,
        )
    if pick_list.picker_id != actor.pk and not has_perm(actor, "fulfilment.plan"):
        raise Conflict(
            _("This pick list belongs to another picker."), code="pick_list_assigned_elsewhere"
        )
    if task.reservation is None:
        raise InvalidState(_("This task holds no reservation."), code="task_not_reserved")


def remaining(task: PickTask) -> int:
    """What is still to pick (or report short) of the task."""
    return task.quantity - task.picked - task.short


def _check_quantity(task: PickTask, quantity: int) -> None:
    if not isinstance(quantity, int) or quantity <= 0:
        raise ValidationFailed(_("Quantity must be greater than zero."), code="invalid_quantity")
    if quantity > remaining(task):
        raise ValidationFailed(
            _("Only %(n)s left to pick for this task.") % {"n": milli_to_qty(remaining(task))},
            code="over_quantity",
            remaining=str(milli_to_qty(remaining(task))),
        )


def _scanned_bin(task: PickTask, bin_scan: str) -> Location:
    code = (bin_scan or "").strip()
    if code.upper() == task.location.code.upper():
        return task.location
    location = Location.objects.filter(
        site_id=task.shipment_line.shipment.site_id,
        code__iexact=code,
        kind__in=ISSUE_KINDS,
        is_active=True,
    ).first()
    if location is None:
        raise ValidationFailed(
            _("Unknown bin; go to bin %(bin)s.") % {"bin": task.location.code},
            code="unknown_bin",
            bin=code,
            expected=task.location.code,
        )
    return location


def _scanned_lot(task: PickTask, gs1_lot: str | None, lot_scan: str | None) -> Lot | None:
    if not task.sku.is_lot_tracked:
        return None
    typed = (lot_scan or "").strip()
    if gs1_lot and typed and gs1_lot != typed:
        raise ValidationFailed(
            _("The lot typed differs from the lot in the barcode."),
            code="wrong_lot",
            lot=typed,
            barcode_lot=gs1_lot,
        )
    number = gs1_lot or typed
    if not number:
        raise ValidationFailed(
            _("Scan or type the lot number."),
            code="lot_required",
            expected=task.lot.number if task.lot else None,
        )
    lot = Lot.objects.filter(sku_id=task.sku_id, number=number).first()
    if lot is None:
        raise ValidationFailed(
            _("Unknown lot for this SKU."), code="unknown_lot", sku=task.sku.code, lot=number
        )
    today = site_today(task.shipment_line.shipment.site)
    if lot.expiry_date is not None and lot.expiry_date < today:
        raise ExpiredLot(
            _("This lot has expired; it must not be shipped."),
            sku=task.sku.code,
            lot=lot.number,
            expiry=str(lot.expiry_date),
        )
    if task.lot is not None and lot.pk != task.lot_id and _expires_later(lot, task.lot):
        raise ValidationFailed(
            _(
                "Lot %(lot)s expires later than the reserved lot %(reserved)s; pick the reserved "
                "lot (FEFO) or report a short pick."
            )
            % {"lot": lot.number, "reserved": task.lot.number},
            code="fefo_violation",
            sku=task.sku.code,
            lot=lot.number,
            expected=task.lot.number,
        )
    return lot


def _expires_later(lot: Lot, reserved: Lot) -> bool:
    if reserved.expiry_date is None:
        return False
    return lot.expiry_date is None or lot.expiry_date > reserved.expiry_date


def _check_substitute(task: PickTask, source: Source, quantity: int) -> None:
    """A substitute must be free stock where the picker took it (not someone's reservation)."""
    row = (
        Balance.objects.filter(location=source.location, sku_id=task.sku_id, lot=source.lot)
        .values_list("on_hand", "reserved")
        .first()
    )
    available = max(row[0] - row[1], 0) if row else 0
    if available >= quantity:
        return
    if source.location.pk != task.location_id:
        raise ValidationFailed(
            _("Wrong bin: %(bin)s has not enough free stock of this item; go to %(expected)s.")
            % {"bin": source.location.code, "expected": task.location.code},
            code="wrong_bin",
            bin=source.location.code,
            expected=task.location.code,
            available=str(milli_to_qty(available)),
        )
    raise ValidationFailed(
        _("Wrong lot: not enough free stock of lot %(lot)s here.")
        % {"lot": source.lot.number if source.lot else ""},
        code="wrong_lot",
        lot=source.lot.number if source.lot else None,
        expected=task.lot.number if task.lot else None,
        available=str(milli_to_qty(available)),
    )


def take(task: PickTask, actor: Any, quantity: int, source: Source, key: str | None) -> PickedStock:
    """Book a pick of a task locked by `lock_task`: the PickedStock row (keyed), the stock
    move into outbound staging (consuming the reservation), then the task and line
    counters. The conditional updates are a second guard behind the lock."""
    shipment = task.shipment_line.shipment
    staging = outbound_location(shipment.site)
    picked = PickedStock.objects.create(
        shipment_line=task.shipment_line,
        task=task,
        location=staging,
        from_location=source.location,
        lot=source.lot,
        quantity=quantity,
        picked_by=actor,
        idempotency_key=key,
    )
    assert task.reservation is not None
    try:
        pick_reserved(
            reservation=task.reservation,
            quantity=quantity,
            to_location=staging,
            actor=actor,
            reference=f"{shipment.number}/{task.pick_list.number if task.pick_list else ''}",
            from_location=source.location,
            lot=source.lot,
        )
    except ValidationFailed as exc:
        if exc.code != "reservation_exceeded":
            raise
        raise _changed() from exc
    counted = PickTask.objects.filter(
        pk=task.pk, status=PickTaskStatus.OPEN, picked__lte=F("quantity") - F("short") - quantity
    ).update(
        picked=F("picked") + quantity,
        picked_by=actor,
        picked_at=timezone.now(),
        picked_lot=source.lot,
    )
    if not counted:
        raise _changed()
    PickTask.objects.filter(pk=task.pk, picked=F("quantity") - F("short")).update(
        status=PickTaskStatus.PICKED
    )
    ShipmentLine.objects.filter(pk=task.shipment_line_id).update(picked=F("picked") + quantity)
    return picked


def _changed() -> Conflict:
    return Conflict(_("This task changed meanwhile; reload it."), code="over_quantity")


def after_progress(task: PickTask, shipment: Shipment) -> None:
    """Move the shipment, list and wave on when their last piece of work is done."""
    if (
        shipment.lines.exists()
        and not shipment.lines.filter(picked__lt=F("quantity")).exists()
        and not PickTask.objects.filter(
            shipment_line__shipment=shipment, status=PickTaskStatus.OPEN
        ).exists()
    ):
        Shipment.objects.filter(
            pk=shipment.pk, status__in=(ShipmentStatus.WAVED, ShipmentStatus.PICKING)
        ).update(status=ShipmentStatus.PICKED)
    if task.pick_list_id is not None:
        settle_pick_lists(pick_list_ids=[task.pick_list_id])
    shipment.order.refresh_from_db(fields=["status"])
    refresh_order_status(shipment.order)


# -- reads -------------------------------------------------------------------------------
def get_pick_list(*, number: str, actor: Any) -> PickList:
    pick_list = (
        PickList.objects.select_related("wave", "wave__site", "picker")
        .filter(number=number)
        .first()
    )
    if pick_list is None:
        raise NotFound(_("Pick list not found."), code="pick_list_not_found", pick_list=number)
    ensure_floor(actor, pick_list.wave.site_id)
    return pick_list


def get_task(*, task_id: int, actor: Any) -> PickTask:
    task = (
        PickTask.objects.select_related("shipment_line__shipment", "pick_list")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise NotFound(_("Pick task not found."), code="pick_task_not_found", task=task_id)
    ensure_floor(actor, task.shipment_line.shipment.site_id)
    return task


def pick_list_tasks(pick_list: PickList) -> list[PickTask]:
    """The list's tasks in route order, with the cart slot (`slot`, 1..cart size) of each
    task's shipment: the tote the picker puts the item in."""
    tasks = list(
        pick_list.tasks.select_related(
            "location", "sku", "lot", "picked_lot", "shipment_line__shipment__order"
        ).order_by("sequence", "id")
    )
    shipment_ids = sorted({t.shipment_line.shipment_id for t in tasks})
    slots = {sid: n for n, sid in enumerate(shipment_ids, start=1)}
    for task in tasks:
        task.slot = slots[task.shipment_line.shipment_id]  # type: ignore[attr-defined]
    return tasks


def list_pick_lists(
    *, actor: Any, site: Site | None = None, statuses: tuple[str, ...] = ()
) -> QuerySet[PickList]:
    """Pick lists the actor may work on (site scope), oldest first, with `task_count` and
    `tasks_done`."""
    ensure_can(actor, "fulfilment.pick", sites=[site.pk] if site else [])
    qs = (
        PickList.objects.select_related("wave", "wave__site", "picker")
        .annotate(
            task_count=Count("tasks"),
            tasks_done=Count("tasks", filter=~Q(tasks__status=PickTaskStatus.OPEN)),
        )
        .order_by("id")
    )
    allowed = scope_site_ids(actor)
    if allowed is not None:
        qs = qs.filter(wave__site_id__in=allowed)
    if site is not None:
        qs = qs.filter(wave__site=site)
    if statuses:
        qs = qs.filter(status__in=statuses)
    return qs
