"""Input the database cannot store (a NUL character in a query, a number out of range) is a
4xx with the error shape, never a 500, on every backend."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_nul_character_in_a_query_is_bad_input(admin):
    client = Client()
    client.force_login(admin)
    response = client.get("/api/v1/fulfilment/trace/lots", {"sku": "\x00", "lot": "x"})
    assert 400 <= response.status_code < 500
    assert "code" in response.json()


@pytest.mark.parametrize(
    "query", ["offset=99999999999999999999", "limit=99999999999999999999", "offset=-5", "limit=0"]
)
def test_list_pages_out_of_range_are_422(admin, query):
    client = Client()
    client.force_login(admin)
    response = client.get(f"/api/v1/catalog/skus?{query}")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
