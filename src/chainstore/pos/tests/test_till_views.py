"""The till pages: login, role (pos.sell / pos.return / pos.shift) and site scope, the
till remembered per device, and the receipt print view (store timezone, escaping)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.urls import reverse

from chainstore.core.testing import make_site, make_sku, make_user
from chainstore.pos.models import (
    LineDiscount,
    Member,
    MemberTier,
    PointsEntry,
    Sale,
    SaleLine,
    Shift,
    StoreSettings,
    Tender,
    Till,
)
from chainstore.pos.views.till import TILL_COOKIE

pytestmark = pytest.mark.django_db

PAGES = ["pos:checkout", "pos:returns", "pos:shift", "pos:choose_till"]


@pytest.fixture
def till(store: Any) -> Till:
    return Till.objects.create(site=store, code="T01", name="1号收银台")


@pytest.fixture
def cashier(store: Any) -> Any:
    return make_user("cashier", sites=[store])


def _config(response: Any, name: str) -> dict[str, Any]:
    html = response.content.decode()
    opening = f'<script id="{name}" type="application/json">'
    start = html.index(opening) + len(opening)
    return json.loads(html[start : html.index("</script>", start)])


def _at_till(client: Any, user: Any, till: Till) -> Any:
    client.force_login(user)
    client.cookies[TILL_COOKIE] = str(till.pk)
    return client


@pytest.mark.parametrize("name", PAGES)
def test_pages_need_a_login(client: Any, name: str) -> None:
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_receipt_needs_a_login(client: Any) -> None:
    response = client.get(reverse("pos:receipt", args=[1]))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "name", "status"),
    [
        ("auditor", "pos:checkout", 403),
        ("warehouse_operator", "pos:checkout", 403),
        ("auditor", "pos:returns", 403),
        ("auditor", "pos:shift", 403),
        ("hq_planner", "pos:shift", 403),
        ("cashier", "pos:checkout", 200),
        ("cashier", "pos:returns", 200),
        ("cashier", "pos:shift", 200),
        ("store_manager", "pos:checkout", 200),
    ],
)
def test_pages_need_the_till_permissions(
    client: Any, store: Any, till: Till, role: str, name: str, status: int
) -> None:
    user = make_user(role, sites=[store])
    _at_till(client, user, till)

    response = client.get(reverse(name))

    assert response.status_code == status


def test_without_a_till_the_device_is_asked_which_till_it_is(
    client: Any, admin: Any, store: Any, till: Till, cashier: Any
) -> None:
    other = make_site(admin, "store")
    Till.objects.create(site=other, code="X9")
    client.force_login(cashier)

    response = client.get(reverse("pos:checkout"))
    assert response.status_code == 302
    assert response.url == f"{reverse('pos:choose_till')}?next={reverse('pos:checkout')}"

    page = client.get(response.url)
    assert page.status_code == 200
    assert [s.code for s in page.context["stores"]] == [store.code]  # the cashier's scope
    assert [t.code for t in page.context["tills"]] == ["T01"]  # the only store is preselected

    chosen = client.post(
        reverse("pos:choose_till"),
        {"store": store.code, "till": "T01", "next": reverse("pos:returns")},
    )
    assert chosen.status_code == 302 and chosen.url == reverse("pos:returns")
    assert chosen.cookies[TILL_COOKIE].value == str(till.pk)
    assert client.get(reverse("pos:checkout")).status_code == 200


def test_a_till_outside_the_scope_cannot_be_chosen_or_used(
    client: Any, admin: Any, store: Any, till: Till, cashier: Any
) -> None:
    other = make_site(admin, "store")
    foreign = Till.objects.create(site=other, code="X9")
    client.force_login(cashier)

    refused = client.post(reverse("pos:choose_till"), {"store": other.code, "till": "X9"})
    assert refused.status_code == 200
    assert refused.context["error"]
    assert TILL_COOKIE not in refused.cookies

    client.cookies[TILL_COOKIE] = str(foreign.pk)  # e.g. a device moved between stores
    response = client.get(reverse("pos:checkout"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("pos:choose_till"))


def test_choose_till_refuses_an_outside_next_url(
    client: Any, store: Any, till: Till, cashier: Any
) -> None:
    client.force_login(cashier)

    response = client.post(
        reverse("pos:choose_till"),
        {"store": store.code, "till": "T01", "next": "https://evil.example/"},
    )

    assert response.status_code == 302 and response.url == reverse("pos:checkout")


def test_an_inactive_till_is_not_offered_nor_remembered(
    client: Any, store: Any, till: Till, cashier: Any
) -> None:
    till.is_active = False
    till.save()
    _at_till(client, cashier, till)

    assert client.get(reverse("pos:checkout")).status_code == 302
    page = client.get(reverse("pos:choose_till"), {"store": store.code})
    assert page.context["tills"] == []
    assert b'data-testid="no-tills"' in page.content


def test_checkout_asks_for_a_shift_until_one_is_open(
    client: Any, store: Any, till: Till, cashier: Any
) -> None:
    _at_till(client, cashier, till)

    page = client.get(reverse("pos:checkout"))
    assert b'data-testid="no-shift"' in page.content
    config = _config(page, "checkout-config")
    assert (config["store"], config["till"], config["shift"]) == (store.code, "T01", None)
    assert config["csrf"] and config["api"] == "/api/v1/pos"
    assert config["pointsPerYuan"] == 100

    shift = Shift.objects.create(
        site=store, till=till, cashier=cashier, business_date=dt.date(2025, 5, 1)
    )
    StoreSettings.objects.create(site=store, points_per_yuan_redeemed=50)
    page = client.get(reverse("pos:checkout"))
    assert b'data-testid="no-shift"' not in page.content
    config = _config(page, "checkout-config")
    assert config["shift"]["id"] == shift.pk and config["shift"]["cashier"] == cashier.username
    assert config["pointsPerYuan"] == 50


def test_checkout_documents_the_keys_in_both_languages(
    client: Any, till: Till, cashier: Any
) -> None:
    _at_till(client, cashier, till)

    english = client.get(reverse("pos:checkout"), HTTP_ACCEPT_LANGUAGE="en")
    for key in ("F2", "F3", "F4", "F6", "F8", "F9", "F10", "Esc"):
        assert f"<kbd>{key}</kbd>".encode() in english.content
    assert b'data-testid="pos-scan"' in english.content
    assert _config(english, "checkout-config")["text"]["cash"] == "Cash"

    chinese = client.get(reverse("pos:checkout"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = chinese.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "<kbd>F3</kbd> 数量" in html  # the function keys in Chinese


def test_returns_offers_unreceipted_returns_to_managers_only(
    client: Any, store: Any, till: Till, cashier: Any
) -> None:
    manager = make_user("store_manager", sites=[store])

    page = _at_till(client, cashier, till).get(reverse("pos:returns"), {"number": "R-1"})
    config = _config(page, "returns-config")
    assert config["unreceipted"] is False and config["original"] == "R-1"
    assert b'data-testid="mode-unreceipted"' not in page.content

    page = _at_till(client, manager, till).get(reverse("pos:returns"))
    assert _config(page, "returns-config")["unreceipted"] is True
    assert b'data-testid="mode-unreceipted"' in page.content


def test_shift_page_hands_the_open_shift_to_the_script(
    client: Any, store: Any, till: Till, cashier: Any
) -> None:
    shift = Shift.objects.create(
        site=store, till=till, cashier=cashier, business_date=dt.date(2025, 5, 1)
    )

    page = _at_till(client, cashier, till).get(reverse("pos:shift"))

    assert page.status_code == 200
    assert _config(page, "shift-config")["shift"]["id"] == shift.pk


# -- the receipt ------------------------------------------------------------------------
def _sale(admin: Any, store: Any, till: Till, cashier: Any, *, name: str = "鲜牛奶 1L") -> Sale:
    sku = make_sku(admin, name=name, code="MILK1L", retail_price_fen=1250)
    gift = make_sku(admin, name="赠品 酸奶", code="YOG", retail_price_fen=500)
    tier = MemberTier.objects.create(code="GOLD", name="金卡", points_per_yuan=1)
    member = Member.objects.create(
        card_number="M0001", phone="13800000001", name="王芳", tier=tier, points_balance=0
    )
    sale = Sale.objects.create(
        number="SH-T01-000123",
        site=store,
        till=till,
        cashier=cashier,
        member=member,
        business_date=dt.date(2025, 1, 2),
        sold_at=dt.datetime(2025, 1, 1, 16, 30, 5, tzinfo=dt.UTC),  # 00:30:05 in Shanghai
        subtotal_fen=3750,
        discount_fen=500,
        total_fen=3250,
        tax_fen=374,
        points_earned=32,
        promotions=[
            {
                "code": "MJ30",
                "name": "满30减5 <b>",
                "kind": "threshold",
                "amount_fen": 500,
                "gift_value_fen": 0,
                "explanation": "spend ¥37.50 ≥ ¥30.00, save ¥5.00",
            },
            {
                "code": "B3G1",
                "name": "买三送一",
                "kind": "buy_x_get_y",
                "amount_fen": 0,
                "gift_value_fen": 500,
                "explanation": "3 bought → 1 free",
            },
        ],
    )
    line = SaleLine.objects.create(
        sale=sale,
        line_no=1,
        sku=sku,
        quantity=3000,
        unit_price_fen=1250,
        gross_fen=3750,
        discount_fen=500,
        net_fen=3250,
        tax_rate_bp=1300,
        tax_fen=374,
    )
    LineDiscount.objects.create(line=line, label="满30减5 <b>", amount_fen=500)
    SaleLine.objects.create(
        sale=sale,
        line_no=2,
        sku=gift,
        quantity=1000,
        unit_price_fen=0,
        gross_fen=0,
        net_fen=0,
        is_gift=True,
    )
    Tender.objects.create(
        sale=sale, kind="cash", amount_fen=3250, tendered_fen=5000, change_fen=1750
    )
    PointsEntry.objects.create(member=member, kind="earn", delta=32, balance_after=32, sale=sale)
    return sale


def test_receipt_shows_the_sale_in_the_store_timezone(
    client: Any, admin: Any, store: Any, till: Till, cashier: Any
) -> None:
    sale = _sale(admin, store, till, cashier)
    client.force_login(cashier)

    page = client.get(reverse("pos:receipt", args=[sale.pk]), HTTP_ACCEPT_LANGUAGE="en")

    html = page.content.decode()
    assert page.status_code == 200
    assert "@page" not in html  # the print CSS lives in receipt.css
    assert "2025-01-02 00:30:05" in html
    assert "SH-T01-000123" in html and "<svg" in html  # the number and its barcode
    assert "3 × ¥12.50" in html
    assert "-¥5.00" in html and "spend ¥37.50 ≥ ¥30.00, save ¥5.00" in html
    assert "Gift" in html and "赠品 酸奶" in html
    assert "¥32.50" in html and "incl. VAT 13%" in html and "¥3.74" in html
    assert "¥50.00" in html and "¥17.50" in html  # cash handed over and change
    assert 'data-testid="receipt-points-earned">32<' in html
    assert 'data-testid="receipt-points-balance">32<' in html
    assert "pos/receipt.js" not in html  # no auto-print unless asked

    printing = client.get(reverse("pos:receipt", args=[sale.pk]), {"print": "1"})
    assert "pos/receipt.js" in printing.content.decode()


def test_receipt_escapes_names_and_explanations(
    client: Any, admin: Any, store: Any, till: Till, cashier: Any
) -> None:
    sale = _sale(admin, store, till, cashier, name="<script>alert(1)</script>")
    StoreSettings.objects.create(site=store, receipt_footer="<img src=x onerror=alert(2)>")
    client.force_login(cashier)

    html = client.get(reverse("pos:receipt", args=[sale.pk])).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "满30减5 <b>" not in html and "满30减5 &lt;b&gt;" in html


def test_receipt_is_scoped_to_the_store(
    client: Any, admin: Any, store: Any, till: Till, cashier: Any
) -> None:
    sale = _sale(admin, store, till, cashier)
    elsewhere = make_user("cashier", sites=[make_site(admin, "store")])
    auditor = make_user("auditor")
    warehouse = make_user("warehouse_operator", sites=[store])

    client.force_login(elsewhere)
    assert client.get(reverse("pos:receipt", args=[sale.pk])).status_code == 403
    client.force_login(warehouse)
    assert client.get(reverse("pos:receipt", args=[sale.pk])).status_code == 403
    client.force_login(auditor)  # pos.report everywhere
    assert client.get(reverse("pos:receipt", args=[sale.pk])).status_code == 200
    assert client.get(reverse("pos:receipt", args=[sale.pk + 999])).status_code == 404
