import pytest

from chainstore.catalog.services import update_sku
from chainstore.core.errors import Conflict
from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_sku, stock
from chainstore.inventory.models import StockMove

pytestmark = pytest.mark.django_db


def test_tracking_changes_while_the_sku_has_no_moves(admin):
    sku = make_sku(admin, tracking="none")

    update_sku(sku=sku, tracking="lot", shelf_life_days=30, actor=admin)

    sku.refresh_from_db()
    assert (sku.tracking, sku.shelf_life_days) == ("lot", 30)


def test_tracking_is_locked_once_stock_has_moved(admin, store):
    sku = make_sku(admin, tracking="none", name="旧名")
    stock(admin, store, sku, 2_000)
    moves, events = StockMove.objects.count(), AuditEvent.objects.count()

    with pytest.raises(Conflict) as exc:
        update_sku(sku=sku, tracking="lot", name="新名", actor=admin)

    assert exc.value.code == "tracking_locked"
    assert exc.value.details == {"sku": sku.code}
    sku.refresh_from_db()
    assert (sku.tracking, sku.name) == ("none", "旧名")
    assert (StockMove.objects.count(), AuditEvent.objects.count()) == (moves, events)


def test_other_fields_still_change_after_moves(admin, store):
    sku = make_sku(admin, tracking="none")
    stock(admin, store, sku, 2_000)

    update_sku(sku=sku, tracking="none", retail_price_fen=990, actor=admin)

    sku.refresh_from_db()
    assert (sku.tracking, sku.retail_price_fen) == ("none", 990)
