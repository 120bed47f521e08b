"""Approval reads in bulk: its query count grows with the variance lines (one balance update
each, inside the posting engine), never with line-by-line reads."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chainstore.core.testing import make_sku
from chainstore.counts import services
from chainstore.counts.recording import EntryInput
from chainstore.inventory.services import ReceiptLine, receive
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


def approve_queries(admin, store, n_skus):
    skus = [make_sku(admin) for _ in range(n_skus)]
    receive(site=store, actor=admin, lines=[ReceiptLine(sku=s, quantity=5_000) for s in skus])
    count = services.freeze_count(
        count=services.create_count(site=store, name=f"n{n_skus}", actor=admin), actor=admin
    )
    entries = [
        EntryInput(location=store.receiving_location, sku=s, quantity=5_000 + (i % 2) * 1_000)
        for i, s in enumerate(skus)
    ]
    with CaptureQueriesContext(connection) as recorded:
        services.record_entries(count=count, entries=entries, actor=admin)
    record_queries = len(recorded)
    with CaptureQueriesContext(connection) as approved:
        services.approve_count(count=count, actor=admin, idempotency_key=f"q{n_skus}")
    assert verify_ledger() == []
    return record_queries, len(approved)


def test_recording_is_constant_and_approval_linear_in_variance_lines(admin):
    from chainstore.core.testing import make_site

    small = approve_queries(admin, make_site(admin), 4)
    large = approve_queries(admin, make_site(admin), 40)
    assert large[0] <= small[0] + 2  # a batch of entries: about the same for 4 or 40 lines
    # 2 variance lines vs 20: at most one balance update + one site total per extra line
    # (site totals are written in bulk, so the growth is usually closer to one per line)
    assert large[1] - small[1] <= 18 * 2
