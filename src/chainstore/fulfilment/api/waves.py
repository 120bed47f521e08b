"""/api/v1/fulfilment/... (waves and picking): plan waves from the allocated shipments of a
site, read pick lists in route order, and pick by scan.

Conventions: quantities are decimal strings in the SKU's base unit; errors are
`{code, message, details}`. The two writes that move stock, `POST /pick-tasks/{id}/pick`
and `/short`, need an `Idempotency-Key` header (one per task attempt, e.g. a UUID): the
first post answers 201, a replay 200 with `replayed: true` and moves nothing.
"""

# No `from __future__ import annotations` here: ninja must see the real parameter types.
import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Schema, Status
from ninja.pagination import paginate

from chainstore.core.errors import NotFound, ValidationFailed
from chainstore.core.pagination import LimitOffsetPagination
from chainstore.core.quantities import qty_to_milli
from chainstore.fulfilment.models import (
    PickListStatus,
    PickTask,
    PickTaskStatus,
    Shipment,
    WaveStatus,
)
from chainstore.fulfilment.schemas_waves import (
    CandidateOut,
    PickIn,
    PickListOut,
    PickListSummaryOut,
    PickOut,
    ShortIn,
    ShortOut,
    SuggestionOut,
    WaveIn,
    WaveOut,
    WaveSummaryOut,
    candidate_out,
    pick_list_out,
    pick_list_summary,
    short_out,
    suggestion_out,
    task_out,
    wave_out,
    wave_summary,
)
from chainstore.fulfilment.services import picking, shorts, waves
from chainstore.sites.selectors import get_site

router = Router()

KEY = Header(
    None,
    alias="Idempotency-Key",
    description="Client key, one per task attempt (e.g. a UUID); a replay returns the first "
    "result and moves nothing",
)


def _require_key(key: str | None) -> str:
    if not key:
        raise ValidationFailed(
            _("Send an Idempotency-Key header with every pick."), code="idempotency_key_required"
        )
    return key


class CandidateFilter(Schema):
    site: str
    carrier: str | None = None
    zone: str | None = None
    cutoff: dt.datetime | None = None


# -- planning --------------------------------------------------------------------------
@router.get("/waves/candidates", response=list[CandidateOut])
def candidates(request: HttpRequest, filters: Query[CandidateFilter]) -> Any:
    """Allocated shipments of paid orders at the site waiting for a wave, oldest first;
    `carrier`, `zone` (only shipments entirely in that zone) and `cutoff` (placed before)
    narrow them."""
    site = get_site(code=filters.site, actor=request.user)
    found = waves.wave_candidates(
        site=site,
        actor=request.user,
        cutoff=filters.cutoff,
        carrier=filters.carrier,
        zone=filters.zone,
    )
    return [candidate_out(s) for s in found]


@router.get("/waves/suggestions", response=list[SuggestionOut])
def suggestions(request: HttpRequest, site: str, zone: str | None = None) -> Any:
    """The candidates grouped by carrier and by today's dispatch cut-off (placed before it:
    `due_today`), most urgent first. Create a group's wave with its `carrier` and
    `wave_cutoff`.

    Response:
    ```json
    [{"carrier": "sf", "due_today": true, "cutoff_at": "2026-11-25T16:00:00+08:00",
      "wave_cutoff": "2026-11-25T16:00:00+08:00", "shipments": 37, "orders": 37,
      "lines": 52, "units": "81.000", "oldest_placed_at": "2026-11-25T08:02:11+08:00"}]
    ```
    """
    found = waves.suggest_waves(get_site(code=site, actor=request.user), request.user, zone=zone)
    return [suggestion_out(g) for g in found]


