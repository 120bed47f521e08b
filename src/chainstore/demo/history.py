"""Days of chain history, simulated in memory and written through the bulk LedgerWriter.

Each day, in this order (so ids follow time):
06:30 supplier receipts into the warehouses (one document per warehouse and brand);
08:00 CDC -> RDC shipments via the in-transit location (Tuesdays and Fridays);
09:00 replenishment of the stores from their warehouse (fresh daily, the rest every 3 days);
15:00 the RDC receives the morning's shipment;
21:30 the POS day summary of each store (FEFO, never an expired lot);
22:30 Mondays: expired lots at every site are written off to scrap.
Lots that expired after the last write-off stay on the shelf, flagged for the next one.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
import zoneinfo
from collections.abc import Callable
from typing import Any

from chainstore.demo.master import Chain, DemoSku, DemoStore
from chainstore.demo.writer import LedgerWriter
from chainstore.inventory.models import OperationKind
from chainstore.sites.models import LocationKind, Site
from chainstore.sites.services import virtual_location

WEEKDAY_FACTOR = (0.9, 0.85, 0.9, 0.95, 1.1, 1.3, 1.25)  # Monday .. Sunday
NO_EXPIRY = dt.date.max.toordinal()
UNIT = 1000  # milli per piece / per kg
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")

# One shelf entry: [expiry ordinal, lot id or None, quantity in milli]
Entry = list[Any]


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _loc(site: Site) -> int:
    """The site's default stock location (selling floor of a store)."""
    assert site.stock_location_id is not None
    return site.stock_location_id


def is_fresh(sku: DemoSku) -> bool:
    return sku.line.lot_tracked and (sku.line.shelf_life_days or 0) <= 30


