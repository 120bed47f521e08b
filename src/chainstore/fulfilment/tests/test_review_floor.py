"""Review R2 (floor: waves, picking, outbound): regressions for bugs found in review."""

import datetime as dt

import pytest

from chainstore.core.testing import make_user
from chainstore.fulfilment.models import PickTask, PickTaskStatus
from chainstore.fulfilment.tests.test_waves_support import (
    API,
    barcode,
    build_world,
    logged_in,
    put,
    tasks_of,
)

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


def test_replayed_short_pick_that_removed_its_line_answers_the_first_result(world, planner, picker):
    """A short pick that found nothing removes the shipment line with its task; the
    client's resend of the same key (its answer was lost) must get the first result,
    not 404 for the task that is now gone."""
    order = world.order((world.milk, 4000))
    wave = _wave(world, planner)
    api = logged_in(picker)
    _post(api, f"/pick-lists/{wave['pick_lists'][0]['number']}/start")
    (task,) = tasks_of(world.shipment(order))

    first = _post(api, f"/pick-tasks/{task.pk}/short", {"found": "0"}, key="short-gone")
    assert first.status_code == 201, first.content
    assert not PickTask.objects.filter(pk=task.pk).exists()

    replay = _post(api, f"/pick-tasks/{task.pk}/short", {"found": "0"}, key="short-gone")

    assert replay.status_code == 200, replay.content
    body = replay.json()
    assert body["replayed"] is True
    assert (body["found"], body["short"]) == (first.json()["found"], first.json()["short"])
    # an outsider cannot read the result of someone else's short pick by replaying it
    outsider = make_user("warehouse_operator", [world.other])
    refused = _post(
        logged_in(outsider), f"/pick-tasks/{task.pk}/short", {"found": "0"}, key="short-gone"
    )
    assert refused.status_code in (403, 404)


def test_replayed_pick_after_the_wave_was_closed_is_not_a_500(world, planner, picker):
    """A partial pick, then the wave is closed (the task leaves the list), then the
    picker's phone resends the pick: the replay answers 200 with the first result."""
    order = world.order((world.milk, 3000))
    wave = _wave(world, planner)
    api = logged_in(picker)
    _post(api, f"/pick-lists/{wave['pick_lists'][0]['number']}/start")
    (task,) = tasks_of(world.shipment(order))
    body = {"bin": task.location.code, "item": barcode(world.milk), "quantity": "1"}
    first = _post(api, f"/pick-tasks/{task.pk}/pick", body, key="pick-then-close")
    assert first.status_code == 201, first.content
    closed = _post(logged_in(planner), f"/waves/{wave['number']}/close")
    assert closed.status_code == 200, closed.content
    task.refresh_from_db()
    assert task.pick_list_id is None and task.status == PickTaskStatus.OPEN

    replay = _post(api, f"/pick-tasks/{task.pk}/pick", body, key="pick-then-close")

    assert replay.status_code == 200, replay.content
    assert replay.json()["replayed"] is True
    assert replay.json()["picked"]["id"] == first.json()["picked"]["id"]


def test_a_parcel_weight_beyond_any_scale_is_refused_not_a_500(admin):
    """`weight_g` of a parcel has the same bound as the check's weight: a huge number is
    422, not a database overflow (PostgreSQL integer) answered with 500."""
    from chainstore.fulfilment.services.outbound import complete_check
    from chainstore.fulfilment.tests import test_outbound_support as ob

    world = ob.build_world(admin)
    shipment = world.picked((world.noodles, 2))
    ob.scan_all(world, shipment)
    complete_check(shipment=shipment, actor=world.operator, weight_g=ob.expected_g(shipment))
    line = shipment.lines.get()
    client = ob.logged_in(world.operator)

    res = client.post(
        f"{API}/shipments/{shipment.number}/pack",
        {
            "parcels": [
                {"weight_g": 3_000_000_000, "items": [{"line_id": line.pk, "quantity": "2"}]}
            ]
        },
        content_type="application/json",
    )

    assert res.status_code == 422, res.content
    shipment.refresh_from_db()
    assert shipment.status == "checked" and not shipment.parcels.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_short_pick_resourcing_does_not_deadlock_with_a_pick_on_the_same_list(admin):
    """Lock order: stock before pick list. A short pick re-sources its order (stock locks)
    while a pick of another order on the same list holds that stock and waits for the
    list: the short pick must not be holding the list then (PostgreSQL would kill one of
    the two as a deadlock)."""
    import threading

    from chainstore.fulfilment.services import picking, shorts, waves

    world = build_world(admin)
    put(world, world.milk, 10_000, "A-01-08")
    put(world, world.milk, 10_000, "A-02-05")
    x = world.order((world.milk, 4000), (world.yogurt, 1000))  # no yogurt yet: backordered
    assert x.lines.get(sku=world.yogurt).allocated == 0
    put(world, world.yogurt, 5_000, "A-02-01", lot="Y1", expiry=world.today + dt.timedelta(days=20))
    y = world.order((world.yogurt, 1000))
    wave = waves.create_wave(site=world.site, actor=admin)
    pick_list = wave.pick_lists.get()
    picking.start_pick_list(pick_list, admin)
    (short_task,) = tasks_of(world.shipment(x))
    (pick_task,) = tasks_of(world.shipment(y))
    assert short_task.pick_list_id == pick_task.pick_list_id == pick_list.pk

    resourcing, holding_stock = threading.Event(), threading.Event()
    real_source, real_settle = shorts.source_remainder, picking.settle_pick_lists

    def source_after_the_pick_holds_stock(*args, **kwargs):
        resourcing.set()
        holding_stock.wait(timeout=10)
        return real_source(*args, **kwargs)

    def settle(*args, **kwargs):
        if threading.current_thread().name == "picker":
            holding_stock.set()  # the pick holds the yogurt's stock locks by now
        return real_settle(*args, **kwargs)

    results = {}

    def run(name, fn):
        from django.db import connection

        try:
            results[name] = fn()
        except BaseException as exc:  # recorded for the assertions
            results[name] = exc
        finally:
            connection.close()

    def short():
        return shorts.report_short(task=short_task, actor=admin, found=0, idempotency_key="s-x")

    def pick():
        return picking.confirm_pick(
            task=pick_task,
            actor=admin,
            bin_scan=pick_task.location.code,
            item_scan=f"(01)0{barcode(world.yogurt)}(10)Y1",
            quantity=1000,
            idempotency_key="p-y",
        )

    shorts.source_remainder, picking.settle_pick_lists = source_after_the_pick_holds_stock, settle
    try:
        shorter = threading.Thread(target=run, args=("short", short), name="shorter")
        shorter.start()
        assert resourcing.wait(timeout=20)
        picker = threading.Thread(target=run, args=("pick", pick), name="picker")
        picker.start()
        shorter.join(timeout=60)
        picker.join(timeout=60)
    finally:
        shorts.source_remainder, picking.settle_pick_lists = real_source, real_settle

    assert not isinstance(results["short"], BaseException), results["short"]
    assert not isinstance(results["pick"], BaseException), results["pick"]
    assert results["short"].decision_id is not None
    assert x.lines.get(sku=world.yogurt).allocated == 1000
