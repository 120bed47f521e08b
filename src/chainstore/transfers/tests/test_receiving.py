"""Receiving at the destination and resolving discrepancies: stock conserved on every path,
landed cost in the moving average, replays, permissions, and a property test over random
receive/resolve sequences."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.core.quantities import weighted_average_micros
from chainstore.core.testing import stock
from chainstore.inventory.models import Balance, Lot, StockMove
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.models import Location, LocationKind
from chainstore.transfers.models import Discrepancy, TransferStatus
from chainstore.transfers.services.receiving import (
    ReceiveLine,
    landed_unit_cost,
    receive,
    resolve,
)
from chainstore.transfers.tests.test_execution_support import (
    U,
    assert_conserved,
    avg_cost,
    build_world,
    moved,
    on_hand,
    shipped,
)

_keys = itertools.count(1)


@pytest.fixture
def world(admin):
    return build_world(admin)


def _receive(world, transfer, *counts, final=True, actor=None, key=None):
    """counts: (sku, received, damaged[, lot number])"""
    lines = []
    for sku, received, damaged, *lot in counts:
        line = transfer.lines.get(sku=sku)
        lot_obj = Lot.objects.get(sku=sku, number=lot[0]) if lot else None
        lines.append(ReceiveLine(line=line, received=received, damaged=damaged, lot=lot_obj))
    return receive(
        transfer=transfer,
        actor=actor or world.sm,
        lines=lines,
        idempotency_key=key or f"r-{next(_keys)}",
        final=final,
    )


def _damaged_loc(site):
    return Location.objects.get(site=site, kind=LocationKind.DAMAGED)


def test_full_receipt_closes_and_lands_freight_in_the_moving_average(world):
    # The store already holds 10 rice at 6.00 yuan.
    stock(world.admin, world.store, world.rice, 10 * U, cost=6_000_000)
    t = shipped(world, (world.rice, 10 * U), (world.oil, 5 * U))
    rice = t.lines.get(sku=world.rice)
    landed = landed_unit_cost(rice)
    assert landed == 5_000_000 + (rice.allocated_cost_fen * 10_000 * 1000) // (10 * U)

    result = _receive(world, t, (world.rice, 10 * U, 0), (world.oil, 5 * U, 0))

    assert result.transfer.status == TransferStatus.CLOSED and not result.discrepancies
    assert avg_cost(world.store, world.rice) == weighted_average_micros(
        10 * U, 6_000_000, 10 * U, landed
    )
    assert avg_cost(world.store, world.rice) == (10 * U * 6_000_000 + 10 * U * landed + 10 * U) // (
        20 * U
    )
    assert on_hand(world.store, world.rice) == 20 * U
    assert world.store.receiving_location.balances.get(sku=world.oil).on_hand == 5 * U
    assert_conserved(result.transfer)
    assert verify_ledger() == []


def test_partial_receipts_then_final(world):
    t = shipped(world, (world.rice, 10 * U))

    first = _receive(world, t, (world.rice, 4 * U, 0), final=False)
    assert first.transfer.status == TransferStatus.IN_TRANSIT and not first.discrepancies
    second = _receive(world, t, (world.rice, 6 * U, 0))

    assert second.transfer.status == TransferStatus.CLOSED
    assert t.lines.get().received == 10 * U
    assert_conserved(second.transfer)
    assert verify_ledger() == []


def test_a_replayed_receipt_moves_nothing(world):
    t = shipped(world, (world.rice, 10 * U))
    _receive(world, t, (world.rice, 4 * U, 0), final=False, key="same")
    moves = StockMove.objects.count()

    again = _receive(world, t, (world.rice, 4 * U, 0), final=False, key="same")

    assert again.replayed and StockMove.objects.count() == moves
    assert t.lines.get().received == 4 * U


def test_a_key_reused_for_another_receipt_is_refused(world):
    t = shipped(world, (world.rice, 10 * U))
    _receive(world, t, (world.rice, 4 * U, 0), final=False, key="k")
    with pytest.raises(DomainError) as exc:
        _receive(world, t, (world.rice, 5 * U, 0), final=False, key="k")
    assert exc.value.code == "idempotency_key_reused"


@pytest.mark.parametrize("resolution", ["write_off", "carrier_claim", "return_to_source"])
def test_short_is_resolved_and_stock_conserved(world, resolution):
    t = shipped(world, (world.rice, 10 * U))
    source_before = on_hand(world.warehouse, world.rice)

    result = _receive(world, t, (world.rice, 7 * U, 0))

    short = result.discrepancies[0]
    assert (short.kind, short.quantity) == ("short", 3 * U)
    assert result.transfer.status == TransferStatus.RECEIVED
    assert t.lines.get().in_transit == 3 * U  # still in transit until resolved
    claim = 1500 if resolution == "carrier_claim" else 0
    done = resolve(discrepancy=short, actor=world.sm, resolution=resolution, claim_fen=claim)

    assert done.resolution == resolution and done.claim_fen == claim
    t.refresh_from_db()
    assert t.status == TransferStatus.CLOSED
    line = t.lines.get()
    assert (line.received, line.resolved, line.in_transit) == (7 * U, 3 * U, 0)
    back = 3 * U if resolution == "return_to_source" else 0
    assert on_hand(world.warehouse, world.rice) == source_before + back
    lost = moved(t, from_location__kind="transit", to_location__kind="adjustment")
    assert lost == 3 * U - back
    assert_conserved(t)
    assert verify_ledger() == []


@pytest.mark.parametrize("resolution", ["write_off", "carrier_claim"])
def test_damaged_goes_to_the_damaged_location_then_scrap(world, resolution):
    t = shipped(world, (world.rice, 10 * U))

    result = _receive(world, t, (world.rice, 8 * U, 2 * U))

    damaged = result.discrepancies[0]
    assert (damaged.kind, damaged.quantity) == ("damaged", 2 * U)
    place = _damaged_loc(world.store)
    assert Balance.objects.get(location=place, sku=world.rice).on_hand == 2 * U
    assert result.transfer.status == TransferStatus.RECEIVED
    resolve(discrepancy=damaged, actor=world.sm, resolution=resolution)
    t.refresh_from_db()
    assert t.status == TransferStatus.CLOSED
    assert Balance.objects.get(location=place, sku=world.rice).on_hand == 0
    assert moved(t, to_location__kind="scrap") == 2 * U
    assert on_hand(world.store, world.rice) == 8 * U
    assert_conserved(t)
    assert verify_ledger() == []


@pytest.mark.parametrize("resolution", ["accept", "return_to_source"])
def test_over_is_a_gain_then_accepted_or_returned(world, resolution):
    t = shipped(world, (world.rice, 10 * U))
    source_before = on_hand(world.warehouse, world.rice)

    result = _receive(world, t, (world.rice, 12 * U, 0))

    over = result.discrepancies[0]
    assert (over.kind, over.quantity) == ("over", 2 * U)
    assert t.lines.get().received == 10 * U  # the line counts only what was shipped
    assert on_hand(world.store, world.rice) == 12 * U
    assert moved(t, from_location__kind="adjustment") == 2 * U
    resolve(discrepancy=over, actor=world.sm, resolution=resolution)
    t.refresh_from_db()
    assert t.status == TransferStatus.CLOSED
    back = 2 * U if resolution == "return_to_source" else 0
    assert on_hand(world.store, world.rice) == 12 * U - back
    assert on_hand(world.warehouse, world.rice) == source_before + back
    assert_conserved(t)
    assert verify_ledger() == []


def test_lots_are_received_as_shipped(world):
    t = shipped(world, (world.milk, 8 * U))  # 6 of L1, 2 of L2

    _receive(world, t, (world.milk, 2 * U, 0, "L2"), final=False)
    _receive(world, t, (world.milk, 6 * U, 0))

    recv = world.store.receiving_location
    held = {b.lot.number: b.on_hand for b in Balance.objects.filter(location=recv, sku=world.milk)}
    assert held == {"L1": 6 * U, "L2": 2 * U}
    t.refresh_from_db()
    assert t.status == TransferStatus.CLOSED
    assert verify_ledger() == []


def test_goods_arriving_after_a_short_shrink_it(world):
    t = shipped(world, (world.rice, 10 * U))
    _receive(world, t, (world.rice, 7 * U, 0))

    _receive(world, t, (world.rice, 2 * U, 0))

    short = Discrepancy.objects.get(line__transfer=t, kind="short")
    assert short.quantity == 1 * U
    assert t.lines.get().in_transit == 1 * U
    assert_conserved(t)


def test_resolving_twice_or_wrongly_is_refused(world):
    t = shipped(world, (world.rice, 10 * U))
    short = _receive(world, t, (world.rice, 9 * U, 0)).discrepancies[0]
    with pytest.raises(DomainError) as exc:
        resolve(discrepancy=short, actor=world.sm, resolution="accept")
    assert exc.value.code == "invalid_resolution"
    resolve(discrepancy=short, actor=world.sm, resolution="write_off")
    moves = StockMove.objects.count()
    with pytest.raises(DomainError) as exc:
        resolve(discrepancy=short, actor=world.sm, resolution="write_off")
    assert exc.value.code == "already_resolved" and StockMove.objects.count() == moves


def test_source_staff_cannot_receive_or_resolve(world):
    t = shipped(world, (world.rice, 10 * U))
    with pytest.raises(PermissionDenied):
        _receive(world, t, (world.rice, 10 * U, 0), actor=world.op)
    assert t.lines.get().received == 0
    short = _receive(world, t, (world.rice, 9 * U, 0)).discrepancies[0]
    with pytest.raises(PermissionDenied):
        resolve(discrepancy=short, actor=world.wm, resolution="write_off")


# -- property: random receive/resolve sequences ------------------------------------------------
step = st.one_of(
    st.tuples(
        st.just("receive"),
        st.integers(0, 6),
        st.integers(0, 3),
        st.booleans(),
    ),
    st.tuples(
        st.just("resolve"),
        st.integers(0, 5),
        st.sampled_from(["carrier_claim", "write_off", "return_to_source", "accept"]),
        st.just(False),
    ),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=8))
def test_random_receive_resolve_sequences_conserve_stock(django_db_blocker, steps):
    from django.db import transaction

    from chainstore.core.testing import make_user

    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world(make_user("admin"))
        t = shipped(world, (world.rice, 10 * U), (world.milk, 4 * U))
        for kind, a, b, flag in steps:
            try:
                if kind == "receive":
                    _receive(
                        world, t, (world.rice, a * U, b * U), (world.milk, b * U, 0), final=flag
                    )
                else:
                    open_ = list(Discrepancy.objects.filter(line__transfer=t, resolution=""))
                    if open_:
                        resolve(discrepancy=open_[a % len(open_)], actor=world.sm, resolution=b)
            except DomainError as exc:
                assert exc.code in {
                    "invalid_resolution",
                    "transfer_not_in_transit",
                    "nothing_to_receive",
                }, exc
            t.refresh_from_db()
            assert_conserved(t)
            assert verify_ledger() == []
            lines = list(t.lines.all())
            open_count = Discrepancy.objects.filter(line__transfer=t, resolution="").count()
            if t.status == TransferStatus.CLOSED:
                assert all(ln.in_transit == 0 for ln in lines) and open_count == 0
            if all(ln.in_transit == 0 for ln in lines) and open_count == 0:
                assert t.status == TransferStatus.CLOSED
        transaction.set_rollback(True)