class History:
    def __init__(
        self, chain: Chain, *, writer: LedgerWriter, rng: random.Random, today: dt.date
    ) -> None:
        self.chain = chain
        self.writer = writer
        self.rng = rng
        self.today = today
        self.shelf: dict[tuple[int, int], list[Entry]] = {}
        self.supplier = virtual_location(LocationKind.SUPPLIER).pk
        self.customer = virtual_location(LocationKind.CUSTOMER).pk
        self.transit = virtual_location(LocationKind.TRANSIT).pk
        self.scrap = virtual_location(LocationKind.SCRAP).pk
        self.opening_lots: dict[int, list[tuple[int, int]]] = {}
        self.rates = [
            {k: chain.skus[k].velocity * st.size for k in st.assortment} for st in chain.stores
        ]
        self.wh_demand: dict[int, list[float]] = {
            chain.cdc.pk: [0.0] * len(chain.skus),
            chain.rdc.pk: [0.0] * len(chain.skus),
        }
        for st, rates in zip(chain.stores, self.rates, strict=True):
            for k, r in rates.items():
                self.wh_demand[st.warehouse.pk][k] += r
        # The CDC also supplies the RDC with everything that is not daily fresh.
        for k, sku in enumerate(chain.skus):
            if not is_fresh(sku):
                self.wh_demand[chain.cdc.pk][k] += self.wh_demand[chain.rdc.pk][k]

    # -- shelves ---------------------------------------------------------------------
    def put(self, loc: int, k: int, lot: int | None, expiry: int, quantity: int) -> None:
        entries = self.shelf.setdefault((loc, k), [])
        for e in entries:
            if e[1] == lot:
                e[2] += quantity
                return
        if lot is None:  # untracked: one entry per shelf, never expires
            entries.append([NO_EXPIRY, None, quantity])
        else:  # FEFO, then FIFO: lot ids grow with time
            bisect.insort(entries, [expiry, lot, quantity])

    def arrive(
        self,
        op: int,
        k: int,
        lot: int | None,
        expiry: int,
        quantity: int,
        *,
        source: int,
        dest: int,
        reason: str,
        unit_cost_micros: int | None = None,
    ) -> None:
        """Write the move into `dest` and put the units on that shelf."""
        self.writer.move(
            op,
            sku_id=self.chain.skus[k].id,
            lot_id=lot,
            quantity=quantity,
            from_location=source,
            to_location=dest,
            reason=reason,
            unit_cost_micros=unit_cost_micros,
        )
        self.put(dest, k, lot, expiry, quantity)

    def available(self, loc: int, k: int, day: int) -> int:
        return sum(e[2] for e in self.shelf.get((loc, k), ()) if e[0] >= day)

    def take(self, loc: int, k: int, quantity: int, day: int) -> list[tuple[int | None, int, int]]:
        """Remove up to `quantity` FEFO from unexpired entries: [(lot, expiry, taken)]."""
        out = []
        entries = self.shelf.get((loc, k), [])
        for e in entries:
            if quantity == 0:
                break
            if e[0] < day or e[2] == 0:
                continue
            q = min(quantity, e[2])
            e[2] -= q
            quantity -= q
            out.append((e[1], e[0], q))
        if out:
            entries[:] = [e for e in entries if e[2] > 0]
        return out

    # -- helpers ---------------------------------------------------------------------
    def at(self, date: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
        return dt.datetime.combine(date, dt.time(hour, minute, second), tzinfo=TZ)

    def actor(self, site: Site, *, selling: bool = False) -> int | None:
        users = self.chain.users
        if site.pk == self.chain.cdc.pk:
            return users["wh_operator"].pk
        if site.pk == self.chain.stores[0].site.pk:
            return users["cashier" if selling else "store_manager"].pk
        return users["admin"].pk

    def new_lot(self, k: int, number: str, expiry: dt.date, at: dt.datetime) -> int:
        sku = self.chain.skus[k]
        return self.writer.lot(sku_id=sku.id, number=number, expiry=expiry, at=at)

    # -- the run ---------------------------------------------------------------------
    def run(self, days: int, on_day: Callable[[int], None] | None = None) -> None:
        start = self.today - dt.timedelta(days=days)
        self.opening(start)
        for d in range(days):
            date = start + dt.timedelta(days=d)
            self.day(date)
            if on_day:
                on_day(d)

    def day(self, date: dt.date) -> None:
        day = date.toordinal()
        chain = self.chain
        self.supplier_receipts(chain.cdc, date, lambda sku: True, rop=7, cover=21, fresh=(2, 4))
        self.supplier_receipts(chain.rdc, date, is_fresh, rop=2, cover=4, fresh=(2, 4))
        shipped = self.ship_to_rdc(date) if date.weekday() in (1, 4) else []
        for i, store in enumerate(chain.stores):
            self.replenish(i, store, date)
        if shipped:
            op = self.writer.operation(
                OperationKind.MOVE,
                site_id=chain.rdc.pk,
                at=self.at(date, 15),
                actor_id=self.actor(chain.rdc),
                reference=f"TR-{date:%Y%m%d}-RDC01",
                note="调拨到货 transfer received",
            )
            for k, lot, expiry, q, cost in shipped:
                sku = chain.skus[k]
                loc = sku.bin_by_site[chain.rdc.pk]
                self.arrive(
                    op,
                    k,
                    lot,
                    expiry,
                    q,
                    source=self.transit,
                    dest=loc,
                    reason="transfer_in",
                    unit_cost_micros=cost,
                )
        for i, store in enumerate(chain.stores):
            self.sell(i, store, date, day)
        if date.weekday() == 0:
            self.write_off(date)

    def opening(self, date: dt.date) -> None:
        """Opening stock (期初) at every site, from the supplier side, as on the go-live day."""
        chain, rng = self.chain, self.rng
        at = self.at(date, 0, 5)
        for k, sku in enumerate(chain.skus):
            if sku.line.lot_tracked:
                shelf = sku.line.shelf_life_days or 365
                lots = []
                for letter in "KM":
                    expiry = date + dt.timedelta(days=rng.randint(1, shelf))
                    produced = expiry - dt.timedelta(days=shelf)
                    number = f"{produced:%Y%m%d}{letter}"
                    lots.append((self.new_lot(k, number, expiry, at), expiry.toordinal()))
                self.opening_lots[k] = lots
        for site, cover in ((chain.cdc, (3, 20)), (chain.rdc, (3, 12))):
            op = self.writer.operation(
                OperationKind.OPENING,
                site_id=site.pk,
                at=at,
                actor_id=self.actor(site),
                note="期初库存 opening stock",
            )
            demand = self.wh_demand[site.pk]
            for k, sku in enumerate(chain.skus):
                days = cover[0] if is_fresh(sku) else cover[1]
                units = max(sku.line.pack * 2, math.ceil(demand[k] * days))
                self._open_line(op, sku.bin_by_site[site.pk], k, units * UNIT, halves=True)
        for i, store in enumerate(chain.stores):
            op = self.writer.operation(
                OperationKind.OPENING,
                site_id=store.site.pk,
                at=at,
                actor_id=self.actor(store.site),
                note="期初库存 opening stock",
            )
            for k, rate in self.rates[i].items():
                days = 2 if is_fresh(chain.skus[k]) else 8
                units = max(2, math.ceil(rate * days))
                self._open_line(op, _loc(store.site), k, units * UNIT, halves=False)

    def _open_line(self, op: int, loc: int, k: int, quantity: int, *, halves: bool) -> None:
        sku = self.chain.skus[k]
        lots = self.opening_lots.get(k)
        parts: list[tuple[int | None, int, int]]
        if not lots:
            parts = [(None, NO_EXPIRY, quantity)]
        elif halves and quantity >= 2 * UNIT:
            half = quantity // 2 // UNIT * UNIT
            parts = [(lots[0][0], lots[0][1], half), (lots[1][0], lots[1][1], quantity - half)]
        else:
            chosen, expiry = lots[self.rng.randrange(2)]
            parts = [(chosen, expiry, quantity)]
        for lot, expiry, q in parts:
            self.arrive(
                op,
                k,
                lot,
                expiry,
                q,
                source=self.supplier,
                dest=loc,
                reason="opening",
                unit_cost_micros=sku.cost_micros,
            )

    def supplier_receipts(
        self,
        site: Site,
        date: dt.date,
        buys: Callable[[DemoSku], bool],
        *,
        rop: int,
        cover: int,
        fresh: tuple[int, int],
    ) -> None:
        chain, rng, day = self.chain, self.rng, date.toordinal()
        demand = self.wh_demand[site.pk]
        by_brand: dict[str, list[tuple[int, int]]] = {}
        for k, sku in enumerate(chain.skus):
            if not buys(sku) or demand[k] <= 0:
                continue
            r, c = fresh if is_fresh(sku) else (rop, cover)
            loc = sku.bin_by_site[site.pk]
            have = self.available(loc, k, day + 1)
            if have >= demand[k] * r * UNIT:
                continue
            pack = sku.line.pack
            units = math.ceil((demand[k] * c * UNIT - have) / UNIT / pack) * pack
            if units > 0:
                brand = sku.brand or "生鲜农产品"
                by_brand.setdefault(brand, []).append((k, units * UNIT))
        at = self.at(date, 6, 30)
        letter = "C" if site.pk == chain.cdc.pk else "R"
        for n, (brand, lines) in enumerate(by_brand.items(), start=1):
            op = self.writer.operation(
                OperationKind.RECEIPT,
                site_id=site.pk,
                at=at,
                actor_id=self.actor(site),
                partner=f"{brand}供应商",
                reference=f"PO-{site.code}-{date:%Y%m%d}-{n:03d}",
            )
            for k, q in lines:
                sku = chain.skus[k]
                lot, expiry = None, NO_EXPIRY
                if sku.line.lot_tracked:
                    shelf = sku.line.shelf_life_days or 365
                    age = rng.randint(0, min(2, shelf // 4))
                    exp_date = date - dt.timedelta(days=age) + dt.timedelta(days=shelf)
                    lot = self.new_lot(k, f"{date:%Y%m%d}{letter}", exp_date, at)
                    expiry = exp_date.toordinal()
                loc = sku.bin_by_site[site.pk]
                self.arrive(
                    op,
                    k,
                    lot,
                    expiry,
                    q,
                    source=self.supplier,
                    dest=loc,
                    reason="receipt",
                    unit_cost_micros=int(sku.cost_micros * rng.uniform(0.96, 1.04)),
                )

    def ship_to_rdc(self, date: dt.date) -> list[tuple[int, int | None, int, int, int]]:
        chain, day = self.chain, date.toordinal()
        cdc, rdc = chain.cdc.pk, chain.rdc.pk
        rdc_demand = self.wh_demand[rdc]
        op = None
        shipped = []
        for k, sku in enumerate(chain.skus):
            if is_fresh(sku) or rdc_demand[k] <= 0:
                continue
            have = self.available(sku.bin_by_site[rdc], k, day + 1)
            if have >= rdc_demand[k] * 5 * UNIT:
                continue
            want = math.ceil(rdc_demand[k] * 10 - have / UNIT) * UNIT
            src = sku.bin_by_site[cdc]
            parts = self.take(src, k, want, day + 1)
            for lot, expiry, q in parts:
                if op is None:
                    op = self.writer.operation(
                        OperationKind.MOVE,
                        site_id=cdc,
                        at=self.at(date, 8),
                        actor_id=self.actor(chain.cdc),
                        reference=f"TR-{date:%Y%m%d}-RDC01",
                        note="调拨发运 CDC01 -> RDC01",
                    )
                cost = self.writer.site_skus[(cdc, sku.id)].avg_cost_micros
                self.writer.move(
                    op,
                    sku_id=sku.id,
                    lot_id=lot,
                    quantity=q,
                    from_location=src,
                    to_location=self.transit,
                    reason="transfer_out",
                )
                shipped.append((k, lot, expiry, q, cost))
        return shipped

    def replenish(self, i: int, store: DemoStore, date: dt.date) -> None:
        chain, day = self.chain, date.toordinal()
        ambient_day = (day + i) % 3 == 0
        dest = _loc(store.site)
        op = None
        for k, rate in self.rates[i].items():
            sku = chain.skus[k]
            fresh = is_fresh(sku)
            if not fresh and not ambient_day:
                continue
            rop, cover = (1.5, 3) if fresh else (4, 9)
            have = self.available(dest, k, day)
            if have >= rate * rop * UNIT:
                continue
            pack = 1 if fresh else sku.line.pack
            units = max(1, math.ceil((rate * cover - have / UNIT) / pack)) * pack
            src = sku.bin_by_site[store.warehouse.pk]
            for lot, expiry, q in self.take(src, k, units * UNIT, day + 1):
                if op is None:
                    op = self.writer.operation(
                        OperationKind.MOVE,
                        site_id=store.site.pk,
                        at=self.at(date, 9) + dt.timedelta(seconds=5 * i),
                        actor_id=self.actor(store.site),
                        reference=f"RP-{date:%Y%m%d}-{store.site.code}",
                        note=f"门店补货 {store.warehouse.code} -> {store.site.code}",
                    )
                self.arrive(op, k, lot, expiry, q, source=src, dest=dest, reason="replenishment")

    def sell(self, i: int, store: DemoStore, date: dt.date, day: int) -> None:
        chain, rng = self.chain, self.rng
        factor = WEEKDAY_FACTOR[date.weekday()]
        loc = _loc(store.site)
        op = self.writer.operation(
            OperationKind.ISSUE,
            site_id=store.site.pk,
            at=self.at(date, 21, 30) + dt.timedelta(seconds=5 * i),
            actor_id=self.actor(store.site, selling=True),
            reference=f"POS-{store.site.code}-{date:%Y%m%d}",
            note="sale",
        )
        for k, rate in self.rates[i].items():
            sku = chain.skus[k]
            if sku.line.by_weight:
                quantity = poisson(rng, rate * factor / 0.6) * rng.randint(400, 800)
            else:
                quantity = poisson(rng, rate * factor) * UNIT
            if quantity <= 0:
                continue
            for lot, _expiry, q in self.take(loc, k, quantity, day):
                self.writer.move(
                    op,
                    sku_id=sku.id,
                    lot_id=lot,
                    quantity=q,
                    from_location=loc,
                    to_location=self.customer,
                    reason="sale",
                )

    def write_off(self, date: dt.date) -> None:
        """Weekly: lots expired before yesterday go to scrap, one document per site."""
        cutoff = date.toordinal() - 1
        site_of = self.writer.location_sites
        by_site: dict[int, list[tuple[int, int, Entry]]] = {}
        for (loc, k), entries in self.shelf.items():
            for e in entries:
                if e[0] < cutoff and e[2] > 0:
                    site = site_of[loc]
                    assert site is not None
                    by_site.setdefault(site, []).append((loc, k, e))
        at = self.at(date, 22, 30)
        for site_id in sorted(by_site):
            op = self.writer.operation(
                OperationKind.SCRAP, site_id=site_id, at=at, note="expired 过期报损"
            )
            for loc, k, e in by_site[site_id]:
                self.writer.move(
                    op,
                    sku_id=self.chain.skus[k].id,
                    lot_id=e[1],
                    quantity=e[2],
                    from_location=loc,
                    to_location=self.scrap,
                    reason="expired",
                )
                e[2] = 0
        for entries in self.shelf.values():
            entries[:] = [e for e in entries if e[2] > 0]

    def safety_stock(self) -> None:
        """Planner-set safety stock on ~15% of each store's range; the shortest always."""
        rng, day = self.rng, self.today.toordinal()
        for i, store in enumerate(self.chain.stores):
            loc = _loc(store.site)
            rates = self.rates[i]
            chosen = [k for k in rates if rng.random() < 0.15]
            covers = sorted(rates, key=lambda k: (self.available(loc, k, day) / rates[k], k))
            for k in dict.fromkeys(chosen + covers[:3]):
                sku_id = self.chain.skus[k].id
                units = max(2, math.ceil(rates[k] * 3))
                on_hand = self.writer.site_on_hand(store.site.pk, sku_id)
                if k in covers[:3] and on_hand >= units * UNIT:
                    units = on_hand // UNIT + 2
                self.writer.set_safety_stock(store.site.pk, sku_id, units * UNIT)
