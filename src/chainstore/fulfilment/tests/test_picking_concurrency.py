"""Real concurrency (PostgreSQL, threads behind a barrier), many times over: a pick and a
short pick of the same task; picks finishing the last tasks of one list; closing a wave
while it is picked; cancelling an order while it is picked. Every writer takes the same
locks in the same order (order, shipment, task, stock, list, wave), so one wins, the others
are refused with a 4xx code, nothing deadlocks and the ledger stays true."""

import pytest

from chainstore.core.errors import DomainError
from chainstore.core.testing import make_user
from chainstore.fulfilment.models import (
    EventKind,
    OrderEvent,
    OrderStatus,
    PickedStock,
    PickListStatus,
    PickTask,
    PickTaskStatus,
    Shipment,
    ShipmentStatus,
    WaveStatus,
)
from chainstore.fulfilment.services import picking, shorts, waves
from chainstore.fulfilment.services.care import cancel_order
from chainstore.fulfilment.tests.test_waves_support import barcode, build_world, put
from chainstore.inventory.models import Balance, Reservation, ReservationStatus, StockMove
from chainstore.inventory.tests.concurrency import run_together
from chainstore.inventory.verify import verify_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 12
REFUSALS = {"task_not_open", "over_quantity", "invalid_found"}


def _world(orders, units=2000):
    world = build_world(make_user("admin"))
    put(world, world.milk, 100_000, "A-01-08")
    put(world, world.milk, 100_000, "A-02-05")
    for _ in range(orders):
        world.order((world.milk, units))
    return world


def _started_wave(world, orders):
    wave = waves.create_wave(site=world.site, actor=world.admin, max_orders=orders, cart_size=50)
    pick_list = wave.pick_lists.get()
    picking.start_pick_list(pick_list, world.admin)
    tasks = list(pick_list.tasks.select_related("location", "shipment_line__shipment__order"))
    return wave, pick_list, tasks


def _pick(world, task):
    return picking.confirm_pick(
        task=task,
        actor=world.admin,
        bin_scan=task.location.code,
        item_scan=barcode(world.milk),
        quantity=task.quantity,
        idempotency_key=f"pick-{task.pk}",
    )


