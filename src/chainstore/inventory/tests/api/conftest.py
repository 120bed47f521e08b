import pytest
from django.test import Client

from chainstore.accounts.services import issue_token


@pytest.fixture
def api(admin):
    """A logged-in browser session (the plain test client does not enforce CSRF)."""
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def admin_token(admin):
    return issue_token(user=admin, name="test")[1]
