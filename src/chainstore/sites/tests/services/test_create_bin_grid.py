from decimal import Decimal

import pytest

from chainstore.core.errors import Conflict, PermissionDenied, ValidationFailed
from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_bin, make_site, make_user
from chainstore.sites.models import Location
from chainstore.sites.services import BinGrid, create_bin_grid, create_zone

pytestmark = pytest.mark.django_db

GRID = BinGrid(
    aisle_from=1,
    aisle_to=5,
    rack_from=1,
    rack_to=10,
    level_from=1,
    level_to=4,
    aisle_spacing=Decimal("3"),
    bin_width=Decimal("1.2"),
)


@pytest.fixture
def zone(admin, warehouse):
    return create_zone(site=warehouse, code="A", name="A区", actor=admin)


def _state(site):
    return (
        list(Location.objects.filter(site=site).order_by("code").values_list("code", flat=True)),
        AuditEvent.objects.count(),
    )


def test_creates_every_bin_with_codes_and_coordinates(admin, warehouse, zone):
    created = create_bin_grid(site=warehouse, zone=zone, grid=GRID, actor=admin)

    assert len(created) == 200 == GRID.count
    bins = {b.code: b for b in created}
    b = bins["A-01-03-2"]
    assert (b.zone_id, b.kind, b.aisle, b.rack, b.level) == (zone.pk, "storage", "01", "03", "2")
    assert (b.x, b.y) == (Decimal("3.00"), Decimal("3.60"))
    assert bins["A-05-10-4"].x == Decimal("15.00") and bins["A-05-10-4"].y == Decimal("12.00")
    assert AuditEvent.objects.filter(action="location.create", data__grid=True).count() == 200


def test_one_existing_code_refuses_the_whole_grid(admin, warehouse, zone):
    make_bin(admin, warehouse, code="A-03-07-2", zone=zone)
    before = _state(warehouse)

    with pytest.raises(Conflict) as exc:
        create_bin_grid(site=warehouse, zone=zone, grid=GRID, actor=admin)

    assert exc.value.code == "duplicate_location"
    assert exc.value.details["codes"] == ["A-03-07-2"]
    assert _state(warehouse) == before


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"aisle_from": 0}, "invalid_grid"),
        ({"rack_from": 5, "rack_to": 4}, "invalid_grid"),
        ({"level_to": 10}, "invalid_grid"),
        ({"aisle_to": 60, "rack_to": 50}, "grid_too_large"),
        ({"bin_width": Decimal("-1")}, "invalid_grid"),
    ],
)
def test_invalid_patterns_are_refused(admin, warehouse, zone, changes, code):
    before = _state(warehouse)
    grid = BinGrid(**{**GRID.__dict__, **changes})

    with pytest.raises(ValidationFailed) as exc:
        create_bin_grid(site=warehouse, zone=zone, grid=grid, actor=admin)

    assert exc.value.code == code
    assert _state(warehouse) == before


def test_zone_of_another_site_is_refused(admin, warehouse, zone):
    other = make_site(admin, "rdc")
    before = _state(other)

    with pytest.raises(ValidationFailed) as exc:
        create_bin_grid(site=other, zone=zone, grid=GRID, actor=admin)

    assert exc.value.code == "zone_site_mismatch"
    assert _state(other) == before


def test_manager_only_at_their_own_site(admin, warehouse, zone):
    other = make_site(admin, "rdc")
    other_zone = create_zone(site=other, code="A", name="A区", actor=admin)
    manager = make_user("warehouse_manager", sites=[warehouse])
    before = _state(other)

    with pytest.raises(PermissionDenied):
        create_bin_grid(site=other, zone=other_zone, grid=GRID, actor=manager)
    assert _state(other) == before

    created = create_bin_grid(site=warehouse, zone=zone, grid=GRID, actor=manager)
    assert len(created) == 200
