"""出库 manual issue: FEFO across lots, the lots taken are shown, refusals change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from chainstore.core import testing
from chainstore.inventory.models import StockOperation
from chainstore.inventory.services import put_away
from chainstore.inventory.verify import verify_ledger

from .conftest import MILK_GTIN, Warehouse, on_hand, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelved(wh: Warehouse) -> Warehouse:
    """Milk on the shelf in two lots: L1 (receiving → A-01) and an earlier-expiring L0."""
    testing.stock(wh.admin, wh.site, wh.milk, 3_000, lot="L0", expiry=wh.expiry - dt.timedelta(5))
    for lot in ("L0", "L1"):
        put_away(
            sku=wh.milk,
            lot=wh.milk.lots.get(number=lot),
            quantity=3_000,
            from_location=wh.receiving,
            to_location=wh.bin_a,
            actor=wh.admin,
        )
    return wh


def _post(client: Client, wh: Warehouse, **fields: Any) -> Any:
    data = {
        "site": "W1",
        "sku": wh.milk.pk,
        "quantity": "4",
        "reason": "sample",
        "reference": "试吃",
        "idempotency_key": "iss-1",
    }
    data.update(fields)
    return client.post(reverse("inventory:issue"), data)


def test_issue_page_shows_what_can_be_issued(client: Client, shelved: Warehouse) -> None:
    client.force_login(shelved.operator)
    response = client.get(reverse("inventory:issue"), {"site": "W1", "scan": MILK_GTIN})
    assert response.status_code == 200
    assert [(b.location.code, b.lot.number) for b in response.context["stock"]] == [
        ("A-01", "L0"),
        ("A-01", "L1"),
    ]


def test_issue_takes_the_first_expiring_lot_first_and_shows_the_lots(
    client: Client, shelved: Warehouse
) -> None:
    client.force_login(shelved.operator)
    response = _post(client, shelved)
    assert response.status_code == 200
    taken = [(m.lot.number, m.quantity) for m in response.context["moves"]]
    assert taken == [("L0", 3_000), ("L1", 1_000)]
    body = response.content.decode()
    assert body.count('data-testid="result-lot"') == 2
    assert on_hand(shelved.bin_a, shelved.milk) == 2_000
    replay = _post(client, shelved)
    assert replay.context["operation"].replayed is True
    assert on_hand(shelved.bin_a, shelved.milk) == 2_000
    assert StockOperation.objects.filter(idempotency_key="iss-1").count() == 1
    assert verify_ledger() == []


def test_issuing_more_than_available_is_409_and_changes_nothing(
    client: Client, shelved: Warehouse
) -> None:
    client.force_login(shelved.operator)
    before = snapshot()
    response = _post(client, shelved, quantity="6.5")
    assert response.status_code == 409
    assert "Not enough available stock" in response.context["errors"][0]
    assert "Available: 6." in response.context["errors"][0]
    assert snapshot() == before


def test_receiving_stock_is_not_issued(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.operator)
    before = snapshot()
    response = _post(client, wh, quantity="1")
    assert response.status_code == 409
    assert snapshot() == before


def test_bad_quantity_and_roles(client: Client, shelved: Warehouse) -> None:
    before = snapshot()
    client.force_login(shelved.operator)
    response = _post(client, shelved, quantity="1.0005")
    assert response.status_code == 422
    assert snapshot() == before
    assert client.get(reverse("inventory:issue"), {"site": "W2"}).status_code == 403
    assert _post(client, shelved, site="W2", sku=shelved.rice.pk).status_code == 403
    client.force_login(shelved.cashier)
    assert client.get(reverse("inventory:issue")).status_code == 403
    assert _post(client, shelved).status_code == 403
    assert snapshot() == before
