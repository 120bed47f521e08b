"""Pages: dashboard, SKUs, site stock, expiring lots, safety-stock alerts. Thin: every read
goes through a selector, which checks the actor's permission and site scope."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from chainstore.catalog.selectors import get_sku, list_categories, list_skus
from chainstore.core.permissions import ensure_can, has_perm
from chainstore.core.quantities import fen_to_money
from chainstore.inventory import selectors as stock
from chainstore.sites.models import Site
from chainstore.sites.selectors import get_site, list_sites
from chainstore.web.http import int_param, is_htmx, page_view, paginate

EXPIRY_HORIZON_DAYS = 30
WEEKS_SHOWN = 5


def _chosen_site(request: HttpRequest, sites: list[Site], *, required: bool) -> Site | None:
    """The site named by ?site=CODE (scope checked by the selector), else the first in scope."""
    code = request.GET.get("site", "").strip()
    if code:
        return get_site(code=code, actor=request.user)
    return sites[0] if sites and required else None


# -- dashboard -------------------------------------------------------------------------
@page_view
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = request.user
    values = stock.stock_value_by_site(actor=actor)
    expiring = list(stock.expiring_lots(actor=actor, days=EXPIRY_HORIZON_DAYS))
    alerts = list(stock.below_safety_stock(actor=actor))
    ensure_can(actor, "catalog.view")
    sites = list(list_sites(actor=actor))
    alert_sites: OrderedDict[int, dict[str, Any]] = OrderedDict()
    for row in alerts:
        entry = alert_sites.setdefault(row.site_id, {"site": row.site, "skus": 0})
        entry["skus"] += 1
    context = {
        "sku_count": list_skus(active=True).count(),
        "site_count": len(sites),
        "stock_value_fen": sum(v["value_fen"] for v in values),
        "value_chart": {
            "sites": [v["site"].code for v in values],
            "names": [v["site"].name for v in values],
            "values": [str(fen_to_money(v["value_fen"])) for v in values],
        },
        "expiring_count": len({row.lot_id for row in expiring}),
        "expiring_rows": expiring[:10],
        "expiring_chart": _expiry_weeks(expiring),
        "alert_sites": list(alert_sites.values()),
        "alert_count": len(alerts),
        "horizon": EXPIRY_HORIZON_DAYS,
        "can_receive": has_perm(actor, "inventory.receive"),
    }
    return render(request, "web/dashboard.html", context)


def _expiry_weeks(rows: list[Any]) -> dict[str, list[Any]]:
    """Lots per week of expiry, counting from today; already expired lots first."""
    today = timezone.localdate()
    labels = [_("Expired")]
    for week in range(WEEKS_SHOWN):
        start = today + dt.timedelta(days=7 * week)
        labels.append(f"{start:%m-%d}~")
    buckets: list[set[int]] = [set() for _label in labels]
    for row in rows:
        days = (row.lot.expiry_date - today).days
        index = 0 if days < 0 else min(1 + days // 7, len(labels) - 1)
        buckets[index].add(row.lot_id)
    return {"labels": labels, "values": [len(b) for b in buckets]}


# -- SKUs ------------------------------------------------------------------------------
@page_view
def sku_list(request: HttpRequest) -> HttpResponse:
    ensure_can(request.user, "catalog.view")
    search = request.GET.get("q", "").strip()
    category_id = int_param(request, "category", 0, low=0, high=2**62)
    skus = list_skus(search=search, category_id=category_id or None).prefetch_related("barcodes")
    context = {
        "page": paginate(request, skus),
        "search": search,
        "category_id": category_id,
        "categories": list_categories(),
    }
    template = "web/partials/sku_table.html" if is_htmx(request) else "web/sku_list.html"
    return render(request, template, context)


@page_view
def sku_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ensure_can(request.user, "catalog.view")
    sku = get_sku(sku_id=pk)
    availability = stock.availability_by_site(sku=sku, actor=request.user)
    sites = list(list_sites(actor=request.user))
    site = _chosen_site(request, [row["site"] for row in availability] or sites, required=True)
    ledger_page = None
    ledger_rows: list[stock.LedgerRow] = []
    if site is not None:
        size = 25
        number = int_param(request, "page", 1, low=1, high=10**9)
        _first, total = stock.sku_ledger(site=site, sku=sku, actor=request.user, limit=0)
        ledger_page = Paginator(range(total), size).get_page(number)
        offset = (ledger_page.number - 1) * size
        ledger_rows, _total = stock.sku_ledger(
            site=site, sku=sku, actor=request.user, limit=size, offset=offset
        )
    context = {
        "sku": sku,
        "barcodes": sku.barcodes.all(),
        "availability": availability,
        "sites": sites,
        "site": site,
        "ledger_rows": ledger_rows,
        "page": ledger_page,
    }
    return render(request, "web/sku_detail.html", context)


# -- site stock ------------------------------------------------------------------------
@page_view
def site_stock(request: HttpRequest) -> HttpResponse:
    sites = list(list_sites(actor=request.user))
    site = _chosen_site(request, sites, required=True)
    search = request.GET.get("q", "").strip()
    page = None
    if site is not None:
        page = paginate(request, stock.site_stock(site=site, actor=request.user, search=search))
    context = {"sites": sites, "site": site, "search": search, "page": page}
    template = "web/partials/stock_table.html" if is_htmx(request) else "web/site_stock.html"
    return render(request, template, context)


# -- alerts ----------------------------------------------------------------------------
@page_view
def expiring_lots(request: HttpRequest) -> HttpResponse:
    days = int_param(request, "days", EXPIRY_HORIZON_DAYS, low=0, high=3650)
    sites = list(list_sites(actor=request.user))
    site = _chosen_site(request, sites, required=False)
    rows = stock.expiring_lots(actor=request.user, days=days, site=site)
    context = {
        "days": days,
        "day_choices": [7, 14, 30, 60, 90, 180],
        "sites": sites,
        "site": site,
        "page": paginate(request, rows),
    }
    return render(request, "web/expiring_lots.html", context)


@page_view
def safety_alerts(request: HttpRequest) -> HttpResponse:
    sites = list(list_sites(actor=request.user))
    site = _chosen_site(request, sites, required=False)
    rows = stock.below_safety_stock(actor=request.user, site=site)
    context = {"sites": sites, "site": site, "page": paginate(request, rows)}
    return render(request, "web/safety_alerts.html", context)
