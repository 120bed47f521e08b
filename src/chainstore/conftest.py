import os

import pytest

from chainstore.core import testing


@pytest.fixture
def admin(db):
    return testing.make_user("admin")


@pytest.fixture
def store(admin):
    return testing.make_site(admin, "store")


@pytest.fixture
def warehouse(admin):
    return testing.make_site(admin, "cdc")


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests (real concurrency) run in the PostgreSQL pass of the suite and
    are skipped in the SQLite pass. .ci/run fails outright when PostgreSQL is missing."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return
    skip = pytest.mark.skip(reason="needs DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
