"""SQLite: concurrent writers queue (WAL + IMMEDIATE + busy timeout) instead of failing."""

import pytest
from django.db import connection

from chainstore.core.testing import make_site, make_sku, make_user, stock
from chainstore.inventory import services
from chainstore.inventory.models import Balance, StockOperation
from chainstore.inventory.tests.concurrency import run_together
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_writers_do_not_fail_with_database_locked():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite-only smoke; PostgreSQL has its own concurrency tests")
    if connection.is_in_memory_db():
        # A shared-cache in-memory database uses table locks (SQLITE_LOCKED), which ignore
        # busy_timeout; the production file database (WAL) is what this test is about.
        pytest.skip("needs a file-backed SQLite test database (DATABASES TEST NAME)")
    admin = make_user("admin")
    site = make_site(admin, "store")
    sku = make_sku(admin)
    stock(admin, site, sku, 8_000, location=site.stock_location)

    def work(i):
        if i % 2:
            return stock(admin, site, sku, 1_000, location=site.stock_location)
        return services.issue(site=site, sku=sku, quantity=1_000, actor=admin)

    results = run_together(16, work)

    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []  # in particular no "database is locked"
    assert all(isinstance(r, StockOperation) for r in results)
    assert Balance.objects.get(location=site.stock_location, sku=sku).on_hand == 8_000
    assert verify_ledger() == []
