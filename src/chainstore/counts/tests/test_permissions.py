import pytest

from chainstore.core.errors import PermissionDenied
from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_site, make_user
from chainstore.counts import services
from chainstore.counts.models import CountEntry, CountLine, CountStatus, StockCount
from chainstore.inventory.models import StockOperation

from .conftest import put

pytestmark = pytest.mark.django_db


def test_roles_and_site_scope_are_enforced(admin, manager, counter, store, bin_a, sku):
    put(admin, store, sku, bin_a, 1_000)
    elsewhere = make_user("store_manager", sites=[make_site(admin)])
    cashier = make_user("cashier", sites=[store])
    with pytest.raises(PermissionDenied) as exc:
        services.create_count(site=store, name="越权", actor=elsewhere)
    assert exc.value.code == "site_out_of_scope"
    with pytest.raises(PermissionDenied):
        services.create_count(site=store, name="越权", actor=counter)  # operators only record
    assert StockCount.objects.count() == 0

    count = services.create_count(site=store, name="盘点", actor=manager)
    with pytest.raises(PermissionDenied):
        services.freeze_count(count=count, actor=counter)
    count = services.freeze_count(count=count, actor=manager)
    lines = CountLine.objects.count()
    audits = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        services.record_entry(count=count, location=bin_a, sku=sku, quantity=1, actor=cashier)
    with pytest.raises(PermissionDenied):
        services.record_entry(count=count, location=bin_a, sku=sku, quantity=1, actor=elsewhere)
    services.record_entry(count=count, location=bin_a, sku=sku, quantity=900, actor=counter)
    with pytest.raises(PermissionDenied):
        services.approve_count(count=count, actor=counter, idempotency_key="x")
    with pytest.raises(PermissionDenied):
        services.request_recount(count=count, actor=counter)
    with pytest.raises(PermissionDenied):
        services.cancel_count(count=count, actor=elsewhere)
    count.refresh_from_db()
    assert count.status == CountStatus.COUNTING
    assert CountLine.objects.count() == lines and CountEntry.objects.count() == 1
    assert AuditEvent.objects.count() == audits
    assert not StockOperation.objects.filter(kind="count").exists()
