"""Real concurrency on PostgreSQL: many tills at once, threads behind a barrier, each with
its own connection. Balances must equal the ledger afterwards, block mode never goes
negative, and parallel replays of one batch move nothing twice."""

import datetime as dt

import pytest
from django.db.models import Sum
from django.utils import timezone

from chainstore.core.errors import InsufficientStock
from chainstore.core.testing import make_site, make_sku, make_user, stock
from chainstore.inventory.models import Balance, SiteSku, StockMove
from chainstore.inventory.tests.concurrency import run_together
from chainstore.inventory.verify import verify_ledger
from chainstore.pos.errors import PointsInsufficient
from chainstore.pos.models import (
    Member,
    MemberTier,
    PointsEntry,
    Sale,
    SaleLine,
    StockDiscrepancy,
    StoreSettings,
    Till,
)
from chainstore.pos.services.batch import BatchSale, upload_batch
from chainstore.pos.services.sales import LineInput, TenderInput, create_sale
from chainstore.pos.services.shifts import open_shift

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TILLS = 12


def _world(policy: str, units: int = 20):
    admin = make_user("admin")
    store = make_site(admin, "store")
    StoreSettings.objects.create(site=store, short_sale_policy=policy)
    skus = [make_sku(admin, retail_price_fen=100) for _ in range(3)]
    for sku in skus:
        stock(admin, store, sku, units * 1000, location=store.stock_location)
    tills = []
    for n in range(TILLS):
        till = Till.objects.create(site=store, code=f"T{n:02d}")
        open_shift(store=store, till=till, opening_float_fen=0, actor=admin)
        tills.append(till)
    return admin, store, skus, tills


def _basket(skus, i):
    # Each sale takes 1 + 2 + 1 units of the three hot SKUs, in a varying line order.
    lines = [
        LineInput(sku_code=skus[0].code, quantity=1),
        LineInput(sku_code=skus[1].code, quantity=2),
        LineInput(sku_code=skus[2].code, quantity=1),
    ]
    return lines[i % 3 :] + lines[: i % 3]


def _sell_rounds(admin, store, skus, tills, rounds):
    def work(i):
        done = []
        for r in range(rounds):
            try:
                done.append(
                    create_sale(
                        store=store,
                        till=tills[i],
                        lines=_basket(skus, i + r),
                        tenders=[TenderInput(kind="cash", amount_fen=400)],
                        actor=admin,
                        idempotency_key=f"c-{i}-{r}",
                    )
                )
            except InsufficientStock as exc:
                done.append(exc)
        return done

    return [x for result in run_together(len(tills), work) for x in result]


def _site_on_hand(store, sku):
    return SiteSku.objects.get(site=store, sku=sku).on_hand


def test_many_tills_allow_mode_sell_everything_and_keep_the_ledger(db):
    admin, store, skus, tills = _world("allow", units=20)

    results = _sell_rounds(admin, store, skus, tills, rounds=3)

    assert all(isinstance(r, Sale) for r in results), [
        r for r in results if not isinstance(r, Sale)
    ]
    sold = len(results)  # 36 sales: 36, 72, 36 units against 20 each
    assert [_site_on_hand(store, s) for s in skus] == [
        (20 - sold) * 1000,
        (20 - 2 * sold) * 1000,
        (20 - sold) * 1000,
    ]
    short = dict(StockDiscrepancy.objects.values_list("sku_id").annotate(q=Sum("short_quantity")))
    assert short == {
        skus[0].pk: (sold - 20) * 1000,
        skus[1].pk: (2 * sold - 20) * 1000,
        skus[2].pk: (sold - 20) * 1000,
    }
    assert len({r.number for r in results}) == sold
    assert verify_ledger() == []


def test_many_tills_block_mode_never_go_negative(db):
    admin, store, skus, tills = _world("block", units=20)

    results = _sell_rounds(admin, store, skus, tills, rounds=3)

    sales = [r for r in results if isinstance(r, Sale)]
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(sales) + len(refused) == TILLS * 3
    assert len(sales) == 10  # the second SKU (2 per sale) runs out after 10 sales
    assert [_site_on_hand(store, s) for s in skus] == [10_000, 0, 10_000]
    assert not Balance.objects.filter(on_hand__lt=0).exists()
    assert Sale.objects.count() == 10 and StockDiscrepancy.objects.count() == 0
    assert SaleLine.objects.count() == 30
    assert verify_ledger() == []


def test_parallel_replays_of_one_batch_move_nothing_twice(db):
    admin, store, skus, tills = _world("allow", units=50)
    sold_at = timezone.now() - dt.timedelta(hours=1)
    batch = [
        BatchSale(
            idempotency_key=f"offline-{n}",
            lines=_basket(skus, n),
            tenders=[TenderInput(kind="cash", amount_fen=400)],
            sold_at=sold_at + dt.timedelta(seconds=n),
        )
        for n in range(10)
    ]

    results = run_together(
        8, lambda i: upload_batch(store=store, till=tills[0], sales=batch, actor=admin)
    )

    assert all(isinstance(r, list) for r in results), results
    for n in range(10):
        statuses = sorted(outcomes[n].status for outcomes in results)
        assert statuses == ["created"] + ["replayed"] * 7, (n, statuses)
        assert len({outcomes[n].sale.pk for outcomes in results}) == 1
    assert Sale.objects.count() == 10
    assert StockMove.objects.filter(reason="sale").aggregate(q=Sum("quantity"))["q"] == 40_000
    assert [_site_on_hand(store, s) for s in skus] == [40_000, 30_000, 40_000]
    assert verify_ledger() == []


def test_concurrent_points_redemptions_never_overdraw(db):
    admin, store, skus, tills = _world("allow", units=100)
    tier = MemberTier.objects.create(code="t", name="t", points_per_yuan=0)
    member = Member.objects.create(card_number="1", phone="1", tier=tier, points_balance=1_000)

    def work(i):
        try:
            return create_sale(
                store=store,
                till=tills[i],
                lines=[LineInput(sku_code=skus[0].code, quantity=3)],
                tenders=[TenderInput(kind="points", amount_fen=300)],
                actor=admin,
                member=member,
                idempotency_key=f"p-{i}",
            )
        except PointsInsufficient as exc:
            return exc

    results = run_together(TILLS, work)

    assert sum(isinstance(r, Sale) for r in results) == 3
    assert sum(isinstance(r, PointsInsufficient) for r in results) == TILLS - 3
    member.refresh_from_db()
    assert member.points_balance == 100
    ledger = list(PointsEntry.objects.filter(member=member).order_by("id"))
    assert [e.balance_after for e in ledger] == [700, 400, 100]
    assert _site_on_hand(store, skus[0]) == 91_000
    assert verify_ledger() == []
