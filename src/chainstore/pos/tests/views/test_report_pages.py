"""Report pages: short-sale discrepancies with "recount", and the store day."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from chainstore.counts.models import StockCount
from chainstore.pos.models import (
    DiscrepancyStatus,
    Member,
    PointsEntry,
    Sale,
    SaleLine,
    StockDiscrepancy,
    Tender,
)
from chainstore.pos.tests.views.shop import Shop, logged_in

pytestmark = pytest.mark.django_db


def _sale(shop: Shop, number: str, *, store: Any = None, kind: str = "sale", **kw: Any) -> Sale:
    now = timezone.now()
    sale = Sale.objects.create(
        number=number,
        kind=kind,
        site=store or shop.store_a,
        cashier=kw.pop("cashier", shop.cashier),
        business_date=timezone.localdate(),
        sold_at=kw.pop("sold_at", now),
        **kw,
    )
    return sale


def _line(sale: Sale, sku: Any, quantity: int, net: int, line_no: int = 1) -> SaleLine:
    return SaleLine.objects.create(
        sale=sale,
        line_no=line_no,
        sku=sku,
        quantity=quantity,
        unit_price_fen=net * 1000 // quantity,
        gross_fen=net,
        net_fen=net,
    )


# -- discrepancies -------------------------------------------------------------------------
def test_manager_lists_and_recounts_short_sales(shop: Shop):
    sale = _sale(shop, "S-1", subtotal_fen=700, total_fen=700, went_short=True)
    short = StockDiscrepancy.objects.create(
        site=shop.store_a, sku=shop.cola, sale=sale, short_quantity=2_000
    )
    other_store = StockDiscrepancy.objects.create(
        site=shop.store_b,
        sku=shop.cola,
        sale=_sale(shop, "S-2", store=shop.store_b),
        short_quantity=1_000,
    )
    client = logged_in(shop.manager)

    page = client.get(reverse("pos:discrepancies"))
    res = client.post(
        reverse("pos:discrepancy_recount"),
        {"store": "SHA01", "discrepancy": [str(short.pk), str(other_store.pk)]},
    )

    assert [d.pk for d in page.context["page"]] == [short.pk]
    assert res.status_code == 302
    short.refresh_from_db()
    count = StockCount.objects.get()
    assert (short.status, short.count_id) == (DiscrepancyStatus.COUNTING, count.pk)
    assert res.url == reverse("counts:detail", args=[count.pk])
    other_store.refresh_from_db()
    assert other_store.status == DiscrepancyStatus.OPEN


def test_recount_needs_a_ticked_discrepancy(shop: Shop):
    res = logged_in(shop.manager).post(reverse("pos:discrepancy_recount"), {"store": "SHA01"})

    assert res.status_code == 302 and res.url.startswith(reverse("pos:discrepancies"))
    assert not StockCount.objects.exists()


def test_other_stores_discrepancies_are_out_of_scope(shop: Shop):
    client = logged_in(shop.manager)

    assert client.get(reverse("pos:discrepancies"), {"store": "SHA02"}).status_code == 403
    assert logged_in(shop.cashier).get(reverse("pos:discrepancies")).status_code == 403


# -- the store day -------------------------------------------------------------------------
def test_store_day_shows_totals_charts_and_tenders(shop: Shop):
    ten = timezone.localtime().replace(hour=10, minute=5)
    first = _sale(shop, "S-1", subtotal_fen=1_400, total_fen=1_200, discount_fen=200, sold_at=ten)
    _line(first, shop.cola, 4_000, 1_200)
    Tender.objects.create(
        sale=first, kind="cash", amount_fen=1_200, tendered_fen=2_000, change_fen=800
    )
    second = _sale(
        shop, "S-2", subtotal_fen=790, total_fen=790, sold_at=ten + dt.timedelta(hours=2)
    )
    _line(second, shop.chips, 1_000, 790)
    Tender.objects.create(sale=second, kind="wechat_pay", amount_fen=790)
    member = Member.objects.create(card_number="C1", phone="13800138000", tier=shop.gold)
    PointsEntry.objects.create(member=member, kind="earn", delta=24, balance_after=24, sale=first)
    _sale(shop, "S-B", store=shop.store_b, subtotal_fen=99_900, total_fen=99_900)
    client = logged_in(shop.manager)

    res = client.get(reverse("pos:store_day"), {"store": "SHA01"})

    assert res.status_code == 200
    html = res.content.decode()
    assert 'data-testid="net-sales">¥19.90<' in html
    assert 'data-testid="receipts">2<' in html
    assert 'data-testid="points-issued">24<' in html
    charts = json.loads(
        html.split('id="store-day-data" type="application/json">', 1)[1].split("<", 1)[0]
    )
    assert charts["hours"]["labels"][:3] == ["10:00", "11:00", "12:00"]
    assert charts["hours"]["net"][:3] == ["12.00", "0.00", "7.90"]
    assert charts["best"]["labels"] == ["乐事薯片 70g", "可口可乐 330ml"]  # ascending for the bars
    assert [label for label, _t in res.context["tenders"]] == ["Cash", "WeChat Pay"]


def test_store_day_of_another_day_and_scope(shop: Shop):
    client = logged_in(shop.manager)

    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    res = client.get(reverse("pos:store_day"), {"store": "SHA01", "date": yesterday})

    assert res.status_code == 200 and res.context["day"].isoformat() == yesterday
    assert res.context["report"].totals.sales_count == 0
    assert client.get(reverse("pos:store_day"), {"store": "SHA02"}).status_code == 403
    assert logged_in(shop.cashier).get(reverse("pos:store_day")).status_code == 403