def _attempt(world, task, i):
    """Threads 0 and 2 pick all of the task; 1 finds nothing, 3 finds half a litre."""
    if i % 2 == 0:
        return picking.confirm_pick(
            task=task,
            actor=world.admin,
            bin_scan=task.location.code,
            item_scan=barcode(world.milk),
            quantity=task.quantity,
            idempotency_key=f"pick-{task.pk}-{i}",
        )
    return shorts.report_short(
        task=task, actor=world.admin, found=500 * (i // 2), idempotency_key=f"short-{task.pk}-{i}"
    )


def test_a_pick_and_a_short_of_one_task_never_deadlock():
    world = _world(ROUNDS)
    _wave, _list, tasks = _started_wave(world, ROUNDS)
    assert len(tasks) == ROUNDS

    outcomes = []
    for task in tasks:
        results = run_together(4, lambda i, task=task: _attempt(world, task, i))

        unexpected = [r for r in results if isinstance(r, BaseException)]
        refused = [r for r in unexpected if isinstance(r, DomainError) and r.code in REFUSALS]
        assert len(refused) == 3 and len(unexpected) == 3, results
        (won,) = [r for r in results if not isinstance(r, BaseException)]
        stored = PickTask.objects.filter(pk=task.pk).first()
        if isinstance(won, PickedStock):
            outcomes.append("pick")
            assert stored is not None and stored.status == PickTaskStatus.PICKED
            assert (stored.picked, stored.short) == (task.quantity, 0)
            assert won.quantity == task.quantity
            assert not OrderEvent.objects.filter(
                kind=EventKind.SHORT_PICKED, data__task=task.pk
            ).exists()
        else:
            assert isinstance(won, shorts.ShortResult)
            outcomes.append(f"short {won.found}")
            assert won.short == task.quantity - won.found
            if stored is None:  # found nothing: the line (and its task) was removed
                assert won.found == 0
            else:
                assert stored.status == PickTaskStatus.SHORT
                assert (stored.picked, stored.short) == (won.found, won.short)
            assert (
                OrderEvent.objects.filter(kind=EventKind.SHORT_PICKED, data__task=task.pk).count()
                == 1
            )
        picked = sum(PickedStock.objects.filter(task_id=task.pk).values_list("quantity", flat=True))
        assert picked == (stored.picked if stored else 0)
        assert verify_ledger() == []

    moved = sum(StockMove.objects.filter(reason="pick").values_list("quantity", flat=True))
    assert moved == sum(PickedStock.objects.values_list("quantity", flat=True))
    # Every order still wants its 2 units: picked, or re-sourced after the short.
    for shipment in Shipment.objects.filter(pk__in=[t.shipment_line.shipment_id for t in tasks]):
        order = shipment.order
        assert sum(ln.allocated for ln in order.lines.all()) == 2000, outcomes


def test_picks_finishing_the_last_two_tasks_of_a_list_finish_it():
    world = _world(0)
    for _ in range(ROUNDS):
        world.order((world.milk, 1000))
        world.order((world.milk, 1000))
        wave, pick_list, tasks = _started_wave(world, 2)
        assert len(tasks) == 2

        results = run_together(2, lambda i, tasks=tasks: _pick(world, tasks[i]))

        assert all(isinstance(r, PickedStock) for r in results), results
        pick_list.refresh_from_db()
        wave.refresh_from_db()
        assert (pick_list.status, wave.status) == (PickListStatus.DONE, WaveStatus.DONE)
    assert verify_ledger() == []


def test_closing_a_wave_while_it_is_picked():
    world = _world(0)
    for _ in range(ROUNDS // 2):
        for _ in range(4):
            world.order((world.milk, 1000))
        wave, _list, tasks = _started_wave(world, 4)

        def act(i, wave=wave, tasks=tasks):
            if i == 3:
                return waves.close_wave(wave, world.admin)
            return _pick(world, tasks[i])

        results = run_together(4, act)

        errors = [r for r in results if isinstance(r, BaseException)]
        assert all(isinstance(e, DomainError) for e in errors), results
        assert {e.code for e in errors} <= {"pick_list_not_started"}, results
        wave.refresh_from_db()
        assert wave.status == WaveStatus.DONE
        for task in tasks:
            task.refresh_from_db()
            shipment = task.shipment_line.shipment
            shipment.refresh_from_db()
            if task.status == PickTaskStatus.PICKED:
                assert (shipment.status, shipment.wave_id) == (ShipmentStatus.PICKED, wave.pk)
            else:
                assert task.status == PickTaskStatus.OPEN and task.pick_list_id is None
                assert (shipment.status, shipment.wave_id) == (ShipmentStatus.ALLOCATED, None)
                assert task.reservation.status == ReservationStatus.ACTIVE
        assert len(errors) + sum(isinstance(r, PickedStock) for r in results) == 3
    assert verify_ledger() == []


def test_cancelling_an_order_while_it_is_picked():
    world = _world(ROUNDS, units=1000)
    _wave, _list, tasks = _started_wave(world, ROUNDS)
    staging = None

    for task in tasks:
        order = task.shipment_line.shipment.order

        def act(i, task=task, order=order):
            if i == 0:
                return _pick(world, task)
            return cancel_order(order, actor=world.admin, reason="customer asked")

        results = run_together(2, act)

        picked, cancelled = results
        assert not isinstance(cancelled, BaseException), results
        if isinstance(picked, BaseException):
            assert isinstance(picked, DomainError) and picked.code == "task_not_open", results
        else:
            staging = picked.location
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED
        assert not Reservation.objects.filter(
            reference=order.number, status=ReservationStatus.ACTIVE
        ).exists()
        assert verify_ledger() == []
    if staging is not None:  # whatever was picked went back to its bin
        assert not Balance.objects.filter(location=staging, on_hand__gt=0).exists()
