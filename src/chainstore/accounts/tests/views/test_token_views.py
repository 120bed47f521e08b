import hashlib

import pytest
from django.test import Client
from django.urls import reverse

from chainstore.accounts.models import ApiToken
from chainstore.accounts.services import authenticate_token, issue_token
from chainstore.accounts.tests.helpers import accounts_snapshot
from chainstore.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_secret_is_shown_exactly_once_and_stored_only_as_a_digest(cashier):
    client = _client(cashier)
    res = client.post(reverse("accounts:tokens"), {"name": "POS 1号机"})
    assert res.status_code == 200
    secret = res.context["secret"]
    html = res.content.decode()
    assert secret.startswith("cs_") and html.count(secret) == 1
    assert "no-store" in res.headers["Cache-Control"]
    token = ApiToken.objects.get(user=cashier)
    assert token.name == "POS 1号机"
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (token.digest, token.prefix) and token.prefix == secret[:10]
    assert secret not in str(list(AuditEvent.objects.values_list("data", flat=True)))
    assert authenticate_token(secret) == cashier
    # The list (and any later visit) shows the prefix, never the secret.
    later = client.get(reverse("accounts:tokens")).content.decode()
    assert token.prefix in later and secret not in later


def test_empty_name_is_refused(cashier):
    before = accounts_snapshot()
    res = _client(cashier).post(reverse("accounts:tokens"), {"name": ""})
    assert res.status_code == 422
    assert res.context["secret"] is None
    assert accounts_snapshot() == before


def test_tokens_page_shows_only_your_own_tokens(cashier, manager):
    issue_token(user=manager, name="manager-script")
    issue_token(user=cashier, name="cashier-pos")
    html = _client(cashier).get(reverse("accounts:tokens")).content.decode()
    assert "cashier-pos" in html and "manager-script" not in html


def test_revoke_own_token(cashier):
    token, secret = issue_token(user=cashier, name="pos")
    res = _client(cashier).post(reverse("accounts:revoke_token", args=[token.pk]))
    assert (res.status_code, res.url) == (302, reverse("accounts:tokens"))
    assert authenticate_token(secret) is None


def test_someone_elses_token_is_not_found_and_untouched(cashier, manager):
    token, secret = issue_token(user=manager, name="manager-script")
    before = accounts_snapshot()
    res = _client(cashier).post(reverse("accounts:revoke_token", args=[token.pk]))
    assert res.status_code == 404
    assert accounts_snapshot() == before
    assert authenticate_token(secret) == manager


def test_revoke_ignores_an_offsite_next(cashier):
    token, _secret = issue_token(user=cashier, name="pos")
    res = _client(cashier).post(
        reverse("accounts:revoke_token", args=[token.pk]), {"next": "https://evil.example/"}
    )
    assert res.url == reverse("accounts:tokens")


def test_user_menu_links(cashier):
    html = _client(cashier).get(reverse("accounts:tokens")).content.decode()
    assert reverse("accounts:change_password") in html
    assert f'href="{reverse("accounts:tokens")}"' in html
    assert f'href="{reverse("accounts:index")}"' not in html  # "Users" is for admins only
