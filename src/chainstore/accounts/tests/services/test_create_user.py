import pytest

from chainstore.accounts.services import create_user
from chainstore.accounts.tests.helpers import accounts_snapshot
from chainstore.core.errors import PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.core.permissions import role_of, scope_site_ids
from chainstore.core.testing import make_user

pytestmark = pytest.mark.django_db


def test_admin_creates_a_scoped_user_with_audit(admin, store):
    user = create_user(
        username="li.lei",
        name="李雷",
        email="lilei@example.cn",
        password="Shanghai-2026",
        role="store_manager",
        site_ids=[store.pk],
        actor=admin,
    )
    user.refresh_from_db()
    assert (user.username, user.first_name, user.email) == ("li.lei", "李雷", "lilei@example.cn")
    assert user.check_password("Shanghai-2026")
    assert (role_of(user), scope_site_ids(user)) == ("store_manager", {store.pk})
    assert not user.is_superuser
    event = AuditEvent.objects.get(action="user.create", object_id=str(user.pk))
    assert (event.actor_id, event.to_state) == (admin.pk, "store_manager")
    assert event.data == {"sites": [store.pk], "all_sites": False}


def test_system_bootstrap_without_actor_still_works():
    user = create_user(username="root", password="x", role="admin")
    assert user.is_superuser and role_of(user) == "admin"
    assert AuditEvent.objects.get(action="user.create").actor_id is None


@pytest.mark.parametrize("role", ["store_manager", "hq_planner", "auditor", "cashier"])
def test_non_admin_cannot_create_users(role, store):
    actor = make_user(role, sites=[store])
    before = accounts_snapshot()
    with pytest.raises(PermissionDenied) as exc:
        create_user(username="new", password="Good-pass-123", role="cashier", actor=actor)
    assert exc.value.code == "permission_denied"
    assert accounts_snapshot() == before


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"password": "short"}, "weak_password"),
        ({"username": "bad name!"}, "invalid_username"),
        ({"username": "  "}, "invalid_username"),
        ({"email": "not-an-email"}, "invalid_email"),
        ({"site_ids": [987654]}, "unknown_site"),
        ({"role": "god"}, "unknown_role"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(admin, kwargs, code):
    params = {"username": "wang", "password": "Good-pass-123", "role": "cashier", **kwargs}
    before = accounts_snapshot()
    with pytest.raises(ValidationFailed) as exc:
        create_user(actor=admin, **params)
    assert exc.value.code == code
    assert accounts_snapshot() == before


def test_username_taken_ignores_case(admin):
    create_user(username="Zhang", password="Good-pass-123", role="cashier", actor=admin)
    before = accounts_snapshot()
    with pytest.raises(ValidationFailed) as exc:
        create_user(username="zhang", password="Good-pass-123", role="cashier", actor=admin)
    assert exc.value.code == "username_taken"
    assert accounts_snapshot() == before
