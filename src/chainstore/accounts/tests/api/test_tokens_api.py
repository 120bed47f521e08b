import pytest
from django.test import Client

from chainstore.accounts.models import ApiToken
from chainstore.accounts.services import issue_token
from chainstore.accounts.tests.helpers import accounts_snapshot
from chainstore.core.tests.helpers import API, bearer

pytestmark = pytest.mark.django_db


def test_list_own_tokens_without_secrets(cashier, manager):
    first, secret = issue_token(user=cashier, name="pos")
    issue_token(user=manager, name="not-mine")
    res = Client().get(f"{API}/accounts/tokens", **bearer(secret))
    assert res.status_code == 200
    body = res.json()
    assert [(t["id"], t["name"], t["prefix"], t["revoked"]) for t in body] == [
        (first.pk, "pos", secret[:10], False)
    ]
    assert body[0]["last_used_at"] is not None  # this very call used it
    assert secret not in res.content.decode()


def test_revoke_own_token_then_it_gets_401(cashier):
    _keep, keep_secret = issue_token(user=cashier, name="keep")
    doomed, doomed_secret = issue_token(user=cashier, name="doomed")
    res = Client().delete(f"{API}/accounts/tokens/{doomed.pk}", **bearer(keep_secret))
    assert res.status_code == 204
    assert ApiToken.objects.get(pk=doomed.pk).revoked
    res = Client().get(f"{API}/accounts/me", **bearer(doomed_secret))
    assert (res.status_code, res.json()["code"]) == (401, "not_authenticated")
    # revoking a token with itself works too, and a replay is harmless
    res = Client().delete(f"{API}/accounts/tokens/{doomed.pk}", **bearer(keep_secret))
    assert res.status_code == 204


def test_someone_elses_token_is_404_and_untouched(cashier, manager):
    theirs, their_secret = issue_token(user=manager, name="theirs")
    _mine, secret = issue_token(user=cashier, name="mine")
    before = accounts_snapshot()
    res = Client().delete(f"{API}/accounts/tokens/{theirs.pk}", **bearer(secret))
    assert (res.status_code, res.json()["code"]) == (404, "token_not_found")
    assert accounts_snapshot() == before
    assert Client().get(f"{API}/accounts/me", **bearer(their_secret)).status_code == 200


def test_admin_revokes_any_token(admin, cashier):
    theirs, their_secret = issue_token(user=cashier, name="pos")
    _t, admin_secret = issue_token(user=admin, name="ops")
    res = Client().delete(f"{API}/accounts/tokens/{theirs.pk}", **bearer(admin_secret))
    assert res.status_code == 204
    assert Client().get(f"{API}/accounts/me", **bearer(their_secret)).status_code == 401


def test_blank_token_name_is_422(cashier):
    client = Client()
    client.force_login(cashier)
    before = accounts_snapshot()
    res = client.post(f"{API}/accounts/tokens", {"name": " "}, content_type="application/json")
    assert (res.status_code, res.json()["code"]) == (422, "invalid_token_name")
    assert accounts_snapshot() == before
