"""Picking by scan: the happy walk, every refusal (with nothing changed), substitutes, key
replays, and short picks that write off and re-source."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chainstore.core.errors import DomainError, IdempotencyKeyReused, PermissionDenied
from chainstore.core.testing import make_user
from chainstore.fulfilment.models import (
    EventKind,
    OrderStatus,
    PickedStock,
    PickListStatus,
    PickTaskStatus,
    Shipment,
    ShipmentStatus,
    WaveStatus,
)
from chainstore.fulfilment.services import picking, shorts, waves
from chainstore.fulfilment.tests.test_waves_support import (
    barcode,
    build_world,
    gs1,
    put,
    snapshot,
    tasks_of,
)
from chainstore.inventory.models import Balance, Lot, ReservationStatus, StockMove
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.services import outbound_location

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    w = build_world(admin)
    put(w, w.milk, 10_000, "A-01-08")
    put(w, w.yogurt, 6_000, "A-02-01", lot="Y-SOON", expiry=w.today + dt.timedelta(days=10))
    put(w, w.yogurt, 6_000, "A-02-01", lot="Y-LATE", expiry=w.today + dt.timedelta(days=40))
    return w


def _started(world, *orders, picker=None):
    """Wave the orders into one list and start it."""
    ids = [world.shipment(o).pk for o in orders]
    wave = waves.create_wave(site=world.site, actor=world.admin, shipment_ids=ids, cart_size=50)
    pick_list = wave.pick_lists.get()
    picking.start_pick_list(pick_list, picker or world.admin)
    pick_list.refresh_from_db()
    return pick_list


def _pick(task, actor, **kw):
    args = {
        "bin_scan": task.location.code,
        "item_scan": barcode(task.sku),
        "lot_scan": task.lot.number if task.lot else None,
        "quantity": task.quantity - task.picked,
        "idempotency_key": f"key-{task.pk}-{task.picked}",
    }
    args.update(kw)
    return picking.confirm_pick(task=task, actor=actor, **args)


def _balance(world, sku, code, lot=None):
    location = world.bins[code] if code in world.bins else outbound_location(world.site)
    row = Balance.objects.filter(location=location, sku=sku, lot=lot).first()
    return (row.on_hand, row.reserved) if row else (0, 0)


# -- the happy walk ------------------------------------------------------------------------
def test_picker_walks_the_list_in_route_order(world):
    order = world.order((world.milk, 3000), (world.yogurt, 2000))
    picker = world.user("warehouse_operator", world.site)
    pick_list = _started(world, order, picker=picker)
    shipment = world.shipment(order)
    assert (pick_list.status, pick_list.picker) == (PickListStatus.PICKING, picker)
    assert shipment.status == ShipmentStatus.PICKING
    assert pick_list.wave.status == WaveStatus.PICKING

    walked = []
    while (task := picking.next_task(pick_list)) is not None:
        walked.append((task.sequence, task.location.code, task.lot.number if task.lot else None))
        picked = _pick(task, picker)
        assert picked.replayed is False

    assert walked == sorted(walked) and len(walked) == 2
    staging = outbound_location(world.site)
    soon = Lot.objects.get(number="Y-SOON")
    rows = sorted(
        (p.shipment_line.sku_id, p.lot_id, p.quantity, p.location_id)
        for p in PickedStock.objects.all()
    )
    assert rows == sorted(
        [(world.milk.pk, None, 3000, staging.pk), (world.yogurt.pk, soon.pk, 2000, staging.pk)]
    )
    assert _balance(world, world.milk, "A-01-08") == (7000, 0)
    assert _balance(world, world.yogurt, "A-02-01", soon) == (4000, 0)
    assert _balance(world, world.yogurt, "OUT", soon) == (2000, 0)
    shipment.refresh_from_db()
    pick_list.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == ShipmentStatus.PICKED
    assert [(ln.quantity, ln.picked) for ln in shipment.lines.order_by("id")] == [
        (3000, 3000),
        (2000, 2000),
    ]
    assert pick_list.status == PickListStatus.DONE and pick_list.completed_at
    assert pick_list.wave.status == WaveStatus.DONE
    assert order.status == OrderStatus.IN_FULFILMENT
    events = order.events.filter(kind=EventKind.PICKED).order_by("id")
    assert [(e.actor, e.data["bin"], e.data["lot"]) for e in events] == [
        (picker, code, lot) for _seq, code, lot in walked
    ]
    assert sorted(e.data["quantity"] for e in events) == ["2.000", "3.000"]
    assert all(t.reservation.status == ReservationStatus.CONSUMED for t in tasks_of(shipment))
    assert verify_ledger() == []


def test_gs1_scan_carries_the_lot(world):
    order = world.order((world.yogurt, 1000))
    _started(world, order)
    (task,) = tasks_of(world.shipment(order))

    _pick(
        task,
        world.admin,
        item_scan=gs1(world.yogurt, "Y-SOON", task.lot.expiry_date),
        lot_scan=None,
    )

    task.refresh_from_db()
    assert (task.status, task.picked_lot.number) == (PickTaskStatus.PICKED, "Y-SOON")


def test_partial_quantities_add_up(world):
    order = world.order((world.milk, 3000))
    pick_list = _started(world, order)
    (task,) = tasks_of(world.shipment(order))

    _pick(task, world.admin, quantity=1000, idempotency_key="a")
    task.refresh_from_db()
    assert (task.status, task.picked) == (PickTaskStatus.OPEN, 1000)
    assert picking.next_task(pick_list) == task
    _pick(task, world.admin, quantity=2000, idempotency_key="b")

    task.refresh_from_db()
    assert (task.status, task.picked) == (PickTaskStatus.PICKED, 3000)
    assert picking.next_task(pick_list) is None
    assert verify_ledger() == []


# -- refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scans", "code"),
    [
        ({"bin_scan": "Z-99-99"}, "unknown_bin"),
        ({"bin_scan": "A-02-05"}, "wrong_bin"),  # a real bin without this yogurt
        ({"item_scan": "milk"}, "wrong_item"),
        ({"item_scan": "0000000000000"}, "unknown_barcode"),
        ({"lot_scan": None}, "lot_required"),
        ({"lot_scan": "NO-SUCH"}, "unknown_lot"),
        ({"lot_scan": "Y-LATE"}, "fefo_violation"),
        ({"lot_scan": "Y-OLD"}, "lot_expired"),
        ({"lot_scan": "Y-ELSEWHERE"}, "wrong_lot"),
        ({"quantity": 2001}, "over_quantity"),
        ({"quantity": 0}, "invalid_quantity"),
    ],
)
def test_wrong_scans_are_refused_and_change_nothing(world, scans, code):
    order = world.order((world.yogurt, 2000))
    _started(world, order)
    (task,) = tasks_of(world.shipment(order))
    # lots that arrive after the reservation: one expired since, one only in another bin
    days = dt.timedelta(days=1)
    put(world, world.yogurt, 1000, "A-02-01", lot="Y-OLD", expiry=world.today + days)
    put(world, world.yogurt, 1000, "A-01-02", lot="Y-ELSEWHERE", expiry=world.today + 5 * days)
    Lot.objects.filter(number="Y-OLD").update(expiry_date=world.today - days)
    if scans.get("item_scan") == "milk":
        scans = {"item_scan": barcode(world.milk)}
    before = snapshot()

    with pytest.raises(DomainError) as refused:
        _pick(task, world.admin, **scans)

    assert refused.value.code == code
    assert snapshot() == before
    assert not PickedStock.objects.exists()
    assert not world.shipment(order).events.filter(kind=EventKind.PICKED).exists()


def test_picking_needs_a_started_list_of_ones_own(world):
    order = world.order((world.milk, 1000))
    ids = [world.shipment(order).pk]
    wave = waves.create_wave(site=world.site, actor=world.admin, shipment_ids=ids)
    (task,) = tasks_of(world.shipment(order))
    picker = world.user("warehouse_operator", world.site)
    other = make_user("warehouse_operator", [world.site])
    before = snapshot()

    with pytest.raises(DomainError) as not_started:
        _pick(task, picker)
    picking.start_pick_list(wave.pick_lists.get(), picker)
    with pytest.raises(DomainError) as taken:
        picking.start_pick_list(wave.pick_lists.get(), other)
    with pytest.raises(DomainError) as elsewhere:
        _pick(task, other)

    assert (not_started.value.code, taken.value.code, elsewhere.value.code) == (
        "pick_list_not_started",
        "pick_list_taken",
        "pick_list_assigned_elsewhere",
    )
    assert picking.start_pick_list(wave.pick_lists.get(), picker).picker == picker  # resume
    assert snapshot()["moves"] == before["moves"]
    outsider = world.user("warehouse_operator", world.other)
    with pytest.raises(PermissionDenied):
        _pick(task, outsider)


# -- substitutes -----------------------------------------------------------------------------
def test_another_bin_with_free_stock_may_stand_in(world):
    put(world, world.milk, 2000, "A-02-05")
    order = world.order((world.milk, 1500))
    _started(world, order)
    (task,) = tasks_of(world.shipment(order))
    assert task.location.code == "A-01-08"

    _pick(task, world.admin, bin_scan="a-02-05")

    assert _balance(world, world.milk, "A-01-08") == (10_000, 0)  # reservation released
    assert _balance(world, world.milk, "A-02-05") == (500, 0)
    event = world.shipment(order).events.get(kind=EventKind.PICKED)
    assert (event.data["bin"], event.data["substituted_for"]) == ("A-02-05", "A-01-08")
    task.reservation.refresh_from_db()
    assert task.reservation.status == ReservationStatus.CONSUMED
    assert verify_ledger() == []


def test_earlier_unreserved_lot_substitutes(world):
    order = world.order((world.yogurt, 1000))
    _started(world, order)
    (task,) = tasks_of(world.shipment(order))
    put(
        world,
        world.yogurt,
        500,
        "A-02-01",
        lot="Y-EARLIER",
        expiry=world.today + dt.timedelta(days=9),
    )
    earlier = Lot.objects.get(number="Y-EARLIER")

    _pick(task, world.admin, lot_scan="Y-EARLIER", quantity=500, idempotency_key="e1")

    soon = task.lot
    assert _balance(world, world.yogurt, "A-02-01", earlier) == (0, 0)
    assert _balance(world, world.yogurt, "A-02-01", soon) == (6000, 500)
    picked = PickedStock.objects.get()
    assert picked.lot == earlier
    assert verify_ledger() == []


# -- idempotency -----------------------------------------------------------------------------
def test_replaying_a_pick_key_moves_nothing(world):
    order = world.order((world.milk, 3000))
    _started(world, order)
    (task,) = tasks_of(world.shipment(order))
    first = _pick(task, world.admin, quantity=1000, idempotency_key="tap-1")
    moves = StockMove.objects.count()
    task.refresh_from_db()

    again = _pick(task, world.admin, quantity=1000, idempotency_key="tap-1")

    assert (again.pk, again.replayed) == (first.pk, True)
    assert StockMove.objects.count() == moves
    task.refresh_from_db()
    assert task.picked == 1000
    other = world.order((world.milk, 1000))
    _started(world, other)
    with pytest.raises(IdempotencyKeyReused):
        _pick(tasks_of(world.shipment(other))[0], world.admin, idempotency_key="tap-1")


# -- short picks -----------------------------------------------------------------------------
def test_short_pick_writes_off_and_resources_to_another_site(world):
    put(world, world.milk, 5000, "WH2-01")
    order = world.order((world.milk, 4000))
    picker = world.user("warehouse_operator", world.site)
    _started(world, order, picker=picker)
    (task,) = tasks_of(world.shipment(order))
    # the bin holds 10 by the ledger; the picker finds 1: the other 9 are not there
    result = shorts.report_short(task=task, actor=picker, found=1000, idempotency_key="s-1")

    assert (result.found, result.short, result.written_off) == (1000, 3000, 9000)
    assert result.shipment_status == ShipmentStatus.PICKED
    assert result.decision_id is not None and result.resource_error is None
    task.refresh_from_db()
    assert (task.status, task.picked, task.short) == (PickTaskStatus.SHORT, 1000, 3000)
    assert _balance(world, world.milk, "A-01-08") == (0, 0)
    line = world.shipment(order).lines.get()
    assert (line.quantity, line.picked) == (1000, 1000)
    order.refresh_from_db()
    (order_line,) = order.lines.all()
    assert order_line.allocated == 4000  # 1000 here + 3000 re-sourced
    wh2 = order.shipments.get(site=world.other)
    assert wh2.status == ShipmentStatus.ALLOCATED
    assert [(t.location.code, t.quantity) for t in tasks_of(wh2)] == [("R-01-01", 3000)]
    event = order.events.get(kind=EventKind.SHORT_PICKED)
    assert (event.actor, event.data["found"], event.data["short"]) == (picker, "1.000", "3.000")
    adjust = StockMove.objects.get(reason="pick_short")
    assert (adjust.quantity, adjust.from_location.code) == (9000, "A-01-08")
    assert verify_ledger() == []

    replay = shorts.report_short(task=task, actor=picker, found=1000, idempotency_key="s-1")
    assert replay.replayed and (replay.short, replay.decision_id) == (3000, result.decision_id)
    assert StockMove.objects.filter(reason="pick_short").count() == 1


def test_nothing_found_and_no_stock_anywhere_backorders_and_cancels_the_shipment(world):
    order = world.order((world.milk, 2000))
    other = world.order((world.milk, 8000))  # holds the rest of the bin
    _started(world, order)
    (task,) = tasks_of(world.shipment(order))

    result = shorts.report_short(task=task, actor=world.admin, found=0, idempotency_key="s-2")

    assert (result.short, result.written_off) == (2000, 2000)  # the other order's 8 stay held
    assert _balance(world, world.milk, "A-01-08") == (8000, 8000)
    shipment = Shipment.objects.get(pk=task.shipment_line.shipment_id)
    assert shipment.status == ShipmentStatus.CANCELLED and not shipment.lines.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.BACKORDER
    assert order.lines.get().allocated == 0
    kinds = list(order.events.values_list("kind", flat=True))
    assert EventKind.SHORT_PICKED in kinds and EventKind.BACKORDERED in kinds
    assert world.shipment(other).status == ShipmentStatus.ALLOCATED
    assert verify_ledger() == []


def test_short_pick_refusals_change_nothing(world):
    order = world.order((world.milk, 2000))
    _started(world, order)
    (task,) = tasks_of(world.shipment(order))
    before = snapshot()

    for found in (2000, -1):
        with pytest.raises(DomainError) as refused:
            shorts.report_short(task=task, actor=world.admin, found=found, idempotency_key="x")
        assert refused.value.code == "invalid_found"
    assert snapshot() == before


# -- cost ------------------------------------------------------------------------------------
def _queries_of_one_pick(world, orders):
    pick_list = _started(world, *orders)
    task = picking.next_task(pick_list)
    scan = barcode(world.milk)
    with CaptureQueriesContext(connection) as queries:
        picking.confirm_pick(
            task=task,
            actor=world.admin,
            bin_scan=task.location.code,
            item_scan=scan,
            quantity=task.quantity,
            idempotency_key=f"q-{task.pk}",
        )
    return len(queries)


def test_a_pick_costs_the_same_on_a_long_list(world):
    # the first pick creates the staging location and its balance row: not the hot path
    _queries_of_one_pick(world, [world.order((world.milk, 100))])
    short_list = _queries_of_one_pick(world, [world.order((world.milk, 100)) for _ in range(2)])
    long_list = _queries_of_one_pick(world, [world.order((world.milk, 100)) for _ in range(20)])

    assert short_list == long_list
    assert long_list <= 40
