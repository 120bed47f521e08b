"""Safety stock: set, change and clear per site; links from the SKU page and the alerts."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from chainstore.inventory.models import SiteSku

from .conftest import MILK_GTIN, Warehouse

pytestmark = pytest.mark.django_db


def _safety(wh: Warehouse, site: Any = None) -> int | None:
    row = SiteSku.objects.filter(site=site or wh.site, sku=wh.rice).first()
    return row.safety_stock if row else None


def test_set_then_clear_and_return_to_the_page_it_came_from(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.manager)
    page = client.get(reverse("inventory:safety_stock"), {"site": "W1", "sku": wh.rice.pk})
    assert page.status_code == 200
    assert page.context["current"] is None
    back = reverse("sku_detail", args=[wh.rice.pk]) + "?site=W1"
    response = client.post(
        reverse("inventory:safety_stock"),
        {"site": "W1", "sku": wh.rice.pk, "quantity": "12.5", "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    assert _safety(wh) == 12_500
    follow = client.get(back)
    assert "Safety stock of RICE at W1 set to 12.5 kg." in follow.content.decode()

    response = client.post(
        reverse("inventory:safety_stock"), {"site": "W1", "sku": wh.rice.pk, "quantity": ""}
    )
    assert response.status_code == 302
    assert _safety(wh) is None


def test_scan_finds_the_sku_and_external_next_urls_are_ignored(
    client: Client, wh: Warehouse
) -> None:
    client.force_login(wh.manager)
    page = client.get(reverse("inventory:safety_stock"), {"site": "W1", "scan": MILK_GTIN})
    assert page.context["sku"] == wh.milk
    response = client.post(
        reverse("inventory:safety_stock"),
        {"site": "W1", "sku": wh.rice.pk, "quantity": "1", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("inventory:safety_stock") + "?site=W1"


def test_bad_quantities_change_nothing(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.manager)
    for quantity, message in (("-1", "cannot be negative"), ("1.0001", "3 decimal places")):
        response = client.post(
            reverse("inventory:safety_stock"),
            {"site": "W1", "sku": wh.rice.pk, "quantity": quantity},
        )
        assert response.status_code == 422
        assert any(message in e for e in response.context["errors"])
    assert _safety(wh) is None


def test_roles_and_scope(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.operator)  # operators do not set safety stock
    assert client.get(reverse("inventory:safety_stock")).status_code == 403
    data = {"site": "W1", "sku": wh.rice.pk, "quantity": "3"}
    assert client.post(reverse("inventory:safety_stock"), data).status_code == 403
    client.force_login(wh.manager)
    response = client.post(reverse("inventory:safety_stock"), {**data, "site": "W2"})
    assert response.status_code == 403
    assert _safety(wh) is None and _safety(wh, wh.other) is None
    client.force_login(wh.planner)  # chain-wide planner may set it anywhere
    assert client.post(reverse("inventory:safety_stock"), {**data, "site": "W2"}).status_code == 302
    assert _safety(wh, wh.other) == 3_000


def test_links_on_the_sku_page_and_the_alerts_page(client: Client, wh: Warehouse) -> None:
    url = reverse("inventory:safety_stock")
    client.force_login(wh.manager)
    client.post(url, {"site": "W1", "sku": wh.rice.pk, "quantity": "9"})
    detail = client.get(reverse("sku_detail", args=[wh.rice.pk])).content.decode()
    assert f"{url}?site=W1&amp;sku={wh.rice.pk}" in detail
    alerts = client.get(reverse("safety_alerts")).content.decode()
    assert f"{url}?site=W1&amp;sku={wh.rice.pk}" in alerts
    client.force_login(wh.operator)
    assert url not in client.get(reverse("sku_detail", args=[wh.rice.pk])).content.decode()
    assert url not in client.get(reverse("safety_alerts")).content.decode()
