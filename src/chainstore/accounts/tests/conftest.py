import pytest

from chainstore.core.testing import make_user


@pytest.fixture
def manager(store):
    return make_user("store_manager", sites=[store])


@pytest.fixture
def cashier(store):
    return make_user("cashier", sites=[store])
