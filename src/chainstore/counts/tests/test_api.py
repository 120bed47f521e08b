import json

import pytest

from chainstore.core.testing import ean13, make_sku, make_user
from chainstore.counts.models import CountEntry, CountStatus, StockCount
from chainstore.inventory import services as inventory
from chainstore.inventory.models import Balance, StockOperation
from chainstore.inventory.verify import verify_ledger

from .conftest import put

pytestmark = pytest.mark.django_db
BASE = "/api/v1/counts"


def post(client, url, body=None, **headers):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)


def test_round_trip_create_freeze_scan_recount_approve(client, admin, manager, store, bin_a):
    barcode = ean13(424242)
    sku = make_sku(admin, barcode=barcode, standard_cost_micros=3_500_000)
    lotted = make_sku(admin, tracking="lot", barcode=ean13(434343))
    put(admin, store, sku, bin_a, 10_000, cost=3_500_000)
    put(admin, store, lotted, bin_a, 5_000, lot="B7", cost=1_000_000)
    client.force_login(manager)

    r = post(client, BASE, {"site": store.code, "name": "季度盘点"})
    assert r.status_code == 201, r.content
    count_id = r.json()["id"]
    assert r.json()["status"] == "draft"
    r = post(client, f"{BASE}/{count_id}/freeze")
    assert r.status_code == 200 and r.json()["status"] == "counting"

    inventory.issue(site=store, sku=sku, quantity=3_000, location=bin_a, actor=admin)
    r = post(
        client, f"{BASE}/{count_id}/entries", {"location": "A-01", "scan": barcode, "quantity": "6"}
    )
    assert r.status_code == 201, r.content
    line = r.json()
    assert (line["expected_qty"], line["counted_qty"], line["variance"]) == (
        "7.000",
        "6.000",
        "-1.000",
    )
    assert line["variance_value"] == "-3.50"
    gs1 = f"(01)0{ean13(434343)}(10)B7"
    r = post(
        client, f"{BASE}/{count_id}/entries", {"location": "A-01", "scan": gs1, "quantity": "4.5"}
    )
    assert r.status_code == 201, r.content
    assert (r.json()["lot"], r.json()["variance"]) == ("B7", "-0.500")

    r = post(client, f"{BASE}/{count_id}/recount", {"lines": [line["id"]]})
    assert r.status_code == 200
    assert [ln["id"] for ln in r.json()["lines"]] == [line["id"]]
    r = post(
        client, f"{BASE}/{count_id}/entries", {"location": "A-01", "sku": sku.code, "quantity": "6"}
    )
    assert r.json()["round"] == 2 and r.json()["variance"] == "-1.000"

    r = client.get(f"{BASE}/{count_id}")
    summary = r.json()["summary"]
    assert summary["lines_total"] == 2 and summary["lines_with_variance"] == 2
    assert summary["loss_value"] == "4.00" and summary["accuracy"] == 0.0

    r = post(client, f"{BASE}/{count_id}/approve")
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_required"
    r = post(client, f"{BASE}/{count_id}/approve", HTTP_IDEMPOTENCY_KEY="ap-1")
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "approved" and r.json()["replayed"] is False
    op_id = r.json()["operation_id"]
    r = post(client, f"{BASE}/{count_id}/approve", HTTP_IDEMPOTENCY_KEY="ap-1")
    assert r.status_code == 200 and r.json()["replayed"] is True
    assert r.json()["operation_id"] == op_id
    assert StockOperation.objects.filter(kind="count").count() == 1
    assert Balance.objects.get(location=bin_a, sku=sku).on_hand == 6_000
    assert Balance.objects.get(location=bin_a, sku=lotted).on_hand == 4_500
    assert verify_ledger() == []

    r = client.get(BASE, {"site": store.code, "status": "approved"})
    assert r.status_code == 200
    assert [c["id"] for c in r.json()["items"]] == [count_id]


def test_batch_upload_is_all_or_nothing(client, admin, manager, store, bin_a, sku):
    put(admin, store, sku, bin_a, 2_000)
    client.force_login(manager)
    count_id = post(client, BASE, {"site": store.code, "name": "批量"}).json()["id"]
    post(client, f"{BASE}/{count_id}/freeze")
    good = {"location": "A-01", "sku": sku.code, "quantity": "1"}
    r = post(
        client,
        f"{BASE}/{count_id}/entries/batch",
        {"entries": [good, {"location": "NOPE", "sku": sku.code, "quantity": "1"}]},
    )
    assert r.status_code == 404 and r.json()["code"] == "location_not_found"
    assert CountEntry.objects.count() == 0
    r = post(client, f"{BASE}/{count_id}/entries/batch", {"entries": [good, good]})
    assert r.status_code == 201 and r.json() == {"recorded": 2, "lines": 1}
    detail = client.get(f"{BASE}/{count_id}").json()
    assert detail["lines"][0]["counted_qty"] == "2.000"


def test_refusals_map_to_error_shape_and_change_nothing(client, admin, manager, store, bin_a, sku):
    put(admin, store, sku, bin_a, 2_000)
    other_site_manager = make_user("store_manager", sites=[])
    cashier = make_user("cashier", sites=[store])
    client.force_login(manager)
    count_id = post(client, BASE, {"site": store.code, "name": "权限"}).json()["id"]

    client.force_login(cashier)
    r = post(client, f"{BASE}/{count_id}/freeze")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    client.force_login(other_site_manager)
    r = client.get(f"{BASE}/{count_id}")
    assert r.status_code == 403 and r.json()["code"] == "site_out_of_scope"
    assert client.get(BASE).json()["items"] == []
    client.force_login(manager)
    r = post(
        client, f"{BASE}/{count_id}/entries", {"location": "A-01", "sku": sku.code, "quantity": "1"}
    )
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"
    r = post(client, f"{BASE}/{count_id}/entries", {"location": "A-01", "quantity": "1"})
    assert r.status_code == 422
    assert client.get(f"{BASE}/999999").json()["code"] == "count_not_found"
    assert StockCount.objects.get(pk=count_id).status == CountStatus.DRAFT
    assert CountEntry.objects.count() == 0


def test_api_requires_login(client):
    assert client.get(BASE).status_code == 401
