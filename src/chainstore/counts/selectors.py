"""Reads of counts, scoped by the actor: lists, detail, variances with value, accuracy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet

from chainstore.core.permissions import ensure_can, scope_site_ids
from chainstore.core.quantities import value_fen
from chainstore.sites.models import Site

from . import ledger
from .errors import CountNotFound
from .models import CountLine, CountStatus, StockCount

LINE_FILTERS = ("all", "pending", "counted", "variance", "recount")


def get_count(*, count_id: int, actor: Any) -> StockCount:
    count = (
        StockCount.objects.select_related("site", "zone", "created_by", "approved_by")
        .filter(pk=count_id)
        .first()
    )
    if count is None:
        raise CountNotFound(count=count_id)
    ensure_can(actor, "inventory.view", sites=[count.site_id])
    return count


def list_counts(*, actor: Any, site: Site | None = None, status: str = "") -> QuerySet[StockCount]:
    ensure_can(actor, "inventory.view", sites=[site.pk] if site else [])
    qs = StockCount.objects.select_related("site", "zone", "created_by").order_by("-id")
    allowed = scope_site_ids(actor)
    if allowed is not None:
        qs = qs.filter(site_id__in=allowed)
    if site is not None:
        qs = qs.filter(site=site)
    if status:
        qs = qs.filter(status=status)
    return qs


def list_lines(*, count: StockCount, show: str = "all", search: str = "") -> QuerySet[CountLine]:
    qs = CountLine.objects.filter(count=count).select_related("location", "sku", "lot")
    if show == "pending":
        qs = qs.filter(counted_qty__isnull=True)
    elif show == "counted":
        qs = qs.filter(counted_qty__isnull=False)
    elif show == "variance":
        qs = qs.filter(counted_qty__isnull=False).exclude(counted_qty=F("expected_qty"))
    elif show == "recount":
        qs = qs.filter(recount=True)
    if search:
        qs = qs.filter(Q(sku__code__icontains=search) | Q(location__code__icontains=search))
    return qs.order_by("location__code", "sku__code", "lot_id")


@dataclass(frozen=True)
class LineView:
    line: CountLine
    variance: int | None
    unit_cost_micros: int
    value_fen: int | None


def line_views(count: StockCount, lines: list[CountLine]) -> list[LineView]:
    """Lines with variance and its value (at the site's moving-average cost until approval,
    at the posted cost after)."""
    costs = ledger.unit_costs(count.site_id, {ln.sku_id for ln in lines})
    out = []
    for ln in lines:
        cost = ln.unit_cost_micros if ln.unit_cost_micros is not None else costs.get(ln.sku_id, 0)
        variance = ln.variance
        out.append(
            LineView(
                line=ln,
                variance=variance,
                unit_cost_micros=cost,
                value_fen=value_fen(variance, cost) if variance is not None else None,
            )
        )
    return out


@dataclass(frozen=True)
class CountSummary:
    lines_total: int
    lines_counted: int
    lines_pending: int
    lines_recount: int
    lines_with_variance: int
    lines_accurate: int
    gain_value_fen: int
    loss_value_fen: int

    @property
    def net_value_fen(self) -> int:
        return self.gain_value_fen - self.loss_value_fen

    @property
    def accuracy(self) -> float | None:
        """Share of counted lines with no variance."""
        return self.lines_accurate / self.lines_counted if self.lines_counted else None

    @property
    def accuracy_percent(self) -> float | None:
        return None if self.accuracy is None else round(self.accuracy * 100, 1)

    @property
    def progress_percent(self) -> int:
        return round(100 * self.lines_counted / self.lines_total) if self.lines_total else 0


def count_summary(count: StockCount) -> CountSummary:
    """Progress, variance values and accuracy; one read of the lines, one of the costs."""
    rows = list(
        CountLine.objects.filter(count=count).values_list(
            "sku_id", "counted_qty", "expected_qty", "recount", "unit_cost_micros"
        )
    )
    approved = count.status == CountStatus.APPROVED
    costs = (
        {}
        if approved
        else ledger.unit_costs(
            count.site_id, {r[0] for r in rows if r[1] is not None and r[1] != r[2]}
        )
    )
    counted = pending = recount = varied = 0
    gain = loss = 0
    for sku_id, counted_qty, expected_qty, is_recount, line_cost in rows:
        if counted_qty is None:
            pending += 1
            recount += 1 if is_recount else 0
            continue
        counted += 1
        variance = counted_qty - (expected_qty or 0)
        if not variance:
            continue
        varied += 1
        cost = line_cost if approved and line_cost is not None else costs.get(sku_id, 0)
        if variance > 0:
            gain += value_fen(variance, cost)
        else:
            loss += value_fen(-variance, cost)
    return CountSummary(
        lines_total=len(rows),
        lines_counted=counted,
        lines_pending=pending,
        lines_recount=recount,
        lines_with_variance=varied,
        lines_accurate=counted - varied,
        gain_value_fen=gain,
        loss_value_fen=loss,
    )
