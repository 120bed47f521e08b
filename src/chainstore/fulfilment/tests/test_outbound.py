"""The outbound check, packing and shipping: PICKED -> CHECKED -> PACKED -> SHIPPED, with the
ledger, the order lines and the timeline kept in step, and every refusal changing nothing."""

import pytest
from django.test import override_settings

from chainstore.core.errors import DomainError, IdempotencyKeyReused, PermissionDenied
from chainstore.fulfilment.models import (
    EventKind,
    OrderEvent,
    Parcel,
    ParcelItem,
    PickedStock,
    ShipmentStatus,
)
from chainstore.fulfilment.services import outbound
from chainstore.fulfilment.services.care import cancel_order
from chainstore.fulfilment.services.outbound import ParcelInput
from chainstore.fulfilment.tests.test_outbound_support import (
    build_world,
    ean,
    expected_g,
    gs1,
    scan_all,
    snapshot,
)
from chainstore.integrations.carriers import CarrierError, Label
from chainstore.inventory.models import Balance, StockMove
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.models import LocationKind
from chainstore.sites.services import outbound_location

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return build_world(admin)


def code_of(call, **kw):
    with pytest.raises(DomainError) as exc:
        call(**kw)
    return exc.value.code


def checked(world, shipment, weight=None):
    scan_all(world, shipment)
    outbound.complete_check(
        shipment=shipment, actor=world.operator, weight_g=weight or expected_g(shipment)
    )
    shipment.refresh_from_db()
    return shipment


def packed(world, shipment, parcels=None):
    checked(world, shipment)
    outbound.pack(shipment=shipment, actor=world.operator, parcels=parcels)
    shipment.refresh_from_db()
    return shipment


def lines_by_sku(shipment):
    return {ln.sku.code: ln for ln in shipment.lines.select_related("sku")}


# -- the happy path ----------------------------------------------------------------------
def test_check_pack_ship_posts_the_picked_lots_to_the_customer(world):
    shipment = world.picked((world.milk, 3), (world.noodles, 2))
    order = shipment.order
    staging = outbound_location(world.site)
    picked_lots = sorted(
        PickedStock.objects.filter(shipment_line__shipment=shipment).values_list(
            "lot__number", "quantity"
        ),
        key=str,
    )
    assert picked_lots == sorted([("M-SOON", 1000), ("M-LATE", 2000), (None, 2000)], key=str)

    scan_all(world, shipment)
    lines = lines_by_sku(shipment)
    assert {c: (ln.picked, ln.checked) for c, ln in lines.items()} == {
        world.milk.code: (3000, 3000),
        world.noodles.code: (2000, 2000),
    }
    weight = 3 * 1050 + 2 * 120 + 40  # packaging, inside the tolerance
    outbound.complete_check(shipment=shipment, actor=world.operator, weight_g=weight)
    shipment.refresh_from_db()
    assert (shipment.status, shipment.weight_g, shipment.expected_weight_g) == (
        ShipmentStatus.CHECKED,
        weight,
        3390,
    )
    assert shipment.checked_by == world.operator and shipment.checked_at is not None

    parcels = outbound.pack(shipment=shipment, actor=world.operator)
    assert [(p.seq, p.weight_g, p.carrier, p.status) for p in parcels] == [
        (1, weight, "sim", "packed")
    ]
    assert sorted(
        ParcelItem.objects.filter(parcel=parcels[0]).values_list("lot__number", "quantity"),
        key=str,
    ) == sorted([("M-SOON", 1000), ("M-LATE", 2000), (None, 2000)], key=str)

    moves_before = StockMove.objects.count()
    shipped = outbound.ship(shipment=shipment, actor=world.operator, idempotency_key="ship-1")
    assert shipped.replayed is False
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == ShipmentStatus.SHIPPED and shipment.shipped_at is not None
    assert order.status == "shipped"
    parcel = shipment.parcels.get()
    assert parcel.status == "shipped" and parcel.tracking_number.startswith("SIM")
    assert parcel.label_format == "html" and parcel.tracking_number in parcel.label

    # the ledger: OUTBOUND is empty again, the customer received exactly the picked lots
    assert verify_ledger() == []
    assert not Balance.objects.filter(location=staging).exclude(on_hand=0).exists()
    to_customer = StockMove.objects.filter(
        pk__gt=moves_before, to_location__kind=LocationKind.CUSTOMER
    )
    assert sorted(
        to_customer.values_list("sku__code", "lot__number", "quantity", "from_location"), key=str
    ) == sorted(
        [
            (world.milk.code, "M-SOON", 1000, staging.pk),
            (world.milk.code, "M-LATE", 2000, staging.pk),
            (world.noodles.code, None, 2000, staging.pk),
        ],
        key=str,
    )
    assert StockMove.objects.count() == moves_before + 3
    assert sorted(order.lines.values_list("quantity", "allocated", "shipped")) == [
        (2000, 0, 2000),
        (3000, 0, 3000),
    ]

    events = {e.kind: e for e in OrderEvent.objects.filter(shipment=shipment)}
    check = events[EventKind.CHECKED]
    assert check.actor == world.operator
    assert check.data["checked_by"] == world.operator.username
    assert (check.data["weight_g"], check.data["expected_weight_g"], check.data["deviation_g"]) == (
        weight,
        3390,
        40,
    )
    assert check.data["weight_override"] is False
    assert events[EventKind.PACKED].data["parcels"][0]["seq"] == 1
    assert events[EventKind.SHIPPED].data["tracking_numbers"] == [parcel.tracking_number]


