"""The returns API: preview and return through the mounted URLs (auth, error handler),
the 满减 example in yuan strings, replay, 409 over-return and permission refusals."""

import pytest

from chainstore.core.tests.helpers import snapshot
from chainstore.inventory.verify import verify_ledger
from chainstore.pos.models import Sale, SaleLine
from chainstore.pos.services import shifts
from chainstore.pos.tests.returns_world import (
    add_sku,
    make_member,
    make_world,
    post,
    sell,
    threshold,
)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/pos"


@pytest.fixture
def world(admin):
    w = make_world(admin)
    add_sku(w, "A", 8_000)
    add_sku(w, "B", 4_000)
    threshold("MJ100", [("100", "20")], name="满100减20")
    shifts.open_shift(store=w.store, till=w.tills[0], opening_float_fen=0, actor=w.cashier)
    return w


@pytest.fixture
def sale(world):
    return sell(world, world.tills[0], world.cashier, [(world.skus["A"], 1), (world.skus["B"], 1)])


def _body(world, sale, **kw):
    body = {
        "store": world.store.code,
        "till": "T01",
        "original": sale.number,
        "lines": [{"line_no": 2, "quantity": "1", "condition": "sellable"}],
        "reason": "尺码不合适",
    }
    body.update(kw)
    return body


def test_preview_then_return_the_worked_example(client, world, sale):
    client.force_login(world.cashier)
    before = snapshot()

    r = post(client, f"{BASE}/returns/preview", _body(world, sale))

    assert r.status_code == 200, r.content
    preview = r.json()
    assert (preview["refund_total"], preview["recovered_total"]) == ("20.00", "13.33")
    assert preview["recovered"][0]["promotion"] == "MJ100"
    assert preview["lines"][0]["refund"] == "33.33"
    assert preview["refunds"] == [{"kind": "cash", "amount": "20.00", "points": None, "card": ""}]
    assert snapshot() == before

    r = post(client, f"{BASE}/returns", _body(world, sale), HTTP_IDEMPOTENCY_KEY="r-1")

    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["kind"], body["original"], body["refund_total"], body["total"]) == (
        "return",
        sale.number,
        "20.00",
        "20.00",
    )
    assert body["recovered"] == [
        {
            "promotion": "MJ100",
            "name": "满100减20",
            "amount": "13.33",
            "explanation": body["recovered"][0]["explanation"],
        }
    ]
    assert body["tenders"][0]["kind"] == "cash" and body["tenders"][0]["amount"] == "20.00"
    assert body["lines"][0]["quantity"] == "1.000" and body["replayed"] is False

    r = post(client, f"{BASE}/returns", _body(world, sale), HTTP_IDEMPOTENCY_KEY="r-1")
    assert (r.status_code, r.json()["id"], r.json()["replayed"]) == (200, body["id"], True)
    assert Sale.objects.filter(kind="return").count() == 1
    assert verify_ledger() == []


def test_return_api_refusals_change_nothing(client, world, sale):
    client.force_login(world.cashier)
    post(client, f"{BASE}/returns", _body(world, sale), HTTP_IDEMPOTENCY_KEY="first")
    before = (snapshot(), Sale.objects.count())

    r = post(client, f"{BASE}/returns", _body(world, sale), HTTP_IDEMPOTENCY_KEY="again")
    assert (r.status_code, r.json()["code"]) == (409, "over_return")
    r = post(client, f"{BASE}/returns", _body(world, sale))
    assert (r.status_code, r.json()["code"]) == (422, "idempotency_key_required")
    no_receipt = _body(world, sale, original=None, lines=[{"sku": world.skus["A"].code}])
    r = post(client, f"{BASE}/returns", no_receipt, HTTP_IDEMPOTENCY_KEY="nr")
    assert (r.status_code, r.json()["code"]) == (403, "permission_denied")
    r = post(
        client, f"{BASE}/returns", _body(world, sale, original="NOPE"), HTTP_IDEMPOTENCY_KEY="x"
    )
    assert (r.status_code, r.json()["code"]) == (404, "sale_not_found")
    r = post(client, f"{BASE}/returns", _body(world, sale, lines=[]), HTTP_IDEMPOTENCY_KEY="y")
    assert r.status_code == 422
    r = post(
        client,
        f"{BASE}/returns",
        _body(world, sale, lines=[{"line_no": 1}], refund=[{"kind": "cash", "amount": "1.00"}]),
        HTTP_IDEMPOTENCY_KEY="z",
    )
    assert (r.status_code, r.json()["code"]) == (422, "refund_mismatch")

    assert (snapshot(), Sale.objects.count()) == before
    assert SaleLine.objects.get(sale=sale, line_no=1).returned_quantity == 0


def test_unreceipted_return_api_for_a_manager(client, world):
    client.force_login(world.manager)
    body = {
        "store": world.store.code,
        "till": "T01",
        "lines": [{"sku": world.skus["B"].code, "quantity": "2", "condition": "damaged"}],
        "reason": "无小票",
    }
    r = post(client, f"{BASE}/returns", body, HTTP_IDEMPOTENCY_KEY="nr-1")
    assert r.status_code == 201, r.content
    assert (r.json()["refund_total"], r.json()["original"]) == ("80.00", None)
    assert r.json()["lines"][0]["quantity"] == "2.000"
    assert verify_ledger() == []


def test_other_store_users_are_refused(client, world, sale, admin):
    other = make_world(admin)
    client.force_login(other.cashier)
    r = post(client, f"{BASE}/returns", _body(world, sale), HTTP_IDEMPOTENCY_KEY="o-1")
    assert (r.status_code, r.json()["code"]) == (403, "site_out_of_scope")
    r = post(client, f"{BASE}/returns/preview", _body(world, sale))
    assert (r.status_code, r.json()["code"]) == (403, "site_out_of_scope")
    assert Sale.objects.filter(kind="return").count() == 0


def test_member_return_shows_points_reversed(client, world):

    member = make_member(points_per_yuan=1)
    sale = sell(
        world,
        world.tills[0],
        world.cashier,
        [(world.skus["A"], 1), (world.skus["B"], 1)],
        member=member,
    )  # A 66.67 earns 66 points, B 33.33 earns 33
    client.force_login(world.cashier)

    r = post(client, f"{BASE}/returns", _body(world, sale), HTTP_IDEMPOTENCY_KEY="m-1")

    assert r.status_code == 201, r.content
    data = r.json()
    assert data["member"]["card_number"] == member.card_number
    assert (data["refund_total"], data["recovered_total"]) == ("20.00", "13.33")
    assert (data["points_reversed"], data["member_points_balance"]) == (33, 66)
