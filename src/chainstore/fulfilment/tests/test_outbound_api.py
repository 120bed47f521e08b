"""The outbound API through the mounted URLs: auth, the error shape and status codes."""

import json

import pytest
from django.test import Client

from chainstore.accounts.services import issue_token
from chainstore.core.testing import make_site
from chainstore.fulfilment.models import ShipmentLine, TrackingEvent
from chainstore.fulfilment.tests.test_outbound_support import (
    API,
    build_world,
    ean,
    expected_g,
    gs1,
    logged_in,
    scan_all,
    snapshot,
)
from chainstore.integrations.carriers.simulated import SIGNATURE_HEADER, SimulatedCarrier
from chainstore.inventory.models import StockMove

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return build_world(admin)


def post(client, url, data=None, **headers):
    return client.post(
        url, json.dumps(data or {}), content_type="application/json", headers=headers or None
    )


def bearer(user):
    _token, secret = issue_token(user=user, name="test")
    return Client(headers={"Authorization": f"Bearer {secret}"})


def scan(client, shipment, code, quantity=None):
    body = {"scan": code} if quantity is None else {"scan": code, "quantity": quantity}
    return post(client, f"{API}/shipments/{shipment.number}/check-scan", body)


def test_the_whole_flow_over_http(world):
    shipment = world.picked((world.milk, 2), (world.noodles, 1))
    client = logged_in(world.operator)

    found = client.get(
        f"{API}/check/lookup", {"scan": shipment.order.number, "site": world.site.code}
    )
    assert found.status_code == 200
    assert found.json() == [
        {
            "number": shipment.number,
            "order": shipment.order.number,
            "status": "picked",
            "status_label": found.json()[0]["status_label"],
            "site": world.site.code,
            "lines": 2,
            "units": "3.000",
            "checked": "0.000",
        }
    ]

    first = scan(client, shipment, gs1(world.milk, "M-SOON", world.soon))
    assert first.status_code == 200
    body = first.json()
    assert (body["sku"], body["lot"], body["quantity"], body["complete"]) == (
        world.milk.code,
        "M-SOON",
        "1.000",
        False,
    )
    milk = next(ln for ln in body["shipment"]["lines"] if ln["sku"] == world.milk.code)
    assert (milk["picked"], milk["checked"], milk["lot_tracked"]) == ("2.000", "1.000", True)
    assert sorted(lot["lot"] for lot in milk["lots"]) == ["M-LATE", "M-SOON"]
    assert {lot["bin"] for lot in milk["lots"]} == {world.bin_a.code, world.bin_b.code}
    assert milk["barcode"] == ean(world.milk)
    assert scan(client, shipment, gs1(world.milk, "M-LATE", world.late)).status_code == 200
    last = scan(client, shipment, ean(world.noodles))
    assert last.json()["complete"] is True
    assert last.json()["shipment"]["check_complete"] is True

    heavy = post(client, f"{API}/shipments/{shipment.number}/complete-check", {"weight_g": 5000})
    assert heavy.status_code == 409
    assert heavy.json()["code"] == "weight_mismatch"
    assert heavy.json()["details"]["expected_weight_g"] == 2220

    done = post(client, f"{API}/shipments/{shipment.number}/complete-check", {"weight_g": 2250})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["weight_g"], done.json()["tolerance_g"]) == (
        "checked",
        2250,
        222,
    )
    assert done.json()["checked_by"] == world.operator.username

    lines = {ln.sku.code: ln.pk for ln in ShipmentLine.objects.filter(shipment=shipment)}
    parcels = {
        "parcels": [
            {"weight_g": 1100, "items": [{"line_id": lines[world.milk.code], "quantity": "1"}]},
            {
                "items": [
                    {"line_id": lines[world.milk.code], "quantity": "1"},
                    {"line_id": lines[world.noodles.code], "quantity": "1"},
                ]
            },
        ]
    }
    packed = post(client, f"{API}/shipments/{shipment.number}/pack", parcels)
    assert packed.status_code == 200
    assert [(p["seq"], p["weight_g"], p["tracking_number"]) for p in packed.json()["parcels"]] == [
        (1, 1100, None),
        (2, 1150, None),
    ]

    no_key = post(client, f"{API}/shipments/{shipment.number}/ship")
    assert (no_key.status_code, no_key.json()["code"]) == (422, "idempotency_key_required")
    shipped = post(client, f"{API}/shipments/{shipment.number}/ship", **{"Idempotency-Key": "h1"})
    assert shipped.status_code == 201
    result = shipped.json()
    assert (result["status"], result["replayed"]) == ("shipped", False)
    numbers = [p["tracking_number"] for p in result["parcels"]]
    assert all(n.startswith("SIM") for n in numbers)
    moves = StockMove.objects.count()
    replay = post(client, f"{API}/shipments/{shipment.number}/ship", **{"Idempotency-Key": "h1"})
    assert (replay.status_code, replay.json()["replayed"]) == (200, True)
    assert [p["tracking_number"] for p in replay.json()["parcels"]] == numbers
    assert StockMove.objects.count() == moves

    label = client.get(result["parcels"][0]["label_url"])
    assert label.status_code == 200
    assert label["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in label["Content-Security-Policy"]
    assert numbers[0] in label.content.decode()

    detail = client.get(f"{API}/shipments/{shipment.number}")
    assert detail.status_code == 200 and detail.json()["receiver"] == "张* 上海"


def test_check_refusals_have_codes_and_statuses(world):
    shipment = world.picked((world.milk, 1))
    client = logged_in(world.operator)
    before = snapshot()
    cases = [
        (ean(world.noodles), 422, "not_in_shipment"),
        (gs1(world.milk, "M-LATE", world.late), 422, "lot_mismatch"),
        ("6900000000000", 422, None),
    ]
    for code, status, expected in cases:
        response = scan(client, shipment, code)
        assert response.status_code == status, response.json()
        assert expected is None or response.json()["code"] == expected
        assert set(response.json()) == {"code", "message", "details"}
    assert scan(client, shipment, ean(world.milk), "2").json()["code"] == "over_count"
    assert scan(client, shipment, ean(world.milk), "0.0001").status_code == 422
    assert snapshot() == before
    assert scan(client, shipment, ean(world.milk)).status_code == 200
    again = scan(client, shipment, ean(world.milk))
    assert (again.status_code, again.json()["code"]) == (409, "already_checked")
    early = post(client, f"{API}/shipments/{shipment.number}/ship", **{"Idempotency-Key": "x"})
    assert (early.status_code, early.json()["code"]) == (409, "not_packed")
    missing = scan(client, type("S", (), {"number": "SH-NOPE"})(), ean(world.milk))
    assert (missing.status_code, missing.json()["code"]) == (404, "shipment_not_found")


def test_roles_and_scope(world, admin):
    shipment = world.picked((world.noodles, 1))
    assert Client().get(f"{API}/shipments/{shipment.number}").status_code == 401
    stranger = world.user("warehouse_operator", make_site(admin, "cdc"))
    response = scan(logged_in(stranger), shipment, ean(world.noodles))
    assert (response.status_code, response.json()["code"]) == (403, "site_out_of_scope")
    cashier = logged_in(world.user("cashier", world.site))
    assert scan(cashier, shipment, ean(world.noodles)).status_code == 403
    lookup = logged_in(stranger).get(
        f"{API}/check/lookup", {"scan": shipment.number, "site": world.site.code}
    )
    assert lookup.status_code == 403
    scan_all(world, shipment)
    manager_only = post(
        logged_in(world.operator),
        f"{API}/shipments/{shipment.number}/complete-check",
        {"weight_g": 900, "override": True},
    )
    assert manager_only.status_code == 403
    ok = post(
        logged_in(world.manager),
        f"{API}/shipments/{shipment.number}/complete-check",
        {"weight_g": 900, "override": True},
    )
    assert ok.status_code == 200


def shipped(world, *lines):
    shipment = world.picked(*lines)
    client = logged_in(world.operator)
    scan_all(world, shipment)
    weight = expected_g(shipment)
    post(client, f"{API}/shipments/{shipment.number}/complete-check", {"weight_g": weight})
    post(client, f"{API}/shipments/{shipment.number}/pack")
    post(client, f"{API}/shipments/{shipment.number}/ship", **{"Idempotency-Key": shipment.number})
    shipment.refresh_from_db()
    return shipment


def test_carrier_webhook_is_authenticated_by_its_signature(world):
    shipment = shipped(world, (world.noodles, 1))
    carrier = SimulatedCarrier()
    number = shipment.parcels.get().tracking_number
    body = json.dumps(
        {
            "events": [
                {
                    "tracking_number": number,
                    "event_id": "wh-1",
                    "code": "in_transit",
                    "at": "2026-11-25T18:40:00+08:00",
                    "place": "上海转运中心",
                    "latitude": "31.1",
                    "longitude": "121.3",
                },
                {
                    "tracking_number": "SIM000000000000",
                    "event_id": "wh-2",
                    "code": "in_transit",
                    "at": "2026-11-25T18:41:00+08:00",
                },
            ]
        }
    ).encode()
    url = f"{API}/carriers/sim/webhook"
    anonymous = Client(enforce_csrf_checks=True)
    before = snapshot()
    bad = anonymous.post(
        url, body, content_type="application/json", headers={SIGNATURE_HEADER: "ab" * 32}
    )
    assert (bad.status_code, bad.json()["code"]) == (401, "bad_signature")
    unsigned = anonymous.post(url, body, content_type="application/json")
    assert unsigned.status_code == 401
    assert snapshot() == before

    signed = {SIGNATURE_HEADER: carrier.sign(body)}
    good = anonymous.post(url, body, content_type="application/json", headers=signed)
    assert good.status_code == 200
    assert good.json() == {
        "received": 2,
        "recorded": 1,
        "duplicates": 0,
        "unknown": 1,
        "unknown_tracking_numbers": ["SIM000000000000"],
        "delivered_parcels": 0,
        "delivered_shipments": 0,
    }
    replay = anonymous.post(url, body, content_type="application/json", headers=signed)
    assert (replay.status_code, replay.json()["duplicates"], replay.json()["recorded"]) == (
        200,
        1,
        0,
    )
    assert TrackingEvent.objects.count() == 1

    garbage = b"{not json"
    broken = anonymous.post(
        url,
        garbage,
        content_type="application/json",
        headers={SIGNATURE_HEADER: carrier.sign(garbage)},
    )
    assert (broken.status_code, broken.json()["code"]) == (422, "bad_payload")
    unknown = anonymous.post(f"{API}/carriers/sf/webhook", body, content_type="application/json")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_carrier")

    tracking = (
        logged_in(world.operator).get(f"{API}/shipments/{shipment.number}").json()["tracking"]
    )
    assert [(t["code"], t["place"], t["latitude"]) for t in tracking] == [
        ("in_transit", "上海转运中心", "31.100000")
    ]


def test_generic_tracking_api_needs_the_tracking_permission(world):
    shipment = shipped(world, (world.noodles, 1))
    number = shipment.parcels.get().tracking_number
    event = {
        "tracking_number": number,
        "event_id": "api-1",
        "code": "delivered",
        "at": "2026-11-26T10:00:00+08:00",
    }
    payload = {"carrier": "sim", "events": [event]}
    denied = post(logged_in(world.operator), f"{API}/tracking", payload)
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    integrator = bearer(world.user("integrator"))
    naive = post(
        integrator,
        f"{API}/tracking",
        {"carrier": "sim", "events": [{**event, "at": "2026-11-26T10:00:00"}]},
    )
    assert naive.status_code == 422
    bad_code = post(
        integrator, f"{API}/tracking", {"carrier": "sim", "events": [{**event, "code": "lost"}]}
    )
    assert bad_code.status_code == 422
    unknown_carrier = post(integrator, f"{API}/tracking", {**payload, "carrier": "nope"})
    assert (unknown_carrier.status_code, unknown_carrier.json()["code"]) == (422, "unknown_carrier")
    ok = post(integrator, f"{API}/tracking", payload)
    assert ok.status_code == 200
    assert (ok.json()["recorded"], ok.json()["delivered_shipments"]) == (1, 1)
    shipment.refresh_from_db()
    assert shipment.status == "delivered"


def test_trace_endpoints(world):
    shipment = shipped(world, (world.milk, 1))
    client = logged_in(world.manager)
    rows = client.get(f"{API}/trace/lots", {"sku": world.milk.code, "lot": "M-SOON"})
    assert rows.status_code == 200
    assert [(r["shipment"], r["quantity"], r["customer"], r["phone"]) for r in rows.json()] == [
        (shipment.number, "1.000", "张*", "138****8000")
    ]
    by_barcode = client.get(f"{API}/trace/lots", {"sku": ean(world.milk), "lot": "M-SOON"})
    assert by_barcode.json() == rows.json()
    exported = client.get(f"{API}/trace/lots.csv", {"sku": world.milk.code, "lot": "M-SOON"})
    assert exported.status_code == 200 and exported["Content-Type"] == "text/csv"
    assert "attachment" in exported["Content-Disposition"]
    assert shipment.number in exported.content.decode("utf-8-sig")
    missing = client.get(f"{API}/trace/lots", {"sku": world.milk.code, "lot": "NOPE"})
    assert (missing.status_code, missing.json()["code"]) == (404, "lot_not_found")
    lots = client.get(f"{API}/trace/orders/{shipment.order.number}/lots")
    assert lots.status_code == 200
    assert [(r["sku"], r["lot"], r["bin"], r["picked_by"]) for r in lots.json()] == [
        (world.milk.code, "M-SOON", world.bin_a.code, world.operator.username)
    ]
    assert client.get(f"{API}/trace/orders/NOPE/lots").status_code == 404
    cashier = logged_in(world.user("cashier", world.site))
    assert cashier.get(f"{API}/trace/orders/{shipment.order.number}/lots").status_code == 403
    label = logged_in(world.user("cashier", world.site)).get(
        f"{API}/parcels/{shipment.parcels.get().tracking_number}/label"
    )
    assert label.status_code == 403
    assert logged_in(world.operator).get(f"{API}/parcels/NOPE/label").status_code == 404


def test_check_scan_query_count_does_not_grow_with_lines(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from chainstore.core.testing import make_bin, make_sku, stock

    extra = [make_sku(world.admin, weight_g=100) for _ in range(5)]
    bin_c = make_bin(world.admin, world.site)
    for sku in extra:
        stock(world.admin, world.site, sku, 10_000, location=bin_c)
    small = world.picked((world.noodles, 3))
    large = world.picked((world.noodles, 3), *[(sku, 2) for sku in extra])
    client = logged_in(world.operator)
    counts = []
    for shipment in (small, large):
        scan(client, shipment, ean(world.noodles))  # warm-up (session, user)
        with CaptureQueriesContext(connection) as queries:
            assert scan(client, shipment, ean(world.noodles)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    # 27: auth, scan, lock, picked rows, row and line updates, detail (with the pick events)
    assert counts[1] <= 29, counts
