"""上架 put-away and bin moves: pick a line at the source, scan the bin, post once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from chainstore.inventory.models import Lot, StockOperation
from chainstore.inventory.verify import verify_ledger

from .conftest import MILK_GTIN, Warehouse, on_hand, snapshot

pytestmark = pytest.mark.django_db


def _post(client: Client, wh: Warehouse, **fields: Any) -> Any:
    data = {
        "site": "W1",
        "source": "RECV",
        "sku": str(wh.milk.pk),
        "lot": str(Lot.objects.get(sku=wh.milk, number="L1").pk),
        "destination": "A-01",
        "quantity": "4",
        "idempotency_key": "put-1",
    }
    data.update(fields)
    return client.post(reverse("inventory:putaway"), data)


def test_putaway_lists_receiving_stock_and_defaults_to_the_receiving_location(
    client: Client, wh: Warehouse
) -> None:
    client.force_login(wh.operator)
    response = client.get(reverse("inventory:putaway"), {"site": "W1"})
    assert response.status_code == 200
    assert response.context["source"] == wh.receiving
    lines = list(response.context["page"])
    assert [(b.sku.code, b.lot.number if b.lot else None, b.available) for b in lines] == [
        ("MILK1L", "L1", 10_000),
        ("RICE", None, 5_500),
    ]
    assert response.context["line"] is None


def test_scanning_a_gs1_code_selects_the_lot_and_defaults_to_all_available(
    client: Client, wh: Warehouse
) -> None:
    client.force_login(wh.operator)
    gs1 = f"01{MILK_GTIN.zfill(14)}17{wh.expiry:%y%m%d}10L1"
    response = client.get(reverse("inventory:putaway"), {"site": "W1", "scan": gs1})
    line = response.context["line"]
    assert (line.sku, line.lot.number, line.location) == (wh.milk, "L1", wh.receiving)
    assert response.context["form"]["quantity"].value() == "10"
    body = response.content.decode()
    assert 'data-testid="destination-input"' in body


def test_tapping_a_line_selects_it(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.operator)
    response = client.get(
        reverse("inventory:putaway"), {"site": "W1", "source": "RECV", "sku": wh.rice.pk}
    )
    line = response.context["line"]
    assert (line.sku, line.lot, line.available) == (wh.rice, None, 5_500)
    assert response.context["form"]["quantity"].value() == "5.5"


def test_scanning_a_sku_that_is_not_at_the_source_says_so(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.operator)
    response = client.get(
        reverse("inventory:putaway"), {"site": "W1", "source": "A-01", "scan": MILK_GTIN}
    )
    assert response.context["line"] is None
    assert "MILK1L" in response.context["errors"][0]


def test_putaway_moves_once_and_a_replay_of_the_same_form_does_not_move_again(
    client: Client, wh: Warehouse
) -> None:
    client.force_login(wh.operator)
    response = _post(client, wh)
    assert response.status_code == 200
    operation = response.context["operation"]
    assert operation.kind == "putaway" and operation.replayed is False
    assert on_hand(wh.bin_a, wh.milk, "L1") == 4_000
    assert on_hand(wh.receiving, wh.milk, "L1") == 6_000
    assert 'data-testid="op-result"' in response.content.decode()
    # The screen stays ready for the next item with a fresh form key.
    assert response.context["line"] is None
    assert response.context["source"] == wh.receiving

    replay = _post(client, wh)
    assert replay.status_code == 200
    assert replay.context["operation"].pk == operation.pk
    assert replay.context["operation"].replayed is True
    assert 'data-testid="op-replayed"' in replay.content.decode()
    assert on_hand(wh.bin_a, wh.milk, "L1") == 4_000
    assert on_hand(wh.receiving, wh.milk, "L1") == 6_000
    assert StockOperation.objects.filter(idempotency_key="put-1").count() == 1
    assert verify_ledger() == []


def test_putaway_of_a_weighed_sku_in_kg(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.operator)
    response = _post(client, wh, sku=str(wh.rice.pk), lot="", quantity="2.125")
    assert response.status_code == 200
    assert on_hand(wh.bin_a, wh.rice) == 2_125
    assert on_hand(wh.receiving, wh.rice) == 3_375


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"quantity": "11"}, 409, "Not enough available stock"),
        ({"quantity": "1.2345"}, 422, "at most 3 decimal places"),
        ({"quantity": "0"}, 422, "other than zero"),
        ({"quantity": "abc"}, 422, "Enter a number"),
        ({"destination": "Z-99"}, 422, "no location Z-99"),
        ({"destination": "DAMAGED"}, 422, "not a storage bin"),
        ({"destination": "STOCK"}, 422, "not a storage bin"),
    ],
)
def test_refusals_are_shown_inline_and_change_nothing(
    client: Client, wh: Warehouse, fields: dict[str, str], status: int, message: str
) -> None:
    client.force_login(wh.operator)
    before = snapshot()
    response = _post(client, wh, **fields)
    assert response.status_code == status
    assert any(message in e for e in response.context["errors"]), response.context["errors"]
    assert snapshot() == before
    # The line stays selected with what was typed, ready to correct.
    assert response.context["line"].sku == wh.milk


def test_refusal_messages_are_translated(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.operator)
    client.cookies["django_language"] = "zh-hans"
    before = snapshot()
    response = _post(client, wh, quantity="11")
    assert response.status_code == 409
    assert "可用库存不足" in response.content.decode()
    response = _post(client, wh, destination="DAMAGED", idempotency_key="put-2")
    assert "DAMAGED 不是存储库位" in response.content.decode()
    assert snapshot() == before


def test_out_of_scope_site_is_403_and_changes_nothing(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.operator)
    assert client.get(reverse("inventory:putaway"), {"site": "W2"}).status_code == 403
    before = snapshot()
    response = _post(client, wh, site="W2", sku=str(wh.rice.pk), lot="", destination="A-01")
    assert response.status_code == 403
    assert snapshot() == before


def test_cashier_may_not_open_put_away(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.cashier)
    assert client.get(reverse("inventory:putaway")).status_code == 403
    before = snapshot()
    assert _post(client, wh).status_code == 403
    assert snapshot() == before


def test_bin_move_from_any_bin_to_another(client: Client, wh: Warehouse) -> None:
    client.force_login(wh.operator)
    _post(client, wh, quantity="10")
    page = client.get(reverse("inventory:move"), {"site": "W1"})
    assert page.context["source"] is None  # a move starts by scanning the source bin
    page = client.get(reverse("inventory:move"), {"site": "W1", "scan": "A-01"})
    assert page.context["source"] == wh.bin_a  # a bin scanned into the scan field is the source
    lot = Lot.objects.get(sku=wh.milk, number="L1")
    data = {
        "site": "W1",
        "source": "A-01",
        "sku": wh.milk.pk,
        "lot": lot.pk,
        "destination": "a-02",
        "quantity": "2.5",
        "idempotency_key": "move-1",
    }
    response = client.post(reverse("inventory:move"), data)
    assert response.status_code == 200
    assert response.context["operation"].kind == "move"
    assert (on_hand(wh.bin_a, wh.milk), on_hand(wh.bin_b, wh.milk)) == (7_500, 2_500)
    client.post(reverse("inventory:move"), data)
    assert (on_hand(wh.bin_a, wh.milk), on_hand(wh.bin_b, wh.milk)) == (7_500, 2_500)
    before = snapshot()
    same = client.post(
        reverse("inventory:move"), {**data, "destination": "A-01", "idempotency_key": "m2"}
    )
    assert same.status_code == 422
    assert "Source and destination are the same." in same.context["errors"]
    assert snapshot() == before
    assert verify_ledger() == []
