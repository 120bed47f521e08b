import pytest

from chainstore.core.errors import InsufficientStock, ValidationFailed
from chainstore.core.testing import make_bin, stock
from chainstore.core.tests.helpers import on_hand, snapshot
from chainstore.inventory import services
from chainstore.inventory.errors import ExpiredLot
from chainstore.inventory.models import Lot, SiteSku
from chainstore.inventory.tests.conftest import days
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


def _taken(op):
    return sorted((m.lot.number if m.lot else None, m.quantity) for m in op.moves.all())


def test_issue_plain_sku_to_customer(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 5_000, location=bin_a)
    op = services.issue(site=warehouse, sku=sku, quantity=2_000, actor=admin)

    move = op.moves.get()
    assert (move.from_location, move.to_location.kind, move.quantity) == (bin_a, "customer", 2_000)
    assert on_hand(bin_a, sku) == 3_000
    assert SiteSku.objects.get(site=warehouse, sku=sku).on_hand == 3_000
    assert verify_ledger() == []


def test_issue_takes_first_expiry_first_across_bins(admin, warehouse, lot_sku, today):
    bin_1, bin_2 = make_bin(admin, warehouse), make_bin(admin, warehouse)
    stock(admin, warehouse, lot_sku, 3_000, lot="L20", expiry=days(today, 20), location=bin_1)
    stock(admin, warehouse, lot_sku, 1_000, lot="L10", expiry=days(today, 10), location=bin_2)
    stock(admin, warehouse, lot_sku, 2_000, lot="L15", expiry=days(today, 15), location=bin_1)

    op = services.issue(site=warehouse, sku=lot_sku, quantity=4_000, actor=admin)

    assert _taken(op) == [("L10", 1_000), ("L15", 2_000), ("L20", 1_000)]
    assert on_hand(bin_1, lot_sku, Lot.objects.get(number="L20")) == 2_000
    assert verify_ledger() == []


def test_issue_without_expiry_is_fifo_by_first_receipt(admin, warehouse, fifo_sku):
    loc = warehouse.stock_location
    stock(admin, warehouse, fifo_sku, 1_000, lot="ZZZ-OLDEST", location=loc)
    stock(admin, warehouse, fifo_sku, 1_000, lot="AAA-NEWER", location=loc)
    stock(admin, warehouse, fifo_sku, 1_000, lot="MMM-NEWEST", location=loc)

    first = services.issue(site=warehouse, sku=fifo_sku, quantity=1_500, actor=admin)
    assert _taken(first) == [("AAA-NEWER", 500), ("ZZZ-OLDEST", 1_000)]


def test_same_expiry_falls_back_to_first_receipt(admin, warehouse, lot_sku, today):
    loc = warehouse.stock_location
    stock(admin, warehouse, lot_sku, 1_000, lot="B-FIRST", expiry=days(today, 9), location=loc)
    stock(admin, warehouse, lot_sku, 1_000, lot="A-SECOND", expiry=days(today, 9), location=loc)

    op = services.issue(site=warehouse, sku=lot_sku, quantity=1_000, actor=admin)
    assert _taken(op) == [("B-FIRST", 1_000)]


def test_issue_skips_expired_lots(admin, warehouse, lot_sku, today):
    loc = warehouse.stock_location
    stock(admin, warehouse, lot_sku, 1_000, lot="OLD", expiry=days(today, 1), location=loc)
    stock(admin, warehouse, lot_sku, 1_000, lot="NEW", expiry=days(today, 30), location=loc)
    old = Lot.objects.get(number="OLD")
    services.correct_lot_expiry(lot=old, expiry_date=days(today, -1), actor=admin)

    op = services.issue(site=warehouse, sku=lot_sku, quantity=1_000, actor=admin)

    assert _taken(op) == [("NEW", 1_000)]
    assert on_hand(loc, lot_sku, old) == 1_000


def test_expired_lot_is_never_issued_even_when_it_is_the_only_stock(
    admin, warehouse, lot_sku, today
):
    loc = warehouse.stock_location
    stock(admin, warehouse, lot_sku, 5_000, lot="OLD", expiry=days(today, 1), location=loc)
    old = Lot.objects.get(number="OLD")
    services.correct_lot_expiry(lot=old, expiry_date=days(today, -1), actor=admin)
    before = snapshot()

    with pytest.raises(InsufficientStock) as exc:
        services.issue(site=warehouse, sku=lot_sku, quantity=1_000, actor=admin)
    assert exc.value.status == 409
    assert exc.value.details["available"] == "0.000"
    assert snapshot() == before

    with pytest.raises(ExpiredLot):
        services.issue(site=warehouse, sku=lot_sku, quantity=1_000, lot=old, actor=admin)
    assert snapshot() == before


def test_issue_follows_corrected_expiry(admin, warehouse, lot_sku, today):
    loc = warehouse.stock_location
    stock(admin, warehouse, lot_sku, 1_000, lot="A", expiry=days(today, 10), location=loc)
    stock(admin, warehouse, lot_sku, 1_000, lot="B", expiry=days(today, 20), location=loc)
    services.correct_lot_expiry(
        lot=Lot.objects.get(number="B"), expiry_date=days(today, 5), actor=admin
    )

    op = services.issue(site=warehouse, sku=lot_sku, quantity=1_000, actor=admin)
    assert _taken(op) == [("B", 1_000)]


def test_issue_named_lot(admin, warehouse, lot_sku, today):
    loc = warehouse.stock_location
    stock(admin, warehouse, lot_sku, 1_000, lot="A", expiry=days(today, 10), location=loc)
    stock(admin, warehouse, lot_sku, 1_000, lot="B", expiry=days(today, 20), location=loc)
    op = services.issue(
        site=warehouse, sku=lot_sku, quantity=700, lot=Lot.objects.get(number="B"), actor=admin
    )
    assert _taken(op) == [("B", 700)]


def test_issue_does_not_take_from_receiving(admin, warehouse, sku):
    stock(admin, warehouse, sku, 5_000)  # still in RECV, not put away
    before = snapshot()
    with pytest.raises(InsufficientStock):
        services.issue(site=warehouse, sku=sku, quantity=1_000, actor=admin)
    assert snapshot() == before


def test_issue_more_than_available_is_refused_and_changes_nothing(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 2_000, location=bin_a)
    stock(admin, warehouse, sku, 1_000, location=warehouse.stock_location)
    before = snapshot()

    with pytest.raises(InsufficientStock) as exc:
        services.issue(site=warehouse, sku=sku, quantity=3_001, actor=admin)

    assert exc.value.code == "insufficient_stock"
    assert exc.value.details["requested"] == "3.001"
    assert exc.value.details["available"] == "3.000"
    assert snapshot() == before


def test_issue_from_a_given_location_only(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 2_000, location=bin_a)
    stock(admin, warehouse, sku, 1_000, location=warehouse.stock_location)
    before = snapshot()
    with pytest.raises(InsufficientStock):
        services.issue(
            site=warehouse, sku=sku, quantity=1_500, location=warehouse.stock_location, actor=admin
        )
    assert snapshot() == before
    services.issue(site=warehouse, sku=sku, quantity=1_500, location=bin_a, actor=admin)
    assert on_hand(bin_a, sku) == 500


def test_issue_lot_of_another_sku_is_refused(admin, warehouse, sku, lot_sku, today):
    stock(admin, warehouse, lot_sku, 1_000, lot="A", expiry=days(today, 10))
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        services.issue(
            site=warehouse, sku=sku, quantity=1, lot=Lot.objects.get(number="A"), actor=admin
        )
    assert exc.value.code == "lot_sku_mismatch"
    assert snapshot() == before
