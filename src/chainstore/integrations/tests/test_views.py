import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chainstore.catalog.models import Category
from chainstore.integrations.tests.conftest import csv_bytes, snapshot

pytestmark = pytest.mark.django_db


def post_file(client, content, *, dry_run=True, dataset="categories"):
    data = {"dataset": dataset, "file": SimpleUploadedFile("cats.csv", content)}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(reverse("integrations:index"), data)


def test_page_lists_datasets_in_chinese_by_default(client, admin):
    client.force_login(admin)
    response = client.get(reverse("integrations:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "opening_stock" in html and "导入 / 导出" in html and "期初库存" in html
    english = client.get(reverse("integrations:index"), headers={"accept-language": "en"})
    assert "Import / Export" in english.content.decode()
    assert reverse("integrations:template", args=["skus", "xlsx"]) in html


def test_dry_run_report_then_import_now(client, admin):
    client.force_login(admin)
    data = csv_bytes(["code", "name"], [["C1", "饮料"], ["C2", "零食"]])
    response = post_file(client, data)
    assert response.status_code == 200
    assert response.context["report"].create_rows == [2, 3]
    assert 'data-testid="import-now"' in response.content.decode()
    assert Category.objects.count() == 0
    response = client.post(reverse("integrations:apply"))
    assert response.status_code == 200 and response.context["report"].applied
    assert Category.objects.count() == 2
    # the stored upload is gone: a second click cannot import again
    response = client.post(reverse("integrations:apply"))
    assert response.status_code == 302 and Category.objects.count() == 2


def test_errors_are_listed_with_row_and_column(client, admin):
    client.force_login(admin)
    before = snapshot()
    response = post_file(client, csv_bytes(["code", "name"], [["C1", ""]]), dry_run=False)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="error-table"' in html and "<code>name</code>" in html
    assert "必填" in html
    assert 'data-testid="import-now"' not in html
    assert snapshot() == before


def test_garbage_file_shows_a_message(client, admin):
    client.force_login(admin)
    response = post_file(client, b"\x00\x01junk")
    assert response.status_code == 400
    assert Category.objects.count() == 0


def test_downloads(client, admin, store):
    client.force_login(admin)
    response = client.get(reverse("integrations:template", args=["skus", "csv"]))
    assert response.content.startswith(b"\xef\xbb\xbfcode,name,")
    response = client.get(
        reverse("integrations:export", args=["sites", "csv"]) + f"?site={store.code}"
    )
    assert store.code in response.content.decode("utf-8-sig")


def test_cashier_gets_403(client, cashier):
    client.force_login(cashier)
    assert client.get(reverse("integrations:index")).status_code == 403
    before = snapshot()
    response = post_file(client, csv_bytes(["code", "name"], [["C1", "x"]]), dry_run=False)
    assert response.status_code == 403
    assert snapshot() == before
