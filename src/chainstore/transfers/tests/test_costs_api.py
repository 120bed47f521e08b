"""GET /api/v1/transfers/cost-report (JSON, CSV, XLSX) through the mounted API."""

import io

import pytest
from openpyxl import load_workbook

from chainstore.core.testing import make_user
from chainstore.transfers.tests.costs_world import cost_world

URL = "/api/v1/transfers/cost-report"
RANGE = {"from": "2026-01", "to": "2026-02"}


@pytest.fixture
def world(admin):
    return cost_world(admin)


@pytest.mark.django_db
def test_json_report_has_rows_totals_and_sources(client, admin, world):
    client.force_login(admin)

    response = client.get(URL, RANGE)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["month_from"] == "2026-01" and body["month_to"] == "2026-02"
    first = body["rows"][0]
    assert first == {
        "site_code": "SA01",
        "site_name": world.store_a.name,
        "month": "2026-01",
        "transfers": 1,
        "lines": 2,
        "units": "12.500",
        "goods_value": "64.58",
        "goods_value_fen": 6458,
        "transfer_cost": "18.00",
        "transfer_cost_fen": 1800,
        "cost_per_unit_fen": "144.00",
        "cost_percent": "27.87",
    }
    assert body["total"]["transfer_cost_fen"] == 3106
    assert body["total"]["site_code"] is None and body["total"]["month"] is None
    assert [m["month"] for m in body["month_totals"]] == ["2026-01", "2026-02"]
    assert {s["site_code"] for s in body["by_source"]} == {"CW01", "SA01"}


@pytest.mark.django_db
def test_site_filter_scope_and_bad_months(client, world):
    manager = make_user("store_manager", sites=[world.store_b])
    client.force_login(manager)

    mine = client.get(URL, RANGE).json()
    assert {r["site_code"] for r in mine["rows"]} == {"SB01"}
    refused = client.get(URL, {**RANGE, "site": "SA01"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "site_out_of_scope"
    bad = client.get(URL, {"from": "2026-13", "to": "2026-02"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_month"
    backwards = client.get(URL, {"from": "2026-03", "to": "2026-02"})
    assert backwards.status_code == 422 and backwards.json()["code"] == "invalid_month_range"
    client.force_login(make_user("cashier", sites=[world.store_b]))
    assert client.get(URL, RANGE).status_code == 403


@pytest.mark.django_db
def test_defaults_to_the_last_twelve_months(client, admin, world):
    client.force_login(admin)

    body = client.get(URL).json()

    assert len(body["month_totals"]) == 12


@pytest.mark.django_db
def test_csv_and_xlsx_downloads(client, admin, world):
    client.force_login(admin)

    csv_response = client.get(URL + ".csv", {**RANGE, "site": "SA01"}, HTTP_ACCEPT_LANGUAGE="en")
    xlsx_response = client.get(URL + ".xlsx", RANGE)

    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    assert 'filename="transfer-cost-202601-202602-SA01.csv"' in csv_response["Content-Disposition"]
    lines = csv_response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 5  # header, January, February, SA01 total, overall total
    assert lines[1].startswith("SA01,") and ",64.58,18,1.44,27.87" in lines[1]
    assert xlsx_response.status_code == 200
    book = load_workbook(io.BytesIO(xlsx_response.content), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[-1][3:] == (4, 5, 20.5, 92.92, 31.06, 1.5151, 33.43)
