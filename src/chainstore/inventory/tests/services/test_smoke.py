import datetime as dt

import pytest
from django.utils import timezone

from chainstore.core.errors import InsufficientStock
from chainstore.core.testing import make_bin, make_sku, stock
from chainstore.inventory import services
from chainstore.inventory.models import Balance
from chainstore.inventory.verify import verify_ledger

pytestmark = pytest.mark.django_db


def test_receive_putaway_issue_fefo(admin, warehouse):
    sku = make_sku(admin, tracking="lot", shelf_life_days=30)
    today = timezone.localdate()
    stock(admin, warehouse, sku, 5000, lot="L2", expiry=today + dt.timedelta(days=20))
    stock(admin, warehouse, sku, 3000, lot="L1", expiry=today + dt.timedelta(days=10))
    bin_ = make_bin(admin, warehouse)
    services.put_away(
        sku=sku,
        quantity=8000,
        from_location=warehouse.receiving_location,
        to_location=bin_,
        actor=admin,
    )
    op = services.issue(site=warehouse, sku=sku, quantity=4000, actor=admin)
    taken = sorted((m.lot.number, m.quantity) for m in op.moves.all())
    assert taken == [("L1", 3000), ("L2", 1000)]
    with pytest.raises(InsufficientStock):
        services.issue(site=warehouse, sku=sku, quantity=4001, actor=admin)
    assert sum(Balance.objects.filter(sku=sku).values_list("on_hand", flat=True)) == 4000
    assert verify_ledger() == []
