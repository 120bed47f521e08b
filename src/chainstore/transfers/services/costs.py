"""Transfer cost accounting (成本核算): what moving stock between sites costs each receiving
site, per month, per unit and as a share of the goods' value.

Which transfers: every transfer that has shipped (``shipped_at`` set: in transit, received or
closed), counted in the month of its shipping date **in the destination site's timezone**
(the site that bears the landed cost; the chain's sites normally share Asia/Shanghai): a
transfer shipped at 00:30 on 1 February Shanghai time (16:30 UTC on 31 January) counts in
February.

Figures of a group (destination x month, destination, source, month, overall):
- transfers: distinct transfers; lines: lines that shipped anything; units: base units
  shipped (sum of ``shipped``, milli);
- goods value: the units at the source's cost when shipped, sum(shipped x unit_cost_micros),
  summed exactly in the database and rounded half up to fen once per group with
  `core.quantities.value_fen`, so every total is the exact value rounded (a total can differ
  by a fen from the sum of its rounded parts);
- transfer cost: freight + handling allocated to the lines (sum of ``allocated_cost_fen``);
- cost per unit (fen, 2 dp) and cost as a percentage of the goods value (2 dp), None when
  nothing shipped / the goods have no value.

Scope: the transfers whose destination is in the actor's scope for transfers.costs (a store
manager sees what was sent to their stores, a warehouse manager what was sent to their
warehouses; HQ and auditors every site); "by source" breaks the same transfers down by
where they came from. Cost: two aggregate queries per timezone in use among the
destinations (normally one timezone, so two queries) plus one for the site names; nothing
loops over transfers in Python.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.core.errors import ValidationFailed
from chainstore.core.permissions import ensure_can, scope_site_ids
from chainstore.core.quantities import fen_to_money, milli_to_qty, value_fen
from chainstore.integrations.spreadsheet import write_file
from chainstore.sites.models import Site
from chainstore.transfers.models import TransferLine

__all__ = [
    "MAX_MONTHS",
    "CostRow",
    "TransferCostReport",
    "default_months",
    "export_cost_report",
    "month_range",
    "parse_month",
    "transfer_cost_report",
]

MAX_MONTHS = 36
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class CostRow:
    """One group's figures. `site` is None on month totals and the overall total; `month`
    (first day) is None on totals over the whole range."""

    site: Site | None = None
    month: dt.date | None = None
    transfers: int = 0
    lines: int = 0
    units_milli: int = 0
    value_nano: int = 0  # sum of shipped (milli) x unit cost (micro-yuan): 1e-9 yuan
    transfer_cost_fen: int = 0

    @property
    def goods_value_fen(self) -> int:
        return value_fen(self.value_nano, 1)

    @property
    def cost_per_unit_fen(self) -> Decimal | None:
        if self.units_milli <= 0:
            return None
        return (Decimal(self.transfer_cost_fen) * 1000 / self.units_milli).quantize(
            _CENT, rounding=ROUND_HALF_UP
        )

    @property
    def cost_percent(self) -> Decimal | None:
        value = self.goods_value_fen
        if value <= 0:
            return None
        return (Decimal(self.transfer_cost_fen) * 100 / value).quantize(
            _CENT, rounding=ROUND_HALF_UP
        )

    def plus(self, other: CostRow) -> CostRow:
        return CostRow(
            site=self.site,
            month=self.month,
            transfers=self.transfers + other.transfers,
            lines=self.lines + other.lines,
            units_milli=self.units_milli + other.units_milli,
            value_nano=self.value_nano + other.value_nano,
            transfer_cost_fen=self.transfer_cost_fen + other.transfer_cost_fen,
        )


@dataclass(frozen=True)
class TransferCostReport:
    month_from: dt.date
    month_to: dt.date
    site: Site | None
    months: list[dt.date]
    rows: list[CostRow] = field(default_factory=list)  # destination x month (with transfers)
    site_totals: list[CostRow] = field(default_factory=list)  # per destination
    month_totals: list[CostRow] = field(default_factory=list)  # every month of the range
    by_source: list[CostRow] = field(default_factory=list)  # per source site
    total: CostRow = field(default_factory=CostRow)


# -- months ----------------------------------------------------------------------------------
def parse_month(text: str) -> dt.date:
    """'2026-03' -> 2026-03-01; a ValidationFailed (422) for anything else."""
    try:
        year, month = (int(part) for part in str(text).strip().split("-"))
        return dt.date(year, month, 1)
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("A month is written YYYY-MM, e.g. 2026-03."), code="invalid_month", month=text
        ) from None


def default_months(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last twelve months, this one (chain timezone) included."""
    this = (today or timezone.localdate()).replace(day=1)
    return dt.date(this.year - 1 + this.month // 12, this.month % 12 + 1, 1), this


def _next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_range(month_from: dt.date, month_to: dt.date) -> list[dt.date]:
    """The first days of every month from `month_from` to `month_to`, both included."""
    first, last = month_from.replace(day=1), month_to.replace(day=1)
    if first > last:
        raise ValidationFailed(
            _("The first month is after the last one."),
            code="invalid_month_range",
            month_from=f"{first:%Y-%m}",
            month_to=f"{last:%Y-%m}",
        )
    months = [first]
    while months[-1] < last:
        months.append(_next_month(months[-1]))
        if len(months) > MAX_MONTHS:
            raise ValidationFailed(
                _("Choose at most %(max)s months.") % {"max": MAX_MONTHS},
                code="invalid_month_range",
                max_months=MAX_MONTHS,
            )
    return months


# -- the report ------------------------------------------------------------------------------
def transfer_cost_report(
    *, actor: Any, month_from: dt.date, month_to: dt.date, site: Site | None = None
) -> TransferCostReport:
    """Transfer cost per destination site and month, per source, per month and overall for
    the transfers shipped from `month_from` to `month_to` (whole months, destination's
    timezone), limited to `site` (a destination) when given. Needs transfers.costs at `site`,
    or at least the role's permission (the rows are then limited to the actor's scope)."""
    ensure_can(actor, "transfers.costs", sites=[site.pk] if site is not None else [])
    months = month_range(month_from, month_to)
    lines = TransferLine.objects.filter(transfer__shipped_at__isnull=False)
    if site is not None:
        lines = lines.filter(transfer__destination=site)
    else:
        allowed = scope_site_ids(actor)
        if allowed is not None:
            lines = lines.filter(transfer__destination_id__in=allowed)
    per_month: list[dict[str, Any]] = []
    per_source: list[dict[str, Any]] = []
    for tz_name in _destination_timezones(site, actor):
        tz = zoneinfo.ZoneInfo(tz_name)
        starts = [_start(m, tz) for m in [*months, _next_month(months[-1])]]
        in_range = lines.filter(
            transfer__destination__timezone=tz_name,
            transfer__shipped_at__gte=starts[0],
            transfer__shipped_at__lt=starts[-1],
        )
        # The month as an index, by comparing with the months' starts worked out here in
        # the timezone: plain comparisons in SQL, no per-row timezone function (SQLite's is
        # Python, called for every row).
        month_index = Case(
            *[
                When(transfer__shipped_at__lt=start, then=Value(i))
                for i, start in enumerate(starts[1:])
            ],
            output_field=IntegerField(),
        )
        for row in _figures(
            in_range.annotate(month_index=month_index), "transfer__destination_id", "month_index"
        ):
            row["month"] = months[row["month_index"]]
            per_month.append(row)
        per_source.extend(_figures(in_range, "transfer__source_id"))
    return _assemble(months, site, per_month, per_source)


def _destination_timezones(site: Site | None, actor: Any) -> list[str]:
    if site is not None:
        return [site.timezone]
    sites = Site.objects.all()
    allowed = scope_site_ids(actor)
    if allowed is not None:
        sites = sites.filter(pk__in=allowed)
    return sorted(set(sites.values_list("timezone", flat=True)))


def _start(month: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime(month.year, month.month, 1, tzinfo=tz)


def _figures(lines: QuerySet[TransferLine], *group_by: str) -> list[dict[str, Any]]:
    """One aggregate query: the figures per group."""
    value = ExpressionWrapper(F("shipped") * F("unit_cost_micros"), output_field=BigIntegerField())
    return list(
        lines.values(*group_by)
        .annotate(
            transfers=Count("transfer_id", distinct=True),
            lines=Count("id", filter=Q(shipped__gt=0)),
            units_milli=Sum("shipped"),
            value_nano=Sum(value),
            transfer_cost_fen=Sum("allocated_cost_fen"),
        )
        .order_by()
    )


def _row(data: dict[str, Any], site: Site | None, month: dt.date | None = None) -> CostRow:
    return CostRow(
        site=site,
        month=month,
        transfers=int(data["transfers"] or 0),
        lines=int(data["lines"] or 0),
        units_milli=int(data["units_milli"] or 0),
        value_nano=int(data["value_nano"] or 0),
        transfer_cost_fen=int(data["transfer_cost_fen"] or 0),
    )


def _assemble(
    months: list[dt.date],
    site: Site | None,
    per_month: list[dict[str, Any]],
    per_source: list[dict[str, Any]],
) -> TransferCostReport:
    ids = {r["transfer__destination_id"] for r in per_month}
    ids |= {r["transfer__source_id"] for r in per_source}
    sites = Site.objects.in_bulk(ids)
    rows = sorted(
        (_row(r, sites[r["transfer__destination_id"]], r["month"]) for r in per_month),
        key=lambda r: (r.site.code if r.site else "", r.month or dt.date.min),
    )
    by_source_acc: dict[int, CostRow] = {}
    for r in per_source:  # one per source and timezone: add the timezones up
        row = _row(r, sites[r["transfer__source_id"]])
        key = r["transfer__source_id"]
        by_source_acc[key] = by_source_acc[key].plus(row) if key in by_source_acc else row
    return TransferCostReport(
        month_from=months[0],
        month_to=months[-1],
        site=site,
        months=months,
        rows=rows,
        site_totals=_totals(rows, lambda r: (r.site, None)),
        month_totals=_month_totals(rows, months),
        by_source=sorted(by_source_acc.values(), key=lambda r: r.site.code if r.site else ""),
        total=reduce(CostRow.plus, rows, CostRow()),
    )


def _totals(rows: Iterable[CostRow], key: Any) -> list[CostRow]:
    acc: dict[Any, CostRow] = {}
    for row in rows:
        k = key(row)
        acc[k] = acc[k].plus(row) if k in acc else CostRow(site=k[0], month=k[1]).plus(row)
    return list(acc.values())


def _month_totals(rows: list[CostRow], months: list[dt.date]) -> list[CostRow]:
    acc: dict[dt.date, CostRow] = defaultdict(CostRow)
    for row in rows:
        assert row.month is not None
        acc[row.month] = acc[row.month].plus(row)
    return [CostRow(month=m).plus(acc[m]) for m in months]


# -- export ----------------------------------------------------------------------------------
def export_cost_report(report: TransferCostReport, fmt: str) -> bytes:
    """The report as CSV (UTF-8 with BOM) or XLSX: one row per destination and month, a
    total row after each destination's months, the overall total last. Money in yuan,
    cost per unit in yuan (4 dp), cost in percent of the goods value."""
    headers = [
        _("Destination site"),
        _("Destination site name"),
        _("Month"),
        _("Number of transfers"),
        _("Lines"),
        _("Units shipped"),
        _("Goods value (yuan)"),
        _("Freight and handling (yuan)"),
        _("Cost per unit (yuan)"),
        _("Cost (percent of value)"),
    ]
    return write_file(fmt, headers, _export_rows(report))


def _export_rows(report: TransferCostReport) -> Iterable[list[Any]]:
    totals = {t.site.pk: t for t in report.site_totals if t.site is not None}
    current: Site | None = None
    for row in report.rows:
        if current is not None and row.site != current:
            yield _export_row(totals[current.pk], _("Total"))
        current = row.site
        yield _export_row(row, f"{row.month:%Y-%m}" if row.month else "")
    if current is not None:
        yield _export_row(totals[current.pk], _("Total"))
    yield _export_row(report.total, _("Total"), name=_("All sites"))


def _export_row(row: CostRow, month: str, name: str = "") -> list[Any]:
    per_unit = row.cost_per_unit_fen
    return [
        row.site.code if row.site else "",
        row.site.name if row.site else name,
        month,
        row.transfers,
        row.lines,
        milli_to_qty(row.units_milli),
        fen_to_money(row.goods_value_fen),
        fen_to_money(row.transfer_cost_fen),
        (per_unit / 100).quantize(Decimal("0.0001")) if per_unit is not None else None,
        row.cost_percent,
    ]
