"""Concurrent returns of one receipt (PostgreSQL, real threads behind a barrier): never
more back than sold, refunds never more than paid, balances == ledger."""

import pytest

from chainstore.core.testing import make_user
from chainstore.inventory.tests.concurrency import run_together
from chainstore.inventory.verify import verify_ledger
from chainstore.pos.models import Sale, SaleLine, Tender
from chainstore.pos.services import shifts
from chainstore.pos.services.returns import OverReturn, ReturnLineInput, create_return
from chainstore.pos.tests.returns_world import add_sku, make_world, sell, threshold

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _world():
    admin = make_user("admin")
    world = make_world(admin)
    add_sku(world, "A", 8_000)
    add_sku(world, "B", 4_000)
    for till in world.tills:
        shifts.open_shift(store=world.store, till=till, opening_float_fen=0, actor=admin)
    return world


def _give_back(world, sale, line_no, i):
    return create_return(
        store=world.store,
        till=world.tills[i % 2],
        original=sale.number,
        lines=[ReturnLineInput(line_no=line_no, quantity=1)],
        actor=world.admin,
        reason="并发退货",
        idempotency_key=f"race-{sale.pk}-{line_no}-{i}",
    )


def test_twenty_tills_race_to_return_five_units():
    world = _world()
    sale = sell(world, world.tills[0], world.admin, [(world.skus["B"], 5)])

    results = run_together(20, lambda i: _give_back(world, sale, 1, i))

    ok = [r for r in results if isinstance(r, Sale)]
    refused = [r for r in results if isinstance(r, OverReturn)]
    assert [r for r in results if r not in ok and r not in refused] == []
    assert (len(ok), len(refused)) == (5, 15)
    assert SaleLine.objects.get(sale=sale).returned_quantity == 5_000
    assert sum(r.total_fen for r in ok) == sale.total_fen
    assert verify_ledger() == []


def test_concurrent_returns_of_two_lines_settle_the_promotion_once():
    world = _world()
    threshold("MJ100", [("100", "20")])
    sales = [
        sell(world, world.tills[0], world.admin, [(world.skus["A"], 1), (world.skus["B"], 1)])
        for _ in range(3)
    ]

    results = run_together(12, lambda i: _give_back(world, sales[i % 3], 1 + (i // 3) % 2, i))

    ok = [r for r in results if isinstance(r, Sale)]
    refused = [r for r in results if isinstance(r, OverReturn)]
    assert [r for r in results if r not in ok and r not in refused] == []
    assert len(ok) == 6  # every line of every sale back exactly once
    for sale in sales:
        refunds = Tender.objects.filter(sale__original=sale).values_list("amount_fen", flat=True)
        assert sum(refunds) == sale.total_fen == 10_000
        recovered = Sale.objects.filter(original=sale).values_list("recovered_fen", flat=True)
        assert sum(recovered) == 0  # taken back by the first return, given back by the second
    assert verify_ledger() == []
