"""Shifts: open with a float, one open shift per till, close with counted cash, who may
close whose shift, and the Z report's refusals, idempotency and numbering."""

import datetime as dt

import pytest

from chainstore.core.errors import InvalidState, PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_user
from chainstore.inventory.services import site_today
from chainstore.pos.models import DayClose, Shift
from chainstore.pos.services import shifts
from chainstore.pos.tests.returns_world import make_world, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return make_world(admin)


def test_open_shift_records_the_float_and_business_day(world):
    shift = shifts.open_shift(
        store=world.store, till=world.tills[0], opening_float_fen=50_000, actor=world.cashier
    )

    assert (shift.status, shift.opening_float_fen, shift.cashier) == ("open", 50_000, world.cashier)
    assert shift.business_date == site_today(world.store)
    assert AuditEvent.objects.filter(action="pos.shift.open", object_id=str(shift.pk)).count() == 1


def test_a_till_has_one_open_shift(world):
    first = shifts.open_shift(
        store=world.store, till=world.tills[0], opening_float_fen=0, actor=world.cashier
    )

    with pytest.raises(shifts.ShiftAlreadyOpen) as exc:
        shifts.open_shift(
            store=world.store, till=world.tills[0], opening_float_fen=0, actor=world.cashier2
        )

    assert exc.value.details["shift"] == first.pk
    assert Shift.objects.count() == 1
    assert AuditEvent.objects.filter(action="pos.shift.open").count() == 1
    # Another till is free.
    shifts.open_shift(
        store=world.store, till=world.tills[1], opening_float_fen=0, actor=world.cashier2
    )
    assert Shift.objects.filter(status="open").count() == 2


def test_open_refuses_a_till_of_another_store_and_a_negative_float(world, admin):
    other = make_world(admin)
    with pytest.raises(ValidationFailed) as exc:
        shifts.open_shift(
            store=world.store, till=other.tills[0], opening_float_fen=0, actor=world.admin
        )
    assert exc.value.code == "till_not_in_store"
    with pytest.raises(ValidationFailed) as exc:
        shifts.open_shift(
            store=world.store, till=world.tills[0], opening_float_fen=-1, actor=world.cashier
        )
    assert exc.value.code == "invalid_amount"
    assert Shift.objects.count() == 0


def test_open_needs_the_role_and_the_store_in_scope(world, admin):
    other = make_world(admin)
    auditor = make_user("auditor")
    with pytest.raises(PermissionDenied) as exc:
        shifts.open_shift(
            store=world.store, till=world.tills[0], opening_float_fen=0, actor=auditor
        )
    assert exc.value.code == "permission_denied"
    with pytest.raises(PermissionDenied) as exc:
        shifts.open_shift(
            store=other.store, till=other.tills[0], opening_float_fen=0, actor=world.cashier
        )
    assert exc.value.code == "site_out_of_scope"
    assert Shift.objects.count() == 0


def test_close_without_sales_expects_the_float(world):
    shift = shifts.open_shift(
        store=world.store, till=world.tills[0], opening_float_fen=50_000, actor=world.cashier
    )

    closed = shifts.close_shift(
        shift=shift, counted_cash_fen=49_950, actor=world.cashier, note="少5角"
    )

    assert (closed.status, closed.expected_cash_fen, closed.counted_cash_fen) == (
        "closed",
        50_000,
        49_950,
    )
    assert closed.closed_at is not None
    event = AuditEvent.objects.get(action="pos.shift.close")
    assert (event.from_state, event.to_state) == ("open", "closed")
    assert event.data["variance_fen"] == -50


def test_a_shift_closes_once(world):
    shift = shifts.open_shift(
        store=world.store, till=world.tills[0], opening_float_fen=0, actor=world.cashier
    )
    shifts.close_shift(shift=shift, counted_cash_fen=0, actor=world.cashier)

    with pytest.raises(InvalidState) as exc:
        shifts.close_shift(shift=shift, counted_cash_fen=100, actor=world.cashier)

    assert exc.value.code == "shift_closed"
    assert Shift.objects.get(pk=shift.pk).counted_cash_fen == 0
    assert AuditEvent.objects.filter(action="pos.shift.close").count() == 1


