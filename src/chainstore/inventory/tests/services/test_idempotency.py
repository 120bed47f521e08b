import pytest

from chainstore.core.errors import IdempotencyKeyReused, ValidationFailed
from chainstore.core.testing import stock
from chainstore.core.tests.helpers import on_hand, snapshot
from chainstore.inventory import services

pytestmark = pytest.mark.django_db


def test_receipt_replay_returns_the_first_operation(admin, warehouse, sku):
    first = stock(admin, warehouse, sku, 1_000, key="rcv-1")
    before = snapshot()

    again = stock(admin, warehouse, sku, 1_000, key="rcv-1")

    assert (first.replayed, again.replayed) == (False, True)
    assert again.pk == first.pk
    assert snapshot() == before
    assert on_hand(warehouse.receiving_location, sku) == 1_000


def test_issue_replay_moves_nothing(admin, warehouse, sku):
    stock(admin, warehouse, sku, 5_000, location=warehouse.stock_location)
    first = services.issue(
        site=warehouse, sku=sku, quantity=1_000, actor=admin, idempotency_key="k"
    )
    before = snapshot()
    again = services.issue(
        site=warehouse, sku=sku, quantity=1_000, actor=admin, idempotency_key="k"
    )
    assert again.pk == first.pk and again.replayed
    assert snapshot() == before
    assert on_hand(warehouse.stock_location, sku) == 4_000


def test_same_key_with_a_different_body_is_refused(admin, warehouse, sku):
    stock(admin, warehouse, sku, 5_000, location=warehouse.stock_location)
    services.issue(site=warehouse, sku=sku, quantity=1_000, actor=admin, idempotency_key="k")
    before = snapshot()

    with pytest.raises(IdempotencyKeyReused) as exc:
        services.issue(site=warehouse, sku=sku, quantity=2_000, actor=admin, idempotency_key="k")
    assert (exc.value.status, exc.value.code) == (409, "idempotency_key_reused")
    assert snapshot() == before

    with pytest.raises(IdempotencyKeyReused):  # the same key on another kind of write
        stock(admin, warehouse, sku, 1_000, key="k")
    assert snapshot() == before


def test_refused_write_does_not_burn_its_key(admin, warehouse, sku):
    loc = warehouse.stock_location
    from chainstore.core.errors import InsufficientStock

    with pytest.raises(InsufficientStock):
        services.issue(site=warehouse, sku=sku, quantity=1_000, actor=admin, idempotency_key="k")
    stock(admin, warehouse, sku, 1_000, location=loc)
    op = services.issue(site=warehouse, sku=sku, quantity=1_000, actor=admin, idempotency_key="k")
    assert op.replayed is False
    assert on_hand(loc, sku) == 0


@pytest.mark.parametrize("key", ["", "x" * 101])
def test_bad_key_is_refused(admin, warehouse, sku, key):
    before = snapshot()
    with pytest.raises(ValidationFailed) as exc:
        stock(admin, warehouse, sku, 1_000, key=key)
    assert exc.value.code == "invalid_idempotency_key"
    assert snapshot() == before


def test_reservation_and_adjustment_replays(admin, warehouse, sku, bin_a):
    stock(admin, warehouse, sku, 5_000, location=bin_a)
    r1 = services.reserve(site=warehouse, sku=sku, quantity=1_000, actor=admin, idempotency_key="r")
    a1 = services.adjust(
        location=bin_a, sku=sku, delta=-500, reason="loss", actor=admin, idempotency_key="a"
    )
    before = snapshot()
    r2 = services.reserve(site=warehouse, sku=sku, quantity=1_000, actor=admin, idempotency_key="r")
    a2 = services.adjust(
        location=bin_a, sku=sku, delta=-500, reason="loss", actor=admin, idempotency_key="a"
    )
    assert (r2.pk, a2.pk, r2.replayed, a2.replayed) == (r1.pk, a1.pk, True, True)
    assert snapshot() == before
