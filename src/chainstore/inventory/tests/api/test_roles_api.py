"""Which role may do which stock write, and site scope on writes and reads."""

import pytest
from django.test import Client

from chainstore.core.testing import make_site, make_user, stock
from chainstore.core.tests.helpers import API, post, snapshot

pytestmark = pytest.mark.django_db

WRITES = ["receive", "move", "issue", "adjust", "reserve", "safety_stock"]
ALLOWED = {
    "admin": set(WRITES),
    "hq_planner": {"reserve", "safety_stock"},
    "warehouse_manager": set(WRITES),
    "warehouse_operator": {"receive", "move", "issue"},
    "store_manager": set(WRITES),
    "cashier": set(),
    "auditor": set(),
}


def _write(client, action, site, sku, bin_code):
    if action == "receive":
        body = {"site": site.code, "lines": [{"sku": sku.code, "quantity": "1"}]}
        return post(client, "/inventory/receipts", body, key=f"{action}-{site.code}")
    if action == "move":
        body = {"site": site.code, "sku": sku.code, "quantity": "1"}
        body |= {"from_location": "STOCK", "to_location": bin_code}
        return post(client, "/inventory/moves", body, key=f"{action}-{site.code}")
    if action == "issue":
        body = {"site": site.code, "sku": sku.code, "quantity": "1"}
        return post(client, "/inventory/issues", body, key=f"{action}-{site.code}")
    if action == "adjust":
        body = {"site": site.code, "sku": sku.code, "location": "STOCK"}
        body |= {"delta": "-1", "reason": "damage"}
        return post(client, "/inventory/adjustments", body, key=f"{action}-{site.code}")
    if action == "reserve":
        body = {"site": site.code, "sku": sku.code, "quantity": "1"}
        return post(client, "/inventory/reservations", body, key=f"{action}-{site.code}")
    body = {"site": site.code, "sku": sku.code, "quantity": "5"}
    return client.put(f"{API}/inventory/safety-stock", body, content_type="application/json")


@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize("action", WRITES)
def test_role_matrix(admin, store, sku, role, action):
    from chainstore.core.testing import make_bin

    bin_ = make_bin(admin, store, code="B-1")
    stock(admin, store, sku, 10_000, location=store.stock_location)
    user = make_user(role, sites=[store])
    client = Client()
    client.force_login(user)
    before = snapshot()

    res = _write(client, action, store, sku, bin_.code)

    if action in ALLOWED[role]:
        assert res.status_code in (200, 201), res.content
        assert snapshot() != before
    else:
        assert res.status_code == 403, res.content
        assert res.json()["code"] == "permission_denied"
        assert snapshot() == before


def test_store_manager_is_confined_to_their_store(admin, sku):
    store_a, store_b = make_site(admin, "store"), make_site(admin, "store")
    for site in (store_a, store_b):
        stock(admin, site, sku, 10_000, location=site.stock_location)
    manager = make_user("store_manager", sites=[store_a])
    client = Client()
    client.force_login(manager)
    before = snapshot()

    for action in WRITES:
        res = _write(client, action, store_b, sku, "STOCK")
        assert res.status_code == 403, (action, res.content)
        assert res.json()["code"] == "site_out_of_scope", action
    for url in (
        f"/sites/{store_b.code}",
        f"/inventory/sites/{store_b.code}/stock",
        f"/inventory/ledger?site={store_b.code}&sku={sku.code}",
        f"/inventory/reservations?site={store_b.code}",
    ):
        res = client.get(API + url)
        assert (res.status_code, res.json()["code"]) == (403, "site_out_of_scope"), url
    assert snapshot() == before

    # in scope: allowed
    assert _write(client, "issue", store_a, sku, "STOCK").status_code == 201


def test_lists_show_only_sites_in_scope(admin, sku):
    store_a, store_b = make_site(admin, "store"), make_site(admin, "store")
    for site in (store_a, store_b):
        stock(admin, site, sku, 10_000, location=site.stock_location)
    from chainstore.inventory import services

    services.reserve(site=store_a, sku=sku, quantity=1_000, actor=admin)
    services.reserve(site=store_b, sku=sku, quantity=1_000, actor=admin)
    services.set_safety_stock(site=store_a, sku=sku, quantity=99_000, actor=admin)
    services.set_safety_stock(site=store_b, sku=sku, quantity=99_000, actor=admin)
    manager = make_user("store_manager", sites=[store_a])
    client = Client()
    client.force_login(manager)

    sites = client.get(f"{API}/sites").json()
    assert [s["code"] for s in sites["items"]] == [store_a.code]
    avail = client.get(f"{API}/inventory/availability/{sku.code}").json()
    assert [r["site"] for r in avail] == [store_a.code]
    res = client.get(f"{API}/inventory/reservations").json()
    assert [r["site"] for r in res["items"]] == [store_a.code]
    alerts = client.get(f"{API}/inventory/alerts/below-safety-stock").json()
    assert [r["site"] for r in alerts["items"]] == [store_a.code]

    auditor = make_user("auditor")
    client.force_login(auditor)
    assert client.get(f"{API}/sites").json()["count"] == 2


def test_machine_token_carries_the_users_role(store, sku, admin):
    from chainstore.accounts.services import issue_token
    from chainstore.core.tests.helpers import bearer

    stock(admin, store, sku, 10_000, location=store.stock_location)
    cashier = make_user("cashier", sites=[store])
    _token, secret = issue_token(user=cashier, name="pos-1")
    before = snapshot()
    body = {"site": store.code, "sku": sku.code, "quantity": "1"}
    res = post(Client(), "/inventory/issues", body, key="pos-1", **bearer(secret))
    assert (res.status_code, res.json()["code"]) == (403, "permission_denied")
    assert snapshot() == before
    res = Client().get(f"{API}/inventory/sites/{store.code}/stock", **bearer(secret))
    assert res.status_code == 200
