"""Approval rules: validation, each condition, priority, subcategories, and a property:
matching_rule equals a brute-force filter over random rules."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainstore.catalog.services import create_category
from chainstore.core.errors import PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.transfers.models import ApprovalRule, TransferKind
from chainstore.transfers.services import requests, rules
from chainstore.transfers.services.rules import LevelInput, RuleInput, matching_rule
from chainstore.transfers.tests.test_requests_world import (
    UNIT,
    make_rule,
    make_user,
    request,
    world,
)

pytestmark = pytest.mark.django_db
__all__ = ["world"]

HQ = ("hq_planner", "chain")


def _draft(w, units=10, sku=None, **kw):
    """A draft valued like a submission (rules read value_fen)."""
    t = request(w, units=units, sku=sku, submit=False, **kw)
    t.value_fen = requests.transfer_value_fen(t)
    return t


# -- validation --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("levels", "code"),
    [
        ([], "rule_levels_required"),
        ([LevelInput("boss", "chain")], "unknown_role"),
        ([LevelInput("cashier", "destination")], "role_cannot_approve"),
        ([LevelInput("auditor", "chain")], "role_cannot_approve"),
        ([LevelInput("hq_planner", "region")], "unknown_scope"),
        (
            [LevelInput("hq_planner", "chain", seq=1), LevelInput("admin", "chain", seq=3)],
            "levels_not_contiguous",
        ),
    ],
)
def test_invalid_rules_are_refused_and_nothing_is_written(admin, levels, code):
    before = (ApprovalRule.objects.count(), AuditEvent.objects.count())

    with pytest.raises(ValidationFailed) as exc:
        rules.create_rule(actor=admin, data=RuleInput(name="x", levels=levels))

    assert exc.value.code == code
    assert (ApprovalRule.objects.count(), AuditEvent.objects.count()) == before


def test_levels_are_stored_in_their_given_order(admin):
    rule = rules.create_rule(
        actor=admin,
        data=RuleInput(
            name="两级",
            levels=[
                LevelInput("hq_planner", "chain", "总部", seq=2),
                LevelInput("store_manager", "destination", "区域经理", seq=1),
            ],
        ),
    )
    assert list(rule.levels.values_list("seq", "role", "name")) == [
        (1, "store_manager", "区域经理"),
        (2, "hq_planner", "总部"),
    ]
    assert AuditEvent.objects.filter(action="approval_rule.create", object_id=str(rule.pk)).exists()


def test_only_rules_permission_may_manage_rules(world, admin):
    w = world
    rule = make_rule(admin, HQ)
    for role in ("store_manager", "warehouse_manager", "auditor"):
        actor = make_user(role, [w.store_a])
        with pytest.raises(PermissionDenied):
            rules.create_rule(actor=actor, data=RuleInput(name="x", levels=[LevelInput(*HQ)]))
        with pytest.raises(PermissionDenied):
            rules.delete_rule(rule, actor=actor)
    planner = make_user("hq_planner")
    rules.update_rule(
        rule, actor=planner, data=RuleInput(name="新", levels=[LevelInput("admin", "chain")])
    )
    assert list(rule.levels.values_list("role", flat=True)) == ["admin"]
    rules.delete_rule(rule, actor=planner)
    assert not ApprovalRule.objects.filter(pk=rule.pk).exists()


# -- each condition ----------------------------------------------------------------------------
def test_value_threshold(world, admin):
    w = world
    rule = make_rule(admin, HQ, min_value_fen=100_000)  # 1,000 yuan
    assert matching_rule(_draft(w, units=99)) is None  # 990 yuan
    assert matching_rule(_draft(w, units=100)) == rule


def test_quantity_threshold(world, admin):
    w = world
    rule = make_rule(admin, HQ, min_quantity=50 * UNIT)
    assert matching_rule(_draft(w, units=49, sku=w.soap)) is None
    assert matching_rule(_draft(w, units=50, sku=w.soap)) == rule


def test_kinds(world, admin):
    w = world
    rule = make_rule(admin, HQ, kinds=[TransferKind.STORE_TO_STORE])
    assert matching_rule(_draft(w)) is None
    assert matching_rule(_draft(w, source=w.store_b)) == rule


def test_source_and_destination_sites(world, admin):
    w = world
    by_source = make_rule(admin, HQ, source_sites=[w.store_b], priority=1)
    by_destination = make_rule(admin, HQ, destination_sites=[w.store_a], priority=2)
    manager_c = make_user("store_manager", [w.store_c])
    assert matching_rule(_draft(w, source=w.store_b)) == by_source
    assert matching_rule(_draft(w)) == by_destination
    assert matching_rule(_draft(w, destination=w.store_c, actor=manager_c)) is None


def test_categories_include_subcategories(world, admin):
    w = world
    rule = make_rule(admin, HQ, categories=[w.food])  # milk is in dairy, under food
    assert matching_rule(_draft(w, sku=w.milk)) == rule
    assert matching_rule(_draft(w, sku=w.soap)) is None
    other = create_category(code="HOME", name="家居", actor=admin)
    narrow = make_rule(admin, HQ, categories=[other], priority=1)
    assert matching_rule(_draft(w, sku=w.milk)) == rule
    assert narrow != rule


def test_every_set_condition_must_hold(world, admin):
    w = world
    make_rule(admin, HQ, min_value_fen=100_000, categories=[w.dairy])
    assert matching_rule(_draft(w, units=200, sku=w.soap)) is None  # value yes, category no
    assert matching_rule(_draft(w, units=1, sku=w.milk)) is None  # category yes, value no


def test_lowest_priority_number_then_oldest_wins_and_inactive_rules_never(world, admin):
    w = world
    make_rule(admin, HQ, name="late", priority=50)
    first = make_rule(admin, HQ, name="first", priority=10)
    make_rule(admin, HQ, name="tie", priority=10)
    make_rule(admin, HQ, name="off", priority=1, is_active=False)
    assert matching_rule(_draft(w)) == first


# -- property: matching_rule == brute force --------------------------------------------------
_KINDS = list(TransferKind.values)


def _rule_strategy():
    return st.fixed_dictionaries(
        {
            "priority": st.integers(0, 4),
            "is_active": st.booleans(),
            "min_value_fen": st.none() | st.sampled_from([0, 5_000, 20_000, 100_000]),
            "min_quantity": st.none() | st.sampled_from([0, 3 * UNIT, 10 * UNIT, 30 * UNIT]),
            "kinds": st.lists(st.sampled_from(_KINDS), max_size=2, unique=True),
            "sources": st.lists(st.sampled_from(["warehouse", "store_b"]), max_size=2, unique=True),
            "destinations": st.lists(
                st.sampled_from(["store_a", "store_b", "store_c"]), max_size=2, unique=True
            ),
            "categories": st.lists(st.sampled_from(["food", "dairy"]), max_size=2, unique=True),
        }
    )


def _brute_force(specs, ids, t, total, category_ids, subtree):
    hits = []
    for spec, rule_id in zip(specs, ids, strict=True):
        ok = (
            spec["is_active"]
            and (spec["min_value_fen"] is None or t.value_fen >= spec["min_value_fen"])
            and (spec["min_quantity"] is None or total >= spec["min_quantity"])
            and (not spec["kinds"] or t.kind in spec["kinds"])
            and (not spec["sources"] or t.source_id in spec["sources"])
            and (not spec["destinations"] or t.destination_id in spec["destinations"])
            and (
                not spec["categories"] or any(subtree[c] & category_ids for c in spec["categories"])
            )
        )
        if ok:
            hits.append((spec["priority"], rule_id))
    return min(hits)[1] if hits else None


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    specs=st.lists(_rule_strategy(), max_size=6),
    units=st.integers(1, 40),
    sku_name=st.sampled_from(["milk", "soap"]),
    route=st.sampled_from(
        [("warehouse", "store_a"), ("store_b", "store_a"), ("warehouse", "store_b")]
    ),
)
def test_matching_rule_equals_a_brute_force_filter(world, admin, specs, units, sku_name, route):
    w = world
    ApprovalRule.objects.all().delete()
    source, destination = (getattr(w, name) for name in route)
    actor = make_user("hq_planner")
    t = _draft(w, units=units, sku=getattr(w, sku_name), actor=actor, source=source)
    if destination != w.store_a:
        t.destination = destination
    ids = []
    for spec in specs:
        rule = make_rule(
            admin,
            HQ,
            priority=spec["priority"],
            is_active=spec["is_active"],
            min_value_fen=spec["min_value_fen"],
            min_quantity=spec["min_quantity"],
            kinds=spec["kinds"],
            source_sites=[getattr(w, s) for s in spec["sources"]],
            destination_sites=[getattr(w, s) for s in spec["destinations"]],
            categories=[getattr(w, c) for c in spec["categories"]],
        )
        ids.append(rule.pk)
    resolved = [
        {
            **spec,
            "sources": [getattr(w, s).pk for s in spec["sources"]],
            "destinations": [getattr(w, s).pk for s in spec["destinations"]],
        }
        for spec in specs
    ]
    subtree = {"food": {w.food.pk, w.dairy.pk}, "dairy": {w.dairy.pk}}
    category = getattr(w, sku_name).category_id
    expected = _brute_force(
        resolved, ids, t, units * UNIT, {category} if category else set(), subtree
    )

    found = matching_rule(t)

    assert (found.pk if found else None) == expected
