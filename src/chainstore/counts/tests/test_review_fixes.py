"""Regressions found in review: a client key cannot block a count's approval, and a counted
loss is booked even when the stock was reserved (the reservations are shortened)."""

import pytest

from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_site, make_sku, make_user, stock
from chainstore.counts import services as counts
from chainstore.counts.models import CountStatus
from chainstore.inventory import services
from chainstore.inventory.models import Balance
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


def _counted(admin, site, sku, quantity):
    count = counts.freeze_count(
        count=counts.create_count(site=site, name="盘点", actor=admin), actor=admin
    )
    counts.record_entry(
        count=count, location=site.stock_location, sku=sku, quantity=quantity, actor=admin
    )
    return count


def test_a_client_key_like_the_counts_cannot_block_approval():
    admin = make_user("admin")
    site = make_site(admin, "store")
    sku = make_sku(admin)
    stock(admin, site, sku, 10_000, location=site.stock_location)
    count = _counted(admin, site, sku, 9_000)
    # a client happens to use the key an earlier version derived from the count id
    services.issue(site=site, sku=sku, quantity=1, actor=admin, idempotency_key=f"count-{count.pk}")
    counts.record_entry(
        count=count,
        location=site.stock_location,
        sku=sku,
        quantity=8_999,
        actor=admin,
        replace=True,
    )

    approved = counts.approve_count(count=count, actor=admin, idempotency_key="approve")

    assert approved.status == CountStatus.APPROVED
    assert Balance.objects.get(site=site, sku=sku).on_hand == 8_999


def test_a_counted_loss_shortens_the_reservations_it_leaves_unbacked():
    admin = make_user("admin")
    site = make_site(admin, "store")
    sku = make_sku(admin)
    stock(admin, site, sku, 10_000, location=site.stock_location)
    older = services.reserve(site=site, sku=sku, quantity=3_000, actor=admin).reservations.get()
    newer = services.reserve(site=site, sku=sku, quantity=5_000, actor=admin).reservations.get()
    count = _counted(admin, site, sku, 5_000)  # 5 units are physically missing

    approved = counts.approve_count(count=count, actor=admin, idempotency_key="approve")

    assert approved.status == CountStatus.APPROVED
    balance = Balance.objects.get(site=site, sku=sku)
    assert (balance.on_hand, balance.reserved) == (5_000, 5_000)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.open_quantity, newer.open_quantity) == (3_000, 2_000)  # newest cut first
    assert AuditEvent.objects.filter(action="reservation.shortened").count() == 1
    assert verify_ledger() == []
