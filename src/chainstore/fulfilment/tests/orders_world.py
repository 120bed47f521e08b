"""Builders for the order tests: a channel, ship-from sites with coordinates and bins,
stock in those bins, and order inputs."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from chainstore.core.testing import make_bin, make_site, stock
from chainstore.fulfilment.models import SalesChannel, ShipFromSite, SourcingPolicy
from chainstore.fulfilment.services.intake import AddressInput, OrderInput, OrderLineInput
from chainstore.inventory.models import Balance, Reservation, ReservationStatus
from chainstore.sites.models import Site

_ids = itertools.count(1)

# Shanghai customer; a warehouse in Shanghai (near), a store in Hangzhou (~165 km), a
# warehouse in Beijing (~1,070 km).
SHANGHAI = (Decimal("31.230400"), Decimal("121.473700"))
HANGZHOU = (Decimal("30.274100"), Decimal("120.155100"))
BEIJING = (Decimal("39.904200"), Decimal("116.407400"))


def make_channel(code: str = "TM01", timeout: int = 30, **kw: Any) -> SalesChannel:
    return SalesChannel.objects.create(
        code=code,
        name=kw.pop("name", "天猫旗舰店"),
        platform=kw.pop("platform", "tmall"),
        payment_timeout_minutes=timeout,
        **kw,
    )


def ship_from(
    admin: Any,
    kind: str = "cdc",
    at: tuple[Decimal, Decimal] | None = SHANGHAI,
    *,
    base_cost_fen: int = 800,
    per_kg_cost_fen: int = 200,
    city: str = "",
    enabled: bool = True,
) -> tuple[Site, Any]:
    """A ship-from site with one storage bin; returns (site, bin)."""
    extra = {"latitude": at[0], "longitude": at[1]} if at else {}
    site = make_site(admin, kind, city=city, **extra)
    ShipFromSite.objects.create(
        site=site, enabled=enabled, base_cost_fen=base_cost_fen, per_kg_cost_fen=per_kg_cost_fen
    )
    return site, make_bin(admin, site)


def put(admin: Any, site: Site, bin_: Any, sku: Any, units: int, **kw: Any) -> None:
    """`units` whole base units into the bin (through a receipt)."""
    stock(admin, site, sku, units * 1000, location=bin_, **kw)


def policy(**kw: Any) -> SourcingPolicy:
    row, _ = SourcingPolicy.objects.get_or_create(pk=1)
    for name, value in kw.items():
        setattr(row, name, value)
    row.save()
    return row


def order_input(
    lines: list[tuple[Any, int]],
    *,
    order_id: str | None = None,
    paid: bool = True,
    at: tuple[Decimal, Decimal] | None = SHANGHAI,
    city: str = "上海",
    **kw: Any,
) -> OrderInput:
    """An order of (sku, whole units) lines delivered in Shanghai."""
    return OrderInput(
        channel_order_id=order_id or f"TB{next(_ids):08d}",
        customer_name=kw.pop("customer_name", "张三"),
        phone=kw.pop("phone", "13800138000"),
        address=AddressInput(
            province="上海",
            city=city,
            district="浦东新区",
            address="世纪大道100号",
            latitude=at[0] if at else None,
            longitude=at[1] if at else None,
        ),
        lines=[
            OrderLineInput(sku=sku.code, quantity=units * 1000, unit_price_fen=990)
            for sku, units in lines
        ],
        paid=paid,
        **kw,
    )


def available(site: Site, sku: Any) -> int:
    return sum(
        b.on_hand - b.reserved
        for b in Balance.objects.filter(site=site, sku=sku, location__kind="storage")
    )


def open_reserved(site: Site, sku: Any) -> int:
    return sum(
        Reservation.objects.filter(site=site, sku=sku, status=ReservationStatus.ACTIVE).values_list(
            "open_quantity", flat=True
        )
    )
