"""The requests / approvals / rules API through the mounted URLs (auth + error handler)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from chainstore.core.models import AuditEvent
from chainstore.core.tests.helpers import API
from chainstore.inventory.services import set_safety_stock
from chainstore.transfers.models import ApprovalRule, ApprovalStep, Transfer, TransferStatus
from chainstore.transfers.tests.test_requests_world import make_rule, make_user, request, world

pytestmark = pytest.mark.django_db
__all__ = ["world"]

T = API + "/transfers"


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def _json(client, method, path, body=None):
    return getattr(client, method)(T + path, body or {}, content_type="application/json")


def _body(w, **extra):
    body = {
        "source": w.warehouse.code,
        "destination": w.store_a.code,
        "needed_by": "2026-12-01",
        "reason": "周末促销备货",
        "lines": [{"sku": w.milk.code, "quantity": "12.5"}],
    }
    body.update(extra)
    return body


def test_create_draft_201_read_patch_submit(world):
    w = world
    c = client_for(w.requester)

    r = _json(c, "post", "", _body(w))
    assert r.status_code == 201, r.content
    data = r.json()
    number = data["number"]
    assert data["status"] == "draft" and data["kind"] == "replenishment"
    assert data["lines"][0] | {"name": ""} == {
        "sku": w.milk.code,
        "name": "",
        "quantity": "12.500",
        "shipped": "0.000",
        "received": "0.000",
        "damaged": "0.000",
        "resolved": "0.000",
        "in_transit": "0.000",
    }

    r = _json(c, "patch", f"/{number}", {"lines": [{"sku": w.soap.code, "quantity": "3"}]})
    assert r.status_code == 200 and [ln["sku"] for ln in r.json()["lines"]] == [w.soap.code]
    assert r.json()["needed_by"] == "2026-12-01"  # left out -> unchanged

    r = _json(c, "post", f"/{number}/submit")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert r.json()["value"] == "6.00"
    assert [e["kind"] for e in r.json()["events"]][:4] == [
        "requested",
        "edited",
        "submitted",
        "approved",
    ]
    assert c.get(f"{T}/{number}").status_code == 200
    listed = c.get(T, {"status": "approved"}).json()
    assert [t["number"] for t in listed["items"]] == [number]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"source": "NOPE"}, 404, "site_not_found"),
        ({"lines": [{"sku": "NOPE", "quantity": "1"}]}, 422, "unknown_sku"),
        ({"lines": [{"sku": "X", "quantity": "0"}]}, 422, "validation_error"),
        ({"lines": []}, 422, "validation_error"),
        ({"destination": "SAME"}, 422, "same_site"),
    ],
)
def test_create_refusals(world, change, status, code):
    w = world
    if change.get("destination") == "SAME":
        change = {"destination": w.warehouse.code}
    before = (Transfer.objects.count(), AuditEvent.objects.count())

    r = _json(client_for(w.requester), "post", "", _body(w, **change))

    assert (r.status_code, r.json()["code"]) == (status, code)
    assert (Transfer.objects.count(), AuditEvent.objects.count()) == before


def test_scope_and_role_refusals(world):
    w = world
    outsider = client_for(make_user("store_manager", [w.store_b]))
    cashier = client_for(make_user("cashier", [w.store_a]))

    assert _json(outsider, "post", "", _body(w)).json()["code"] == "site_out_of_scope"
    assert _json(cashier, "post", "", _body(w)).status_code == 403
    t = request(w, submit=False)
    assert outsider.get(f"{T}/{t.number}").status_code == 403
    assert cashier.get(T).status_code == 403
    assert Client().get(T).status_code == 401
    assert client_for(w.requester).get(f"{T}/TR99999999").status_code == 404


def test_two_level_chain_over_the_api(world, admin):
    w = world
    make_rule(admin, ("store_manager", "destination"), ("hq_planner", "chain"))
    regional = client_for(make_user("store_manager", [w.store_a, w.store_b]))
    hq_user = make_user("hq_planner")
    hq = client_for(hq_user)
    number = _json(client_for(w.requester), "post", "", _body(w, submit=True)).json()["number"]

    inbox = regional.get(T + "/approvals/inbox").json()
    assert [i["transfer"]["number"] for i in inbox] == [number]
    assert inbox[0]["step"]["level"] == 1 and inbox[0]["step"]["scope_site"] == w.store_a.code
    assert hq.get(T + "/approvals/inbox").json() == []

    early = _json(hq, "post", f"/{number}/approve", {"comment": "ok"})
    assert (early.status_code, early.json()["code"]) == (403, "not_approver_role")
    own = _json(client_for(w.requester), "post", f"/{number}/approve")
    assert own.status_code == 403
    no_comment = _json(regional, "post", f"/{number}/reject", {"comment": ""})
    assert (no_comment.status_code, no_comment.json()["code"]) == (422, "comment_required")

    step1 = inbox[0]["step"]["id"]
    assert _json(regional, "post", f"/{number}/approve", {"step": step1}).status_code == 200
    stale = _json(hq, "post", f"/{number}/approve", {"step": step1})
    assert (stale.status_code, stale.json()["code"]) == (409, "not_current_step")
    r = _json(hq, "post", f"/{number}/approve", {"comment": "总部同意"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert [s["status"] for s in r.json()["steps"]] == ["approved", "approved"]


def test_return_then_resubmit_and_cancel(world, admin):
    w = world
    make_rule(admin, ("hq_planner", "chain"))
    hq = client_for(make_user("hq_planner"))
    me = client_for(w.requester)
    number = _json(me, "post", "", _body(w, submit=True)).json()["number"]

    assert _json(hq, "post", f"/{number}/return", {"comment": "改数量"}).status_code == 200
    assert _json(me, "patch", f"/{number}", {"reason": "改好了"}).status_code == 200
    r = _json(me, "post", f"/{number}/submit")
    assert [(s["round"], s["status"]) for s in r.json()["steps"]] == [
        (2, "pending"),
        (1, "returned"),
    ]
    r = _json(me, "post", f"/{number}/cancel", {"reason": "不要了"})
    assert r.json()["status"] == "cancelled"
    again = _json(me, "post", f"/{number}/cancel")
    assert (again.status_code, again.json()["code"]) == (409, "not_cancellable")


def test_rules_crud(world, admin):
    w = world
    planner = client_for(make_user("hq_planner"))
    body = {
        "name": "超过一万元",
        "priority": 10,
        "min_value": "10000",
        "destination_sites": [w.store_a.code],
        "categories": [w.food.code],
        "levels": [
            {"role": "store_manager", "scope": "destination", "name": "区域经理"},
            {"role": "hq_planner", "scope": "chain", "name": "总部"},
        ],
    }
    r = _json(planner, "post", "/approval-rules", body)
    assert r.status_code == 201, r.content
    rule = r.json()
    assert rule["min_value"] == "10000.00" and [lv["seq"] for lv in rule["levels"]] == [1, 2]

    bad = _json(
        planner,
        "post",
        "/approval-rules",
        {**body, "levels": [{"role": "cashier", "scope": "chain"}]},
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "role_cannot_approve")
    unknown = _json(planner, "post", "/approval-rules", {**body, "source_sites": ["NOPE"]})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_site")

    body["levels"] = body["levels"][1:]
    r = _json(planner, "put", f"/approval-rules/{rule['id']}", body)
    assert r.status_code == 200 and len(r.json()["levels"]) == 1
    assert [x["id"] for x in planner.get(T + "/approval-rules").json()] == [rule["id"]]
    manager = client_for(w.requester)
    assert manager.get(T + "/approval-rules").status_code == 403
    assert _json(manager, "delete", f"/approval-rules/{rule['id']}").status_code == 403
    assert _json(planner, "delete", f"/approval-rules/{rule['id']}").status_code == 204
    assert not ApprovalRule.objects.exists()
    assert ApprovalStep.objects.count() == 0


def test_suggestion(world, admin):
    w = world
    set_safety_stock(site=w.store_a, sku=w.milk, quantity=4500, actor=admin)
    c = client_for(w.requester)

    r = c.get(T + "/suggestions", {"site": w.store_a.code, "sku": w.milk.code})

    assert r.status_code == 200
    assert r.json()["quantity"] == "5.000" and r.json()["source"] == w.warehouse.code
    assert (
        c.get(T + "/suggestions", {"site": w.store_b.code, "sku": w.milk.code}).status_code == 403
    )
    assert TransferStatus.DRAFT == "draft"


def _queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(T + path).status_code == 200
    return len(ctx.captured_queries)


def test_list_and_inbox_query_counts_do_not_grow_with_transfers(world, admin):
    w = world
    make_rule(admin, ("hq_planner", "chain"))
    hq = client_for(make_user("hq_planner"))
    for _ in range(2):
        request(w)
    few = (_queries(hq, ""), _queries(hq, "/approvals/inbox"))
    for _ in range(5):
        request(w)
    many = (_queries(hq, ""), _queries(hq, "/approvals/inbox"))

    assert many == few
    assert hq.get(T).json()["count"] == 7
