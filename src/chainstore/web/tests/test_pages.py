"""Pages: login required, scope refusals, dashboard figures, lists and language."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from chainstore.web.tests.conftest import Chain

pytestmark = pytest.mark.django_db

PAGES = ["dashboard", "sku_list", "site_stock", "receiving", "expiring_lots", "safety_alerts"]


@pytest.mark.parametrize("name", PAGES)
def test_pages_redirect_anonymous_users_to_login(client: Client, name: str) -> None:
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("name", PAGES)
def test_pages_render_for_admin(client: Client, chain: Chain, name: str) -> None:
    client.force_login(chain.admin)
    assert client.get(reverse(name)).status_code == 200


def test_login_page_logs_in_and_logout_is_post(client: Client, chain: Chain) -> None:
    assert client.get(reverse("login")).status_code == 200
    response = client.post(
        reverse("login"), {"username": chain.manager_a.username, "password": "pw-123456"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_dashboard_figures_match_the_seeded_chain(client: Client, chain: Chain) -> None:
    client.force_login(chain.admin)
    response = client.get(reverse("dashboard"))
    ctx = response.context
    # SHA01: 10 milk x 3.50 + 5 rice x 2.00 = 45.00; SHA02: 20 rice x 2.00 + 4 milk x 3.50 = 54.00
    assert ctx["value_chart"] == {
        "sites": ["SHA01", "SHA02"],
        "names": [chain.store_a.name, chain.store_b.name],
        "values": ["45.00", "54.00"],
    }
    assert ctx["stock_value_fen"] == 9_900
    assert ctx["sku_count"] == 2
    assert ctx["site_count"] == 2
    assert ctx["expiring_count"] == 1
    assert [row.lot.number for row in ctx["expiring_rows"]] == ["L-SOON"]
    assert ctx["expiring_chart"]["values"] == [0, 0, 1, 0, 0, 0]  # day 10 = second week
    assert ctx["alert_count"] == 1
    assert [(e["site"].code, e["skus"]) for e in ctx["alert_sites"]] == [("SHA01", 1)]
    assert "¥99.00" in response.content.decode()


def test_dashboard_is_scoped_to_the_users_sites(client: Client, chain: Chain) -> None:
    client.force_login(chain.manager_a)
    ctx = client.get(reverse("dashboard")).context
    assert ctx["value_chart"]["sites"] == ["SHA01"]
    assert ctx["stock_value_fen"] == 4_500
    assert ctx["site_count"] == 1


def test_site_stock_outside_scope_is_403(client: Client, chain: Chain) -> None:
    client.force_login(chain.manager_a)
    response = client.get(reverse("site_stock"), {"site": chain.store_b.code})
    assert response.status_code == 403
    assert "L-LATER" not in response.content.decode()
    own = client.get(reverse("site_stock"), {"site": chain.store_a.code})
    assert own.status_code == 200
    assert "L-SOON" in own.content.decode()


def test_sku_ledger_outside_scope_is_403(client: Client, chain: Chain) -> None:
    client.force_login(chain.manager_a)
    url = reverse("sku_detail", args=[chain.rice.pk])
    assert client.get(url, {"site": chain.store_b.code}).status_code == 403


def test_unknown_site_is_404(client: Client, chain: Chain) -> None:
    client.force_login(chain.admin)
    assert client.get(reverse("site_stock"), {"site": "NOPE"}).status_code == 404


def test_site_stock_search_and_expiry_highlight(client: Client, chain: Chain) -> None:
    client.force_login(chain.admin)
    response = client.get(reverse("site_stock"), {"site": "SHA01", "q": "MILK"})
    rows = list(response.context["page"])
    assert [(b.sku.code, b.lot.number, b.on_hand) for b in rows] == [("MILK1L", "L-SOON", 10_000)]
    assert "table-warning" in response.content.decode()  # expires in 10 days


def test_site_stock_htmx_returns_only_the_table(client: Client, chain: Chain) -> None:
    client.force_login(chain.admin)
    response = client.get(
        reverse("site_stock"), {"site": "SHA02", "q": "RICE"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html and "RICE5KG" in html and "MILK1L" not in html


def test_sku_list_search_by_barcode_and_category(client: Client, chain: Chain) -> None:
    client.force_login(chain.admin)
    by_barcode = client.get(reverse("sku_list"), {"q": "6901234567892"})
    assert [s.code for s in by_barcode.context["page"]] == ["MILK1L"]
    by_category = client.get(reverse("sku_list"), {"category": str(chain.milk.category_id)})
    assert [s.code for s in by_category.context["page"]] == ["MILK1L"]


def test_sku_detail_shows_stock_by_site_and_running_balance(client: Client, chain: Chain) -> None:
    client.force_login(chain.admin)
    response = client.get(reverse("sku_detail", args=[chain.rice.pk]), {"site": "SHA01"})
    ctx = response.context
    assert [(r["site"].code, r["on_hand"]) for r in ctx["availability"]] == [
        ("SHA01", 5_000),
        ("SHA02", 20_000),
    ]
    assert [(r.delta, r.balance_after) for r in ctx["ledger_rows"]] == [(5_000, 5_000)]


def test_expiring_lots_days_filter(client: Client, chain: Chain) -> None:
    client.force_login(chain.admin)
    near = client.get(reverse("expiring_lots"), {"days": 30}).context["page"]
    far = client.get(reverse("expiring_lots"), {"days": 120}).context["page"]
    assert [b.lot.number for b in near] == ["L-SOON"]
    assert [b.lot.number for b in far] == ["L-SOON", "L-LATER"]


def test_safety_alerts_list_the_short_site(client: Client, chain: Chain) -> None:
    client.force_login(chain.admin)
    rows = list(client.get(reverse("safety_alerts")).context["page"])
    assert [(r.site.code, r.sku.code, r.shortfall) for r in rows] == [("SHA01", "RICE5KG", 3_000)]


def test_navigation_is_filtered_by_role(client: Client, chain: Chain) -> None:
    client.force_login(chain.cashier_a)
    labels = [str(e["label"]) for e in client.get(reverse("dashboard")).context["nav_entries"]]
    assert "Receiving" not in labels and "收货入库" not in labels
    assert client.get(reverse("receiving")).status_code == 403
    client.force_login(chain.manager_a)
    urls = [e["url"] for e in client.get(reverse("dashboard")).context["nav_entries"]]
    assert reverse("receiving") in urls and reverse("counts:index") in urls


def test_language_switch_renders_english_then_chinese(client: Client, chain: Chain) -> None:
    client.force_login(chain.admin)
    chinese = client.get(reverse("dashboard")).content.decode()
    assert "库存金额" in chinese and "Stock value" not in chinese
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get(reverse("dashboard")).content.decode()
    assert "Stock value" in english and "库存金额" not in english
    assert '<html lang="en">' in english
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "库存金额" in client.get(reverse("dashboard")).content.decode()
