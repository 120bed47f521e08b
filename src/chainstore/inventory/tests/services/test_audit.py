import pytest

from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_user, stock
from chainstore.inventory import services
from chainstore.inventory.models import Lot, StockOperation
from chainstore.inventory.tests.conftest import days

pytestmark = pytest.mark.django_db


def test_every_posted_operation_has_an_audit_event(admin, warehouse, lot_sku, bin_a, today):
    manager = make_user("warehouse_manager", sites=[warehouse])
    stock(manager, warehouse, lot_sku, 3_000, lot="L1", expiry=days(today, 2))
    services.put_away(
        sku=lot_sku,
        quantity=3_000,
        from_location=warehouse.receiving_location,
        to_location=bin_a,
        actor=manager,
    )
    services.issue(site=warehouse, sku=lot_sku, quantity=500, actor=manager)
    services.adjust(
        location=bin_a, sku=lot_sku, delta=-100, reason="damage", lot_number="L1", actor=manager
    )
    res = services.reserve(site=warehouse, sku=lot_sku, quantity=400, actor=manager)
    services.release(reservation=res.reservations.get(), actor=manager)
    services.correct_lot_expiry(
        lot=Lot.objects.get(number="L1"), expiry_date=days(today, -1), actor=manager
    )
    services.write_off_expired(site=warehouse, actor=manager)

    ops = list(StockOperation.objects.order_by("pk"))
    assert [op.kind for op in ops] == [
        "receipt", "putaway", "issue", "adjustment", "reserve", "release", "scrap"
    ]  # fmt: skip
    for op in ops:
        event = AuditEvent.objects.get(object_type="inventory.stockoperation", object_id=str(op.pk))
        assert (event.actor, event.action, event.to_state) == (
            manager,
            f"stock.{op.kind}",
            "posted",
        )
        assert event.site_id == warehouse.pk
    release = AuditEvent.objects.get(action="reservation.release")
    assert (release.actor, release.from_state, release.to_state) == (manager, "active", "released")
    lot_fix = AuditEvent.objects.get(action="lot.correct_expiry")
    assert lot_fix.data == {"from": str(days(today, 2)), "to": str(days(today, -1))}
