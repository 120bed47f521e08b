from decimal import Decimal

import pytest

from chainstore.core.errors import Conflict, PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_bin, make_sku, make_user, stock
from chainstore.inventory import services as inventory
from chainstore.inventory.models import Balance
from chainstore.sites.services import (
    create_zone,
    deactivate_location,
    update_location,
    update_site,
    update_zone,
    virtual_location,
)

pytestmark = pytest.mark.django_db


def test_deactivate_refuses_a_bin_with_stock(admin, warehouse):
    bin_ = make_bin(admin, warehouse, code="A-1")
    sku = make_sku(admin)
    stock(admin, warehouse, sku, 2_000)
    inventory.put_away(
        sku=sku,
        quantity=2_000,
        from_location=warehouse.receiving_location,
        to_location=bin_,
        actor=admin,
    )
    events = AuditEvent.objects.count()

    with pytest.raises(Conflict) as exc:
        deactivate_location(location=bin_, actor=admin)

    assert exc.value.code == "location_holds_stock"
    bin_.refresh_from_db()
    assert bin_.is_active
    assert Balance.objects.get(location=bin_).on_hand == 2_000
    assert AuditEvent.objects.count() == events


def test_deactivate_empty_bin(admin, warehouse):
    bin_ = make_bin(admin, warehouse, code="A-1")

    deactivate_location(location=bin_, actor=admin)

    bin_.refresh_from_db()
    assert not bin_.is_active
    event = AuditEvent.objects.get(action="location.deactivate")
    assert (event.from_state, event.to_state, event.site_id) == ("active", "inactive", warehouse.pk)


@pytest.mark.parametrize("which", ["receiving", "stock", "virtual"])
def test_default_and_virtual_locations_stay_active(admin, warehouse, which):
    location = {
        "receiving": warehouse.receiving_location,
        "stock": warehouse.stock_location,
        "virtual": virtual_location("scrap"),
    }[which]
    events = AuditEvent.objects.count()

    with pytest.raises((Conflict, ValidationFailed)):
        deactivate_location(location=location, actor=admin)

    location.refresh_from_db()
    assert location.is_active and AuditEvent.objects.count() == events


def test_deactivate_needs_scope(admin, warehouse, store):
    bin_ = make_bin(admin, warehouse, code="A-1")
    manager = make_user("warehouse_manager", sites=[store])

    with pytest.raises(PermissionDenied):
        deactivate_location(location=bin_, actor=manager)

    bin_.refresh_from_db()
    assert bin_.is_active


def test_update_site_zone_and_location(admin, warehouse):
    zone = create_zone(site=warehouse, code="A", name="A", actor=admin)
    bin_ = make_bin(admin, warehouse, code="A-1")

    update_site(site=warehouse, name="华东配送中心", city="苏州", actor=admin)
    update_zone(zone=zone, name="常温区", storage="ambient", actor=admin)
    update_location(location=bin_, zone=zone, x=Decimal("3"), y=Decimal("1.2"), actor=admin)

    warehouse.refresh_from_db()
    zone.refresh_from_db()
    bin_.refresh_from_db()
    assert (warehouse.name, warehouse.city) == ("华东配送中心", "苏州")
    assert zone.name == "常温区"
    assert (bin_.zone_id, bin_.x, bin_.y) == (zone.pk, Decimal("3.00"), Decimal("1.20"))
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"site.update", "zone.update", "location.update"} <= actions


def test_update_site_refuses_unknown_fields_and_bad_timezone(admin, warehouse):
    name = warehouse.name

    with pytest.raises(ValidationFailed) as unknown:
        update_site(site=warehouse, kind="store", actor=admin)
    with pytest.raises(ValidationFailed) as tz:
        update_site(site=warehouse, name="新名", timezone="Nowhere/City", actor=admin)

    assert (unknown.value.code, tz.value.code) == ("unknown_field", "invalid_timezone")
    warehouse.refresh_from_db()
    assert (warehouse.kind, warehouse.name) == ("cdc", name)


def test_update_site_needs_sites_manage(warehouse):
    manager = make_user("warehouse_manager", sites=[warehouse])

    with pytest.raises(PermissionDenied):
        update_site(site=warehouse, name="改名", actor=manager)

    warehouse.refresh_from_db()
    assert warehouse.name != "改名"