# -- the check's refusals ------------------------------------------------------------------
def test_wrong_item_is_refused_and_changes_nothing(world):
    shipment = world.picked((world.noodles, 2))
    before = snapshot()
    code = code_of(
        outbound.check_scan, shipment=shipment, actor=world.operator, scan=ean(world.tea)
    )
    assert code == "not_in_shipment"
    assert snapshot() == before


def test_unknown_barcode_is_refused(world):
    shipment = world.picked((world.noodles, 1))
    code = code_of(
        outbound.check_scan, shipment=shipment, actor=world.operator, scan="6909999999999"
    )
    assert code in {"unknown_barcode", "bad_check_digit"}


def test_a_lot_that_was_not_picked_is_refused(world):
    shipment = world.picked((world.milk, 1))  # FEFO picks M-SOON
    before = snapshot()
    late = gs1(world.milk, "M-LATE", world.late)
    with pytest.raises(DomainError) as exc:
        outbound.check_scan(shipment=shipment, actor=world.operator, scan=late)
    assert exc.value.code == "lot_mismatch"
    assert exc.value.details["picked"] == ["M-SOON"]
    assert snapshot() == before
    result = outbound.check_scan(
        shipment=shipment, actor=world.operator, scan=gs1(world.milk, "M-SOON", world.soon)
    )
    assert result.lot.number == "M-SOON" and result.complete


def test_a_plain_ean_of_a_lot_tracked_item_counts_without_a_lot(world):
    shipment = world.picked((world.milk, 1))
    result = outbound.check_scan(shipment=shipment, actor=world.operator, scan=ean(world.milk))
    assert result.lot is None and result.line.checked == 1000


def test_over_scan_is_refused(world):
    shipment = world.picked((world.noodles, 2))
    scan = ean(world.noodles)
    first = outbound.check_scan(shipment=shipment, actor=world.operator, scan=scan)
    assert (first.line.checked, first.complete) == (1000, False)
    assert code_of(
        outbound.check_scan, shipment=shipment, actor=world.operator, scan=scan, quantity=2000
    ) == ("over_count")
    second = outbound.check_scan(shipment=shipment, actor=world.operator, scan=scan)
    assert (second.line.checked, second.complete) == (2000, True)
    before = snapshot()
    assert (
        code_of(outbound.check_scan, shipment=shipment, actor=world.operator, scan=scan)
        == "already_checked"
    )
    assert snapshot() == before


def test_scanning_a_quantity_at_once(world):
    shipment = world.picked((world.noodles, 5))
    result = outbound.check_scan(
        shipment=shipment, actor=world.operator, scan=ean(world.noodles), quantity=5000
    )
    assert result.complete and result.quantity == 5000


