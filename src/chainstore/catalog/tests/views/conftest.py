import pytest

from chainstore.core.testing import make_user


@pytest.fixture
def planner(db):
    return make_user("hq_planner")


@pytest.fixture
def store_manager(store):
    return make_user("store_manager", sites=[store])


@pytest.fixture
def planner_client(client, planner):
    client.force_login(planner)
    return client


SKU_FORM = {
    "code": "MILK-950",
    "name": "光明鲜牛奶 950ml",
    "category": "",
    "brand": "光明",
    "base_unit": "瓶",
    "tracking": "lot",
    "shelf_life_days": "7",
    "storage": "chilled",
    "retail_price": "12.80",
    "standard_cost": "8.5",
    "is_active": "on",
    "barcode": "",
    "barcode_kind": "ean13",
}
