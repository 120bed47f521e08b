"""Sourcing service: candidates, splits, strategies, re-sourcing, lost races, backorders."""

import datetime as dt

import pytest
from django.utils import timezone

from chainstore.core.errors import PermissionDenied, ValidationFailed
from chainstore.core.testing import make_bin, make_sku, make_user
from chainstore.fulfilment.models import (
    EventKind,
    OrderStatus,
    PickTask,
    PickTaskStatus,
    ShipmentStatus,
    Strategy,
)
from chainstore.fulfilment.services import sourcing
from chainstore.fulfilment.services.care import resource_order, retry_backorders
from chainstore.fulfilment.services.intake import create_order
from chainstore.fulfilment.services.sourcing import SYSTEM, source_remainder
from chainstore.fulfilment.services.status import refresh_order_status
from chainstore.fulfilment.tests.orders_world import (
    BEIJING,
    HANGZHOU,
    available,
    make_channel,
    open_reserved,
    order_input,
    policy,
    put,
    ship_from,
)
from chainstore.inventory.models import Lot
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(db):
    return make_channel()


def _sites(order):
    return sorted(s.site.code for s in order.shipments.exclude(status=ShipmentStatus.CANCELLED))


def test_partial_stock_is_split_across_two_sites_and_the_rest_backordered(admin, channel):
    near, near_bin = ship_from(admin)  # Shanghai, next to the customer
    far, far_bin = ship_from(admin, at=BEIJING)
    milk = make_sku(admin, weight_g=250)
    put(admin, near, near_bin, milk, 3)
    put(admin, far, far_bin, milk, 4)

    order = create_order(channel_code=channel.code, payload=order_input([(milk, 9)]), actor=admin)

    assert _sites(order) == sorted([near.code, far.code])
    by_site = {s.site_id: s.lines.get().quantity for s in order.shipments.all()}
    assert by_site == {near.pk: 3000, far.pk: 4000}
    (line,) = order.lines.all()
    assert (line.allocated, line.shipped, line.backordered) == (7000, 0, 2000)
    assert order.status == OrderStatus.BACKORDER
    assert available(near, milk) == 0 and available(far, milk) == 0
    assert open_reserved(near, milk) == 3000 and open_reserved(far, milk) == 4000
    decision = order.sourcing_decisions.get()
    assert decision.unfilled == {milk.code: "2.000"}
    assert {c["site"] for c in decision.candidates if c["chosen"]} == {near.code, far.code}
    assert order.events.filter(kind=EventKind.RESERVED).count() == 2
    assert order.events.filter(kind=EventKind.BACKORDERED).count() == 1
    assert verify_ledger() == []


def test_nearest_splits_where_fewest_ships_one_parcel_from_far(admin, channel):
    near, near_bin = ship_from(admin)
    mid, mid_bin = ship_from(admin, at=HANGZHOU, kind="store")
    far, far_bin = ship_from(admin, at=BEIJING)
    milk, tea = make_sku(admin), make_sku(admin)
    put(admin, near, near_bin, milk, 5)
    put(admin, mid, mid_bin, tea, 5)
    put(admin, far, far_bin, milk, 5)
    put(admin, far, far_bin, tea, 5)

    policy(strategy=Strategy.NEAREST)
    nearest = create_order(
        channel_code=channel.code, payload=order_input([(milk, 1), (tea, 1)]), actor=admin
    )
    policy(strategy=Strategy.FEWEST)
    fewest = create_order(
        channel_code=channel.code, payload=order_input([(milk, 1), (tea, 1)]), actor=admin
    )

    assert _sites(nearest) == sorted([near.code, mid.code])
    assert _sites(fewest) == [far.code]
    assert fewest.sourcing_decisions.get().strategy == Strategy.FEWEST


def test_no_split_policy_ships_from_one_site(admin, channel):
    a, a_bin = ship_from(admin)
    b, b_bin = ship_from(admin, at=HANGZHOU)
    milk = make_sku(admin)
    put(admin, a, a_bin, milk, 2)
    put(admin, b, b_bin, milk, 3)
    policy(allow_split=False)

    order = create_order(channel_code=channel.code, payload=order_input([(milk, 5)]), actor=admin)

    assert _sites(order) == [b.code]
    assert order.lines.get().backordered == 2000


def test_disabled_and_inactive_sites_are_not_candidates(admin, channel):
    on, on_bin = ship_from(admin, at=BEIJING)
    off, off_bin = ship_from(admin, enabled=False)
    closed, closed_bin = ship_from(admin)
    closed.is_active = False
    closed.save()
    milk = make_sku(admin)
    for site, bin_ in ((on, on_bin), (off, off_bin), (closed, closed_bin)):
        put(admin, site, bin_, milk, 5)

    order = create_order(channel_code=channel.code, payload=order_input([(milk, 1)]), actor=admin)

    assert _sites(order) == [on.code]
    assert [c["site"] for c in order.sourcing_decisions.get().candidates] == [on.code]


