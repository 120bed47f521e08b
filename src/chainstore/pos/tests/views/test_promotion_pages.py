"""Promotion pages: a form per kind, refusals as form errors (nothing saved), edit,
(de)activate, list filters, role checks."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from chainstore.core.models import AuditEvent
from chainstore.pos.models import Promotion
from chainstore.pos.tests.views.shop import Shop, logged_in

pytestmark = pytest.mark.django_db

BASE = {
    "code": "P1",
    "name": "测试促销",
    "description": "",
    "target_skus": "",
    "member_condition": "any",
    "priority": "10",
    "stacking": "combinable",
    "return_policy": "recover",
    "is_active": "on",
}


def _create(client: Any, kind: str, data: dict[str, Any]) -> Any:
    return client.post(f"{reverse('pos:promotion_create')}?kind={kind}", {**BASE, **data})


FORMS = [
    ("percent_off", {"percent": "20", "target_categories": ["DRINKS"]}, {"percent": "20"}),
    ("amount_off", {"amount": "0.50", "target_skus": "COLA WATER"}, {"amount": "0.50"}),
    (
        "special_price",
        {"prices": "COLA, 2.80\nWATER 1.5", "member_condition": "members"},
        {"prices": {"COLA": "2.80", "WATER": "1.50"}},
    ),
    (
        "threshold",
        {"tiers": "100, 20\n200，50"},
        {"tiers": [["100.00", "20.00"], ["200.00", "50.00"]], "repeat": False, "max_repeats": None},
    ),
    (
        "threshold",
        {"tiers": "100 10", "repeat": "on", "max_repeats": "3"},
        {"tiers": [["100.00", "10.00"]], "repeat": True, "max_repeats": 3},
    ),
    (
        "buy_x_get_y",
        {"buy": "10", "get": "3", "target_skus": "COLA", "gift_sku": "WATER"},
        {"buy": 10, "get": 3, "max_gifts": None},
    ),
    ("nth_item", {"nth": "2", "percent": "50", "target_categories": ["SNACKS"]},
     {"nth": 2, "percent": "50"}),
    (
        "bundle",
        {"components": "CHIPS, 1\nCOLA, 2", "price": "12.90"},
        {"components": [["CHIPS", 1], ["COLA", 2]], "price": "12.90"},
    ),
    ("points_multiplier", {"multiplier": "2", "target_brands": ["可口可乐"]}, {"multiplier": "2"}),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "data", "params"), FORMS)
def test_planner_creates_each_kind_with_its_form(shop: Shop, kind: str, data: Any, params: Any):
    client = logged_in(shop.planner)
    page = client.get(f"{reverse('pos:promotion_create')}?kind={kind}")
    assert page.status_code == 200
    assert set(page.context["form"].param_names()) >= set(params)

    res = _create(client, kind, data)

    assert res.status_code == 302, res.context["form"].errors if res.context else res
    assert res.url == reverse("pos:promotion_detail", args=["P1"])
    promotion = Promotion.objects.get(code="P1")
    assert promotion.kind == kind
    from chainstore.pos.services.admin import promotion_snapshot

    assert promotion_snapshot(promotion)["params"] == params
    assert AuditEvent.objects.filter(action="promotion.create").count() == 1
    assert client.get(res.url).status_code == 200


def test_targets_tiers_and_gift_from_the_form(shop: Shop):
    client = logged_in(shop.planner)

    res = _create(
        client,
        "buy_x_get_y",
        {
            "buy": "2",
            "get": "1",
            "target_skus": "COLA",
            "stores": ["SHA01"],
            "member_condition": "tiers",
            "member_tiers": ["gold"],
            "valid_from": "2030-01-01T08:00",
            "valid_to": "2030-01-31T22:00",
        },
    )

    assert res.status_code == 302
    promotion = Promotion.objects.get()
    assert promotion.gift_sku == shop.cola  # empty gift: the same SKU
    assert list(promotion.stores.values_list("code", flat=True)) == ["SHA01"]
    assert list(promotion.member_tiers.all()) == [shop.gold]
    assert promotion.valid_from.isoformat().startswith("2030-01-01T00:00")  # 08:00 Shanghai


INVALID = [
    ("percent_off", {"percent": "150"}, "percent"),
    ("amount_off", {"amount": "0"}, "amount"),
    ("special_price", {"prices": "NOPE, 1.00"}, "prices"),
    ("special_price", {"prices": "COLA"}, "prices"),
    ("threshold", {"tiers": "200, 50\n100, 20"}, "tiers"),
    ("threshold", {"tiers": "100, 200"}, "tiers"),
    ("buy_x_get_y", {"buy": "2", "get": "1", "gift_sku": "APPLE"}, "gift_sku"),
    ("buy_x_get_y", {"buy": "2", "get": "1"}, "gift_sku"),
    ("nth_item", {"nth": "2", "percent": "0"}, "percent"),
    ("bundle", {"components": "CHIPS, 1", "price": "5"}, "components"),
    ("bundle", {"components": "CHIPS, 1\nNOPE, 1", "price": "5"}, "components"),
    ("points_multiplier", {"multiplier": "0"}, "multiplier"),
    ("percent_off", {"percent": "5", "target_skus": "COLA NOPE"}, "target_skus"),
    ("percent_off", {"percent": "5", "member_condition": "tiers"}, "member_tiers"),
    (
        "percent_off",
        {"percent": "5", "valid_from": "2030-02-01T00:00", "valid_to": "2030-01-01T00:00"},
        "valid_to",
    ),
]


@pytest.mark.parametrize(("kind", "data", "field"), INVALID)
def test_invalid_input_is_a_form_error_and_nothing_is_saved(
    shop: Shop, kind: str, data: Any, field: str
):
    client = logged_in(shop.planner)
    events = AuditEvent.objects.count()

    res = _create(client, kind, data)

    assert res.status_code == 422
    assert res.context["form"].errors[field], res.context["form"].errors
    assert b'data-testid="field-error"' in res.content
    assert not Promotion.objects.exists()
    assert AuditEvent.objects.count() == events


def test_duplicate_code_is_a_form_error(shop: Shop):
    client = logged_in(shop.planner)
    assert _create(client, "percent_off", {"percent": "5"}).status_code == 302

    res = _create(client, "amount_off", {"amount": "1"})

    assert res.status_code == 422 and res.context["form"].errors["code"]
    assert Promotion.objects.get().kind == "percent_off"


def test_edit_keeps_the_kind_and_shows_current_values(shop: Shop):
    client = logged_in(shop.planner)
    _create(client, "threshold", {"tiers": "100, 20"})
    url = reverse("pos:promotion_edit", args=["P1"])
    form = client.get(url).context["form"]
    assert form.initial["tiers"] == "100.00, 20.00"
    assert "code" not in form.fields

    res = client.post(url, {**BASE, "name": "满200减50", "tiers": "200, 50"})

    assert res.status_code == 302
    promotion = Promotion.objects.get()
    assert (promotion.name, promotion.params["tiers"]) == ("满200减50", [["200.00", "50.00"]])


def test_deactivate_and_activate(shop: Shop):
    client = logged_in(shop.planner)
    _create(client, "percent_off", {"percent": "5"})
    url = reverse("pos:promotion_toggle", args=["P1"])

    client.post(url, {"active": "0"})
    assert Promotion.objects.get().is_active is False
    assert (
        b'data-testid="activate"'
        in client.get(reverse("pos:promotion_detail", args=["P1"])).content
    )
    client.post(url, {"active": "1"})

    assert Promotion.objects.get().is_active is True
    actions = AuditEvent.objects.filter(action__startswith="promotion.").order_by("id")
    assert list(actions.values_list("action", flat=True)) == [
        "promotion.create",
        "promotion.deactivate",
        "promotion.activate",
    ]


def test_list_filters_by_state_kind_and_store(shop: Shop):
    client = logged_in(shop.planner)
    _create(client, "percent_off", {"percent": "5", "code": "ALL"})
    _create(client, "amount_off", {"amount": "1", "code": "B-ONLY", "stores": ["SHA02"]})
    _create(client, "percent_off", {"percent": "5", "code": "OFF", "is_active": ""})

    def codes(**params: str) -> list[str]:
        res = client.get(reverse("pos:promotions"), params)
        assert res.status_code == 200
        return sorted(p.code for p in res.context["page"])

    assert codes() == ["ALL", "B-ONLY", "OFF"]
    assert codes(status="active") == ["ALL", "B-ONLY"]
    assert codes(status="inactive") == ["OFF"]
    assert codes(kind="amount_off") == ["B-ONLY"]
    assert codes(store="SHA01", status="active") == ["ALL"]
    assert codes(q="b-on") == ["B-ONLY"]
    htmx = client.get(reverse("pos:promotions"), {"kind": "amount_off"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in htmx.content and b"B-ONLY" in htmx.content


def test_kind_picker_lists_every_kind(shop: Shop):
    res = logged_in(shop.planner).get(reverse("pos:promotion_create"))

    assert res.status_code == 200
    assert len(res.context["kinds"]) == 8


@pytest.mark.parametrize("role", ["cashier", "manager"])
def test_store_staff_cannot_open_or_change_promotions(shop: Shop, role: str):
    Promotion.objects.create(code="KEEP", name="保留", kind="percent_off", params={"percent": "5"})
    client = logged_in(getattr(shop, role))

    responses = [
        client.get(reverse("pos:promotions")),
        client.get(f"{reverse('pos:promotion_create')}?kind=percent_off"),
        _create(client, "percent_off", {"percent": "5"}),
        client.post(reverse("pos:promotion_edit", args=["KEEP"]), {**BASE, "percent": "50"}),
        client.post(reverse("pos:promotion_toggle", args=["KEEP"]), {"active": "0"}),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert list(Promotion.objects.values_list("code", "params", "is_active")) == [
        ("KEEP", {"percent": "5"}, True)
    ]


def test_try_a_basket_prices_it_as_the_till_would(shop: Shop):
    client = logged_in(shop.planner)
    _create(client, "threshold", {"tiers": "20, 5"})
    url = reverse("pos:promotion_preview", args=["P1"])

    res = client.post(url, {"store": "SHA01", "lines": "COLA 4\nCHIPS 2"}, HTTP_HX_REQUEST="true")

    assert res.status_code == 200, res.content
    quote = res.context["quote"]
    assert (quote.subtotal_fen, quote.discount_fen, quote.total_fen) == (
        2_980,
        500,
        2_480,
    )  # 4 × 3.50 + 2 × 7.90
    assert [p.promotion.code for p in quote.promotions] == ["P1"]
    assert b"<html" not in res.content and b'data-testid="preview-totals"' in res.content


def test_try_a_basket_reports_bad_lines_and_members(shop: Shop):
    client = logged_in(shop.planner)
    _create(client, "percent_off", {"percent": "5"})
    url = reverse("pos:promotion_preview", args=["P1"])

    unknown = client.post(url, {"store": "SHA01", "lines": "6900000000000"}, HTTP_HX_REQUEST="true")
    member = client.post(
        url, {"store": "SHA01", "member": "13000000000", "lines": "COLA"}, HTTP_HX_REQUEST="true"
    )
    empty = client.post(url, {"store": "SHA01", "lines": "   "}, HTTP_HX_REQUEST="true")

    assert unknown.context["error"] and unknown.context["quote"] is None
    assert member.context["error"] and member.context["quote"] is None
    assert empty.context["preview_form"].errors["lines"]
