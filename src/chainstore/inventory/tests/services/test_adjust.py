import pytest

from chainstore.core.errors import InsufficientStock, ValidationFailed
from chainstore.core.testing import stock
from chainstore.core.tests.helpers import on_hand, snapshot
from chainstore.inventory import services
from chainstore.inventory.errors import LotRequired
from chainstore.inventory.models import Lot, SiteSku
from chainstore.inventory.tests.conftest import days
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


def test_gain_comes_from_the_loss_gain_location(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 1_000, cost=3_000_000, location=bin_a)
    op = services.adjust(location=bin_a, sku=sku, delta=500, reason="found", actor=admin)

    move = op.moves.get()
    assert (move.from_location.kind, move.to_location, move.quantity) == ("adjustment", bin_a, 500)
    assert move.unit_cost_micros == 3_000_000  # valued at the site's average
    assert on_hand(bin_a, sku) == 1_500
    assert SiteSku.objects.get(site=warehouse, sku=sku).on_hand == 1_500
    assert verify_ledger() == []


def test_loss_goes_to_the_loss_gain_location(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 1_000, location=bin_a)
    op = services.adjust(location=bin_a, sku=sku, delta=-400, reason="damage", actor=admin)

    move = op.moves.get()
    assert (move.from_location, move.to_location.kind, move.quantity) == (bin_a, "adjustment", 400)
    assert on_hand(bin_a, sku) == 600
    assert verify_ledger() == []


def test_loss_beyond_available_is_refused(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 1_000, location=bin_a)
    services.reserve(site=warehouse, sku=sku, quantity=300, actor=admin)
    before = snapshot()

    with pytest.raises(InsufficientStock):
        services.adjust(location=bin_a, sku=sku, delta=-701, reason="loss", actor=admin)

    assert snapshot() == before
    services.adjust(location=bin_a, sku=sku, delta=-700, reason="loss", actor=admin)
    assert on_hand(bin_a, sku) == 300


def test_loss_where_nothing_is_stocked_is_refused(admin, warehouse, sku, bin_a):
    before = snapshot()
    with pytest.raises(InsufficientStock):
        services.adjust(location=bin_a, sku=sku, delta=-1, reason="loss", actor=admin)
    assert snapshot() == before


def test_lot_adjustment(admin, warehouse, lot_sku, bin_a, today):
    stock(admin, warehouse, lot_sku, 1_000, lot="L1", expiry=days(today, 9), location=bin_a)
    services.adjust(
        location=bin_a, sku=lot_sku, delta=-200, reason="damage", lot_number="L1", actor=admin
    )
    assert on_hand(bin_a, lot_sku, Lot.objects.get(number="L1")) == 800


@pytest.mark.parametrize(
    ("delta", "reason", "lot", "error", "code"),
    [
        (0, "found", None, ValidationFailed, "invalid_quantity"),
        (5, "because", None, ValidationFailed, "invalid_reason"),
        (5, "found", None, LotRequired, "lot_required"),
    ],
)
def test_adjust_refusals_change_nothing(
    admin, warehouse, lot_sku, bin_a, delta, reason, lot, error, code
):
    before = snapshot()
    with pytest.raises(error) as exc:
        services.adjust(
            location=bin_a, sku=lot_sku, delta=delta, reason=reason, lot_number=lot, actor=admin
        )
    assert exc.value.code == code
    assert snapshot() == before
