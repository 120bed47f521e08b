import pytest

from chainstore.core.errors import ValidationFailed
from chainstore.core.testing import make_bin, make_site, stock
from chainstore.core.tests.helpers import on_hand, snapshot
from chainstore.inventory import services
from chainstore.inventory.errors import (
    ExpiredLot,
    ExpiryRequired,
    InvalidLocation,
    LotExpiryMismatch,
    LotNotTracked,
    LotRequired,
)
from chainstore.inventory.models import Lot, SiteSku, StockMove
from chainstore.inventory.services import ReceiptLine
from chainstore.inventory.tests.conftest import days
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


def test_receive_puts_stock_in_the_receiving_location(admin, warehouse, sku):
    op = stock(admin, warehouse, sku, 12_000, cost=1_500_000)

    assert on_hand(warehouse.receiving_location, sku) == 12_000
    (move,) = op.moves.all()
    assert move.from_location.kind == "supplier"
    assert move.to_location == warehouse.receiving_location
    assert move.quantity == 12_000
    assert move.unit_cost_micros == 1_500_000
    row = SiteSku.objects.get(site=warehouse, sku=sku)
    assert (row.on_hand, row.avg_cost_micros) == (12_000, 1_500_000)
    assert verify_ledger() == []


def test_receive_into_a_given_bin(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 3_000, location=bin_a)
    assert on_hand(bin_a, sku) == 3_000
    assert on_hand(warehouse.receiving_location, sku) == 0


def test_receive_without_cost_uses_standard_cost(admin, warehouse, sku):
    op = stock(admin, warehouse, sku, 1_000)
    assert op.moves.get().unit_cost_micros == sku.standard_cost_micros


def test_receive_lot_creates_lot_with_expiry(admin, warehouse, lot_sku, today):
    stock(admin, warehouse, lot_sku, 5_000, lot="L1", expiry=days(today, 20))

    lot = Lot.objects.get(sku=lot_sku, number="L1")
    assert lot.expiry_date == days(today, 20)
    assert lot.first_received_at is not None
    assert on_hand(warehouse.receiving_location, lot_sku, lot) == 5_000


def test_second_receipt_of_same_lot_adds_to_the_same_balance(admin, warehouse, lot_sku, today):
    stock(admin, warehouse, lot_sku, 5_000, lot="L1", expiry=days(today, 20))
    stock(admin, warehouse, lot_sku, 2_000, lot="L1", expiry=days(today, 20))
    stock(admin, warehouse, lot_sku, 1_000, lot="L1")  # expiry may be omitted once known

    lot = Lot.objects.get(sku=lot_sku, number="L1")
    assert on_hand(warehouse.receiving_location, lot_sku, lot) == 8_000
    assert Lot.objects.filter(sku=lot_sku).count() == 1


@pytest.mark.parametrize(
    ("kind", "lot", "expiry_days", "error"),
    [
        ("shelf_life", "L1", None, ExpiryRequired),
        ("shelf_life", None, 10, LotRequired),
        ("plain", "L1", None, LotNotTracked),
        ("shelf_life", "L1", -1, ExpiredLot),
    ],
)
def test_receive_refusals_change_nothing(
    admin, warehouse, sku, lot_sku, today, kind, lot, expiry_days, error
):
    target = lot_sku if kind == "shelf_life" else sku
    before = snapshot()
    expiry = days(today, expiry_days) if expiry_days is not None else None

    with pytest.raises(error):
        stock(admin, warehouse, target, 1_000, lot=lot, expiry=expiry)

    assert snapshot() == before


def test_receive_lot_with_a_different_expiry_is_refused(admin, warehouse, lot_sku, today):
    stock(admin, warehouse, lot_sku, 1_000, lot="L1", expiry=days(today, 20))
    before = snapshot()

    with pytest.raises(LotExpiryMismatch) as exc:
        stock(admin, warehouse, lot_sku, 1_000, lot="L1", expiry=days(today, 21))

    assert exc.value.details["recorded"] == str(days(today, 20))
    assert snapshot() == before


def test_expiring_today_is_still_receivable(admin, warehouse, lot_sku, today):
    stock(admin, warehouse, lot_sku, 1_000, lot="L0", expiry=today)
    assert on_hand(warehouse.receiving_location, lot_sku, Lot.objects.get(number="L0")) == 1_000


@pytest.mark.parametrize("quantity", [0, -5])
def test_receive_non_positive_quantity_is_refused(admin, warehouse, sku, quantity):
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        stock(admin, warehouse, sku, quantity)
    assert exc.value.code == "invalid_quantity"
    assert snapshot() == before


def test_receive_into_another_sites_bin_is_refused(admin, warehouse, store, sku):
    other_bin = make_bin(admin, store)
    before = snapshot()
    with pytest.raises(InvalidLocation):
        stock(admin, warehouse, sku, 1_000, location=other_bin)
    assert snapshot() == before


def test_empty_receipt_is_refused(admin, warehouse):
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        services.receive(site=warehouse, lines=[], actor=admin)
    assert exc.value.code == "empty_document"
    assert snapshot() == before


def test_one_bad_line_rolls_back_the_whole_receipt(admin, warehouse, sku, lot_sku):
    before = snapshot()
    with pytest.raises(ExpiryRequired):
        services.receive(
            site=warehouse,
            actor=admin,
            lines=[
                ReceiptLine(sku=sku, quantity=1_000),
                ReceiptLine(sku=lot_sku, quantity=1_000, lot_number="NOEXP"),
            ],
        )
    assert snapshot() == before


def test_moving_average_cost_across_receipts(admin, warehouse, sku):
    # 10 @ ¥2 then 30 @ ¥3 -> (20 + 90) / 40 = ¥2.75
    stock(admin, warehouse, sku, 10_000, cost=2_000_000, location=warehouse.stock_location)
    stock(admin, warehouse, sku, 30_000, cost=3_000_000, location=warehouse.stock_location)

    assert SiteSku.objects.get(site=warehouse, sku=sku).avg_cost_micros == 2_750_000
    op = services.issue(site=warehouse, sku=sku, quantity=4_000, actor=admin)
    assert op.moves.get().unit_cost_micros == 2_750_000
    # issuing does not change the average
    assert SiteSku.objects.get(site=warehouse, sku=sku).avg_cost_micros == 2_750_000


def test_average_cost_is_per_site(admin, warehouse, sku):
    other = make_site(admin, "rdc")
    stock(admin, warehouse, sku, 1_000, cost=2_000_000)
    stock(admin, other, sku, 1_000, cost=5_000_000)
    costs = dict(SiteSku.objects.filter(sku=sku).values_list("site_id", "avg_cost_micros"))
    assert costs == {warehouse.pk: 2_000_000, other.pk: 5_000_000}


def test_average_restarts_after_stock_runs_out(admin, warehouse, sku):
    loc = warehouse.stock_location
    stock(admin, warehouse, sku, 1_000, cost=2_000_000, location=loc)
    services.issue(site=warehouse, sku=sku, quantity=1_000, actor=admin)
    stock(admin, warehouse, sku, 1_000, cost=4_000_000, location=loc)
    assert SiteSku.objects.get(site=warehouse, sku=sku).avg_cost_micros == 4_000_000
    assert StockMove.objects.filter(sku=sku).count() == 3
