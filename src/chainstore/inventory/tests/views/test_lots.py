"""Lot expiry correction from a lot row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from chainstore.inventory.models import Lot

from .conftest import MILK_GTIN, Warehouse

pytestmark = pytest.mark.django_db


def test_lot_rows_link_to_the_correction_form(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.manager)
    response = client.get(reverse("inventory:lots"), {"site": "W1", "scan": MILK_GTIN})
    assert response.status_code == 200
    [row] = response.context["rows"]
    assert (row["lot"].number, row["on_hand"], row["locations"]) == ("L1", 10_000, ["RECV"])
    lot = Lot.objects.get(sku=wh.milk, number="L1")
    assert reverse("inventory:lot_expiry", args=[lot.pk]) in response.content.decode()


def test_correct_expiry(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.manager)
    lot = Lot.objects.get(sku=wh.milk, number="L1")
    url = reverse("inventory:lot_expiry", args=[lot.pk])
    assert client.get(url).status_code == 200
    new = wh.expiry + dt.timedelta(days=7)
    response = client.post(url, {"expiry_date": new.isoformat(), "site": "W1"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('inventory:lots')}?site=W1&sku={wh.milk.pk}"
    lot.refresh_from_db()
    assert lot.expiry_date == new


def test_bad_date_and_roles_change_nothing(client: Client, wh: Warehouse) -> None:
    lot = Lot.objects.get(sku=wh.milk, number="L1")
    url = reverse("inventory:lot_expiry", args=[lot.pk])
    client.force_login(wh.manager)
    response = client.post(url, {"expiry_date": "2026-02-31"})
    assert response.status_code == 422
    assert response.context["errors"]
    for user in (wh.operator, wh.cashier):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"expiry_date": "2030-01-01"}).status_code == 403
        assert client.get(reverse("inventory:lots")).status_code == 403
    lot.refresh_from_db()
    assert lot.expiry_date == wh.expiry
    client.force_login(wh.manager)
    assert client.get(reverse("inventory:lot_expiry", args=[999_999])).status_code == 404
