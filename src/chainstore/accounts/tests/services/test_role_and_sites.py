import pytest

from chainstore.accounts.models import Profile
from chainstore.accounts.services import update_user, update_user_role_and_sites
from chainstore.accounts.tests.helpers import accounts_snapshot
from chainstore.core.errors import PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.core.permissions import has_perm, role_of, scope_site_ids
from chainstore.core.testing import make_site, make_user

pytestmark = pytest.mark.django_db


def _fresh(user):
    return type(user).objects.get(pk=user.pk)


def test_admin_changes_role_and_sites_with_from_to_audit(admin, store, warehouse, cashier):
    update_user_role_and_sites(
        user=cashier,
        role="warehouse_manager",
        site_ids=[warehouse.pk],
        all_sites=False,
        actor=admin,
    )
    user = _fresh(cashier)
    assert (role_of(user), scope_site_ids(user)) == ("warehouse_manager", {warehouse.pk})
    event = AuditEvent.objects.get(action="user.change_role")
    assert (event.actor_id, event.from_state, event.to_state) == (
        admin.pk,
        "cashier",
        "warehouse_manager",
    )
    assert event.data == {
        "sites": {"from": [store.pk], "to": [warehouse.pk]},
        "all_sites": {"from": False, "to": False},
    }


def test_promotion_to_admin_and_back_sets_superuser(admin, cashier):
    update_user_role_and_sites(
        user=cashier, role="admin", site_ids=[], all_sites=False, actor=admin
    )
    assert _fresh(cashier).is_superuser and has_perm(_fresh(cashier), "users.manage")
    update_user_role_and_sites(
        user=_fresh(cashier), role="auditor", site_ids=[], all_sites=False, actor=admin
    )
    user = _fresh(cashier)
    assert (user.is_superuser, user.is_staff, role_of(user)) == (False, False, "auditor")
    assert not has_perm(user, "users.manage")


def test_all_sites_flag(admin, manager):
    update_user_role_and_sites(
        user=manager, role="store_manager", site_ids=[], all_sites=True, actor=admin
    )
    assert scope_site_ids(_fresh(manager)) is None


def test_non_admin_is_refused_and_nothing_changes(manager, cashier, store):
    before = accounts_snapshot()
    with pytest.raises(PermissionDenied):
        update_user_role_and_sites(
            user=cashier, role="store_manager", site_ids=[store.pk], all_sites=True, actor=manager
        )
    assert accounts_snapshot() == before


def test_admin_cannot_demote_themselves(admin):
    before = accounts_snapshot()
    with pytest.raises(PermissionDenied) as exc:
        update_user_role_and_sites(
            user=admin, role="cashier", site_ids=[], all_sites=False, actor=admin
        )
    assert exc.value.code == "cannot_demote_self"
    assert accounts_snapshot() == before


def test_unknown_site_is_refused(admin, cashier):
    before = accounts_snapshot()
    with pytest.raises(ValidationFailed) as exc:
        update_user_role_and_sites(
            user=cashier, role="cashier", site_ids=[424242], all_sites=False, actor=admin
        )
    assert exc.value.code == "unknown_site"
    assert accounts_snapshot() == before


def test_partial_update_keeps_unsent_fields_and_is_all_or_nothing(admin, store, cashier):
    other = make_site(admin, "store")
    update_user(user=cashier, actor=admin, site_ids=[store.pk, other.pk])
    profile = Profile.objects.get(user=cashier)
    assert profile.role == "cashier"
    assert set(profile.sites.values_list("pk", flat=True)) == {store.pk, other.pk}

    # The role change is valid, deactivating yourself is not: neither happens.
    before = accounts_snapshot()
    with pytest.raises(PermissionDenied):
        update_user(user=admin, actor=admin, role="admin", all_sites=True, active=False)
    assert accounts_snapshot() == before


def test_superuser_without_profile_gets_one(admin):
    root = type(admin).objects.create_superuser(username="root", password="x")
    other = make_user("admin")
    update_user_role_and_sites(user=root, role="auditor", site_ids=[], all_sites=False, actor=other)
    assert role_of(_fresh(root)) == "auditor"
