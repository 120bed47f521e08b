"""Test helpers: factories that go through the services, and a few builders."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from chainstore.accounts.services import create_user
from chainstore.catalog.barcodes import gtin_check_digit
from chainstore.catalog.models import Sku
from chainstore.catalog.services import create_sku
from chainstore.inventory.services import ReceiptLine, receive
from chainstore.sites.models import Site
from chainstore.sites.services import create_bin, create_site

_seq = itertools.count(1)


def ean13(n: int | None = None) -> str:
    payload = f"690{(n if n is not None else next(_seq)):09d}"
    return payload + str(gtin_check_digit(payload))


def make_user(role: str = "admin", sites: list[Site] | None = None, **kw: Any) -> Any:
    return create_user(
        username=f"{role}{next(_seq)}",
        password="pw-123456",
        role=role,
        site_ids=[s.pk for s in sites or []],
        **kw,
    )


def make_site(actor: Any, kind: str = "store", code: str | None = None, **kw: Any) -> Site:
    n = next(_seq)
    return create_site(code=code or f"S{n:03d}", name=f"测试门店{n}", kind=kind, actor=actor, **kw)


def make_bin(actor: Any, site: Site, code: str | None = None, **kw: Any) -> Any:
    return create_bin(site=site, code=code or f"A-{next(_seq):03d}", actor=actor, **kw)


def make_sku(actor: Any, *, tracking: str = "none", barcode: str | None = None, **kw: Any) -> Sku:
    n = next(_seq)
    kw.setdefault("name", f"测试商品{n}")
    kw.setdefault("standard_cost_micros", 1_000_000)
    kw.setdefault("retail_price_fen", 200)
    return create_sku(
        code=kw.pop("code", f"SKU{n:05d}"),
        actor=actor,
        tracking=tracking,
        barcodes=[(barcode or ean13(n), "ean13")],
        **kw,
    )


def stock(
    actor: Any,
    site: Site,
    sku: Sku,
    quantity: int,
    *,
    lot: str | None = None,
    expiry: dt.date | None = None,
    cost: int | None = None,
    location: Any = None,
    key: str | None = None,
) -> Any:
    return receive(
        site=site,
        actor=actor,
        idempotency_key=key,
        lines=[
            ReceiptLine(
                sku=sku,
                quantity=quantity,
                unit_cost_micros=cost,
                lot_number=lot,
                expiry_date=expiry,
                location=location,
            )
        ],
    )
