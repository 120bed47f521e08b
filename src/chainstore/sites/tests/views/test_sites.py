from decimal import Decimal

import pytest
from django.urls import reverse

from chainstore.core.models import AuditEvent
from chainstore.core.testing import make_bin, make_user
from chainstore.sites.models import Location, Site

pytestmark = pytest.mark.django_db

SITE_FORM = {
    "code": "SH-001",
    "name": "上海徐汇店",
    "kind": "store",
    "address": "漕溪北路 1 号",
    "city": "上海",
    "region": "华东",
    "latitude": "31.188000",
    "longitude": "121.437000",
    "timezone": "Asia/Shanghai",
}


def test_index_lists_sites_in_scope_with_counts(client, admin, warehouse, store, zone_a):
    make_bin(admin, warehouse, code="A-01", zone=zone_a)
    make_bin(admin, warehouse, code="A-02", zone=zone_a)
    manager = make_user("warehouse_manager", sites=[warehouse])
    client.force_login(manager)

    page = client.get(reverse("sites:index"))

    assert page.status_code == 200
    rows = list(page.context["page"])
    assert [s.code for s in rows] == [warehouse.code]
    assert (rows[0].zone_count, rows[0].bin_count) == (1, 2)
    assert page.context["can_create"] is False


def test_admin_index_filters_by_kind(client, admin, warehouse, store):
    client.force_login(admin)

    page = client.get(reverse("sites:index"), {"kind": "store"})

    assert [s.code for s in page.context["page"]] == [store.code]
    assert b'data-testid="new-site"' in page.content


def test_admin_creates_and_edits_a_site(client, admin):
    client.force_login(admin)
    assert client.get(reverse("sites:site_create")).status_code == 200

    r = client.post(reverse("sites:site_create"), SITE_FORM)

    site = Site.objects.get(code="SH-001")
    assert r.status_code == 302 and r.url == reverse("sites:detail", args=["SH-001"])
    assert (site.name, site.kind, site.city, site.latitude) == (
        "上海徐汇店",
        "store",
        "上海",
        Decimal("31.188000"),
    )
    assert site.receiving_location.code == "RECV"

    edit = {**SITE_FORM, "name": "上海徐汇旗舰店", "city": "上海市"}
    r = client.post(reverse("sites:site_edit", args=["SH-001"]), edit)

    assert r.status_code == 302
    site.refresh_from_db()
    assert (site.name, site.city, site.kind) == ("上海徐汇旗舰店", "上海市", "store")
    assert AuditEvent.objects.get(action="site.update").data["name"] == [
        "上海徐汇店",
        "上海徐汇旗舰店",
    ]


def test_bad_timezone_and_duplicate_code_are_form_errors(client, admin, store):
    client.force_login(admin)

    bad_tz = client.post(reverse("sites:site_create"), {**SITE_FORM, "timezone": "Mars/Base"})
    dup = client.post(reverse("sites:site_create"), {**SITE_FORM, "code": store.code})

    assert bad_tz.status_code == 422 and bad_tz.context["form"].errors["timezone"]
    assert dup.status_code == 422 and dup.context["form"].errors["code"]
    assert list(Site.objects.values_list("code", flat=True)) == [store.code]


def test_only_admin_creates_sites(client, wh_manager, warehouse):
    client.force_login(wh_manager)

    create = client.post(reverse("sites:site_create"), SITE_FORM)
    edit = client.post(reverse("sites:site_edit", args=[warehouse.code]), SITE_FORM)

    assert (create.status_code, edit.status_code) == (403, 403)
    assert not Site.objects.filter(code="SH-001").exists()
    warehouse.refresh_from_db()
    assert warehouse.name != SITE_FORM["name"]


def test_detail_shows_zones_and_bins_filtered_by_zone(client, admin, warehouse, zone_a):
    make_bin(admin, warehouse, code="A-01-01-1", zone=zone_a, aisle="01", x=Decimal("3"))
    make_bin(admin, warehouse, code="LOOSE-1")
    client.force_login(admin)

    everything = client.get(reverse("sites:detail", args=[warehouse.code]))
    in_zone = client.get(reverse("sites:detail", args=[warehouse.code]), {"zone": zone_a.pk})

    assert everything.status_code == 200
    codes = [loc.code for loc in everything.context["page"]]
    assert {"RECV", "STOCK", "DAMAGED", "A-01-01-1", "LOOSE-1"} == set(codes)
    assert [loc.code for loc in in_zone.context["page"]] == ["A-01-01-1"]
    assert [(z.code, z.bin_count) for z in everything.context["zones"]] == [("A", 1)]


def test_site_outside_scope_is_403(client, wh_manager, other_warehouse):
    client.force_login(wh_manager)

    assert client.get(reverse("sites:detail", args=[other_warehouse.code])).status_code == 403
    assert client.get(reverse("sites:layout", args=[other_warehouse.code])).status_code == 403


def test_store_manager_sees_no_manage_buttons(client, admin, store):
    manager = make_user("store_manager", sites=[store])
    client.force_login(manager)

    page = client.get(reverse("sites:detail", args=[store.code]))

    assert page.status_code == 200
    assert b'data-testid="new-bin"' not in page.content
    assert b'data-testid="edit-site"' not in page.content
    assert client.get(reverse("sites:bin_create", args=[store.code])).status_code == 403
    assert Location.objects.filter(site=store).count() == 3