def test_a_cashier_closes_only_their_own_shift_a_manager_any(world):
    shift = shifts.open_shift(
        store=world.store, till=world.tills[0], opening_float_fen=10_000, actor=world.cashier
    )

    with pytest.raises(PermissionDenied) as exc:
        shifts.close_shift(shift=shift, counted_cash_fen=10_000, actor=world.cashier2)
    assert exc.value.code == "not_your_shift"
    assert Shift.objects.get(pk=shift.pk).status == "open"

    closed = shifts.close_shift(shift=shift, counted_cash_fen=10_000, actor=world.manager)
    assert closed.status == "closed"


def test_a_manager_of_another_store_cannot_close_it(world, admin):
    other = make_world(admin)
    shift = shifts.open_shift(
        store=world.store, till=world.tills[0], opening_float_fen=0, actor=world.cashier
    )
    with pytest.raises(PermissionDenied) as exc:
        shifts.close_shift(shift=shift, counted_cash_fen=0, actor=other.manager)
    assert exc.value.code == "site_out_of_scope"
    assert Shift.objects.get(pk=shift.pk).status == "open"


# -- Z report --------------------------------------------------------------------------
def test_z_is_refused_while_a_shift_of_the_till_is_open(world):
    today = site_today(world.store)
    shift = shifts.open_shift(
        store=world.store, till=world.tills[0], opening_float_fen=0, actor=world.cashier
    )

    with pytest.raises(shifts.ShiftsStillOpen) as exc:
        shifts.close_day(
            store=world.store, till=world.tills[0], business_date=today, actor=world.manager
        )
    assert exc.value.details["shifts"] == [shift.pk]
    with pytest.raises(shifts.ShiftsStillOpen):  # the store Z too
        shifts.close_day(store=world.store, business_date=today, actor=world.manager)
    assert DayClose.objects.count() == 0
    assert not AuditEvent.objects.filter(action="pos.day_close").exists()

    # The other till's Z does not wait for this shift.
    z = shifts.close_day(
        store=world.store, till=world.tills[1], business_date=today, actor=world.manager
    )
    assert z.number == 1


def test_z_is_idempotent_and_numbered_per_store(world, admin):
    other = make_world(admin)
    today = site_today(world.store)
    shift = shifts.open_shift(
        store=world.store, till=world.tills[0], opening_float_fen=0, actor=world.cashier
    )
    shifts.close_shift(shift=shift, counted_cash_fen=0, actor=world.cashier)

    till_z = shifts.close_day(
        store=world.store, till=world.tills[0], business_date=today, actor=world.manager
    )
    again = shifts.close_day(
        store=world.store, till=world.tills[0], business_date=today, actor=world.manager
    )
    store_z = shifts.close_day(store=world.store, business_date=today, actor=world.manager)
    other_z = shifts.close_day(store=other.store, business_date=today, actor=other.manager)

    assert (till_z.replayed, again.replayed, again.pk) == (False, True, till_z.pk)
    assert (till_z.number, store_z.number, other_z.number) == (1, 2, 1)
    assert store_z.till is None
    assert store_z.totals["shifts"] == [shift.pk]
    assert DayClose.objects.count() == 3
    assert AuditEvent.objects.filter(action="pos.day_close").count() == 3


def test_z_needs_day_close_permission_and_a_past_or_current_date(world):
    today = site_today(world.store)
    with pytest.raises(PermissionDenied):
        shifts.close_day(store=world.store, business_date=today, actor=world.cashier)
    with pytest.raises(ValidationFailed) as exc:
        shifts.close_day(
            store=world.store, business_date=today + dt.timedelta(days=1), actor=world.manager
        )
    assert exc.value.code == "future_date"
    assert DayClose.objects.count() == 0


