import pytest

from chainstore.core.testing import make_bin, make_sku, stock
from chainstore.inventory import services
from chainstore.inventory.errors import InvalidLocation
from chainstore.inventory.models import Balance, StockMove
from chainstore.sites.services import deactivate_location

pytestmark = pytest.mark.django_db


def test_stock_cannot_be_put_into_a_deactivated_bin(admin, warehouse):
    sku = make_sku(admin)
    stock(admin, warehouse, sku, 5000)
    bin_ = make_bin(admin, warehouse)
    bin_ = deactivate_location(location=bin_, actor=admin)
    moves_before = StockMove.objects.count()

    with pytest.raises(InvalidLocation) as refused:
        services.put_away(
            sku=sku,
            quantity=1000,
            from_location=warehouse.receiving_location,
            to_location=bin_,
            actor=admin,
        )

    assert refused.value.code == "location_inactive"
    assert StockMove.objects.count() == moves_before
    assert not Balance.objects.filter(location=bin_).exists()