def test_reset_starts_the_count_again(world):
    shipment = world.picked((world.noodles, 2))
    outbound.check_scan(shipment=shipment, actor=world.operator, scan=ean(world.noodles))
    outbound.reset_check(shipment=shipment, actor=world.operator)
    assert list(shipment.lines.values_list("checked", flat=True)) == [0]


def test_the_check_is_incomplete_until_every_unit_is_scanned(world):
    shipment = world.picked((world.noodles, 2), (world.milk, 1))
    outbound.check_scan(shipment=shipment, actor=world.operator, scan=ean(world.noodles))
    before = snapshot()
    with pytest.raises(DomainError) as exc:
        outbound.complete_check(shipment=shipment, actor=world.operator, weight_g=1290)
    assert exc.value.code == "check_incomplete"
    assert {ln["sku"] for ln in exc.value.details["lines"]} == {world.noodles.code, world.milk.code}
    assert snapshot() == before


def test_a_shipment_not_picked_yet_cannot_be_checked(world):
    order = world.order((world.noodles, 1))
    shipment = order.shipments.get()
    assert (
        code_of(
            outbound.check_scan, shipment=shipment, actor=world.operator, scan=ean(world.noodles)
        )
        == "not_picked"
    )


# -- weight ------------------------------------------------------------------------------
def test_weight_outside_the_tolerance_is_refused(world):
    shipment = world.picked((world.milk, 3), (world.noodles, 2))  # 3,390 g, tolerance 339 g
    scan_all(world, shipment)
    before = snapshot()
    with pytest.raises(DomainError) as exc:
        outbound.complete_check(shipment=shipment, actor=world.operator, weight_g=3390 + 340)
    assert exc.value.code == "weight_mismatch"
    assert exc.value.details == {
        "weight_g": 3730,
        "expected_weight_g": 3390,
        "tolerance_g": 339,
        "deviation_g": 340,
    }
    assert snapshot() == before
    outbound.complete_check(shipment=shipment, actor=world.operator, weight_g=3390 - 339)
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.CHECKED


def test_light_parcels_have_a_50_gram_tolerance(world):
    shipment = world.picked((world.noodles, 1))  # 120 g: 10 percent would be 12 g
    scan_all(world, shipment)
    assert outbound.weight_tolerance(120) == 50
    assert (
        code_of(outbound.complete_check, shipment=shipment, actor=world.operator, weight_g=171)
        == "weight_mismatch"
    )
    outbound.complete_check(shipment=shipment, actor=world.operator, weight_g=170)


def test_only_a_manager_may_override_the_weight(world):
    shipment = world.picked((world.noodles, 2))
    scan_all(world, shipment)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        outbound.complete_check(
            shipment=shipment, actor=world.operator, weight_g=900, override=True
        )
    assert snapshot() == before
    outbound.complete_check(shipment=shipment, actor=world.manager, weight_g=900, override=True)
    event = OrderEvent.objects.get(shipment=shipment, kind=EventKind.CHECKED)
    assert event.actor == world.manager
    assert (event.data["weight_override"], event.data["deviation_g"]) == (True, 900 - 240)


def test_an_override_within_the_tolerance_needs_no_manager(world):
    shipment = world.picked((world.noodles, 2))
    scan_all(world, shipment)
    outbound.complete_check(shipment=shipment, actor=world.operator, weight_g=250, override=True)
    event = OrderEvent.objects.get(shipment=shipment, kind=EventKind.CHECKED)
    assert event.data["weight_override"] is False


def test_unknown_weights_skip_the_comparison(world):
    shipment = world.picked((world.tea, 1), (world.noodles, 1))
    scan_all(world, shipment)
    assert outbound.expected_weight(shipment) == (120, False)
    outbound.complete_check(shipment=shipment, actor=world.operator, weight_g=480)
    shipment.refresh_from_db()
    assert (shipment.weight_g, shipment.expected_weight_g) == (480, None)


