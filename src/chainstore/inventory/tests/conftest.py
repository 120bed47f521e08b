import datetime as dt

import pytest

from chainstore.core import testing
from chainstore.inventory.services import site_today


@pytest.fixture
def today(warehouse):
    return site_today(warehouse)


@pytest.fixture
def bin_a(admin, warehouse):
    return testing.make_bin(admin, warehouse, code="A-01")


@pytest.fixture
def bin_b(admin, warehouse):
    return testing.make_bin(admin, warehouse, code="B-01")


@pytest.fixture
def sku(admin):
    return testing.make_sku(admin)


@pytest.fixture
def lot_sku(admin):
    """Lot-tracked with a shelf life: every lot needs an expiry date."""
    return testing.make_sku(admin, tracking="lot", shelf_life_days=30)


@pytest.fixture
def fifo_sku(admin):
    """Lot-tracked without a shelf life: lots have no expiry, removal is FIFO by receipt."""
    return testing.make_sku(admin, tracking="lot")


def days(today: dt.date, n: int) -> dt.date:
    return today + dt.timedelta(days=n)
