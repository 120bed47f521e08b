"""Regressions found in review: a client key cannot block a count's approval, and a loss
held up by reservations gets its own clear error."""

import pytest

from chainstore.core.testing import make_site, make_sku, make_user, stock
from chainstore.counts import services as counts
from chainstore.counts.errors import CountLossReserved
from chainstore.counts.models import CountStatus
from chainstore.inventory import services
from chainstore.inventory.models import Balance

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


def test_a_loss_blocked_by_reservations_says_so_and_changes_nothing():
    admin = make_user("admin")
    site = make_site(admin, "store")
    sku = make_sku(admin)
    stock(admin, site, sku, 10_000, location=site.stock_location)
    services.reserve(site=site, sku=sku, quantity=8_000, actor=admin)
    count = _counted(admin, site, sku, 5_000)

    with pytest.raises(CountLossReserved):
        counts.approve_count(count=count, actor=admin, idempotency_key="approve")

    assert Balance.objects.get(site=site, sku=sku).on_hand == 10_000
    count.refresh_from_db()
    assert count.status == CountStatus.COUNTING
