"""Cash and the X / Z numbers against real sales: expected cash = float + cash received -
change, the variance of the count, tenders by kind, and a Z report that freezes the same
numbers for the till and for the store."""

from decimal import Decimal

import pytest

from chainstore.inventory.services import site_today
from chainstore.inventory.verify import verify_ledger
from chainstore.pos.services import shifts
from chainstore.pos.services.tenders import TenderInput
from chainstore.pos.tests.returns_world import add_sku, make_world, post, sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    w = make_world(admin)
    add_sku(w, "牛奶", 1_250)
    add_sku(w, "面包", 800)
    return w


def _ring_up_day(world):
    """Till 1: two cash sales with change and a WeChat sale; till 2: a split tender."""
    milk, bread = world.skus["牛奶"], world.skus["面包"]
    s1 = shifts.open_shift(
        store=world.store, till=world.tills[0], opening_float_fen=50_000, actor=world.cashier
    )
    s2 = shifts.open_shift(
        store=world.store, till=world.tills[1], opening_float_fen=20_000, actor=world.cashier2
    )
    sales = [
        # 2 × 12.50 = 25.00 paid with a 50 note: 25.00 change
        sell(world, world.tills[0], world.cashier, [(milk, 2)], tendered_fen=5_000),
        # 12.50 + 3 × 8.00 = 36.50, handed 40.00: change 3.50
        sell(world, world.tills[0], world.cashier, [(milk, 1), (bread, 3)], tendered_fen=4_000),
        sell(world, world.tills[0], world.cashier, [(bread, 1)], kind="wechat_pay"),
        # till 2: 8.00 × 5 = 40.00, 30.00 Alipay + 10.00 cash
        sell(
            world,
            world.tills[1],
            world.cashier2,
            [(bread, 5)],
            tenders=[
                TenderInput(kind="alipay", amount_fen=3_000, reference="AP1"),
                TenderInput(kind="cash", amount_fen=1_000, tendered_fen=1_000),
            ],
        ),
    ]
    return s1, s2, sales


def test_x_report_matches_the_shift_sales(world):
    s1, _s2, sales = _ring_up_day(world)
    mine = [s for s in sales if s.shift_id == s1.pk]

    report = shifts.x_report(shift=s1, actor=world.cashier)

    t = report.totals
    assert t.sales_count == len(mine) == 3
    assert t.net_fen == sum(s.total_fen for s in mine) == 2_500 + 3_650 + 800
    assert t.gross_fen == sum(s.subtotal_fen for s in mine)
    assert t.tax_fen == sum(s.tax_fen for s in mine)
    assert {x.kind: (x.count, x.sales_fen) for x in t.tenders} == {
        "cash": (2, 6_150),
        "wechat_pay": (1, 800),
    }
    assert (report.cash.cash_received_fen, report.cash.change_fen) == (9_000, 2_850)
    assert report.cash.expected_fen == 50_000 + 9_000 - 2_850 == 50_000 + 6_150
    assert report.cash.counted_fen is None
    assert report.shift.status == "open"  # an X report changes nothing


def test_close_freezes_expected_cash_and_the_variance(world):
    s1, s2, _sales = _ring_up_day(world)

    closed = shifts.close_shift(shift=s1, counted_cash_fen=56_100, actor=world.cashier)
    closed2 = shifts.close_shift(shift=s2, counted_cash_fen=21_000, actor=world.cashier2)

    assert (closed.expected_cash_fen, closed.counted_cash_fen) == (56_150, 56_100)
    assert shifts.x_report(shift=closed, actor=world.cashier).cash.variance_fen == -50
    assert (closed2.expected_cash_fen, closed2.counted_cash_fen) == (21_000, 21_000)


def test_z_reports_freeze_the_till_and_store_numbers(world):
    s1, s2, sales = _ring_up_day(world)
    shifts.close_shift(shift=s1, counted_cash_fen=56_100, actor=world.cashier)
    shifts.close_shift(shift=s2, counted_cash_fen=21_000, actor=world.cashier2)
    today = site_today(world.store)

    z1 = shifts.z_report(
        shifts.close_day(
            store=world.store, till=world.tills[0], business_date=today, actor=world.manager
        )
    )
    z = shifts.z_report(
        shifts.close_day(store=world.store, business_date=today, actor=world.manager)
    )

    till1 = [s for s in sales if s.till_id == world.tills[0].pk]
    assert (z1.totals.sales_count, z1.totals.net_fen) == (3, sum(s.total_fen for s in till1))
    assert (z1.cash.opening_float_fen, z1.cash.expected_fen, z1.cash.variance_fen) == (
        50_000,
        56_150,
        -50,
    )
    assert (z.totals.sales_count, z.totals.net_fen) == (4, sum(s.total_fen for s in sales))
    assert z.totals.tax_fen == sum(s.tax_fen for s in sales)
    assert {x.kind: x.sales_fen for x in z.totals.tenders} == {
        "alipay": 3_000,
        "cash": 7_150,
        "wechat_pay": 800,
    }
    assert z.cash.expected_fen == 56_150 + 21_000
    assert z.cash.variance_fen == -50
    assert [(t["till"], t["sales_count"]) for t in z.tills] == [("T01", 3), ("T02", 1)]
    assert sorted(z.shifts) == sorted([s1.pk, s2.pk])
    assert verify_ledger() == []


def test_z_after_the_day_is_frozen_even_if_read_later(world, client):
    s1, s2, _sales = _ring_up_day(world)
    shifts.close_shift(shift=s1, counted_cash_fen=56_150, actor=world.cashier)
    shifts.close_shift(shift=s2, counted_cash_fen=21_000, actor=world.cashier2)
    client.force_login(world.manager)
    body = {"store": world.store.code, "date": str(site_today(world.store))}

    r = post(client, "/api/v1/pos/day-close", body)

    assert r.status_code == 201, r.content
    z = r.json()
    assert (z["totals"]["sales_count"], z["totals"]["net"]) == (4, "109.50")
    assert Decimal(z["totals"]["average_basket"]) == Decimal("27.38")  # 109.50 / 4, half up
    assert z["cash"]["expected"] == "771.50" and z["cash"]["variance"] == "0.00"
    assert {t["kind"]: t["sales"] for t in z["tenders"]} == {
        "alipay": "30.00",
        "cash": "71.50",
        "wechat_pay": "8.00",
    }
    r = client.get(f"/api/v1/pos/shifts/{s1.pk}/x-report")
    assert r.status_code == 200
    assert r.json()["cash"]["counted"] == "561.50"
