"""Racing receipts of one transfer (PostgreSQL, real threads): different keys cannot receive
more than was shipped; the same key posts once."""

import pytest

from chainstore.core.errors import DomainError
from chainstore.core.testing import make_user
from chainstore.inventory.tests.concurrency import run_together
from chainstore.inventory.verify import verify_ledger
from chainstore.transfers.services.receiving import ReceiptResult, ReceiveLine, receive
from chainstore.transfers.tests.test_execution_support import (
    U,
    assert_conserved,
    build_world,
    moved,
    shipped,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("same_key", [False, True])
def test_racing_receipts_never_take_more_than_shipped(same_key):
    world = build_world(make_user("admin"))
    transfer = shipped(world, (world.rice, 10 * U))
    line = transfer.lines.get()
    users = [make_user("store_manager", [world.store]) for _ in range(4)]

    def count(i):
        return receive(
            transfer=transfer,
            actor=users[i],
            lines=[ReceiveLine(line=line, received=6 * U)],
            idempotency_key="same" if same_key else f"k{i}",
            final=False,
        )

    results = run_together(4, count)

    done = [r for r in results if isinstance(r, ReceiptResult)]
    assert all(isinstance(r, ReceiptResult | DomainError) for r in results), results
    line.refresh_from_db()
    from_transit = moved(transfer, from_location__kind="transit")
    assert line.received == from_transit == (6 * U if same_key else 10 * U)
    assert line.received <= line.shipped
    if same_key:
        assert sum(not r.replayed for r in done) == 1
    else:
        # The first takes 6 from transit, the second 4 (+2 over); the rest are all over.
        assert moved(transfer, from_location__kind="adjustment") == 4 * 6 * U - 10 * U
    assert_conserved(transfer)
    assert verify_ledger() == []
