"""Carrier tracking of transfers (through fulfilment's signed webhook) and in-transit ageing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from chainstore.core.errors import PermissionDenied
from chainstore.core.testing import make_user
from chainstore.fulfilment.models import TrackingEvent
from chainstore.integrations.carriers.simulated import SIGNATURE_HEADER, SimulatedCarrier
from chainstore.transfers.models import (
    Transfer,
    TransferEvent,
    TransferStatus,
    TransferTrackingEvent,
)
from chainstore.transfers.services.tracking import in_transit_ageing
from chainstore.transfers.tests.test_execution_support import U, build_world, shipped

WEBHOOK = "/api/v1/fulfilment/carriers/sim/webhook"
SIG = "HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_")


@pytest.fixture
def world(admin):
    return build_world(admin)


def _journey(transfer):
    carrier = SimulatedCarrier()
    return carrier, carrier.simulate_events(
        transfer.tracking_number,
        (transfer.source.latitude, transfer.source.longitude, "上海"),
        (transfer.destination.latitude, transfer.destination.longitude, "杭州"),
        transfer.shipped_at,
    )


def test_a_signed_sim_webhook_for_a_transfer_lands_on_the_transfer(world, client):
    transfer = shipped(world, (world.rice, 2 * U))
    carrier, plan = _journey(transfer)
    body = carrier.payload(plan)

    response = client.post(
        WEBHOOK, body, content_type="application/json", **{SIG: carrier.sign(body)}
    )

    assert response.status_code == 200, response.content
    counts = response.json()
    assert (counts["recorded"], counts["unknown"], counts["duplicates"]) == (len(plan), 0, 0)
    assert TransferTrackingEvent.objects.filter(transfer=transfer).count() == len(plan)
    assert not TrackingEvent.objects.exists()
    assert TransferEvent.objects.filter(transfer=transfer, kind="tracking").count() == len(plan)
    transfer.refresh_from_db()
    assert (
        transfer.status == TransferStatus.IN_TRANSIT
    )  # delivered is an event; receiving is by scan

    again = client.post(WEBHOOK, body, content_type="application/json", **{SIG: carrier.sign(body)})
    assert again.json()["duplicates"] == len(plan) and again.json()["recorded"] == 0
    assert TransferTrackingEvent.objects.filter(transfer=transfer).count() == len(plan)


def test_a_bad_signature_records_nothing(world, client):
    transfer = shipped(world, (world.rice, 2 * U))
    carrier, plan = _journey(transfer)
    body = carrier.payload(plan)
    response = client.post(WEBHOOK, body, content_type="application/json", **{SIG: "0" * 64})
    assert response.status_code == 401
    assert not TransferTrackingEvent.objects.exists()


def test_numbers_of_nobody_stay_unknown(world, client):
    carrier = SimulatedCarrier()
    now = timezone.now()
    plan = carrier.simulate_events(
        "SIM000000000017", (None, None, "上海"), (None, None, "杭州"), now
    )
    body = carrier.payload(plan)
    response = client.post(
        WEBHOOK, body, content_type="application/json", **{SIG: carrier.sign(body)}
    )
    assert response.json()["unknown"] == len(plan)
    assert response.json()["unknown_tracking_numbers"] == ["SIM000000000017"]


def test_in_transit_ageing_buckets_and_value(world):
    fresh = shipped(world, (world.rice, 2 * U))
    old = shipped(world, (world.oil, 1 * U))
    Transfer.objects.filter(pk=old.pk).update(shipped_at=timezone.now() - dt.timedelta(days=20))

    report = in_transit_ageing(actor=world.sm)

    rows = {r["number"]: r for r in report["rows"]}
    assert rows[old.number]["bucket"] == ">14" and rows[old.number]["days"] == 20
    assert rows[fresh.number]["bucket"] == "0-2"
    assert rows[fresh.number]["value_fen"] == 1000  # 2 x 5.00 yuan
    assert report["total_value_fen"] == 1000 + 2000
    buckets = {b["bucket"]: b for b in report["buckets"]}
    assert buckets[">14"]["transfers"] == 1 and buckets["3-7"]["transfers"] == 0


def test_ageing_is_scoped_to_the_actors_sites(world):
    shipped(world, (world.rice, 2 * U))
    assert in_transit_ageing(actor=make_user("store_manager", []))["rows"] == []
    assert len(in_transit_ageing(actor=world.wm)["rows"]) == 1
    with pytest.raises(PermissionDenied):
        in_transit_ageing(actor=make_user("cashier", [world.store]))
