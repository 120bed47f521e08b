"""The execution screens render for the right people and the discrepancy form resolves."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from chainstore.integrations.carriers.simulated import SimulatedCarrier
from chainstore.transfers.models import Discrepancy
from chainstore.transfers.services.receiving import ReceiveLine, receive
from chainstore.transfers.services.tracking import record_transfer_tracking
from chainstore.transfers.tests.test_execution_support import U, barcode, build_world, shipped


@pytest.fixture
def world(admin):
    return build_world(admin)


def test_ship_screen_lists_the_pick_list_in_route_order(world, client):
    t = world.transfer((world.rice, 2 * U), (world.milk, 1 * U))
    client.force_login(world.op)
    page = client.get(reverse("transfers:ship", args=[t.number]))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="pick-form"' in text and 'data-testid="ship-form"' in text
    config = page.context["config"]
    assert [task["sequence"] for task in config["tasks"]] == [1, 2]
    assert "transfers/exec.js" in text


def test_receive_screen_scan_resolves_a_line(world, client):
    t = shipped(world, (world.rice, 2 * U))
    client.force_login(world.sm)
    page = client.get(reverse("transfers:receive", args=[t.number]))
    assert page.status_code == 200 and 'data-testid="receive-scan"' in page.content.decode()
    found = client.get(
        reverse("transfers:receive_scan", args=[t.number]), {"code": barcode(world.rice)}
    )
    assert found.json()["line_id"] == t.lines.get().pk
    other = client.get(
        reverse("transfers:receive_scan", args=[t.number]), {"code": barcode(world.oil)}
    )
    assert other.status_code == 422 and other.json()["code"] == "not_on_transfer"


def test_discrepancy_page_resolves_by_form(world, client):
    t = shipped(world, (world.rice, 10 * U))
    receive(
        transfer=t,
        actor=world.sm,
        lines=[ReceiveLine(line=t.lines.get(), received=8 * U)],
        idempotency_key="r",
    )
    d = Discrepancy.objects.get()
    client.force_login(world.sm)
    page = client.get(reverse("transfers:discrepancies"))
    assert f'data-testid="discrepancy-{d.pk}"' in page.content.decode()

    done = client.post(
        reverse("transfers:discrepancy_resolve", args=[d.pk]),
        {"resolution": "carrier_claim", "claim": "12.50"},
    )

    assert done.status_code == 302
    d.refresh_from_db()
    assert (d.resolution, d.claim_fen) == ("carrier_claim", 1250)
    assert "no-discrepancies" in client.get(reverse("transfers:discrepancies")).content.decode()


def test_source_staff_see_no_resolve_for_other_sites(world, client):
    t = shipped(world, (world.rice, 10 * U))
    receive(
        transfer=t,
        actor=world.sm,
        lines=[ReceiveLine(line=t.lines.get(), received=8 * U)],
        idempotency_key="r",
    )
    d = Discrepancy.objects.get()
    client.force_login(world.wm)  # source-side manager: may see, may not resolve at the store
    client.post(reverse("transfers:discrepancy_resolve", args=[d.pk]), {"resolution": "write_off"})
    d.refresh_from_db()
    assert d.resolution == ""


def test_in_transit_page_and_tracking_partial(world, client):
    t = shipped(world, (world.rice, 2 * U))
    carrier = SimulatedCarrier()
    plan = carrier.simulate_events(
        t.tracking_number,
        (t.source.latitude, t.source.longitude, "上海"),
        (t.destination.latitude, t.destination.longitude, "杭州"),
        t.shipped_at,
    )
    record_transfer_tracking("sim", plan)
    client.force_login(world.sm)
    page = client.get(reverse("transfers:in_transit"))
    assert page.status_code == 200 and t.number in page.content.decode()
    html = render_to_string("transfers/_exec_tracking.html", {"transfer": t})
    assert html.count("<li") == len(plan) and 'data-source-lat="31.230400"' in html
