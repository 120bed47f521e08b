"""Wave creation rules for any mix of orders, wave size and cart size (hypothesis): the
oldest orders are waved, carts never overflow, every open task is on exactly one list, and
each list's stops are numbered 1..n."""

import math

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainstore.fulfilment.models import PickTask, PickTaskStatus, Shipment
from chainstore.fulfilment.services import waves
from chainstore.fulfilment.tests.test_waves_support import build_world, put
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db

BINS = ["A-01-08", "A-01-02", "A-02-05", "B-05-03"]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    orders=st.lists(
        st.lists(st.sampled_from(["milk", "yogurt"]), min_size=1, max_size=2, unique=True),
        min_size=1,
        max_size=9,
    ),
    max_orders=st.integers(1, 10),
    cart_size=st.integers(1, 4),
)
def test_waves_take_the_oldest_and_fill_carts(admin, orders, max_orders, cart_size):
    with transaction.atomic():
        world = build_world(admin)
        for code in BINS:
            put(world, world.milk, 2_000, code)
        put(
            world,
            world.yogurt,
            20_000,
            "A-02-01",
            lot="Y",
            expiry=world.today.replace(year=world.today.year + 1),
        )
        placed = [
            world.order(*[(getattr(world, name), 1500) for name in names]) for names in orders
        ]
        # stock runs out on purpose: an order with nothing reserved here has no shipment
        oldest_first = sorted(
            (o for o in placed if o.shipments.filter(site=world.site).exists()),
            key=lambda o: (o.placed_at, o.pk),
        )

        wave = waves.create_wave(
            site=world.site, actor=admin, max_orders=max_orders, cart_size=cart_size
        )

        expected = {o.pk for o in oldest_first[:max_orders]}
        waved = Shipment.objects.filter(wave=wave)
        assert {s.order_id for s in waved} == expected
        lists = list(wave.pick_lists.all())
        assert len(lists) == math.ceil(len(expected) / cart_size)
        for pick_list in lists:
            tasks = list(pick_list.tasks.order_by("sequence"))
            assert len({t.shipment_line.shipment_id for t in tasks}) <= cart_size
            assert [t.sequence for t in tasks] == list(range(1, len(tasks) + 1))
        open_tasks = PickTask.objects.filter(
            shipment_line__shipment__in=waved, status=PickTaskStatus.OPEN
        )
        assert not open_tasks.filter(pick_list__isnull=True).exists()
        assert set(open_tasks.values_list("pick_list__wave", flat=True)) == {wave.pk}
        assert (
            not PickTask.objects.exclude(shipment_line__shipment__in=waved)
            .filter(pick_list__isnull=False)
            .exists()
        )
        assert verify_ledger() == []
        transaction.set_rollback(True)
