import pytest

from chainstore.core.errors import PermissionDenied, ValidationFailed
from chainstore.core.testing import make_sku, make_user, stock
from chainstore.core.tests.helpers import snapshot
from chainstore.inventory import selectors, services
from chainstore.inventory.models import SiteSku

pytestmark = pytest.mark.django_db


def test_set_safety_stock_creates_and_updates(admin, warehouse, sku):
    row = services.set_safety_stock(site=warehouse, sku=sku, quantity=5_000, actor=admin)
    assert SiteSku.objects.get(pk=row.pk).safety_stock == 5_000
    services.set_safety_stock(site=warehouse, sku=sku, quantity=None, actor=admin)
    assert SiteSku.objects.get(pk=row.pk).safety_stock is None


def test_negative_safety_stock_is_refused(admin, warehouse, sku):
    before = snapshot()
    with pytest.raises(ValidationFailed):
        services.set_safety_stock(site=warehouse, sku=sku, quantity=-1, actor=admin)
    assert snapshot() == before


def test_below_safety_stock_uses_available(admin, warehouse, store, sku):
    loc = warehouse.stock_location
    other = make_sku(admin)
    stock(admin, warehouse, sku, 10_000, location=loc)
    stock(admin, warehouse, other, 10_000, location=loc)
    services.set_safety_stock(site=warehouse, sku=sku, quantity=8_000, actor=admin)
    services.set_safety_stock(site=warehouse, sku=other, quantity=8_000, actor=admin)
    services.set_safety_stock(site=store, sku=sku, quantity=1_000, actor=admin)  # nothing there
    assert {(r.site_id, r.sku_id) for r in selectors.below_safety_stock(actor=admin)} == {
        (store.pk, sku.pk)
    }

    services.reserve(site=warehouse, sku=sku, quantity=3_000, actor=admin)

    rows = {(r.site_id, r.sku_id): r for r in selectors.below_safety_stock(actor=admin)}
    assert set(rows) == {(warehouse.pk, sku.pk), (store.pk, sku.pk)}
    hit = rows[(warehouse.pk, sku.pk)]
    assert (hit.on_hand, hit.available, hit.shortfall) == (10_000, 7_000, 1_000)
    assert [r.site_id for r in selectors.below_safety_stock(actor=admin, site=store)] == [store.pk]


def test_below_safety_stock_is_scoped(admin, warehouse, store, sku):
    services.set_safety_stock(site=warehouse, sku=sku, quantity=1_000, actor=admin)
    services.set_safety_stock(site=store, sku=sku, quantity=1_000, actor=admin)
    manager = make_user("store_manager", sites=[store])
    assert [r.site_id for r in selectors.below_safety_stock(actor=manager)] == [store.pk]
    with pytest.raises(PermissionDenied):
        selectors.below_safety_stock(actor=manager, site=warehouse)


def test_operator_cannot_set_safety_stock(admin, warehouse, sku):
    operator = make_user("warehouse_operator", sites=[warehouse])
    before = snapshot()
    with pytest.raises(PermissionDenied) as exc:
        services.set_safety_stock(site=warehouse, sku=sku, quantity=1, actor=operator)
    assert exc.value.code == "permission_denied"
    assert snapshot() == before
