"""Receiving: scans resolve to lines; posting receives once per idempotency key."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from chainstore.inventory.models import Balance, SiteSku, StockMove, StockOperation
from chainstore.inventory.verify import verify_ledger
from chainstore.web.tests.conftest import MILK_GTIN, Chain

pytestmark = pytest.mark.django_db


def _post(client: Client, site: str, key: str, *lines: tuple[Any, str, str, str]) -> Any:
    return client.post(
        reverse("receiving"),
        {
            "site": site,
            "supplier": "光明乳业",
            "reference": "PO-1",
            "idempotency_key": key,
            "line_sku": [str(line[0]) for line in lines],
            "line_quantity": [line[1] for line in lines],
            "line_lot": [line[2] for line in lines],
            "line_expiry": [line[3] for line in lines],
        },
    )


def _on_hand(site: Any, sku: Any) -> int:
    return SiteSku.objects.get(site=site, sku=sku).on_hand


def _snapshot() -> tuple[int, int, list[tuple[int, int]]]:
    balances = list(Balance.objects.order_by("pk").values_list("pk", "on_hand"))
    return StockMove.objects.count(), StockOperation.objects.count(), balances


def test_receiving_page_has_a_fresh_key_and_the_users_sites(client: Client, chain: Chain) -> None:
    client.force_login(chain.manager_a)
    first = client.get(reverse("receiving")).context["form"]
    second = client.get(reverse("receiving")).context["form"]
    assert first["idempotency_key"].value() != second["idempotency_key"].value()
    assert [code for code, _label in first.fields["site"].widget.choices] == ["SHA01"]


def test_post_receipt_creates_stock_and_a_replay_does_not_double_it(
    client: Client, chain: Chain
) -> None:
    client.force_login(chain.manager_a)
    expiry = (chain.soon + dt.timedelta(days=5)).isoformat()
    lines = [(chain.rice.pk, "3", "", ""), (chain.milk.pk, "2.5", "L-NEW", expiry)]
    response = _post(client, "SHA01", "draft-1", *lines)
    assert response.status_code == 200
    assert response.context["operation"].replayed is False
    assert _on_hand(chain.store_a, chain.rice) == 8_000
    assert _on_hand(chain.store_a, chain.milk) == 12_500
    assert "L-NEW" in response.content.decode()

    replay = _post(client, "SHA01", "draft-1", *lines)
    assert replay.status_code == 200
    assert replay.context["operation"].replayed is True
    assert replay.context["operation"].pk == response.context["operation"].pk
    assert _on_hand(chain.store_a, chain.rice) == 8_000
    assert _on_hand(chain.store_a, chain.milk) == 12_500
    assert StockOperation.objects.filter(idempotency_key="draft-1").count() == 1
    assert verify_ledger() == []


def test_post_for_a_site_outside_scope_is_403_and_changes_nothing(
    client: Client, chain: Chain
) -> None:
    client.force_login(chain.manager_a)
    before = _snapshot()
    response = _post(client, "SHA02", "draft-x", (chain.rice.pk, "1", "", ""))
    assert response.status_code == 403
    assert _snapshot() == before


def test_expired_lot_is_refused_inline_and_changes_nothing(client: Client, chain: Chain) -> None:
    client.force_login(chain.manager_a)
    before = _snapshot()
    yesterday = (chain.soon - dt.timedelta(days=11)).isoformat()
    response = _post(client, "SHA01", "draft-2", (chain.milk.pk, "1", "L-OLD", yesterday))
    assert response.status_code == 409
    assert response.context["errors"] == ["MILK1L / L-OLD: 该批次已过期，不能收货。"]
    assert response.context["receiving_config"]["lines"][0]["lot"] == "L-OLD"
    assert _snapshot() == before


def test_missing_lot_is_refused_in_english_when_english_is_chosen(
    client: Client, chain: Chain
) -> None:
    client.force_login(chain.manager_a)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    before = _snapshot()
    response = _post(client, "SHA01", "draft-3", (chain.milk.pk, "1", "", ""))
    assert response.status_code == 409
    assert response.context["errors"] == ["MILK1L: This SKU is lot-tracked: enter a lot number."]
    assert _snapshot() == before


def test_invalid_quantity_is_refused_before_the_service(client: Client, chain: Chain) -> None:
    client.force_login(chain.manager_a)
    before = _snapshot()
    response = _post(client, "SHA01", "draft-4", (chain.rice.pk, "0", "", ""))
    assert response.status_code == 422
    assert len(response.context["errors"]) == 1
    assert _snapshot() == before


def test_scan_gs1_returns_sku_lot_and_expiry(client: Client, chain: Chain) -> None:
    client.force_login(chain.manager_a)
    expiry = chain.later
    raw = f"010{MILK_GTIN}17{expiry:%y%m%d}10LOT-77"
    data = client.post(reverse("receiving_scan"), {"code": raw, "site": "SHA01"}).json()
    assert data == {
        "ok": True,
        "line": {
            "sku": chain.milk.pk,
            "code": "MILK1L",
            "name": "光明鲜牛奶 1L",
            "unit": "pcs",
            "lot_tracked": True,
            "lot": "LOT-77",
            "expiry": expiry.isoformat(),
            "gs1": True,
            "quantity": "1",
        },
    }


def test_scan_plain_ean_of_untracked_sku(client: Client, chain: Chain) -> None:
    client.force_login(chain.manager_a)
    barcode = chain.rice.barcodes.get().code
    data = client.post(reverse("receiving_scan"), {"code": barcode}).json()
    assert data["ok"] is True
    assert (data["line"]["code"], data["line"]["lot"], data["line"]["gs1"]) == (
        "RICE5KG",
        "",
        False,
    )


def test_scan_unknown_barcode_is_a_translated_message(client: Client, chain: Chain) -> None:
    client.force_login(chain.manager_a)
    response = client.post(reverse("receiving_scan"), {"code": "6900000000007"})
    assert response.status_code == 422
    assert response.json() == {"ok": False, "message": "06900000000007: 没有商品使用此条码。"}


def test_scan_expired_gs1_lot_is_refused(client: Client, chain: Chain) -> None:
    client.force_login(chain.manager_a)
    past = chain.soon - dt.timedelta(days=40)
    raw = f"010{MILK_GTIN}17{past:%y%m%d}10OLD"
    response = client.post(reverse("receiving_scan"), {"code": raw, "site": "SHA01"})
    assert response.status_code == 409
    assert response.json()["message"] == "MILK1L / OLD: 该批次已过期，不能收货。"


def test_scan_requires_post_and_permission(client: Client, chain: Chain) -> None:
    client.force_login(chain.cashier_a)
    assert client.get(reverse("receiving_scan")).status_code == 405
    assert client.post(reverse("receiving_scan"), {"code": MILK_GTIN}).status_code == 403
