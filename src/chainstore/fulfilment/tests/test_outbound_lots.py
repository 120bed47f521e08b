"""The check counts per picked lot (PickedStock.checked), and the trace and check screen show
the bin each pick really came from.

The two-lot line: 3 x milk is picked as 1 x M-SOON (bin A) + 2 x M-LATE (bin B). Counting
per line only, three scans of M-SOON used to close it; now each lot must be counted to
exactly what was picked of it.
"""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainstore.core.errors import DomainError
from chainstore.core.testing import make_bin, stock
from chainstore.fulfilment.models import ParcelItem, PickedStock
from chainstore.fulfilment.services import outbound
from chainstore.fulfilment.services.picking import confirm_pick, next_task, start_pick_list
from chainstore.fulfilment.services.shorts import report_short
from chainstore.fulfilment.services.trace import lots_for_order
from chainstore.fulfilment.services.waves import create_wave
from chainstore.fulfilment.tests.test_outbound_support import (
    API,
    build_world,
    ean,
    expected_g,
    gs1,
    logged_in,
    snapshot,
)
from chainstore.inventory.models import StockMove
from chainstore.sites.models import LocationKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return build_world(admin)


@pytest.fixture
def two_lots(world):
    """3 x milk: FEFO reserves the 1 unit of M-SOON, then 2 of M-LATE; one row per lot."""
    shipment = world.picked((world.milk, 3))
    assert rows(shipment) == {"M-SOON": (1000, 0), "M-LATE": (2000, 0)}
    return shipment


def rows(shipment):
    """{lot: (quantity, checked)} of the shipment's picked rows."""
    return {
        ps.lot.number if ps.lot else None: (ps.quantity, ps.checked)
        for ps in PickedStock.objects.filter(shipment_line__shipment=shipment).select_related("lot")
    }


def refusal(**kw):
    with pytest.raises(DomainError) as exc:
        outbound.check_scan(**kw)
    return exc.value


def state():
    return snapshot() | {"checked": sorted(PickedStock.objects.values_list("pk", "checked"))}


def test_one_lot_scanned_twice_does_not_stand_in_for_another(world, two_lots):
    soon, late = gs1(world.milk, "M-SOON", world.soon), gs1(world.milk, "M-LATE", world.late)
    outbound.check_scan(shipment=two_lots, actor=world.operator, scan=soon)
    before = state()
    error = refusal(shipment=two_lots, actor=world.operator, scan=soon)
    assert error.code == "over_count"
    assert (error.details["lot"], error.details["open_lots"]) == ("M-SOON", ["M-LATE"])
    assert state() == before
    with pytest.raises(DomainError) as exc:
        outbound.complete_check(shipment=two_lots, actor=world.operator, weight_g=3150)
    assert exc.value.code == "check_incomplete"
    [line] = exc.value.details["lines"]
    assert line["lots"] == [{"lot": "M-LATE", "quantity": 2000, "checked": 0}]

    error = refusal(shipment=two_lots, actor=world.operator, scan=late, quantity=3000)
    assert (error.code, error.details["remaining"]) == ("over_count", 2000)
    outbound.check_scan(shipment=two_lots, actor=world.operator, scan=late)
    result = outbound.check_scan(shipment=two_lots, actor=world.operator, scan=late)
    assert result.complete and result.line.checked == 3000
    assert rows(two_lots) == {"M-SOON": (1000, 1000), "M-LATE": (2000, 2000)}
    error = refusal(shipment=two_lots, actor=world.operator, scan=late)
    assert error.code == "already_checked"


def test_a_plain_ean_counts_the_oldest_expiry_first(world, two_lots):
    plain = ean(world.milk)
    first = outbound.check_scan(shipment=two_lots, actor=world.operator, scan=plain)
    assert first.lot is None
    assert rows(two_lots) == {"M-SOON": (1000, 1000), "M-LATE": (2000, 0)}
    # M-SOON is counted in full now: its own barcode is refused, M-LATE's still counts
    soon = gs1(world.milk, "M-SOON", world.soon)
    assert refusal(shipment=two_lots, actor=world.operator, scan=soon).code == "over_count"
    outbound.check_scan(shipment=two_lots, actor=world.operator, scan=plain)
    assert rows(two_lots) == {"M-SOON": (1000, 1000), "M-LATE": (2000, 1000)}


