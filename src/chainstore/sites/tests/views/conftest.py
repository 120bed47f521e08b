import pytest

from chainstore.core.testing import make_site, make_user
from chainstore.sites.services import create_zone


@pytest.fixture
def other_warehouse(admin):
    return make_site(admin, "rdc")


@pytest.fixture
def wh_manager(warehouse):
    return make_user("warehouse_manager", sites=[warehouse])


@pytest.fixture
def zone_a(admin, warehouse):
    return create_zone(site=warehouse, code="A", name="常温A区", actor=admin)
