import pytest

from chainstore.core.errors import InsufficientStock, ValidationFailed
from chainstore.core.testing import stock
from chainstore.core.tests.helpers import on_hand, reserved, snapshot
from chainstore.inventory import services
from chainstore.inventory.models import Lot, Reservation, ReservationStatus
from chainstore.inventory.tests.conftest import days
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


def test_reserve_reduces_available_not_on_hand(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 1_000, location=bin_a)
    op = services.reserve(site=warehouse, sku=sku, quantity=600, reference="SO-1", actor=admin)

    (res,) = op.reservations.all()
    assert (res.quantity, res.open_quantity, res.status) == (600, 600, "active")
    assert (on_hand(bin_a, sku), reserved(bin_a, sku)) == (1_000, 600)
    assert op.moves.count() == 0
    assert verify_ledger() == []


def test_issue_cannot_take_reserved_units(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 1_000, location=bin_a)
    services.reserve(site=warehouse, sku=sku, quantity=600, actor=admin)
    before = snapshot()

    with pytest.raises(InsufficientStock) as exc:
        services.issue(site=warehouse, sku=sku, quantity=401, actor=admin)

    assert exc.value.details["available"] == "0.400"
    assert snapshot() == before
    services.issue(site=warehouse, sku=sku, quantity=400, actor=admin)
    assert (on_hand(bin_a, sku), reserved(bin_a, sku)) == (600, 600)


def test_reserve_beyond_available_is_refused(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 1_000, location=bin_a)
    services.reserve(site=warehouse, sku=sku, quantity=700, actor=admin)
    before = snapshot()
    with pytest.raises(InsufficientStock):
        services.reserve(site=warehouse, sku=sku, quantity=301, actor=admin)
    assert snapshot() == before


def test_reserve_picks_lots_fefo(admin, warehouse, lot_sku, today):
    loc = warehouse.stock_location
    stock(admin, warehouse, lot_sku, 1_000, lot="LATE", expiry=days(today, 30), location=loc)
    stock(admin, warehouse, lot_sku, 1_000, lot="SOON", expiry=days(today, 3), location=loc)
    op = services.reserve(site=warehouse, sku=lot_sku, quantity=1_500, actor=admin)
    got = sorted((r.lot.number, r.quantity) for r in op.reservations.all())
    assert got == [("LATE", 500), ("SOON", 1_000)]


def test_reserve_never_holds_an_expired_lot(admin, warehouse, lot_sku, today):
    loc = warehouse.stock_location
    stock(admin, warehouse, lot_sku, 1_000, lot="OLD", expiry=days(today, 1), location=loc)
    services.correct_lot_expiry(
        lot=Lot.objects.get(number="OLD"), expiry_date=days(today, -1), actor=admin
    )
    before = snapshot()
    with pytest.raises(InsufficientStock):
        services.reserve(site=warehouse, sku=lot_sku, quantity=1, actor=admin)
    assert snapshot() == before


def test_release_restores_available(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 1_000, location=bin_a)
    res = services.reserve(site=warehouse, sku=sku, quantity=600, actor=admin).reservations.get()

    services.release(reservation=res, quantity=200, actor=admin)
    res.refresh_from_db()
    assert (res.open_quantity, res.status, reserved(bin_a, sku)) == (400, "active", 400)

    services.release(reservation=res, actor=admin)
    res.refresh_from_db()
    assert (res.open_quantity, res.status, reserved(bin_a, sku)) == (0, "released", 0)
    services.issue(site=warehouse, sku=sku, quantity=1_000, actor=admin)
    assert on_hand(bin_a, sku) == 0
    assert verify_ledger() == []


def test_release_more_than_open_is_refused(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 1_000, location=bin_a)
    res = services.reserve(site=warehouse, sku=sku, quantity=600, actor=admin).reservations.get()
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        services.release(reservation=res, quantity=601, actor=admin)
    assert exc.value.code == "reservation_exceeded"
    assert snapshot() == before


def test_released_reservation_cannot_be_released_again(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 1_000, location=bin_a)
    res = services.reserve(site=warehouse, sku=sku, quantity=600, actor=admin).reservations.get()
    services.release(reservation=res, actor=admin)
    res = Reservation.objects.get(pk=res.pk)
    assert res.status == ReservationStatus.RELEASED
    before = snapshot()
    with pytest.raises(ValidationFailed):
        services.release(reservation=res, quantity=1, actor=admin)
    assert snapshot() == before
