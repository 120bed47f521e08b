"""For any counted quantities and moves during the count, approval leaves every counted key
at counted + (net moves after its count), and the ledger still balances."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainstore.core.testing import make_bin, make_site, make_sku
from chainstore.counts import services
from chainstore.inventory import services as inventory
from chainstore.inventory.models import Balance
from chainstore.inventory.verify import verify_ledger

from .conftest import put

pytestmark = pytest.mark.django_db

line = st.tuples(
    st.integers(min_value=0, max_value=20),  # units in stock at freeze
    st.integers(min_value=0, max_value=5),  # units issued before the count
    st.integers(min_value=0, max_value=25),  # units counted
    st.integers(min_value=0, max_value=5),  # units received after the count
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=st.lists(line, min_size=1, max_size=4))
def test_approval_matches_counted_plus_later_moves(admin, lines):
    store = make_site(admin)  # a fresh site per example: the database persists across them
    setup = []
    for book, issued, counted, received in lines:
        sku = make_sku(admin)
        location = make_bin(admin, store)
        if book:
            put(admin, store, sku, location, book * 1000)
        setup.append((sku, location, min(issued, book), counted, received))
    count = services.create_count(site=store, name="property", actor=admin)
    count = services.freeze_count(count=count, actor=admin)
    for sku, location, issued, counted, received in setup:
        if issued:
            inventory.issue(
                site=store, sku=sku, quantity=issued * 1000, location=location, actor=admin
            )
        services.record_entry(
            count=count, location=location, sku=sku, quantity=counted * 1000, actor=admin
        )
        if received:
            put(admin, store, sku, location, received * 1000)
    services.approve_count(count=count, actor=admin, idempotency_key=f"p-{count.pk}")
    for sku, location, _issued, counted, received in setup:
        row = Balance.objects.filter(location=location, sku=sku).first()
        assert (row.on_hand if row else 0) == (counted + received) * 1000
    assert verify_ledger() == []
