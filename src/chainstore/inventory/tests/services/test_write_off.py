import pytest

from chainstore.core.testing import stock
from chainstore.core.tests.helpers import on_hand, reserved, snapshot
from chainstore.inventory import services
from chainstore.inventory.models import Lot
from chainstore.inventory.tests.conftest import days
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


def _expire(admin, number, today):
    lot = Lot.objects.get(number=number)
    services.correct_lot_expiry(lot=lot, expiry_date=days(today, -1), actor=admin)
    return lot


def test_write_off_moves_expired_lots_to_scrap(admin, warehouse, lot_sku, bin_a, today):
    stock(admin, warehouse, lot_sku, 1_000, lot="OLD", expiry=days(today, 1), location=bin_a)
    stock(admin, warehouse, lot_sku, 2_000, lot="OK", expiry=days(today, 9), location=bin_a)
    old = _expire(admin, "OLD", today)

    op = services.write_off_expired(site=warehouse, actor=admin)

    assert op is not None
    move = op.moves.get()
    assert (move.lot, move.quantity, move.to_location.kind) == (old, 1_000, "scrap")
    assert on_hand(bin_a, lot_sku, old) == 0
    assert on_hand(bin_a, lot_sku, Lot.objects.get(number="OK")) == 2_000
    assert verify_ledger() == []


def test_write_off_keeps_reserved_units(admin, warehouse, lot_sku, bin_a, today):
    stock(admin, warehouse, lot_sku, 1_000, lot="OLD", expiry=days(today, 1), location=bin_a)
    services.reserve(site=warehouse, sku=lot_sku, quantity=300, actor=admin)
    old = _expire(admin, "OLD", today)

    services.write_off_expired(site=warehouse, actor=admin)

    assert (on_hand(bin_a, lot_sku, old), reserved(bin_a, lot_sku, old)) == (300, 300)
    assert verify_ledger() == []


def test_write_off_with_nothing_expired_records_nothing(admin, warehouse, lot_sku, today):
    stock(admin, warehouse, lot_sku, 1_000, lot="OK", expiry=days(today, 9))
    before = snapshot()
    assert services.write_off_expired(site=warehouse, actor=admin) is None
    assert snapshot() == before


def test_write_off_only_touches_its_site(admin, warehouse, store, lot_sku, today):
    stock(admin, warehouse, lot_sku, 1_000, lot="OLD", expiry=days(today, 1))
    _expire(admin, "OLD", today)
    before = snapshot()
    assert services.write_off_expired(site=store, actor=admin) is None
    assert snapshot() == before
