"""Screens: the transfer cost report (成本核算) — month range and destination filter, a chart
of goods value and transfer cost per month with the cost share as a line, the table per
site and month, per source, and CSV / XLSX downloads (the API's export endpoints)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse

from chainstore.core.errors import ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.core.quantities import fen_to_money
from chainstore.sites.models import Site
from chainstore.sites.selectors import get_site, list_sites
from chainstore.transfers.services.costs import (
    CostRow,
    TransferCostReport,
    default_months,
    parse_month,
    transfer_cost_report,
)
from chainstore.web.errors import describe
from chainstore.web.http import page_view


@page_view
def cost_report(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "transfers.costs")
    first, last = default_months()
    sites = list(list_sites(actor=request.user))
    code = request.GET.get("site", "")
    site: Site | None = get_site(code=code, actor=request.user) if code else None
    report, error = None, ""
    try:
        month_from = _month(request.GET.get("from", ""), first)
        month_to = _month(request.GET.get("to", ""), last)
        report = transfer_cost_report(
            actor=request.user, month_from=month_from, month_to=month_to, site=site
        )
    except ValidationFailed as exc:
        month_from, month_to, error = first, last, describe(exc)
    query = request.GET.urlencode()
    context = {
        "sites": sites,
        "site": site,
        "month_from": month_from,
        "month_to": month_to,
        "report": report,
        "error": error,
        "chart": _chart(report) if report is not None else {},
        "table": _table(report) if report is not None else [],
        "csv_url": reverse("api:transfer_cost_report_csv") + (f"?{query}" if query else ""),
        "xlsx_url": reverse("api:transfer_cost_report_xlsx") + (f"?{query}" if query else ""),
    }
    return render(request, "transfers/costs.html", context)


def _month(raw: str, default: dt.date) -> dt.date:
    return parse_month(raw) if raw.strip() else default


def _table(report: TransferCostReport) -> list[tuple[CostRow, bool]]:
    """The rows per site and month, each site's total after its months: (row, is_total)."""
    totals = {row.site.pk: row for row in report.site_totals if row.site is not None}
    table: list[tuple[CostRow, bool]] = []
    current: Site | None = None
    for row in report.rows:
        if current is not None and row.site != current:
            table.append((totals[current.pk], True))
        current = row.site
        table.append((row, False))
    if current is not None:
        table.append((totals[current.pk], True))
    return table


def _chart(report: TransferCostReport) -> dict[str, Any]:
    """Chart data for the page's script (json_script): labels, yuan and percents as strings."""
    return {
        "months": [f"{row.month:%Y-%m}" for row in report.month_totals],
        "value": [str(fen_to_money(row.goods_value_fen)) for row in report.month_totals],
        "cost": [str(fen_to_money(row.transfer_cost_fen)) for row in report.month_totals],
        "percent": [
            str(row.cost_percent) if row.cost_percent is not None else None
            for row in report.month_totals
        ],
    }


urlpatterns: list[URLPattern] = [path("costs/", cost_report, name="costs")]
