"""Racing hand-overs of one shipment (PostgreSQL, real threads): stock leaves once, and the
labels of the losers are voided; racing webhook replays record each event once."""

import pytest

from chainstore.core.errors import DomainError
from chainstore.core.testing import make_user
from chainstore.fulfilment.models import EventKind, OrderEvent, Shipment, TrackingEvent
from chainstore.fulfilment.services import outbound
from chainstore.fulfilment.services.tracking import receive_webhook
from chainstore.fulfilment.tests.test_outbound_support import build_world, expected_g, scan_all
from chainstore.integrations.carriers.simulated import SIGNATURE_HEADER, SimulatedCarrier
from chainstore.inventory.models import StockMove
from chainstore.inventory.tests.concurrency import run_together
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.models import LocationKind

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _packed():
    world = build_world(make_user("admin"))
    shipment = world.picked((world.milk, 2), (world.noodles, 1))
    scan_all(world, shipment)
    outbound.complete_check(shipment=shipment, actor=world.operator, weight_g=expected_g(shipment))
    outbound.pack(shipment=shipment, actor=world.operator)
    return world, shipment


def _customer_moves():
    return StockMove.objects.filter(to_location__kind=LocationKind.CUSTOMER).count()


@pytest.mark.parametrize("same_key", [True, False])
def test_racing_ship_calls_post_the_stock_once(same_key):
    world, shipment = _packed()
    users = [make_user("warehouse_operator", [world.site]) for _ in range(4)]

    def hand_over(i):
        key = "race" if same_key else f"race-{i}"
        return outbound.ship(shipment=shipment, actor=users[i], idempotency_key=key)

    results = run_together(4, hand_over)

    shipped = [r for r in results if isinstance(r, Shipment)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(shipped) + len(refused) == 4, results
    if same_key:
        assert len(shipped) == 4 and sum(not r.replayed for r in shipped) == 1
    else:
        assert len(shipped) == 1 and {r.code for r in refused} == {"already_shipped"}
    assert _customer_moves() == 3  # M-SOON, M-LATE, noodles: once
    assert OrderEvent.objects.filter(kind=EventKind.SHIPPED).count() == 1
    shipment.refresh_from_db()
    assert shipment.status == "shipped" and shipment.parcels.get().tracking_number
    assert verify_ledger() == []


def test_racing_webhook_replays_record_each_event_once():
    world, shipment = _packed()
    outbound.ship(shipment=shipment, actor=world.operator, idempotency_key="k")
    shipment.refresh_from_db()
    carrier = SimulatedCarrier()
    parcel = shipment.parcels.get()
    plan = carrier.simulate_events(
        parcel.tracking_number, (None, None, "武汉"), (None, None, "上海"), shipment.shipped_at
    )
    body = carrier.payload(plan)
    headers = {SIGNATURE_HEADER: carrier.sign(body)}

    results = run_together(
        4, lambda _i: receive_webhook(carrier_code="sim", body=body, headers=headers)
    )

    assert all(isinstance(r, dict) for r in results), results
    assert sum(r["recorded"] for r in results) == len(plan)
    assert TrackingEvent.objects.count() == len(plan)
    assert OrderEvent.objects.filter(kind=EventKind.DELIVERED).count() == 1
    shipment.refresh_from_db()
    assert shipment.status == "delivered"
