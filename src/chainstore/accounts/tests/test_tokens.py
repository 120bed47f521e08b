import pytest
from django.test import Client

from chainstore.accounts.models import ApiToken
from chainstore.accounts.services import authenticate_token, create_user, issue_token
from chainstore.core.errors import ValidationFailed
from chainstore.core.testing import make_user
from chainstore.core.tests.helpers import API, bearer

pytestmark = pytest.mark.django_db


def test_token_secret_is_not_stored(admin):
    token, secret = issue_token(user=admin, name="erp")
    assert secret.startswith("cs_")
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.digest, stored.prefix)
    assert authenticate_token(secret) == admin
    assert authenticate_token(secret + "x") is None


def test_revoked_token_and_inactive_user_are_refused(admin):
    token, secret = issue_token(user=admin, name="erp")
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    assert authenticate_token(secret) is None
    res = Client().get(f"{API}/accounts/me", **bearer(secret))
    assert (res.status_code, res.json()["code"]) == (401, "not_authenticated")

    user = make_user("cashier")
    _t, secret2 = issue_token(user=user, name="pos")
    user.is_active = False
    user.save()
    assert authenticate_token(secret2) is None


def test_me_via_token_and_session(store):
    user = make_user("store_manager", sites=[store])
    _t, secret = issue_token(user=user, name="x")
    body = Client().get(f"{API}/accounts/me", **bearer(secret)).json()
    assert body == {"username": user.username, "role": "store_manager", "site_ids": [store.pk]}
    client = Client()
    client.force_login(user)
    assert client.get(f"{API}/accounts/me").json()["role"] == "store_manager"


def test_create_token_via_api(admin):
    client = Client()
    client.force_login(admin)
    res = client.post(f"{API}/accounts/tokens", {"name": "wms"}, content_type="application/json")
    assert res.status_code == 201
    secret = res.json()["token"]
    assert Client().get(f"{API}/accounts/me", **bearer(secret)).json()["username"] == admin.username


def test_unknown_role_and_duplicate_username(admin):
    with pytest.raises(ValidationFailed) as exc:
        create_user(username="x", password="pw-123456", role="god")
    assert exc.value.code == "unknown_role"
    create_user(username="dup", password="pw-123456", role="cashier")
    with pytest.raises(ValidationFailed) as exc:
        create_user(username="dup", password="pw-123456", role="cashier")
    assert exc.value.code == "username_taken"
