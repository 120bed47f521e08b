from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema
from pydantic import model_validator

from chainstore.core.quantities import fen_to_money, micros_to_cost, milli_to_qty
from chainstore.counts.models import CountLine, StockCount
from chainstore.counts.selectors import CountSummary, LineView


class CountIn(Schema):
    site: str
    name: str = Field(min_length=1, max_length=100)
    scope: str = Field(default="full", pattern="^(full|zone|skus)$")
    zone: str | None = Field(default=None, description="Zone code (scope=zone)")
    skus: list[str] = Field(default=[], max_length=5000, description="SKU codes (scope=skus)")


class EntryIn(Schema):
    location: str = Field(description="Location code at the count's site")
    quantity: Decimal = Field(ge=0, decimal_places=3, description="Counted, in base units")
    scan: str | None = Field(default=None, max_length=200, description="Raw barcode / GS1 scan")
    sku: str | None = Field(default=None, description="SKU code; or give `scan`")
    lot: str | None = Field(default=None, max_length=64)
    replace: bool = Field(default=False, description="Set the line's count instead of adding to it")
    client_key: str | None = Field(
        default=None, max_length=100, description="Per-entry key; a replay records nothing"
    )

    @model_validator(mode="after")
    def sku_or_scan(self) -> EntryIn:
        if not self.sku and not self.scan:
            raise ValueError("give sku or scan")
        return self


class EntryBatchIn(Schema):
    entries: list[EntryIn] = Field(min_length=1, max_length=50_000)


class RecountIn(Schema):
    lines: list[int] | None = Field(
        default=None, description="Line ids; omit to recount every line with a variance"
    )


class SummaryOut(Schema):
    lines_total: int
    lines_counted: int
    lines_pending: int
    lines_recount: int
    lines_with_variance: int
    accuracy: float | None
    gain_value: Decimal
    loss_value: Decimal
    net_value: Decimal

    @classmethod
    def of(cls, s: CountSummary) -> SummaryOut:
        return cls(
            lines_total=s.lines_total,
            lines_counted=s.lines_counted,
            lines_pending=s.lines_pending,
            lines_recount=s.lines_recount,
            lines_with_variance=s.lines_with_variance,
            accuracy=round(s.accuracy, 6) if s.accuracy is not None else None,
            gain_value=fen_to_money(s.gain_value_fen),
            loss_value=fen_to_money(s.loss_value_fen),
            net_value=fen_to_money(s.net_value_fen),
        )


class CountOut(Schema):
    id: int
    site: str
    name: str
    scope: str
    zone: str | None
    status: str
    created_by: str | None
    created_at: dt.datetime
    frozen_at: dt.datetime | None
    approved_by: str | None
    approved_at: dt.datetime | None
    operation_id: int | None
    replayed: bool = False

    @classmethod
    def of(cls, count: StockCount) -> CountOut:
        return cls(
            id=count.pk,
            site=count.site.code,
            name=count.name,
            scope=count.scope,
            zone=count.zone.code if count.zone else None,
            status=count.status,
            created_by=count.created_by.get_username() if count.created_by else None,
            created_at=count.created_at,
            frozen_at=count.frozen_at,
            approved_by=count.approved_by.get_username() if count.approved_by else None,
            approved_at=count.approved_at,
            operation_id=count.operation_id,
            replayed=bool(getattr(count, "replayed", False)),
        )


class CountPageOut(Schema):
    count: int
    items: list[CountOut]


class LineOut(Schema):
    id: int
    location: str
    sku: str
    sku_name: str
    lot: str | None
    status: str
    in_snapshot: bool
    snapshot_qty: Decimal
    expected_qty: Decimal | None
    counted_qty: Decimal | None
    variance: Decimal | None
    unit_cost: Decimal
    variance_value: Decimal | None
    round: int
    counted_at: dt.datetime | None

    @classmethod
    def of(cls, view: LineView) -> LineOut:
        ln: CountLine = view.line
        return cls(
            id=ln.pk,
            location=ln.location.code,
            sku=ln.sku.code,
            sku_name=ln.sku.name,
            lot=ln.lot.number if ln.lot else None,
            status=ln.status,
            in_snapshot=ln.in_snapshot,
            snapshot_qty=milli_to_qty(ln.snapshot_qty),
            expected_qty=_qty(ln.expected_qty),
            counted_qty=_qty(ln.counted_qty),
            variance=_qty(view.variance),
            unit_cost=micros_to_cost(view.unit_cost_micros),
            variance_value=fen_to_money(view.value_fen) if view.value_fen is not None else None,
            round=ln.round,
            counted_at=ln.counted_at,
        )


def _qty(value: int | None) -> Decimal | None:
    return milli_to_qty(value) if value is not None else None


class CountDetailOut(CountOut):
    summary: SummaryOut
    lines: list[LineOut]


class LinePageOut(Schema):
    count: int
    items: list[LineOut]


class BatchOut(Schema):
    recorded: int
    lines: int
