"""/api/v1/transfers/cost-report (JSON, .csv, .xlsx): transfer cost per destination site
and month (成本核算). `from`/`to` are months (YYYY-MM, default: the last twelve months);
`site` a destination site code."""

# No `from __future__ import annotations` here: ninja must see the real parameter types.
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from chainstore.integrations.spreadsheet import CONTENT_TYPES
from chainstore.sites.selectors import get_site
from chainstore.transfers.schemas_costs import TransferCostReportOut, cost_report_out
from chainstore.transfers.services.costs import (
    TransferCostReport,
    default_months,
    export_cost_report,
    parse_month,
    transfer_cost_report,
)

router = Router()

_FROM = Query(None, alias="from", description="First month, YYYY-MM")
_TO = Query(None, alias="to", description="Last month, YYYY-MM")
_SITE = Query(None, description="A destination site code")


def _report(
    request: HttpRequest, month_from: str | None, month_to: str | None, site: str | None
) -> TransferCostReport:
    first, last = default_months()
    chosen = get_site(code=site, actor=request.user) if site else None
    return transfer_cost_report(
        actor=request.user,
        month_from=parse_month(month_from) if month_from else first,
        month_to=parse_month(month_to) if month_to else last,
        site=chosen,
    )


@router.get("/cost-report", response=TransferCostReportOut, url_name="transfer_cost_report")
def cost_report(
    request: HttpRequest,
    month_from: str | None = _FROM,
    month_to: str | None = _TO,
    site: str | None = _SITE,
) -> Any:
    """Per destination site and month: transfers, lines, units shipped, goods value at
    transfer cost, freight + handling, cost per unit and as % of the goods value; totals
    per site, per month and overall; the same transfers by source site."""
    return cost_report_out(_report(request, month_from, month_to, site))


def _download(report: TransferCostReport, fmt: str) -> HttpResponse:
    response = HttpResponse(export_cost_report(report, fmt), content_type=CONTENT_TYPES[fmt])
    site = f"-{report.site.code}" if report.site else ""
    name = f"transfer-cost-{report.month_from:%Y%m}-{report.month_to:%Y%m}{site}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name.replace(chr(34), "")}"'
    return response


@router.get("/cost-report.csv", url_name="transfer_cost_report_csv")
def cost_report_csv(
    request: HttpRequest,
    month_from: str | None = _FROM,
    month_to: str | None = _TO,
    site: str | None = _SITE,
) -> HttpResponse:
    """The report as CSV (UTF-8 with BOM): a row per site and month, site totals, total."""
    return _download(_report(request, month_from, month_to, site), "csv")


@router.get("/cost-report.xlsx", url_name="transfer_cost_report_xlsx")
def cost_report_xlsx(
    request: HttpRequest,
    month_from: str | None = _FROM,
    month_to: str | None = _TO,
    site: str | None = _SITE,
) -> HttpResponse:
    """The report as an XLSX workbook (same rows as the CSV)."""
    return _download(_report(request, month_from, month_to, site), "xlsx")