@router.post("/waves", response={201: WaveOut})
def create(request: HttpRequest, payload: WaveIn) -> Any:
    """Create a wave: up to `max_orders` candidates (or exactly `shipments`), split into pick
    lists of `cart_size` orders, each list ordered along its walking route. 409
    `nothing_to_wave` when nothing matches; `shipment_not_available` when a listed shipment
    was taken by another wave meanwhile.

    Request:
    ```json
    {"site": "WH1", "carrier": "sf", "cutoff": "2026-11-25T16:00:00+08:00",
     "max_orders": 40, "cart_size": 8}
    ```
    """
    site = get_site(code=payload.site, actor=request.user)
    ids = None
    if payload.shipments is not None:
        ids = list(
            Shipment.objects.filter(number__in=payload.shipments, site=site).values_list(
                "pk", flat=True
            )
        )
        if len(ids) != len(set(payload.shipments)):
            raise ValidationFailed(
                _("Some shipments do not exist at this site."), code="unknown_shipment"
            )
    wave = waves.create_wave(
        site=site,
        actor=request.user,
        shipment_ids=ids,
        cutoff=payload.cutoff,
        carrier=payload.carrier,
        zone=payload.zone,
        max_orders=payload.max_orders,
        cart_size=payload.cart_size,
    )
    return Status(201, _wave_detail(wave.number, request.user))


@router.get("/waves", response=list[WaveSummaryOut])
@paginate(LimitOffsetPagination)
def list_waves(request: HttpRequest, site: str | None = None, status: str = "") -> Any:
    """Waves newest first with progress (lists and tasks done)."""
    if status and status not in WaveStatus.values:
        raise ValidationFailed(_("Unknown wave status."), code="invalid_status")
    site_obj = get_site(code=site, actor=request.user) if site else None
    return [
        wave_summary(w) for w in waves.list_waves(actor=request.user, site=site_obj, status=status)
    ]


@router.get("/waves/{number}", response=WaveOut)
def wave_detail(request: HttpRequest, number: str) -> Any:
    return _wave_detail(number, request.user)


@router.post("/waves/{number}/close", response=WaveOut)
def close(request: HttpRequest, number: str) -> Any:
    """Finish the wave now: shipments not fully picked return to the pool with their
    remaining reservations; unfinished lists are cancelled."""
    waves.close_wave(waves.get_wave(number=number, actor=request.user), request.user)
    return _wave_detail(number, request.user)


@router.post("/waves/{number}/cancel", response=WaveOut)
def cancel(request: HttpRequest, number: str) -> Any:
    """Undo a wave nothing has been picked from (409 `wave_has_picks` otherwise)."""
    waves.cancel_wave(waves.get_wave(number=number, actor=request.user), request.user)
    return _wave_detail(number, request.user)


def _wave_detail(number: str, actor: Any) -> dict[str, Any]:
    wave = waves.get_wave(number=number, actor=actor)
    return wave_out(wave, waves.wave_pick_lists(wave), waves.wave_shipments(wave))


# -- picking ---------------------------------------------------------------------------
@router.get("/pick-lists", response=list[PickListSummaryOut])
@paginate(LimitOffsetPagination)
def list_pick_lists(
    request: HttpRequest, site: str | None = None, status: str = "", mine: bool = False
) -> Any:
    """Pick lists at the sites in scope, oldest first; `mine` = the caller's own."""
    if status and status not in PickListStatus.values:
        raise ValidationFailed(_("Unknown pick list status."), code="invalid_status")
    site_obj = get_site(code=site, actor=request.user) if site else None
    qs = picking.list_pick_lists(
        actor=request.user, site=site_obj, statuses=(status,) if status else ()
    )
    if mine:
        qs = qs.filter(picker_id=request.user.pk)
    return [
        pick_list_summary(pl, done=pl.tasks_done, total=pl.task_count)  # type: ignore[attr-defined]
        for pl in qs
    ]


@router.get("/pick-lists/{number}", response=PickListOut)
def pick_list_detail(request: HttpRequest, number: str) -> Any:
    """The list's tasks in route order (bin, SKU, lot, quantity, status, cart slot) and the
    route with its length against the S-shape and order-line-sequence walks."""
    pick_list = picking.get_pick_list(number=number, actor=request.user)
    return pick_list_out(pick_list, picking.pick_list_tasks(pick_list))


@router.post("/pick-lists/{number}/start", response=PickListOut)
def start(request: HttpRequest, number: str) -> Any:
    """Take the list: the caller becomes its picker (409 `pick_list_taken` if another is)."""
    pick_list = picking.get_pick_list(number=number, actor=request.user)
    picking.start_pick_list(pick_list, request.user)
    pick_list = picking.get_pick_list(number=number, actor=request.user)
    return pick_list_out(pick_list, picking.pick_list_tasks(pick_list))


