"""Reads of the stock ledger a count needs: its scope, the snapshot, moves since the freeze.

Consistency: the caller first locks the (site, sku) rows every posting locks before it
touches balances (inventory/locks.py order), then reads the high-water StockMove id; so no
move of those keys is in flight, and every later move of them gets a higher id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Max, Q, QuerySet, Sum

from chainstore.catalog.models import Sku
from chainstore.inventory.locks import lock_site_exclusive
from chainstore.inventory.models import Balance, SiteSku, StockMove
from chainstore.sites.models import Location, LocationKind

from .models import CountLine, CountScope, StockCount

COUNT_KINDS = (
    LocationKind.STORAGE,
    LocationKind.SELLING,
    LocationKind.RECEIVING,
    LocationKind.DAMAGED,
)
MANY = 2000  # above this many ids, read the whole site instead of an IN list
Key = tuple[int, int, int | None]  # location, sku, lot


def scope_locations(count: StockCount) -> QuerySet[Location]:
    qs = Location.objects.filter(site_id=count.site_id, kind__in=COUNT_KINDS, is_virtual=False)
    if count.scope == CountScope.ZONE and count.zone_id is not None:
        qs = qs.filter(zone_id=count.zone_id)
    return qs


def snapshot_balances(count: StockCount) -> QuerySet[Balance]:
    qs = Balance.objects.filter(site_id=count.site_id, location__in=scope_locations(count)).exclude(
        on_hand=0
    )
    if count.scope == CountScope.SKUS:
        qs = qs.filter(sku_id__in=count.skus.values("id"))
    return qs


def lock_scope(count: StockCount, sku_ids: Iterable[int] | None = None) -> None:
    """Wait out in-flight postings at the site (and hold new ones until commit), then lock
    the site's SiteSku rows (all, or of `sku_ids`) in (site, sku) order. Without the site
    lock, a posting that creates a SiteSku row (first stock of a SKU at the site) would be
    invisible to the row locks and could commit a move below the count's mark."""
    lock_site_exclusive(count.site_id)
    qs = SiteSku.objects.select_for_update().filter(site_id=count.site_id)
    if sku_ids is not None:
        ids = sorted(set(sku_ids))
        if len(ids) <= MANY:  # else lock the whole site: same order, no huge IN list
            qs = qs.filter(sku_id__in=ids)
    elif count.scope == CountScope.SKUS:
        qs = qs.filter(sku_id__in=count.skus.values("id"))
    list(qs.order_by("site_id", "sku_id").values_list("id", flat=True))


def high_water_move_id() -> int:
    return StockMove.objects.aggregate(m=Max("id"))["m"] or 0


def net_moves(*, site_id: int, after: int, upto: int) -> dict[Key, int]:
    """Net quantity moved into each (location, sku, lot) of the site, after < id <= upto.

    Reads only the moves of that id window (primary-key range), never the whole ledger."""
    net: dict[Key, int] = defaultdict(int)
    if upto <= after:
        return net
    window = StockMove.objects.filter(id__gt=after, id__lte=upto)
    incoming = (
        window.filter(to_location__site_id=site_id)
        .values_list("to_location_id", "sku_id", "lot_id")
        .annotate(q=Sum("quantity"))
        .order_by()
    )
    for loc, sku, lot, q in incoming:
        net[(loc, sku, lot)] += q
    outgoing = (
        window.filter(from_location__site_id=site_id)
        .values_list("from_location_id", "sku_id", "lot_id")
        .annotate(q=Sum("quantity"))
        .order_by()
    )
    for loc, sku, lot, q in outgoing:
        net[(loc, sku, lot)] -= q
    return net


def net_moves_for_key(key: Key, *, after: int, upto: int) -> int:
    location_id, sku_id, lot_id = key
    if upto <= after:
        return 0
    lot_q = Q(lot_id=lot_id) if lot_id is not None else Q(lot__isnull=True)
    window = StockMove.objects.filter(lot_q, sku_id=sku_id, id__gt=after, id__lte=upto)
    into = window.filter(to_location_id=location_id).aggregate(q=Sum("quantity"))["q"] or 0
    out = window.filter(from_location_id=location_id).aggregate(q=Sum("quantity"))["q"] or 0
    return int(into) - int(out)


def unit_costs(site_id: int, sku_ids: Iterable[int]) -> dict[int, int]:
    """Moving-average cost per SKU at the site, falling back to the standard cost."""
    ids = sorted(set(sku_ids))
    qs = SiteSku.objects.filter(site_id=site_id)
    if len(ids) <= MANY:
        qs = qs.filter(sku_id__in=ids)
    rows = qs.values_list("sku_id", "avg_cost_micros", "sku__standard_cost_micros")
    wanted = set(ids)
    costs = {sku: avg or std for sku, avg, std in rows if sku in wanted}
    if len(costs) < len(ids):
        for sku, std in Sku.objects.filter(pk__in=[i for i in ids if i not in costs]).values_list(
            "id", "standard_cost_micros"
        ):
            costs[sku] = std
    return costs


def save_lines(lines: Iterable[CountLine], fields: list[str]) -> None:
    """Write changed fields of many lines quickly: lines sharing the same values go out as
    one `UPDATE ... WHERE id IN (...)`; the rest through small `bulk_update` batches (a
    large CASE-per-row batch is quadratic on SQLite)."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    by_id = {}
    for ln in lines:
        groups[tuple(getattr(ln, f) for f in fields)].append(ln.pk)
        by_id[ln.pk] = ln
    rest: list[CountLine] = []
    for values, ids in groups.items():
        if len(ids) < 8:
            rest.extend(by_id[i] for i in ids)
            continue
        for start in range(0, len(ids), 500):
            CountLine.objects.filter(pk__in=ids[start : start + 500]).update(
                **dict(zip(fields, values, strict=True))
            )
    if rest:
        CountLine.objects.bulk_update(rest, fields, batch_size=50)
