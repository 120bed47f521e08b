import pytest
from django.test import Client
from django.urls import reverse

from chainstore.accounts.models import ApiToken
from chainstore.accounts.services import issue_token
from chainstore.accounts.tests.helpers import accounts_snapshot
from chainstore.core.permissions import role_of, scope_site_ids

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_user_list_filters_and_shows_scope(admin, store, manager, cashier):
    client = _client(admin)
    res = client.get(reverse("accounts:index"), {"role": "cashier"})
    assert res.status_code == 200
    html = res.content.decode()
    assert cashier.username in html and manager.username not in html
    res = client.get(reverse("accounts:index"), {"q": manager.username, "site": store.code})
    assert manager.username in res.content.decode()
    assert store.code in res.content.decode()


@pytest.mark.parametrize(
    "name",
    ["accounts:index", "accounts:create"],
)
def test_non_admin_gets_403(manager, name):
    assert _client(manager).get(reverse(name)).status_code == 403


def test_non_admin_posts_are_refused_and_change_nothing(manager, cashier):
    client = _client(manager)
    issue_token(user=cashier, name="pos")
    before = accounts_snapshot()
    posts = [
        (reverse("accounts:create"), {"username": "x1", "role": "admin", "password": "Xx-123456"}),
        (reverse("accounts:update_role", args=[cashier.pk]), {"role": "admin"}),
        (reverse("accounts:deactivate", args=[cashier.pk]), {}),
        (
            reverse("accounts:reset_password", args=[cashier.pk]),
            {"new_password1": "Xx-1234567", "new_password2": "Xx-1234567"},
        ),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert client.get(reverse("accounts:detail", args=[cashier.pk])).status_code == 403
    assert accounts_snapshot() == before


def test_create_user_page(admin, store, warehouse):
    client = _client(admin)
    assert client.get(reverse("accounts:create")).status_code == 200
    res = client.post(
        reverse("accounts:create"),
        {
            "username": "han.meimei",
            "name": "韩梅梅",
            "email": "hmm@example.cn",
            "role": "warehouse_operator",
            "sites": [warehouse.pk],
            "password": "Warehouse-2026",
        },
    )
    user = type(admin).objects.get(username="han.meimei")
    assert res.status_code == 302 and res.url == reverse("accounts:detail", args=[user.pk])
    assert (role_of(user), scope_site_ids(user)) == ("warehouse_operator", {warehouse.pk})
    assert user.check_password("Warehouse-2026")
    page = client.get(res.url).content.decode()
    assert "韩梅梅" in page and warehouse.code in page


def test_create_user_refusal_shows_next_to_the_field(admin):
    client = _client(admin)
    before = accounts_snapshot()
    res = client.post(
        reverse("accounts:create"),
        {"username": admin.username, "role": "cashier", "password": "Good-pass-123"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert res.status_code == 200
    assert "This username is taken." in res.content.decode()
    res = client.post(
        reverse("accounts:create"),
        {"username": "newbie", "role": "cashier", "password": "short"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert 'data-testid="field-error"' in res.content.decode()
    assert accounts_snapshot() == before


def test_edit_role_and_sites(admin, store, warehouse, cashier):
    client = _client(admin)
    res = client.post(
        reverse("accounts:update_role", args=[cashier.pk]),
        {"role": "store_manager", "sites": [store.pk, warehouse.pk]},
    )
    assert res.status_code == 302
    user = type(cashier).objects.get(pk=cashier.pk)
    assert (role_of(user), scope_site_ids(user)) == ("store_manager", {store.pk, warehouse.pk})


def test_admin_cannot_demote_or_deactivate_themselves_in_the_ui(admin):
    client = _client(admin)
    before = accounts_snapshot()
    res = client.post(reverse("accounts:update_role", args=[admin.pk]), {"role": "cashier"})
    assert res.status_code == 422
    res = client.post(reverse("accounts:deactivate", args=[admin.pk]), follow=True)
    assert res.status_code == 200
    assert len(list(res.context["messages"])) == 1
    assert accounts_snapshot() == before


def test_deactivate_then_reactivate(admin, cashier):
    client = _client(admin)
    issue_token(user=cashier, name="pos")
    res = client.post(reverse("accounts:deactivate", args=[cashier.pk]))
    assert res.status_code == 302
    cashier.refresh_from_db()
    assert not cashier.is_active
    assert not ApiToken.objects.filter(user=cashier, revoked=False).exists()
    client.post(reverse("accounts:reactivate", args=[cashier.pk]))
    cashier.refresh_from_db()
    assert cashier.is_active


def test_reset_password_page(admin, cashier):
    client = _client(admin)
    url = reverse("accounts:reset_password", args=[cashier.pk])
    res = client.post(url, {"new_password1": "Reset-pass-9", "new_password2": "Mismatch-9"})
    assert res.status_code == 422
    cashier.refresh_from_db()
    assert cashier.check_password("pw-123456")
    res = client.post(url, {"new_password1": "Reset-pass-9", "new_password2": "Reset-pass-9"})
    assert res.status_code == 302
    cashier.refresh_from_db()
    assert cashier.check_password("Reset-pass-9")


def test_user_page_lists_and_revokes_their_tokens(admin, cashier):
    token, _secret = issue_token(user=cashier, name="收银机 3")
    client = _client(admin)
    detail = reverse("accounts:detail", args=[cashier.pk])
    page = client.get(detail).content.decode()
    assert "收银机 3" in page and token.prefix in page
    res = client.post(reverse("accounts:revoke_token", args=[token.pk]), {"next": detail})
    assert (res.status_code, res.url) == (302, detail)
    assert ApiToken.objects.get(pk=token.pk).revoked


def test_change_own_password_keeps_you_logged_in(cashier):
    client = _client(cashier)
    url = reverse("accounts:change_password")
    assert client.get(url).status_code == 200
    before = accounts_snapshot()
    res = client.post(
        url,
        {"old_password": "nope", "new_password1": "Brand-new-77", "new_password2": "Brand-new-77"},
    )
    assert res.status_code == 422
    assert accounts_snapshot() == before
    res = client.post(
        url,
        {
            "old_password": "pw-123456",
            "new_password1": "Brand-new-77",
            "new_password2": "Brand-new-77",
        },
    )
    assert res.status_code == 302
    cashier.refresh_from_db()
    assert cashier.check_password("Brand-new-77")
    assert client.get(reverse("accounts:tokens")).status_code == 200  # session still valid


def test_login_required(db):
    res = Client().get(reverse("accounts:tokens"))
    assert res.status_code == 302 and "/login/" in res.url


def test_deactivation_ends_the_users_open_session(admin, cashier):
    session = _client(cashier)
    assert session.get(reverse("accounts:tokens")).status_code == 200
    _client(admin).post(reverse("accounts:deactivate", args=[cashier.pk]))
    res = session.get(reverse("accounts:tokens"))
    assert res.status_code == 302 and "/login/" in res.url
