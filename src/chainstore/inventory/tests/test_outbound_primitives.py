"""Reserve across sites, pick what is reserved into staging, ship staged stock, write off a
short pick: the ledger, balances and reservations stay in step (verify finds nothing)."""

import datetime as dt

import pytest
from django.utils import timezone

from chainstore.core.errors import InsufficientStock
from chainstore.core.testing import make_bin, make_site, make_sku, stock
from chainstore.inventory.models import Balance, Reservation, ReservationStatus
from chainstore.inventory.services import (
    ReserveLine,
    StagedLine,
    available_to_promise,
    pick_reserved,
    release_reservations,
    reserve_lines,
    ship_staged,
    write_off_missing,
)
from chainstore.inventory.verify import verify_ledger
from chainstore.sites.services import outbound_location

pytestmark = pytest.mark.django_db


def _world(admin):
    a = make_site(admin, "cdc")
    b = make_site(admin, "rdc")
    sku = make_sku(admin, tracking="lot", shelf_life_days=100)
    bin_a = make_bin(admin, a)
    today = timezone.localdate()
    stock(admin, a, sku, 5000, lot="L-LATE", expiry=today + dt.timedelta(days=90), location=bin_a)
    stock(admin, a, sku, 3000, lot="L-SOON", expiry=today + dt.timedelta(days=10), location=bin_a)
    stock(
        admin,
        b,
        sku,
        4000,
        lot="L-B",
        expiry=today + dt.timedelta(days=50),
        location=make_bin(admin, b),
    )
    return a, b, sku, bin_a


def test_reserve_lines_is_all_or_nothing_and_fefo(admin):
    a, b, sku, _bin = _world(admin)
    with pytest.raises(InsufficientStock):
        reserve_lines(
            lines=[ReserveLine(a, sku, 4000), ReserveLine(b, sku, 9000)],
            actor=admin,
            reference="order:1",
        )
    assert not Reservation.objects.exists()
    assert available_to_promise(site_ids=[a.pk, b.pk], sku_ids=[sku.pk]) == {
        (a.pk, sku.pk): 8000,
        (b.pk, sku.pk): 4000,
    }
    res = reserve_lines(
        lines=[ReserveLine(a, sku, 4000), ReserveLine(b, sku, 1000)],
        actor=admin,
        reference="order:1",
    )
    by_lot = {r.lot.number: r.quantity for r in res}
    assert by_lot == {"L-SOON": 3000, "L-LATE": 1000, "L-B": 1000}
    atp = available_to_promise(site_ids=[a.pk, b.pk], sku_ids=[sku.pk])
    assert atp == {(a.pk, sku.pk): 4000, (b.pk, sku.pk): 3000}
    assert verify_ledger() == []


def test_pick_ship_and_release_keep_the_ledger(admin):
    a, _b, sku, _bin = _world(admin)
    res = reserve_lines(lines=[ReserveLine(a, sku, 3500)], actor=admin, reference="order:2")
    soon = next(r for r in res if r.lot.number == "L-SOON")
    late = next(r for r in res if r.lot.number == "L-LATE")
    staging = outbound_location(a)
    parts = pick_reserved(
        reservation=soon, quantity=3000, to_location=staging, actor=admin, reference="t1"
    )
    assert [(p.lot.number, p.quantity) for p in parts] == [("L-SOON", 3000)]
    soon.refresh_from_db()
    assert soon.status == ReservationStatus.CONSUMED
    # staged stock is not available to anyone else
    assert available_to_promise(site_ids=[a.pk], sku_ids=[sku.pk]) == {(a.pk, sku.pk): 4500}
    ship_staged(
        site=a,
        lines=[StagedLine(staging, sku, soon.lot, 3000)],
        actor=admin,
        reference="shipment:1",
    )
    assert Balance.objects.get(location=staging, sku=sku, lot=soon.lot).on_hand == 0
    assert release_reservations(reservations=[late], actor=admin, reason="cancel") == 500
    assert release_reservations(reservations=[late], actor=admin, reason="cancel") == 0
    assert available_to_promise(site_ids=[a.pk], sku_ids=[sku.pk]) == {(a.pk, sku.pk): 5000}
    assert verify_ledger() == []


def test_short_pick_writes_off_only_unreserved_stock(admin):
    a, _b, sku, bin_a = _world(admin)
    res = reserve_lines(lines=[ReserveLine(a, sku, 2000)], actor=admin, reference="order:3")
    soon = res[0]
    other = reserve_lines(lines=[ReserveLine(a, sku, 500)], actor=admin, reference="order:4")[0]
    assert other.lot == soon.lot
    release_reservations(reservations=[soon], actor=admin, reason="short_pick")
    # 3000 on hand in L-SOON, 500 reserved by the other order: at most 2500 can go
    taken = write_off_missing(
        location=bin_a, sku=sku, lot=soon.lot, quantity=2800, actor=admin, reference="t"
    )
    assert taken == 2500
    bal = Balance.objects.get(location=bin_a, sku=sku, lot=soon.lot)
    assert (bal.on_hand, bal.reserved) == (500, 500)
    assert verify_ledger() == []
