"""The store day: every aggregate equals the sum computed from the sales created, in a
fixed number of queries, scoped to the store's reporters."""

import zoneinfo
from collections import defaultdict

import pytest

from chainstore.catalog.services import create_category
from chainstore.core.errors import PermissionDenied
from chainstore.core.quantities import fen_to_money
from chainstore.core.testing import make_user
from chainstore.inventory.services import site_today
from chainstore.pos.models import PointsEntry, SaleLine
from chainstore.pos.services import shifts
from chainstore.pos.services.reports import store_day
from chainstore.pos.services.returns import ReturnLineInput, create_return
from chainstore.pos.tests.returns_world import add_sku, make_member, make_world, sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    w = make_world(admin)
    dairy = create_category(code="C-DAIRY", name="乳品", actor=admin)
    bakery = create_category(code="C-BAKE", name="烘焙", actor=admin)
    add_sku(w, "牛奶", 1_250, category=dairy)
    add_sku(w, "酸奶", 650, category=dairy)
    add_sku(w, "面包", 800, category=bakery)
    return w


def _day(world):
    milk, yogurt, bread = (world.skus[n] for n in ("牛奶", "酸奶", "面包"))
    member = make_member(points_per_yuan=2)
    for till, cashier in zip(world.tills, (world.cashier, world.cashier2), strict=True):
        shifts.open_shift(store=world.store, till=till, opening_float_fen=0, actor=cashier)
    t1, t2 = world.tills
    return [
        sell(world, t1, world.cashier, [(milk, 2), (bread, 1)], tendered_fen=5_000),
        sell(world, t1, world.cashier, [(yogurt, 4)], kind="wechat_pay", member=member),
        sell(world, t2, world.cashier2, [(bread, 3), (milk, 1)], kind="alipay", member=member),
        sell(world, t2, world.cashier2, [(yogurt, 1)], kind="bank_card"),
        sell(world, t1, world.cashier, [(milk, 5)], kind="cash"),
    ]


def test_store_day_totals_equal_the_sales(world):
    sales = _day(world)

    day = store_day(store=world.store, business_date=site_today(world.store), actor=world.manager)

    t = day.totals
    assert t.sales_count == 5
    assert t.gross_fen == sum(s.subtotal_fen for s in sales)
    assert t.discount_fen == sum(s.discount_fen for s in sales)
    assert t.net_fen == sum(s.total_fen for s in sales)
    assert t.tax_fen == sum(s.tax_fen for s in sales)
    assert t.average_basket_fen == (t.net_fen + 2) // 5  # half up
    assert (t.returns_count, t.refunds_fen) == (0, 0)


def test_store_day_breakdowns_equal_the_sales(world):
    sales = _day(world)
    tz = zoneinfo.ZoneInfo(world.store.timezone)

    day = store_day(store=world.store, business_date=site_today(world.store), actor=world.manager)

    hours: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    cashiers: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in sales:
        hours[s.sold_at.astimezone(tz).hour][0] += 1
        hours[s.sold_at.astimezone(tz).hour][1] += s.total_fen
        cashiers[s.cashier.username][0] += 1
        cashiers[s.cashier.username][1] += s.total_fen
    assert {r["hour"]: [r["sales_count"], r["net_fen"]] for r in day.by_hour} == dict(hours)
    assert {
        r["cashier__username"]: [r["sales_count"], r["net_fen"]] for r in day.by_cashier
    } == dict(cashiers)

    lines = list(SaleLine.objects.filter(sale__in=sales).select_related("sku__category"))
    categories: dict[str, int] = defaultdict(int)
    quantities: dict[str, int] = defaultdict(int)
    amounts: dict[str, int] = defaultdict(int)
    for ln in lines:
        categories[ln.sku.category.code] += ln.net_fen
        quantities[ln.sku.code] += ln.quantity
        amounts[ln.sku.code] += ln.net_fen
    assert {r["sku__category__code"]: r["net_sum"] for r in day.by_category} == dict(categories)
    by_qty = sorted(quantities.items(), key=lambda kv: (-kv[1], kv[0]))
    assert [(r["sku__code"], r["qty_sum"]) for r in day.best_by_quantity] == by_qty
    by_amount = sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))
    assert [(r["sku__code"], r["amount_sum"]) for r in day.best_by_amount] == by_amount

    tenders: dict[str, int] = defaultdict(int)
    for s in sales:
        for tender in s.tenders.all():
            tenders[tender.kind] += tender.amount_fen
    assert {x.kind: x.sales_fen for x in day.totals.tenders} == dict(tenders)
    earned = sum(s.points_earned for s in sales)
    assert earned > 0
    assert day.points["issued"] == earned
    assert day.points["issued"] == sum(
        PointsEntry.objects.filter(kind="earn").values_list("delta", flat=True)
    )


