import pytest
from django.test import Client

from chainstore.accounts.models import ApiToken
from chainstore.accounts.services import deactivate_user, issue_token, reactivate_user, revoke_token
from chainstore.accounts.tests.helpers import accounts_snapshot
from chainstore.core.errors import InvalidState, PermissionDenied
from chainstore.core.models import AuditEvent
from chainstore.core.tests.helpers import API, bearer

pytestmark = pytest.mark.django_db


def test_deactivation_blocks_login_and_revokes_every_token(admin, cashier):
    first, secret = issue_token(user=cashier, name="pos-1")
    second, _secret2 = issue_token(user=cashier, name="pos-2")
    revoke_token(token=second, actor=cashier)
    assert Client().get(f"{API}/accounts/me", **bearer(secret)).status_code == 200

    revoked = deactivate_user(user=cashier, actor=admin)

    assert revoked == 1  # the second one was already revoked
    cashier.refresh_from_db()
    assert cashier.is_active is False
    assert list(ApiToken.objects.filter(user=cashier).values_list("revoked", flat=True)) == [
        True,
        True,
    ]
    res = Client().get(f"{API}/accounts/me", **bearer(secret))
    assert (res.status_code, res.json()["code"]) == (401, "not_authenticated")
    assert not Client().login(username=cashier.username, password="pw-123456")
    event = AuditEvent.objects.get(action="user.deactivate")
    assert (event.actor_id, event.from_state, event.to_state) == (admin.pk, "active", "inactive")
    assert event.data == {"tokens_revoked": 1}
    token_event = AuditEvent.objects.filter(action="token.revoke", actor=admin).get()
    assert token_event.object_id == str(first.pk)


def test_reactivation_restores_login_but_not_tokens(admin, cashier):
    _token, secret = issue_token(user=cashier, name="pos")
    deactivate_user(user=cashier, actor=admin)
    reactivate_user(user=cashier, actor=admin)
    cashier.refresh_from_db()
    assert cashier.is_active
    assert Client().login(username=cashier.username, password="pw-123456")
    assert Client().get(f"{API}/accounts/me", **bearer(secret)).status_code == 401
    event = AuditEvent.objects.get(action="user.reactivate")
    assert (event.from_state, event.to_state) == ("inactive", "active")


def test_admin_cannot_deactivate_themselves(admin):
    _token, secret = issue_token(user=admin, name="ops")
    before = accounts_snapshot()
    with pytest.raises(PermissionDenied) as exc:
        deactivate_user(user=admin, actor=admin)
    assert exc.value.code == "cannot_deactivate_self"
    assert accounts_snapshot() == before
    assert Client().get(f"{API}/accounts/me", **bearer(secret)).status_code == 200


def test_non_admin_cannot_deactivate_and_nothing_changes(manager, cashier):
    issue_token(user=cashier, name="pos")
    before = accounts_snapshot()
    with pytest.raises(PermissionDenied):
        deactivate_user(user=cashier, actor=manager)
    assert accounts_snapshot() == before


def test_deactivating_twice_or_reactivating_an_active_user_is_refused(admin, cashier):
    with pytest.raises(InvalidState) as exc:
        reactivate_user(user=cashier, actor=admin)
    assert exc.value.code == "user_active"
    deactivate_user(user=cashier, actor=admin)
    before = accounts_snapshot()
    with pytest.raises(InvalidState) as exc:
        deactivate_user(user=cashier, actor=admin)
    assert exc.value.code == "user_inactive"
    assert accounts_snapshot() == before
