import pytest
from django.test import Client


@pytest.fixture
def api(admin):
    client = Client()
    client.force_login(admin)
    return client
