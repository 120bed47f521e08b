"""A small chain: two stores, a lot-tracked milk and an untracked rice, stock at both."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from chainstore.catalog.models import Sku
from chainstore.catalog.services import create_category
from chainstore.core import testing
from chainstore.inventory.services import set_safety_stock
from chainstore.sites.models import Site

MILK_GTIN = "6901234567892"


@dataclass
class Chain:
    admin: Any
    store_a: Site
    store_b: Site
    milk: Sku
    rice: Sku
    manager_a: Any
    cashier_a: Any
    soon: dt.date
    later: dt.date


@pytest.fixture
def chain(admin: Any) -> Chain:
    today = timezone.localdate()
    dairy = create_category(code="DAIRY", name="乳制品", actor=admin)
    store_a = testing.make_site(admin, "store", code="SHA01")
    store_b = testing.make_site(admin, "store", code="SHA02")
    milk = testing.make_sku(
        admin,
        code="MILK1L",
        name="光明鲜牛奶 1L",
        tracking="lot",
        shelf_life_days=30,
        category=dairy,
        standard_cost_micros=3_500_000,
        barcode=MILK_GTIN,
    )
    rice = testing.make_sku(
        admin, code="RICE5KG", name="五常大米 5kg", standard_cost_micros=2_000_000
    )
    soon, later = today + dt.timedelta(days=10), today + dt.timedelta(days=90)
    testing.stock(admin, store_a, milk, 10_000, lot="L-SOON", expiry=soon)
    testing.stock(admin, store_a, rice, 5_000)
    testing.stock(admin, store_b, rice, 20_000)
    testing.stock(admin, store_b, milk, 4_000, lot="L-LATER", expiry=later)
    set_safety_stock(site=store_a, sku=rice, quantity=8_000, actor=admin)
    set_safety_stock(site=store_b, sku=rice, quantity=10_000, actor=admin)
    return Chain(
        admin=admin,
        store_a=store_a,
        store_b=store_b,
        milk=milk,
        rice=rice,
        manager_a=testing.make_user("store_manager", sites=[store_a]),
        cashier_a=testing.make_user("cashier", sites=[store_a]),
        soon=soon,
        later=later,
    )
