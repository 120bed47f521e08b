"""Store reports: short-sale discrepancies with "recount" (pos.discrepancy) and the store day
(pos.report) with ECharts charts. The figures come from the returns helper's services
(pos/services/discrepancies.py, pos/services/reports.py); these views only show them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chainstore.core.errors import DomainError
from chainstore.core.quantities import fen_to_money, milli_to_qty
from chainstore.inventory.services import site_today
from chainstore.pos import selectors_admin, selectors_reports
from chainstore.pos.models import DiscrepancyStatus, StockDiscrepancy, TenderKind
from chainstore.pos.services import reports
from chainstore.pos.services.discrepancies import resolve_counted_discrepancies, start_recount
from chainstore.pos.views.admin_common import explain
from chainstore.sites.models import Site
from chainstore.web.http import page_view, paginate


def _chosen_store(request: HttpRequest, permission: str) -> tuple[list[Site], Site | None]:
    """The user's stores for `permission` and the one named by ?store= (else the first)."""
    stores = list(selectors_admin.list_pos_stores(actor=request.user, permission=permission))
    code = request.GET.get("store") or request.POST.get("store") or ""
    if code:
        return stores, selectors_admin.get_store(
            actor=request.user, code=code, permission=permission
        )
    return stores, stores[0] if stores else None


# -- discrepancies -------------------------------------------------------------------------
@page_view
def discrepancy_list(request: HttpRequest) -> HttpResponse:
    stores, store = _chosen_store(request, "pos.discrepancy")
    status = request.GET.get("status", DiscrepancyStatus.OPEN)
    status = status if status in DiscrepancyStatus.values else ""
    page = None
    if store is not None:
        resolve_counted_discrepancies(actor=request.user, store=store)
        rows = selectors_reports.list_discrepancies(actor=request.user, store=store, status=status)
        page = paginate(request, rows)
    context = {
        "stores": stores,
        "store": store,
        "status": status,
        "statuses": DiscrepancyStatus.choices,
        "page": page,
    }
    return render(request, "pos/admin/discrepancies.html", context)


@require_POST
@page_view
def discrepancy_recount(request: HttpRequest) -> HttpResponse:
    """Start one recount (a SKU-set stock count) for the ticked open discrepancies."""
    _stores, store = _chosen_store(request, "pos.discrepancy")
    back = reverse("pos:discrepancies") + (f"?store={store.code}" if store else "")
    ids = [int(v) for v in request.POST.getlist("discrepancy") if v.isdigit()]
    chosen = list(StockDiscrepancy.objects.filter(pk__in=ids, site=store)) if store else []
    try:
        count = start_recount(discrepancies=chosen, actor=request.user)
    except DomainError as exc:
        if exc.status == 403:
            raise
        messages.error(request, explain(exc))
        return redirect(back)
    messages.success(request, _("Recount started: count %(count)s.") % {"count": count.pk})
    return redirect("counts:detail", count_id=count.pk)


# -- the store day -------------------------------------------------------------------------
@page_view
def store_day(request: HttpRequest) -> HttpResponse:
    stores, store = _chosen_store(request, "pos.report")
    # The store's own business day (its timezone), as the API and the Z reports count it.
    today = site_today(store) if store is not None else timezone.localdate()
    day = _day(request.GET.get("date", ""), today)
    report = None
    if store is not None:
        report = reports.store_day(store=store, business_date=day, actor=request.user)
    context = {
        "stores": stores,
        "store": store,
        "day": day,
        "previous": day - dt.timedelta(days=1),
        "next": day + dt.timedelta(days=1) if day < today else None,
        "report": report,
        "tenders": _tenders(report),
        "charts": _charts(report) if report is not None else {},
    }
    return render(request, "pos/admin/store_day.html", context)


def _tenders(report: reports.StoreDay | None) -> list[tuple[str, Any]]:
    if report is None:
        return []
    labels = dict(TenderKind.choices)
    return [(str(labels.get(t.kind, t.kind)), t) for t in report.totals.tenders]


def _day(raw: str, today: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return today
    return day if day > dt.date.min else today  # the page links the day before


def _yuan(fen: int) -> str:
    return str(fen_to_money(int(fen or 0)))


def _charts(report: reports.StoreDay) -> dict[str, Any]:
    """Chart data for the page's script (json_script): labels and yuan as strings."""
    hours = {row["hour"]: row for row in report.by_hour}
    span = range(min(hours, default=8), max(hours, default=21) + 1) if hours else range(8, 22)
    return {
        "hours": {
            "labels": [f"{h:02d}:00" for h in span],
            "net": [_yuan(hours[h]["net_fen"]) if h in hours else "0.00" for h in span],
            "count": [hours[h]["sales_count"] if h in hours else 0 for h in span],
        },
        "cashiers": {
            "labels": [
                row["cashier__first_name"] or row["cashier__username"] or "—"
                for row in report.by_cashier
            ],
            "net": [_yuan(row["net_fen"]) for row in report.by_cashier],
        },
        "categories": [
            {
                "name": row["sku__category__name"] or _("No category"),
                "value": _yuan(row["net_sum"]),
            }
            for row in report.by_category
        ],
        "best": {
            "labels": [row["sku__name"] for row in report.best_by_quantity][::-1],
            "quantity": [str(milli_to_qty(row["qty_sum"])) for row in report.best_by_quantity][
                ::-1
            ],
        },
    }
