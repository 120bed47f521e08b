"""Waves: candidates, suggestions by carrier and cut-off, creation (carts, routes), no
double-waving, closing a partial wave and cancelling an untouched one."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from chainstore.core.errors import Conflict, InvalidState, PermissionDenied, ValidationFailed
from chainstore.core.testing import make_sku
from chainstore.fulfilment.models import (
    EventKind,
    OrderStatus,
    PickList,
    PickListStatus,
    PickTask,
    PickTaskStatus,
    ShipFromSite,
    Shipment,
    ShipmentStatus,
    Wave,
    WaveStatus,
)
from chainstore.fulfilment.services import picking, waves
from chainstore.fulfilment.services.care import cancel_order
from chainstore.fulfilment.services.layouts import plan_route
from chainstore.fulfilment.tests.test_waves_support import (
    build_world,
    put,
    tasks_of,
)
from chainstore.inventory.models import Reservation, ReservationStatus
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    w = build_world(admin)
    put(w, w.milk, 50_000, "A-01-08")
    put(w, w.yogurt, 40_000, "A-02-01", lot="Y1", expiry=w.today + dt.timedelta(days=20))
    return w


def _ago(minutes):
    return timezone.now() - dt.timedelta(minutes=minutes)


# -- candidates --------------------------------------------------------------------------
def test_candidates_are_paid_allocated_shipments_oldest_first(world):
    newer = world.order((world.milk, 1000), placed_at=_ago(10))
    older = world.order((world.milk, 2000), (world.yogurt, 1000), placed_at=_ago(50))
    unpaid = world.order((world.milk, 1000), placed_at=_ago(90))
    unpaid.paid_at, unpaid.pay_by, unpaid.status = None, _ago(-30), OrderStatus.PENDING_PAYMENT
    unpaid.save()

    found = waves.wave_candidates(site=world.site, actor=world.admin)

    assert [s.order_id for s in found] == [older.pk, newer.pk]
    assert [(s.units, s.line_count, s.effective_carrier) for s in found] == [
        (3000, 2, "sim"),
        (1000, 1, "sim"),
    ]


def test_candidates_filter_by_cutoff_carrier_and_zone(world):
    put(world, world.milk, 5_000, "B-05-03")
    sf_old = world.order((world.milk, 1000), placed_at=_ago(50), carrier="sf")
    jd = world.order((world.milk, 1000), placed_at=_ago(40), carrier="jd")
    sf_new = world.order((world.milk, 1000), placed_at=_ago(5), carrier="sf")
    # this one is reserved in both zones (A-01-08 holds too little after the others)
    mixed = world.order((world.milk, 48_000), placed_at=_ago(30))
    assert {t.location.zone.code for t in tasks_of(world.shipment(mixed))} == {"A", "B"}

    def ids(**kw):
        return [s.order_id for s in waves.wave_candidates(site=world.site, actor=world.admin, **kw)]

    assert ids(carrier="sf") == [sf_old.pk, sf_new.pk]
    assert ids(cutoff=_ago(20)) == [sf_old.pk, jd.pk, mixed.pk]
    assert ids(zone="A") == [sf_old.pk, jd.pk, sf_new.pk]
    assert ids(zone="B") == []


def _daytime_zone():
    """A time zone where it is now between 02:00 and 22:00, so "before today's cut-off" and
    "after it" both lie in the past whenever the test runs."""
    for name in ("Asia/Shanghai", "Europe/London", "America/New_York"):
        if 2 <= timezone.now().astimezone(zoneinfo.ZoneInfo(name)).hour < 22:
            return name
    raise AssertionError("one of them is always in daytime")


def test_suggestions_group_by_carrier_and_todays_cutoff(world):
    tz = _daytime_zone()
    type(world.site).objects.filter(pk=world.site.pk).update(timezone=tz)
    world.site.refresh_from_db()
    local_now = timezone.now().astimezone(zoneinfo.ZoneInfo(tz))
    cutoff_at = (local_now - dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    ShipFromSite.objects.filter(site=world.site).update(cutoff_time=cutoff_at.time())
    early = dt.timedelta(minutes=30)
    world.order((world.milk, 1000), placed_at=cutoff_at - early * 2, carrier="sf")
    world.order((world.milk, 2000), (world.yogurt, 3000), placed_at=cutoff_at - early, carrier="sf")
    world.order((world.milk, 1000), placed_at=cutoff_at - early, carrier="jd")
    world.order((world.milk, 4000), placed_at=cutoff_at + early, carrier="sf")

    groups = waves.suggest_waves(world.site, world.admin)

    assert [(g.carrier, g.due_today, g.shipments, g.lines, g.units) for g in groups] == [
        ("sf", True, 2, 3, 6000),
        ("jd", True, 1, 1, 1000),
        ("sf", False, 1, 1, 4000),
    ]
    assert groups[0].cutoff_at == cutoff_at
    assert groups[0].wave_cutoff == cutoff_at and groups[2].wave_cutoff is None


def test_suggestions_without_cutoff_time_form_one_group_per_carrier(world):
    ShipFromSite.objects.filter(site=world.site).update(cutoff_time=None)
    world.order((world.milk, 1000), carrier="sf")
    world.order((world.milk, 1000), carrier="sf")

    (group,) = waves.suggest_waves(world.site, world.admin)

    assert (group.carrier, group.due_today, group.cutoff_at, group.shipments) == (
        "sf",
        None,
        None,
        2,
    )


# -- creating ----------------------------------------------------------------------------
def test_create_wave_splits_into_carts_and_routes_each_list(world, monkeypatch):
    skus = [world.milk]
    for code in ("A-01-02", "A-02-05", "B-05-03"):
        sku = make_sku(world.admin, name=f"商品 {code}")
        put(world, sku, 10_000, code)
        skus.append(sku)
    orders = [
        world.order(*[(sku, 1000) for sku in skus[i % 2 :: 1 + i % 2]], placed_at=_ago(50 - i))
        for i in range(5)
    ]
    routed = []

    def spy(site, locations):
        plan = plan_route(site, locations)
        routed.append((list(locations), plan))
        return plan

    monkeypatch.setattr(waves, "plan_route", spy)

    wave = waves.create_wave(site=world.site, actor=world.admin, max_orders=4, cart_size=2)

    assert wave.number.startswith("WV") and wave.status == WaveStatus.RELEASED
    waved = Shipment.objects.filter(wave=wave)
    assert sorted(s.order_id for s in waved) == sorted(o.pk for o in orders[:4])
    assert {s.status for s in waved} == {ShipmentStatus.WAVED}
    assert world.shipment(orders[4]).status == ShipmentStatus.ALLOCATED
    lists = list(wave.pick_lists.order_by("id"))
    assert len(lists) == 2 and all(pl.number.startswith("PL") for pl in lists)
    assert len(routed) == 2
    for pick_list, (stops, plan) in zip(lists, routed, strict=True):
        tasks = list(pick_list.tasks.order_by("sequence"))
        assert len({t.shipment_line.shipment_id for t in tasks}) == 2
        assert [t.sequence for t in tasks] == list(range(1, len(tasks) + 1))
        # each bin once, and the tasks walk the bins in the route's order
        assert sorted(s.pk for s in stops) == sorted({t.location_id for t in tasks})
        visited = list(dict.fromkeys(t.location_id for t in tasks))
        assert visited == [stops[i].pk for i in plan.order]
        assert (
            pick_list.route_length_m,
            pick_list.sshape_length_m,
            pick_list.sequence_length_m,
            pick_list.route_method,
        ) == (plan.length_m, plan.sshape_m, plan.sequence_m, plan.method)
        assert pick_list.route_path == plan.path and len(plan.path) >= 2
        assert plan.length_m <= min(plan.sshape_m, plan.sequence_m) + 1e-9
    for order in orders[:4]:
        order.refresh_from_db()
        assert order.status == OrderStatus.IN_FULFILMENT
        event = order.events.get(kind=EventKind.WAVED)
        assert event.data["wave"] == wave.number and event.actor == world.admin


def test_carts_hold_shipments_that_visit_the_same_aisles(world):
    put(world, world.milk, 5_000, "B-05-03")
    a1 = world.order((world.milk, 1000), placed_at=_ago(50))
    big = world.order((world.milk, 49_000), placed_at=_ago(45))  # empties A-01-08
    b1 = world.order((world.milk, 1000), placed_at=_ago(40))
    b2 = world.order((world.milk, 1000), placed_at=_ago(30))
    assert {t.location.code for t in tasks_of(world.shipment(b1))} == {"B-05-03"}

    wave = waves.create_wave(
        site=world.site,
        actor=world.admin,
        shipment_ids=[world.shipment(o).pk for o in (a1, big, b1, b2)],
        cart_size=2,
    )

    carts = {
        frozenset(t.shipment_line.shipment.order_id for t in pl.tasks.all())
        for pl in wave.pick_lists.all()
    }
    assert carts == {frozenset({a1.pk, big.pk}), frozenset({b1.pk, b2.pk})}


def test_explicit_shipments_are_waved_once(world):
    first = world.order((world.milk, 1000))
    second = world.order((world.milk, 1000))
    ids = [world.shipment(first).pk, world.shipment(second).pk]
    wave = waves.create_wave(site=world.site, actor=world.admin, shipment_ids=ids)

    with pytest.raises(Conflict) as refused:
        waves.create_wave(site=world.site, actor=world.admin, shipment_ids=ids)

    assert refused.value.code == "shipment_not_available"
    assert Wave.objects.count() == 1
    assert set(Shipment.objects.filter(pk__in=ids).values_list("wave", flat=True)) == {wave.pk}
    with pytest.raises(Conflict) as nothing:
        waves.create_wave(site=world.site, actor=world.admin)
    assert nothing.value.code == "nothing_to_wave"
    assert Wave.objects.count() == 1 and PickList.objects.count() == 1


def test_limits_and_permissions(world):
    world.order((world.milk, 1000))
    with pytest.raises(ValidationFailed) as too_big:
        waves.create_wave(site=world.site, actor=world.admin, cart_size=0)
    assert too_big.value.code == "invalid_cart_size"
    picker = world.user("warehouse_operator", world.site)
    with pytest.raises(PermissionDenied):
        waves.create_wave(site=world.site, actor=picker)
    outsider = world.user("warehouse_manager", world.other)
    with pytest.raises(PermissionDenied) as scope:
        waves.wave_candidates(site=world.site, actor=outsider)
    assert scope.value.code == "site_out_of_scope"
    manager = world.user("warehouse_manager", world.site)
    assert waves.create_wave(site=world.site, actor=manager).created_by == manager
    assert not Wave.objects.exclude(created_by=manager).exists()


# -- closing and cancelling --------------------------------------------------------------
def _pick_all(task, actor, quantity=None, key=None):
    return picking.confirm_pick(
        task=task,
        actor=actor,
        bin_scan=task.location.code,
        item_scan=task.sku.barcodes.get().code,
        lot_scan=task.lot.number if task.lot else None,
        quantity=quantity or task.quantity,
        idempotency_key=key or f"k-{task.pk}-{task.picked}",
    )


def test_closing_a_partial_wave_returns_unpicked_shipments_to_the_pool(world):
    done = world.order((world.milk, 2000), placed_at=_ago(50))
    half = world.order((world.milk, 3000), (world.yogurt, 2000), placed_at=_ago(40))
    untouched = world.order((world.milk, 1000), placed_at=_ago(30))
    wave = waves.create_wave(site=world.site, actor=world.admin, cart_size=8)
    (pick_list,) = wave.pick_lists.all()
    picking.start_pick_list(pick_list, world.admin)
    for task in tasks_of(world.shipment(done)):
        _pick_all(task, world.admin)
    half_milk, half_yogurt = tasks_of(world.shipment(half))
    _pick_all(half_milk, world.admin, quantity=1000)
    _pick_all(half_yogurt, world.admin)

    closed = waves.close_wave(wave, world.admin)

    assert closed.status == WaveStatus.DONE and closed.completed_at is not None
    pick_list.refresh_from_db()
    assert pick_list.status == PickListStatus.CANCELLED
    statuses = {o: world.shipment(o).status for o in (done, half, untouched)}
    assert statuses == {
        done: ShipmentStatus.PICKED,
        half: ShipmentStatus.ALLOCATED,
        untouched: ShipmentStatus.ALLOCATED,
    }
    assert world.shipment(done).wave == wave and world.shipment(half).wave is None
    half_milk.refresh_from_db()
    assert (half_milk.status, half_milk.picked, half_milk.pick_list) == (
        PickTaskStatus.OPEN,
        1000,
        None,
    )
    assert half_milk.reservation.open_quantity == 2000
    assert half_milk.reservation.status == ReservationStatus.ACTIVE
    events = world.shipment(half).events.filter(kind=EventKind.WAVED).order_by("id")
    assert [e.data.get("action") for e in events] == [None, "returned"]
    # the next wave takes only what is left to pick
    again = waves.create_wave(site=world.site, actor=world.admin)
    assert {t.pk for t in PickTask.objects.filter(pick_list__wave=again)} == {
        half_milk.pk,
        *(t.pk for t in tasks_of(world.shipment(untouched))),
    }
    with pytest.raises(InvalidState) as twice:
        waves.close_wave(wave, world.admin)
    assert twice.value.code == "wave_finished"
    assert verify_ledger() == []


def test_cancel_only_before_picking(world):
    order = world.order((world.milk, 2000))
    wave = waves.create_wave(site=world.site, actor=world.admin)
    reservations = list(Reservation.objects.values_list("pk", "open_quantity", "status"))

    cancelled = waves.cancel_wave(wave, world.admin)

    assert cancelled.status == WaveStatus.CANCELLED
    shipment = world.shipment(order)
    assert (shipment.status, shipment.wave) == (ShipmentStatus.ALLOCATED, None)
    assert not PickTask.objects.filter(pick_list__isnull=False).exists()
    assert list(Reservation.objects.values_list("pk", "open_quantity", "status")) == reservations
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED

    wave = waves.create_wave(site=world.site, actor=world.admin)
    pick_list = wave.pick_lists.get()
    picking.start_pick_list(pick_list, world.admin)
    _pick_all(tasks_of(shipment)[0], world.admin, quantity=1000)
    with pytest.raises(InvalidState) as refused:
        waves.cancel_wave(wave, world.admin)
    assert refused.value.code == "wave_has_picks"
    wave.refresh_from_db()
    assert wave.status == WaveStatus.PICKING


# -- lists emptied by order care ---------------------------------------------------------
def test_a_list_whose_last_open_tasks_are_cancelled_is_done_and_so_is_its_wave(world):
    kept = world.order((world.milk, 2000), placed_at=_ago(50))
    gone = world.order((world.milk, 1000), (world.yogurt, 1000), placed_at=_ago(40))
    wave = waves.create_wave(site=world.site, actor=world.admin, cart_size=8)
    (pick_list,) = wave.pick_lists.all()
    picking.start_pick_list(pick_list, world.admin)
    for task in tasks_of(world.shipment(kept)):
        _pick_all(task, world.admin)
    pick_list.refresh_from_db()
    assert pick_list.status == PickListStatus.PICKING  # the other order's tasks are open

    cancel_order(gone, actor=world.admin, reason="customer asked")
    waves.settle_pick_lists(shipments=list(gone.shipments.all()))  # what order care calls

    pick_list.refresh_from_db()
    wave.refresh_from_db()
    assert pick_list.status == PickListStatus.DONE and pick_list.completed_at
    assert wave.status == WaveStatus.DONE and wave.completed_at
    assert waves.settle_pick_lists(shipments=list(gone.shipments.all())) == []  # once
    assert verify_ledger() == []


def test_a_list_nobody_started_is_cancelled_when_all_its_orders_are(world):
    first = world.order((world.milk, 2000), placed_at=_ago(50))
    second = world.order((world.milk, 1000), placed_at=_ago(40))
    wave = waves.create_wave(site=world.site, actor=world.admin, cart_size=1)
    lists = {pl.tasks.get().shipment_line.shipment.order_id: pl for pl in wave.pick_lists.all()}

    cancel_order(first, actor=world.admin, reason="x")
    settled = waves.settle_pick_lists(shipments=list(first.shipments.all()))

    assert settled in ([lists[first.pk]], [])  # [] once order care settles by itself
    lists[first.pk].refresh_from_db()
    wave.refresh_from_db()
    assert lists[first.pk].status == PickListStatus.CANCELLED
    assert wave.status == WaveStatus.RELEASED  # the other list is still to pick

    cancel_order(second, actor=world.admin, reason="x")
    waves.settle_pick_lists(pick_list_ids=[lists[second.pk].pk])

    wave.refresh_from_db()
    assert wave.status == WaveStatus.CANCELLED  # nothing of it was ever picked


def test_settling_leaves_lists_with_work_alone(world):
    first = world.order((world.milk, 2000), placed_at=_ago(50))
    world.order((world.milk, 1000), placed_at=_ago(40))
    wave = waves.create_wave(site=world.site, actor=world.admin, cart_size=8)
    (pick_list,) = wave.pick_lists.all()
    picking.start_pick_list(pick_list, world.admin)

    cancel_order(first, actor=world.admin, reason="x")

    assert waves.settle_pick_lists(shipments=list(first.shipments.all())) == []
    pick_list.refresh_from_db()
    assert pick_list.status == PickListStatus.PICKING
    assert picking.next_task(pick_list) is not None
