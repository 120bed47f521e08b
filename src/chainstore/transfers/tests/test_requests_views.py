"""Screens: list, new (also prefilled from a safety-stock alert), detail, decide from the
inbox, rules form; refusals are 403 pages and change nothing."""

import pytest
from django.test import Client
from django.urls import reverse

from chainstore.core.models import AuditEvent
from chainstore.inventory.services import set_safety_stock
from chainstore.transfers.models import ApprovalRule, Transfer, TransferStatus
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


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def test_pages_render_for_a_store_manager(world, admin):
    w = world
    make_rule(admin, ("hq_planner", "chain"))
    t = request(w)
    c = client_for(w.requester)

    for name, args in (("index", []), ("new", []), ("detail", [t.number]), ("inbox", [])):
        r = c.get(reverse(f"transfers:{name}", args=args))
        assert r.status_code == 200, name
    page = c.get(reverse("transfers:index")).content.decode()
    assert t.number in page and 'data-testid="new-transfer"' in page
    detail = c.get(reverse("transfers:detail", args=[t.number])).content.decode()
    assert 'data-testid="step"' in detail and 'data-testid="approve"' not in detail


def test_new_request_prefilled_from_the_alert(world, admin):
    w = world
    set_safety_stock(site=w.store_a, sku=w.milk, quantity=7200, actor=admin)

    r = client_for(w.requester).get(
        reverse("transfers:new"), {"site": w.store_a.code, "sku": w.milk.code}
    )

    assert r.status_code == 200
    s = r.context["suggestion"]
    assert s.quantity == 8 * UNIT and s.source == w.warehouse
    assert r.context["lines"] == [{"sku": w.milk.code, "name": w.milk.name, "quantity": "8"}]
    assert r.context["form"].initial["source"] == w.warehouse.code


def test_post_new_submits_and_redirects_to_detail(world):
    w = world
    c = client_for(w.requester)

    r = c.post(
        reverse("transfers:new"),
        {
            "source": w.warehouse.code,
            "destination": w.store_a.code,
            "needed_by": "2026-12-01",
            "reason": "补货",
            "line_sku": [w.milk.code, w.soap.code],
            "line_quantity": ["2", "1.5"],
            "action": "submit",
        },
    )

    t = Transfer.objects.get()
    assert r.status_code == 302 and r.url == reverse("transfers:detail", args=[t.number])
    assert t.status == TransferStatus.APPROVED
    assert sorted(t.lines.values_list("quantity", flat=True)) == [1500, 2000]


def test_post_new_with_an_unknown_sku_shows_the_form_again(world):
    w = world
    r = client_for(w.requester).post(
        reverse("transfers:new"),
        {
            "source": w.warehouse.code,
            "destination": w.store_a.code,
            "line_sku": ["NOPE"],
            "line_quantity": ["2"],
        },
    )
    assert r.status_code == 422 and not Transfer.objects.exists()
    assert r.context["lines"] == [{"sku": "NOPE", "quantity": "2"}]


def test_decide_from_the_inbox(world, admin):
    w = world
    make_rule(admin, ("store_manager", "destination"), ("hq_planner", "chain"))
    t = request(w)
    regional = client_for(make_user("store_manager", [w.store_a, w.store_b]))
    page = regional.get(reverse("transfers:inbox")).content.decode()
    assert t.number in page and 'data-testid="approve"' in page
    step = t.steps.get(seq=1)

    r = regional.post(
        reverse("transfers:decide", args=[t.number]),
        {"decision": "approve", "step": step.pk, "comment": "同意", "next": "inbox"},
    )

    assert r.status_code == 302 and r.url == reverse("transfers:inbox")
    assert t.steps.get(seq=1).status == "approved" and t.steps.get(seq=2).status == "pending"
    hq = client_for(make_user("hq_planner"))
    # return without a comment is refused (a message), with one it returns
    hq.post(reverse("transfers:decide", args=[t.number]), {"decision": "return"})
    assert fresh(t).status == TransferStatus.PENDING_APPROVAL
    hq.post(reverse("transfers:decide", args=[t.number]), {"decision": "return", "comment": "改"})
    assert fresh(t).status == TransferStatus.RETURNED


def test_requester_edits_a_returned_request_and_resubmits(world, admin):
    w = world
    make_rule(admin, ("hq_planner", "chain"))
    t = request(w)
    from chainstore.transfers.services import approvals

    approvals.return_for_changes(t, make_user("hq_planner"), "少一点")
    c = client_for(w.requester)
    assert c.get(reverse("transfers:edit", args=[t.number])).status_code == 200

    c.post(
        reverse("transfers:edit", args=[t.number]),
        {
            "source": w.warehouse.code,
            "destination": w.store_a.code,
            "line_sku": [w.milk.code],
            "line_quantity": ["3"],
            "action": "submit",
        },
    )

    t = fresh(t)
    assert t.status == TransferStatus.PENDING_APPROVAL
    assert list(t.steps.values_list("round", flat=True).order_by("round")) == [1, 2]


def test_rules_page_creates_a_two_level_rule(world):
    w = world
    planner = client_for(make_user("hq_planner"))
    assert planner.get(reverse("transfers:rules")).status_code == 200

    r = planner.post(
        reverse("transfers:rules"),
        {
            "name": "超过一万元",
            "priority": "10",
            "is_active": "on",
            "min_value": "10000",
            "destination_sites": w.store_a.code,
            "categories": [w.food.code],
            "level_role": ["store_manager", "hq_planner"],
            "level_scope": ["destination", "chain"],
            "level_name": ["区域经理", "总部"],
        },
    )

    assert r.status_code == 302
    rule = ApprovalRule.objects.get()
    assert rule.min_value_fen == 1_000_000 and list(rule.categories.all()) == [w.food]
    assert list(rule.levels.values_list("seq", "role", "scope")) == [
        (1, "store_manager", "destination"),
        (2, "hq_planner", "chain"),
    ]
    edit = planner.get(reverse("transfers:rule_edit", args=[rule.pk]))
    assert edit.status_code == 200 and edit.context["values"]["min_value"] == "10000.00"
    bad = planner.post(
        reverse("transfers:rule_edit", args=[rule.pk]),
        {"name": "x", "priority": "1", "level_role": ["cashier"], "level_scope": ["chain"]},
    )
    assert bad.status_code == 422 and ApprovalRule.objects.get().name == "超过一万元"
    planner.post(reverse("transfers:rule_delete", args=[rule.pk]))
    assert not ApprovalRule.objects.exists()


def test_refusals_are_403_pages_and_change_nothing(world, admin):
    w = world
    t = request(w, submit=False)
    cashier = client_for(make_user("cashier", [w.store_a]))
    outsider = client_for(make_user("store_manager", [w.store_c]))
    manager = client_for(w.requester)
    before = (Transfer.objects.count(), AuditEvent.objects.count())

    assert cashier.get(reverse("transfers:index")).status_code == 403
    assert cashier.get(reverse("transfers:new")).status_code == 403
    assert outsider.get(reverse("transfers:detail", args=[t.number])).status_code == 403
    assert outsider.post(reverse("transfers:cancel", args=[t.number])).status_code == 403
    assert manager.get(reverse("transfers:rules")).status_code == 403
    assert manager.get(reverse("transfers:inbox")).status_code == 200
    assert cashier.get(reverse("transfers:inbox")).status_code == 403
    assert Client().get(reverse("transfers:index")).status_code == 302  # to the login
    assert manager.get("/transfers/TR999999/").status_code == 404
    assert (Transfer.objects.count(), AuditEvent.objects.count()) == before
    assert fresh(t).status == TransferStatus.DRAFT
