"""Waves (波次): group allocated shipments of one site, split them into pick lists (one
cart each, batch picking) and order every list by the walking route through the layout.

A shipment joins a wave only through one conditional UPDATE (status ALLOCATED -> WAVED), so
two planners creating waves at the same moment never wave the same shipment: the second
one's UPDATE finds the row changed and skips it. Closing a wave returns what was not fully
picked to the pool (ALLOCATED, still holding its remaining reservations) for the next wave.

Locks follow the global order of fulfilment (see services/picking.py): customer orders,
then shipments, then pick tasks, then stock, then pick lists, then the wave. Several
orders or shipments are locked in id order (`lock_shipments`).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.core import audit
from chainstore.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from chainstore.core.numbers import assign, provisional
from chainstore.core.permissions import ensure_can, has_perm, scope_site_ids
from chainstore.fulfilment.models import (
    CustomerOrder,
    EventKind,
    OrderStatus,
    PickedStock,
    PickList,
    PickListStatus,
    PickTask,
    PickTaskStatus,
    ShipFromSite,
    Shipment,
    ShipmentStatus,
    Wave,
    WaveStatus,
)
from chainstore.fulfilment.services.events import add_event
from chainstore.fulfilment.services.layouts import plan_route
from chainstore.fulfilment.services.status import refresh_order_status
from chainstore.sites.models import Location, Site

MAX_ORDERS_LIMIT = 500
CART_SIZE_LIMIT = 50
_OPEN_WAVE = (WaveStatus.RELEASED, WaveStatus.PICKING)
_IN_WAVE = (ShipmentStatus.WAVED, ShipmentStatus.PICKING)
_CLAIM_ROUNDS = 3


# -- candidates and suggestions ----------------------------------------------------------
def wave_candidates(
    *,
    site: Site,
    actor: Any,
    cutoff: dt.datetime | None = None,
    carrier: str | None = None,
    zone: str | None = None,
) -> list[Shipment]:
    """Allocated shipments of paid, open orders at the site, oldest order first.

    `cutoff`: only orders placed before it; `carrier`: the shipment's carrier (else the
    order's, else the channel's default); `zone`: only shipments whose open pick tasks all
    lie in that zone (a zone wave). Each shipment carries `effective_carrier`, `units`
    (thousandths, summed over lines) and `line_count`."""
    ensure_can(actor, "fulfilment.plan", sites=[site.pk])
    return list(_candidates(site=site, cutoff=cutoff, carrier=carrier, zone=zone))


def _candidates(
    *,
    site: Site,
    cutoff: dt.datetime | None,
    carrier: str | None,
    zone: str | None,
) -> QuerySet[Shipment]:
    qs = (
        Shipment.objects.filter(site=site, status=ShipmentStatus.ALLOCATED)
        .filter(Q(order__paid_at__isnull=False) | Q(order__pay_by__isnull=True))
        .exclude(order__status__in=(OrderStatus.CANCELLED, OrderStatus.PENDING_PAYMENT))
        .annotate(
            effective_carrier=Coalesce(
                NullIf("carrier", Value("")),
                NullIf("order__carrier", Value("")),
                "order__channel__default_carrier",
            ),
            units=Coalesce(Sum("lines__quantity"), 0),
            line_count=Count("lines"),
        )
        .select_related("order", "order__channel")
        .order_by("order__placed_at", "id")
    )
    if cutoff is not None:
        qs = qs.filter(order__placed_at__lt=cutoff)
    if carrier:
        qs = qs.filter(effective_carrier=carrier)
    if zone:
        elsewhere = PickTask.objects.filter(
            shipment_line__shipment=OuterRef("pk"), status=PickTaskStatus.OPEN
        ).exclude(location__zone__code=zone)
        qs = qs.exclude(Exists(elsewhere))
    return qs


@dataclass(frozen=True)
class WaveGroup:
    """Candidates sharing a carrier and a dispatch deadline: one suggested wave.

    `due_today` is True for orders placed before today's cut-off at the site (they must
    leave today), False for later ones, None when the site has no cut-off time."""

    carrier: str
    due_today: bool | None
    cutoff_at: dt.datetime | None
    shipments: int
    orders: int
    lines: int
    units: int
    oldest_placed_at: dt.datetime

    @property
    def wave_cutoff(self) -> dt.datetime | None:
        """The `cutoff` to pass to create_wave for this group (None: take oldest first)."""
        return self.cutoff_at if self.due_today else None


def todays_cutoff(site: Site) -> dt.datetime | None:
    """Today's same-day dispatch cut-off at the site (in its time zone), if it has one."""
    config = ShipFromSite.objects.filter(site=site).first()
    if config is None or config.cutoff_time is None:
        return None
    tz = zoneinfo.ZoneInfo(site.timezone)
    today = timezone.now().astimezone(tz).date()
    return dt.datetime.combine(today, config.cutoff_time, tzinfo=tz)


