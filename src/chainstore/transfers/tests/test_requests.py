"""Transfer requests through the services: create, kinds and who may ask, edit, submit
(value, rule copy, automatic approval), cancel, and the suggestion from a safety-stock alert."""

import datetime as dt

import pytest

from chainstore.core.errors import InvalidState, PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_bin, stock
from chainstore.core.tests.helpers import reserved
from chainstore.inventory.models import Reservation, ReservationStatus
from chainstore.inventory.services import set_safety_stock
from chainstore.transfers.models import (
    ApprovalStep,
    StepStatus,
    TransferKind,
    TransferLot,
    TransferStatus,
)
from chainstore.transfers.services import approvals, requests
from chainstore.transfers.tests.test_requests_world import (
    UNIT,
    fresh,
    make_rule,
    make_user,
    request,
    site,
    world,
)

pytestmark = pytest.mark.django_db
__all__ = ["world"]


def test_draft_request_gets_a_number_lines_event_and_audit(world):
    w = world

    t = request(w, units=3, submit=False, needed_by=dt.date(2026, 12, 1))

    t = fresh(t)
    assert t.number.startswith("TR") and t.status == TransferStatus.DRAFT
    assert t.kind == TransferKind.REPLENISHMENT and t.requested_by == w.requester
    assert [(ln.sku, ln.quantity) for ln in t.lines.all()] == [(w.milk, 3 * UNIT)]
    assert list(t.events.values_list("kind", flat=True)) == ["requested"]
    assert AuditEvent.objects.filter(action="transfer.create", object_id=str(t.pk)).count() == 1


def test_repeated_skus_are_added_up_and_bad_lines_refused(world):
    w = world
    t = requests.create_transfer(
        source=w.warehouse,
        destination=w.store_a,
        lines=[(w.milk, 2 * UNIT), (w.soap, UNIT), (w.milk, 500)],
        actor=w.requester,
    )
    assert sorted((ln.sku.code, ln.quantity) for ln in t.lines.all()) == sorted(
        [(w.milk.code, 2500), (w.soap.code, UNIT)]
    )
    for lines, code in (([], "empty_document"), ([(w.milk, 0)], "invalid_quantity")):
        with pytest.raises(ValidationFailed) as exc:
            requests.create_transfer(
                source=w.warehouse, destination=w.store_a, lines=lines, actor=w.requester
            )
        assert exc.value.code == code


@pytest.mark.parametrize(
    ("route", "actor_site", "kind"),
    [
        (("warehouse", "store_a"), "store_a", TransferKind.REPLENISHMENT),
        (("warehouse", "store_a"), "warehouse", TransferKind.PUSH),
        (("store_b", "store_a"), "store_a", TransferKind.STORE_TO_STORE),
        (("store_b", "store_a"), "store_b", TransferKind.STORE_TO_STORE),
    ],
)
def test_kind_follows_the_sites_and_the_requesters_end(world, route, actor_site, kind):
    w = world
    role = "warehouse_manager" if actor_site == "warehouse" else "store_manager"
    actor = make_user(role, [getattr(w, actor_site)])
    source, destination = (getattr(w, name) for name in route)

    t = requests.create_transfer(
        source=source, destination=destination, lines=[(w.milk, UNIT)], actor=actor
    )

    assert t.kind == kind


def test_warehouse_to_warehouse_and_store_to_warehouse(world, admin):
    w = world
    rdc = site(admin, "rdc", "32.000000", "120.000000")
    t = requests.create_transfer(
        source=w.warehouse, destination=rdc, lines=[(w.milk, UNIT)], actor=admin
    )
    assert t.kind == TransferKind.WAREHOUSE_TO_WAREHOUSE
    with pytest.raises(ValidationFailed) as exc:
        requests.create_transfer(
            source=w.store_a, destination=w.warehouse, lines=[(w.milk, UNIT)], actor=admin
        )
    assert exc.value.code == "unsupported_route"


@pytest.mark.parametrize(
    ("role", "at", "code"),
    [
        ("store_manager", "store_b", "site_out_of_scope"),  # replenishment for someone else
        ("cashier", "store_a", "permission_denied"),
        ("warehouse_operator", "warehouse", "permission_denied"),
        ("auditor", None, "permission_denied"),
    ],
)
def test_who_may_not_request(world, role, at, code):
    w = world
    actor = make_user(role, [getattr(w, at)] if at else [])
    before = AuditEvent.objects.count()

    with pytest.raises(PermissionDenied) as exc:
        requests.create_transfer(
            source=w.warehouse, destination=w.store_a, lines=[(w.milk, UNIT)], actor=actor
        )

    assert exc.value.code == code
    assert AuditEvent.objects.count() == before


def test_submit_without_matching_rule_approves_and_reserves_at_once(world):
    w = world

    t = fresh(request(w, units=4))

    assert t.status == TransferStatus.APPROVED and t.approved_at is not None
    assert t.value_fen == 4 * 1000  # 4 units at 10.00 yuan
    assert not ApprovalStep.objects.filter(transfer=t).exists()
    assert sum(TransferLot.objects.filter(line__transfer=t).values_list("quantity", flat=True)) == (
        4 * UNIT
    )
    kinds = list(t.events.values_list("kind", flat=True))
    assert kinds[:3] == ["requested", "submitted", "approved"] and "reserved" in kinds


