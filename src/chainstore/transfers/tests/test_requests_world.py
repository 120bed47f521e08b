"""A small chain for the request/approval tests: a warehouse in Shanghai, three stores at
known distances, a category tree, two SKUs with stock and cost at the warehouse, and helpers
to build rules and users. Imported by the other test_requests*/test_approvals*/test_rules*
modules (it holds no tests of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from chainstore.catalog.models import Category
from chainstore.catalog.services import create_category
from chainstore.core.testing import make_bin, make_site, make_sku, make_user, stock
from chainstore.sites.models import Site
from chainstore.transfers.models import ApprovalRule, Transfer
from chainstore.transfers.services import requests, rules
from chainstore.transfers.services.rules import LevelInput, RuleInput

UNIT = 1000  # one unit in milli


@dataclass
class World:
    admin: Any
    warehouse: Site
    store_a: Site
    store_b: Site
    store_c: Site
    food: Category
    dairy: Category
    milk: Any  # dairy (under food), 10.00 yuan a unit at the warehouse
    soap: Any  # no category, 2.00 yuan
    requester: Any  # store manager of store A


def site(admin: Any, kind: str, lat: str, lon: str, **kw: Any) -> Site:
    return make_site(admin, kind, latitude=Decimal(lat), longitude=Decimal(lon), **kw)


@pytest.fixture
def world(admin: Any) -> World:
    warehouse = site(admin, "cdc", "31.230400", "121.473700", city="上海")
    store_a = site(admin, "store", "31.200000", "121.400000")
    store_b = site(admin, "store", "31.300000", "121.500000")
    store_c = site(admin, "store", "30.250000", "120.160000")  # Hangzhou, far away
    food = create_category(code="FOOD", name="食品", actor=admin)
    dairy = create_category(code="DAIRY", name="乳品", parent=food, actor=admin)
    milk = make_sku(admin, name="纯牛奶", category=dairy)
    soap = make_sku(admin, name="香皂")
    bin_ = make_bin(admin, warehouse)
    stock(admin, warehouse, milk, 5000 * UNIT, cost=10_000_000, location=bin_)
    stock(admin, warehouse, soap, 500 * UNIT, cost=2_000_000, location=bin_)
    requester = make_user("store_manager", [store_a])
    return World(admin, warehouse, store_a, store_b, store_c, food, dairy, milk, soap, requester)


def make_rule(actor: Any, *levels: tuple[str, str], **conditions: Any) -> ApprovalRule:
    """make_rule(admin, ("store_manager", "destination"), ("hq_planner", "chain"), ...)."""
    conditions.setdefault("name", "rule")
    return rules.create_rule(
        actor=actor,
        data=RuleInput(
            levels=[LevelInput(role=r, scope=s, name=f"L{i}") for i, (r, s) in enumerate(levels)],
            **conditions,
        ),
    )


def request(w: World, *, units: int = 10, sku: Any = None, submit: bool = True, **kw: Any):
    """A replenishment request from store A (by its manager) to the warehouse."""
    kw.setdefault("source", w.warehouse)
    kw.setdefault("destination", w.store_a)
    kw.setdefault("actor", w.requester)
    return requests.create_transfer(
        lines=[(sku or w.milk, units * UNIT)], submit=submit, reason="补货", **kw
    )


def fresh(transfer: Transfer) -> Transfer:
    return Transfer.objects.get(pk=transfer.pk)


__all__ = ["UNIT", "World", "fresh", "make_rule", "make_user", "request", "site", "world"]
