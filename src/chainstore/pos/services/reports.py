"""The store day (门店日报): one store's business date in its own timezone — totals (sales,
gross, discounts, net, tax, average basket), sales by hour, by cashier and by category,
best sellers by quantity and by amount, refunds, points issued / redeemed / reversed /
refunded, tenders by kind. Each figure is one aggregate query
(`pos.selectors_reports`), so the cost does not grow with the number of lines.
Readers need pos.report at the store (store managers; HQ and auditors everywhere).
X and Z reports live with the shifts (`services/shifts.py`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from chainstore.core.permissions import ensure_can
from chainstore.pos.selectors_reports import (
    SalesTotals,
    best_sellers,
    day_lines,
    day_sales,
    points_moved,
    sales_by_cashier,
    sales_by_category,
    sales_by_hour,
    sales_totals,
)
from chainstore.sites.models import Site

__all__ = ["StoreDay", "store_day"]


@dataclass(frozen=True)
class StoreDay:
    store: Site
    business_date: dt.date
    totals: SalesTotals
    by_hour: list[dict[str, Any]] = field(default_factory=list)
    by_cashier: list[dict[str, Any]] = field(default_factory=list)
    by_category: list[dict[str, Any]] = field(default_factory=list)
    best_by_quantity: list[dict[str, Any]] = field(default_factory=list)
    best_by_amount: list[dict[str, Any]] = field(default_factory=list)
    points: dict[str, int] = field(default_factory=dict)


def store_day(*, store: Site, business_date: dt.date, actor: Any) -> StoreDay:
    """The store day (store timezone): totals, by hour, cashier and category, best sellers,
    refunds, points and tenders. A fixed number of aggregate queries."""
    ensure_can(actor, "pos.report", sites=[store.pk])
    sales = day_sales(store, business_date)
    lines = day_lines(store, business_date)
    return StoreDay(
        store=store,
        business_date=business_date,
        totals=sales_totals(sales),
        by_hour=sales_by_hour(sales, store),
        by_cashier=sales_by_cashier(sales),
        by_category=sales_by_category(lines),
        best_by_quantity=best_sellers(lines, "qty_sum"),
        best_by_amount=best_sellers(lines, "amount_sum"),
        points=points_moved(store, business_date),
    )
