import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chainstore.catalog.models import Category
from chainstore.integrations.spreadsheet import read_sheet
from chainstore.integrations.tests.conftest import csv_bytes, snapshot

pytestmark = pytest.mark.django_db

URL = "/api/v1/data/import/categories"


def upload(content, name="cats.csv"):
    return {"file": SimpleUploadedFile(name, content, content_type="text/csv")}


def test_dry_run_upload_returns_the_report(client, admin):
    client.force_login(admin)
    data = csv_bytes(["编码", "名称", "上级编码"], [["C1", "饮料", ""], ["C2", "汽水", "C1"]])
    response = client.post(f"{URL}?dry_run=true", upload(data))
    assert response.status_code == 200
    body = response.json()
    assert (body["dry_run"], body["applied"], body["would_create"], body["errors"]) == (
        True,
        False,
        2,
        [],
    )
    assert Category.objects.count() == 0
    response = client.post(f"{URL}?dry_run=false", upload(data))
    assert response.status_code == 200 and response.json()["applied"] is True
    assert Category.objects.get(code="C2").parent.code == "C1"


def test_real_run_with_errors_is_422_import_invalid(client, admin):
    client.force_login(admin)
    before = snapshot()
    data = csv_bytes(["code", "name", "parent_code"], [["C1", "ok", ""], ["C2", "x", "NOPE"]])
    response = client.post(f"{URL}?dry_run=false", upload(data))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "import_invalid"
    assert body["details"]["errors"] == [
        {
            "row": 3,
            "column": "parent_code",
            "value": "NOPE",
            "code": "unknown_category",
            "message": body["details"]["errors"][0]["message"],
        }
    ]
    assert snapshot() == before


def test_garbage_upload_is_a_clean_error(client, admin):
    client.force_login(admin)
    response = client.post(URL, upload(b"\x00\x00junk", "x.csv"))
    assert (response.status_code, response.json()["code"]) == (422, "not_a_spreadsheet")


def test_cashier_may_not_import_or_export(client, cashier):
    client.force_login(cashier)
    before = snapshot()
    data = csv_bytes(["code", "name"], [["C1", "饮料"]])
    response = client.post(f"{URL}?dry_run=false", upload(data))
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert client.get("/api/v1/data/export/skus").status_code == 403
    assert snapshot() == before


def test_export_download(client, admin, store):
    client.force_login(admin)
    response = client.get("/api/v1/data/export/sites?format=xlsx")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    rows = read_sheet(response.content, "x.xlsx").rows
    assert [cells[0] for _n, cells in rows] == [store.code]
    response = client.get("/api/v1/data/export/sites?format=pdf")
    assert (response.status_code, response.json()["code"]) == (422, "unsupported_format")
    assert client.get("/api/v1/data/export/nothing").json()["code"] == "unknown_dataset"


def test_unauthenticated_is_401(client):
    assert client.get("/api/v1/data/export/skus").status_code == 401