def test_expired_lots_are_not_promised(admin, channel):
    site, bin_ = ship_from(admin)
    yoghurt = make_sku(admin, tracking="lot", shelf_life_days=20)
    put(
        admin, site, bin_, yoghurt, 2, lot="OLD", expiry=timezone.localdate() + dt.timedelta(days=3)
    )

    Lot.objects.filter(number="OLD").update(expiry_date=timezone.localdate() - dt.timedelta(days=1))
    order = create_order(
        channel_code=channel.code, payload=order_input([(yoghurt, 1)]), actor=admin
    )

    assert order.status == OrderStatus.BACKORDER and order.shipments.count() == 0


def test_fefo_lots_and_bins_become_pick_tasks(admin, channel):
    site, bin_a = ship_from(admin)
    bin_b = make_bin(admin, site)
    yoghurt = make_sku(admin, tracking="lot", shelf_life_days=30)
    soon, later = (
        timezone.localdate() + dt.timedelta(days=5),
        timezone.localdate() + dt.timedelta(days=9),
    )
    put(admin, site, bin_b, yoghurt, 2, lot="L-SOON", expiry=soon)
    put(admin, site, bin_a, yoghurt, 5, lot="L-LATER", expiry=later)

    order = create_order(
        channel_code=channel.code, payload=order_input([(yoghurt, 3)]), actor=admin
    )

    tasks = PickTask.objects.filter(shipment_line__order_line__order=order).order_by(
        "lot__expiry_date"
    )
    assert [(t.location, t.lot.number, t.quantity) for t in tasks] == [
        (bin_b, "L-SOON", 2000),
        (bin_a, "L-LATER", 1000),
    ]
    reserved = order.events.get(kind=EventKind.RESERVED).data["lines"]
    assert {(r["bin"], r["lot"], r["quantity"]) for r in reserved} == {
        (bin_b.code, "L-SOON", "2.000"),
        (bin_a.code, "L-LATER", "1.000"),
    }


def test_missing_coordinates_fall_back_to_city_centres_then_zero(admin, channel):
    sh, sh_bin = ship_from(admin, at=None, city="上海")
    bj, bj_bin = ship_from(admin, at=None, city="北京市")
    nowhere, nowhere_bin = ship_from(admin, at=None, city="")
    milk = make_sku(admin)
    for site, bin_ in ((sh, sh_bin), (bj, bj_bin), (nowhere, nowhere_bin)):
        put(admin, site, bin_, milk, 1)
    policy(strategy=Strategy.NEAREST)

    order = create_order(
        channel_code=channel.code,
        payload=order_input([(milk, 1)], at=None, city="上海市"),
        actor=admin,
    )

    rows = {c["site"]: c for c in order.sourcing_decisions.get().candidates}
    assert rows[sh.code]["distance_km"] == 0.0 and rows[sh.code]["located"] is True
    assert 1000 < rows[bj.code]["distance_km"] < 1100
    assert rows[nowhere.code]["located"] is False
    assert "centre of" in order.sourcing_decisions.get().summary


def test_only_the_best_max_candidates_are_considered(admin, channel):
    milk = make_sku(admin)
    sites = []
    for units in (1, 2, 3, 4):
        site, bin_ = ship_from(admin)
        put(admin, site, bin_, milk, units)
        sites.append(site)
    policy(max_candidates=2)

    order = create_order(channel_code=channel.code, payload=order_input([(milk, 4)]), actor=admin)

    decision = order.sourcing_decisions.get()
    assert [c["site"] for c in decision.candidates] == [sites[3].code, sites[2].code]
    assert _sites(order) == [sites[3].code]


def test_a_lost_race_is_re_solved_on_fresh_numbers(admin, channel, monkeypatch):
    a, a_bin = ship_from(admin)
    b, b_bin = ship_from(admin, at=BEIJING)
    milk = make_sku(admin)
    put(admin, a, a_bin, milk, 2)
    put(admin, b, b_bin, milk, 5)
    real = sourcing.available_to_promise
    calls = []

    def stale(**kw):
        calls.append(kw)
        result = real(**kw)
        if len(calls) == 1:  # the first read believes the near site has plenty
            result[(a.pk, milk.pk)] = 9000
        return result

    monkeypatch.setattr(sourcing, "available_to_promise", stale)

    order = create_order(channel_code=channel.code, payload=order_input([(milk, 4)]), actor=admin)

    # the first plan (all 4 from the near site) failed to reserve; on fresh numbers the
    # fewest-shipments policy ships all of it from the far site in one parcel
    assert len(calls) == 2
    assert {s.site_id: s.lines.get().quantity for s in order.shipments.all()} == {b.pk: 4000}
    assert available(a, milk) == 2000
    assert "re-solved 1x" in order.sourcing_decisions.get().summary
    assert verify_ledger() == []


def test_endless_contention_backorders_instead_of_overselling(admin, channel, monkeypatch):
    a, a_bin = ship_from(admin)
    milk = make_sku(admin)
    put(admin, a, a_bin, milk, 1)
    monkeypatch.setattr(sourcing, "available_to_promise", lambda **kw: {(a.pk, milk.pk): 5000})

    order = create_order(channel_code=channel.code, payload=order_input([(milk, 3)]), actor=admin)

    assert order.status == OrderStatus.BACKORDER and order.shipments.count() == 0
    decision = order.sourcing_decisions.get()
    assert decision.method == "contention" and decision.unfilled == {milk.code: "3.000"}
    assert available(a, milk) == 1000


