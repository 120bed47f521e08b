"""The operations hub lists what the role may do, at the user's sites."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import Warehouse

pytestmark = pytest.mark.django_db


def _tiles(client: Client) -> list[str]:
    response = client.get(reverse("inventory:index"))
    assert response.status_code == 200
    return [t["url"] for t in response.context["tiles"]]


def test_operator_sees_moves_issue_and_receiving_at_their_site(
    client: Client, wh: Warehouse
) -> None:
    client.force_login(wh.operator)
    assert _tiles(client) == [
        reverse("inventory:putaway"),
        reverse("inventory:move"),
        reverse("inventory:issue"),
        reverse("receiving"),
    ]
    response = client.get(reverse("inventory:index"))
    assert [s.code for s in response.context["sites"]] == ["W1"]
    assert f"{reverse('inventory:putaway')}?site=W1" in response.content.decode()


def test_manager_also_adjusts_sets_safety_stock_and_corrects_lots(
    client: Client, wh: Warehouse
) -> None:
    client.force_login(wh.manager)
    tiles = _tiles(client)
    for name in ("adjust", "safety_stock", "lots"):
        assert reverse(f"inventory:{name}") in tiles


def test_planner_sees_only_safety_stock(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.planner)
    assert _tiles(client) == [reverse("inventory:safety_stock")]


def test_cashier_gets_403_and_no_menu_entry(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.cashier)
    assert client.get(reverse("inventory:index")).status_code == 403
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert reverse("inventory:index") not in dashboard
    client.force_login(wh.operator)
    assert reverse("inventory:index") in client.get(reverse("dashboard")).content.decode()


def test_anonymous_is_sent_to_login(client: Client, wh: Warehouse) -> None:
    response = client.get(reverse("inventory:index"))
    assert response.status_code == 302 and "/login/" in response["Location"]