def test_a_quantity_without_a_lot_fills_the_lots_in_expiry_order(world, two_lots):
    result = outbound.check_scan(
        shipment=two_lots, actor=world.operator, scan=ean(world.milk), quantity=2000
    )
    assert not result.complete
    assert rows(two_lots) == {"M-SOON": (1000, 1000), "M-LATE": (2000, 1000)}
    error = refusal(shipment=two_lots, actor=world.operator, scan=ean(world.milk), quantity=2000)
    assert (error.code, error.details["remaining"]) == ("over_count", 1000)


def test_reset_zeroes_every_lot(world, two_lots):
    outbound.check_scan(shipment=two_lots, actor=world.operator, scan=ean(world.milk))
    outbound.reset_check(shipment=two_lots, actor=world.operator)
    assert rows(two_lots) == {"M-SOON": (1000, 0), "M-LATE": (2000, 0)}
    assert list(two_lots.lines.values_list("checked", flat=True)) == [0]


def test_pack_and_ship_take_the_counted_lots(world, two_lots):
    for lot, expiry, units in (("M-LATE", world.late, 2), ("M-SOON", world.soon, 1)):
        for _ in range(units):
            outbound.check_scan(
                shipment=two_lots, actor=world.operator, scan=gs1(world.milk, lot, expiry)
            )
    outbound.complete_check(shipment=two_lots, actor=world.operator, weight_g=expected_g(two_lots))
    outbound.pack(shipment=two_lots, actor=world.operator)
    items = ParcelItem.objects.filter(parcel__shipment=two_lots)
    assert sorted(items.values_list("lot__number", "quantity")) == [
        ("M-LATE", 2000),
        ("M-SOON", 1000),
    ]
    outbound.ship(shipment=two_lots, actor=world.operator, idempotency_key=uuid.uuid4().hex)
    moved = StockMove.objects.filter(to_location__kind=LocationKind.CUSTOMER, sku=world.milk)
    assert sorted(moved.values_list("lot__number", "quantity")) == [
        ("M-LATE", 2000),
        ("M-SOON", 1000),
    ]


def test_ship_refuses_a_lot_that_was_not_counted_in_full(world, two_lots):
    """The per-lot count is the last guard before stock leaves: a row changed after the
    check (here by hand) stops the hand-over and nothing moves."""
    for code in (ean(world.milk),) * 3:
        outbound.check_scan(shipment=two_lots, actor=world.operator, scan=code)
    outbound.complete_check(shipment=two_lots, actor=world.operator, weight_g=expected_g(two_lots))
    outbound.pack(shipment=two_lots, actor=world.operator)
    PickedStock.objects.filter(shipment_line__shipment=two_lots, lot__number="M-LATE").update(
        checked=1000
    )
    before = snapshot()
    with pytest.raises(DomainError) as exc:
        outbound.ship(shipment=two_lots, actor=world.operator, idempotency_key="guard")
    assert exc.value.code == "picked_stock_mismatch"
    assert snapshot() == before


