"""Builders shared by the returns, shifts, reports and discrepancies tests (helper
"returns"): a store with tills, a cashier and a manager, SKUs with stock, promotions."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from chainstore.catalog.models import Sku
from chainstore.core.testing import make_site, make_sku, make_user, stock
from chainstore.pos.models import (
    Member,
    MemberTier,
    PointsEntry,
    Promotion,
    Sale,
    StoreSettings,
    Till,
)
from chainstore.pos.services.pricing import LineInput, quote_basket
from chainstore.pos.services.sales import create_sale
from chainstore.pos.services.tenders import TenderInput
from chainstore.sites.models import Site


@dataclass
class World:
    admin: Any
    store: Site
    tills: list[Till]
    cashier: Any
    cashier2: Any
    manager: Any
    skus: dict[str, Sku] = field(default_factory=dict)


def make_world(admin: Any, *, policy: str = "allow") -> World:
    store = make_site(admin, "store")
    StoreSettings.objects.create(site=store, short_sale_policy=policy)
    tills = [
        Till.objects.create(site=store, code="T01", name="1号收银台"),
        Till.objects.create(site=store, code="T02", name="2号收银台"),
    ]
    return World(
        admin=admin,
        store=store,
        tills=tills,
        cashier=make_user("cashier", sites=[store]),
        cashier2=make_user("cashier", sites=[store]),
        manager=make_user("store_manager", sites=[store]),
    )


def add_sku(
    world: World,
    name: str,
    price_fen: int,
    *,
    quantity: int = 100_000,
    cost_micros: int = 1_000_000,
    **kw: Any,
) -> Sku:
    sku = make_sku(
        world.admin, name=name, retail_price_fen=price_fen, standard_cost_micros=cost_micros, **kw
    )
    if quantity:
        stock(world.admin, world.store, sku, quantity, location=world.store.stock_location)
    world.skus[name] = sku
    return sku


def post(client: Any, url: str, body: Any = None, **headers: Any) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)


_keys = itertools.count(1)


def lines_of(*items: tuple[Sku, Any]) -> list[LineInput]:
    return [LineInput(sku=sku, quantity=quantity) for sku, quantity in items]


def sell(
    world: World,
    till: Till,
    actor: Any,
    items: list[tuple[Sku, Any]],
    *,
    kind: str = "cash",
    tendered_fen: int | None = None,
    member: Member | None = None,
    tenders: list[TenderInput] | None = None,
    **kw: Any,
) -> Sale:
    """Ring up a sale through the real checkout, paid in full with one tender of `kind`
    (cash: `tendered_fen` handed over) unless `tenders` are given."""
    lines = lines_of(*items)
    if tenders is None:
        total = quote_basket(store=world.store, lines=lines, actor=actor, member=member).total_fen
        tenders = (
            [TenderInput(kind=kind, amount_fen=total, tendered_fen=tendered_fen)] if total else []
        )
    kw.setdefault("idempotency_key", f"rw-sale-{next(_keys)}")
    return create_sale(
        store=world.store,
        till=till,
        lines=lines,
        tenders=tenders,
        actor=actor,
        member=member,
        **kw,
    )


def make_member(points_per_yuan: int = 1, balance: int = 0, phone: str | None = None) -> Member:
    n = next(_keys)
    tier, _created = MemberTier.objects.get_or_create(
        code=f"t{points_per_yuan}",
        defaults={"name": f"会员{points_per_yuan}", "points_per_yuan": points_per_yuan},
    )
    member = Member.objects.create(
        card_number=f"8800{n:08d}",
        phone=phone or f"1390000{n:04d}",
        name="李娜",
        tier=tier,
        points_balance=balance,
    )
    if balance:  # the opening balance is a ledger entry too
        PointsEntry.objects.create(
            member=member, kind="adjust", delta=balance, balance_after=balance, note="opening"
        )
    return member


def threshold(
    code: str, tiers: list[tuple[str, str]], *, policy: str = "recover", **kw: Any
) -> Promotion:
    """A 满减 promotion over every SKU (tiers in yuan: [(spend, save), ...])."""
    return Promotion.objects.create(
        code=code,
        name=kw.pop("name", f"满减{code}"),
        kind="threshold",
        params={"tiers": [[spend, save] for spend, save in tiers]},
        return_policy=policy,
        **kw,
    )