@pytest.mark.parametrize("weight", [0, -5, None, "300"])
def test_weight_must_be_positive_grams(world, weight):
    shipment = world.picked((world.noodles, 1))
    scan_all(world, shipment)
    assert (
        code_of(outbound.complete_check, shipment=shipment, actor=world.operator, weight_g=weight)
        == "invalid_weight"
    )


# -- packing -------------------------------------------------------------------------------
def test_split_into_two_parcels_takes_lots_in_pick_order(world):
    shipment = checked(world, world.picked((world.milk, 3), (world.noodles, 2)), weight=3400)
    lines = lines_by_sku(shipment)
    milk, noodles = lines[world.milk.code].pk, lines[world.noodles.code].pk
    parcels = outbound.pack(
        shipment=shipment,
        actor=world.operator,
        parcels=[
            ParcelInput(items=[(milk, 2000)], weight_g=2200),
            ParcelInput(items=[(milk, 1000), (noodles, 2000)]),
        ],
    )
    assert [(p.seq, p.weight_g) for p in parcels] == [(1, 2200), (2, 1200)]
    items = {
        p.seq: sorted(p.items.values_list("lot__number", "quantity"), key=str) for p in parcels
    }
    first_lot = PickedStock.objects.filter(shipment_line_id=milk).order_by("id").first().lot.number
    other = {"M-SOON", "M-LATE"} - {first_lot}
    picked = dict(
        PickedStock.objects.filter(shipment_line_id=milk).values_list("lot__number", "quantity")
    )
    if picked[first_lot] == 1000:
        assert items[1] == sorted([(first_lot, 1000), (other.pop(), 1000)])
    else:
        assert items[1] == [(first_lot, 2000)]
    assert sum(q for _lot, q in items[2] if _lot is not None) == 1000
    assert (None, 2000) in items[2]

    outbound.ship(shipment=shipment, actor=world.operator, idempotency_key="split")
    shipment.refresh_from_db()
    numbers = list(shipment.parcels.values_list("tracking_number", flat=True))
    assert len(set(numbers)) == 2 and all(numbers)
    assert verify_ledger() == []


def test_parcels_must_hold_exactly_what_was_checked(world):
    shipment = checked(world, world.picked((world.milk, 2), (world.noodles, 2)))
    lines = lines_by_sku(shipment)
    milk, noodles = lines[world.milk.code].pk, lines[world.noodles.code].pk
    before = snapshot()
    cases = {
        "parcel_items_mismatch": [ParcelInput(items=[(milk, 2000), (noodles, 1000)])],
        "empty_parcel": [ParcelInput(items=[(milk, 2000), (noodles, 2000)]), ParcelInput(items=[])],
        "unknown_line": [ParcelInput(items=[(milk, 2000), (noodles, 2000), (999999, 1000)])],
        "invalid_quantity": [ParcelInput(items=[(milk, 2000), (noodles, 2000), (milk, 0)])],
        "no_parcels": [],
        "parcel_weight_required": [
            ParcelInput(items=[(milk, 2000)], weight_g=99999),
            ParcelInput(items=[(noodles, 2000)]),
        ],
    }
    for code, parcels in cases.items():
        assert (
            code_of(outbound.pack, shipment=shipment, actor=world.operator, parcels=parcels) == code
        )
    assert snapshot() == before


def test_a_packed_shipment_can_be_repacked_before_it_ships(world):
    shipment = packed(world, world.picked((world.noodles, 2)))
    line = shipment.lines.get().pk
    outbound.pack(
        shipment=shipment,
        actor=world.operator,
        parcels=[ParcelInput(items=[(line, 1000)]), ParcelInput(items=[(line, 1000)])],
    )
    assert list(shipment.parcels.values_list("seq", "weight_g")) == [(1, 120), (2, 120)]
    assert OrderEvent.objects.filter(shipment=shipment, kind=EventKind.PACKED).count() == 2


def test_pack_before_the_check_is_refused(world):
    shipment = world.picked((world.noodles, 1))
    assert code_of(outbound.pack, shipment=shipment, actor=world.operator) == "not_checked"


