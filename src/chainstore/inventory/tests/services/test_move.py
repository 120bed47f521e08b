import pytest

from chainstore.core.errors import InsufficientStock, PermissionDenied
from chainstore.core.testing import make_bin, make_user, stock
from chainstore.core.tests.helpers import on_hand, snapshot
from chainstore.inventory import services
from chainstore.inventory.errors import InvalidLocation
from chainstore.inventory.models import Lot, SiteSku
from chainstore.inventory.tests.conftest import days
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


def test_put_away_moves_from_receiving_to_bin(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 5_000, cost=2_000_000)
    op = services.put_away(
        sku=sku,
        quantity=3_000,
        from_location=warehouse.receiving_location,
        to_location=bin_a,
        actor=admin,
    )

    assert op.kind == "putaway"
    assert on_hand(warehouse.receiving_location, sku) == 2_000
    assert on_hand(bin_a, sku) == 3_000
    move = op.moves.get()
    assert (move.quantity, move.unit_cost_micros) == (3_000, 2_000_000)
    # an internal move does not change the site total or its average cost
    row = SiteSku.objects.get(site=warehouse, sku=sku)
    assert (row.on_hand, row.avg_cost_micros) == (5_000, 2_000_000)
    assert verify_ledger() == []


def test_move_without_lot_takes_first_expiry_first(admin, warehouse, lot_sku, bin_a, today):
    recv = warehouse.receiving_location
    stock(admin, warehouse, lot_sku, 2_000, lot="LATE", expiry=days(today, 20))
    stock(admin, warehouse, lot_sku, 2_000, lot="EARLY", expiry=days(today, 5))

    op = services.move_stock(
        sku=lot_sku, quantity=3_000, from_location=recv, to_location=bin_a, actor=admin
    )

    taken = sorted((m.lot.number, m.quantity) for m in op.moves.all())
    assert taken == [("EARLY", 2_000), ("LATE", 1_000)]
    assert on_hand(bin_a, lot_sku, Lot.objects.get(number="EARLY")) == 2_000
    assert on_hand(recv, lot_sku, Lot.objects.get(number="LATE")) == 1_000
    assert verify_ledger() == []


def test_move_a_named_lot(admin, warehouse, lot_sku, bin_a, today):
    stock(admin, warehouse, lot_sku, 2_000, lot="LATE", expiry=days(today, 20))
    stock(admin, warehouse, lot_sku, 2_000, lot="EARLY", expiry=days(today, 5))
    late = Lot.objects.get(number="LATE")

    services.move_stock(
        sku=lot_sku,
        quantity=1_500,
        lot=late,
        from_location=warehouse.receiving_location,
        to_location=bin_a,
        actor=admin,
    )
    assert on_hand(bin_a, lot_sku, late) == 1_500


def test_cross_site_move_is_refused(admin, warehouse, store, sku):
    stock(admin, warehouse, sku, 1_000)
    before = snapshot()
    with pytest.raises(InvalidLocation) as exc:
        services.move_stock(
            sku=sku,
            quantity=1_000,
            from_location=warehouse.receiving_location,
            to_location=store.stock_location,
            actor=admin,
        )
    assert exc.value.code == "cross_site_move"
    assert snapshot() == before


def test_move_to_the_same_location_is_refused(admin, warehouse, sku):
    stock(admin, warehouse, sku, 1_000)
    before = snapshot()
    with pytest.raises(InvalidLocation) as exc:
        services.move_stock(
            sku=sku,
            quantity=1_000,
            from_location=warehouse.receiving_location,
            to_location=warehouse.receiving_location,
            actor=admin,
        )
    assert exc.value.code == "same_location"
    assert snapshot() == before


def test_move_more_than_on_hand_is_refused(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 1_000)
    before = snapshot()
    with pytest.raises(InsufficientStock):
        services.move_stock(
            sku=sku,
            quantity=1_001,
            from_location=warehouse.receiving_location,
            to_location=bin_a,
            actor=admin,
        )
    assert snapshot() == before


def test_move_reserved_units_is_refused(admin, warehouse, sku, bin_a, bin_b):
    stock(admin, warehouse, sku, 1_000, location=bin_a)
    services.reserve(site=warehouse, sku=sku, quantity=600, actor=admin)
    before = snapshot()
    with pytest.raises(InsufficientStock):
        services.move_stock(
            sku=sku, quantity=500, from_location=bin_a, to_location=bin_b, actor=admin
        )
    assert snapshot() == before
    services.move_stock(sku=sku, quantity=400, from_location=bin_a, to_location=bin_b, actor=admin)
    assert on_hand(bin_b, sku) == 400


def test_move_to_a_virtual_location_is_refused(admin, warehouse, sku):
    from chainstore.sites.services import virtual_location

    stock(admin, warehouse, sku, 1_000)
    before = snapshot()
    with pytest.raises(InvalidLocation):
        services.move_stock(
            sku=sku,
            quantity=1_000,
            from_location=warehouse.receiving_location,
            to_location=virtual_location("customer"),
            actor=admin,
        )
    assert snapshot() == before


def test_operator_of_another_site_cannot_move(admin, warehouse, store, sku):
    operator = make_user("warehouse_operator", sites=[store])
    stock(admin, warehouse, sku, 1_000)
    bin_ = make_bin(admin, warehouse)
    before = snapshot()
    with pytest.raises(PermissionDenied) as exc:
        services.move_stock(
            sku=sku,
            quantity=1_000,
            from_location=warehouse.receiving_location,
            to_location=bin_,
            actor=operator,
        )
    assert exc.value.code == "site_out_of_scope"
    assert snapshot() == before
