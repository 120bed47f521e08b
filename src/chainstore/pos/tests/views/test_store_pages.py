"""Store pages: POS settings and tills (pos.settings, own stores only) and gift cards."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from chainstore.core.models import AuditEvent
from chainstore.pos.models import GiftCard, Shift, StoreSettings, Till
from chainstore.pos.tests.views.shop import Shop, logged_in

pytestmark = pytest.mark.django_db

SETTINGS = {
    "short_sale_policy": "block",
    "receipt_header": "欢迎光临 浦东店",
    "receipt_footer": "凭小票7日内可退换",
    "points_per_yuan_redeemed": "50",
}


def test_manager_sees_only_own_stores(shop: Shop):
    res = logged_in(shop.manager).get(reverse("pos:stores"))

    assert res.status_code == 200
    assert [store.code for store, _settings in res.context["rows"]] == ["SHA01"]


def test_manager_saves_settings_of_own_store(shop: Shop):
    client = logged_in(shop.manager)
    page = client.get(reverse("pos:store_detail", args=["SHA01"]))
    assert page.context["form"].initial["short_sale_policy"] == "allow"

    res = client.post(reverse("pos:store_detail", args=["SHA01"]), SETTINGS)

    assert res.status_code == 302
    settings = StoreSettings.objects.get(site=shop.store_a)
    assert (settings.short_sale_policy, settings.points_per_yuan_redeemed) == ("block", 50)
    assert settings.receipt_header == "欢迎光临 浦东店"
    event = AuditEvent.objects.get(action="pos_settings.update")
    assert event.data["short_sale_policy"] == ["allow", "block"]


def test_bad_settings_are_form_errors(shop: Shop):
    client = logged_in(shop.manager)

    res = client.post(
        reverse("pos:store_detail", args=["SHA01"]),
        {**SETTINGS, "short_sale_policy": "sometimes", "points_per_yuan_redeemed": "0"},
    )

    assert res.status_code == 422
    assert set(res.context["form"].errors) == {"short_sale_policy", "points_per_yuan_redeemed"}
    assert not StoreSettings.objects.exists()


def test_manager_creates_renames_and_deactivates_tills(shop: Shop):
    client = logged_in(shop.manager)

    created = client.post(
        reverse("pos:till_create", args=["SHA01"]), {"code": "T01", "name": "1号台"}
    )
    duplicate = client.post(reverse("pos:till_create", args=["SHA01"]), {"code": "T01"})
    renamed = client.post(
        reverse("pos:till_edit", args=["SHA01", "T01"]), {"name": "一号收银台", "is_active": ""}
    )

    assert created.status_code == 302
    assert duplicate.status_code == 422 and duplicate.context["till_form"].errors["code"]
    assert renamed.status_code == 302
    till = Till.objects.get()
    assert (till.site, till.name, till.is_active) == (shop.store_a, "一号收银台", False)


def test_till_with_open_shift_cannot_be_deactivated(shop: Shop):
    till = Till.objects.create(site=shop.store_a, code="T01", name="1号台")
    Shift.objects.create(
        site=shop.store_a, till=till, cashier=shop.cashier, business_date=timezone.localdate()
    )

    res = logged_in(shop.manager).post(
        reverse("pos:till_edit", args=["SHA01", "T01"]), {"name": "1号台", "is_active": ""}
    )

    assert res.status_code == 422 and res.context["form"].non_field_errors()
    assert Till.objects.get().is_active is True


def test_manager_cannot_touch_another_stores_tills_or_settings(shop: Shop):
    other = Till.objects.create(site=shop.store_b, code="T09", name="B店9号")
    client = logged_in(shop.manager)

    responses = [
        client.get(reverse("pos:store_detail", args=["SHA02"])),
        client.post(reverse("pos:store_detail", args=["SHA02"]), SETTINGS),
        client.post(reverse("pos:till_create", args=["SHA02"]), {"code": "T10"}),
        client.get(reverse("pos:till_edit", args=["SHA02", "T09"])),
        client.post(
            reverse("pos:till_edit", args=["SHA02", "T09"]), {"name": "x", "is_active": ""}
        ),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    other.refresh_from_db()
    assert (other.name, other.is_active) == ("B店9号", True)
    assert Till.objects.count() == 1 and not StoreSettings.objects.exists()


def test_cashier_cannot_open_store_settings(shop: Shop):
    client = logged_in(shop.cashier)

    responses = [
        client.get(reverse("pos:stores")),
        client.post(reverse("pos:store_detail", args=["SHA01"]), SETTINGS),
        client.post(reverse("pos:till_create", args=["SHA01"]), {"code": "T01"}),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert not Till.objects.exists() and not StoreSettings.objects.exists()


def test_warehouse_is_not_a_pos_store(shop: Shop):
    res = logged_in(shop.admin).get(reverse("pos:store_detail", args=["CDC01"]))

    assert res.status_code == 404


# -- gift cards ----------------------------------------------------------------------------
def test_issue_and_top_up_a_gift_card(shop: Shop):
    client = logged_in(shop.manager)

    issued = client.post(reverse("pos:gift_cards"), {"number": "", "amount": "200"})
    card = GiftCard.objects.get()
    topped = client.post(reverse("pos:gift_card_detail", args=[card.number]), {"amount": "50.5"})

    assert issued.status_code == 302 and issued.url == reverse(
        "pos:gift_card_detail", args=[card.number]
    )
    assert topped.status_code == 302
    card.refresh_from_db()
    assert card.balance_fen == 25_050
    page = client.get(reverse("pos:gift_card_detail", args=[card.number]))
    assert [(e.delta_fen, e.balance_after_fen) for e in page.context["page"]] == [
        (5_050, 25_050),
        (20_000, 20_000),
    ]
    listed = client.get(reverse("pos:gift_cards"), {"q": card.number[-4:]})
    assert [c.number for c in listed.context["page"]] == [card.number]


def test_submitting_the_top_up_form_twice_loads_the_card_once(shop: Shop):
    client = logged_in(shop.manager)
    client.post(reverse("pos:gift_cards"), {"number": "GC-2", "amount": "100"})
    url = reverse("pos:gift_card_detail", args=["GC-2"])
    key = client.get(url).context["idempotency_key"]

    first = client.post(url, {"amount": "10", "idempotency_key": key})
    again = client.post(url, {"amount": "10", "idempotency_key": key})

    assert first.status_code == again.status_code == 302
    assert GiftCard.objects.get(number="GC-2").balance_fen == 11_000
    assert client.get(url).context["idempotency_key"] != key  # a fresh form, a fresh key


def test_gift_card_refusals(shop: Shop):
    GiftCard.objects.create(number="GC-1", balance_fen=100)
    client = logged_in(shop.manager)

    duplicate = client.post(reverse("pos:gift_cards"), {"number": "gc-1", "amount": "10"})
    zero = client.post(reverse("pos:gift_card_detail", args=["GC-1"]), {"amount": "0"})
    cashier = logged_in(shop.cashier).post(reverse("pos:gift_cards"), {"amount": "10"})

    assert duplicate.status_code == 422 and duplicate.context["form"].errors["number"]
    assert zero.status_code == 422 and zero.context["form"].errors["amount"]
    assert cashier.status_code == 403
    assert list(GiftCard.objects.values_list("number", "balance_fen")) == [("GC-1", 100)]