def test_the_check_screen_api_shows_each_lot_count(world, two_lots):
    client = logged_in(world.operator)
    url = f"{API}/shipments/{two_lots.number}/check-scan"
    response = client.post(
        url, {"scan": gs1(world.milk, "M-LATE", world.late)}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    [line] = response.json()["shipment"]["lines"]
    assert {lot["lot"]: (lot["quantity"], lot["checked"]) for lot in line["lots"]} == {
        "M-SOON": ("1.000", "0.000"),
        "M-LATE": ("2.000", "1.000"),
    }
    assert not response.json()["shipment"]["check_complete"]


# -- the rule, for any sequence of scans -------------------------------------------------
SCANS = st.lists(
    st.tuples(st.sampled_from(["M-SOON", "M-LATE", None]), st.integers(1, 3)), max_size=8
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scans=SCANS)
def test_any_scan_sequence_follows_the_per_lot_model(world, two_lots, scans):
    """A model of the rule: a lot scan counts only within that lot; a plain scan fills the
    lots oldest expiry first; anything beyond what is left is refused and changes nothing.
    The line always holds the sum of its lots and is complete exactly when both are."""
    outbound.reset_check(shipment=two_lots, actor=world.operator)
    room = {"M-SOON": 1000, "M-LATE": 2000}
    counted = {"M-SOON": 0, "M-LATE": 0}
    expiry = {"M-SOON": world.soon, "M-LATE": world.late}
    for lot, units in scans:
        amount = units * 1000
        code = gs1(world.milk, lot, expiry[lot]) if lot else ean(world.milk)
        left = {k: room[k] - counted[k] for k in room}
        open_ = left[lot] if lot else sum(left.values())
        if sum(left.values()) == 0:
            expected_code = "already_checked"
        elif amount > open_:
            expected_code = "over_count"
        else:
            expected_code = None
            for k in [lot] if lot else ["M-SOON", "M-LATE"]:
                part = min(amount, left[k])
                counted[k] += part
                amount -= part
        try:
            result = outbound.check_scan(
                shipment=two_lots, actor=world.operator, scan=code, quantity=units * 1000
            )
            got = None
        except DomainError as exc:
            got, result = exc.code, None
        assert got == expected_code, (lot, units, counted)
        assert rows(two_lots) == {k: (room[k], counted[k]) for k in room}
        line = two_lots.lines.get()
        assert line.checked == sum(counted.values())
        if result is not None:
            assert result.complete == (counted == room)


# -- the bin each pick came from ---------------------------------------------------------
def test_trace_and_check_show_the_bin_a_substituted_pick_came_from(world):
    """4 reserved in bin A: the picker takes one unit from bin C (a substitute), one from A,
    then reports A short with one more found. Each row names its own bin, not the
    staging location and not the reserved bin."""
    bin_c = make_bin(world.admin, world.site, code="C-09-09")
    stock(world.admin, world.site, world.noodles, 5000, location=bin_c)
    order = world.order((world.noodles, 4))
    shipment = order.shipments.get(site=world.site)
    wave = create_wave(site=world.site, actor=world.manager, shipment_ids=[shipment.pk])
    pick_list = wave.pick_lists.get()
    start_pick_list(pick_list, world.operator)
    task = next_task(pick_list)
    assert task.location == world.bin_a and task.quantity == 4000
    for where in (bin_c, world.bin_a):
        confirm_pick(
            task=task,
            actor=world.operator,
            bin_scan=where.code,
            item_scan=ean(world.noodles),
            quantity=1000,
            idempotency_key=uuid.uuid4().hex,
        )
        task.refresh_from_db()
    report_short(task=task, actor=world.operator, found=1000, idempotency_key=uuid.uuid4().hex)

    moved = StockMove.objects.filter(reason="pick", sku=world.noodles).order_by("id")
    assert [m.from_location.code for m in moved] == [bin_c.code, world.bin_a.code, world.bin_a.code]
    staging = PickedStock.objects.filter(task=task).values_list("location__kind", flat=True)
    assert set(staging) == {LocationKind.OUTBOUND}

    rows_ = lots_for_order(order=order, actor=world.admin)
    assert [(r.bin_code, r.quantity) for r in rows_ if r.shipment_number == shipment.number] == [
        (bin_c.code, 1000),
        (world.bin_a.code, 1000),
        (world.bin_a.code, 1000),
    ]
    client = logged_in(world.operator)
    detail = client.get(f"{API}/shipments/{shipment.number}").json()
    [line] = detail["lines"]
    assert [lot["bin"] for lot in line["lots"]] == [bin_c.code, world.bin_a.code, world.bin_a.code]
