"""GET /api/v1/pos/catalog: what an offline till keeps (SKUs, barcodes, store prices)."""

import datetime as dt
import gzip
import json

import pytest
from django.db import connection
from django.utils import timezone

from chainstore.catalog.models import Barcode, Sku
from chainstore.core.testing import make_site, make_sku, make_user
from chainstore.pos.models import PriceList, PriceListItem
from chainstore.pos.tests.sales_world import API, client_for

pytestmark = pytest.mark.django_db

URL = API + "/pos/catalog"


def _get(client, store, **headers):
    return client.get(URL, {"store": store.code}, **headers)


def _rows(response):
    return {row["code"]: row for row in response.json()["skus"]}


@pytest.fixture
def cashier(store):
    return make_user("cashier", sites=[store])


@pytest.fixture
def goods(admin):
    milk = make_sku(admin, code="MILK1L", name="光明鲜牛奶 1L", retail_price_fen=1250)
    Sku.objects.filter(pk=milk.pk).update(tax_rate_bp=900)
    Barcode.objects.create(sku=milk, code="MILK-INT", kind="internal")
    apples = make_sku(admin, code="APPLE", name="红富士苹果", base_unit="kg", retail_price_fen=1298)
    Barcode.objects.create(sku=apples, code="00123", kind="internal")
    gone = make_sku(admin, code="GONE", retail_price_fen=100)
    Sku.objects.filter(pk=gone.pk).update(is_active=False)
    return {"milk": milk, "apples": apples}


def test_the_catalog_lists_sellable_skus_with_barcodes_prices_and_tax(store, cashier, goods):
    response = _get(client_for(cashier), store)

    assert response.status_code == 200
    body = response.json()
    assert body["store"] == store.code and body["count"] == 2
    assert body["version"] and body["generated_at"] and body["next_change_at"] is None
    rows = _rows(response)
    assert set(rows) == {"MILK1L", "APPLE"}  # the inactive SKU is not sold
    milk_ean = goods["milk"].barcodes.get(kind="ean13").code
    assert rows["MILK1L"] == {
        "code": "MILK1L",
        "name": "光明鲜牛奶 1L",
        "unit": "pcs",
        "weighed": False,
        "barcodes": [milk_ean, "MILK-INT"],  # primary first
        "plu": ["MILK-INT"],
        "price": "12.50",
        "tax_rate_bp": 900,
    }
    assert rows["APPLE"]["weighed"] is True and rows["APPLE"]["unit"] == "kg"
    assert rows["APPLE"]["plu"] == ["00123"] and rows["APPLE"]["price"] == "12.98"


def test_prices_are_the_stores_own_store_list_beats_chain_list(admin, store, cashier, goods):
    other = make_site(admin, "store")
    now = timezone.now()
    chain = PriceList.objects.create(code="CHAIN", name="全国价", priority=5)
    PriceListItem.objects.create(price_list=chain, sku=goods["milk"], price_fen=1190)
    PriceListItem.objects.create(price_list=chain, sku=goods["apples"], price_fen=1099)
    local = PriceList.objects.create(code="SH", name="上海价", valid_to=now + dt.timedelta(days=2))
    local.stores.add(store)
    PriceListItem.objects.create(price_list=local, sku=goods["milk"], price_fen=1350)
    later = PriceList.objects.create(
        code="NEXT", name="下周价", valid_from=now + dt.timedelta(days=1)
    )
    PriceListItem.objects.create(price_list=later, sku=goods["milk"], price_fen=1)
    elsewhere = PriceList.objects.create(code="BJ", name="北京价", priority=99)
    elsewhere.stores.add(other)
    PriceListItem.objects.create(price_list=elsewhere, sku=goods["milk"], price_fen=2)

    response = _get(client_for(cashier), store)

    rows = _rows(response)
    assert rows["MILK1L"]["price"] == "13.50"  # the store's list beats the chain's
    assert rows["APPLE"]["price"] == "10.99"  # the chain's list beats the retail price
    # The next moment a list starts or ends: the till fetches again then.
    assert dt.datetime.fromisoformat(response.json()["next_change_at"]) == later.valid_from

    manager = make_user("store_manager", sites=[other])
    assert _rows(_get(client_for(manager), other))["MILK1L"]["price"] == "0.02"


