"""Real concurrency (PostgreSQL, threads behind a barrier): two planners waving the same
shipments put each in exactly one wave; phones confirming one task pick it once; the ledger
stays true."""

import pytest

from chainstore.core.errors import Conflict, DomainError
from chainstore.core.testing import make_user
from chainstore.fulfilment.models import (
    EventKind,
    OrderEvent,
    PickedStock,
    PickTask,
    Shipment,
    ShipmentStatus,
    Wave,
)
from chainstore.fulfilment.services import picking, shorts, waves
from chainstore.fulfilment.tests.test_waves_support import barcode, build_world, put
from chainstore.inventory.models import StockMove
from chainstore.inventory.tests.concurrency import run_together
from chainstore.inventory.verify import verify_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _world(orders):
    world = build_world(make_user("admin"))
    put(world, world.milk, 100_000, "A-01-08")
    put(world, world.milk, 100_000, "A-02-05")
    for _ in range(orders):
        world.order((world.milk, 1000))
    return world


def test_two_planners_never_wave_the_same_shipment():
    world = _world(orders=30)
    planners = [make_user("warehouse_manager", [world.site]) for _ in range(2)]

    results = run_together(
        2,
        lambda i: waves.create_wave(site=world.site, actor=planners[i], max_orders=20, cart_size=4),
    )

    assert all(isinstance(r, Wave) for r in results), results
    sizes = sorted(Shipment.objects.filter(wave=r).count() for r in results)
    assert sizes == [10, 20]  # the loser skipped what the winner took and topped up
    for shipment in Shipment.objects.all():
        assert shipment.status == ShipmentStatus.WAVED
        assert shipment.events.filter(kind=EventKind.WAVED).count() == 1
        lists = {
            t.pick_list.wave_id for t in PickTask.objects.filter(shipment_line__shipment=shipment)
        }
        assert lists == {shipment.wave_id}
    assert verify_ledger() == []


def test_explicit_selections_race_one_wins():
    world = _world(orders=6)
    ids = list(Shipment.objects.values_list("pk", flat=True))
    planners = [make_user("warehouse_manager", [world.site]) for _ in range(4)]

    results = run_together(
        4, lambda i: waves.create_wave(site=world.site, actor=planners[i], shipment_ids=ids)
    )

    made = [r for r in results if isinstance(r, Wave)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(made) == 1 and len(refused) == 3, results
    assert {r.code for r in refused} == {"shipment_not_available"}
    assert Wave.objects.count() == 1
    assert set(Shipment.objects.values_list("wave", flat=True)) == {made[0].pk}
    assert PickTask.objects.filter(pick_list__wave=made[0]).count() == 6
    assert verify_ledger() == []


def _started_task(world):
    wave = waves.create_wave(site=world.site, actor=world.admin, max_orders=1)
    pick_list = wave.pick_lists.get()
    picking.start_pick_list(pick_list, world.admin)
    return picking.next_task(pick_list)


def _pick(world, task, key):
    return picking.confirm_pick(
        task=task,
        actor=world.admin,
        bin_scan=task.location.code,
        item_scan=barcode(world.milk),
        quantity=task.quantity,
        idempotency_key=key,
    )


def test_two_phones_confirming_one_task_pick_it_once():
    world = _world(orders=1)
    task = _started_task(world)

    results = run_together(4, lambda i: _pick(world, task, f"phone-{i}"))

    picked = [r for r in results if isinstance(r, PickedStock)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(picked) == 1 and len(refused) == 3, results
    assert {r.code for r in refused} <= {"over_quantity", "task_not_open"}
    assert PickedStock.objects.get().quantity == task.quantity
    assert StockMove.objects.filter(reason="pick").count() == 1
    assert verify_ledger() == []


def test_a_resent_pick_moves_stock_once():
    world = _world(orders=1)
    task = _started_task(world)

    results = run_together(4, lambda i: _pick(world, task, "same-key"))

    assert all(isinstance(r, PickedStock) for r in results), results
    assert len({r.pk for r in results}) == 1 and sum(not r.replayed for r in results) == 1
    assert StockMove.objects.filter(reason="pick").count() == 1
    assert verify_ledger() == []


@pytest.mark.parametrize("found", [0, 500])
def test_a_resent_short_pick_is_recorded_once(found):
    world = _world(orders=1)
    task = _started_task(world)

    results = run_together(
        4,
        lambda i: shorts.report_short(
            task=task, actor=world.admin, found=found, idempotency_key="short-key"
        ),
    )

    assert all(isinstance(r, shorts.ShortResult) for r in results), results
    assert sum(not r.replayed for r in results) == 1
    assert {(r.found, r.short) for r in results} == {(found, task.quantity - found)}
    assert OrderEvent.objects.filter(kind=EventKind.SHORT_PICKED).count() == 1
    assert StockMove.objects.filter(reason="pick_short").count() == 1
    assert verify_ledger() == []
