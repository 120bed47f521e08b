"""Offline / third-party batch upload: in order, one transaction per sale, replay-safe."""

import datetime as dt

import pytest
from django.utils import timezone

from chainstore.core.tests.helpers import on_hand
from chainstore.inventory.models import StockMove
from chainstore.inventory.verify import verify_ledger
from chainstore.pos.models import Sale, StockDiscrepancy
from chainstore.pos.services.batch import BatchSale, upload_batch
from chainstore.pos.tests.sales_world import *  # noqa: F403
from chainstore.pos.tests.sales_world import (
    API,
    LineInput,
    cash,
    client_for,
    pos_snapshot,
    set_policy,
)

pytestmark = pytest.mark.django_db


def _sale(key, sku, quantity=1, **kw):
    price = kw.pop("price", 1_000)
    return BatchSale(
        idempotency_key=key,
        lines=[LineInput(sku_code=sku.code, quantity=quantity)],
        tenders=[cash(price * quantity)],
        sold_at=kw.pop("sold_at", timezone.now() - dt.timedelta(hours=2)),
        **kw,
    )


def test_batch_creates_in_order_and_a_replay_changes_nothing(store, till, cashier, stocked):
    batch = [_sale("b-1", stocked, 2), _sale("b-2", stocked, 3), _sale("b-3", stocked, 1, price=1)]

    first = upload_batch(store=store, till=till, sales=batch, actor=cashier)

    assert [(o.status, o.error and o.error["code"]) for o in first] == [
        ("created", None),
        ("created", None),
        ("rejected", "tenders_short"),
    ]
    assert first[0].sale.number.endswith("-0001") and first[1].sale.number.endswith("-0002")
    assert all(o.sale.offline and o.sale.shift is None for o in first[:2])
    assert on_hand(store.stock_location, stocked) == 5_000
    before = pos_snapshot()

    again = upload_batch(store=store, till=till, sales=batch, actor=cashier)

    assert [o.status for o in again] == ["replayed", "replayed", "rejected"]
    assert [o.sale.pk for o in again[:2]] == [o.sale.pk for o in first[:2]]
    assert pos_snapshot() == before
    assert verify_ledger() == []


def test_batch_attaches_the_open_shift_of_the_till(store, till, shift, cashier, stocked):
    (outcome,) = upload_batch(store=store, till=till, sales=[_sale("s-1", stocked)], actor=cashier)
    assert outcome.sale.shift == shift


def test_short_offline_sales_follow_the_store_policy(admin, store, till, cashier, sku):
    from chainstore.core.testing import stock

    stock(admin, store, sku, 3_000, location=store.stock_location)
    set_policy(store, "block")
    blocked = upload_batch(
        store=store, till=till, sales=[_sale("x-1", sku, 2), _sale("x-2", sku, 2)], actor=cashier
    )
    assert [o.status for o in blocked] == ["created", "rejected"]
    assert blocked[1].error["code"] == "insufficient_stock"
    assert on_hand(store.stock_location, sku) == 1_000

    set_policy(store, "allow")
    allowed = upload_batch(store=store, till=till, sales=[_sale("x-2", sku, 2)], actor=cashier)
    assert allowed[0].status == "created" and allowed[0].sale.went_short
    assert on_hand(store.stock_location, sku) == -1_000
    assert StockDiscrepancy.objects.get().short_quantity == 1_000
    assert verify_ledger() == []


def test_batch_api(store, till, cashier, stocked, member):
    api = client_for(cashier)
    sold_at = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    body = {
        "store": store.code,
        "till": till.code,
        "sales": [
            {
                "idempotency_key": "api-b-1",
                "sold_at": sold_at,
                "priced_by": "client",
                "member": member.card_number,
                "lines": [{"sku": stocked.code, "quantity": "2", "unit_price": "9.50"}],
                "tenders": [{"kind": "wechat_pay", "amount": "19.00", "reference": "WX1"}],
            },
            {
                "idempotency_key": "api-b-2",
                "sold_at": sold_at,
                "member": "no-such-member",
                "lines": [{"sku": stocked.code}],
                "tenders": [{"kind": "cash", "amount": "10.00"}],
            },
        ],
    }

    res = api.post(API + "/pos/batches", body, content_type="application/json")

    assert res.status_code == 200, res.content
    created, rejected = res.json()["results"]
    sale = Sale.objects.get(pk=created["sale_id"])
    assert created == {
        "idempotency_key": "api-b-1",
        "status": "created",
        "sale_id": sale.pk,
        "number": sale.number,
        "error": None,
    }
    assert (sale.total_fen, sale.priced_by, sale.member, sale.points_earned) == (
        1_900,
        "client",
        member,
        38,
    )
    assert rejected["status"] == "rejected" and rejected["error"]["code"] == "member_not_found"
    moves = StockMove.objects.count()

    replay = api.post(API + "/pos/batches", body, content_type="application/json")

    assert [r["status"] for r in replay.json()["results"]] == ["replayed", "rejected"]
    assert StockMove.objects.count() == moves


def test_batch_api_refuses_another_stores_cashier(admin, store, till, stocked):
    from chainstore.core.testing import make_site, make_user

    api = client_for(make_user("cashier", sites=[make_site(admin, "store")]))
    body = {
        "store": store.code,
        "till": till.code,
        "sales": [
            {
                "idempotency_key": "z-1",
                "sold_at": timezone.now().isoformat(),
                "lines": [{"sku": stocked.code}],
                "tenders": [{"kind": "cash", "amount": "10.00"}],
            }
        ],
    }
    before = pos_snapshot()
    res = api.post(API + "/pos/batches", body, content_type="application/json")
    assert res.status_code == 403
    assert pos_snapshot() == before