def test_etag_answers_304_until_a_price_or_barcode_changes(store, cashier, goods):
    client = client_for(cashier)
    first = _get(client, store)
    etag = first["ETag"]
    assert etag == f'"{first.json()["version"]}"'

    same = _get(client, store, HTTP_IF_NONE_MATCH=etag)
    assert same.status_code == 304 and same.content == b""

    Sku.objects.filter(pk=goods["milk"].pk).update(retail_price_fen=1300)
    changed = _get(client, store, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert _rows(changed)["MILK1L"]["price"] == "13.00"

    etag = changed["ETag"]
    Barcode.objects.create(sku=goods["apples"], code="6900000000017", kind="ean13")
    again = _get(client, store, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert "6900000000017" in _rows(again)["APPLE"]["barcodes"]


def test_gzip_when_accepted(admin, store, cashier):
    for n in range(30):
        make_sku(admin, name=f"商品{n}")
    plain = _get(client_for(cashier), store)
    packed = _get(client_for(cashier), store, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert packed["Content-Encoding"] == "gzip"
    assert len(packed.content) < len(plain.content)
    assert json.loads(gzip.decompress(packed.content))["skus"] == plain.json()["skus"]


def test_scope_and_permission(admin, store, goods):
    other = make_site(admin, "store")
    outsider = make_user("cashier", sites=[other])
    response = _get(client_for(outsider), store)
    assert response.status_code == 403
    assert response.json()["code"] == "site_out_of_scope"

    operator = make_user("warehouse_operator", sites=[store])
    response = _get(client_for(operator), store)
    assert response.status_code == 403

    assert client_for(outsider).get(URL, {"store": "NOPE"}).status_code == 404
    from django.test import Client

    assert Client().get(URL, {"store": store.code}).status_code == 401


class _Counter:
    """Counts the SQL statements run (the test client resets connection.queries)."""

    def __init__(self):
        self.sql = []

    def __call__(self, execute, sql, params, many, context):
        self.sql.append(sql)
        return execute(sql, params, many, context)


def _queries(client, store):
    counter = _Counter()
    with connection.execute_wrapper(counter):
        response = _get(client, store)
    assert response.status_code == 200
    # The session and user of the logged-in client are not the catalog's work.
    return response, [q for q in counter.sql if "django_session" not in q and "auth_user" not in q]


def test_the_query_count_does_not_grow_with_the_catalog(admin, store, cashier):
    client = client_for(cashier)
    for _ in range(3):
        make_sku(admin)
    _response, few = _queries(client, store)
    skus = Sku.objects.bulk_create(
        Sku(code=f"BULK{n:05d}", name=f"批量商品{n}", retail_price_fen=100 + n) for n in range(300)
    )
    Barcode.objects.bulk_create(
        Barcode(sku=s, code=f"BULK-{n:05d}", kind="internal") for n, s in enumerate(skus)
    )
    lst = PriceList.objects.create(code="ALL", name="全国价")
    PriceListItem.objects.bulk_create(
        PriceListItem(price_list=lst, sku=s, price_fen=99) for s in skus[:100]
    )
    response, many = _queries(client, store)
    assert response.json()["count"] == 303
    assert len(many) == len(few) <= 8, [q[:100] for q in many]


def test_the_service_worker_keeps_only_the_checkout_and_static_files(client):
    response = client.get("/pos/sw.js")  # no login: it is static code
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert 'var PAGE = "\\u002Fpos\\u002F"' in body or 'var PAGE = "/pos/"' in body
    assert "/api/" not in body  # the API is never cached