def test_store_day_costs_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    _day(world)
    today = site_today(world.store)
    with django_assert_max_num_queries(10):
        store_day(store=world.store, business_date=today, actor=world.manager)
    milk = world.skus["牛奶"]
    for _ in range(5):
        sell(world, world.tills[0], world.cashier, [(milk, 1)])
    with django_assert_max_num_queries(10):
        store_day(store=world.store, business_date=today, actor=world.manager)


def test_store_day_needs_report_permission_in_scope(world, admin):
    other = make_world(admin)
    today = site_today(world.store)
    with pytest.raises(PermissionDenied) as exc:
        store_day(store=world.store, business_date=today, actor=world.cashier)
    assert exc.value.code == "permission_denied"
    with pytest.raises(PermissionDenied) as exc:
        store_day(store=world.store, business_date=today, actor=other.manager)
    assert exc.value.code == "site_out_of_scope"
    # Auditors and HQ read every store.
    store_day(store=world.store, business_date=today, actor=make_user("auditor"))


def test_store_day_api(world, client):
    sales = _day(world)
    client.force_login(world.manager)

    r = client.get(
        "/api/v1/pos/store-day",
        {"store": world.store.code, "date": str(site_today(world.store))},
    )

    assert r.status_code == 200, r.content
    body = r.json()
    net = sum(s.total_fen for s in sales)
    assert body["totals"]["net"] == str(fen_to_money(net))
    assert body["totals"]["sales_count"] == 5
    assert body["points_issued"] == sum(s.points_earned for s in sales)
    assert body["best_sellers"]["by_quantity"][0]["sku"] == world.skus["牛奶"].code
    assert body["best_sellers"]["by_quantity"][0]["quantity"] == "8.000"
    assert {c["category"] for c in body["by_category"]} == {"C-DAIRY", "C-BAKE"}
    assert body["refunds"] == {"count": 0, "total": "0.00", "tax": "0.00", "recovered": "0.00"}
    assert sum(h["sales_count"] for h in body["by_hour"]) == 5
    # Default date: today in the store's timezone.
    assert client.get("/api/v1/pos/store-day", {"store": world.store.code}).json() == body

    client.force_login(world.cashier)
    r = client.get("/api/v1/pos/store-day", {"store": world.store.code})
    assert (r.status_code, r.json()["code"]) == (403, "permission_denied")


def test_store_day_refunds_and_points_equal_the_returns(world):

    sales = _day(world)
    member_sale = sales[2]  # bread × 3 + milk, Alipay, member
    returns = [
        create_return(
            store=world.store,
            till=world.tills[1],
            original=member_sale.number,
            lines=[ReturnLineInput(line_no=1, quantity=2)],
            actor=world.cashier2,
            reason="过期",
            idempotency_key="day-r1",
        ),
        create_return(
            store=world.store,
            till=world.tills[0],
            original=sales[0].number,
            lines=[ReturnLineInput(line_no=1, quantity=1, condition="damaged")],
            actor=world.cashier,
            reason="破损",
            idempotency_key="day-r2",
        ),
    ]

    day = store_day(store=world.store, business_date=site_today(world.store), actor=world.manager)

    t = day.totals
    assert (t.sales_count, t.returns_count) == (5, 2)
    assert t.refunds_fen == sum(r.total_fen for r in returns)
    assert t.net_after_refunds_fen == sum(s.total_fen for s in sales) - t.refunds_fen
    assert {x.kind: x.refunds_fen for x in t.tenders if x.refunds_fen} == {
        "cash": sum(r.total_fen for r in returns)
    }
    reversed_points = sum(r.points_earned for r in returns)
    assert reversed_points > 0
    assert day.points["reversed"] == reversed_points
    by_cashier = {r["cashier__username"]: r["refunds_fen"] for r in day.by_cashier}
    assert by_cashier == {
        world.cashier.username: returns[1].total_fen,
        world.cashier2.username: returns[0].total_fen,
    }
    refunded = defaultdict(int)
    for ln in SaleLine.objects.filter(sale__in=returns).select_related("sku__category"):
        refunded[ln.sku.category.code] += ln.net_fen
    assert {r["sku__category__code"]: r["refunds_fen"] for r in day.by_category} == dict(refunded)
