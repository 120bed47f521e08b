"""Approval decisions: who may act (every role x scope, own request, out of turn), the
sequential chain, return -> edit -> resubmit, reject, audit rows and the inbox."""

import pytest

from chainstore.core.errors import InvalidState, PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.core.permissions import ALL_SITES_ROLES, ROLES
from chainstore.transfers import selectors
from chainstore.transfers.models import (
    ApprovalStep,
    StepStatus,
    TransferEvent,
    TransferLot,
    TransferStatus,
)
from chainstore.transfers.services import approvals, requests
from chainstore.transfers.services.rules import approver_roles
from chainstore.transfers.tests.test_requests_world import (
    UNIT,
    fresh,
    make_rule,
    make_user,
    request,
    world,
)

pytestmark = pytest.mark.django_db
__all__ = ["world"]


def _state(t):
    """Everything a refused decision must leave as it was."""
    return (
        fresh(t).status,
        list(ApprovalStep.objects.filter(transfer=t).values_list("status", "decided_by_id")),
        TransferEvent.objects.filter(transfer=t).count(),
        AuditEvent.objects.count(),
    )


# -- every role x scope ----------------------------------------------------------------------
@pytest.mark.parametrize("in_scope", [True, False], ids=["in-scope", "out-of-scope"])
@pytest.mark.parametrize("actor_role", ROLES)
@pytest.mark.parametrize("scope", ["destination", "source", "chain"])
@pytest.mark.parametrize("step_role", ["store_manager", "warehouse_manager", "hq_planner", "admin"])
def test_only_the_steps_role_at_the_steps_scope_may_decide(
    world, admin, step_role, scope, actor_role, in_scope
):
    w = world
    make_rule(admin, (step_role, scope))
    t = request(w)
    step_site = {"destination": w.store_a, "source": w.warehouse, "chain": None}[scope]
    home = step_site or w.store_a
    actor = make_user(actor_role, [home] if in_scope else [w.store_c])
    # The rule: the step's role exactly; the step's site in the actor's scope; a chain-wide
    # step needs a chain-wide actor (all-sites roles are in scope of everything).
    all_sites = actor_role in ALL_SITES_ROLES
    allowed = actor_role == step_role and (all_sites or (in_scope and step_site is not None))
    before = _state(t)

    if allowed:
        approvals.approve(t, actor, "同意")
        assert fresh(t).status == TransferStatus.APPROVED
        assert [s.id for s in selectors.inbox(actor)] == []
    else:
        assert selectors.inbox(actor) == []
        with pytest.raises(PermissionDenied) as exc:
            approvals.approve(t, actor, "同意")
        expected = "not_approver_role" if actor_role != step_role else "approval_out_of_scope"
        assert exc.value.code == expected
        assert _state(t) == before


def test_all_sites_profile_may_decide_a_chain_wide_store_manager_step(world, admin):
    w = world
    make_rule(admin, ("store_manager", "chain"))
    t = request(w)
    regional = make_user("store_manager", [w.store_b], all_sites=True)

    assert [s.transfer_id for s in selectors.inbox(regional)] == [t.pk]
    approvals.approve(t, regional)

    assert fresh(t).status == TransferStatus.APPROVED


@pytest.mark.parametrize("role", approver_roles())
def test_nobody_approves_their_own_request_at_any_level(world, admin, role):
    w = world
    requester = make_user(role, [w.store_a])
    make_rule(admin, ("hq_planner", "chain"), (role, "destination"))
    t = request(w, actor=requester)
    hq = make_user("hq_planner")
    approvals.approve(t, hq)  # level 1 by somebody else
    assert selectors.inbox(requester) == []
    before = _state(t)

    with pytest.raises(PermissionDenied) as exc:
        approvals.approve(t, requester)

    assert exc.value.code == "own_request"
    assert _state(t) == before


@pytest.mark.parametrize("decision", ["approve", "reject", "return_for_changes"])
def test_a_later_level_cannot_act_out_of_turn(world, admin, decision):
    w = world
    make_rule(admin, ("store_manager", "destination"), ("hq_planner", "chain"))
    t = request(w)
    hq = make_user("hq_planner")
    later = ApprovalStep.objects.get(transfer=t, seq=2)
    before = _state(t)

    with pytest.raises(InvalidState) as exc:
        getattr(approvals, decision)(later, hq, "太早")
    assert exc.value.code == "not_current_step"
    with pytest.raises(PermissionDenied) as exc2:  # the transfer's current level is not theirs
        getattr(approvals, decision)(t, hq, "太早")
    assert exc2.value.code == "not_approver_role"
    assert _state(t) == before


def test_one_person_decides_one_level_of_a_round(world, admin):
    w = world
    make_rule(admin, ("hq_planner", "chain"), ("hq_planner", "chain"))
    t = request(w)
    first, second = make_user("hq_planner"), make_user("hq_planner")
    approvals.approve(t, first)

    assert selectors.inbox(first) == []
    with pytest.raises(PermissionDenied) as exc:
        approvals.approve(t, first)
    assert exc.value.code == "already_decided_level"
    approvals.approve(t, second)
    assert fresh(t).status == TransferStatus.APPROVED


