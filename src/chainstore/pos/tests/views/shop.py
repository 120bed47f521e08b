"""Back office test fixture `shop`: an HQ planner, two stores with a manager and a cashier
at the first, a small catalog (categories, brand, SKUs incl. a weighed one), member tiers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from chainstore.catalog.models import Category, Sku
from chainstore.catalog.services import create_category, get_or_create_brand
from chainstore.core import testing
from chainstore.pos.models import MemberTier
from chainstore.sites.models import Site


@dataclass
class Shop:
    admin: Any
    planner: Any
    manager: Any  # store manager at store_a
    cashier: Any  # cashier at store_a
    auditor: Any
    store_a: Site
    store_b: Site
    warehouse: Site
    drinks: Category
    snacks: Category
    cola: Sku
    chips: Sku
    water: Sku
    apples: Sku  # weighed (kg)
    normal: MemberTier
    gold: MemberTier


@pytest.fixture
def shop(admin: Any) -> Shop:
    drinks = create_category(code="DRINKS", name="饮料", actor=admin)
    snacks = create_category(code="SNACKS", name="零食", actor=admin)
    brand = get_or_create_brand("可口可乐")
    store_a = testing.make_site(admin, "store", code="SHA01")
    store_b = testing.make_site(admin, "store", code="SHA02")
    return Shop(
        admin=admin,
        planner=testing.make_user("hq_planner"),
        manager=testing.make_user("store_manager", sites=[store_a]),
        cashier=testing.make_user("cashier", sites=[store_a]),
        auditor=testing.make_user("auditor"),
        store_a=store_a,
        store_b=store_b,
        warehouse=testing.make_site(admin, "cdc", code="CDC01"),
        drinks=drinks,
        snacks=snacks,
        cola=testing.make_sku(
            admin,
            code="COLA",
            name="可口可乐 330ml",
            category=drinks,
            brand=brand,
            retail_price_fen=350,
        ),
        chips=testing.make_sku(
            admin, code="CHIPS", name="乐事薯片 70g", category=snacks, retail_price_fen=790
        ),
        water=testing.make_sku(
            admin, code="WATER", name="农夫山泉 550ml", category=drinks, retail_price_fen=200
        ),
        apples=testing.make_sku(
            admin, code="APPLE", name="红富士苹果", base_unit="kg", retail_price_fen=1290
        ),
        normal=MemberTier.objects.create(code="normal", name="普通会员", rank=0),
        gold=MemberTier.objects.create(code="gold", name="金卡会员", rank=2, points_per_yuan=2),
    )


def logged_in(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client