# -- shipping ------------------------------------------------------------------------------
def test_ship_replay_returns_the_first_result_and_moves_nothing(world):
    shipment = packed(world, world.picked((world.noodles, 2)))
    first = outbound.ship(shipment=shipment, actor=world.operator, idempotency_key="once")
    number = shipment.parcels.get().tracking_number
    before = snapshot()
    again = outbound.ship(shipment=shipment, actor=world.operator, idempotency_key="once")
    assert (again.pk, again.replayed, first.replayed) == (shipment.pk, True, False)
    assert shipment.parcels.get().tracking_number == number
    assert snapshot() == before
    assert (
        code_of(outbound.ship, shipment=shipment, actor=world.operator, idempotency_key="twice")
        == "already_shipped"
    )
    other = packed(world, world.picked((world.noodles, 1)))
    with pytest.raises(IdempotencyKeyReused):
        outbound.ship(shipment=other, actor=world.operator, idempotency_key="once")


@pytest.mark.parametrize("key", ["", "x" * 101, None])
def test_ship_needs_an_idempotency_key(world, key):
    shipment = packed(world, world.picked((world.noodles, 1)))
    assert (
        code_of(outbound.ship, shipment=shipment, actor=world.operator, idempotency_key=key)
        == "idempotency_key_required"
    )


def test_ship_before_packing_is_refused(world):
    shipment = checked(world, world.picked((world.noodles, 1)))
    assert (
        code_of(outbound.ship, shipment=shipment, actor=world.operator, idempotency_key="k")
        == "not_packed"
    )


class FlakyCarrier:
    """Books the first parcel, fails on the second; remembers what it voided."""

    code = "flaky"
    name = "Flaky"
    booked: list[str] = []
    cancelled: list[str] = []

    def create_label(self, parcel):
        if len(self.booked) % 2 == 1:
            raise CarrierError("service unavailable", code="timeout")
        number = f"FLK{len(self.booked):09d}"
        self.booked.append(number)
        return Label(tracking_number=number, format="html", content="<p>label</p>")

    def cancel_label(self, tracking_number):
        self.cancelled.append(tracking_number)


FLAKY = {
    "sim": "chainstore.integrations.carriers.simulated.SimulatedCarrier",
    "flaky": f"{__name__}.FlakyCarrier",
}


@override_settings(CHAINSTORE_CARRIERS=FLAKY)
def test_carrier_failure_ships_nothing_and_voids_the_labels_booked(world):
    FlakyCarrier.booked, FlakyCarrier.cancelled = [], []
    shipment = checked(world, world.picked((world.noodles, 2)))
    shipment.carrier = "flaky"
    shipment.save(update_fields=["carrier"])
    line = shipment.lines.get().pk
    outbound.pack(
        shipment=shipment,
        actor=world.operator,
        parcels=[ParcelInput(items=[(line, 1000)]), ParcelInput(items=[(line, 1000)])],
    )
    before = snapshot()
    with pytest.raises(DomainError) as exc:
        outbound.ship(shipment=shipment, actor=world.operator, idempotency_key="flaky-1")
    assert (exc.value.code, exc.value.status) == ("carrier_failed", 502)
    assert exc.value.details == {"carrier": "flaky", "carrier_code": "timeout"}
    assert "service unavailable" in exc.value.message
    assert FlakyCarrier.cancelled == FlakyCarrier.booked == ["FLK000000000"]
    assert snapshot() == before
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.PACKED and shipment.ship_idempotency_key is None


class RepeatingCarrier:
    """Returns a number already on file first (a clash), then a fresh one."""

    code = "rep"
    name = "Repeating"
    numbers: list[str] = []
    cancelled: list[str] = []

    def create_label(self, parcel):
        return Label(tracking_number=self.numbers.pop(0), format="html", content="<p>x</p>")

    def cancel_label(self, tracking_number):
        self.cancelled.append(tracking_number)


