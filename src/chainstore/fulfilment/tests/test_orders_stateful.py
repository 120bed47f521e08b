"""A hypothesis state machine over online orders, through the public services.

Four ship-from sites (2-4 of them enabled per example, with random stock of three SKUs),
then random steps: orders (paid or not, 1-3 lines), payments, cancellations (before and
after picking), address changes with re-sourcing, manual re-sourcing, stock receipts
followed by a backorder retry, payment timeouts, and picks of whole shipments into
outbound staging (what the picking screen does).

After every step: the ledger verifies (balances == moves, reserved == open reservations,
nothing available below zero); every order line's allocation equals the live shipment
lines for it and allocated + backordered + shipped == ordered; every open reservation is
held by an open pick task of a live shipment and vice versa (nothing leaks, nothing is
promised twice); a cancelled order holds nothing and left nothing in staging.

Runs on SQLite and PostgreSQL; each example runs inside a savepoint that teardown rolls
back (as the POS and inventory state machines).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from chainstore.core.errors import DomainError
from chainstore.core.testing import make_sku
from chainstore.fulfilment.models import (
    CustomerOrder,
    OrderLine,
    OrderStatus,
    PickedStock,
    PickTask,
    PickTaskStatus,
    ShipFromSite,
    ShipmentLine,
    ShipmentStatus,
)
from chainstore.fulfilment.services.care import (
    cancel_order,
    change_address,
    expire_unpaid,
    resource_order,
    retry_backorders,
)
from chainstore.fulfilment.services.intake import AddressInput, confirm_payment, create_order
from chainstore.fulfilment.services.sourcing import SYSTEM
from chainstore.fulfilment.services.status import refresh_order_status
from chainstore.fulfilment.tests.orders_world import (
    BEIJING,
    HANGZHOU,
    SHANGHAI,
    make_channel,
    order_input,
    put,
    ship_from,
)
from chainstore.inventory.models import Balance, Reservation, ReservationStatus
from chainstore.inventory.services import pick_reserved
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.models import LocationKind
from chainstore.sites.services import outbound_location, virtual_location

_ids = itertools.count(1)


@dataclass
class World:
    admin: Any
    channel: Any
    sites: list[tuple[Any, Any]]  # (site, bin)
    skus: list[Any]


def build_world(admin: Any) -> World:
    for kind in (LocationKind.SUPPLIER, LocationKind.CUSTOMER, LocationKind.ADJUSTMENT):
        virtual_location(kind)  # created outside the per-example savepoint
    sites = [
        ship_from(admin, at=SHANGHAI),
        ship_from(admin, at=HANGZHOU, kind="store"),
        ship_from(admin, at=BEIJING),
        ship_from(admin, at=None, city="广州"),
    ]
    for site, _bin in sites:
        outbound_location(site)
    skus = [make_sku(admin, weight_g=w) for w in (250, 1000, None)]
    return World(admin=admin, channel=make_channel(), sites=sites, skus=skus)


class OrderMachine(RuleBasedStateMachine):
    world: World

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)

    # -- helpers ---------------------------------------------------------------------
    def _orders(self, *statuses: str) -> list[CustomerOrder]:
        qs = CustomerOrder.objects.order_by("id")
        return list(qs.filter(status__in=statuses) if statuses else qs)

    @staticmethod
    def _pick(order: CustomerOrder, actor: Any) -> bool:
        """Pick every open task of the order's first allocated shipment into staging."""
        shipment = order.shipments.filter(status=ShipmentStatus.ALLOCATED).first()
        if shipment is None:
            return False
        staging = outbound_location(shipment.site)
        tasks = PickTask.objects.filter(
            shipment_line__shipment=shipment, status=PickTaskStatus.OPEN
        ).select_related("reservation", "shipment_line")
        for task in tasks:
            pick_reserved(
                reservation=task.reservation,
                quantity=task.quantity,
                to_location=staging,
                actor=actor,
                reference=shipment.number,
            )
            PickedStock.objects.create(
                shipment_line=task.shipment_line,
                task=task,
                location=staging,
                lot=task.lot,
                quantity=task.quantity,
            )
            PickTask.objects.filter(pk=task.pk).update(
                status=PickTaskStatus.PICKED, picked=task.quantity
            )
            ShipmentLine.objects.filter(pk=task.shipment_line_id).update(
                picked=task.shipment_line.picked + task.quantity
            )
            task.shipment_line.picked += task.quantity
        shipment.status = ShipmentStatus.PICKED
        shipment.save(update_fields=["status"])
        refresh_order_status(order)
        return True

    # -- steps -----------------------------------------------------------------------
    @initialize(
        enabled=st.integers(2, 4),
        stock=st.lists(st.integers(0, 6), min_size=12, max_size=12),
    )
    def opening(self, enabled: int, stock: list[int]) -> None:
        units = iter(stock)
        for n, (site, bin_) in enumerate(self.world.sites):
            ShipFromSite.objects.filter(site=site).update(enabled=n < enabled)
            for sku in self.world.skus:
                q = next(units)
                if q:
                    put(self.world.admin, site, bin_, sku, q)

    @rule(
        lines=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 5)), min_size=1, max_size=3),
        paid=st.booleans(),
    )
    def place(self, lines: list[tuple[int, int]], paid: bool) -> None:
        payload = order_input(
            [(self.world.skus[i], q) for i, q in lines],
            order_id=f"H{next(_ids)}",
            paid=paid,
        )
        order = create_order(
            channel_code=self.world.channel.code, payload=payload, actor=self.world.admin
        )
        replay = create_order(
            channel_code=self.world.channel.code, payload=payload, actor=self.world.admin
        )
        assert replay.pk == order.pk and replay.replayed

    @precondition(lambda self: CustomerOrder.objects.exists())
    @rule(pick=st.integers(0, 50))
    def cancel(self, pick: int) -> None:
        orders = self._orders()
        order = orders[pick % len(orders)]
        cancel_order(order, actor=self.world.admin, reason="test")
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED

    @precondition(lambda self: CustomerOrder.objects.filter(paid_at__isnull=True).exists())
    @rule(pick=st.integers(0, 50))
    def pay(self, pick: int) -> None:
        orders = list(CustomerOrder.objects.filter(paid_at__isnull=True).order_by("id"))
        order = orders[pick % len(orders)]
        try:
            confirm_payment(order, actor=self.world.admin)
        except DomainError as exc:
            assert exc.code == "order_cancelled"

    @precondition(lambda self: CustomerOrder.objects.exists())
    @rule(pick=st.integers(0, 50), where=st.sampled_from([SHANGHAI, BEIJING, None]))
    def readdress(self, pick: int, where: Any) -> None:
        orders = self._orders()
        order = orders[pick % len(orders)]
        address = AddressInput(
            address=f"新地址{pick}",
            city="北京" if where is None else "",
            latitude=where[0] if where else None,
            longitude=where[1] if where else None,
        )
        try:
            change_address(order, actor=self.world.admin, address=address, resource=True)
        except DomainError as exc:
            assert exc.code in ("order_cancelled", "order_shipped")

    @precondition(lambda self: CustomerOrder.objects.exists())
    @rule(pick=st.integers(0, 50))
    def resource(self, pick: int) -> None:
        orders = self._orders()
        order = orders[pick % len(orders)]
        try:
            resource_order(order, actor=self.world.admin)
        except DomainError as exc:
            assert exc.code in ("order_cancelled", "nothing_to_resource")

    @rule(site=st.integers(0, 3), sku=st.integers(0, 2), units=st.integers(1, 6))
    def receive_and_retry(self, site: int, sku: int, units: int) -> None:
        where, bin_ = self.world.sites[site]
        put(self.world.admin, where, bin_, self.world.skus[sku], units)
        retry_backorders(actor=SYSTEM)

    @precondition(lambda self: CustomerOrder.objects.filter(status=OrderStatus.ALLOCATED).exists())
    @rule(pick=st.integers(0, 50))
    def pick(self, pick: int) -> None:
        orders = self._orders(OrderStatus.ALLOCATED)
        assert self._pick(orders[pick % len(orders)], self.world.admin)

    @rule()
    def payment_deadline_passes(self) -> None:
        expire_unpaid(now=timezone.now() + dt.timedelta(days=1))
        assert not CustomerOrder.objects.filter(status=OrderStatus.PENDING_PAYMENT).exists()

    # -- invariants ------------------------------------------------------------------
    @invariant()
    def ledger_is_consistent(self) -> None:
        assert verify_ledger() == []
        reserved = Balance.objects.aggregate(s=Sum("reserved"))["s"] or 0
        open_res = Reservation.objects.filter(status=ReservationStatus.ACTIVE).aggregate(
            s=Sum("open_quantity")
        )["s"]
        assert reserved == (open_res or 0)
        assert not Balance.objects.filter(on_hand__lt=0).exists()

    @invariant()
    def lines_add_up(self) -> None:
        live = ShipmentLine.objects.exclude(shipment__status=ShipmentStatus.CANCELLED)
        for line in OrderLine.objects.select_related("order"):
            assert 0 <= line.allocated <= line.quantity
            assert line.allocated + line.backordered + line.shipped == line.quantity
            held = live.filter(order_line=line).aggregate(s=Sum("quantity"))["s"] or 0
            assert line.allocated == held, (line.order.number, line.allocated, held)

    @invariant()
    def reservations_belong_to_open_tasks(self) -> None:
        open_tasks = PickTask.objects.filter(status=PickTaskStatus.OPEN)
        assert not open_tasks.filter(shipment_line__shipment__status="cancelled").exists()
        for task in open_tasks.select_related("reservation"):
            assert task.reservation.status == ReservationStatus.ACTIVE
        held = sum(t.quantity for t in open_tasks)
        active = Reservation.objects.filter(status=ReservationStatus.ACTIVE).aggregate(
            s=Sum("open_quantity")
        )["s"]
        assert held == (active or 0)

    @invariant()
    def cancelled_orders_hold_nothing(self) -> None:
        for order in CustomerOrder.objects.filter(status=OrderStatus.CANCELLED):
            assert not order.lines.filter(allocated__gt=0).exists()
            assert not order.shipments.exclude(status=ShipmentStatus.CANCELLED).exists()
        staged = Balance.objects.filter(location__kind=LocationKind.OUTBOUND).aggregate(
            s=Sum("on_hand")
        )["s"]
        picked_live = PickedStock.objects.exclude(
            shipment_line__shipment__status=ShipmentStatus.CANCELLED
        ).aggregate(s=Sum("quantity"))["s"]
        assert (staged or 0) == (picked_live or 0)


def test_order_state_machine(admin):
    OrderMachine.world = build_world(admin)
    run_state_machine_as_test(
        OrderMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
