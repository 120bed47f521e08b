"""The walking layout of a site (pick routes): set and read over the API, validated."""

import pytest
from django.test import Client

from chainstore.core.testing import make_site, make_user

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_layout_round_trip_and_validation(admin):
    site = make_site(admin, "cdc")
    c = _client(admin)
    url = f"/api/v1/sites/{site.code}/layout"
    assert c.get(url).status_code == 404
    body = {"cross_aisles": ["30", "0"], "aisles": ["3", "6"], "depot_x": "0", "depot_y": "0"}
    r = c.put(url, body, content_type="application/json")
    assert r.status_code == 200, r.content
    assert [float(y) for y in r.json()["cross_aisles"]] == [0.0, 30.0]
    assert c.get(url).json()["aisles"] == r.json()["aisles"]
    bad = {**body, "cross_aisles": ["5", "5"]}
    r = c.put(url, bad, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "invalid_layout"
    outside = {**body, "depot_y": "40"}
    assert c.put(url, outside, content_type="application/json").json()["code"] == "invalid_layout"


def test_layout_needs_location_rights_at_the_site(admin):
    site = make_site(admin, "cdc")
    other = make_site(admin, "cdc")
    manager = make_user("warehouse_manager", sites=[other])
    body = {"cross_aisles": ["0", "30"], "depot_x": "0", "depot_y": "0"}
    r = _client(manager).put(
        f"/api/v1/sites/{site.code}/layout", body, content_type="application/json"
    )
    assert r.status_code in (403, 404)
    operator = make_user("warehouse_operator", sites=[site])
    r = _client(operator).put(
        f"/api/v1/sites/{site.code}/layout", body, content_type="application/json"
    )
    assert r.status_code == 403
