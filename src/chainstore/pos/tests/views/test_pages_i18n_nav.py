"""Every back office page renders in English and Chinese, escapes what users typed, and the
POS section of the navigation shows each role its own entries."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from chainstore.pos.models import GiftCard, Member, PriceList, Promotion, StoreSettings, Till
from chainstore.pos.tests.views.shop import Shop, logged_in

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script>'


@pytest.fixture
def filled(shop: Shop) -> Shop:
    promotion = Promotion.objects.create(
        code="P1", name="满100减20", kind="threshold", params={"tiers": [["100.00", "20.00"]]}
    )
    promotion.stores.set([shop.store_a])
    PriceList.objects.create(code="HZ", name="杭州门店价")
    Till.objects.create(site=shop.store_a, code="T01", name="1号收银台")
    Member.objects.create(card_number="C1", phone="13800138000", name="张伟", tier=shop.gold)
    GiftCard.objects.create(number="GC1", balance_fen=10_000)
    return shop


def _pages(shop: Shop) -> list[tuple[str, str]]:
    member = Member.objects.get()
    return [
        (reverse("pos:admin_index"), "POS back office"),
        (reverse("pos:promotions"), "New promotion"),
        (reverse("pos:promotion_create"), "What kind of promotion?"),
        (f"{reverse('pos:promotion_create')}?kind=threshold", "Tiers: spend, save (yuan)"),
        (reverse("pos:promotion_detail", args=["P1"]), "Try a basket"),
        (reverse("pos:promotion_edit", args=["P1"]), "Edit promotion"),
        (reverse("pos:price_lists"), "New price list"),
        (reverse("pos:price_list_create"), "New price list"),
        (reverse("pos:price_list_detail", args=["HZ"]), "Upload prices"),
        (reverse("pos:price_list_edit", args=["HZ"]), "Edit price list"),
        (reverse("pos:stores"), "Tills and settings"),
        (reverse("pos:store_detail", args=["SHA01"]), "POS settings"),
        (reverse("pos:till_edit", args=["SHA01", "T01"]), "Till"),
        (reverse("pos:gift_cards"), "Issue a gift card"),
        (reverse("pos:gift_card_detail", args=["GC1"]), "Balance ledger"),
        (reverse("pos:member_tiers"), "New tier"),
        (reverse("pos:member_tier_edit", args=["gold"]), "Edit tier"),
        (reverse("pos:members"), "Enrol a member"),
        (reverse("pos:member_create"), "Enrol a member"),
        (reverse("pos:member_detail", args=[member.pk]), "Points ledger"),
        (reverse("pos:member_edit", args=[member.pk]), "Edit member"),
        (reverse("pos:discrepancies"), "Discrepancies"),
        (reverse("pos:store_day"), "Store day"),
    ]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_page_renders_in_both_languages(filled: Shop, language: str):
    client = logged_in(filled.admin, language)

    for url, english in _pages(filled):
        res = client.get(url)
        html = res.content.decode()
        assert res.status_code == 200, url
        assert f'<html lang="{language}">' in html, url
        if language == "en":
            assert english in html, url
        else:
            assert "中文</span>" in html, url


def test_back_office_words_are_chinese_in_zh_hans(filled: Shop):
    """Needs the back office strings merged into the catalogs (.i18n/backoffice.json)."""
    client = logged_in(filled.admin, "zh-hans")

    promotions = client.get(reverse("pos:promotions")).content.decode()
    kinds = client.get(reverse("pos:promotion_create")).content.decode()
    settings = client.get(reverse("pos:store_detail", args=["SHA01"])).content.decode()

    assert "新建促销" in promotions and "New promotion" not in promotions
    assert "选择促销类型" in kinds and "What kind of promotion?" not in kinds
    assert "收银台" in settings and "POS settings" not in settings


def test_user_input_is_escaped(shop: Shop):
    promotion = Promotion.objects.create(
        code="P1", name=XSS, description=XSS, kind="percent_off", params={"percent": "5"}
    )
    PriceList.objects.create(code="HZ", name=XSS)
    Till.objects.create(site=shop.store_a, code="T01", name=XSS)
    StoreSettings.objects.create(site=shop.store_a, receipt_header=XSS)
    member = Member.objects.create(card_number="C1", phone="13800138000", name=XSS, tier=shop.gold)
    client = logged_in(shop.admin)
    urls = [
        reverse("pos:promotions"),
        reverse("pos:promotion_detail", args=[promotion.code]),
        reverse("pos:promotion_edit", args=[promotion.code]),
        reverse("pos:price_lists"),
        reverse("pos:price_list_detail", args=["HZ"]),
        reverse("pos:store_detail", args=["SHA01"]),
        reverse("pos:members"),
        reverse("pos:member_detail", args=[member.pk]),
    ]

    for url in urls:
        html = client.get(url).content.decode()
        assert XSS not in html, url
        assert "&lt;script&gt;" in html, url


def test_typed_basket_and_search_are_escaped(shop: Shop):
    Promotion.objects.create(code="P1", name="x", kind="percent_off", params={"percent": "5"})
    client = logged_in(shop.admin)

    preview = client.post(
        reverse("pos:promotion_preview", args=["P1"]),
        {"store": "SHA01", "member": XSS[:32], "lines": "COLA 1"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    search = client.get(reverse("pos:members"), {"q": XSS}).content.decode()

    assert "<script>" not in preview and "<script>" not in search.split("</nav>", 1)[1]
    assert "&lt;script&gt;" in search


def _pos_links(html: str) -> list[str]:
    if 'data-testid="nav-pos"' not in html:
        return []
    section = html.split('data-testid="nav-pos"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'href="([^"]+)"', section)


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (
            "cashier",
            ["pos:member_create"],
            ["pos:members", "pos:promotions", "pos:stores", "pos:store_day"],
        ),
        (
            "manager",
            ["pos:stores", "pos:gift_cards", "pos:discrepancies", "pos:store_day", "pos:members"],
            ["pos:promotions", "pos:price_lists", "pos:member_tiers"],
        ),
        (
            "planner",
            ["pos:promotions", "pos:price_lists", "pos:member_tiers", "pos:members"],
            ["pos:stores", "pos:gift_cards", "pos:discrepancies"],
        ),
        ("auditor", ["pos:store_day"], ["pos:promotions", "pos:members", "pos:stores"]),
    ],
)
def test_pos_navigation_per_role(shop: Shop, role: str, shown: list[str], hidden: list[str]):
    links = _pos_links(logged_in(getattr(shop, role)).get(reverse("dashboard")).content.decode())

    assert all(reverse(name) in links for name in shown), links
    assert not any(reverse(name) in links for name in hidden), links
    checkout = "/pos/"
    assert (checkout in links) == (role in ("cashier", "manager"))


def test_no_pos_section_without_pos_permissions(shop: Shop):
    from chainstore.core.testing import make_user

    operator = make_user("warehouse_operator", sites=[shop.warehouse])

    html = logged_in(operator).get(reverse("dashboard")).content.decode()

    assert 'data-testid="nav-pos"' not in html
    assert logged_in(operator).get(reverse("pos:admin_index")).status_code == 403


def test_active_entry_is_the_page_under(shop: Shop):
    html = logged_in(shop.admin).get(reverse("pos:promotions")).content.decode()
    section = html.split('data-testid="nav-pos"', 1)[1].split("</ul>", 1)[0]

    active = re.findall(r'class="nav-link[^"]* active"\s+href="([^"]+)"', section)
    assert active == [reverse("pos:promotions")]
