"""API schemas of waves and picking. Quantities go in and out as decimal strings in the
SKU's base unit (stored as thousandths); route lengths in metres."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from chainstore.core.schemas import MilliQty
from chainstore.fulfilment.models import (
    PickList,
    PickListStatus,
    PickTask,
    PickTaskStatus,
    Shipment,
    Wave,
)
from chainstore.fulfilment.services.shorts import ShortResult
from chainstore.fulfilment.services.waves import WaveGroup


# -- inputs ----------------------------------------------------------------------------
class WaveIn(Schema):
    site: str = Field(description="Site code", examples=["WH1"])
    shipments: list[str] | None = Field(
        default=None,
        max_length=500,
        description="Exactly these shipments (numbers); otherwise the oldest candidates",
    )
    cutoff: dt.datetime | None = Field(default=None, description="Only orders placed before")
    carrier: str | None = Field(default=None, max_length=20)
    zone: str | None = Field(default=None, max_length=20, description="Zone code (zone wave)")
    max_orders: int = Field(default=50, ge=1, le=500)
    cart_size: int = Field(default=8, ge=1, le=50, description="Orders per pick list (cart)")


class PickIn(Schema):
    bin: str = Field(max_length=40, description="Scanned bin code", examples=["A-01-08"])
    item: str = Field(
        max_length=200,
        description="Scanned item barcode: EAN/UPC or GS1 (the lot comes from AI 10)",
        examples=["6901234567892", "(01)06901234567892(17)261231(10)L2311"],
    )
    lot: str | None = Field(default=None, max_length=64, description="Typed or scanned lot")
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=3)


class ShortIn(Schema):
    found: Decimal = Field(
        ge=0, max_digits=12, decimal_places=3, description="How much the picker found"
    )


# -- outputs ---------------------------------------------------------------------------
class CandidateOut(Schema):
    shipment: str
    order: str
    channel: str
    placed_at: dt.datetime
    carrier: str
    lines: int
    units: MilliQty


class SuggestionOut(Schema):
    carrier: str
    due_today: bool | None = Field(
        description="Placed before today's cut-off (true), after it (false), no cut-off (null)"
    )
    cutoff_at: dt.datetime | None
    wave_cutoff: dt.datetime | None = Field(description="`cutoff` to create this wave with")
    shipments: int
    orders: int
    lines: int
    units: MilliQty
    oldest_placed_at: dt.datetime


class TaskOut(Schema):
    id: int
    sequence: int
    slot: int = Field(description="Cart slot (tote) of the task's shipment, from 1")
    shipment: str
    order: str
    bin: str
    sku: str
    name: str
    unit: str
    lot_tracked: bool
    lot: str | None
    lot_expiry: dt.date | None
    quantity: MilliQty
    picked: MilliQty
    short: MilliQty
    remaining: MilliQty
    status: str
    picked_lot: str | None
    picked_by: str | None
    picked_at: dt.datetime | None


class PickListSummaryOut(Schema):
    number: str
    wave: str
    site: str
    status: str
    picker: str | None
    task_count: int
    tasks_done: int
    route_method: str
    route_length_m: float | None
    sshape_length_m: float | None
    sequence_length_m: float | None
    saving_vs_sshape_pct: float | None
    saving_vs_sequence_pct: float | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None


class PickListOut(PickListSummaryOut):
    route_path: list[list[float]]
    tasks: list[TaskOut]


class WaveShipmentOut(Schema):
    number: str
    order: str
    status: str


class WaveSummaryOut(Schema):
    number: str
    site: str
    status: str
    carrier: str
    zone: str
    cutoff: dt.datetime | None
    created_at: dt.datetime
    created_by: str | None
    completed_at: dt.datetime | None
    list_count: int
    lists_done: int
    task_count: int
    tasks_done: int


class WaveOut(WaveSummaryOut):
    pick_lists: list[PickListSummaryOut]
    shipments: list[WaveShipmentOut]


class PickedOut(Schema):
    id: int
    lot: str | None
    quantity: MilliQty
    location: str


class PickOut(Schema):
    replayed: bool
    picked: PickedOut
    task: TaskOut
    shipment_status: str
    pick_list_status: str
    wave_status: str
    next_task: TaskOut | None
    tasks_done: int
    task_count: int


class ShortOut(Schema):
    replayed: bool
    task_id: int
    found: MilliQty
    short: MilliQty
    written_off: MilliQty
    shipment_status: str
    decision: int | None = Field(description="The re-sourcing decision (see the order)")
    resource_error: str | None = Field(description="Why re-sourcing was refused, if it was")
    pick_list_status: str
    next_task: TaskOut | None


# -- builders --------------------------------------------------------------------------
def _name(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def candidate_out(shipment: Shipment) -> dict[str, Any]:
    return {
        "shipment": shipment.number,
        "order": shipment.order.number,
        "channel": shipment.order.channel.code,
        "placed_at": shipment.order.placed_at,
        "carrier": shipment.effective_carrier or "",  # type: ignore[attr-defined]
        "lines": shipment.line_count,  # type: ignore[attr-defined]
        "units": shipment.units,  # type: ignore[attr-defined]
    }


def suggestion_out(group: WaveGroup) -> dict[str, Any]:
    return {
        "carrier": group.carrier,
        "due_today": group.due_today,
        "cutoff_at": group.cutoff_at,
        "wave_cutoff": group.wave_cutoff,
        "shipments": group.shipments,
        "orders": group.orders,
        "lines": group.lines,
        "units": group.units,
        "oldest_placed_at": group.oldest_placed_at,
    }


def task_out(task: PickTask) -> dict[str, Any]:
    shipment = task.shipment_line.shipment
    return {
        "id": task.pk,
        "sequence": task.sequence,
        "slot": getattr(task, "slot", 1),
        "shipment": shipment.number,
        "order": shipment.order.number,
        "bin": task.location.code,
        "sku": task.sku.code,
        "name": task.sku.name,
        "unit": task.sku.base_unit,
        "lot_tracked": task.sku.is_lot_tracked,
        "lot": task.lot.number if task.lot else None,
        "lot_expiry": task.lot.expiry_date if task.lot else None,
        "quantity": task.quantity,
        "picked": task.picked,
        "short": task.short,
        "remaining": task.quantity - task.picked - task.short,
        "status": task.status,
        "picked_lot": task.picked_lot.number if task.picked_lot else None,
        "picked_by": _name(task.picked_by),
        "picked_at": task.picked_at,
    }


def saving_pct(route: float | None, baseline: float | None) -> float | None:
    """How much shorter the route is than a baseline walk, in percent (one decimal)."""
    if route is None or not baseline:
        return None
    return round((baseline - route) / baseline * 100, 1)


def pick_list_summary(pick_list: PickList, *, done: int, total: int) -> dict[str, Any]:
    return {
        "number": pick_list.number,
        "wave": pick_list.wave.number,
        "site": pick_list.wave.site.code,
        "status": pick_list.status,
        "picker": _name(pick_list.picker),
        "task_count": total,
        "tasks_done": done,
        "route_method": pick_list.route_method,
        "route_length_m": pick_list.route_length_m,
        "sshape_length_m": pick_list.sshape_length_m,
        "sequence_length_m": pick_list.sequence_length_m,
        "saving_vs_sshape_pct": saving_pct(pick_list.route_length_m, pick_list.sshape_length_m),
        "saving_vs_sequence_pct": saving_pct(pick_list.route_length_m, pick_list.sequence_length_m),
        "started_at": pick_list.started_at,
        "completed_at": pick_list.completed_at,
    }


def pick_list_out(pick_list: PickList, tasks: list[PickTask]) -> dict[str, Any]:
    done = sum(1 for t in tasks if t.status != PickTaskStatus.OPEN)
    return {
        **pick_list_summary(pick_list, done=done, total=len(tasks)),
        "route_path": pick_list.route_path,
        "tasks": [task_out(t) for t in tasks],
    }


def wave_summary(wave: Wave) -> dict[str, Any]:
    return {
        "number": wave.number,
        "site": wave.site.code,
        "status": wave.status,
        "carrier": wave.carrier,
        "zone": wave.zone,
        "cutoff": wave.cutoff,
        "created_at": wave.created_at,
        "created_by": _name(wave.created_by),
        "completed_at": wave.completed_at,
        "list_count": getattr(wave, "list_count", 0),
        "lists_done": getattr(wave, "lists_done", 0),
        "task_count": getattr(wave, "task_count", 0),
        "tasks_done": getattr(wave, "tasks_done", 0),
    }


def wave_out(wave: Wave, lists: list[PickList], shipments: list[Shipment]) -> dict[str, Any]:
    summaries = [
        pick_list_summary(
            pl,
            done=pl.tasks_done,  # type: ignore[attr-defined]
            total=pl.task_count,  # type: ignore[attr-defined]
        )
        for pl in lists
    ]
    return {
        **wave_summary(wave),
        "list_count": len(lists),
        "lists_done": sum(1 for pl in lists if pl.status == PickListStatus.DONE),
        "task_count": sum(s["task_count"] for s in summaries),
        "tasks_done": sum(s["tasks_done"] for s in summaries),
        "pick_lists": summaries,
        "shipments": [
            {"number": s.number, "order": s.order.number, "status": s.status} for s in shipments
        ],
    }


def short_out(
    result: ShortResult, pick_list: PickList, next_task: PickTask | None
) -> dict[str, Any]:
    return {
        "replayed": result.replayed,
        "task_id": result.task_id,
        "found": result.found,
        "short": result.short,
        "written_off": result.written_off,
        "shipment_status": result.shipment_status,
        "decision": result.decision_id,
        "resource_error": result.resource_error,
        "pick_list_status": pick_list.status,
        "next_task": task_out(next_task) if next_task else None,
    }
