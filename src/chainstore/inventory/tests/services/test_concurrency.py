"""Real concurrency: threads behind a barrier, each with its own connection (PostgreSQL)."""

import pytest

from chainstore.core.errors import InsufficientStock
from chainstore.core.testing import make_bin, make_site, make_sku, make_user, stock
from chainstore.inventory import services
from chainstore.inventory.models import Balance, SiteSku, StockOperation
from chainstore.inventory.tests.concurrency import run_together
from chainstore.inventory.verify import verify_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _world():
    admin = make_user("admin")
    site = make_site(admin, "store")
    sku = make_sku(admin)
    return admin, site, sku


def _available(site, sku):
    rows = Balance.objects.filter(site=site, sku=sku).values_list("on_hand", "reserved")
    return sum(o - r for o, r in rows)


def test_fifty_workers_race_for_the_last_twenty_units_five_rounds():
    admin, site, sku = _world()
    for _round in range(5):
        stock(admin, site, sku, 20_000, location=site.stock_location)

        results = run_together(
            50, lambda i: services.issue(site=site, sku=sku, quantity=1_000, actor=admin)
        )

        ok = [r for r in results if isinstance(r, StockOperation)]
        refused = [r for r in results if isinstance(r, InsufficientStock)]
        others = [r for r in results if r not in ok and r not in refused]
        assert others == []
        assert (len(ok), len(refused)) == (20, 30)
        assert SiteSku.objects.get(site=site, sku=sku).on_hand == 0
        assert Balance.objects.get(location=site.stock_location, sku=sku).on_hand == 0
        assert verify_ledger() == []


def test_duplicate_idempotency_keys_move_stock_once():
    admin, site, sku = _world()
    stock(admin, site, sku, 100_000, location=site.stock_location)

    results = run_together(
        20,
        lambda i: services.issue(
            site=site, sku=sku, quantity=3_000, actor=admin, idempotency_key="same-key"
        ),
    )

    assert all(isinstance(r, StockOperation) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert StockOperation.objects.filter(kind="issue").count() == 1
    assert Balance.objects.get(location=site.stock_location, sku=sku).on_hand == 97_000
    assert verify_ledger() == []


def test_concurrent_reservations_never_exceed_available():
    admin, site, sku = _world()
    stock(admin, site, sku, 10_000, location=site.stock_location)

    results = run_together(
        30, lambda i: services.reserve(site=site, sku=sku, quantity=1_000, actor=admin)
    )

    ok = [r for r in results if isinstance(r, StockOperation)]
    assert len(ok) == 10
    assert all(isinstance(r, InsufficientStock) for r in results if r not in ok)
    row = Balance.objects.get(location=site.stock_location, sku=sku)
    assert (row.on_hand, row.reserved) == (10_000, 10_000)
    assert verify_ledger() == []


def test_mixed_receive_issue_move_has_no_deadlocks():
    admin, site, sku = _world()
    other = make_sku(admin)
    bins = [make_bin(admin, site) for _ in range(3)]
    for b in bins:
        stock(admin, site, sku, 5_000, location=b)
        stock(admin, site, other, 5_000, location=b)

    def work(i):
        kind = i % 4
        if kind == 0:
            return services.receive(
                site=site,
                actor=admin,
                lines=[
                    services.ReceiptLine(sku=other, quantity=1_000, location=bins[i % 3]),
                    services.ReceiptLine(sku=sku, quantity=1_000, location=bins[(i + 1) % 3]),
                ],
            )
        if kind == 1:
            return services.issue(site=site, sku=sku, quantity=700, actor=admin)
        if kind == 2:
            return services.move_stock(
                sku=sku,
                quantity=500,
                from_location=bins[i % 3],
                to_location=bins[(i + 1) % 3],
                actor=admin,
            )
        return services.adjust(
            location=bins[i % 3], sku=other, delta=-300, reason="damage", actor=admin
        )

    results = run_together(40, work)

    errors = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(e, InsufficientStock) for e in errors), errors
    assert sum(isinstance(r, StockOperation) for r in results) >= 30
    assert verify_ledger() == []
    assert all(b.on_hand >= b.reserved >= 0 for b in Balance.objects.all())
