import pytest

from chainstore.accounts.services import change_own_password, reset_password
from chainstore.accounts.tests.helpers import accounts_snapshot
from chainstore.core.errors import PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_admin_resets_a_password(admin, cashier):
    reset_password(user=cashier, new_password="New-secret-42", actor=admin)
    cashier.refresh_from_db()
    assert cashier.check_password("New-secret-42")
    assert not cashier.check_password("pw-123456")
    event = AuditEvent.objects.get(action="user.reset_password")
    assert (event.actor_id, event.object_id, event.to_state) == (admin.pk, str(cashier.pk), "reset")
    assert "New-secret-42" not in str(event.data)


def test_reset_uses_the_password_validators(admin, cashier):
    before = accounts_snapshot()
    with pytest.raises(ValidationFailed) as exc:
        reset_password(user=cashier, new_password="short", actor=admin)
    assert exc.value.code == "weak_password"
    assert exc.value.details["errors"]
    assert accounts_snapshot() == before


def test_non_admin_cannot_reset_anyones_password(manager, cashier):
    before = accounts_snapshot()
    with pytest.raises(PermissionDenied):
        reset_password(user=cashier, new_password="New-secret-42", actor=manager)
    assert accounts_snapshot() == before


def test_change_own_password(cashier):
    change_own_password(user=cashier, old_password="pw-123456", new_password="Mine-is-better-1")
    cashier.refresh_from_db()
    assert cashier.check_password("Mine-is-better-1")
    event = AuditEvent.objects.get(action="user.change_password")
    assert (event.actor_id, event.object_id) == (cashier.pk, str(cashier.pk))


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("wrong-old-pw", "Mine-is-better-1", "wrong_password"),
        ("pw-123456", "short", "weak_password"),
    ],
)
def test_change_own_password_refusals(cashier, old, new, code):
    before = accounts_snapshot()
    with pytest.raises(ValidationFailed) as exc:
        change_own_password(user=cashier, old_password=old, new_password=new)
    assert exc.value.code == code
    assert accounts_snapshot() == before
