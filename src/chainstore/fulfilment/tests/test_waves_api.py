"""The waves and picking API through the mounted URLs (auth, errors, idempotency)."""

import datetime as dt

import pytest
from django.test import Client

from chainstore.core.testing import make_user
from chainstore.fulfilment.models import (
    PickedStock,
    PickList,
    PickTaskStatus,
    ShipmentStatus,
    Wave,
    WaveStatus,
)
from chainstore.fulfilment.tests.test_waves_support import (
    API,
    barcode,
    build_world,
    logged_in,
    put,
    tasks_of,
)
from chainstore.inventory.models import StockMove
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    w = build_world(admin)
    put(w, w.milk, 10_000, "A-01-08")
    put(w, w.milk, 10_000, "A-02-05")
    put(w, w.yogurt, 5_000, "A-02-01", lot="Y1", expiry=w.today + dt.timedelta(days=20))
    return w


@pytest.fixture
def planner(world):
    return make_user("warehouse_manager", [world.site])


@pytest.fixture
def picker(world):
    return make_user("warehouse_operator", [world.site])


def _post(client, path, body=None, key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(API + path, body or {}, content_type="application/json", **extra)


def _wave(world, planner, **body):
    res = _post(logged_in(planner), "/waves", {"site": world.site.code, **body})
    assert res.status_code == 201, res.content
    return res.json()


def test_plan_a_wave_from_candidates_and_suggestions(world, planner):
    first = world.order((world.milk, 2000), (world.yogurt, 1000), carrier="sf")
    world.order((world.milk, 1000), carrier="jd")
    api = logged_in(planner)

    candidates = api.get(API + "/waves/candidates", {"site": world.site.code, "carrier": "sf"})
    suggestions = api.get(API + "/waves/suggestions", {"site": world.site.code})

    assert candidates.status_code == 200, candidates.content
    (row,) = candidates.json()
    assert (row["order"], row["carrier"], row["lines"], row["units"]) == (
        first.number,
        "sf",
        2,
        "3.000",
    )
    assert sorted((g["carrier"], g["shipments"]) for g in suggestions.json()) == [
        ("jd", 1),
        ("sf", 1),
    ]

    wave = _wave(world, planner, carrier="sf", cart_size=4)

    assert wave["number"].startswith("WV") and wave["status"] == WaveStatus.RELEASED
    assert [s["order"] for s in wave["shipments"]] == [first.number]
    (summary,) = wave["pick_lists"]
    assert (summary["task_count"], summary["tasks_done"], summary["status"]) == (2, 0, "open")
    assert summary["route_length_m"] is not None and summary["route_method"]
    listed = api.get(API + "/waves", {"site": world.site.code}).json()
    assert listed["count"] == 1 and listed["items"][0]["task_count"] == 2
    assert api.get(API + f"/waves/{wave['number']}").json()["number"] == wave["number"]


def test_explicit_shipments_and_refusals(world, planner):
    order = world.order((world.milk, 1000))
    shipment = world.shipment(order).number
    api = logged_in(planner)

    unknown = _post(api, "/waves", {"site": world.site.code, "shipments": ["SH-NOPE"]})
    bad = _post(api, "/waves", {"site": world.site.code, "cart_size": 0})
    made = _post(api, "/waves", {"site": world.site.code, "shipments": [shipment]})
    again = _post(api, "/waves", {"site": world.site.code, "shipments": [shipment]})
    nothing = _post(api, "/waves", {"site": world.site.code})

    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_shipment")
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")
    assert made.status_code == 201
    assert (again.status_code, again.json()["code"]) == (409, "shipment_not_available")
    assert (nothing.status_code, nothing.json()["code"]) == (409, "nothing_to_wave")
    assert Wave.objects.count() == 1


def test_pick_by_scan_over_http(world, planner, picker):
    order = world.order((world.milk, 3000), (world.yogurt, 2000))
    wave = _wave(world, planner)
    number = wave["pick_lists"][0]["number"]
    api = logged_in(picker)

    started = _post(api, f"/pick-lists/{number}/start")
    assert started.status_code == 200, started.content
    body = started.json()
    assert body["status"] == "picking" and body["picker"] == picker.username
    tasks = body["tasks"]
    assert [t["sequence"] for t in tasks] == [1, 2]
    first = tasks[0]
    assert {"bin", "sku", "name", "lot", "quantity", "slot", "remaining"} <= set(first)
    assert first["remaining"] == first["quantity"]

    no_key = _post(
        api, f"/pick-tasks/{first['id']}/pick", {"bin": "x", "item": "y", "quantity": "1"}
    )
    assert (no_key.status_code, no_key.json()["code"]) == (422, "idempotency_key_required")
    moves = StockMove.objects.count()
    wrong = _post(
        api,
        f"/pick-tasks/{first['id']}/pick",
        {"bin": "B-05-03", "item": barcode(world.milk), "quantity": "1"},
        key="w-1",
    )
    assert (wrong.status_code, wrong.json()["code"]) == (422, "wrong_bin")
    assert wrong.json()["details"]["expected"] == first["bin"]
    assert StockMove.objects.count() == moves

    results = []
    for task in tasks:
        sku = world.milk if task["sku"] == world.milk.code else world.yogurt
        body = {
            "bin": task["bin"],
            "item": barcode(sku),
            "lot": task["lot"],
            "quantity": task["quantity"],
        }
        res = _post(api, f"/pick-tasks/{task['id']}/pick", body, key=f"p-{task['id']}")
        assert res.status_code == 201, res.content
        results.append(res.json())
        replay = _post(api, f"/pick-tasks/{task['id']}/pick", body, key=f"p-{task['id']}")
        assert replay.status_code == 200 and replay.json()["replayed"] is True

    assert results[0]["next_task"]["id"] == tasks[1]["id"]
    assert (results[0]["tasks_done"], results[0]["task_count"]) == (1, 2)
    last = results[-1]
    assert last["next_task"] is None and last["task"]["status"] == PickTaskStatus.PICKED
    assert (last["shipment_status"], last["pick_list_status"], last["wave_status"]) == (
        ShipmentStatus.PICKED,
        "done",
        WaveStatus.DONE,
    )
    assert PickedStock.objects.count() == 2
    assert world.shipment(order).status == ShipmentStatus.PICKED
    detail = api.get(API + f"/pick-lists/{number}").json()
    assert [t["status"] for t in detail["tasks"]] == ["picked", "picked"]
    assert detail["tasks"][0]["picked_by"] == picker.username
    assert verify_ledger() == []


def test_short_pick_over_http(world, planner, picker):
    order = world.order((world.milk, 4000))
    wave = _wave(world, planner)
    number = wave["pick_lists"][0]["number"]
    api = logged_in(picker)
    _post(api, f"/pick-lists/{number}/start")
    (task,) = tasks_of(world.shipment(order))

    res = _post(api, f"/pick-tasks/{task.pk}/short", {"found": "1"}, key="short-1")
    replay = _post(api, f"/pick-tasks/{task.pk}/short", {"found": "1"}, key="short-1")

    assert res.status_code == 201, res.content
    body = res.json()
    assert (body["found"], body["short"], body["written_off"]) == ("1.000", "3.000", "9.000")
    assert body["decision"] is not None and body["shipment_status"] == ShipmentStatus.PICKED
    assert body["pick_list_status"] == "done" and body["next_task"] is None
    assert replay.status_code == 200 and replay.json()["replayed"] is True
    # re-sourced to the other bin of the same site: a new shipment waits for a wave
    fresh = order.shipments.filter(status=ShipmentStatus.ALLOCATED).get()
    assert [(t.location.code, t.quantity) for t in tasks_of(fresh)] == [("A-02-05", 3000)]
    assert verify_ledger() == []


def test_close_a_partial_wave_over_http(world, planner, picker):
    world.order((world.milk, 1000))
    world.order((world.milk, 1000))
    wave = _wave(world, planner, cart_size=1)
    assert len(wave["pick_lists"]) == 2

    closed = _post(logged_in(planner), f"/waves/{wave['number']}/close")
    cancel_again = _post(logged_in(planner), f"/waves/{wave['number']}/cancel")

    assert closed.status_code == 200, closed.content
    body = closed.json()
    assert body["status"] == WaveStatus.DONE and body["shipments"] == []
    assert {pl["status"] for pl in body["pick_lists"]} == {"cancelled"}
    assert (cancel_again.status_code, cancel_again.json()["code"]) == (409, "wave_finished")


def test_scope_and_roles(world, planner, picker):
    world.order((world.milk, 1000))
    wave = _wave(world, planner)
    number = wave["pick_lists"][0]["number"]
    outsider = make_user("warehouse_manager", [world.other])
    cashier = make_user("cashier", [world.site])

    assert logged_in(outsider).get(API + f"/waves/{wave['number']}").status_code == 403
    assert logged_in(outsider).get(API + f"/pick-lists/{number}").status_code == 403
    assert logged_in(outsider).get(API + "/waves").json()["count"] == 0
    assert logged_in(picker).get(API + f"/pick-lists/{number}").status_code == 200
    refused = _post(logged_in(picker), "/waves", {"site": world.site.code})
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert logged_in(cashier).get(API + "/pick-lists").status_code == 403
    assert Client().get(API + "/waves").status_code == 401
    mine = logged_in(picker).get(API + "/pick-lists", {"mine": "true"}).json()
    assert mine["count"] == 0
    _post(logged_in(picker), f"/pick-lists/{number}/start")
    mine = logged_in(picker).get(API + "/pick-lists", {"mine": "true"}).json()
    assert [pl["number"] for pl in mine["items"]] == [number]
    assert PickList.objects.get(number=number).picker == picker
