"""The transfer cost screen: filters, totals, table, chart data and download links."""

import json
import re

import pytest
from django.urls import reverse

from chainstore.core.testing import make_user
from chainstore.transfers.tests.costs_world import cost_world


@pytest.fixture
def world(admin):
    return cost_world(admin)


def _chart_data(html: str) -> dict:
    match = re.search(
        r'<script id="transfer-cost-data" type="application/json">(.*?)</script>', html
    )
    assert match, "chart data missing"
    return json.loads(match.group(1))


@pytest.mark.django_db
def test_screen_shows_totals_rows_chart_and_downloads(client, admin, world):
    client.force_login(admin)

    response = client.get(
        reverse("transfers:costs"), {"from": "2026-01", "to": "2026-02"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="goods-value">¥92.92<' in html
    assert 'data-testid="transfer-cost">¥31.06<' in html
    assert 'data-testid="cost-percent">33.43%<' in html
    assert html.count("<code>SA01</code>") == 4  # January, February, its total, as a source
    assert _chart_data(html) == {
        "months": ["2026-01", "2026-02"],
        "value": ["79.58", "13.33"],
        "cost": ["28.06", "3.00"],
        "percent": ["35.26", "22.51"],
    }
    assert "/api/v1/transfers/cost-report.csv?from=2026-01&amp;to=2026-02" in html
    assert "/api/v1/transfers/cost-report.xlsx?" in html
    assert "echarts.min.js" in html


@pytest.mark.django_db
def test_screen_in_chinese_for_a_store_manager_and_bad_input(client, world):
    manager = make_user("store_manager", sites=[world.store_b])
    client.force_login(manager)

    mine = client.get(
        reverse("transfers:costs"),
        {"from": "2026-01", "to": "2026-02"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    refused = client.get(reverse("transfers:costs"), {"site": "SA01"})
    bad = client.get(reverse("transfers:costs"), {"from": "2026-05", "to": "2026-01"})

    html = mine.content.decode()
    assert mine.status_code == 200
    assert "<code>SB01</code>" in html and "<code>SA01</code>" in html  # SA01 only as a source
    assert html.count("<code>SA01</code>") == 1
    assert refused.status_code == 403
    assert bad.status_code == 200 and 'role="alert"' in bad.content.decode()
    client.force_login(make_user("cashier", sites=[world.store_b]))
    assert client.get(reverse("transfers:costs")).status_code == 403
