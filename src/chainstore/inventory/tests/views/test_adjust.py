"""Adjustments: a loss from a chosen lot, a gain into a new lot, refusals change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from chainstore.inventory.models import Lot, StockMove, StockOperation
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.models import LocationKind

from .conftest import MILK_GTIN, Warehouse, on_hand, snapshot

pytestmark = pytest.mark.django_db


def _post(client: Client, **fields: Any) -> Any:
    data = {
        "site": "W1",
        "location": "RECV",
        "lot": "L1",
        "direction": "loss",
        "quantity": "2",
        "reason": "damage",
        "note": "破损",
        "idempotency_key": "adj-1",
    }
    data.update(fields)
    return client.post(reverse("inventory:adjust"), data)


def test_adjust_page_lists_the_lots_at_the_location_and_translated_reasons(
    client: Client, wh: Warehouse
) -> None:
    client.force_login(wh.manager)
    response = client.get(
        reverse("inventory:adjust"), {"site": "W1", "location": "RECV", "scan": MILK_GTIN}
    )
    assert response.status_code == 200
    assert response.context["sku"] == wh.milk
    assert [b.lot.number for b in response.context["lots"]] == ["L1"]
    client.cookies["django_language"] = "zh-hans"
    body = client.get(
        reverse("inventory:adjust"), {"site": "W1", "location": "RECV", "sku": wh.milk.pk}
    ).content.decode()
    assert ">损坏<" in body and ">丢失<" in body and ">Lost<" not in body


def test_a_loss_posts_once(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.manager)
    response = _post(client, sku=wh.milk.pk)
    assert response.status_code == 200
    move = StockMove.objects.get(operation=response.context["operation"])
    assert (move.reason, move.quantity, move.to_location.kind) == (
        "damage",
        2_000,
        LocationKind.ADJUSTMENT,
    )
    assert on_hand(wh.receiving, wh.milk, "L1") == 8_000
    replay = _post(client, sku=wh.milk.pk)
    assert replay.context["operation"].replayed is True
    assert on_hand(wh.receiving, wh.milk, "L1") == 8_000
    assert StockOperation.objects.filter(idempotency_key="adj-1").count() == 1


def test_a_typed_minus_sign_is_a_loss_and_kg_are_allowed(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.manager)
    response = _post(client, sku=wh.rice.pk, lot="", direction="gain", quantity="-0.25")
    assert response.status_code == 200
    assert on_hand(wh.receiving, wh.rice) == 5_250


def test_a_gain_into_a_new_lot_with_its_expiry(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.manager)
    expiry = wh.expiry + dt.timedelta(days=3)
    response = _post(
        client,
        sku=wh.milk.pk,
        location="A-01",
        lot="",
        new_lot="L9",
        new_expiry=expiry.isoformat(),
        direction="gain",
        quantity="3",
        reason="found",
    )
    assert response.status_code == 200
    assert on_hand(wh.bin_a, wh.milk, "L9") == 3_000
    assert Lot.objects.get(sku=wh.milk, number="L9").expiry_date == expiry
    assert verify_ledger() == []


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"quantity": "10.5"}, 409, "Not enough available stock"),
        ({"quantity": "0.0001"}, 422, "at most 3 decimal places"),
        ({"lot": ""}, 422, "enter a lot number"),
        ({"reason": "gift"}, 422, "Select a valid choice"),
        ({"location": "NOPE"}, 422, "no location NOPE"),
    ],
)
def test_refusals_change_nothing(
    client: Client, wh: Warehouse, fields: dict[str, str], status: int, message: str
) -> None:
    client.force_login(wh.manager)
    before = snapshot()
    response = _post(client, sku=wh.milk.pk, **fields)
    assert response.status_code == status
    assert any(message in e for e in response.context["errors"]), response.context["errors"]
    assert snapshot() == before


def test_operator_and_cashier_may_not_adjust(client: Client, wh: Warehouse) -> None:
    before = snapshot()
    for user in (wh.operator, wh.cashier):
        client.force_login(user)
        assert client.get(reverse("inventory:adjust")).status_code == 403
        assert _post(client, sku=wh.milk.pk).status_code == 403
    assert snapshot() == before


def test_out_of_scope_site_is_403(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.manager)
    before = snapshot()
    assert client.get(reverse("inventory:adjust"), {"site": "W2"}).status_code == 403
    response = _post(client, site="W2", location="STOCK", sku=wh.rice.pk, lot="")
    assert response.status_code == 403
    assert snapshot() == before
