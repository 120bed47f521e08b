import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.urls import reverse

from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_bin, make_sku, stock
from chainstore.inventory import services as inventory
from chainstore.sites.models import Location, Zone

pytestmark = pytest.mark.django_db

GRID = {
    "aisle_from": "1",
    "aisle_to": "2",
    "rack_from": "1",
    "rack_to": "3",
    "level_from": "1",
    "level_to": "2",
    "aisle_spacing": "3.00",
    "bin_width": "1.20",
}


def _bins(site):
    return list(
        Location.objects.filter(site=site, kind="storage")
        .order_by("code")
        .values_list("code", flat=True)
    )


def test_warehouse_manager_creates_zone_and_bin_at_their_site(client, wh_manager, warehouse):
    client.force_login(wh_manager)
    assert client.get(reverse("sites:zone_create", args=[warehouse.code])).status_code == 200

    r = client.post(
        reverse("sites:zone_create", args=[warehouse.code]),
        {"code": "C", "name": "冷藏区", "storage": "chilled"},
    )
    zone = Zone.objects.get(site=warehouse, code="C")
    assert r.status_code == 302 and zone.storage == "chilled"

    assert client.get(reverse("sites:bin_create", args=[warehouse.code])).status_code == 200
    r = client.post(
        reverse("sites:bin_create", args=[warehouse.code]),
        {
            "code": "C-01-01-1",
            "name": "冷藏货架",
            "zone": str(zone.pk),
            "kind": "storage",
            "aisle": "01",
            "rack": "01",
            "level": "1",
            "position": "",
            "x": "3",
            "y": "1.2",
        },
    )

    assert r.status_code == 302
    loc = Location.objects.get(site=warehouse, code="C-01-01-1")
    assert (loc.zone_id, loc.name, loc.x, loc.y) == (
        zone.pk,
        "冷藏货架",
        Decimal("3"),
        Decimal("1.2"),
    )


def test_duplicate_bin_code_is_a_form_error(client, admin, wh_manager, warehouse):
    make_bin(admin, warehouse, code="X-1")
    client.force_login(wh_manager)

    r = client.post(
        reverse("sites:bin_create", args=[warehouse.code]),
        {"code": "X-1", "name": "又一个", "zone": "", "kind": "storage"},
    )

    assert r.status_code == 422 and r.context["form"].errors["code"]
    assert Location.objects.filter(site=warehouse, code="X-1").get().name == ""


