import pytest
from django.test import Client

from chainstore.core.testing import make_site, make_user
from chainstore.core.tests.helpers import API
from chainstore.sites.models import Location, Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin):
    client = Client()
    client.force_login(admin)
    return client


def _post(client, path, body):
    return client.post(API + path, body, content_type="application/json")


def test_create_site_with_default_locations(api):
    res = _post(
        api, "/sites", {"code": "SH01", "name": "上海徐汇店", "kind": "store", "city": "上海"}
    )
    assert res.status_code == 201, res.content
    body = res.json()
    assert (body["receiving_location"], body["stock_location"]) == ("RECV", "STOCK")
    site = Site.objects.get(code="SH01")
    codes = set(Location.objects.filter(site=site).values_list("code", flat=True))
    assert codes == {"RECV", "STOCK", "DAMAGED"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"code": "X1", "name": "x", "kind": "mall"}, "invalid_site_kind"),
        ({"code": "X1", "name": "x", "kind": "store", "timezone": "Mars/Base"}, "invalid_timezone"),
        ({"code": "X1", "name": "x", "kind": "store", "latitude": "91"}, "validation_error"),
    ],
)
def test_bad_site_input(api, body, code):
    res = _post(api, "/sites", body)
    assert (res.status_code, res.json()["code"]) == (422, code)
    assert not Site.objects.filter(code="X1").exists()


def test_duplicate_site_is_409(api, admin):
    make_site(admin, code="DUP")
    res = _post(api, "/sites", {"code": "DUP", "name": "x", "kind": "store"})
    assert (res.status_code, res.json()["code"]) == (409, "duplicate_site")


def test_zones_and_locations(api, admin):
    site = make_site(admin, "cdc", code="CDC1")
    assert (
        _post(
            api, "/sites/CDC1/zones", {"code": "Z1", "name": "冷藏区", "storage": "chilled"}
        ).status_code
        == 201
    )
    res = _post(
        api,
        "/sites/CDC1/locations",
        {"code": "Z1-01-01", "zone": "Z1", "aisle": "01", "x": "1.5", "y": "2"},
    )
    assert res.status_code == 201, res.content
    assert res.json()["zone"] == "Z1"
    res = _post(api, "/sites/CDC1/locations", {"code": "Z1-01-01"})
    assert (res.status_code, res.json()["code"]) == (409, "duplicate_location")
    res = _post(api, "/sites/CDC1/locations", {"code": "Q", "zone": "NOPE"})
    assert (res.status_code, res.json()["code"]) == (404, "zone_not_found")
    res = _post(api, "/sites/CDC1/locations", {"code": "V", "kind": "customer"})
    assert (res.status_code, res.json()["code"]) == (422, "invalid_location_kind")

    page = api.get(f"{API}/sites/CDC1/locations", {"limit": 2}).json()
    assert page["count"] == 4
    assert len(page["items"]) == 2
    assert api.get(f"{API}/sites/CDC1/locations", {"kind": "storage"}).json()["count"] == 1
    assert [z["code"] for z in api.get(f"{API}/sites/CDC1/zones").json()] == ["Z1"]
    assert site.zones.count() == 1


def test_site_list_filter_and_scope(api, admin):
    store = make_site(admin, "store", code="ST1")
    make_site(admin, "cdc", code="WH1")
    assert [s["code"] for s in api.get(f"{API}/sites", {"kind": "cdc"}).json()["items"]] == ["WH1"]
    assert api.get(f"{API}/sites/NOPE").json()["code"] == "site_not_found"

    manager = Client()
    manager.force_login(make_user("store_manager", sites=[store]))
    assert [s["code"] for s in manager.get(f"{API}/sites").json()["items"]] == ["ST1"]
    res = manager.get(f"{API}/sites/WH1")
    assert (res.status_code, res.json()["code"]) == (403, "site_out_of_scope")
    res = _post(manager, "/sites", {"code": "X9", "name": "x", "kind": "store"})
    assert (res.status_code, res.json()["code"]) == (403, "permission_denied")
    res = _post(manager, "/sites/ST1/locations", {"code": "B-1"})
    assert (res.status_code, res.json()["code"]) == (403, "permission_denied")
