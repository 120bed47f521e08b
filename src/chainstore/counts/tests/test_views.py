import pytest
from django.urls import reverse

from chainstore.core.testing import ean13, make_sku, make_user
from chainstore.counts import services
from chainstore.counts.models import CountEntry, CountStatus, StockCount
from chainstore.inventory.models import Balance
from chainstore.inventory.verify import verify_ledger

from .conftest import put

pytestmark = pytest.mark.django_db


def test_create_freeze_scan_approve_through_the_pages(client, admin, manager, store, bin_a):
    barcode = ean13(515151)
    sku = make_sku(admin, barcode=barcode)
    put(admin, store, sku, bin_a, 5_000)
    client.force_login(manager)
    assert client.get(reverse("counts:index")).status_code == 200
    assert client.get(reverse("counts:create")).status_code == 200

    r = client.post(
        reverse("counts:create"), {"name": "页面盘点", "site": store.code, "scope": "full"}
    )
    count = StockCount.objects.get(name="页面盘点")
    assert r.status_code == 302 and r.url == reverse("counts:detail", args=[count.pk])
    client.post(reverse("counts:action", args=[count.pk, "freeze"]))
    count.refresh_from_db()
    assert count.status == CountStatus.COUNTING

    page = client.get(reverse("counts:scan", args=[count.pk]))
    assert page.status_code == 200 and b'id="count-scan"' in page.content
    url = reverse("counts:record", args=[count.pk])
    r = client.post(
        url, {"location": "A-01", "scan": barcode, "quantity": "3"}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 200 and b'data-testid="scan-ok"' in r.content
    r = client.post(
        url, {"location": "A-01", "scan": barcode, "quantity": "1", "client_key": "k-1"}
    )
    r = client.post(
        url, {"location": "A-01", "scan": barcode, "quantity": "1", "client_key": "k-1"}
    )  # a retried request records nothing
    assert CountEntry.objects.count() == 2
    r = client.post(url, {"location": "A-01", "scan": "6900000000000", "quantity": "1"})
    assert b'data-testid="scan-error"' in r.content
    assert CountEntry.objects.count() == 2

    detail = client.get(reverse("counts:detail", args=[count.pk]), {"show": "variance"})
    assert detail.status_code == 200
    assert detail.context["summary"].lines_with_variance == 1
    assert len(detail.context["rows"]) == 1 and detail.context["rows"][0].variance == -1_000

    r = client.post(
        reverse("counts:action", args=[count.pk, "approve"]), {"idempotency_key": "ui-1"}
    )
    assert r.status_code == 302
    count.refresh_from_db()
    assert count.status == CountStatus.APPROVED
    assert Balance.objects.get(location=bin_a, sku=sku).on_hand == 4_000
    assert verify_ledger() == []


def test_refusals_show_a_message_and_change_nothing(client, admin, store, bin_a, sku):
    operator = make_user("warehouse_operator", sites=[store])
    manager = make_user("store_manager", sites=[store])
    count = services.create_count(site=store, name="受限", actor=manager)
    client.force_login(operator)
    r = client.post(reverse("counts:action", args=[count.pk, "freeze"]), follow=True)
    assert r.status_code == 200
    assert any(m.level_tag == "error" for m in r.context["messages"])
    count.refresh_from_db()
    assert count.status == CountStatus.DRAFT
    outsider = make_user("store_manager", sites=[])
    client.force_login(outsider)
    assert client.get(reverse("counts:detail", args=[count.pk])).status_code == 403


def test_pages_render_in_english_and_chinese(client, admin, manager, store):
    services.create_count(site=store, name="双语", actor=manager)
    client.force_login(manager)
    zh = client.get(reverse("counts:index"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = client.get(reverse("counts:index"), HTTP_ACCEPT_LANGUAGE="en")
    assert "库存盘点".encode() in zh.content and "新建盘点".encode() in zh.content
    assert b"Stock counts" in en.content and b"New count" in en.content
