import pytest
from django.test import Client

from chainstore.accounts.services import issue_token
from chainstore.accounts.tests.helpers import accounts_snapshot
from chainstore.core.permissions import role_of, scope_site_ids
from chainstore.core.tests.helpers import API, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_auth(admin):
    _t, secret = issue_token(user=admin, name="admin-script")
    return bearer(secret)


def _json(client, method, path, body, auth):
    return getattr(client, method)(f"{API}{path}", body, content_type="application/json", **auth)


def test_list_users_with_filters(admin_auth, store, manager, cashier):
    res = Client().get(f"{API}/accounts/users", {"role": "cashier"}, **admin_auth)
    assert res.status_code == 200
    body = res.json()
    assert body["count"] == 1
    assert body["items"][0] == {
        "username": cashier.username,
        "name": "",
        "email": "",
        "role": "cashier",
        "all_sites": False,
        "site_ids": [store.pk],
        "is_active": True,
        "date_joined": body["items"][0]["date_joined"],
        "last_login": None,
    }
    res = Client().get(f"{API}/accounts/users", {"site": store.code}, **admin_auth)
    usernames = {u["username"] for u in res.json()["items"]}
    assert {manager.username, cashier.username} <= usernames
    res = Client().get(f"{API}/accounts/users", {"site": "NOPE"}, **admin_auth)
    assert res.json()["count"] == 0


def test_create_user(admin_auth, store):
    res = _json(
        Client(),
        "post",
        "/accounts/users",
        {
            "username": "zhao",
            "password": "Store-pass-88",
            "role": "store_manager",
            "name": "赵敏",
            "site_ids": [store.pk],
        },
        admin_auth,
    )
    assert res.status_code == 201, res.content
    body = res.json()
    assert (body["username"], body["name"], body["role"], body["site_ids"]) == (
        "zhao",
        "赵敏",
        "store_manager",
        [store.pk],
    )


def test_create_user_refusals(admin_auth, cashier):
    before = accounts_snapshot()
    res = _json(
        Client(),
        "post",
        "/accounts/users",
        {"username": "weak", "password": "short", "role": "cashier"},
        admin_auth,
    )
    assert (res.status_code, res.json()["code"]) == (422, "weak_password")
    _t, secret = issue_token(user=cashier, name="pos")
    before = accounts_snapshot()
    res = _json(
        Client(),
        "post",
        "/accounts/users",
        {"username": "sneaky", "password": "Good-pass-123", "role": "admin"},
        bearer(secret),
    )
    assert (res.status_code, res.json()["code"]) == (403, "permission_denied")
    assert Client().get(f"{API}/accounts/users", **bearer(secret)).status_code == 403
    assert accounts_snapshot() == before


def test_patch_role_sites_and_active(admin_auth, store, warehouse, cashier):
    _t, secret = issue_token(user=cashier, name="pos")
    res = _json(
        Client(),
        "patch",
        f"/accounts/users/{cashier.username}",
        {"role": "warehouse_operator", "site_ids": [warehouse.pk]},
        admin_auth,
    )
    assert res.status_code == 200, res.content
    assert (res.json()["role"], res.json()["site_ids"], res.json()["is_active"]) == (
        "warehouse_operator",
        [warehouse.pk],
        True,
    )
    user = type(cashier).objects.get(pk=cashier.pk)
    assert (role_of(user), scope_site_ids(user)) == ("warehouse_operator", {warehouse.pk})

    res = _json(
        Client(), "patch", f"/accounts/users/{cashier.username}", {"active": False}, admin_auth
    )
    assert (res.status_code, res.json()["is_active"]) == (200, False)
    assert Client().get(f"{API}/accounts/me", **bearer(secret)).status_code == 401

    res = _json(
        Client(), "patch", f"/accounts/users/{cashier.username}", {"active": True}, admin_auth
    )
    assert res.json()["is_active"] is True


def test_patch_refusals_change_nothing(admin, admin_auth, manager, cashier):
    before = accounts_snapshot()
    res = _json(
        Client(), "patch", f"/accounts/users/{admin.username}", {"active": False}, admin_auth
    )
    assert (res.status_code, res.json()["code"]) == (403, "cannot_deactivate_self")
    res = _json(Client(), "patch", "/accounts/users/nobody", {"active": False}, admin_auth)
    assert (res.status_code, res.json()["code"]) == (404, "user_not_found")
    res = _json(
        Client(), "patch", f"/accounts/users/{cashier.username}", {"role": "wizard"}, admin_auth
    )
    assert (res.status_code, res.json()["code"]) == (422, "unknown_role")
    assert accounts_snapshot() == before

    _t, secret = issue_token(user=manager, name="x")
    before = accounts_snapshot()
    res = _json(
        Client(), "patch", f"/accounts/users/{cashier.username}", {"active": False}, bearer(secret)
    )
    assert (res.status_code, res.json()["code"]) == (403, "permission_denied")
    assert accounts_snapshot() == before
