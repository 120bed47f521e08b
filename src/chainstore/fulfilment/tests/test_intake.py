"""Order intake: validation, replay, conflict, payment window, sourcing at intake."""

import dataclasses
import datetime as dt

import pytest
from django.utils import timezone

from chainstore.core.errors import (
    Conflict,
    IdempotencyKeyReused,
    InvalidState,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from chainstore.core.testing import make_sku, make_user
from chainstore.core.tests.helpers import snapshot
from chainstore.fulfilment.models import (
    CustomerOrder,
    EventKind,
    OrderEvent,
    OrderStatus,
    PickTask,
    Shipment,
    ShipmentStatus,
)
from chainstore.fulfilment.services.intake import (
    AddressInput,
    OrderLineInput,
    confirm_payment,
    create_order,
)
from chainstore.fulfilment.tests.orders_world import (
    available,
    make_channel,
    order_input,
    put,
    ship_from,
)
from chainstore.inventory.models import Reservation
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    channel = make_channel()
    site, bin_ = ship_from(admin)
    milk = make_sku(admin, name="纯牛奶", weight_g=260)
    tea = make_sku(admin, name="乌龙茶", weight_g=500)
    put(admin, site, bin_, milk, 10)
    put(admin, site, bin_, tea, 5)
    return channel, site, bin_, milk, tea


def test_paid_order_is_sourced_and_reserved_at_intake(admin, world):
    channel, site, bin_, milk, tea = world
    integrator = make_user("integrator")

    order = create_order(
        channel_code=channel.code,
        payload=order_input([(milk, 3), (tea, 1)], shipping_fee_fen=600),
        actor=integrator,
    )

    assert order.replayed is False
    assert order.number.startswith("SO")
    assert order.status == OrderStatus.ALLOCATED
    assert order.goods_fen == 4 * 990 and order.shipping_fee_fen == 600
    assert order.pay_by is None and order.paid_at is not None
    (shipment,) = order.shipments.all()
    assert shipment.site == site and shipment.status == ShipmentStatus.ALLOCATED
    assert shipment.number.startswith("SH") and shipment.carrier == "sim"
    assert shipment.expected_weight_g == 3 * 260 + 500
    assert [(ln.sku, ln.quantity, ln.allocated) for ln in order.lines.all()] == [
        (milk, 3000, 3000),
        (tea, 1000, 1000),
    ]
    tasks = PickTask.objects.filter(shipment_line__shipment=shipment).order_by("sku_id")
    assert [(t.location, t.sku, t.quantity) for t in tasks] == [
        (bin_, milk, 3000),
        (bin_, tea, 1000),
    ]
    assert all(t.reservation.expires_at is None for t in tasks)
    assert available(site, milk) == 7000 and available(site, tea) == 4000
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds == [EventKind.RECEIVED, EventKind.SOURCED, EventKind.RESERVED]
    received = order.events.get(kind=EventKind.RECEIVED)
    assert received.actor == integrator
    decision = order.sourcing_decisions.get()
    assert decision.trigger == "intake" and decision.plan[str(site.pk)]["site"] == site.code
    assert decision.candidates[0]["chosen"] is True
    assert verify_ledger() == []


def test_unpaid_order_holds_stock_until_pay_by_then_payment_clears_the_expiry(admin, world):
    channel, site, _bin, milk, _tea = world
    placed = timezone.now() - dt.timedelta(minutes=5)

    order = create_order(
        channel_code=channel.code,
        payload=order_input([(milk, 2)], paid=False, placed_at=placed),
        actor=admin,
    )

    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.pay_by == placed + dt.timedelta(minutes=30)
    (task,) = PickTask.objects.filter(shipment_line__shipment__order=order)
    assert task.reservation.expires_at == order.pay_by
    assert available(site, milk) == 8000

    paid = confirm_payment(order, actor=admin)

    assert paid.status == OrderStatus.ALLOCATED and paid.paid_at is not None
    assert Reservation.objects.get(pk=task.reservation_id).expires_at is None
    assert order.events.filter(kind=EventKind.PAID).count() == 1
    again = confirm_payment(order, actor=admin)
    assert again.replayed is True
    assert order.events.filter(kind=EventKind.PAID).count() == 1


def test_explicit_pay_by_wins_over_the_channel_timeout(admin, world):
    channel, _site, _bin, milk, _tea = world
    placed = timezone.now()
    pay_by = placed + dt.timedelta(hours=2)

    order = create_order(
        channel_code=channel.code,
        payload=order_input([(milk, 1)], paid=False, placed_at=placed, pay_by=pay_by),
        actor=admin,
    )

    assert order.pay_by == pay_by


def test_replay_returns_the_first_order_and_changes_nothing(admin, world):
    channel, _site, _bin, milk, _tea = world
    payload = order_input([(milk, 2)], order_id="TB-REPLAY")
    first = create_order(channel_code=channel.code, payload=payload, actor=admin)
    before = snapshot()
    events = OrderEvent.objects.count()

    again = create_order(channel_code=channel.code, payload=payload, actor=admin)
    # a snapshot re-sent after payment changes only the payment state: still a replay
    paid_again = create_order(
        channel_code=channel.code, payload=dataclasses.replace(payload, paid=False), actor=admin
    )

    assert again.pk == first.pk and again.replayed is True
    assert paid_again.pk == first.pk and paid_again.replayed is True
    assert CustomerOrder.objects.count() == 1 and Shipment.objects.count() == 1
    assert snapshot() == before and OrderEvent.objects.count() == events


def test_same_channel_order_id_with_another_body_is_a_conflict(admin, world):
    channel, _site, _bin, milk, _tea = world
    create_order(
        channel_code=channel.code, payload=order_input([(milk, 2)], order_id="TB-1"), actor=admin
    )
    before = snapshot()

    with pytest.raises(Conflict) as exc:
        create_order(
            channel_code=channel.code,
            payload=order_input([(milk, 3)], order_id="TB-1"),
            actor=admin,
        )

    assert exc.value.code == "order_conflict" and exc.value.status == 409
    assert snapshot() == before and CustomerOrder.objects.count() == 1


def test_same_id_in_another_channel_is_another_order(admin, world):
    channel, _site, _bin, milk, _tea = world
    other = make_channel("DY01", platform="douyin")
    payload = order_input([(milk, 1)], order_id="X-1")

    a = create_order(channel_code=channel.code, payload=payload, actor=admin)
    b = create_order(channel_code=other.code, payload=payload, actor=admin)

    assert a.pk != b.pk and b.replayed is False


def test_idempotency_key_must_stay_with_its_order(admin, world):
    channel, _site, _bin, milk, _tea = world
    payload = order_input([(milk, 1)])
    first = create_order(
        channel_code=channel.code, payload=payload, actor=admin, idempotency_key="k-1"
    )

    replay = create_order(
        channel_code=channel.code, payload=payload, actor=admin, idempotency_key="k-1"
    )
    assert replay.pk == first.pk and replay.replayed
    with pytest.raises(IdempotencyKeyReused):
        create_order(
            channel_code=channel.code,
            payload=order_input([(milk, 1)]),
            actor=admin,
            idempotency_key="k-1",
        )
    assert CustomerOrder.objects.count() == 1
    first.refresh_from_db()
    assert first.idempotency_key == "k-1"
    received = OrderEvent.objects.get(order=first, kind=EventKind.RECEIVED)
    assert "idempotency_key" not in received.data


def test_a_replay_under_a_new_key_or_none_is_still_a_replay(admin, world):
    channel, _site, _bin, milk, _tea = world
    payload = order_input([(milk, 1)])
    first = create_order(channel_code=channel.code, payload=payload, actor=admin)
    again = create_order(
        channel_code=channel.code, payload=payload, actor=admin, idempotency_key="k-2"
    )
    other = create_order(
        channel_code=channel.code,
        payload=order_input([(milk, 1)]),
        actor=admin,
        idempotency_key="k-2",  # not bound by the replay above
    )

    assert again.pk == first.pk and again.replayed
    assert other.pk != first.pk and not other.replayed
    assert CustomerOrder.objects.get(idempotency_key="k-2") == other
    with pytest.raises(IdempotencyKeyReused):  # k-2 is other's now
        create_order(channel_code=channel.code, payload=payload, actor=admin, idempotency_key="k-2")


def test_lines_resolve_by_barcode_and_two_lines_of_one_sku(admin, world):
    channel, _site, _bin, milk, _tea = world
    payload = dataclasses.replace(
        order_input([]),
        lines=[
            OrderLineInput(barcode=milk.barcodes.get().code, quantity=2000, channel_line_id="a"),
            OrderLineInput(sku=milk.code, quantity=1000, channel_line_id="b"),
        ],
    )

    order = create_order(channel_code=channel.code, payload=payload, actor=admin)

    assert [(ln.line_no, ln.sku, ln.channel_line_id, ln.allocated) for ln in order.lines.all()] == [
        (1, milk, "a", 2000),
        (2, milk, "b", 1000),
    ]
    (shipment,) = order.shipments.all()
    assert sorted(shipment.lines.values_list("quantity", flat=True)) == [1000, 2000]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"lines": [OrderLineInput(sku="NOPE", quantity=1000)]}, "unknown_sku"),
        ({"lines": [OrderLineInput(barcode="6900000000000", quantity=1000)]}, "bad_check_digit"),
        ({"lines": [OrderLineInput(quantity=1000)]}, "sku_required"),
        ({"lines": []}, "empty_order"),
        ({"customer_name": " "}, "customer_required"),
        ({"phone": ""}, "phone_required"),
        ({"address": AddressInput(address="  ")}, "address_required"),
        ({"shipping_fee_fen": -1}, "negative_amount"),
        ({"channel_order_id": ""}, "channel_order_id_required"),
        ({"placed_at": timezone.now() + dt.timedelta(days=1)}, "placed_at_in_future"),
    ],
)
def test_invalid_orders_are_refused_with_a_code_and_change_nothing(admin, world, change, code):
    channel, _site, _bin, milk, _tea = world
    before = snapshot()

    with pytest.raises(ValidationFailed) as exc:
        create_order(
            channel_code=channel.code,
            payload=dataclasses.replace(order_input([(milk, 1)]), **change),
            actor=admin,
        )

    assert exc.value.code == code and exc.value.status == 422
    assert snapshot() == before and CustomerOrder.objects.count() == 0


