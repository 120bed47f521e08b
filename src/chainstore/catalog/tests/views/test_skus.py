import pytest
from django.urls import reverse

from chainstore.catalog.models import Barcode, Brand, Sku
from chainstore.catalog.services import create_category
from chainstore.core.models import AuditEvent
from chainstore.core.testing import ean13, make_sku, stock

from .conftest import SKU_FORM

pytestmark = pytest.mark.django_db


def test_planner_creates_a_sku_with_brand_and_barcode(planner_client, admin):
    dairy = create_category(code="DAIRY", name="乳制品", actor=admin)
    barcode = ean13(777001)
    assert planner_client.get(reverse("catalog:sku_create")).status_code == 200

    r = planner_client.post(
        reverse("catalog:sku_create"),
        {**SKU_FORM, "category": str(dairy.pk), "barcode": barcode},
    )

    sku = Sku.objects.get(code="MILK-950")
    assert r.status_code == 302 and r.url == reverse("sku_detail", args=[sku.pk])
    assert (sku.name, sku.category_id, sku.brand.name, sku.base_unit) == (
        "光明鲜牛奶 950ml",
        dairy.pk,
        "光明",
        "瓶",
    )
    assert (sku.tracking, sku.shelf_life_days, sku.storage) == ("lot", 7, "chilled")
    assert (sku.retail_price_fen, sku.standard_cost_micros, sku.is_active) == (
        1280,
        8_500_000,
        True,
    )
    assert list(sku.barcodes.values_list("code", "kind", "is_primary")) == [
        (barcode, "ean13", True)
    ]


def test_invalid_barcode_on_create_is_shown_and_nothing_is_created(planner_client):
    r = planner_client.post(reverse("catalog:sku_create"), {**SKU_FORM, "barcode": "6901234567890"})

    assert r.status_code == 422
    assert "EAN-13" in r.context["form"].errors["barcode"][0]
    assert not Sku.objects.exists() and not Brand.objects.exists()


def test_duplicate_sku_code_is_a_form_error(planner_client, admin):
    make_sku(admin, code="MILK-950")

    r = planner_client.post(reverse("catalog:sku_create"), SKU_FORM)

    assert r.status_code == 422 and r.context["form"].errors["code"]
    assert Sku.objects.count() == 1


def test_edit_sku_changes_fields(planner_client, admin):
    sku = make_sku(admin, code="MILK-950", name="旧名", tracking="none")
    url = reverse("catalog:sku_edit", args=[sku.pk])
    form = planner_client.get(url).context["form"]
    assert form.initial["retail_price"] == sku.retail_price_fen / 100

    r = planner_client.post(url, {**SKU_FORM, "code": "IGNORED", "is_active": ""})

    assert r.status_code == 302
    sku.refresh_from_db()
    assert (sku.code, sku.name, sku.tracking, sku.brand.name) == (
        "MILK-950",
        "光明鲜牛奶 950ml",
        "lot",
        "光明",
    )
    assert (sku.retail_price_fen, sku.is_active) == (1280, False)
    event = AuditEvent.objects.get(action="sku.update")
    assert event.data["tracking"] == ["none", "lot"]


def test_edit_refuses_tracking_change_after_stock_moves(planner_client, admin, store):
    sku = make_sku(admin, code="MILK-950", tracking="none")
    stock(admin, store, sku, 5_000)
    events = AuditEvent.objects.count()

    r = planner_client.post(reverse("catalog:sku_edit", args=[sku.pk]), SKU_FORM)

    assert r.status_code == 422
    assert "tracking" in r.context["form"].errors
    sku.refresh_from_db()
    assert (sku.tracking, sku.name, sku.brand) == ("none", sku.name, None)
    assert AuditEvent.objects.count() == events
    assert not Brand.objects.exists()


def test_add_barcode_validates_and_adds(planner_client, admin):
    sku = make_sku(admin)
    url = reverse("catalog:barcode_add", args=[sku.pk])
    assert planner_client.get(url).status_code == 200

    bad = planner_client.post(url, {"code": "12345678901", "kind": "upca"})
    epc_bad = planner_client.post(url, {"code": "XYZ", "kind": "epc"})
    good = planner_client.post(url, {"code": "3034257bf7194e4000001a85", "kind": "epc"})

    assert bad.status_code == 422 and "UPC-A" in bad.context["form"].errors["code"][0]
    assert epc_bad.status_code == 422 and "EPC" in epc_bad.context["form"].errors["code"][0]
    assert good.status_code == 302
    assert list(sku.barcodes.order_by("pk").values_list("kind", "code"))[1:] == [
        ("epc", "3034257BF7194E4000001A85")
    ]


def test_duplicate_barcode_is_refused(planner_client, admin):
    taken = ean13(778001)
    make_sku(admin, barcode=taken)
    other = make_sku(admin)

    r = planner_client.post(
        reverse("catalog:barcode_add", args=[other.pk]), {"code": taken, "kind": "ean13"}
    )

    assert r.status_code == 422 and r.context["form"].errors["code"]
    assert Barcode.objects.filter(code=taken).count() == 1
    assert other.barcodes.count() == 1


def test_store_manager_cannot_create_or_edit_skus(client, admin, store_manager):
    sku = make_sku(admin, name="原名")
    client.force_login(store_manager)

    responses = [
        client.get(reverse("catalog:sku_create")),
        client.post(reverse("catalog:sku_create"), SKU_FORM),
        client.post(reverse("catalog:sku_edit", args=[sku.pk]), SKU_FORM),
        client.post(
            reverse("catalog:barcode_add", args=[sku.pk]), {"code": ean13(1), "kind": "ean13"}
        ),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert list(Sku.objects.values_list("name", flat=True)) == ["原名"]
    assert sku.barcodes.count() == 1


def test_manage_buttons_only_for_catalog_managers(client, admin, planner, store_manager):
    sku = make_sku(admin)
    client.force_login(store_manager)
    assert b'data-testid="new-sku"' not in client.get(reverse("sku_list")).content
    detail = client.get(reverse("sku_detail", args=[sku.pk])).content
    assert b'data-testid="edit-sku"' not in detail and b'data-testid="print-labels"' in detail

    client.force_login(planner)
    assert b'data-testid="new-sku"' in client.get(reverse("sku_list")).content
    detail = client.get(reverse("sku_detail", args=[sku.pk])).content
    assert b'data-testid="edit-sku"' in detail and b'data-testid="add-barcode"' in detail