@override_settings(
    CHAINSTORE_CARRIERS={**FLAKY, "rep": f"{__name__}.RepeatingCarrier"},
)
def test_a_tracking_number_already_on_file_is_voided_and_asked_again(world):
    first = packed(world, world.picked((world.noodles, 1)))
    outbound.ship(shipment=first, actor=world.operator, idempotency_key="a")
    taken = first.parcels.get().tracking_number
    second = packed(world, world.picked((world.noodles, 1)))
    second.carrier = "rep"
    second.save(update_fields=["carrier"])
    Parcel.objects.filter(shipment=second).update(carrier="rep")
    RepeatingCarrier.numbers, RepeatingCarrier.cancelled = [taken, "REP000000001"], []
    outbound.ship(shipment=second, actor=world.operator, idempotency_key="b")
    assert second.parcels.get().tracking_number == "REP000000001"
    assert RepeatingCarrier.cancelled == [taken]


def test_unknown_carrier_is_refused_at_packing(world):
    shipment = checked(world, world.picked((world.noodles, 1)))
    shipment.carrier = "nope"
    shipment.save(update_fields=["carrier"])
    assert code_of(outbound.pack, shipment=shipment, actor=world.operator) == "unknown_carrier"


# -- cancellation, scope, lookup --------------------------------------------------------------
@pytest.mark.parametrize("stage", ["picked", "checked", "packed"])
def test_an_order_cancelled_after_picking_is_neither_checked_nor_shipped(world, stage):
    shipment = world.picked((world.noodles, 2))
    if stage != "picked":
        checked(world, shipment)
    if stage == "packed":
        outbound.pack(shipment=shipment, actor=world.operator)
    cancel_order(shipment.order, actor=world.admin, reason="客户取消")
    before = snapshot()
    calls = [
        lambda: outbound.check_scan(
            shipment=shipment, actor=world.operator, scan=ean(world.noodles)
        ),
        lambda: outbound.complete_check(shipment=shipment, actor=world.operator, weight_g=240),
        lambda: outbound.pack(shipment=shipment, actor=world.operator),
        lambda: outbound.ship(shipment=shipment, actor=world.operator, idempotency_key="c"),
    ]
    for call in calls:
        with pytest.raises(DomainError) as exc:
            call()
        assert exc.value.code == "order_cancelled"
    assert snapshot() == before
    assert verify_ledger() == []


def test_a_checker_of_another_site_is_refused(world, admin):
    from chainstore.core.testing import make_site

    elsewhere = make_site(admin, "cdc")
    stranger = world.user("warehouse_operator", elsewhere)
    shipment = world.picked((world.noodles, 1))
    with pytest.raises(PermissionDenied) as exc:
        outbound.check_scan(shipment=shipment, actor=stranger, scan=ean(world.noodles))
    assert exc.value.code == "site_out_of_scope"
    with pytest.raises(PermissionDenied):
        outbound.find_for_check(scan=shipment.number, actor=stranger, site=world.site)
    cashier = world.user("cashier", world.site)
    with pytest.raises(PermissionDenied):
        outbound.check_scan(shipment=shipment, actor=cashier, scan=ean(world.noodles))


def test_find_for_check_by_shipment_order_or_pick_list_number(world, admin):
    from chainstore.core.testing import make_site

    shipment = world.picked((world.noodles, 1))
    other = world.picked((world.noodles, 1))
    find = outbound.find_for_check
    assert find(scan=shipment.number, actor=world.operator, site=world.site) == [shipment]
    assert find(scan=f" {shipment.order.number} ", actor=world.operator, site=world.site) == [
        shipment
    ]
    pick_list = (
        PickedStock.objects.filter(shipment_line__shipment=other)
        .values_list("task__pick_list__number", flat=True)
        .first()
    )
    assert find(scan=pick_list, actor=world.operator, site=world.site) == [other]
    elsewhere = make_site(admin, "cdc")
    for scan, site in [("NOPE", world.site), (shipment.number, elsewhere)]:
        assert code_of(find, scan=scan, actor=world.admin, site=site) == "nothing_to_check"
    assert code_of(find, scan="  ", actor=world.admin, site=world.site) == "empty_scan"


def test_scan_after_the_check_is_refused_as_already_checked(world):
    shipment = checked(world, world.picked((world.noodles, 1)))
    assert (
        code_of(
            outbound.check_scan, shipment=shipment, actor=world.operator, scan=ean(world.noodles)
        )
        == "already_checked"
    )