def test_zero_quantity_names_the_line(admin, world):
    channel, _site, _bin, milk, tea = world
    payload = dataclasses.replace(
        order_input([(milk, 1)]),
        lines=[
            OrderLineInput(sku=milk.code, quantity=1000),
            OrderLineInput(sku=tea.code, quantity=0),
        ],
    )

    with pytest.raises(ValidationFailed) as exc:
        create_order(channel_code=channel.code, payload=payload, actor=admin)

    assert (exc.value.code, exc.value.details["line"]) == ("invalid_quantity", 2)


def test_half_given_coordinates_are_refused(admin, world):
    channel, _site, _bin, milk, _tea = world
    payload = dataclasses.replace(
        order_input([(milk, 1)]), address=AddressInput(address="x", latitude=31)
    )

    with pytest.raises(ValidationFailed) as exc:
        create_order(channel_code=channel.code, payload=payload, actor=admin)

    assert exc.value.code == "invalid_coordinates"


def test_unknown_and_inactive_channels(admin, world):
    channel, _site, _bin, milk, _tea = world
    with pytest.raises(NotFound) as missing:
        create_order(channel_code="NOPE", payload=order_input([(milk, 1)]), actor=admin)
    channel.is_active = False
    channel.save()
    with pytest.raises(InvalidState) as inactive:
        create_order(channel_code=channel.code, payload=order_input([(milk, 1)]), actor=admin)

    assert missing.value.code == "channel_not_found"
    assert inactive.value.code == "channel_inactive"


def test_roles_without_orders_intake_are_refused(admin, world):
    channel, site, _bin, milk, _tea = world
    operator = make_user("warehouse_operator", sites=[site])

    with pytest.raises(PermissionDenied):
        create_order(channel_code=channel.code, payload=order_input([(milk, 1)]), actor=operator)
    assert CustomerOrder.objects.count() == 0


def test_order_without_stock_is_backordered(admin, world):
    channel, _site, _bin, _milk, _tea = world
    rare = make_sku(admin, name="限量款")

    order = create_order(channel_code=channel.code, payload=order_input([(rare, 2)]), actor=admin)

    assert order.status == OrderStatus.BACKORDER
    assert order.shipments.count() == 0
    backordered = order.events.get(kind=EventKind.BACKORDERED)
    assert backordered.data["lines"] == [{"sku": rare.code, "quantity": "2.000"}]
    decision = order.sourcing_decisions.get()
    assert decision.method == "no_stock" and decision.unfilled == {rare.code: "2.000"}
