import pytest

from chainstore.core.testing import make_user
from chainstore.integrations.errors import ImportInvalid
from chainstore.integrations.services import import_file
from chainstore.integrations.tests.conftest import csv_bytes, errors_of, snapshot, xlsx_bytes
from chainstore.sites.models import Location, Site, Zone

pytestmark = pytest.mark.django_db

SITES = ["code", "name", "kind", "address", "city", "region", "latitude", "longitude", "timezone"]
LOCS = [
    "site_code",
    "code",
    "zone_code",
    "zone_name",
    "kind",
    "aisle",
    "rack",
    "level",
    "position",
    "x",
    "y",
]


def run(actor, dataset, headers, rows, *, dry_run=True, xlsx=False):
    data = xlsx_bytes(headers, rows) if xlsx else csv_bytes(headers, rows)
    return import_file(
        dataset=dataset,
        data=data,
        filename="f.xlsx" if xlsx else "f.csv",
        actor=actor,
        dry_run=dry_run,
    )


def test_sites_from_xlsx_are_created_with_default_locations(admin):
    rows = [
        ["CDC1", "上海中心仓", "总仓", "嘉定区", "上海", "华东", 31.3, 121.25, "Asia/Shanghai"],
        ["ST01", "静安店", "store", "", "上海", "华东", "", "", ""],
    ]
    report = run(admin, "sites", SITES, rows, dry_run=False, xlsx=True)
    assert report.applied and report.create_rows == [2, 3]
    cdc = Site.objects.get(code="CDC1")
    assert (cdc.kind, str(cdc.latitude), cdc.timezone) == ("cdc", "31.300000", "Asia/Shanghai")
    assert cdc.receiving_location.code == "RECV"
    assert run(admin, "sites", SITES, rows, xlsx=True).unchanged_rows == [2, 3]


def test_site_errors(admin, store):
    rows = [
        ["N1", "甲", "mall", "", "", "", "", "", ""],
        ["N2", "乙", "store", "", "", "", "91", "", ""],
        ["N3", "丙", "store", "", "", "", "", "-181", ""],
        ["N4", "丁", "store", "", "", "", "", "", "Mars/Base"],
        [store.code, "另一个名字", "store", "", "", "", "", "", ""],
    ]
    before = snapshot()
    report = run(admin, "sites", SITES, rows)
    assert errors_of(report) == [
        (2, "kind", "invalid_choice"),
        (3, "latitude", "out_of_range"),
        (4, "longitude", "out_of_range"),
        (5, "timezone", "invalid_timezone"),
        (6, "code", "site_exists"),
    ]
    with pytest.raises(ImportInvalid):
        run(admin, "sites", SITES, rows, dry_run=False)
    assert snapshot() == before


def test_locations_create_zones_once_and_bins(admin, warehouse):
    rows = [
        [warehouse.code, "A-01-01", "A", "常温区", "", "01", "01", "1", "1", "1.5", "2"],
        [warehouse.code, "A-01-02", "A", "", "storage", "01", "01", "1", "2", "3", "2"],
        [warehouse.code, "DMG2", "", "", "残损", "", "", "", "", "", ""],
    ]
    report = run(admin, "locations", LOCS, rows, dry_run=False)
    assert report.applied and report.create_rows == [2, 3, 4]
    assert list(Zone.objects.filter(site=warehouse).values_list("code", "name")) == [
        ("A", "常温区")
    ]
    bin_ = Location.objects.get(site=warehouse, code="A-01-02")
    assert (bin_.zone.code, bin_.kind, str(bin_.x), bin_.position) == ("A", "storage", "3.00", "2")
    assert Location.objects.get(site=warehouse, code="DMG2").kind == "damaged"


def test_location_errors_and_scope(admin, warehouse, store):
    manager = make_user("warehouse_manager", sites=[warehouse])
    rows = [
        ["NOPE", "B1", "", "", "", "", "", "", "", "", ""],
        [store.code, "B2", "", "", "", "", "", "", "", "", ""],
        [warehouse.code, "B3", "", "", "customer", "", "", "", "", "", ""],
        [warehouse.code, "B4", "", "", "", "", "", "", "", "x", ""],
        [warehouse.code, "B4", "", "", "", "", "", "", "", "", ""],
    ]
    report = run(admin, "locations", LOCS, rows)
    assert (2, "site_code", "unknown_site") in errors_of(report)
    assert (4, "kind", "invalid_choice") in errors_of(report)
    assert (5, "x", "invalid_number") in errors_of(report)
    assert (6, "code", "duplicate_in_file") in errors_of(report)
    with pytest.raises(Exception) as exc:  # warehouse managers have no data.import
        run(manager, "locations", LOCS, rows)
    assert exc.value.code == "permission_denied"
