"""The walking layout of a site (pick routes): set and read over the API, validated."""

from decimal import Decimal

import pytest
from django.test import Client

from chainstore.core.testing import make_bin, make_site, make_user

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_layout_round_trip_and_validation(admin):
    site = make_site(admin, "cdc")
    c = _client(admin)
    url = f"/api/v1/sites/{site.code}/layout"
    missing = c.get(url)
    assert missing.status_code == 404 and missing.json()["code"] == "layout_not_found"
    body = {"cross_aisles": ["30", "0"], "aisles": ["3", "6"], "depot_x": "0", "depot_y": "0"}
    r = c.put(url, body, content_type="application/json")
    assert r.status_code == 200, r.content
    assert [float(y) for y in r.json()["cross_aisles"]] == [0.0, 30.0]
    stored = c.get(url).json()
    assert stored["aisles"] == r.json()["aisles"] and stored["derived"] is False
    bad = {**body, "cross_aisles": ["5", "5"]}
    r = c.put(url, bad, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "invalid_layout"
    outside = {**body, "depot_y": "40"}
    assert c.put(url, outside, content_type="application/json").json()["code"] == "invalid_layout"


def test_without_a_stored_layout_the_bins_give_one(admin):
    site = make_site(admin, "cdc")
    for code, x, y in (("A-01", "3", "1.2"), ("A-02", "3", "2.4"), ("B-01", "6", "1.2")):
        make_bin(admin, site, code=code, x=Decimal(x), y=Decimal(y))
    url = f"/api/v1/sites/{site.code}/layout"

    derived = _client(admin).get(url)

    assert derived.status_code == 200, derived.content
    body = derived.json()
    assert body["derived"] is True
    assert [Decimal(x) for x in body["aisles"]] == [3, 6]
    assert [Decimal(y) for y in body["cross_aisles"]] == [Decimal("0.2"), Decimal("3.4")]
    assert (Decimal(body["depot_x"]), Decimal(body["depot_y"])) == (3, Decimal("0.2"))
    # saving exactly what was derived makes it a stored layout
    put = {k: body[k] for k in ("cross_aisles", "aisles", "depot_x", "depot_y")}
    assert _client(admin).put(url, put, content_type="application/json").status_code == 200
    assert _client(admin).get(url).json() == {**body, "derived": False}


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
