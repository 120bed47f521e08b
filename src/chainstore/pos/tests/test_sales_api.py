"""The checkout API through the mounted URLs: quote, sales, reads, gift cards, suspended."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chainstore.core.testing import make_site, make_sku, make_user, stock
from chainstore.core.tests.helpers import on_hand
from chainstore.inventory.models import StockMove
from chainstore.inventory.verify import verify_ledger
from chainstore.pos.models import GiftCard, Member, Promotion, SuspendedBasket
from chainstore.pos.services.scan import scale_barcode
from chainstore.pos.tests.sales_world import *  # noqa: F403
from chainstore.pos.tests.sales_world import API, client_for, pos_snapshot, post_sale, set_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(cashier):
    return client_for(cashier)


def _body(store, till, lines, tenders, **extra):
    return {"store": store.code, "till": till.code, "lines": lines, "tenders": tenders, **extra}


def test_quote_then_sale_with_member_price_points_and_cash_change(
    admin, store, till, shift, cashier, api, member
):
    milk = make_sku(admin, retail_price_fen=650, name="纯牛奶")
    stock(admin, store, milk, 20_000, location=store.stock_location)
    vip = Promotion.objects.create(
        code="VIP-MILK",
        name="会员价",
        kind="special_price",
        params={"prices": {str(milk.pk): "5.50"}},
        member_condition="members",
    )
    vip.target_skus.set([milk])
    scan = milk.barcodes.get().code
    lines = [{"scan": scan, "quantity": "4"}]

    quote = api.post(
        API + "/pos/quote",
        {"store": store.code, "member": member.phone, "lines": lines},
        content_type="application/json",
    )

    assert quote.status_code == 200, quote.content
    q = quote.json()
    assert (q["subtotal"], q["discount"], q["total"], q["tax"]) == (
        "26.00",
        "4.00",
        "22.00",
        "2.53",
    )
    assert q["points_to_earn"] == 44
    assert q["member"]["card_number"] == member.card_number
    (line,) = q["lines"]
    assert line["discounts"] == [{"promotion": "VIP-MILK", "name": "会员价", "amount": "4.00"}]
    assert q["promotions"][0]["code"] == "VIP-MILK"
    assert StockMove.objects.filter(operation__kind="issue").count() == 0  # no side effects

    body = _body(
        store,
        till,
        lines,
        [{"kind": "cash", "amount": "50.00"}],
        member=member.card_number,
        expected_total="22.00",
    )
    res = post_sale(api, body, key="sale-1")

    assert res.status_code == 201, res.content
    sale = res.json()
    assert sale["number"].startswith(f"{store.code}-T01-")
    assert (sale["total"], sale["change"], sale["points_earned"]) == ("22.00", "28.00", 44)
    assert sale["tenders"] == [
        {
            "kind": "cash",
            "amount": "22.00",
            "tendered": "50.00",
            "change": "28.00",
            "reference": "",
            "points": 0,
        }
    ]
    assert sale["member_points_balance"] == 44
    assert sale["lines"][0]["quantity"] == "4.000"
    assert sale["replayed"] is False and sale["went_short"] is False
    assert on_hand(store.stock_location, milk) == 16_000

    again = post_sale(api, body, key="sale-1")
    assert again.status_code == 200
    assert again.json()["replayed"] is True and again.json()["id"] == sale["id"]
    assert on_hand(store.stock_location, milk) == 16_000
    assert Member.objects.get(pk=member.pk).points_balance == 44

    other_body = post_sale(api, {**body, "expected_total": None}, key="sale-1")
    assert other_body.status_code == 409
    assert other_body.json()["code"] == "idempotency_key_reused"


def test_sale_without_idempotency_key_is_422(store, till, shift, api, stocked):
    before = pos_snapshot()
    res = post_sale(
        api,
        _body(store, till, [{"sku": stocked.code}], [{"kind": "cash", "amount": "10"}]),
        key=None,
    )
    assert res.status_code == 422
    assert res.json()["code"] == "idempotency_key_required"
    assert pos_snapshot() == before


def test_tenders_not_covering_is_422_and_nothing_changes(store, till, shift, api, stocked):
    before = pos_snapshot()
    res = post_sale(
        api,
        _body(
            store,
            till,
            [{"sku": stocked.code, "quantity": "2"}],
            [{"kind": "cash", "amount": "19.99"}],
        ),
    )
    assert res.status_code == 422
    assert res.json()["code"] == "tenders_short"
    assert res.json()["details"] == {"total": "20.00", "tendered": "19.99"}
    assert pos_snapshot() == before


def test_price_changed_is_409(store, till, shift, api, stocked):
    res = post_sale(
        api,
        _body(
            store,
            till,
            [{"sku": stocked.code}],
            [{"kind": "cash", "amount": "9.00"}],
            expected_total="9.00",
        ),
    )
    assert res.status_code == 409 and res.json()["code"] == "price_changed"


def test_short_sale_blocked_is_409_allowed_is_201_with_a_discrepancy(
    admin, store, till, shift, api, sku
):
    stock(admin, store, sku, 1_000, location=store.stock_location)
    body = _body(
        store, till, [{"sku": sku.code, "quantity": "3"}], [{"kind": "cash", "amount": "30"}]
    )
    set_policy(store, "block")
    before = pos_snapshot()

    blocked = post_sale(api, body)

    assert blocked.status_code == 409
    assert blocked.json()["code"] == "insufficient_stock"
    assert pos_snapshot() == before

    set_policy(store, "allow")
    allowed = post_sale(api, body)

    assert allowed.status_code == 201, allowed.content
    assert allowed.json()["went_short"] is True
    (d,) = allowed.json()["discrepancies"]
    assert (d["sku"], d["short_quantity"], d["status"]) == (sku.code, "2.000", "open")
    assert on_hand(store.stock_location, sku) == -2_000
    assert verify_ledger() == []


def test_weighed_goods_by_scale_barcode_over_the_api(admin, store, till, shift, api):
    from chainstore.catalog.services import add_barcode

    pork = make_sku(admin, base_unit="kg", retail_price_fen=2_580)
    add_barcode(sku=pork, code="00777", kind="internal", actor=admin)
    stock(admin, store, pork, 3_000, location=store.stock_location)

    res = post_sale(
        api,
        _body(
            store,
            till,
            [{"scan": scale_barcode("777", 1_234)}],
            [{"kind": "alipay", "amount": "31.84", "reference": "ALI9"}],
        ),
    )

    assert res.status_code == 201, res.content
    (line,) = res.json()["lines"]
    assert (line["quantity"], line["unit"], line["unit_price"], line["gross"]) == (
        "1.234",
        "kg",
        "25.80",
        "31.84",
    )
    assert on_hand(store.stock_location, pork) == 1_766


def test_points_and_gift_card_tenders_over_the_api(store, till, shift, api, stocked, member):
    Member.objects.filter(pk=member.pk).update(points_balance=800)
    GiftCard.objects.create(number="GC-7", balance_fen=2_000)

    res = post_sale(
        api,
        _body(
            store,
            till,
            [{"sku": stocked.code, "quantity": "3"}],
            [
                {"kind": "points", "amount": "8.00"},
                {"kind": "gift_card", "amount": "20.00", "card": "GC-7"},
                {"kind": "cash", "amount": "2.00"},
            ],
            member=member.phone,
        ),
    )

    assert res.status_code == 201, res.content
    sale = res.json()
    assert (sale["points_redeemed"], sale["points_earned"], sale["member_points_balance"]) == (
        800,
        60,
        60,
    )
    assert GiftCard.objects.get(number="GC-7").balance_fen == 0
    card = api.get(API + "/pos/gift-cards/GC-7")
    assert card.json() == {"number": "GC-7", "balance": "0.00", "is_active": True}
    assert api.get(API + "/pos/gift-cards/NOPE").status_code == 404


def test_role_and_scope_denials_are_403_and_change_nothing(admin, store, till, shift, stocked):
    body = _body(store, till, [{"sku": stocked.code}], [{"kind": "cash", "amount": "10"}])
    users = (
        make_user("auditor"),
        make_user("warehouse_operator", sites=[store]),
        make_user("cashier", sites=[make_site(admin, "store")]),
    )
    before = pos_snapshot()
    for user in users:
        res = post_sale(client_for(user), body)
        assert res.status_code == 403, (user, res.content)
    assert pos_snapshot() == before


def test_unauthenticated_is_401(store, till, stocked):
    from django.test import Client

    res = post_sale(Client(), _body(store, till, [{"sku": stocked.code}], []))
    assert res.status_code == 401


def test_sales_list_detail_and_by_number(admin, store, till, shift, cashier, api, stocked):
    ids = []
    for _n in range(3):
        res = post_sale(
            api, _body(store, till, [{"sku": stocked.code}], [{"kind": "cash", "amount": "10"}])
        )
        ids.append(res.json()["id"])

    listed = api.get(
        API + "/pos/sales", {"store": store.code, "till": till.code, "kind": "sale"}
    ).json()
    assert listed["count"] == 3
    assert [s["id"] for s in listed["items"]] == ids[::-1]
    number = listed["items"][0]["number"]

    detail = api.get(f"{API}/pos/sales/{ids[-1]}").json()
    assert detail["number"] == number
    by_number = api.get(f"{API}/pos/sales/by-number/{number}")
    assert by_number.json()["id"] == ids[-1]
    assert api.get(f"{API}/pos/sales/by-number/NOPE").json()["code"] == "sale_not_found"

    auditor = client_for(make_user("auditor"))
    assert auditor.get(f"{API}/pos/sales/{ids[0]}").status_code == 200
    outsider = client_for(make_user("cashier", sites=[make_site(admin, "store")]))
    assert outsider.get(f"{API}/pos/sales/{ids[0]}").status_code == 403
    assert outsider.get(API + "/pos/sales").json()["count"] == 0


def test_sale_detail_query_count_does_not_grow_with_lines(admin, store, till, shift, api):
    skus = [make_sku(admin) for _ in range(6)]
    for s in skus:
        stock(admin, store, s, 5_000, location=store.stock_location)
    small = post_sale(
        api, _body(store, till, [{"sku": skus[0].code}], [{"kind": "cash", "amount": "2"}])
    ).json()
    big = post_sale(
        api, _body(store, till, [{"sku": s.code} for s in skus], [{"kind": "cash", "amount": "12"}])
    ).json()

    counts = []
    for sale in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(f"{API}/pos/sales/{sale['id']}").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_sale_query_count_is_pinned_for_a_three_line_basket(admin, store, till, shift, api):
    skus = [make_sku(admin) for _ in range(3)]
    for s in skus:
        stock(admin, store, s, 5_000, location=store.stock_location)
    body = _body(store, till, [{"sku": s.code} for s in skus], [{"kind": "cash", "amount": "6"}])
    post_sale(api, body)  # warm the virtual-location cache

    with CaptureQueriesContext(connection) as ctx:
        assert post_sale(api, body).status_code == 201
    assert len(ctx.captured_queries) <= 45, [q["sql"][:100] for q in ctx.captured_queries]


def test_suspend_list_and_resume_once(store, till, api, cashier):
    payload = {"lines": [{"sku": "SKU1", "quantity": "2"}], "member": None}
    created = api.post(
        API + "/pos/suspended",
        {"store": store.code, "till": till.code, "label": "王女士", "payload": payload},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    basket_id = created.json()["id"]

    listed = api.get(API + "/pos/suspended", {"store": store.code}).json()
    assert [b["label"] for b in listed] == ["王女士"]

    resumed = api.post(f"{API}/pos/suspended/{basket_id}/resume")
    assert resumed.status_code == 200
    assert resumed.json()["payload"] == payload
    again = api.post(f"{API}/pos/suspended/{basket_id}/resume")
    assert again.status_code == 409 and again.json()["code"] == "basket_already_resumed"
    assert api.get(API + "/pos/suspended", {"store": store.code}).json() == []
    assert SuspendedBasket.objects.get().resumed_at is not None


def test_suspended_baskets_are_scoped_to_the_store(admin, store, till, api):
    outsider = client_for(make_user("cashier", sites=[make_site(admin, "store")]))
    res = outsider.post(
        API + "/pos/suspended",
        {"store": store.code, "label": "x", "payload": {"lines": []}},
        content_type="application/json",
    )
    assert res.status_code == 403
    assert SuspendedBasket.objects.count() == 0