def suggest_waves(site: Site, actor: Any, *, zone: str | None = None) -> list[WaveGroup]:
    """The candidates grouped by carrier and cut-off, most urgent first (due today before
    later, then the group holding the oldest order)."""
    shipments = wave_candidates(site=site, actor=actor, zone=zone)
    cutoff_at = todays_cutoff(site)
    groups: dict[tuple[str, bool | None], list[Shipment]] = defaultdict(list)
    for shipment in shipments:
        due = None if cutoff_at is None else shipment.order.placed_at < cutoff_at
        groups[(shipment.effective_carrier or "", due)].append(shipment)  # type: ignore[attr-defined]
    out = [
        WaveGroup(
            carrier=carrier,
            due_today=due,
            cutoff_at=cutoff_at,
            shipments=len(members),
            orders=len({s.order_id for s in members}),
            lines=sum(s.line_count for s in members),  # type: ignore[attr-defined]
            units=sum(s.units for s in members),  # type: ignore[attr-defined]
            oldest_placed_at=members[0].order.placed_at,
        )
        for (carrier, due), members in groups.items()
    ]
    out.sort(key=lambda g: (g.due_today is False, g.oldest_placed_at, g.carrier))
    return out


# -- creating a wave ---------------------------------------------------------------------
@transaction.atomic
def create_wave(
    *,
    site: Site,
    actor: Any,
    shipment_ids: list[int] | None = None,
    cutoff: dt.datetime | None = None,
    carrier: str | None = None,
    zone: str | None = None,
    max_orders: int = 50,
    cart_size: int = 8,
) -> Wave:
    """Wave up to `max_orders` candidates (oldest first, or exactly `shipment_ids`), split
    them into pick lists of at most `cart_size` shipments and route each list.

    With explicit ids every one must still be a candidate (409 `shipment_not_available`);
    otherwise shipments another planner takes meanwhile are skipped and the wave is topped
    up from the remaining candidates (409 `nothing_to_wave` when none is left)."""
    ensure_can(actor, "fulfilment.plan", sites=[site.pk])
    _check_limits(max_orders, cart_size)
    wave = Wave.objects.create(
        number=provisional(),
        site=site,
        status=WaveStatus.RELEASED,
        cutoff=cutoff,
        carrier=carrier or "",
        zone=zone or "",
        criteria={
            "max_orders": max_orders,
            "cart_size": cart_size,
            "explicit": shipment_ids is not None,
        },
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    assign(wave, "WV")
    pool = _candidates(site=site, cutoff=cutoff, carrier=carrier, zone=zone)
    if shipment_ids is not None:
        claimed = _claim_exact(wave, pool, shipment_ids)
    else:
        claimed = _claim_oldest(wave, pool, max_orders)
    lists = _build_pick_lists(wave, claimed, cart_size)
    for shipment in claimed:
        add_event(
            shipment.order,
            EventKind.WAVED,
            actor=actor,
            shipment=shipment,
            wave=wave.number,
            pick_list=lists[shipment.pk].number,
        )
    for order in {s.order_id: s.order for s in claimed}.values():
        refresh_order_status(order)
    audit.record(
        actor=actor,
        action="wave.create",
        obj=wave,
        to_state=WaveStatus.RELEASED,
        site_id=site.pk,
        data={"shipments": len(claimed), "pick_lists": len(set(lists.values()))},
    )
    return wave


def _check_limits(max_orders: int, cart_size: int) -> None:
    if not 1 <= max_orders <= MAX_ORDERS_LIMIT:
        raise ValidationFailed(
            _("A wave holds 1 to %(n)s orders.") % {"n": MAX_ORDERS_LIMIT},
            code="invalid_max_orders",
        )
    if not 1 <= cart_size <= CART_SIZE_LIMIT:
        raise ValidationFailed(
            _("A cart holds 1 to %(n)s orders.") % {"n": CART_SIZE_LIMIT},
            code="invalid_cart_size",
        )


def _claim(wave: Wave, ids: list[int], *, skip_locked: bool = False) -> int:
    """The one conditional UPDATE that makes waving safe under concurrency, behind the
    order and shipment locks (order care may be cancelling one of these orders)."""
    ids = lock_shipments(ids, statuses=(ShipmentStatus.ALLOCATED,), skip_locked=skip_locked)
    return Shipment.objects.filter(pk__in=ids, status=ShipmentStatus.ALLOCATED).update(
        status=ShipmentStatus.WAVED, wave=wave
    )


def _claim_exact(wave: Wave, pool: QuerySet[Shipment], shipment_ids: list[int]) -> list[Shipment]:
    wanted = sorted(set(shipment_ids))
    if not wanted or len(wanted) > MAX_ORDERS_LIMIT:
        raise ValidationFailed(
            _("Choose 1 to %(n)s shipments.") % {"n": MAX_ORDERS_LIMIT}, code="invalid_shipments"
        )
    found = set(pool.filter(pk__in=wanted).values_list("pk", flat=True))
    if len(found) != len(wanted) or _claim(wave, wanted) != len(wanted):
        missing = sorted(set(wanted) - found) or wanted
        raise Conflict(
            _("Some shipments are no longer waiting for a wave; reload and try again."),
            code="shipment_not_available",
            shipments=list(
                Shipment.objects.filter(pk__in=missing).values_list("number", flat=True)
            ),
        )
    return _claimed(wave)


def _claim_oldest(wave: Wave, pool: QuerySet[Shipment], max_orders: int) -> list[Shipment]:
    taken = 0
    for round_no in range(_CLAIM_ROUNDS):
        ids = list(pool.values_list("pk", flat=True)[: max_orders - taken])
        if not ids:
            break
        # Top-up rounds already hold order locks, taken in another id range: they skip
        # orders someone else is changing rather than wait while holding locks.
        taken += _claim(wave, ids, skip_locked=round_no > 0)
        if taken >= max_orders:
            break
    if taken == 0:
        raise Conflict(
            _("No shipments match these criteria; nothing to wave."), code="nothing_to_wave"
        )
    return _claimed(wave)


def _claimed(wave: Wave) -> list[Shipment]:
    return list(
        Shipment.objects.filter(wave=wave)
        .select_related("order")
        .order_by("order__placed_at", "id")
    )


def _build_pick_lists(wave: Wave, shipments: list[Shipment], cart_size: int) -> dict[int, PickList]:
    """One pick list per cart of shipments; returns each shipment's list."""
    tasks = list(
        PickTask.objects.filter(shipment_line__shipment__in=shipments, status=PickTaskStatus.OPEN)
        .select_related("location", "location__zone", "sku", "shipment_line")
        .order_by("shipment_line__order_line__line_no", "id")
    )
    by_shipment: dict[int, list[PickTask]] = defaultdict(list)
    for task in tasks:
        by_shipment[task.shipment_line.shipment_id].append(task)
    ordered = sorted(shipments, key=lambda s: (_aisle_signature(by_shipment[s.pk]), s.pk))
    out: dict[int, PickList] = {}
    for start in range(0, len(ordered), cart_size):
        cart = ordered[start : start + cart_size]
        pick_list = PickList.objects.create(
            number=provisional(), wave=wave, status=PickListStatus.OPEN
        )
        assign(pick_list, "PL")
        _route(wave.site, pick_list, [t for s in cart for t in by_shipment[s.pk]])
        out.update({s.pk: pick_list for s in cart})
    return out


def _aisle_signature(tasks: list[PickTask]) -> tuple[tuple[str, str], ...]:
    """Which zone/aisles a shipment visits: carts are filled with shipments that visit the
    same aisles, so each cart's walk stays short (after age, location is what matters)."""
    zones = {(t.location.zone.code if t.location.zone else "", t.location.aisle) for t in tasks}
    return tuple(sorted(zones))


def _route(site: Site, pick_list: PickList, tasks: list[PickTask]) -> None:
    """Order the list's tasks along the walking route and store the route with the
    lengths of the baselines (S-shape, walking in order-line sequence).

    Stops are the distinct bins in order-line sequence; tasks at one bin share its stop."""
    stops: list[Location] = []
    seen: set[int] = set()
    for task in tasks:
        if task.location_id not in seen:
            seen.add(task.location_id)
            stops.append(task.location)
    plan = plan_route(site, stops)
    rank = {stops[index].pk: n for n, index in enumerate(plan.order)}
    tasks.sort(key=lambda t: (rank[t.location_id], t.sku.code, t.shipment_line.shipment_id, t.pk))
    for sequence, task in enumerate(tasks, start=1):
        task.pick_list = pick_list
        task.sequence = sequence
    PickTask.objects.bulk_update(tasks, ["pick_list", "sequence"])
    pick_list.route_method = str(plan.method)[:30]
    pick_list.route_length_m = float(plan.length_m)
    pick_list.sshape_length_m = float(plan.sshape_m)
    pick_list.sequence_length_m = float(plan.sequence_m)
    pick_list.route_path = [[float(x), float(y)] for x, y in plan.path]
    pick_list.save(
        update_fields=[
            "route_method",
            "route_length_m",
            "sshape_length_m",
            "sequence_length_m",
            "route_path",
        ]
    )


# -- closing and cancelling --------------------------------------------------------------
@transaction.atomic
def close_wave(wave: Wave, actor: Any) -> Wave:
    """Finish a wave now (partial waves): shipments not fully picked go back to ALLOCATED
    with their remaining reservations and open tasks, ready for the next wave; unfinished
    pick lists are cancelled. What was picked stays picked (in outbound staging)."""
    ensure_can(actor, "fulfilment.plan", sites=[wave.site_id])
    _lock_wave(wave)
    return _finish(wave, actor, WaveStatus.DONE)


@transaction.atomic
def cancel_wave(wave: Wave, actor: Any) -> Wave:
    """Undo a wave before anything was picked or reported short: every shipment goes back
    to ALLOCATED. Once picking has begun, close the wave instead (409 `wave_has_picks`)."""
    ensure_can(actor, "fulfilment.plan", sites=[wave.site_id])
    _lock_wave(wave)
    started = PickTask.objects.filter(pick_list__wave=wave).filter(
        Q(picked__gt=0) | Q(short__gt=0) | ~Q(status=PickTaskStatus.OPEN)
    )
    if started.exists() or PickedStock.objects.filter(task__pick_list__wave=wave).exists():
        raise InvalidState(
            _("Picking has begun in this wave; close it instead."), code="wave_has_picks"
        )
    return _finish(wave, actor, WaveStatus.CANCELLED)


def _lock_wave(wave: Wave) -> None:
    """Everything closing or cancelling the wave changes, in the global order: the orders
    and shipments still being picked in it, their tasks on its lists, the lists, the wave.
    A pick or short pick in flight finishes first; one arriving later finds the list
    cancelled."""
    on_lists = PickTask.objects.filter(pick_list__wave=wave).values_list(
        "shipment_line__shipment_id", flat=True
    )
    waved = Shipment.objects.filter(wave=wave).values_list("pk", flat=True)
    lock_shipments({*on_lists, *waved}, statuses=_IN_WAVE)
    tasks = PickTask.objects.select_for_update(of=("self",)).filter(pick_list__wave=wave)
    list(tasks.order_by("pk").values_list("pk", flat=True))
    list(PickList.objects.select_for_update().filter(wave=wave).order_by("pk"))
    list(Wave.objects.select_for_update().filter(pk=wave.pk))


def _finish(wave: Wave, actor: Any, status: str) -> Wave:
    before = wave.status
    if not Wave.objects.filter(pk=wave.pk, status__in=_OPEN_WAVE).update(
        status=status, completed_at=timezone.now()
    ):
        raise InvalidState(
            _("This wave is already finished."), code="wave_finished", wave=wave.number
        )
    returned = list(Shipment.objects.filter(wave=wave, status__in=_IN_WAVE).select_related("order"))
    PickTask.objects.filter(pick_list__wave=wave, status=PickTaskStatus.OPEN).update(
        pick_list=None, sequence=0
    )
    PickList.objects.filter(
        wave=wave, status__in=(PickListStatus.OPEN, PickListStatus.PICKING)
    ).update(status=PickListStatus.CANCELLED, completed_at=timezone.now())
    Shipment.objects.filter(pk__in=[s.pk for s in returned]).update(
        status=ShipmentStatus.ALLOCATED, wave=None
    )
    for shipment in returned:
        add_event(
            shipment.order,
            EventKind.WAVED,
            actor=actor,
            shipment=shipment,
            wave=wave.number,
            action="returned",
            reason="wave_cancelled" if status == WaveStatus.CANCELLED else "wave_closed",
        )
    for order in {s.order_id: s.order for s in returned}.values():
        refresh_order_status(order)
    audit.record(
        actor=actor,
        action="wave.cancel" if status == WaveStatus.CANCELLED else "wave.close",
        obj=wave,
        from_state=before,
        to_state=status,
        site_id=wave.site_id,
        data={"returned": [s.number for s in returned]},
    )
    wave.refresh_from_db()
    return wave


def lock_shipments(
    shipment_ids: Iterable[int], *, statuses: Iterable[str], skip_locked: bool = False
) -> list[int]:
    """Lock the orders of these shipments, then those of the shipments still in `statuses`,
    each in id order (the head of the global lock order). With `skip_locked`, orders another
    transaction holds are passed over. Returns the ids of the shipments locked."""
    wanted = sorted(set(shipment_ids))
    if not wanted:
        return []
    order_ids = Shipment.objects.filter(pk__in=wanted).values_list("order_id", flat=True)
    locked_orders = list(
        CustomerOrder.objects.select_for_update(skip_locked=skip_locked)
        .filter(pk__in=set(order_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return list(
        Shipment.objects.select_for_update()
        .filter(pk__in=wanted, order_id__in=locked_orders, status__in=list(statuses))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def settle_pick_lists(
    *, shipments: Iterable[Shipment] = (), pick_list_ids: Iterable[int] = ()
) -> list[PickList]:
    """Finish every open or started pick list (of these shipments' tasks, or these ids)
    that has no task left to pick: a started list becomes DONE, a list nobody started (all
    its tasks were cancelled) CANCELLED; a wave left with no open list follows
    (`finish_if_done`). Call it in the same transaction after cancelling or finishing tasks,
    holding the orders' locks (order care after cancelling a shipment, picking after each
    pick). Each list row is locked before its tasks are counted, so two writers finishing
    the last two tasks of one list at once cannot both see the other's task still open.
    Returns the lists it finished."""
    ids = set(pick_list_ids)
    shipment_ids = [s.pk for s in shipments]
    if shipment_ids:
        ids.update(
            PickTask.objects.filter(
                shipment_line__shipment_id__in=shipment_ids, pick_list__isnull=False
            ).values_list("pick_list_id", flat=True)
        )
    if not ids:
        return []
    open_lists = list(
        PickList.objects.select_for_update()
        .filter(pk__in=ids, status__in=(PickListStatus.OPEN, PickListStatus.PICKING))
        .order_by("pk")
    )
    finished = []
    now = timezone.now()
    for pick_list in open_lists:
        if pick_list.tasks.filter(status=PickTaskStatus.OPEN).exists():
            continue
        started = pick_list.status == PickListStatus.PICKING
        pick_list.status = PickListStatus.DONE if started else PickListStatus.CANCELLED
        pick_list.completed_at = now
        pick_list.save(update_fields=["status", "completed_at"])
        finished.append(pick_list)
    for wave_id in sorted({pl.wave_id for pl in finished}):
        finish_if_done(wave_id)
    return finished


def finish_if_done(wave_id: int) -> bool:
    """Finish the wave once none of its lists is still open or being picked: DONE, or
    CANCELLED when every list was cancelled (nothing of it was picked). The wave row is
    locked before its lists are read (see `settle_pick_lists`). Returns whether it did."""
    wave = Wave.objects.select_for_update().filter(pk=wave_id, status__in=_OPEN_WAVE).first()
    if wave is None:
        return False
    statuses = set(PickList.objects.filter(wave_id=wave_id).values_list("status", flat=True))
    if statuses & {PickListStatus.OPEN, PickListStatus.PICKING}:
        return False
    done = PickListStatus.DONE in statuses or not statuses
    wave.status = WaveStatus.DONE if done else WaveStatus.CANCELLED
    wave.completed_at = timezone.now()
    wave.save(update_fields=["status", "completed_at"])
    return True


# -- reads -------------------------------------------------------------------------------
def ensure_floor(actor: Any, site_id: int) -> None:
    """Seeing waves and pick lists: planners and pickers of the site."""
    perm = "fulfilment.plan" if has_perm(actor, "fulfilment.plan") else "fulfilment.pick"
    ensure_can(actor, perm, sites=[site_id])


def get_wave(*, number: str, actor: Any) -> Wave:
    wave = Wave.objects.select_related("site", "created_by").filter(number=number).first()
    if wave is None:
        raise NotFound(_("Wave not found."), code="wave_not_found", wave=number)
    ensure_floor(actor, wave.site_id)
    return wave


def list_waves(*, actor: Any, site: Site | None = None, status: str = "") -> QuerySet[Wave]:
    """Waves newest first with their progress counts (`list_count`, `lists_done`,
    `shipment_count`, `task_count`, `tasks_done`)."""
    if site is not None:
        ensure_floor(actor, site.pk)
    elif not (has_perm(actor, "fulfilment.plan") or has_perm(actor, "fulfilment.pick")):
        ensure_can(actor, "fulfilment.plan")
    qs = Wave.objects.select_related("site", "created_by").order_by("-id")
    allowed = scope_site_ids(actor)
    if allowed is not None:
        qs = qs.filter(site_id__in=allowed)
    if site is not None:
        qs = qs.filter(site=site)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(
        list_count=Count("pick_lists", distinct=True),
        lists_done=Count(
            "pick_lists", filter=Q(pick_lists__status=PickListStatus.DONE), distinct=True
        ),
        task_count=Count("pick_lists__tasks", distinct=True),
        tasks_done=Count(
            "pick_lists__tasks",
            filter=~Q(pick_lists__tasks__status=PickTaskStatus.OPEN),
            distinct=True,
        ),
    )


def wave_pick_lists(wave: Wave) -> list[PickList]:
    """The wave's lists with `task_count`, `tasks_done` and `shipment_count`."""
    return list(
        PickList.objects.filter(wave=wave)
        .select_related("picker")
        .annotate(
            task_count=Count("tasks", distinct=True),
            tasks_done=Count("tasks", filter=~Q(tasks__status=PickTaskStatus.OPEN), distinct=True),
            shipment_count=Count("tasks__shipment_line__shipment", distinct=True),
        )
        .order_by("id")
    )


def wave_shipments(wave: Wave) -> list[Shipment]:
    """Shipments waved in this wave that are still attached to it."""
    return list(
        Shipment.objects.filter(wave=wave).select_related("order").order_by("order__placed_at")
    )
