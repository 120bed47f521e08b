import pytest
from django.test import Client

from chainstore.catalog.models import Sku
from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_sku, make_user
from chainstore.core.tests.helpers import API

pytestmark = pytest.mark.django_db


def _post(client, path, body):
    return client.post(API + path, body, content_type="application/json")


def test_create_get_patch_sku(api, admin):
    assert _post(api, "/catalog/categories", {"code": "FOOD", "name": "食品"}).status_code == 201
    res = _post(
        api,
        "/catalog/skus",
        {
            "code": "MILK-1",
            "name": "光明鲜牛奶 950ml",
            "category": "FOOD",
            "brand": "光明",
            "tracking": "lot",
            "shelf_life_days": 7,
            "storage": "chilled",
            "retail_price": "12.80",
            "standard_cost": "8.5",
            "barcodes": [{"code": "6901234567892", "kind": "ean13"}],
        },
    )
    assert res.status_code == 201, res.content
    body = res.json()
    assert (body["retail_price"], body["standard_cost"], body["brand"]) == (
        "12.80",
        "8.500000",
        "光明",
    )
    assert body["barcodes"] == [{"code": "6901234567892", "kind": "ean13", "is_primary": True}]
    assert Sku.objects.get(code="MILK-1").retail_price_fen == 1280
    assert AuditEvent.objects.filter(action="sku.create", actor=admin).count() == 1

    res = api.patch(
        f"{API}/catalog/skus/MILK-1", {"retail_price": "13.50"}, content_type="application/json"
    )
    assert res.status_code == 200, res.content
    assert res.json()["retail_price"] == "13.50"
    assert api.get(f"{API}/catalog/skus/MILK-1").json()["name"] == "光明鲜牛奶 950ml"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"code": "X", "name": "x", "barcodes": [{"code": "6901234567893"}]},
            422,
            "invalid_barcode",
        ),
        ({"code": "X", "name": "x", "tracking": "weird"}, 422, "invalid_tracking"),
        ({"code": "X", "name": "x", "retail_price": "-1"}, 422, "validation_error"),
        ({"code": "X", "name": "x", "category": "NOPE"}, 404, "category_not_found"),
        ({"name": "x"}, 422, "validation_error"),
    ],
)
def test_bad_sku_input(api, body, status, code):
    res = _post(api, "/catalog/skus", body)
    assert (res.status_code, res.json()["code"]) == (status, code)
    assert not Sku.objects.filter(code="X").exists()


def test_duplicate_sku_and_barcode_are_409(api, admin):
    sku = make_sku(admin, code="DUP", barcode="6901234567892")
    res = _post(api, "/catalog/skus", {"code": "DUP", "name": "again"})
    assert (res.status_code, res.json()["code"]) == (409, "duplicate_sku")
    res = _post(api, f"/catalog/skus/{sku.code}/barcodes", {"code": "6901234567892"})
    assert (res.status_code, res.json()["code"]) == (409, "duplicate_barcode")


def test_list_skus_pagination_and_filters(api, admin):
    for i in range(5):
        make_sku(admin, code=f"L{i}", name=f"商品{i}", tracking="lot" if i % 2 else "none")
    page = api.get(f"{API}/catalog/skus", {"limit": 2, "offset": 1}).json()
    assert page["count"] == 5
    assert [s["code"] for s in page["items"]] == ["L1", "L2"]
    assert api.get(f"{API}/catalog/skus", {"tracking": "lot"}).json()["count"] == 2
    assert api.get(f"{API}/catalog/skus", {"search": "商品3"}).json()["count"] == 1


def test_only_catalog_managers_write(admin):
    client = Client()
    client.force_login(make_user("store_manager"))
    res = _post(client, "/catalog/skus", {"code": "NOPE", "name": "x"})
    assert (res.status_code, res.json()["code"]) == (403, "permission_denied")
    assert client.get(f"{API}/catalog/skus").status_code == 200
    planner = Client()
    planner.force_login(make_user("hq_planner"))
    assert _post(planner, "/catalog/skus", {"code": "OK1", "name": "x"}).status_code == 201
    assert Client().get(f"{API}/catalog/skus").json()["code"] == "not_authenticated"
