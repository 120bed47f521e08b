"""Tracking events: stored once per (carrier, event id), on the timeline, parcels and
shipments delivered, unknown numbers reported; the simulated carrier's command."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from chainstore.core.errors import DomainError, PermissionDenied
from chainstore.fulfilment.models import (
    EventKind,
    OrderEvent,
    ParcelStatus,
    ShipmentStatus,
    TrackingEvent,
)
from chainstore.fulfilment.services import outbound
from chainstore.fulfilment.services.outbound import ParcelInput
from chainstore.fulfilment.services.tracking import (
    receive_webhook,
    record_tracking,
    run_simulated_carrier,
)
from chainstore.fulfilment.tests.test_outbound_support import (
    build_world,
    expected_g,
    scan_all,
    snapshot,
)
from chainstore.integrations.carriers import TrackingUpdate
from chainstore.integrations.carriers.simulated import SIGNATURE_HEADER, SimulatedCarrier
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return build_world(admin)


def shipped(world, *lines, parcels=1):
    shipment = world.picked(*lines)
    scan_all(world, shipment)
    outbound.complete_check(shipment=shipment, actor=world.operator, weight_g=expected_g(shipment))
    specs = None
    if parcels == 2:
        line = shipment.lines.first()
        rest = [(ln.pk, ln.checked) for ln in shipment.lines.exclude(pk=line.pk)]
        specs = [
            ParcelInput(items=[(line.pk, 1000)]),
            ParcelInput(items=[(line.pk, line.checked - 1000), *rest]),
        ]
    outbound.pack(shipment=shipment, actor=world.operator, parcels=specs)
    outbound.ship(shipment=shipment, actor=world.operator, idempotency_key=shipment.number)
    shipment.refresh_from_db()
    return shipment


def update(number, event_id, code="in_transit", hours=1, **kw):
    return TrackingUpdate(
        tracking_number=number,
        event_id=event_id,
        code=code,
        at=timezone.now() - dt.timedelta(hours=10 - hours),
        description=kw.pop("description", "快件到达【上海转运中心】"),
        place=kw.pop("place", "上海转运中心"),
        latitude=kw.pop("latitude", Decimal("31.100000")),
        longitude=kw.pop("longitude", Decimal("121.300000")),
    )


def test_events_are_recorded_once_and_put_on_the_timeline(world):
    shipment = shipped(world, (world.noodles, 1))
    number = shipment.parcels.get().tracking_number
    batch = [update(number, "e1", "picked_up", 1), update(number, "e2", "in_transit", 2)]
    counts = record_tracking(carrier_code="sim", updates=batch)
    assert counts == {
        "received": 2,
        "recorded": 2,
        "duplicates": 0,
        "unknown": 0,
        "unknown_tracking_numbers": [],
        "delivered_parcels": 0,
        "delivered_shipments": 0,
    }
    timeline = OrderEvent.objects.filter(shipment=shipment, kind=EventKind.TRACKING).order_by("at")
    assert [e.data["code"] for e in timeline] == ["picked_up", "in_transit"]
    second = timeline.last().data
    assert (second["place"], second["latitude"], second["longitude"]) == (
        "上海转运中心",
        "31.100000",
        "121.300000",
    )
    assert second["tracking_number"] == number and second["parcel"] == 1

    before = snapshot()
    again = record_tracking(carrier_code="sim", updates=[*batch, update(number, "e2")])
    assert (again["recorded"], again["duplicates"]) == (0, 3)
    assert snapshot() == before


def test_unknown_tracking_numbers_are_counted_not_raised(world):
    shipment = shipped(world, (world.noodles, 1))
    number = shipment.parcels.get().tracking_number
    counts = record_tracking(
        carrier_code="sim",
        updates=[update("SIM999999999999", "x1"), update(number, "k1"), update("NOPE", "x2")],
    )
    assert (counts["recorded"], counts["unknown"]) == (1, 2)
    assert counts["unknown_tracking_numbers"] == ["NOPE", "SIM999999999999"]


def test_another_carriers_number_is_unknown(world):
    shipment = shipped(world, (world.noodles, 1))
    number = shipment.parcels.get().tracking_number
    from django.test import override_settings

    carriers = {
        "sim": "chainstore.integrations.carriers.simulated.SimulatedCarrier",
        "sim2": "chainstore.integrations.carriers.simulated.SimulatedCarrier",
    }
    with override_settings(CHAINSTORE_CARRIERS=carriers):
        counts = record_tracking(carrier_code="sim2", updates=[update(number, "e1")])
    assert counts["unknown"] == 1 and not TrackingEvent.objects.exists()


def test_delivery_of_every_parcel_delivers_the_shipment_and_the_order(world):
    shipment = shipped(world, (world.noodles, 3), parcels=2)
    order = shipment.order
    first, second = shipment.parcels.order_by("seq")
    counts = record_tracking(
        carrier_code="sim", updates=[update(first.tracking_number, "d1", "delivered", 5)]
    )
    assert (counts["delivered_parcels"], counts["delivered_shipments"]) == (1, 0)
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.SHIPPED
    late = update(second.tracking_number, "d2", "delivered", 7)
    counts = record_tracking(carrier_code="sim", updates=[late])
    assert (counts["delivered_parcels"], counts["delivered_shipments"]) == (1, 1)
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED and shipment.delivered_at == late.at
    assert order.status == "delivered"
    delivered = OrderEvent.objects.get(shipment=shipment, kind=EventKind.DELIVERED)
    assert delivered.at == late.at
    # a replayed delivery changes nothing
    before = snapshot()
    assert record_tracking(carrier_code="sim", updates=[late])["duplicates"] == 1
    assert snapshot() == before


def test_a_late_event_never_takes_a_parcel_back_from_delivered(world):
    shipment = shipped(world, (world.noodles, 1))
    number = shipment.parcels.get().tracking_number
    record_tracking(carrier_code="sim", updates=[update(number, "d", "delivered", 5)])
    record_tracking(carrier_code="sim", updates=[update(number, "x", "exception", 3)])
    record_tracking(carrier_code="sim", updates=[update(number, "t", "in_transit", 2)])
    assert shipment.parcels.get().status == ParcelStatus.DELIVERED
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED


def test_an_exception_marks_the_parcel_until_it_moves_again(world):
    shipment = shipped(world, (world.noodles, 1))
    number = shipment.parcels.get().tracking_number
    record_tracking(carrier_code="sim", updates=[update(number, "x", "exception", 1)])
    assert shipment.parcels.get().status == ParcelStatus.EXCEPTION
    record_tracking(carrier_code="sim", updates=[update(number, "t", "in_transit", 2)])
    assert shipment.parcels.get().status == ParcelStatus.SHIPPED


def test_unknown_codes_and_carriers_are_refused_before_recording(world):
    shipment = shipped(world, (world.noodles, 1))
    number = shipment.parcels.get().tracking_number
    before = snapshot()
    for carrier, code in [("sim", "teleported"), ("nope", "in_transit")]:
        with pytest.raises(DomainError):
            record_tracking(carrier_code=carrier, updates=[update(number, "e", code)])
    assert snapshot() == before


def test_only_integrators_and_admins_may_post_tracking(world):
    shipment = shipped(world, (world.noodles, 1))
    number = shipment.parcels.get().tracking_number
    with pytest.raises(PermissionDenied):
        record_tracking(carrier_code="sim", updates=[update(number, "e")], actor=world.operator)
    integrator = world.user("integrator")
    counts = record_tracking(carrier_code="sim", updates=[update(number, "e")], actor=integrator)
    assert counts["recorded"] == 1
    assert OrderEvent.objects.get(kind=EventKind.TRACKING).actor == integrator


def test_webhook_with_a_bad_signature_records_nothing(world):
    shipment = shipped(world, (world.noodles, 1))
    carrier = SimulatedCarrier()
    body = carrier.payload([update(shipment.parcels.get().tracking_number, "w1")])
    before = snapshot()
    with pytest.raises(DomainError) as exc:
        receive_webhook(carrier_code="sim", body=body, headers={SIGNATURE_HEADER: "00" * 32})
    assert (exc.value.code, exc.value.status) == ("bad_signature", 401)
    assert snapshot() == before
    counts = receive_webhook(
        carrier_code="sim", body=body, headers={SIGNATURE_HEADER: carrier.sign(body)}
    )
    assert counts["recorded"] == 1


def test_carrier_sim_delivers_everything_through_the_webhook_path(world):
    shipment = shipped(world, (world.milk, 2), (world.noodles, 1))
    order = shipment.order
    totals = run_simulated_carrier(steps=1)
    assert (totals["parcels"], totals["recorded"]) == (1, 1)
    assert TrackingEvent.objects.get().code == "picked_up"
    totals = run_simulated_carrier(steps=None)
    plan = SimulatedCarrier().simulate_events(
        shipment.parcels.get().tracking_number,
        (world.site.latitude, world.site.longitude, world.site.city),
        (order.latitude, order.longitude, order.city),
        shipment.shipped_at,
    )
    assert totals["recorded"] == len(plan) - 1 and totals["delivered_shipments"] == 1
    events = list(TrackingEvent.objects.order_by("at", "id"))
    assert [e.event_id for e in events] == [u.event_id for u in plan]
    assert all(e.at <= timezone.now() for e in events)
    assert [e.at for e in events] == sorted(e.at for e in events)
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert (shipment.status, order.status) == ("delivered", "delivered")
    kinds = list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))
    for kind in ("received", "picked", "checked", "packed", "shipped", "tracking", "delivered"):
        assert kind in kinds
    assert verify_ledger() == []
    # nothing left to do: a further run records nothing
    assert run_simulated_carrier(steps=None)["parcels"] == 0


def test_carrier_sim_due_only_posts_events_whose_time_has_come(world):
    shipment = shipped(world, (world.noodles, 1))
    assert run_simulated_carrier(steps=None, due_only=True)["recorded"] == 0
    later = shipment.shipped_at + dt.timedelta(days=6)
    totals = run_simulated_carrier(steps=None, due_only=True, now=later)
    assert totals["delivered_shipments"] == 1


def test_carrier_sim_command(world):
    shipped(world, (world.noodles, 1))
    out = io.StringIO()
    call_command("carrier_sim", "--steps", "2", stdout=out)
    assert TrackingEvent.objects.count() == 2
    text = out.getvalue()
    assert "recorded" in text and "2" in text
    call_command("carrier_sim", "--all", stdout=io.StringIO())
    assert TrackingEvent.objects.filter(code="delivered").count() == 1
