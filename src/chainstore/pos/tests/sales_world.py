"""Fixtures and helpers of the checkout tests (test_sales*, test_pricing*, test_tenders*,
test_members*, test_batch*): a store with a till and an open shift, a cashier, SKUs with
stock, members. Import the fixtures into a test module with
`from chainstore.pos.tests.sales_world import *`."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.test import Client

from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_sku, make_user, stock
from chainstore.core.tests.helpers import API, snapshot
from chainstore.pos.models import (
    GiftCard,
    GiftCardEntry,
    Member,
    MemberTier,
    PointsEntry,
    Sale,
    StockDiscrepancy,
    StoreSettings,
    Tender,
    Till,
)
from chainstore.pos.services.sales import LineInput, TenderInput, create_sale
from chainstore.pos.services.shifts import open_shift

__all__ = [
    "API",
    "LineInput",
    "TenderInput",
    "cash",
    "cashier",
    "client_for",
    "gold",
    "member",
    "pos_snapshot",
    "post_sale",
    "sell",
    "set_policy",
    "shift",
    "sku",
    "stocked",
    "till",
]

_keys = itertools.count(1)


@pytest.fixture
def cashier(store):
    return make_user("cashier", sites=[store])


@pytest.fixture
def till(store):
    return Till.objects.create(site=store, code="T01", name="1号收银台")


@pytest.fixture
def shift(store, till, cashier):
    return open_shift(store=store, till=till, opening_float_fen=10_000, actor=cashier)


@pytest.fixture
def sku(admin):
    """A count SKU at ¥10.00, VAT 13%."""
    return make_sku(admin, retail_price_fen=1_000)


@pytest.fixture
def stocked(admin, store, sku):
    """10 units of `sku` on the store's selling floor."""
    stock(admin, store, sku, 10_000, location=store.stock_location)
    return sku


@pytest.fixture
def gold(db):
    return MemberTier.objects.create(code="gold", name="金卡", rank=2, points_per_yuan=2)


@pytest.fixture
def member(gold):
    return Member.objects.create(
        card_number="880000000017", phone="13800138000", name="王芳", tier=gold
    )


def cash(amount_fen: int, tendered_fen: int | None = None) -> TenderInput:
    return TenderInput(kind="cash", amount_fen=amount_fen, tendered_fen=tendered_fen)


def sell(store: Any, till: Any, actor: Any, lines: list[LineInput], tenders: list, **kw: Any):
    kw.setdefault("idempotency_key", f"k-{next(_keys)}")
    return create_sale(store=store, till=till, lines=lines, tenders=tenders, actor=actor, **kw)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_sale(client: Client, body: dict[str, Any], key: str | None = "auto") -> Any:
    extra = {}
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = f"api-{next(_keys)}" if key == "auto" else key
    return client.post(API + "/pos/sales", body, content_type="application/json", **extra)


def pos_snapshot() -> tuple[Any, ...]:
    """Stock (core snapshot) plus every POS row a sale writes."""
    return (
        snapshot(),
        Sale.objects.count(),
        Tender.objects.count(),
        StockDiscrepancy.objects.count(),
        tuple(Member.objects.order_by("pk").values_list("pk", "points_balance")),
        PointsEntry.objects.count(),
        tuple(GiftCard.objects.order_by("pk").values_list("pk", "balance_fen")),
        GiftCardEntry.objects.count(),
        AuditEvent.objects.count(),
    )


def set_policy(store: Any, policy: str) -> None:
    StoreSettings.objects.update_or_create(site=store, defaults={"short_sale_policy": policy})
