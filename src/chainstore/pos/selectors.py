"""Reads of the checkout side: sales and receipts, tills, gift cards.

Sales are readable by whoever may sell at the store (pos.sell) or report on it
(pos.report: store managers, HQ, auditors), within their site scope.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, QuerySet

from chainstore.core.permissions import ensure_can, has_perm, scope_site_ids
from chainstore.pos.errors import GiftCardNotFound, SaleNotFound, TillNotFound
from chainstore.pos.models import GiftCard, LineDiscount, Sale, SaleLine, Till
from chainstore.sites.models import Site

__all__ = [
    "ensure_can_read_sales",
    "get_gift_card",
    "get_sale",
    "get_sale_by_number",
    "get_till",
    "list_sales",
    "sale_detail_queryset",
]


def ensure_can_read_sales(actor: Any, site_ids: list[int]) -> None:
    permission = "pos.report" if has_perm(actor, "pos.report") else "pos.sell"
    ensure_can(actor, permission, sites=site_ids)


def sale_detail_queryset() -> QuerySet[Sale]:
    """Everything a receipt shows, in a fixed number of queries."""
    return Sale.objects.select_related(
        "site", "till", "cashier", "member__tier", "shift", "original"
    ).prefetch_related(
        Prefetch(
            "lines",
            queryset=SaleLine.objects.select_related("sku", "lot", "gift_promotion")
            .prefetch_related(
                Prefetch("discounts", queryset=LineDiscount.objects.select_related("promotion"))
            )
            .order_by("line_no"),
        ),
        "tenders",
        "discrepancies__sku",
    )


def get_sale(*, sale_id: int, actor: Any) -> Sale:
    sale = sale_detail_queryset().filter(pk=sale_id).first()
    if sale is None:
        raise SaleNotFound(sale=sale_id)
    ensure_can_read_sales(actor, [sale.site_id])
    return sale


def get_sale_by_number(*, number: str, actor: Any) -> Sale:
    sale = sale_detail_queryset().filter(number=number).first()
    if sale is None:
        raise SaleNotFound(number=number)
    ensure_can_read_sales(actor, [sale.site_id])
    return sale


def list_sales(
    *,
    actor: Any,
    store: Site | None = None,
    date: dt.date | None = None,
    till: Till | None = None,
    kind: str = "",
) -> QuerySet[Sale]:
    """Receipts newest first, within the actor's scope (one store, a business date, a
    till, sales or returns)."""
    if store is not None:
        ensure_can_read_sales(actor, [store.pk])
    else:
        ensure_can_read_sales(actor, [])
    qs = Sale.objects.select_related("site", "till", "cashier", "member").order_by("-id")
    allowed = scope_site_ids(actor)
    if allowed is not None:
        qs = qs.filter(site_id__in=allowed)
    if store is not None:
        qs = qs.filter(site=store)
    if date is not None:
        qs = qs.filter(business_date=date)
    if till is not None:
        qs = qs.filter(till=till)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def get_till(*, store: Site, code: str) -> Till:
    till = Till.objects.filter(site=store, code=code).first()
    if till is None:
        raise TillNotFound(store=store.code, till=code)
    return till


def get_gift_card(*, number: str, actor: Any) -> GiftCard:
    """A gift card's balance (anyone who may sell somewhere)."""
    ensure_can(actor, "pos.sell")
    card = GiftCard.objects.filter(number=number).first()
    if card is None:
        raise GiftCardNotFound(card=number)
    return card
