import pytest

from chainstore.core.testing import make_bin, make_sku, make_user, stock
from chainstore.inventory import services as inventory


@pytest.fixture
def manager(store):
    return make_user("store_manager", sites=[store])


@pytest.fixture
def counter(store):
    return make_user("warehouse_operator", sites=[store])


@pytest.fixture
def bin_a(admin, store):
    return make_bin(admin, store, code="A-01")


@pytest.fixture
def bin_b(admin, store):
    return make_bin(admin, store, code="B-01")


@pytest.fixture
def sku(admin):
    return make_sku(admin, standard_cost_micros=2_000_000)


def put(admin, store, sku, location, quantity, *, lot=None, expiry=None, cost=None):
    """Receive `quantity` and put it away into `location`."""
    stock(admin, store, sku, quantity, lot=lot, expiry=expiry, cost=cost)
    lot_obj = sku.lots.get(number=lot) if lot else None
    inventory.put_away(
        sku=sku,
        quantity=quantity,
        from_location=store.receiving_location,
        to_location=location,
        lot=lot_obj,
        actor=admin,
    )
