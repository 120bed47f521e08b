"""API schemas of the transfer cost report. Money in yuan (decimal strings) next to the
stored fen; cost per unit in fen with 2 decimals; cost as a percentage of the goods value."""

from __future__ import annotations

from decimal import Decimal

from ninja import Schema

from chainstore.core.quantities import fen_to_money, milli_to_qty
from chainstore.transfers.services.costs import CostRow, TransferCostReport


class CostRowOut(Schema):
    site_code: str | None
    site_name: str | None
    month: str | None  # YYYY-MM; None on totals over the whole range
    transfers: int
    lines: int
    units: Decimal  # base units shipped
    goods_value: Decimal  # yuan, at the source's cost when shipped
    goods_value_fen: int
    transfer_cost: Decimal  # yuan, freight + handling allocated to the lines
    transfer_cost_fen: int
    cost_per_unit_fen: Decimal | None
    cost_percent: Decimal | None


class TransferCostReportOut(Schema):
    month_from: str
    month_to: str
    site: str | None
    rows: list[CostRowOut]  # per destination site and month
    site_totals: list[CostRowOut]
    month_totals: list[CostRowOut]
    by_source: list[CostRowOut]
    total: CostRowOut


def cost_row_out(row: CostRow) -> CostRowOut:
    return CostRowOut(
        site_code=row.site.code if row.site else None,
        site_name=row.site.name if row.site else None,
        month=f"{row.month:%Y-%m}" if row.month else None,
        transfers=row.transfers,
        lines=row.lines,
        units=milli_to_qty(row.units_milli),
        goods_value=fen_to_money(row.goods_value_fen),
        goods_value_fen=row.goods_value_fen,
        transfer_cost=fen_to_money(row.transfer_cost_fen),
        transfer_cost_fen=row.transfer_cost_fen,
        cost_per_unit_fen=row.cost_per_unit_fen,
        cost_percent=row.cost_percent,
    )


def cost_report_out(report: TransferCostReport) -> TransferCostReportOut:
    return TransferCostReportOut(
        month_from=f"{report.month_from:%Y-%m}",
        month_to=f"{report.month_to:%Y-%m}",
        site=report.site.code if report.site else None,
        rows=[cost_row_out(r) for r in report.rows],
        site_totals=[cost_row_out(r) for r in report.site_totals],
        month_totals=[cost_row_out(r) for r in report.month_totals],
        by_source=[cost_row_out(r) for r in report.by_source],
        total=cost_row_out(report.total),
    )