@router.post("/pick-tasks/{task_id}/pick", response={200: PickOut, 201: PickOut})
def pick(
    request: HttpRequest, task_id: int, payload: PickIn, idempotency_key: str | None = KEY
) -> Any:
    """Confirm a pick by scan. Refusals (nothing changes): `unknown_bin`, `wrong_bin`,
    `wrong_item`, `unknown_barcode`, `lot_required`, `unknown_lot`, `wrong_lot`,
    `lot_expired`, `fefo_violation`, `over_quantity`, `task_not_open`,
    `pick_list_not_started`, `pick_list_assigned_elsewhere`.

    Request (header `Idempotency-Key: 0b6c…`):
    ```json
    {"bin": "A-01-08", "item": "(01)06901234567892(17)261231(10)L2311", "quantity": "2"}
    ```
    """
    key = _require_key(idempotency_key)
    task = picking.get_task(task_id=task_id, actor=request.user)
    picked = picking.confirm_pick(
        task=task,
        actor=request.user,
        bin_scan=payload.bin,
        item_scan=payload.item,
        lot_scan=payload.lot,
        quantity=qty_to_milli(payload.quantity),
        idempotency_key=key,
    )
    body = _pick_out(task_id, picked, request.user)
    return Status(200 if getattr(picked, "replayed", False) else 201, body)


@router.post("/pick-tasks/{task_id}/short", response={200: ShortOut, 201: ShortOut})
def short(
    request: HttpRequest, task_id: int, payload: ShortIn, idempotency_key: str | None = KEY
) -> Any:
    """Report a short pick: `found` (less than the task's remainder) is picked from the
    task's bin and lot, the free stock left there by the ledger is written off, and the
    order's missing quantity is re-sourced (another bin or site) or backordered."""
    key = _require_key(idempotency_key)
    try:
        task = picking.get_task(task_id=task_id, actor=request.user)
    except NotFound:
        # A short pick that found nothing removes its line and task: a resend replays it.
        replayed = shorts.replay_short(task_id=task_id, actor=request.user, idempotency_key=key)
        if replayed is None:
            raise
        result = replayed
    else:
        result = shorts.report_short(
            task=task, actor=request.user, found=qty_to_milli(payload.found), idempotency_key=key
        )
    pick_list = picking.get_pick_list(number=result.pick_list, actor=request.user)
    body = short_out(result, pick_list, picking.next_task(pick_list))
    return Status(200 if result.replayed else 201, body)


def _pick_out(task_id: int, picked: Any, actor: Any) -> dict[str, Any]:
    task = picking.get_task(task_id=task_id, actor=actor)
    pick_list = task.pick_list
    if pick_list is None:
        # A replay after the wave was closed: the unfinished task has left its list.
        return _unlisted_pick_out(task_id, picked)
    tasks = picking.pick_list_tasks(pick_list)
    this = next(t for t in tasks if t.pk == task_id)
    upcoming = next((t for t in tasks if t.status == PickTaskStatus.OPEN), None)
    shipment = task.shipment_line.shipment
    return {
        "replayed": getattr(picked, "replayed", False),
        "picked": _picked_json(picked),
        "task": task_out(this),
        "shipment_status": shipment.status,
        "pick_list_status": pick_list.status,
        "wave_status": pick_list.wave.status,
        "next_task": task_out(upcoming) if upcoming else None,
        "tasks_done": sum(1 for t in tasks if t.status != PickTaskStatus.OPEN),
        "task_count": len(tasks),
    }


def _unlisted_pick_out(task_id: int, picked: Any) -> dict[str, Any]:
    task = (
        PickTask.objects.select_related(
            "location", "sku", "lot", "picked_lot", "picked_by", "shipment_line__shipment__order"
        )
        .filter(pk=task_id)
        .get()
    )
    return {
        "replayed": getattr(picked, "replayed", False),
        "picked": _picked_json(picked),
        "task": task_out(task),
        "shipment_status": task.shipment_line.shipment.status,
        "pick_list_status": "",
        "wave_status": "",
        "next_task": None,
        "tasks_done": 0,
        "task_count": 0,
    }


def _picked_json(picked: Any) -> dict[str, Any]:
    return {
        "id": picked.pk,
        "lot": picked.lot.number if picked.lot else None,
        "quantity": picked.quantity,
        "location": picked.location.code,
    }
