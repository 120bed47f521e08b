"""The execution API through the mounted URLs: pick, ship, receive, resolve, ageing."""

from __future__ import annotations

import pytest

from chainstore.inventory.verify import verify_ledger
from chainstore.transfers.tests.test_execution_support import (
    U,
    assert_conserved,
    barcode,
    build_world,
)

API = "/api/v1/transfers"


@pytest.fixture
def world(admin):
    return build_world(admin)


def _post(client, url, data, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, data, content_type="application/json", **headers)


def test_a_transfer_through_the_api(world, client):
    t = world.transfer((world.rice, 5 * U), (world.milk, 2 * U))
    client.force_login(world.op)

    tasks = client.get(f"{API}/{t.number}/pick-list").json()
    assert [task["sequence"] for task in tasks] == list(range(1, len(tasks) + 1))
    for task in tasks:
        sku = world.rice if task["sku"] == world.rice.code else world.milk
        body = {
            "bin_scan": task["bin"],
            "item_scan": barcode(sku),
            "lot_scan": task["lot"],
            "quantity": task["quantity"],
        }
        first = _post(client, f"{API}/lots/{task['id']}/pick", body, key=f"p{task['id']}")
        assert first.status_code == 201, first.content
        again = _post(client, f"{API}/lots/{task['id']}/pick", body, key=f"p{task['id']}")
        assert again.status_code == 200 and again.json()["replayed"]

    missing_key = _post(client, f"{API}/{t.number}/ship", {"freight": "100.00"})
    assert (
        missing_key.status_code == 422 and missing_key.json()["code"] == "idempotency_key_required"
    )
    shipped = _post(
        client,
        f"{API}/{t.number}/ship",
        {"freight": "100.00", "handling": "20.00", "cost_basis": "value"},
        key="s1",
    )
    assert shipped.status_code == 201, shipped.content
    body = shipped.json()
    assert body["status"] == "in_transit" and body["tracking_number"].startswith("SIM")
    assert sum(float(ln["allocated_cost"]) for ln in body["lines"]) == pytest.approx(120.00)
    assert client.get(f"{API}/{t.number}/label").status_code == 200

    client.force_login(world.sm)
    rice_line = next(ln for ln in body["lines"] if ln["sku"] == world.rice.code)
    milk_line = next(ln for ln in body["lines"] if ln["sku"] == world.milk.code)
    got = _post(
        client,
        f"{API}/{t.number}/receive",
        {
            "lines": [
                {"line_id": rice_line["id"], "received": "4", "damaged": "1"},
                {"line_id": milk_line["id"], "received": "2", "lot": "L1"},
            ]
        },
        key="r1",
    )
    assert got.status_code == 201, got.content
    receipt = got.json()
    assert receipt["transfer"]["status"] == "received"
    assert [d["kind"] for d in receipt["discrepancies"]] == ["damaged"]

    open_ = client.get(f"{API}/discrepancies").json()
    assert len(open_) == 1
    resolved = _post(
        client,
        f"{API}/discrepancies/{open_[0]['id']}/resolve",
        {"resolution": "carrier_claim", "claim": "5.00"},
    )
    assert resolved.status_code == 200, resolved.content
    assert resolved.json()["claim"] == "5.00"
    again = _post(
        client, f"{API}/discrepancies/{open_[0]['id']}/resolve", {"resolution": "write_off"}
    )
    assert again.status_code == 409 and again.json()["code"] == "already_resolved"
    t.refresh_from_db()
    assert t.status == "closed"
    assert_conserved(t)
    assert verify_ledger() == []


def test_scope_through_the_api(world, client):
    t = world.transfer((world.rice, 5 * U))
    client.force_login(world.sm)  # the destination's manager cannot pick at the source
    task = client.get(f"{API}/{t.number}/pick-list").json()[0]
    body = {"bin_scan": task["bin"], "item_scan": barcode(world.rice), "quantity": "1"}
    refused = _post(client, f"{API}/lots/{task['id']}/pick", body, key="x")
    assert refused.status_code == 403


def test_in_transit_report(world, client):
    t = world.transfer((world.rice, 2 * U))
    from chainstore.transfers.tests.test_execution_support import pick_all, ship

    pick_all(world, t)
    ship(world, t)
    client.force_login(world.sm)
    report = client.get(f"{API}/in-transit").json()
    assert report["rows"][0]["number"] == t.number and report["rows"][0]["bucket"] == "0-2"
    assert report["total_value"] == "10.00"
