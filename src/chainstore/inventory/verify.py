"""Invariant check: balances == sum of moves, for every key.

Checks, all by aggregate queries (no per-row loops over the ledger):
1. every Balance.on_hand equals moves in - moves out for (location, sku, lot);
2. every SiteSku.on_hand equals the sum of its site's balances;
3. every Balance.reserved equals the open reservations for its key;
4. no negative on hand (balance or site total) and no available stock below zero.

Stores are the one exception to 4: a shopper holding an item may buy it even when the
ledger says it is gone (the store's short-sale policy), which drives on hand negative at
that store until a recount. Those keys are reported by `negative_store_stock()` (a list
to recount, not a broken invariant); anywhere else negative stock is a difference.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Sum

from chainstore.inventory.models import Balance, Reservation, ReservationStatus, SiteSku, StockMove
from chainstore.sites.models import Site, SiteKind

Key = tuple[int, int, int | None]


@dataclass(frozen=True)
class Difference:
    check: str
    key: tuple[int | None, ...]
    expected: int
    actual: int


def negative_store_stock() -> list[Difference]:
    """Store balances below zero after short sales: each one is waiting for a recount."""
    return [
        Difference("negative_store_stock", (loc, sku, lot), 0, on_hand)
        for loc, sku, lot, on_hand in Balance.objects.filter(
            on_hand__lt=0, site__kind=SiteKind.STORE
        ).values_list("location_id", "sku_id", "lot_id", "on_hand")
    ]


def verify_ledger() -> list[Difference]:
    diffs: list[Difference] = []
    stores = set(Site.objects.filter(kind=SiteKind.STORE).values_list("id", flat=True))
    from_ledger: dict[Key, int] = defaultdict(int)
    incoming = (
        StockMove.objects.filter(to_location__is_virtual=False)
        .values_list("to_location_id", "sku_id", "lot_id")
        .annotate(q=Sum("quantity"))
    )
    for loc, sku, lot, q in incoming.iterator(chunk_size=10000):
        from_ledger[(loc, sku, lot)] += q
    outgoing = (
        StockMove.objects.filter(from_location__is_virtual=False)
        .values_list("from_location_id", "sku_id", "lot_id")
        .annotate(q=Sum("quantity"))
    )
    for loc, sku, lot, q in outgoing.iterator(chunk_size=10000):
        from_ledger[(loc, sku, lot)] -= q

    reserved: dict[Key, int] = defaultdict(int)
    for loc, sku, lot, q in (
        Reservation.objects.filter(status=ReservationStatus.ACTIVE)
        .values_list("location_id", "sku_id", "lot_id")
        .annotate(q=Sum("open_quantity"))
        .iterator(chunk_size=10000)
    ):
        reserved[(loc, sku, lot)] += q

    site_totals: dict[tuple[int, int], int] = defaultdict(int)
    seen: set[Key] = set()
    for loc, sku, lot, site, on_hand, res in Balance.objects.values_list(
        "location_id", "sku_id", "lot_id", "site_id", "on_hand", "reserved"
    ).iterator(chunk_size=10000):
        key = (loc, sku, lot)
        seen.add(key)
        site_totals[(site, sku)] += on_hand
        if from_ledger.get(key, 0) != on_hand:
            diffs.append(Difference("balance_on_hand", key, from_ledger.get(key, 0), on_hand))
        if reserved.get(key, 0) != res:
            diffs.append(Difference("balance_reserved", key, reserved.get(key, 0), res))
        if on_hand < 0 and site not in stores:
            diffs.append(Difference("negative_on_hand", key, 0, on_hand))
        if res > on_hand and res > 0 and site not in stores:
            diffs.append(Difference("available_negative", key, res, on_hand))
    for ledger_key, q in from_ledger.items():
        if ledger_key not in seen and q != 0:
            diffs.append(Difference("balance_missing", ledger_key, q, 0))
    for site, sku, on_hand in SiteSku.objects.values_list("site_id", "sku_id", "on_hand").iterator(
        chunk_size=10000
    ):
        if on_hand < 0 and site not in stores:
            diffs.append(Difference("negative_site_total", (site, sku), 0, on_hand))
        if site_totals.get((site, sku), 0) != on_hand:
            diffs.append(
                Difference("site_total", (site, sku), site_totals.get((site, sku), 0), on_hand)
            )
    return diffs