# -- API -------------------------------------------------------------------------------
def test_shift_api_round_trip(client, world):
    client.force_login(world.cashier)
    base = "/api/v1/pos"

    r = post(
        client,
        f"{base}/shifts",
        {"store": world.store.code, "till": "T01", "opening_float": "500.00"},
    )
    assert r.status_code == 201, r.content
    shift = r.json()
    assert (shift["status"], shift["opening_float"], shift["cashier"]) == (
        "open",
        "500.00",
        world.cashier.username,
    )
    r = post(client, f"{base}/shifts", {"store": world.store.code, "till": "T01"})
    assert (r.status_code, r.json()["code"]) == (409, "shift_already_open")

    r = client.get(f"{base}/shifts/current", {"store": world.store.code, "till": "T01"})
    assert r.status_code == 200 and r.json()["id"] == shift["id"]
    r = client.get(f"{base}/shifts/current", {"store": world.store.code, "till": "T02"})
    assert r.status_code == 200 and r.json() is None
    r = client.get(f"{base}/shifts", {"store": world.store.code, "status": "open"})
    assert [s["id"] for s in r.json()["items"]] == [shift["id"]]

    r = client.get(f"{base}/shifts/{shift['id']}/x-report")
    assert r.status_code == 200, r.content
    assert r.json()["cash"]["expected"] == "500.00"
    assert r.json()["totals"]["sales_count"] == 0

    r = post(client, f"{base}/shifts/{shift['id']}/close", {"counted_cash": "498.50"})
    assert r.status_code == 200, r.content
    assert (r.json()["expected_cash"], r.json()["counted_cash"], r.json()["variance"]) == (
        "500.00",
        "498.50",
        "-1.50",
    )

    r = post(
        client,
        f"{base}/day-close",
        {"store": world.store.code, "date": str(site_today(world.store))},
    )
    assert (r.status_code, r.json()["code"]) == (403, "permission_denied")

    client.force_login(world.manager)
    body = {"store": world.store.code, "till": "T01", "date": str(site_today(world.store))}
    r = post(client, f"{base}/day-close", body)
    assert r.status_code == 201, r.content
    z = r.json()
    assert (z["number"], z["till"], z["replayed"]) == (1, "T01", False)
    assert z["cash"]["expected"] == "500.00" and z["cash"]["variance"] == "-1.50"
    r = post(client, f"{base}/day-close", body)
    assert (r.status_code, r.json()["id"], r.json()["replayed"]) == (200, z["id"], True)
    r = client.get(f"{base}/day-close", {"store": world.store.code})
    assert [x["number"] for x in r.json()] == [1]


def test_shift_api_refusals(client, world, admin):
    other = make_world(admin)
    client.force_login(world.cashier)
    base = "/api/v1/pos"
    r = post(client, f"{base}/shifts", {"store": other.store.code, "till": "T01"})
    assert (r.status_code, r.json()["code"]) == (403, "site_out_of_scope")
    r = post(client, f"{base}/shifts", {"store": world.store.code, "till": "NOPE"})
    assert (r.status_code, r.json()["code"]) == (404, "till_not_found")
    r = post(
        client, f"{base}/shifts", {"store": world.store.code, "till": "T01", "opening_float": "-1"}
    )
    assert r.status_code == 422
    assert Shift.objects.count() == 0
    client.logout()
    r = client.get(f"{base}/shifts")
    assert r.status_code == 401


def test_a_cashier_sees_only_their_own_shifts(client, world):
    mine = shifts.open_shift(
        store=world.store, till=world.tills[0], opening_float_fen=100, actor=world.cashier
    )
    theirs = shifts.open_shift(
        store=world.store, till=world.tills[1], opening_float_fen=200, actor=world.cashier2
    )
    client.force_login(world.cashier)

    r = client.get("/api/v1/pos/shifts", {"store": world.store.code})
    assert [s["id"] for s in r.json()["items"]] == [mine.pk]
    r = client.get(f"/api/v1/pos/shifts/{theirs.pk}/x-report")
    assert (r.status_code, r.json()["code"]) == (404, "shift_not_found")
    r = post(client, f"/api/v1/pos/shifts/{theirs.pk}/close", {"counted_cash": "2.00"})
    assert r.status_code == 404
    assert Shift.objects.get(pk=theirs.pk).status == "open"

    client.force_login(world.manager)
    r = client.get("/api/v1/pos/shifts", {"store": world.store.code})
    assert {s["id"] for s in r.json()["items"]} == {mine.pk, theirs.pk}
    r = client.get(f"/api/v1/pos/shifts/{theirs.pk}/x-report")
    assert r.status_code == 200 and r.json()["cash"]["expected"] == "2.00"