def test_submit_copies_the_rules_levels_into_round_one(world, admin):
    w = world
    make_rule(admin, ("store_manager", "destination"), ("hq_planner", "chain"))

    t = fresh(request(w))

    steps = list(ApprovalStep.objects.filter(transfer=t).order_by("seq"))
    assert t.status == TransferStatus.PENDING_APPROVAL
    assert [(s.round, s.seq, s.role, s.scope_site_id, s.status) for s in steps] == [
        (1, 1, "store_manager", w.store_a.pk, StepStatus.PENDING),
        (1, 2, "hq_planner", None, StepStatus.WAITING),
    ]


def test_source_scope_level_is_scoped_to_the_source(world, admin):
    w = world
    make_rule(admin, ("warehouse_manager", "source"))

    t = request(w)

    assert ApprovalStep.objects.get(transfer=t).scope_site_id == w.warehouse.pk


def test_editing_is_for_the_requester_while_draft_or_returned(world, admin):
    w = world
    t = request(w, submit=False)
    other = make_user("store_manager", [w.store_a])

    with pytest.raises(PermissionDenied) as exc:
        requests.update_transfer(t, actor=other, reason="x")
    assert exc.value.code == "not_requester"

    requests.update_transfer(
        t, actor=w.requester, lines=[(w.soap, 7 * UNIT)], reason="门店促销", needed_by=None
    )
    t = fresh(t)
    assert [(ln.sku, ln.quantity) for ln in t.lines.all()] == [(w.soap, 7 * UNIT)]
    assert t.reason == "门店促销"
    assert AuditEvent.objects.filter(action="transfer.update", object_id=str(t.pk)).exists()

    requests.submit(t, actor=w.requester)  # no rule -> approved
    with pytest.raises(InvalidState) as exc:
        requests.update_transfer(t, actor=w.requester, reason="late")
    assert exc.value.code == "not_editable"


def test_cancel_after_approval_releases_the_reservation(world):
    w = world
    t = request(w, units=5)
    lot = TransferLot.objects.get(line__transfer=t)
    assert reserved(lot.location, w.milk) == 5 * UNIT

    requests.cancel_transfer(t, actor=w.requester, reason="不需要了")

    assert fresh(t).status == TransferStatus.CANCELLED
    assert reserved(lot.location, w.milk) == 0
    assert Reservation.objects.get(pk=lot.reservation_id).status == ReservationStatus.RELEASED
    assert AuditEvent.objects.filter(
        action="transfer.cancel", from_state="approved", to_state="cancelled"
    ).exists()


def test_cancel_pending_supersedes_open_steps_and_outsiders_are_refused(world, admin):
    w = world
    make_rule(admin, ("store_manager", "destination"))
    t = request(w)
    outsider = make_user("store_manager", [w.store_c])

    with pytest.raises(PermissionDenied):
        requests.cancel_transfer(t, actor=outsider)
    requests.cancel_transfer(t, actor=w.requester)

    assert list(ApprovalStep.objects.filter(transfer=t).values_list("status", flat=True)) == [
        StepStatus.SUPERSEDED
    ]
    with pytest.raises(InvalidState):
        approvals.approve(t, make_user("store_manager", [w.store_a]))


# -- suggestion from the safety-stock alert ---------------------------------------------------
def test_suggestion_prefers_a_warehouse_that_covers_the_gap(world, admin):
    w = world
    set_safety_stock(site=w.store_a, sku=w.milk, quantity=12_500, actor=admin)
    stock(admin, w.store_a, w.milk, 2 * UNIT, location=make_bin(admin, w.store_a))
    stock(admin, w.store_b, w.milk, 50 * UNIT, location=make_bin(admin, w.store_b))  # nearer

    s = requests.suggest_from_alert(site=w.store_a, sku=w.milk, actor=w.requester)

    assert s.available == 2 * UNIT
    assert s.quantity == 11 * UNIT  # 10.5 short, rounded up to whole units
    assert s.source == w.warehouse
    assert [o.site for o in s.options] == [w.warehouse, w.store_b]


def test_suggestion_falls_back_to_the_nearest_store_that_covers_it(world, admin):
    w = world
    set_safety_stock(site=w.store_a, sku=w.milk, quantity=6000 * UNIT, actor=admin)
    stock(admin, w.store_c, w.milk, 7000 * UNIT, location=make_bin(admin, w.store_c))
    stock(admin, w.store_b, w.milk, 30 * UNIT, location=make_bin(admin, w.store_b))

    s = requests.suggest_from_alert(site=w.store_a, sku=w.milk, actor=w.requester)

    # the near store B (30) cannot cover 6000; the warehouse (5000) neither; far C can
    assert s.quantity == 6000 * UNIT and s.source == w.store_c


def test_suggestion_without_a_gap_asks_for_one_unit_and_needs_scope(world, admin):
    w = world
    s = requests.suggest_from_alert(site=w.store_a, sku=w.soap, actor=w.requester)
    assert s.quantity == UNIT and s.source == w.warehouse
    with pytest.raises(PermissionDenied):
        requests.suggest_from_alert(site=w.store_b, sku=w.soap, actor=w.requester)
