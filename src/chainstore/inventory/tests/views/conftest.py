"""A warehouse with stock waiting in receiving: a lot-tracked milk (GTIN) and loose rice (kg).

W1 has storage bins A-01 and A-02 and a damaged area; W2 is outside the operator's scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from chainstore.catalog.models import Sku
from chainstore.core import testing
from chainstore.inventory.models import Balance, StockMove, StockOperation
from chainstore.inventory.services import site_today
from chainstore.sites.models import Location, Site

MILK_GTIN = "6901234567892"


@dataclass
class Warehouse:
    admin: Any
    site: Site
    other: Site
    bin_a: Location
    bin_b: Location
    receiving: Location
    milk: Sku
    rice: Sku
    expiry: dt.date
    operator: Any
    manager: Any
    cashier: Any
    planner: Any


@pytest.fixture
def client(client: Client) -> Client:
    """The test client in English (the site default is zh-hans; one test checks it)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def wh(admin: Any) -> Warehouse:
    site = testing.make_site(admin, "cdc", code="W1")
    other = testing.make_site(admin, "cdc", code="W2")
    milk = testing.make_sku(
        admin,
        code="MILK1L",
        name="光明鲜牛奶 1L",
        tracking="lot",
        shelf_life_days=30,
        barcode=MILK_GTIN,
    )
    rice = testing.make_sku(admin, code="RICE", name="五常大米 散装", base_unit="kg")
    expiry = site_today(site) + dt.timedelta(days=20)
    testing.stock(admin, site, milk, 10_000, lot="L1", expiry=expiry)
    testing.stock(admin, site, rice, 5_500)
    testing.stock(admin, other, rice, 7_000)
    return Warehouse(
        admin=admin,
        site=site,
        other=other,
        bin_a=testing.make_bin(admin, site, code="A-01"),
        bin_b=testing.make_bin(admin, site, code="A-02"),
        receiving=site.receiving_location,  # type: ignore[arg-type]
        milk=milk,
        rice=rice,
        expiry=expiry,
        operator=testing.make_user("warehouse_operator", sites=[site]),
        manager=testing.make_user("warehouse_manager", sites=[site]),
        cashier=testing.make_user("cashier", sites=[site]),
        planner=testing.make_user("hq_planner"),
    )


def snapshot() -> tuple[int, int, list[tuple[int, int, int]]]:
    """Everything a refused post must leave untouched."""
    balances = list(Balance.objects.order_by("pk").values_list("pk", "on_hand", "reserved"))
    return StockMove.objects.count(), StockOperation.objects.count(), balances


def on_hand(location: Location, sku: Sku, lot: str | None = None) -> int:
    qs = Balance.objects.filter(location=location, sku=sku)
    if lot is not None:
        qs = qs.filter(lot__number=lot)
    return sum(qs.values_list("on_hand", flat=True))
