"""API schemas of transfer requests, approvals and approval rules. Inputs: quantities as
decimals in the SKU's base unit, money in yuan; outputs turn stored milli / fen into
decimal strings (core.schemas MilliQty / Fen)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from chainstore.core.schemas import Fen, MilliQty
from chainstore.transfers.models import ApprovalRule, ApprovalStep, Transfer
from chainstore.transfers.selectors import TransferDetail
from chainstore.transfers.services.requests import Suggestion


# -- inputs ------------------------------------------------------------------------------------
class TransferLineIn(Schema):
    sku: str = Field(max_length=40, description="SKU code", examples=["SKU00042"])
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=3, examples=["12"])


class TransferIn(Schema):
    source: str = Field(max_length=20, description="Site code", examples=["W01"])
    destination: str = Field(max_length=20, description="Site code", examples=["S003"])
    kind: str | None = Field(
        default=None,
        description="Only for warehouse -> store: `replenishment` or `push`; else derived",
    )
    needed_by: dt.date | None = None
    reason: str = Field(default="", max_length=300, examples=["周末促销备货"])
    lines: list[TransferLineIn] = Field(min_length=1)
    submit: bool = Field(default=False, description="Submit into approval at once")


class TransferPatchIn(Schema):
    """Fields left out stay as they are; `lines` replaces every line."""

    needed_by: dt.date | None = None
    reason: str | None = Field(default=None, max_length=300)
    lines: list[TransferLineIn] | None = Field(default=None, min_length=1)


class CommentIn(Schema):
    comment: str = Field(default="", max_length=500)
    step: int | None = Field(
        default=None, description="Id of the level being decided (409 if no longer current)"
    )


class CancelIn(Schema):
    reason: str = Field(default="", max_length=300)


class LevelIn(Schema):
    role: str = Field(examples=["store_manager"])
    scope: str = Field(examples=["destination"], description="source | destination | chain")
    name: str = Field(default="", max_length=100, examples=["区域经理"])


class RuleIn(Schema):
    name: str = Field(max_length=100, examples=["超过一万元: 区域经理 + 总部"])
    priority: int = 100
    is_active: bool = True
    min_value: Decimal | None = Field(default=None, ge=0, decimal_places=2, examples=["10000"])
    min_quantity: Decimal | None = Field(default=None, ge=0, decimal_places=3)
    kinds: list[str] = []
    source_sites: list[str] = Field(default=[], description="Site codes")
    destination_sites: list[str] = Field(default=[], description="Site codes")
    categories: list[str] = Field(default=[], description="Category codes (with subcategories)")
    levels: list[LevelIn] = Field(description="In order: level 1 decides first")


# -- outputs -----------------------------------------------------------------------------------
class TransferLineOut(Schema):
    sku: str
    name: str
    quantity: MilliQty
    shipped: MilliQty
    received: MilliQty
    damaged: MilliQty
    resolved: MilliQty
    in_transit: MilliQty


class StepOut(Schema):
    id: int
    round: int
    level: int
    name: str
    role: str
    scope_site: str | None
    status: str
    decided_by: str | None
    decided_at: dt.datetime | None
    comment: str


class EventOut(Schema):
    kind: str
    at: dt.datetime
    actor: str | None
    data: dict[str, Any]


class TransferSummaryOut(Schema):
    number: str
    kind: str
    status: str
    source: str
    destination: str
    needed_by: dt.date | None
    reason: str
    requested_by: str
    value: Fen
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    approved_at: dt.datetime | None


class TransferPageOut(Schema):
    items: list[TransferSummaryOut]
    count: int


class TransferOut(TransferSummaryOut):
    lines: list[TransferLineOut]
    steps: list[StepOut]
    current_step: StepOut | None
    events: list[EventOut]


class InboxItemOut(Schema):
    step: StepOut
    transfer: TransferSummaryOut


class LevelOut(Schema):
    seq: int
    role: str
    scope: str
    name: str


class RuleOut(Schema):
    id: int
    name: str
    priority: int
    is_active: bool
    min_value: Fen | None
    min_quantity: MilliQty | None
    kinds: list[str]
    source_sites: list[str]
    destination_sites: list[str]
    categories: list[str]
    levels: list[LevelOut]


class SourceOptionOut(Schema):
    site: str
    name: str
    kind: str
    available: MilliQty
    distance_km: float | None


class SuggestionOut(Schema):
    site: str
    sku: str
    safety_stock: MilliQty | None
    available: MilliQty
    quantity: MilliQty
    source: str | None
    options: list[SourceOptionOut]


# -- converters ----------------------------------------------------------------------------------
def _user(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def step_out(step: ApprovalStep) -> dict[str, Any]:
    return {
        "id": step.pk,
        "round": step.round,
        "level": step.seq,
        "name": step.name,
        "role": step.role,
        "scope_site": step.scope_site.code if step.scope_site is not None else None,
        "status": step.status,
        "decided_by": _user(step.decided_by),
        "decided_at": step.decided_at,
        "comment": step.comment,
    }


def summary_out(t: Transfer) -> dict[str, Any]:
    return {
        "number": t.number,
        "kind": t.kind,
        "status": t.status,
        "source": t.source.code,
        "destination": t.destination.code,
        "needed_by": t.needed_by,
        "reason": t.reason,
        "requested_by": _user(t.requested_by),
        "value": t.value_fen,
        "created_at": t.created_at,
        "submitted_at": t.submitted_at,
        "approved_at": t.approved_at,
    }


def transfer_out(d: TransferDetail) -> dict[str, Any]:
    return {
        **summary_out(d.transfer),
        "lines": [
            {
                "sku": ln.sku.code,
                "name": ln.sku.name,
                "quantity": ln.quantity,
                "shipped": ln.shipped,
                "received": ln.received,
                "damaged": ln.damaged,
                "resolved": ln.resolved,
                "in_transit": ln.in_transit,
            }
            for ln in d.lines
        ],
        "steps": [step_out(s) for r in d.rounds for s in r.steps],
        "current_step": step_out(d.current_step) if d.current_step else None,
        "events": [
            {"kind": e.kind, "at": e.at, "actor": _user(e.actor), "data": e.data} for e in d.events
        ],
    }


def rule_out(rule: ApprovalRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "priority": rule.priority,
        "is_active": rule.is_active,
        "min_value": rule.min_value_fen,
        "min_quantity": rule.min_quantity,
        "kinds": list(rule.kinds),
        "source_sites": sorted(s.code for s in rule.source_sites.all()),
        "destination_sites": sorted(s.code for s in rule.destination_sites.all()),
        "categories": sorted(c.code for c in rule.categories.all()),
        "levels": [
            {"seq": lv.seq, "role": lv.role, "scope": lv.scope, "name": lv.name}
            for lv in sorted(rule.levels.all(), key=lambda lv: lv.seq)
        ],
    }


def suggestion_out(s: Suggestion) -> dict[str, Any]:
    return {
        "site": s.site.code,
        "sku": s.sku.code,
        "safety_stock": s.safety_stock,
        "available": s.available,
        "quantity": s.quantity,
        "source": s.source.code if s.source else None,
        "options": [
            {
                "site": o.site.code,
                "name": o.site.name,
                "kind": o.site.kind,
                "available": o.available,
                "distance_km": round(o.distance_km, 1) if o.distance_km is not None else None,
            }
            for o in s.options
        ],
    }
