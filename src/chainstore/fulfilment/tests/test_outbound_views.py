"""Smoke tests of the check, shipment and trace screens: roles, scope, escaping."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from chainstore.core.testing import make_site
from chainstore.fulfilment.services import outbound
from chainstore.fulfilment.services.tracking import run_simulated_carrier
from chainstore.fulfilment.tests.test_outbound_support import (
    build_world,
    expected_g,
    logged_in,
    scan_all,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return build_world(admin)


def shipped(world, *lines, **kw):
    shipment = world.picked(*lines, **kw)
    scan_all(world, shipment)
    outbound.complete_check(shipment=shipment, actor=world.operator, weight_g=expected_g(shipment))
    outbound.pack(shipment=shipment, actor=world.operator)
    outbound.ship(shipment=shipment, actor=world.operator, idempotency_key=shipment.number)
    shipment.refresh_from_db()
    return shipment


def config_of(response):
    match = re.search(
        r'<script id="check-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(match.group(1))


def test_check_screen_for_a_checker(world):
    response = logged_in(world.operator).get(reverse("fulfilment:check"), {"scan": "SO1"})
    assert response.status_code == 200
    config = config_of(response)
    assert config["sites"] == [{"code": world.site.code, "name": world.site.name}]
    assert config["site"] == world.site.code  # the only site is preselected
    assert config["scan"] == "SO1"
    assert config["lookupUrl"] == "/api/v1/fulfilment/check/lookup"
    assert config["shipmentUrl"] == "/api/v1/fulfilment/shipments/__N__"
    assert config["canOverride"] is False
    assert config_of(logged_in(world.manager).get(reverse("fulfilment:check")))["canOverride"]
    body = response.content.decode()
    assert 'name="viewport"' in body and "fulfilment/check.js" in body
    assert 'name="csrfmiddlewaretoken"' in body or "csrf-token" in body


def test_check_screen_refuses_other_roles_and_anonymous(world):
    assert (
        logged_in(world.user("cashier", world.site)).get(reverse("fulfilment:check")).status_code
        == 403
    )
    anonymous = Client().get(reverse("fulfilment:check"))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_check_screen_lists_only_sites_in_scope(world, admin):
    other = make_site(admin, "cdc")
    from chainstore.fulfilment.models import ShipFromSite

    ShipFromSite.objects.create(site=other)
    config = config_of(logged_in(world.operator).get(reverse("fulfilment:check")))
    assert [s["code"] for s in config["sites"]] == [world.site.code]
    config = config_of(logged_in(world.admin).get(reverse("fulfilment:check")))
    assert sorted(s["code"] for s in config["sites"]) == sorted([world.site.code, other.code])
    assert config["site"] == ""


def test_shipment_detail_shows_lots_parcels_tracking_and_the_map(world):
    shipment = shipped(world, (world.milk, 2))
    run_simulated_carrier(steps=None)
    response = logged_in(world.operator).get(
        reverse("fulfilment:shipment_detail", args=[shipment.number])
    )
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("M-SOON", "M-LATE", world.bin_a.code, shipment.parcels.get().tracking_number):
        assert text in body
    assert 'data-testid="journey-map"' in body
    events = shipment.parcels.get().tracking.exclude(latitude=None).count()
    assert body.count('data-testid="journey-point"') == events + 2  # + origin and customer
    assert "张*" in body and "张三" not in body


def test_shipment_detail_respects_scope_and_escapes(world, admin):
    shipment = world.picked((world.noodles, 1))
    order = shipment.order
    order.city = '<img src=x onerror="alert(1)">'
    order.save(update_fields=["city"])
    response = logged_in(world.operator).get(
        reverse("fulfilment:shipment_detail", args=[shipment.number])
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<img src=x" not in body and "&lt;img src=x" in body
    stranger = world.user("warehouse_operator", make_site(admin, "cdc"))
    url = reverse("fulfilment:shipment_detail", args=[shipment.number])
    assert logged_in(stranger).get(url).status_code == 403
    missing = reverse("fulfilment:shipment_detail", args=["SH-NOPE"])
    assert logged_in(world.operator).get(missing).status_code == 404


def test_trace_screen_both_directions(world):
    shipment = shipped(world, (world.milk, 1), customer_name="王芳")
    client = logged_in(world.manager)
    url = reverse("fulfilment:trace")
    assert client.get(url).status_code == 200
    lot = client.get(url, {"sku": world.milk.code, "lot": "M-SOON"})
    body = lot.content.decode()
    assert lot.status_code == 200 and 'data-testid="lot-results"' in body
    assert shipment.number in body and "王*" in body and "王芳" not in body
    assert "/api/v1/fulfilment/trace/lots.csv?" in body
    order = client.get(url, {"order": shipment.order.number})
    body = order.content.decode()
    assert 'data-testid="order-results"' in body and "M-SOON" in body
    assert world.operator.username in body
    missing = client.get(url, {"sku": world.milk.code, "lot": "NOPE"})
    assert 'data-testid="trace-error"' in missing.content.decode()


def test_trace_screen_roles_and_scope(world, admin):
    shipment = shipped(world, (world.milk, 1))
    url = reverse("fulfilment:trace")
    assert logged_in(world.user("cashier", world.site)).get(url).status_code == 403
    assert logged_in(world.operator).get(url).status_code == 403
    outsider = logged_in(world.user("warehouse_manager", make_site(admin, "cdc")))
    body = outsider.get(url, {"order": shipment.order.number}).content.decode()
    assert 'data-testid="trace-error"' in body and "M-SOON" not in body
    body = outsider.get(url, {"sku": world.milk.code, "lot": "M-SOON"}).content.decode()
    assert shipment.number not in body
    assert (
        logged_in(world.user("auditor")).get(url, {"order": shipment.order.number}).status_code
        == 200
    )