# -- the example chain: over 10,000 yuan, regional manager then HQ ---------------------------
def test_over_ten_thousand_needs_the_regional_manager_then_hq(world, admin):
    w = world
    make_rule(
        admin,
        ("store_manager", "destination"),
        ("hq_planner", "chain"),
        name="超过一万元",
        min_value_fen=1_000_000,
    )
    regional = make_user("store_manager", [w.store_a, w.store_b])  # several stores
    hq = make_user("hq_planner")

    small = fresh(request(w, units=999))  # 9,990.00 yuan
    assert small.status == TransferStatus.APPROVED

    t = request(w, units=1000)  # 10,000.00 yuan
    assert fresh(t).value_fen == 1_000_000
    assert [s.transfer_id for s in selectors.inbox(regional)] == [t.pk]
    assert selectors.inbox(hq) == [] and selectors.pending_count(hq) == 0

    approvals.approve(t, regional, "区域经理同意")
    assert fresh(t).status == TransferStatus.PENDING_APPROVAL
    assert not TransferLot.objects.filter(line__transfer=t).exists()  # nothing reserved yet
    assert selectors.inbox(regional) == [] and selectors.pending_count(hq) == 1

    approvals.approve(t, hq, "总部同意")
    t = fresh(t)
    assert t.status == TransferStatus.APPROVED and t.approved_at is not None
    steps = list(ApprovalStep.objects.filter(transfer=t).order_by("seq"))
    assert [(s.status, s.decided_by, s.comment) for s in steps] == [
        (StepStatus.APPROVED, regional, "区域经理同意"),
        (StepStatus.APPROVED, hq, "总部同意"),
    ]
    assert TransferLot.objects.filter(line__transfer=t).exists()  # execution reserved it
    trail = list(
        AuditEvent.objects.filter(object_id=str(t.pk), action__startswith="transfer.")
        .order_by("id")
        .values_list("action", "from_state", "to_state", "actor_id")
    )
    assert trail == [
        ("transfer.create", "", "draft", w.requester.pk),
        ("transfer.submit", "draft", "pending_approval", w.requester.pk),
        ("transfer.approved", "pending_approval", "pending_approval", regional.pk),
        ("transfer.approved", "pending_approval", "approved", hq.pk),
    ]
    assert AuditEvent.objects.get(pk=_last_audit(t)).data["comment"] == "总部同意"


def _last_audit(t):
    return (
        AuditEvent.objects.filter(object_id=str(t.pk), action="transfer.approved")
        .order_by("id")
        .last()
        .pk
    )


# -- return and reject -------------------------------------------------------------------------
def test_return_edit_resubmit_starts_round_two_with_fresh_steps(world, admin):
    w = world
    make_rule(admin, ("store_manager", "destination"), ("hq_planner", "chain"))
    manager, hq = make_user("store_manager", [w.store_a]), make_user("hq_planner")
    t = request(w, units=10)
    approvals.approve(t, manager)

    with pytest.raises(ValidationFailed) as exc:
        approvals.return_for_changes(t, hq, "   ")
    assert exc.value.code == "comment_required"
    approvals.return_for_changes(t, hq, "数量太多, 请改为6")
    assert fresh(t).status == TransferStatus.RETURNED
    assert selectors.inbox(hq) == []

    requests.update_transfer(t, actor=w.requester, lines=[(w.milk, 6 * UNIT)])
    requests.submit(t, actor=w.requester)

    t = fresh(t)
    assert t.status == TransferStatus.PENDING_APPROVAL and t.value_fen == 6000
    rows = list(
        ApprovalStep.objects.filter(transfer=t)
        .order_by("round", "seq")
        .values_list("round", "seq", "status", "decided_by_id")
    )
    assert rows == [
        (1, 1, StepStatus.APPROVED, manager.pk),
        (1, 2, StepStatus.RETURNED, hq.pk),
        (2, 1, StepStatus.PENDING, None),
        (2, 2, StepStatus.WAITING, None),
    ]
    detail = selectors.transfer_detail(t)
    assert [r.number for r in detail.rounds] == [2, 1]
    assert detail.current_step.round == 2 and detail.current_step.seq == 1
    approvals.approve(t, manager)  # the same people decide the new round
    approvals.approve(t, hq)
    assert fresh(t).status == TransferStatus.APPROVED


def test_reject_is_final(world, admin):
    w = world
    make_rule(admin, ("store_manager", "destination"), ("hq_planner", "chain"))
    manager = make_user("store_manager", [w.store_a])
    t = request(w)

    with pytest.raises(ValidationFailed):
        approvals.reject(t, manager, "")
    approvals.reject(t, manager, "库存充足, 不需要")

    t = fresh(t)
    assert t.status == TransferStatus.REJECTED
    assert AuditEvent.objects.filter(
        action="transfer.rejected", from_state="pending_approval", to_state="rejected"
    ).exists()
    for attempt in (
        lambda: requests.submit(t, actor=w.requester),
        lambda: requests.update_transfer(t, actor=w.requester, reason="再试"),
        lambda: approvals.approve(t, make_user("hq_planner")),
    ):
        with pytest.raises(InvalidState):
            attempt()
    assert [e.kind for e in t.events.all()][-1] == "rejected"


def test_editing_a_rule_does_not_change_a_chain_in_flight(world, admin):
    w = world
    rule = make_rule(admin, ("store_manager", "destination"))
    t = request(w)
    rule.delete()

    assert ApprovalStep.objects.get(transfer=t).role == "store_manager"
    approvals.approve(t, make_user("store_manager", [w.store_a]))
    assert fresh(t).status == TransferStatus.APPROVED
