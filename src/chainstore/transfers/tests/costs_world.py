"""Shipped transfers written directly as rows (the cost report reads only these fields), so
the report's figures can be checked against numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from chainstore.catalog.models import Sku
from chainstore.core.testing import make_site, make_sku
from chainstore.sites.models import Site
from chainstore.transfers.models import Transfer, TransferKind, TransferLine, TransferStatus

UTC = dt.UTC
_numbers = itertools.count(1)


def shipped_transfer(
    *,
    source: Site,
    destination: Site,
    shipped_at: dt.datetime | None,
    lines: list[tuple[Sku, int, int, int]],  # sku, shipped milli, unit cost micros, allocated fen
    actor: Any,
    status: str = TransferStatus.CLOSED,
) -> Transfer:
    kinds = {
        (False, False): TransferKind.WAREHOUSE_TO_WAREHOUSE,
        (False, True): TransferKind.PUSH,
        (True, True): TransferKind.STORE_TO_STORE,
        (True, False): TransferKind.STORE_TO_STORE,
    }
    transfer = Transfer.objects.create(
        number=f"TRT{next(_numbers):08d}",
        kind=kinds[(source.kind == "store", destination.kind == "store")],
        status=status,
        source=source,
        destination=destination,
        requested_by=actor,
        shipped_at=shipped_at,
        freight_fen=sum(line[3] for line in lines),
    )
    TransferLine.objects.bulk_create(
        [
            TransferLine(
                transfer=transfer,
                sku=sku,
                quantity=max(shipped, 1000),
                shipped=shipped,
                received=shipped if status == TransferStatus.CLOSED else 0,
                unit_cost_micros=cost,
                allocated_cost_fen=allocated,
            )
            for sku, shipped, cost, allocated in lines
        ]
    )
    return transfer


@dataclass
class CostWorld:
    warehouse: Site
    store_a: Site
    store_b: Site
    sku1: Sku
    sku2: Sku


def cost_world(admin: Any) -> CostWorld:
    """Four transfers in January-February 2026 (Shanghai) and two that must not count:

    T1 W->A 2026-01-15 10:00 CST: 10 pcs at 3.333333 (1234 fen) + 2.5 kg at 12.50 (566 fen)
    T2 W->A 2026-01-31 16:30 UTC = 1 Feb 00:30 CST: 4 pcs at 3.333333 (300 fen)
    T3 A->B 2026-01-31 15:59 UTC = 31 Jan 23:59 CST: 1 kg at 12.00 (999 fen) + a line that
       shipped nothing
    T4 W->B 2025-12-31 16:00 UTC = 1 Jan 00:00 CST: 3 pcs at 1.000001 (7 fen)
    T5 W->A 2025-12-31 15:59:59 UTC = 31 Dec 23:59:59 CST (December: outside the range)
    T6 W->A approved, not shipped
    """
    warehouse = make_site(admin, "cdc", code="CW01")
    store_a = make_site(admin, "store", code="SA01")
    store_b = make_site(admin, "store", code="SB01")
    sku1 = make_sku(admin)
    sku2 = make_sku(admin, base_unit="kg")
    cst = dt.timezone(dt.timedelta(hours=8))

    def t(source: Site, destination: Site, at: dt.datetime | None, lines: list, **kw: Any) -> None:
        shipped_transfer(
            source=source, destination=destination, shipped_at=at, lines=lines, actor=admin, **kw
        )

    t(
        warehouse,
        store_a,
        dt.datetime(2026, 1, 15, 10, 0, tzinfo=cst),
        [(sku1, 10_000, 3_333_333, 1234), (sku2, 2_500, 12_500_000, 566)],
    )
    t(
        warehouse,
        store_a,
        dt.datetime(2026, 1, 31, 16, 30, tzinfo=UTC),
        [(sku1, 4_000, 3_333_333, 300)],
    )
    t(
        store_a,
        store_b,
        dt.datetime(2026, 1, 31, 15, 59, tzinfo=UTC),
        [(sku2, 1_000, 12_000_000, 999), (sku1, 0, 3_333_333, 0)],
        status=TransferStatus.IN_TRANSIT,
    )
    t(
        warehouse,
        store_b,
        dt.datetime(2025, 12, 31, 16, 0, tzinfo=UTC),
        [(sku1, 3_000, 1_000_001, 7)],
    )
    t(
        warehouse,
        store_a,
        dt.datetime(2025, 12, 31, 15, 59, 59, tzinfo=UTC),
        [(sku1, 9_000, 5_000_000, 50)],
    )
    t(warehouse, store_a, None, [(sku1, 0, 0, 0)], status=TransferStatus.APPROVED)
    return CostWorld(warehouse, store_a, store_b, sku1, sku2)