def test_warehouse_manager_cannot_add_bins_at_another_site(
    client, wh_manager, other_warehouse, admin
):
    from chainstore.sites.services import create_zone

    zone = create_zone(site=other_warehouse, code="B", name="B区", actor=admin)
    client.force_login(wh_manager)
    before = Location.objects.filter(site=other_warehouse).count()

    responses = [
        client.post(
            reverse("sites:bin_create", args=[other_warehouse.code]),
            {"code": "B-1", "kind": "storage", "zone": ""},
        ),
        client.post(
            reverse("sites:zone_create", args=[other_warehouse.code]),
            {"code": "Z", "name": "Z", "storage": "ambient"},
        ),
        client.post(
            reverse("sites:bin_grid", args=[other_warehouse.code]),
            {**GRID, "zone": str(zone.pk), "confirm": "1"},
        ),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert Location.objects.filter(site=other_warehouse).count() == before
    assert list(Zone.objects.filter(site=other_warehouse).values_list("code", flat=True)) == ["B"]


def test_bin_grid_previews_then_creates(client, wh_manager, warehouse, zone_a):
    client.force_login(wh_manager)
    url = reverse("sites:bin_grid", args=[warehouse.code])
    assert client.get(url, {"zone": zone_a.pk}).status_code == 200

    preview = client.post(url, {**GRID, "zone": str(zone_a.pk), "confirm": "0"})

    assert preview.status_code == 200
    data = preview.context["preview"]
    assert data["count"] == 12 and data["taken"] == []
    assert data["first"][0]["code"] == "A-01-01-1" and data["last"]["code"] == "A-02-03-2"
    assert _bins(warehouse) == []  # a preview creates nothing

    # A confirm without (or with a stale) preview signature only previews again.
    stale = client.post(url, {**GRID, "zone": str(zone_a.pk), "confirm": "1", "previewed": "x"})
    assert stale.status_code == 200 and _bins(warehouse) == []

    r = client.post(
        url, {**GRID, "zone": str(zone_a.pk), "confirm": "1", "previewed": data["signature"]}
    )

    assert r.status_code == 302
    codes = _bins(warehouse)
    assert len(codes) == 12 and codes[0] == "A-01-01-1" and codes[-1] == "A-02-03-2"
    last = Location.objects.get(site=warehouse, code="A-02-03-2")
    assert (last.zone_id, last.aisle, last.rack, last.level) == (zone_a.pk, "02", "03", "2")
    assert (last.x, last.y) == (Decimal("6.00"), Decimal("3.60"))


def test_bin_grid_with_taken_codes_shows_them_and_creates_nothing(
    client, admin, wh_manager, warehouse, zone_a
):
    make_bin(admin, warehouse, code="A-02-02-1", zone=zone_a)
    client.force_login(wh_manager)
    url = reverse("sites:bin_grid", args=[warehouse.code])
    signature = client.post(url, {**GRID, "zone": str(zone_a.pk)}).context["preview"]["signature"]

    r = client.post(url, {**GRID, "zone": str(zone_a.pk), "confirm": "1", "previewed": signature})

    assert r.status_code == 422
    assert r.context["preview"]["taken"] == ["A-02-02-1"]
    assert b'data-testid="grid-taken"' in r.content
    assert _bins(warehouse) == ["A-02-02-1"]


def test_bin_grid_rejects_reversed_ranges(client, wh_manager, warehouse, zone_a):
    client.force_login(wh_manager)

    r = client.post(
        reverse("sites:bin_grid", args=[warehouse.code]),
        {**GRID, "zone": str(zone_a.pk), "rack_from": "5", "rack_to": "2"},
    )

    assert r.status_code == 422 and r.context["form"].errors["rack_to"]
    assert r.context["preview"] is None


def test_deactivate_empty_bin_and_refuse_bin_with_stock(client, admin, wh_manager, warehouse):
    empty = make_bin(admin, warehouse, code="E-1")
    full = make_bin(admin, warehouse, code="F-1")
    sku = make_sku(admin)
    stock(admin, warehouse, sku, 3_000)
    inventory.put_away(
        sku=sku,
        quantity=3_000,
        from_location=warehouse.receiving_location,
        to_location=full,
        actor=admin,
    )
    client.force_login(wh_manager)

    ok = client.post(reverse("sites:bin_status", args=[warehouse.code, empty.pk, "deactivate"]))
    refused = client.post(
        reverse("sites:bin_status", args=[warehouse.code, full.pk, "deactivate"]), follow=True
    )

    assert ok.status_code == 302
    empty.refresh_from_db()
    full.refresh_from_db()
    assert (empty.is_active, full.is_active) == (False, True)
    assert any("F-1" in str(m) for m in refused.context["messages"])
    assert AuditEvent.objects.filter(action="location.deactivate").count() == 1

    again = client.post(reverse("sites:bin_status", args=[warehouse.code, empty.pk, "activate"]))
    empty.refresh_from_db()
    assert again.status_code == 302 and empty.is_active


def test_store_manager_cannot_deactivate(client, admin, store):
    from chainstore.core.testing import make_user

    loc = make_bin(admin, store, code="S-1")
    client.force_login(make_user("store_manager", sites=[store]))

    r = client.post(reverse("sites:bin_status", args=[store.code, loc.pk, "deactivate"]))

    assert r.status_code == 403
    loc.refresh_from_db()
    assert loc.is_active


def test_layout_plots_bins_by_zone(client, admin, warehouse, zone_a):
    from chainstore.sites.services import BinGrid, create_bin_grid, create_zone

    zone_b = create_zone(site=warehouse, code="B", name="B区", actor=admin)
    create_bin_grid(
        site=warehouse,
        zone=zone_a,
        grid=BinGrid(aisle_from=1, aisle_to=2, rack_from=1, rack_to=2, level_from=1, level_to=3),
        actor=admin,
    )
    make_bin(admin, warehouse, code="B-9", zone=zone_b, x=Decimal("12"), y=Decimal("1.2"))
    client.force_login(admin)

    r = client.get(reverse("sites:layout", args=[warehouse.code]))

    assert r.status_code == 200
    assert len(r.context["cells"]) == 5  # 4 rack positions in A (3 levels each) + B-9
    html = r.content.decode()
    start = html.index('<svg xmlns="http://www.w3.org/2000/svg" viewBox')
    svg = ET.fromstring(html[start : html.index("</svg>", start) + len("</svg>")])
    fills = [rect.get("fill") for rect in svg.iter("{http://www.w3.org/2000/svg}rect")]
    assert fills.count("#0d6efd") == 4 and fills.count("#198754") == 1
    assert r.context["unplaced"] == 3  # RECV, STOCK, DAMAGED have no coordinates
