"""A hypothesis state machine: random stock operations against a model of every balance.

After every step: the ledger verifies, no balance has available < 0, refused steps change
nothing, and the database holds exactly the model's on hand / reserved per key. Runs on
SQLite and PostgreSQL; each example runs inside a savepoint that teardown rolls back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from chainstore.core.errors import DomainError, InsufficientStock
from chainstore.core.testing import make_bin, make_site, make_sku
from chainstore.core.tests.helpers import snapshot
from chainstore.inventory import services
from chainstore.inventory.errors import ExpiredLot
from chainstore.inventory.models import Balance, Lot, Reservation
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.services import virtual_location

pytestmark = pytest.mark.django_db

LOTS = ["L1", "L2", "L3"]
Key = tuple[int, int, str | None]  # location, sku, lot number
QTY = st.integers(min_value=1, max_value=8).map(lambda n: n * 500)


@dataclass
class World:
    admin: Any
    sites: list[Any]
    recv: dict[int, Any]  # site id -> receiving location
    issuable: dict[int, list[Any]]  # site id -> storage + selling locations
    skus: list[Any]  # [plain, plain, lot-tracked]
    today: dt.date
    expiry: dict[str, dt.date] = field(default_factory=dict)


def build_world(admin: Any) -> World:
    for kind in ("supplier", "customer", "adjustment", "scrap"):
        virtual_location(kind)  # created outside the per-example savepoint
    wh, st_ = make_site(admin, "cdc"), make_site(admin, "store")
    bins = {wh.pk: [make_bin(admin, wh), make_bin(admin, wh)], st_.pk: [make_bin(admin, st_)]}
    skus = [make_sku(admin), make_sku(admin), make_sku(admin, tracking="lot", shelf_life_days=60)]
    today = services.site_today(wh)
    return World(
        admin=admin,
        sites=[wh, st_],
        recv={s.pk: s.receiving_location for s in (wh, st_)},
        issuable={s.pk: [*bins[s.pk], s.stock_location] for s in (wh, st_)},
        skus=skus,
        today=today,
        expiry={n: today + dt.timedelta(days=10 * (i + 1)) for i, n in enumerate(LOTS)},
    )


class StockMachine(RuleBasedStateMachine):
    world: World

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.expiry = dict(self.world.expiry)
        self.stock: dict[Key, list[int]] = {}  # key -> [on_hand, reserved]
        self.reservations: dict[int, tuple[Key, int]] = {}  # pk -> (key, open quantity)

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)

    # -- model helpers -------------------------------------------------------------
    def _row(self, key: Key) -> list[int]:
        return self.stock.setdefault(key, [0, 0])

    def _avail(self, key: Key) -> int:
        on_hand, reserved = self.stock.get(key, [0, 0])
        return on_hand - reserved

    def _fefo(self, locations: list[Any], sku: Any, *, skip_expired: bool) -> list[Key]:
        ids = {loc.pk for loc in locations}
        keys = [
            k
            for k in self.stock
            if k[0] in ids and k[1] == sku.pk and self._avail(k) > 0
            if not (skip_expired and k[2] and self.expiry[k[2]] < self.world.today)
        ]
        far = dt.date.max
        return sorted(keys, key=lambda k: (self.expiry[k[2]] if k[2] else far, k[2] or "", k[0]))

    def _plan(self, keys: list[Key], quantity: int) -> list[tuple[Key, int]] | None:
        plan, left = [], quantity
        for k in keys:
            chunk = min(left, self._avail(k))
            plan.append((k, chunk))
            left -= chunk
            if left == 0:
                return plan
        return None

    def _refused(self, fn: Any, error: type[DomainError]) -> None:
        before = snapshot()
        with pytest.raises(error):
            fn()
        assert snapshot() == before

    def _lot_number(self, sku: Any, lot_index: int) -> str | None:
        return LOTS[lot_index] if sku.is_lot_tracked else None

    # -- rules ---------------------------------------------------------------------
    @initialize(quantities=st.lists(QTY, min_size=9, max_size=9))
    def opening_stock(self, quantities: list[int]) -> None:
        """Every example starts with stock of every SKU in every issuable location."""
        amounts = iter(quantities * 2)
        for s in self.world.sites:
            lines = []
            for i, location in enumerate(self.world.issuable[s.pk]):
                for k in self.world.skus:
                    number = LOTS[i] if k.is_lot_tracked else None
                    q = next(amounts)
                    lines.append(
                        services.ReceiptLine(
                            k,
                            q,
                            lot_number=number,
                            expiry_date=self.expiry.get(number or ""),
                            location=location,
                        )
                    )
                    self._row((location.pk, k.pk, number))[0] += q
            services.receive(site=s, actor=self.world.admin, lines=lines)

    @rule(
        site=st.integers(0, 1),
        sku=st.integers(0, 2),
        q=QTY,
        lot=st.integers(0, 2),
        to_bin=st.booleans(),
    )
    def receive(self, site: int, sku: int, q: int, lot: int, to_bin: bool) -> None:
        s, k = self.world.sites[site], self.world.skus[sku]
        dest = self.world.issuable[s.pk][0] if to_bin else self.world.recv[s.pk]
        number = self._lot_number(k, lot)
        expiry = self.expiry[number] if number else None

        def call() -> Any:
            return services.receive(
                site=s,
                actor=self.world.admin,
                lines=[
                    services.ReceiptLine(k, q, lot_number=number, expiry_date=expiry, location=dest)
                ],
            )

        if number and expiry is not None and expiry < self.world.today:
            self._refused(call, ExpiredLot)
            return
        call()
        self._row((dest.pk, k.pk, number))[0] += q

    @rule(
        site=st.integers(0, 1),
        sku=st.integers(0, 2),
        q=QTY,
        src=st.integers(0, 3),
        dst=st.integers(0, 2),
        lot=st.integers(-1, 2),
    )
    def move(self, site: int, sku: int, q: int, src: int, dst: int, lot: int) -> None:
        s, k = self.world.sites[site], self.world.skus[sku]
        locations = [self.world.recv[s.pk], *self.world.issuable[s.pk]]
        from_loc, to_loc = (
            locations[src % len(locations)],
            locations[1:][dst % (len(locations) - 1)],
        )
        if from_loc.pk == to_loc.pk:
            return
        number = self._lot_number(k, lot) if lot >= 0 else None
        lot_obj = Lot.objects.filter(sku=k, number=number).first() if number else None
        if number and lot_obj is None:
            return
        if k.is_lot_tracked and number is None:
            plan = self._plan(self._fefo([from_loc], k, skip_expired=False), q)
        else:
            key = (from_loc.pk, k.pk, number)
            plan = [(key, q)] if self._avail(key) >= q else None

        def call() -> Any:
            return services.put_away(
                sku=k,
                quantity=q,
                from_location=from_loc,
                to_location=to_loc,
                lot=lot_obj,
                actor=self.world.admin,
            )

        if plan is None:
            self._refused(call, InsufficientStock)
            return
        call()
        for key, chunk in plan:
            self._row(key)[0] -= chunk
            self._row((to_loc.pk, k.pk, key[2]))[0] += chunk

    @rule(site=st.integers(0, 1), sku=st.integers(0, 2), q=QTY)
    def issue(self, site: int, sku: int, q: int) -> None:
        s, k = self.world.sites[site], self.world.skus[sku]
        plan = self._plan(self._fefo(self.world.issuable[s.pk], k, skip_expired=True), q)

        def call() -> Any:
            return services.issue(site=s, sku=k, quantity=q, actor=self.world.admin)

        if plan is None:
            self._refused(call, InsufficientStock)
            return
        op = call()
        got = sorted(
            (m.from_location_id, m.lot.number if m.lot else None, m.quantity)
            for m in op.moves.select_related("lot")
        )
        assert got == sorted((key[0], key[2], chunk) for key, chunk in plan)
        for key, chunk in plan:
            self._row(key)[0] -= chunk

    @rule(
        site=st.integers(0, 1),
        sku=st.integers(0, 2),
        loc=st.integers(0, 2),
        lot=st.integers(0, 2),
        q=QTY,
        gain=st.booleans(),
    )
    def adjust(self, site: int, sku: int, loc: int, lot: int, q: int, gain: bool) -> None:
        s, k = self.world.sites[site], self.world.skus[sku]
        locations = self.world.issuable[s.pk]
        location = locations[loc % len(locations)]
        number = self._lot_number(k, lot)
        if number and not Lot.objects.filter(sku=k, number=number).exists():
            return  # a gain of a never-received lot would need its expiry; out of scope here
        key = (location.pk, k.pk, number)

        def call() -> Any:
            return services.adjust(
                location=location,
                sku=k,
                delta=q if gain else -q,
                reason="correction",
                lot_number=number,
                actor=self.world.admin,
            )

        if not gain and self._avail(key) < q:
            self._refused(call, InsufficientStock)
            return
        call()
        self._row(key)[0] += q if gain else -q

    @rule(site=st.integers(0, 1), sku=st.integers(0, 2), q=QTY)
    def reserve(self, site: int, sku: int, q: int) -> None:
        s, k = self.world.sites[site], self.world.skus[sku]
        plan = self._plan(self._fefo(self.world.issuable[s.pk], k, skip_expired=True), q)

        def call() -> Any:
            return services.reserve(site=s, sku=k, quantity=q, actor=self.world.admin)

        if plan is None:
            self._refused(call, InsufficientStock)
            return
        op = call()
        for r in op.reservations.select_related("lot"):
            key = (r.location_id, r.sku_id, r.lot.number if r.lot else None)
            self.reservations[r.pk] = (key, r.open_quantity)
        assert sorted((key, q_) for key, q_ in plan) == sorted(
            (key, open_)
            for pk, (key, open_) in self.reservations.items()
            if pk in {r.pk for r in op.reservations.all()}
        )
        for key, chunk in plan:
            self._row(key)[1] += chunk

    @rule(pick=st.integers(0, 50), amount=st.one_of(st.none(), QTY))
    def release(self, pick: int, amount: int | None) -> None:
        if not self.reservations:
            return
        pk = sorted(self.reservations)[pick % len(self.reservations)]
        key, open_ = self.reservations[pk]
        reservation = Reservation.objects.get(pk=pk)

        def call() -> Any:
            return services.release(
                reservation=reservation, quantity=amount, actor=self.world.admin
            )

        if open_ == 0 or (amount is not None and amount > open_):
            from chainstore.core.errors import ValidationFailed

            self._refused(call, ValidationFailed)
            return
        call()
        taken = open_ if amount is None else amount
        self.reservations[pk] = (key, open_ - taken)
        self._row(key)[1] -= taken

    @rule(lot=st.integers(0, 2))
    def expire_lot(self, lot: int) -> None:
        number = LOTS[lot]
        row = Lot.objects.filter(sku=self.world.skus[2], number=number).first()
        if row is None:
            return
        past = self.world.today - dt.timedelta(days=lot + 1)  # distinct: no FEFO ties
        services.correct_lot_expiry(lot=row, expiry_date=past, actor=self.world.admin)
        self.expiry[number] = past

    @rule(site=st.integers(0, 1))
    def write_off(self, site: int) -> None:
        s = self.world.sites[site]
        site_locs = {loc.pk for loc in [self.world.recv[s.pk], *self.world.issuable[s.pk]]}
        expired = [
            key
            for key in self.stock
            if key[0] in site_locs
            and key[2]
            and self.expiry[key[2]] < self.world.today
            and self._avail(key) > 0
        ]
        before = snapshot()
        op = services.write_off_expired(site=s, actor=self.world.admin)
        if not expired:
            assert op is None
            assert snapshot() == before
            return
        assert op is not None
        assert sorted(
            (m.from_location_id, m.lot.number, m.quantity) for m in op.moves.select_related("lot")
        ) == sorted((key[0], key[2], self._avail(key)) for key in expired)
        for key in expired:
            self._row(key)[0] = self._row(key)[1]

    # -- invariants ----------------------------------------------------------------
    @invariant()
    def ledger_verifies(self) -> None:
        assert verify_ledger() == []

    @invariant()
    def database_matches_model(self) -> None:
        actual = {
            (loc, sku, lot): [on_hand, reserved]
            for loc, sku, lot, on_hand, reserved in Balance.objects.values_list(
                "location_id", "sku_id", "lot__number", "on_hand", "reserved"
            )
            if on_hand or reserved
        }
        expected = {k: v for k, v in self.stock.items() if v[0] or v[1]}
        assert actual == expected
        assert all(on_hand >= reserved >= 0 for on_hand, reserved in actual.values())


def test_stock_state_machine(admin):
    StockMachine.world = build_world(admin)
    run_state_machine_as_test(
        StockMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
