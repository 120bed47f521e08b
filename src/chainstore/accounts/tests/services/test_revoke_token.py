import pytest

from chainstore.accounts.models import ApiToken
from chainstore.accounts.selectors import list_tokens, list_users
from chainstore.accounts.services import authenticate_token, issue_token, revoke_token
from chainstore.accounts.tests.helpers import accounts_snapshot
from chainstore.core.errors import PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_user

pytestmark = pytest.mark.django_db


def test_owner_revokes_own_token(cashier):
    token, secret = issue_token(user=cashier, name="pos")
    revoke_token(token=token, actor=cashier)
    assert ApiToken.objects.get(pk=token.pk).revoked
    assert authenticate_token(secret) is None
    event = AuditEvent.objects.get(action="token.revoke")
    assert (event.actor_id, event.from_state, event.to_state) == (cashier.pk, "active", "revoked")


def test_admin_revokes_anyones_token_and_twice_is_a_no_op(admin, cashier):
    token, _secret = issue_token(user=cashier, name="pos")
    revoke_token(token=token, actor=admin)
    revoke_token(token=token, actor=admin)
    assert ApiToken.objects.get(pk=token.pk).revoked
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_other_users_cannot_revoke_your_token(manager, cashier):
    token, secret = issue_token(user=cashier, name="pos")
    before = accounts_snapshot()
    with pytest.raises(PermissionDenied):
        revoke_token(token=token, actor=manager)
    assert accounts_snapshot() == before
    assert authenticate_token(secret) == cashier


def test_token_needs_a_name(cashier):
    before = accounts_snapshot()
    with pytest.raises(ValidationFailed) as exc:
        issue_token(user=cashier, name="   ")
    assert exc.value.code == "invalid_token_name"
    assert accounts_snapshot() == before


def test_list_tokens_own_or_admin_only(admin, manager, cashier):
    mine, _s = issue_token(user=cashier, name="pos")
    assert list(list_tokens(actor=cashier)) == [mine]
    assert list(list_tokens(actor=admin, user=cashier)) == [mine]
    with pytest.raises(PermissionDenied):
        list_tokens(actor=manager, user=cashier)


def test_list_users_filters(admin, store, warehouse, manager, cashier):
    picker = make_user("warehouse_operator", sites=[warehouse], email="picker@example.cn")
    names = lambda **kw: [u.username for u in list_users(actor=admin, **kw)]  # noqa: E731
    assert names(role="cashier") == [cashier.username]
    assert names(search="PICKER@") == [picker.username]
    at_store = names(site=store)
    assert manager.username in at_store and cashier.username in at_store
    assert admin.username in at_store  # admins reach every site
    assert picker.username not in at_store
    picker.is_active = False
    picker.save()
    assert names(status="inactive") == [picker.username]
    assert picker.username not in names(status="active")
    with pytest.raises(PermissionDenied):
        list_users(actor=manager)
