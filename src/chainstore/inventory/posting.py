"""The posting engine: every change of stock goes through one `Posting`.

A posting belongs to one StockOperation and one transaction. It
1. locks the (site, sku) rows it will touch, in sorted order (see locks.py);
2. takes from sources with one conditional UPDATE each (never read-then-write);
3. puts into destinations with an UPDATE ... + F() or an insert;
4. records immutable StockMove rows with the moving-average unit cost.
Its cost depends on the lines, never on the size of the ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from chainstore.catalog.models import Sku
from chainstore.core.errors import InsufficientStock
from chainstore.core.quantities import milli_to_qty, weighted_average_micros
from chainstore.inventory.locks import lock_site_skus, lock_sites_shared
from chainstore.inventory.models import Balance, Lot, SiteSku, StockMove, StockOperation
from chainstore.sites.models import Location


@dataclass(frozen=True)
class Taken:
    location: Location
    lot: Lot | None
    quantity: int


def _key_filter(location: Location, sku: Sku, lot: Lot | None) -> Q:
    q = Q(location_id=location.pk, sku_id=sku.pk)
    return q & (Q(lot_id=lot.pk) if lot is not None else Q(lot__isnull=True))


class Posting:
    def __init__(self, operation: StockOperation) -> None:
        self.operation = operation
        self.moves: list[StockMove] = []
        self.site_skus: dict[tuple[int, int], SiteSku] = {}
        self._dirty: set[tuple[int, int]] = set()

    # -- locking -------------------------------------------------------------------
    def lock(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Lock (site_id, sku_id) rows; call once, before touching any balance."""
        keys = list(pairs)
        lock_sites_shared(site for site, _sku in keys)
        self.site_skus.update(lock_site_skus(keys))

    def site_sku(self, site_id: int, sku_id: int) -> SiteSku:
        try:
            return self.site_skus[(site_id, sku_id)]
        except KeyError:
            raise RuntimeError("posting touched a (site, sku) it did not lock first") from None

    # -- balances ------------------------------------------------------------------
    def take(
        self,
        location: Location,
        sku: Sku,
        lot: Lot | None,
        quantity: int,
        *,
        consume_reserved: bool = False,
    ) -> None:
        """Decrement on hand atomically; refuse if available (or reserved) is short."""
        qs = Balance.objects.filter(_key_filter(location, sku, lot))
        if consume_reserved:
            updated = qs.filter(on_hand__gte=quantity, reserved__gte=quantity).update(
                on_hand=F("on_hand") - quantity, reserved=F("reserved") - quantity
            )
        else:
            updated = qs.filter(on_hand__gte=F("reserved") + quantity).update(
                on_hand=F("on_hand") - quantity
            )
        if updated != 1:
            available = qs.values_list("on_hand", "reserved").first()
            raise InsufficientStock(
                _("Not enough available stock of %(sku)s at %(location)s.")
                % {"sku": sku.code, "location": location.code},
                sku=sku.code,
                location=location.code,
                lot=lot.number if lot else None,
                requested=str(milli_to_qty(quantity)),
                available=str(milli_to_qty(available[0] - available[1])) if available else "0.000",
            )

    def take_fefo(
        self,
        locations: list[Location],
        sku: Sku,
        quantity: int,
        *,
        today: dt.date,
        lot: Lot | None = None,
        reserve: bool = False,
        prefetched: list[Balance] | None = None,
    ) -> list[Taken]:
        """Take `quantity` from the given locations, first expiry first out, then FIFO.

        With reserve=True the units are reserved (reserved += q) instead of removed.
        Expired lots are skipped. The candidate list is a plain read (or `prefetched`, the
        caller's read of the same candidates); each decrement is a conditional UPDATE, so a
        concurrent change makes that update miss and we re-read.
        """
        remaining = quantity
        taken: list[Taken] = []
        by_id = {loc.pk: loc for loc in locations}
        for attempt in range(50):
            if attempt or prefetched is None:
                candidates = self._fefo_candidates(list(by_id), sku, today, lot)
            else:
                candidates = prefetched
            if not candidates:
                break
            for balance in candidates:
                chunk = min(remaining, balance.on_hand - balance.reserved)
                if chunk <= 0:
                    continue
                change = (
                    {"reserved": F("reserved") + chunk}
                    if reserve
                    else {"on_hand": F("on_hand") - chunk}
                )
                updated = Balance.objects.filter(
                    pk=balance.pk, on_hand__gte=F("reserved") + chunk
                ).update(**change)
                if updated:
                    taken.append(Taken(by_id[balance.location_id], balance.lot, chunk))
                    remaining -= chunk
                    if remaining == 0:
                        return _merge(taken)
            # Every candidate taken or changed under us: re-read (bounded by the attempts).
        available = quantity - remaining
        raise InsufficientStock(
            _("Not enough available stock of %(sku)s.") % {"sku": sku.code},
            sku=sku.code,
            requested=str(milli_to_qty(quantity)),
            available=str(milli_to_qty(available + self._available(list(by_id), sku, today, lot))),
        )

    def take_for_sale(
        self,
        locations: list[Location],
        sku: Sku,
        quantity: int,
        *,
        today: dt.date,
        lot: Lot | None,
        short_location: Location | None,
    ) -> tuple[list[Taken], int]:
        """A store sale: take what is available FEFO; with a `short_location` the rest
        (what the ledger says is not there, though the shopper holds it) is taken from it
        anyway, driving that balance negative. Returns the parts and the short quantity.

        The caller holds the (site, sku) lock (`lock`), which every posting of this SKU at
        this site needs too, so the availability read cannot go stale before the take."""
        candidates = self._fefo_candidates([loc.pk for loc in locations], sku, today, lot)
        available = sum(b.on_hand - b.reserved for b in candidates)
        if short_location is None or available >= quantity:
            parts = self.take_fefo(
                locations, sku, quantity, today=today, lot=lot, prefetched=candidates
            )
            return parts, 0
        parts = (
            self.take_fefo(locations, sku, available, today=today, lot=lot, prefetched=candidates)
            if available
            else []
        )
        short = quantity - available
        self.put(short_location, sku, lot, -short)
        return _merge([*parts, Taken(short_location, lot, short)]), short

    def _fefo_candidates(
        self, location_ids: list[int], sku: Sku, today: dt.date, lot: Lot | None
    ) -> list[Balance]:
        qs = Balance.objects.filter(
            location_id__in=location_ids, sku_id=sku.pk, on_hand__gt=F("reserved")
        ).select_related("lot")
        if lot is not None:
            qs = qs.filter(lot=lot)
        qs = qs.filter(
            Q(lot__isnull=True) | Q(lot__expiry_date__isnull=True) | Q(lot__expiry_date__gte=today)
        )
        return sorted(qs, key=_fefo_order)

    def _available(self, location_ids: list[int], sku: Sku, today: dt.date, lot: Lot | None) -> int:
        return sum(
            b.on_hand - b.reserved for b in self._fefo_candidates(location_ids, sku, today, lot)
        )

    def put(self, location: Location, sku: Sku, lot: Lot | None, quantity: int) -> None:
        """Increment on hand at a physical location (upsert with F())."""
        key = _key_filter(location, sku, lot)
        if Balance.objects.filter(key).update(on_hand=F("on_hand") + quantity):
            return
        assert location.site_id is not None, "balances live at physical locations"
        try:
            with transaction.atomic():
                Balance.objects.create(
                    site_id=location.site_id, location=location, sku=sku, lot=lot, on_hand=quantity
                )
        except IntegrityError:
            Balance.objects.filter(key).update(on_hand=F("on_hand") + quantity)

    # -- ledger --------------------------------------------------------------------
    def record(
        self,
        *,
        sku: Sku,
        lot: Lot | None,
        quantity: int,
        from_location: Location,
        to_location: Location,
        reason: str,
        unit_cost_micros: int | None = None,
    ) -> StockMove:
        """Append a move; keep site totals and moving-average cost in step."""
        from_site = None if from_location.is_virtual else from_location.site_id
        to_site = None if to_location.is_virtual else to_location.site_id
        if from_site is not None:
            cost = self.site_sku(from_site, sku.pk).avg_cost_micros
        elif unit_cost_micros is not None:
            cost = unit_cost_micros
        elif to_site is not None and self.site_sku(to_site, sku.pk).avg_cost_micros:
            cost = self.site_sku(to_site, sku.pk).avg_cost_micros
        else:
            cost = sku.standard_cost_micros
        if from_site != to_site:
            if from_site is not None:
                src = self.site_sku(from_site, sku.pk)
                src.on_hand -= quantity
                self._dirty.add((from_site, sku.pk))
            if to_site is not None:
                dst = self.site_sku(to_site, sku.pk)
                dst.avg_cost_micros = weighted_average_micros(
                    dst.on_hand, dst.avg_cost_micros, quantity, cost
                )
                dst.on_hand += quantity
                self._dirty.add((to_site, sku.pk))
        move = StockMove(
            operation=self.operation,
            sku=sku,
            lot=lot,
            quantity=quantity,
            from_location=from_location,
            to_location=to_location,
            unit_cost_micros=cost,
            reason=reason,
            actor_id=self.operation.actor_id,
        )
        self.moves.append(move)
        return move

    def finish(self) -> list[StockMove]:
        dirty = [self.site_skus[key] for key in sorted(self._dirty)]
        if len(dirty) == 1:
            row = dirty[0]
            SiteSku.objects.filter(pk=row.pk).update(
                on_hand=row.on_hand, avg_cost_micros=row.avg_cost_micros
            )
        elif dirty:
            # Rows are locked by this transaction, so one CASE update per batch is safe.
            SiteSku.objects.bulk_update(dirty, ["on_hand", "avg_cost_micros"], batch_size=500)
        created = StockMove.objects.bulk_create(self.moves, batch_size=1000)
        self._dirty.clear()
        return created


def _fefo_order(balance: Balance) -> tuple[int, dt.date, dt.datetime, str, int]:
    lot = balance.lot
    expiry = lot.expiry_date if lot and lot.expiry_date else dt.date.max
    received = (
        lot.first_received_at
        if lot and lot.first_received_at
        else dt.datetime.max.replace(tzinfo=dt.UTC)
    )
    return (
        0 if lot and lot.expiry_date else 1,
        expiry,
        received,
        lot.number if lot else "",
        balance.location_id,
    )


def _merge(taken: list[Taken]) -> list[Taken]:
    merged: dict[tuple[int, int | None], Taken] = {}
    for t in taken:
        key = (t.location.pk, t.lot.pk if t.lot else None)
        prev = merged.get(key)
        merged[key] = Taken(t.location, t.lot, t.quantity + (prev.quantity if prev else 0))
    return list(merged.values())
