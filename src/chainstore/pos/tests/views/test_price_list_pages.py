"""Price list pages: create/edit, prices by code or scan, CSV upload with a dry run."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chainstore.core.models import AuditEvent
from chainstore.pos.models import PriceList, PriceListItem
from chainstore.pos.tests.views.shop import Shop, logged_in

pytestmark = pytest.mark.django_db


def _list(shop: Shop, **kw: Any) -> PriceList:
    plist = PriceList.objects.create(code=kw.pop("code", "HZ"), name=kw.pop("name", "杭州门店价"))
    for sku, price in kw.pop("prices", {}).items():
        PriceListItem.objects.create(price_list=plist, sku=sku, price_fen=price)
    return plist


def _csv(text: str, name: str = "prices.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8-sig"), content_type="text/csv")


def test_create_and_edit_a_store_override(shop: Shop):
    client = logged_in(shop.planner)
    assert client.get(reverse("pos:price_list_create")).status_code == 200

    created = client.post(
        reverse("pos:price_list_create"),
        {
            "code": "HZ",
            "name": "杭州门店价",
            "stores": ["SHA01"],
            "priority": "10",
            "is_active": "on",
        },
    )
    edited = client.post(
        reverse("pos:price_list_edit", args=["HZ"]),
        {"name": "杭州价", "stores": ["SHA01", "SHA02"], "priority": "5", "is_active": "on"},
    )

    assert created.status_code == 302 and edited.status_code == 302
    plist = PriceList.objects.get()
    assert (plist.name, plist.priority) == ("杭州价", 5)
    assert sorted(plist.stores.values_list("code", flat=True)) == ["SHA01", "SHA02"]
    assert client.get(reverse("pos:price_lists")).status_code == 200


def test_window_must_end_after_it_starts(shop: Shop):
    client = logged_in(shop.planner)

    res = client.post(
        reverse("pos:price_list_create"),
        {
            "code": "WEEK",
            "name": "本周特价",
            "priority": "0",
            "valid_from": "2030-01-08T00:00",
            "valid_to": "2030-01-01T00:00",
        },
    )

    assert res.status_code == 422 and res.context["form"].errors["valid_to"]
    assert not PriceList.objects.exists()


def test_set_price_by_code_and_by_scan_then_remove(shop: Shop):
    plist = _list(shop)
    client = logged_in(shop.planner)
    url = reverse("pos:price_set", args=["HZ"])

    by_code = client.post(url, {"sku": "COLA", "price": "3.80"})
    by_scan = client.post(url, {"sku": shop.chips.barcodes.get().code, "price": "8.50"})
    changed = client.post(url, {"sku": "COLA", "price": "3.60"})
    removed = client.post(reverse("pos:price_remove", args=["HZ", "CHIPS"]))

    assert [r.status_code for r in (by_code, by_scan, changed, removed)] == [302] * 4
    assert list(plist.items.values_list("sku__code", "price_fen")) == [("COLA", 360)]
    page = client.get(reverse("pos:price_list_detail", args=["HZ"]))
    assert [i.sku.code for i in page.context["page"]] == ["COLA"]


def test_unknown_sku_and_bad_price_are_form_errors(shop: Shop):
    _list(shop)
    client = logged_in(shop.planner)
    url = reverse("pos:price_set", args=["HZ"])

    unknown = client.post(url, {"sku": "6900000000000", "price": "1.00"})
    negative = client.post(url, {"sku": "COLA", "price": "-1"})

    assert unknown.status_code == 422 and unknown.context["form"].errors["sku"]
    assert negative.status_code == 422 and negative.context["form"].errors["price"]
    assert not PriceListItem.objects.exists()


def test_csv_dry_run_lists_bad_rows_and_changes_nothing(shop: Shop):
    plist = _list(shop, prices={shop.cola: 300})
    client = logged_in(shop.planner)
    events = AuditEvent.objects.count()
    text = "sku_code,price\nCOLA,2.90\nCHIPS,6.50\nNOPE,1.00\nWATER,abc\nCHIPS,6.00\n"

    res = client.post(reverse("pos:price_import", args=["HZ"]), {"file": _csv(text)})

    assert res.status_code == 422
    report = res.context["report"]
    assert [(r.row, r.status) for r in report.rows] == [
        (2, "change"),
        (3, "add"),
        (4, "error"),
        (5, "error"),
        (6, "error"),
    ]
    html = res.content.decode()
    assert 'data-testid="bad-rows"' in html and 'data-testid="import-now"' not in html
    assert list(plist.items.values_list("sku__code", "price_fen")) == [("COLA", 300)]
    assert AuditEvent.objects.count() == events


def test_csv_checked_then_imported(shop: Shop):
    plist = _list(shop, prices={shop.cola: 300})
    client = logged_in(shop.planner)
    text = "商品编码,价格\nCOLA,¥2.90\nCHIPS,6.5\nWATER,2.00\n"

    checked = client.post(reverse("pos:price_import", args=["HZ"]), {"file": _csv(text)})
    assert checked.status_code == 200
    assert not plist.items.filter(sku=shop.chips).exists()  # a dry run first
    rows = checked.context["checked_rows"]
    imported = client.post(reverse("pos:price_import", args=["HZ"]), {"rows": rows})

    assert imported.status_code == 302
    assert dict(plist.items.values_list("sku__code", "price_fen")) == {
        "COLA": 290,
        "CHIPS": 650,
        "WATER": 200,
    }
    event = AuditEvent.objects.get(action="price_list.import")
    assert (event.data["added"], event.data["changed"]) == (2, 1)


def test_headerless_csv_and_empty_file(shop: Shop):
    _list(shop)
    client = logged_in(shop.planner)

    headerless = client.post(reverse("pos:price_import", args=["HZ"]), {"file": _csv("COLA,3\n")})
    empty = client.post(reverse("pos:price_import", args=["HZ"]), {"file": _csv("\n")})

    assert [(r.sku_code, r.status) for r in headerless.context["report"].rows] == [("COLA", "add")]
    assert empty.status_code == 422 and empty.context["import_error"]
    assert not PriceListItem.objects.exists()


def test_store_manager_cannot_edit_prices(shop: Shop):
    _list(shop)
    client = logged_in(shop.manager)

    responses = [
        client.get(reverse("pos:price_lists")),
        client.post(reverse("pos:price_set", args=["HZ"]), {"sku": "COLA", "price": "1"}),
        client.post(reverse("pos:price_import", args=["HZ"]), {"file": _csv("COLA,1\n")}),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert not PriceListItem.objects.exists()