def test_backorder_is_filled_by_retry_after_a_receipt(admin, channel):
    site, bin_ = ship_from(admin)
    milk = make_sku(admin)
    put(admin, site, bin_, milk, 1)
    order = create_order(channel_code=channel.code, payload=order_input([(milk, 3)]), actor=admin)
    assert order.status == OrderStatus.BACKORDER

    assert retry_backorders(actor=SYSTEM) == []  # nothing new in stock: no decision spam
    assert order.sourcing_decisions.count() == 1
    put(admin, site, bin_, milk, 5)
    (retry,) = retry_backorders(actor=SYSTEM)

    assert retry.order.pk == order.pk and retry.decision is not None
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    assert order.lines.get().allocated == 3000
    assert sorted(s.lines.get().quantity for s in order.shipments.all()) == [1000, 2000]
    assert order.sourcing_decisions.last().trigger == "backorder_retry"
    assert available(site, milk) == 3000
    assert verify_ledger() == []


def test_resource_releases_unpicked_shipments_and_sources_again(admin, channel):
    far, far_bin = ship_from(admin, at=BEIJING)
    milk = make_sku(admin)
    put(admin, far, far_bin, milk, 5)
    order = create_order(channel_code=channel.code, payload=order_input([(milk, 2)]), actor=admin)
    (old,) = order.shipments.all()
    near, near_bin = ship_from(admin)
    put(admin, near, near_bin, milk, 5)

    decision = resource_order(order, actor=admin)

    old.refresh_from_db()
    assert old.status == ShipmentStatus.CANCELLED
    assert set(
        PickTask.objects.filter(shipment_line__shipment=old).values_list("status", flat=True)
    ) == {PickTaskStatus.CANCELLED}
    assert decision.trigger == "resource"
    order.refresh_from_db()
    assert _sites(order) == [near.code] and order.status == OrderStatus.ALLOCATED
    assert order.lines.get().allocated == 2000
    assert available(far, milk) == 5000 and available(near, milk) == 3000
    released = order.events.get(kind=EventKind.RELEASED)
    assert released.data["shipments"][old.number][0]["quantity"] == "2.000"
    assert verify_ledger() == []


def test_resource_leaves_a_shipment_being_picked(admin, channel):
    site, bin_ = ship_from(admin)
    milk = make_sku(admin)
    put(admin, site, bin_, milk, 5)
    order = create_order(channel_code=channel.code, payload=order_input([(milk, 2)]), actor=admin)
    shipment = order.shipments.get()
    shipment.lines.update(picked=1000)
    shipment.status = ShipmentStatus.PICKING
    shipment.save()

    with pytest.raises(ValidationFailed) as exc:
        resource_order(order, actor=admin)

    assert exc.value.code == "nothing_to_resource"
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.PICKING


def test_source_remainder_does_nothing_when_all_is_allocated(admin, channel):
    site, bin_ = ship_from(admin)
    milk = make_sku(admin)
    put(admin, site, bin_, milk, 5)
    order = create_order(channel_code=channel.code, payload=order_input([(milk, 2)]), actor=admin)

    assert source_remainder(order, actor=admin, trigger="manual") is None
    assert order.sourcing_decisions.count() == 1


def test_short_pick_trigger_needs_the_pickers_permission(admin, channel):
    site, bin_ = ship_from(admin)
    milk = make_sku(admin)
    order = create_order(channel_code=channel.code, payload=order_input([(milk, 2)]), actor=admin)
    picker = make_user("warehouse_operator", sites=[site])
    cashier = make_user("cashier", sites=[site])
    put(admin, site, bin_, milk, 5)

    with pytest.raises(PermissionDenied):
        source_remainder(order, actor=cashier, trigger="short_pick")
    decision = source_remainder(order, actor=picker, trigger="short_pick")

    assert decision is not None and _sites(order) == [site.code]
    sourced = order.events.filter(kind=EventKind.SOURCED).last()
    assert sourced.actor == picker


def test_retry_also_sources_the_remainder_of_an_order_being_picked(admin, channel):
    site, bin_ = ship_from(admin)
    milk = make_sku(admin)
    put(admin, site, bin_, milk, 2)
    order = create_order(channel_code=channel.code, payload=order_input([(milk, 5)]), actor=admin)
    first = order.shipments.get()
    first.status = ShipmentStatus.WAVED
    first.save()
    order.refresh_from_db()
    assert (order.status, order.lines.get().backordered) == ("backorder", 3000)
    assert refresh_order_status(order) == OrderStatus.IN_FULFILMENT
    put(admin, site, bin_, milk, 4)

    (retry,) = retry_backorders(actor=SYSTEM)

    assert retry.order.pk == order.pk
    assert order.lines.get().allocated == 5000
    second = order.shipments.exclude(pk=first.pk).get()
    assert second.lines.get().quantity == 3000 and available(site, milk) == 1000
