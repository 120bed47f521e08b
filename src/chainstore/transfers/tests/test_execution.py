"""Execution at the source: reserve at approval, pick by scan, ship into transit with a label,
freight allocation, replays, cancel, permissions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.inventory.models import Balance, Reservation, ReservationStatus, StockMove
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.models import LocationKind
from chainstore.sites.services import outbound_location
from chainstore.transfers.models import TransferEvent, TransferLine, TransferLot, TransferStatus
from chainstore.transfers.services import execution, requests
from chainstore.transfers.tests.test_execution_support import (
    U,
    assert_conserved,
    barcode,
    build_world,
    moved,
    on_hand,
    pick_all,
    ship,
    shipped,
)


@pytest.fixture
def world(admin):
    return build_world(admin)


def _open_reserved(world, sku):
    return sum(
        Reservation.objects.filter(
            site=world.warehouse, sku=sku, status=ReservationStatus.ACTIVE
        ).values_list("open_quantity", flat=True)
    )


def test_approval_reserves_what_the_source_has_fefo(world):
    transfer = world.transfer((world.rice, 30 * U), (world.milk, 8 * U), (world.oil, 60 * U))

    lots = {
        (t.line.sku_id, t.lot.number if t.lot else None): t.quantity
        for t in TransferLot.objects.filter(line__transfer=transfer)
    }
    assert transfer.status == TransferStatus.APPROVED
    assert lots == {
        (world.rice.pk, None): 30 * U,
        (world.milk.pk, "L1"): 6 * U,  # first expiry first
        (world.milk.pk, "L2"): 2 * U,
        (world.oil.pk, None): 50 * U,  # short: all there is
    }
    assert _open_reserved(world, world.oil) == 50 * U
    assert TransferEvent.objects.filter(transfer=transfer, kind="reserved").count() == 1
    assert verify_ledger() == []


def test_a_line_with_nothing_available_stays_unreserved(world):
    first = world.transfer((world.oil, 50 * U))
    second = world.transfer((world.oil, 5 * U), (world.rice, 1 * U))

    assert TransferLot.objects.filter(line__transfer=first).count() == 1
    assert not TransferLot.objects.filter(line__transfer=second, line__sku=world.oil).exists()
    assert TransferLot.objects.filter(line__transfer=second, line__sku=world.rice).exists()


def test_pick_list_follows_bins_and_pick_moves_to_outbound(world):
    transfer = world.transfer((world.rice, 3 * U), (world.oil, 2 * U))
    parts = execution.pick_list(transfer)
    assert sorted(p.location.code for p in parts) == sorted([world.bin_a.code, world.bin_b.code])

    pick_all(world, transfer)

    staging = outbound_location(world.warehouse)
    assert Balance.objects.get(location=staging, sku=world.rice).on_hand == 3 * U
    assert Balance.objects.get(location=world.bin_a, sku=world.rice).on_hand == 97 * U
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PICKING
    assert verify_ledger() == []


@pytest.mark.parametrize(
    ("bin_scan", "item", "lot", "code"),
    [
        ("NOPE", "milk", "L1", "wrong_bin"),
        (None, "rice", "L1", "wrong_item"),
        (None, "milk", "", "lot_required"),
        (None, "milk", "L2", "wrong_lot"),
    ],
)
def test_pick_scans_are_checked_and_refusals_change_nothing(world, bin_scan, item, lot, code):
    transfer = world.transfer((world.milk, 2 * U))
    part = execution.pick_list(transfer)[0]
    before = StockMove.objects.count()

    with pytest.raises(DomainError) as exc:
        execution.pick(
            transfer_lot=part,
            actor=world.op,
            bin_scan=bin_scan or part.location.code,
            item_scan=barcode(getattr(world, item)),
            lot_scan=lot,
            quantity=1 * U,
            idempotency_key="k1",
        )

    assert exc.value.code == code
    assert StockMove.objects.count() == before
    part.refresh_from_db()
    assert part.picked == 0


def test_pick_accepts_a_gs1_scan_with_the_lot(world):
    transfer = world.transfer((world.milk, 2 * U))
    part = execution.pick_list(transfer)[0]
    gtin = barcode(world.milk).zfill(14)

    execution.pick(
        transfer_lot=part,
        actor=world.op,
        bin_scan=part.location.code,
        item_scan=f"01{gtin}10L1",
        quantity=2 * U,
        idempotency_key="gs1",
    )

    part.refresh_from_db()
    assert part.picked == 2 * U


def test_pick_over_the_reservation_is_refused(world):
    transfer = world.transfer((world.rice, 2 * U))
    part = execution.pick_list(transfer)[0]
    with pytest.raises(DomainError) as exc:
        execution.pick(
            transfer_lot=part,
            actor=world.op,
            bin_scan=part.location.code,
            item_scan=barcode(world.rice),
            quantity=3 * U,
            idempotency_key="k",
        )
    assert exc.value.code == "over_quantity"


def test_a_replayed_pick_moves_nothing(world):
    transfer = world.transfer((world.rice, 4 * U))
    part = execution.pick_list(transfer)[0]
    kwargs = dict(
        transfer_lot=part,
        actor=world.op,
        bin_scan=part.location.code,
        item_scan=barcode(world.rice),
        quantity=1 * U,
        idempotency_key="same",
    )
    first = execution.pick(**kwargs)
    moves = StockMove.objects.count()

    again = execution.pick(**kwargs)

    assert not first.replayed and again.replayed
    assert StockMove.objects.count() == moves
    part.refresh_from_db()
    assert part.picked == 1 * U


def test_ship_posts_picked_stock_into_transit_with_a_label(world):
    transfer = world.transfer((world.rice, 10 * U), (world.milk, 8 * U))
    pick_all(world, transfer)

    done = ship(world, transfer)

    assert done.status == TransferStatus.IN_TRANSIT and done.tracking_number.startswith("SIM")
    assert done.label and done.shipped_at is not None
    assert moved(done, to_location__kind=LocationKind.TRANSIT) == 18 * U
    rice = done.lines.get(sku=world.rice)
    assert (rice.shipped, rice.unit_cost_micros) == (10 * U, 5_000_000)
    assert on_hand(world.warehouse, world.rice) == 90 * U
    assert (
        Balance.objects.get(location=outbound_location(world.warehouse), sku=world.rice).on_hand
        == 0
    )
    event = TransferEvent.objects.get(transfer=done, kind="shipped")
    assert event.data["tracking_number"] == done.tracking_number
    assert_conserved(done)
    assert verify_ledger() == []


def test_ship_what_you_have_releases_the_unpicked_rest(world):
    transfer = world.transfer((world.rice, 10 * U))
    pick_all(world, transfer, leave=4 * U)

    done = ship(world, transfer)

    line = done.lines.get()
    assert (line.quantity, line.shipped) == (10 * U, 6 * U)  # shipped short at source
    assert _open_reserved(world, world.rice) == 0
    assert Balance.objects.get(location=world.bin_a, sku=world.rice).reserved == 0
    assert verify_ledger() == []


def test_a_replayed_ship_books_no_second_label_and_moves_nothing(world):
    transfer = world.transfer((world.rice, 2 * U))
    pick_all(world, transfer)
    first = ship(world, transfer, idempotency_key="ship-1")
    moves = StockMove.objects.count()

    again = ship(world, transfer, idempotency_key="ship-1")

    assert not first.replayed and again.replayed
    assert again.tracking_number == first.tracking_number
    assert StockMove.objects.count() == moves


def test_ship_with_nothing_picked_is_refused(world):
    transfer = world.transfer((world.rice, 2 * U))
    with pytest.raises(DomainError) as exc:
        ship(world, transfer)
    assert exc.value.code == "nothing_to_ship"


def test_a_failing_carrier_ships_nothing(world, monkeypatch):
    from chainstore.integrations.carriers import CarrierError
    from chainstore.integrations.carriers.simulated import SimulatedCarrier

    def fail(self, parcel):
        raise CarrierError("down", code="unavailable")

    monkeypatch.setattr(SimulatedCarrier, "create_label", fail)
    transfer = world.transfer((world.rice, 2 * U))
    pick_all(world, transfer)
    moves = StockMove.objects.count()
    with pytest.raises(DomainError) as exc:
        ship(world, transfer)
    assert exc.value.code == "carrier_failed"
    assert StockMove.objects.count() == moves
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PICKING and transfer.tracking_number is None


@pytest.mark.parametrize(
    ("basis", "expected_basis", "expected"),
    [
        # rice 10 x 1000 g = 10000, oil 5 x 900 g = 4500 -> 12000 fen by 10000:4500
        ("weight", "weight", {"rice": 8276, "oil": 3724}),
        # rice 10 x 2000 cm3, oil 5 x 1200 -> 20000:6000
        ("volume", "volume", {"rice": 9231, "oil": 2769}),
        # rice 10 x 5.00 = 50, oil 5 x 20.00 = 100 -> 1:2
        ("value", "value", {"rice": 4000, "oil": 8000}),
    ],
)
def test_freight_is_allocated_by_basis_and_adds_up(world, basis, expected_basis, expected):
    done = shipped(world, (world.rice, 10 * U), (world.oil, 5 * U), cost_basis=basis)

    parts = {ln.sku_id: ln.allocated_cost_fen for ln in done.lines.all()}
    assert done.cost_basis == expected_basis
    assert parts == {world.rice.pk: expected["rice"], world.oil.pk: expected["oil"]}
    assert sum(parts.values()) == 12_000


def test_weight_missing_falls_back_to_value(world, admin):
    from chainstore.catalog.models import Sku

    Sku.objects.filter(pk=world.oil.pk).update(weight_g=None)
    done = shipped(world, (world.rice, 10 * U), (world.oil, 5 * U), cost_basis="weight")
    assert done.cost_basis == "value"
    assert (
        TransferEvent.objects.get(transfer=done, kind="shipped").data["requested_basis"] == "weight"
    )


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=8),
)
def test_largest_remainder_parts_add_up_exactly(total, weights):
    lines = [TransferLine(quantity=1, shipped=w, unit_cost_micros=1) for w in weights]
    _basis, parts = execution.allocate_costs(lines, total, "value")
    assert sum(parts) == (total if any(weights) else 0)
    assert all(p >= 0 for p in parts)
    big = sum(weights)
    if big:
        assert all(abs(p - total * w / big) < 1 for p, w in zip(parts, weights, strict=True))


def test_cancel_releases_reservations_and_puts_picked_stock_back(world):
    transfer = world.transfer((world.rice, 10 * U), (world.oil, 5 * U))
    part = next(p for p in execution.pick_list(transfer) if p.line.sku_id == world.rice.pk)
    execution.pick(
        transfer_lot=part,
        actor=world.op,
        bin_scan=part.location.code,
        item_scan=barcode(world.rice),
        quantity=4 * U,
        idempotency_key="c1",
    )

    requests.cancel_transfer(transfer, actor=world.sm)

    assert Balance.objects.get(location=world.bin_a, sku=world.rice).on_hand == 100 * U
    assert _open_reserved(world, world.rice) == 0 and _open_reserved(world, world.oil) == 0
    assert (
        Balance.objects.get(location=outbound_location(world.warehouse), sku=world.rice).on_hand
        == 0
    )
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED
    assert verify_ledger() == []


def test_destination_staff_cannot_pick_or_ship(world):
    transfer = world.transfer((world.rice, 2 * U))
    part = execution.pick_list(transfer)[0]
    with pytest.raises(PermissionDenied):
        execution.pick(
            transfer_lot=part,
            actor=world.sm,
            bin_scan=part.location.code,
            item_scan=barcode(world.rice),
            quantity=1 * U,
            idempotency_key="x",
        )
    pick_all(world, transfer)
    moves = StockMove.objects.count()
    with pytest.raises(PermissionDenied):
        execution.ship(
            transfer=transfer,
            actor=world.sm,
            freight_fen=0,
            handling_fen=0,
            cost_basis="weight",
            idempotency_key="s",
        )
    assert StockMove.objects.count() == moves
