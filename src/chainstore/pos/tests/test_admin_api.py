"""Back office API: promotions, price lists, tills, store settings, member tiers, gift cards."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from chainstore.core.models import AuditEvent
from chainstore.core.tests.helpers import API
from chainstore.pos.models import (
    GiftCard,
    GiftCardEntry,
    MemberTier,
    PriceList,
    PriceListItem,
    Promotion,
    Shift,
    StoreSettings,
    Till,
)
from chainstore.pos.tests.views.shop import Shop, logged_in, shop

__all__ = ["shop"]
pytestmark = pytest.mark.django_db


def _post(client: Client, path: str, body: Any) -> Any:
    return client.post(API + "/pos" + path, body, content_type="application/json")


def _top_up(client: Client, number: str, amount: str, key: str | None = "k1") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        f"{API}/pos/gift-cards/{number}/top-up",
        {"amount": amount},
        content_type="application/json",
        **headers,
    )


def _put(client: Client, path: str, body: Any) -> Any:
    return client.put(API + "/pos" + path, body, content_type="application/json")


def _patch(client: Client, path: str, body: Any) -> Any:
    return client.patch(API + "/pos" + path, body, content_type="application/json")


def _get(client: Client, path: str, **params: Any) -> Any:
    return client.get(API + "/pos" + path, params)


def _promotion(code: str, kind: str, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": f"促销 {code}", "kind": kind, "params": params, **extra}


# -- promotions: every kind ---------------------------------------------------------------
VALID = [
    ("percent_off", {"percent": "20"}, {"target_categories": ["DRINKS"]}, {"percent": "20"}),
    ("amount_off", {"amount": "0.5"}, {"target_skus": ["COLA"]}, {"amount": "0.50"}),
    (
        "threshold",
        {"tiers": [["100", "20"], ["200.00", "50"]]},
        {},
        {"tiers": [["100.00", "20.00"], ["200.00", "50.00"]], "repeat": False, "max_repeats": None},
    ),
    (
        "threshold",
        {"tiers": [["100", "10"]], "repeat": True, "max_repeats": 5},
        {},
        {"tiers": [["100.00", "10.00"]], "repeat": True, "max_repeats": 5},
    ),
    (
        "buy_x_get_y",
        {"buy": 10, "get": 3},
        {"target_skus": ["COLA"], "gift_sku": "COLA"},
        {"buy": 10, "get": 3, "max_gifts": None},
    ),
    (
        "buy_x_get_y",
        {"buy": "2", "get": "1", "max_gifts": 4},
        {"target_skus": ["CHIPS"]},
        {"buy": 2, "get": 1, "max_gifts": 4},
    ),
    (
        "nth_item",
        {"nth": "2", "percent": "50.0"},
        {"target_categories": ["SNACKS"]},
        {"nth": 2, "percent": "50"},
    ),
    (
        "bundle",
        {"components": [["CHIPS", 1], ["COLA", 2]], "price": "12.9"},
        {},
        {"components": [["CHIPS", 1], ["COLA", 2]], "price": "12.90"},
    ),
    (
        "points_multiplier",
        {"multiplier": "2.5"},
        {"target_brands": ["可口可乐"]},
        {"multiplier": "2.5"},
    ),
    ("special_price", {"price": "2.99"}, {"target_skus": ["COLA"]}, {"price": "2.99"}),
]


@pytest.mark.parametrize(("kind", "params", "extra", "shown"), VALID)
def test_planner_creates_each_kind(shop: Shop, kind: str, params: Any, extra: Any, shown: Any):
    client = logged_in(shop.planner)

    res = _post(client, "/promotions", _promotion("P1", kind, params, **extra))

    assert res.status_code == 201, res.content
    body = res.json()
    assert (body["kind"], body["params"], body["state"]) == (kind, shown, "active")
    promotion = Promotion.objects.get(code="P1")
    assert promotion.created_by == shop.planner
    assert AuditEvent.objects.filter(action="promotion.create", object_id=str(promotion.pk)).count()
    assert _get(client, "/promotions/P1").json()["params"] == shown


def test_bundle_and_special_prices_store_sku_ids(shop: Shop):
    client = logged_in(shop.planner)

    bundle = _post(
        client,
        "/promotions",
        _promotion("B1", "bundle", {"components": [["CHIPS", 1], ["COLA", 1]], "price": "9.90"}),
    )
    member_price = _post(
        client,
        "/promotions",
        _promotion(
            "MP",
            "special_price",
            {"prices": {"COLA": "2.80", "WATER": "1.50"}},
            member_condition="members",
        ),
    )

    assert bundle.status_code == 201 and member_price.status_code == 201, member_price.content
    assert Promotion.objects.get(code="B1").params["components"] == [
        [str(shop.chips.pk), 1],
        [str(shop.cola.pk), 1],
    ]
    stored = Promotion.objects.get(code="MP")
    assert stored.params == {"prices": {str(shop.cola.pk): "2.80", str(shop.water.pk): "1.50"}}
    assert member_price.json()["target_skus"] == ["COLA", "WATER"]
    assert member_price.json()["params"] == {"prices": {"COLA": "2.80", "WATER": "1.50"}}
    assert member_price.json()["member_condition"] == "members"


def test_tier_only_promotion_with_stores_and_window(shop: Shop):
    client = logged_in(shop.planner)
    start = timezone.now() + dt.timedelta(days=1)

    res = _post(
        client,
        "/promotions",
        _promotion(
            "GOLD",
            "percent_off",
            {"percent": "5"},
            member_condition="tiers",
            member_tiers=["gold"],
            stores=["SHA01"],
            valid_from=start.isoformat(),
            valid_to=(start + dt.timedelta(days=7)).isoformat(),
            stacking="exclusive",
            return_policy="keep",
            priority=40,
        ),
    )

    assert res.status_code == 201, res.content
    body = res.json()
    assert (body["member_tiers"], body["stores"], body["state"]) == (
        ["gold"],
        ["SHA01"],
        "scheduled",
    )
    assert (body["stacking"], body["return_policy"], body["priority"]) == ("exclusive", "keep", 40)


INVALID = [
    ("percent_off", {"percent": "0"}, {}, "params.percent"),
    ("percent_off", {"percent": "120"}, {}, "params.percent"),
    ("percent_off", {"percent": "abc"}, {}, "params.percent"),
    ("percent_off", {"pct": "5"}, {}, "params.pct"),
    ("amount_off", {"amount": "-1"}, {}, "params.amount"),
    ("amount_off", {"amount": "1.234"}, {}, "params.amount"),
    ("special_price", {}, {}, "params.price"),
    ("special_price", {"prices": {"NOPE": "1.00"}}, {}, "params.prices"),
    ("special_price", {"prices": {"COLA": "1"}}, {"target_categories": ["DRINKS"]},
     "target_categories"),
    ("threshold", {"tiers": [["200", "50"], ["100", "20"]]}, {}, "params.tiers"),
    ("threshold", {"tiers": [["100", "120"]]}, {}, "params.tiers"),
    ("threshold", {"tiers": []}, {}, "params.tiers"),
    ("threshold", {"tiers": [["100", "10"], ["200", "30"]], "repeat": True}, {}, "params.repeat"),
    ("threshold", {"tiers": [["100", "10"]], "max_repeats": 3}, {}, "params.max_repeats"),
    ("buy_x_get_y", {"buy": 10, "get": 3}, {}, "gift_sku"),
    ("buy_x_get_y", {"buy": 2, "get": 1}, {"target_skus": ["COLA", "CHIPS"]}, "gift_sku"),
    ("buy_x_get_y", {"buy": 0, "get": 1}, {"gift_sku": "COLA"}, "params.buy"),
    ("buy_x_get_y", {"buy": 2, "get": 1}, {"gift_sku": "APPLE"}, "gift_sku"),
    ("buy_x_get_y", {"buy": 2, "get": 1}, {"gift_sku": "NOPE"}, "gift_sku"),
    ("nth_item", {"nth": 1, "percent": "50"}, {}, "params.nth"),
    ("nth_item", {"nth": 2, "percent": "50"}, {"target_skus": ["APPLE"]}, "target_skus"),
    ("bundle", {"components": [["CHIPS", 1]], "price": "5"}, {}, "params.components"),
    ("bundle", {"components": [["CHIPS", 1], ["CHIPS", 1]], "price": "5"}, {}, "params.components"),
    ("bundle", {"components": [["CHIPS", 1], ["COLA", 1]]}, {}, "params.price"),
    ("bundle", {"components": [["CHIPS", 1], ["COLA", 1]], "price": "5"}, {"target_skus": ["COLA"]},
     "target_skus"),
    ("points_multiplier", {"multiplier": "0"}, {}, "params.multiplier"),
    ("percent_off", {"percent": "5"}, {"gift_sku": "COLA"}, "gift_sku"),
    ("percent_off", {"percent": "5"}, {"member_condition": "tiers"}, "member_tiers"),
    ("percent_off", {"percent": "5"}, {"member_tiers": ["gold"]}, "member_tiers"),
    ("percent_off", {"percent": "5"}, {"stores": ["CDC01"]}, "stores"),
    ("percent_off", {"percent": "5"}, {"target_skus": ["NOPE"]}, "target_skus"),
    ("percent_off", {"percent": "5"}, {"target_brands": ["无此品牌"]}, "target_brands"),
    ("percent_off", {"percent": "5"}, {"stacking": "sometimes"}, "stacking"),
    (
        "percent_off",
        {"percent": "5"},
        {"valid_from": "2030-01-02T00:00:00+08:00", "valid_to": "2030-01-01T00:00:00+08:00"},
        "valid_to",
    ),
    ("no_such_kind", {}, {}, "kind"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "params", "extra", "field"), INVALID)
def test_invalid_promotion_is_refused_with_the_field_and_nothing_saved(
    shop: Shop, kind: str, params: Any, extra: Any, field: str
):
    client = logged_in(shop.planner)
    events = AuditEvent.objects.count()

    res = _post(client, "/promotions", _promotion("BAD", kind, params, **extra))

    assert res.status_code == 422, res.content
    body = res.json()
    assert body["details"]["field"] == field, body
    assert body["code"] and body["message"]
    assert not Promotion.objects.exists()
    assert AuditEvent.objects.count() == events


def test_duplicate_code_conflicts(shop: Shop):
    client = logged_in(shop.planner)
    assert (
        _post(client, "/promotions", _promotion("P1", "percent_off", {"percent": "5"})).status_code
        == 201
    )

    res = _post(client, "/promotions", _promotion("P1", "amount_off", {"amount": "1"}))

    assert (res.status_code, res.json()["code"]) == (409, "duplicate_promotion")
    assert Promotion.objects.get().kind == "percent_off"


def test_list_filters(shop: Shop):
    client = logged_in(shop.planner)
    past = timezone.now() - dt.timedelta(days=10)
    _post(client, "/promotions", _promotion("ALL", "percent_off", {"percent": "5"}))
    _post(
        client, "/promotions", _promotion("B-ONLY", "amount_off", {"amount": "1"}, stores=["SHA02"])
    )
    _post(
        client,
        "/promotions",
        _promotion(
            "OLD",
            "percent_off",
            {"percent": "5"},
            valid_from=past.isoformat(),
            valid_to=(past + dt.timedelta(days=1)).isoformat(),
        ),
    )
    _post(
        client, "/promotions", _promotion("OFF", "percent_off", {"percent": "5"}, is_active=False)
    )

    def codes(**params: Any) -> list[str]:
        res = _get(client, "/promotions", **params)
        assert res.status_code == 200, res.content
        return sorted(p["code"] for p in res.json()["items"])

    assert codes() == ["ALL", "B-ONLY", "OFF", "OLD"]
    assert codes(status="active") == ["ALL", "B-ONLY"]
    assert codes(status="ended") == ["OLD"]
    assert codes(status="inactive") == ["OFF"]
    assert codes(kind="amount_off") == ["B-ONLY"]
    assert codes(store="SHA01", status="active") == ["ALL"]
    assert codes(store="SHA02", status="active") == ["ALL", "B-ONLY"]


def test_update_replaces_fields_but_not_kind(shop: Shop):
    client = logged_in(shop.planner)
    _post(client, "/promotions", _promotion("P1", "percent_off", {"percent": "5"}))
    body = _promotion("P1", "percent_off", {"percent": "15"}, target_skus=["CHIPS"])
    del body["code"]

    res = _put(client, "/promotions/P1", body)
    kind_change = _put(
        client, "/promotions/P1", {**body, "kind": "amount_off", "params": {"amount": "1"}}
    )

    assert res.status_code == 200, res.content
    assert (res.json()["params"], res.json()["target_skus"]) == ({"percent": "15"}, ["CHIPS"])
    assert (kind_change.status_code, kind_change.json()["code"]) == (422, "kind_locked")
    assert Promotion.objects.get().params == {"percent": "15"}
    event = AuditEvent.objects.get(action="promotion.update")
    assert event.data["params"] == [{"percent": "5"}, {"percent": "15"}]


def test_delete_deactivates(shop: Shop):
    client = logged_in(shop.planner)
    _post(client, "/promotions", _promotion("P1", "percent_off", {"percent": "5"}))

    res = client.delete(f"{API}/pos/promotions/P1")

    assert res.status_code == 200
    assert (res.json()["is_active"], res.json()["state"]) == (False, "inactive")
    assert Promotion.objects.get().is_active is False
    event = AuditEvent.objects.get(action="promotion.deactivate")
    assert (event.from_state, event.to_state) == ("active", "inactive")


@pytest.mark.parametrize("role", ["cashier", "manager", "auditor"])
def test_only_promotion_planners_write_promotions(shop: Shop, role: str):
    client = logged_in(getattr(shop, role))
    Promotion.objects.create(code="KEEP", name="保留", kind="percent_off", params={"percent": "5"})

    responses = [
        _post(client, "/promotions", _promotion("P1", "percent_off", {"percent": "5"})),
        _put(
            client,
            "/promotions/KEEP",
            {"name": "改", "kind": "percent_off", "params": {"percent": "9"}},
        ),
        client.delete(f"{API}/pos/promotions/KEEP"),
        _get(client, "/promotions"),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert list(Promotion.objects.values_list("code", "params", "is_active")) == [
        ("KEEP", {"percent": "5"}, True)
    ]


def test_anonymous_is_refused():
    assert Client().get(f"{API}/pos/promotions").status_code == 401


# -- price lists ----------------------------------------------------------------------------
def test_price_list_with_items(shop: Shop):
    client = logged_in(shop.planner)

    created = _post(
        client,
        "/price-lists",
        {"code": "HZ", "name": "杭州门店价", "stores": ["SHA01"], "priority": 10},
    )
    by_code = _post(client, "/price-lists/HZ/items", {"sku": "COLA", "price": "3.80"})
    by_scan = _post(
        client, "/price-lists/HZ/items", {"sku": shop.chips.barcodes.get().code, "price": "8.5"}
    )
    changed = _post(client, "/price-lists/HZ/items", {"sku": "COLA", "price": "3.60"})
    removed = client.delete(f"{API}/pos/price-lists/HZ/items/CHIPS")

    assert created.status_code == 201, created.content
    assert created.json()["stores"] == ["SHA01"]
    assert by_code.json() == {"sku": "COLA", "name": "可口可乐 330ml", "price": "3.80"}
    assert by_scan.json()["sku"] == "CHIPS"
    assert changed.json()["price"] == "3.60"
    assert removed.status_code == 204
    items = _get(client, "/price-lists/HZ/items").json()["items"]
    assert items == [{"sku": "COLA", "name": "可口可乐 330ml", "price": "3.60"}]
    actions = list(
        AuditEvent.objects.filter(action__startswith="price_list")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "price_list.create",
        "price_list.set_price",
        "price_list.set_price",
        "price_list.set_price",
        "price_list.remove_price",
    ]


def test_price_list_refusals(shop: Shop):
    client = logged_in(shop.planner)
    _post(client, "/price-lists", {"code": "HZ", "name": "杭州门店价"})

    negative = _post(client, "/price-lists/HZ/items", {"sku": "COLA", "price": "-1"})
    unknown = _post(client, "/price-lists/HZ/items", {"sku": "NOPE", "price": "1"})
    warehouse = _post(client, "/price-lists", {"code": "X", "name": "x", "stores": ["CDC01"]})
    window = _put(
        client,
        "/price-lists/HZ",
        {"name": "x", "valid_from": "2030-01-02T00:00:00", "valid_to": "2030-01-01T00:00:00"},
    )

    assert negative.status_code == 422
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_barcode")
    assert (warehouse.status_code, warehouse.json()["details"]["field"]) == (422, "stores")
    assert (window.status_code, window.json()["details"]["field"]) == (422, "valid_to")
    assert not PriceListItem.objects.exists()
    assert list(PriceList.objects.values_list("code", "name")) == [("HZ", "杭州门店价")]


def test_bulk_prices_dry_run_then_apply(shop: Shop):
    client = logged_in(shop.planner)
    _post(client, "/price-lists", {"code": "WEEK", "name": "本周特价"})
    _post(client, "/price-lists/WEEK/items", {"sku": "COLA", "price": "3.00"})
    rows = [
        {"sku": "COLA", "price": "2.90"},
        {"sku": "CHIPS", "price": "6.50"},
        {"sku": "NOPE", "price": "1.00"},
        {"sku": "WATER", "price": "1.999"},
        {"sku": "CHIPS", "price": "6.00"},
    ]

    dry = _post(client, "/price-lists/WEEK/bulk", {"items": rows, "dry_run": True})
    refused = _post(client, "/price-lists/WEEK/bulk", {"items": rows})
    good = _post(client, "/price-lists/WEEK/bulk", {"items": rows[:2]})

    assert dry.status_code == 200, dry.content
    body = dry.json()
    assert (body["added"], body["changed"], body["errors"], body["applied"]) == (1, 1, 3, False)
    assert [(r["row"], r["status"]) for r in body["rows"]] == [
        (1, "change"),
        (2, "add"),
        (3, "error"),
        (4, "error"),
        (5, "error"),
    ]
    assert refused.status_code == 422
    assert [r["row"] for r in refused.json()["details"]["rows"]] == [3, 4, 5]
    assert good.status_code == 200 and good.json()["applied"] is True
    prices = dict(PriceListItem.objects.values_list("sku__code", "price_fen"))
    assert prices == {"COLA": 290, "CHIPS": 650}


def test_price_lists_need_pos_promotions(shop: Shop):
    client = logged_in(shop.manager)

    res = _post(client, "/price-lists", {"code": "HZ", "name": "杭州门店价", "stores": ["SHA01"]})

    assert res.status_code == 403
    assert not PriceList.objects.exists()


# -- tills and settings --------------------------------------------------------------------
def test_manager_runs_tills_of_own_store_only(shop: Shop):
    client = logged_in(shop.manager)

    created = _post(client, "/tills", {"store": "SHA01", "code": "T01", "name": "1号收银台"})
    renamed = _patch(client, "/tills/SHA01/T01", {"name": "一号台"})
    other = _post(client, "/tills", {"store": "SHA02", "code": "T01"})
    Till.objects.create(site=shop.store_b, code="T09", name="B")
    other_edit = _patch(client, "/tills/SHA02/T09", {"is_active": False})
    listed = _get(client, "/tills")

    assert created.status_code == 201, created.content
    assert renamed.json() == {
        "id": created.json()["id"],
        "store": "SHA01",
        "code": "T01",
        "name": "一号台",
        "is_active": True,
    }
    assert (other.status_code, other.json()["code"]) == (403, "site_out_of_scope")
    assert other_edit.status_code == 403
    assert Till.objects.get(code="T09").is_active is True
    assert [t["code"] for t in listed.json()] == ["T01"]


def test_till_with_open_shift_stays_active(shop: Shop):
    client = logged_in(shop.manager)
    till = Till.objects.create(site=shop.store_a, code="T01")
    Shift.objects.create(
        site=shop.store_a, till=till, cashier=shop.cashier, business_date=timezone.localdate()
    )

    res = _patch(client, "/tills/SHA01/T01", {"is_active": False})

    assert (res.status_code, res.json()["code"]) == (409, "till_has_open_shift")
    assert Till.objects.get().is_active is True


def test_duplicate_till_code(shop: Shop):
    client = logged_in(shop.manager)
    _post(client, "/tills", {"store": "SHA01", "code": "T01"})

    res = _post(client, "/tills", {"store": "SHA01", "code": "T01"})

    assert (res.status_code, res.json()["code"]) == (409, "duplicate_till")


def test_store_settings(shop: Shop):
    client = logged_in(shop.manager)
    defaults = _get(client, "/settings/SHA01").json()
    body = {
        "short_sale_policy": "block",
        "receipt_header": "欢迎光临",
        "receipt_footer": "7日内凭小票退换",
        "points_per_yuan_redeemed": 50,
    }

    saved = _put(client, "/settings/SHA01", body)
    bad = _put(client, "/settings/SHA01", {**body, "short_sale_policy": "maybe"})
    other = _put(client, "/settings/SHA02", body)

    assert defaults == {
        "store": "SHA01",
        "short_sale_policy": "allow",
        "receipt_header": "",
        "receipt_footer": "",
        "points_per_yuan_redeemed": 100,
    }
    assert saved.status_code == 200 and saved.json() == {"store": "SHA01", **body}
    assert (bad.status_code, bad.json()["details"]["field"]) == (422, "short_sale_policy")
    assert other.status_code == 403
    assert list(StoreSettings.objects.values_list("site__code", "short_sale_policy")) == [
        ("SHA01", "block")
    ]
    assert AuditEvent.objects.filter(action="pos_settings.update").count() == 1


def test_cashier_cannot_change_settings_or_tills(shop: Shop):
    client = logged_in(shop.cashier)

    responses = [
        _put(client, "/settings/SHA01", {"short_sale_policy": "block"}),
        _post(client, "/tills", {"store": "SHA01", "code": "T01"}),
    ]

    assert [r.status_code for r in responses] == [403, 403]
    assert not StoreSettings.objects.exists() and not Till.objects.exists()


# -- member tiers and gift cards -----------------------------------------------------------
def test_member_tiers(shop: Shop):
    client = logged_in(shop.planner)

    created = _post(
        client,
        "/member-tiers",
        {"code": "diamond", "name": "钻石会员", "rank": 3, "points_per_yuan": 3},
    )
    updated = _put(
        client, "/member-tiers/diamond", {"name": "黑钻会员", "rank": 4, "points_per_yuan": 4}
    )
    listed = _get(client, "/member-tiers").json()
    denied = _post(logged_in(shop.cashier), "/member-tiers", {"code": "x", "name": "x"})

    assert created.status_code == 201, created.content
    assert updated.json()["name"] == "黑钻会员"
    assert [t["code"] for t in listed] == ["normal", "gold", "diamond"]
    assert denied.status_code == 403
    assert MemberTier.objects.get(code="diamond").points_per_yuan == 4


def test_gift_card_issue_and_top_up(shop: Shop):
    client = logged_in(shop.manager)

    issued = _post(client, "/gift-cards", {"amount": "200.00"})
    number = issued.json()["number"]
    topped = _top_up(client, number, "50.50", key="t1")
    named = _post(client, "/gift-cards", {"number": "GC-VIP-1", "amount": "100"})
    duplicate = _post(client, "/gift-cards", {"number": "GC-VIP-1", "amount": "100"})
    zero = _top_up(client, number, "0", key="t2")

    assert issued.status_code == 201, issued.content
    assert number.startswith("GC") and issued.json()["balance"] == "200.00"
    assert topped.json()["balance"] == "250.50"
    assert named.json()["number"] == "GC-VIP-1"
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "duplicate_gift_card")
    assert zero.status_code == 422
    card = GiftCard.objects.get(number=number)
    assert list(card.entries.order_by("id").values_list("delta_fen", "balance_after_fen")) == [
        (20_000, 20_000),
        (5_050, 25_050),
    ]


def test_gift_cards_refused_to_cashiers_and_inactive_cards(shop: Shop):
    card = GiftCard.objects.create(number="GC1", balance_fen=1000, is_active=False)

    denied = _post(logged_in(shop.cashier), "/gift-cards", {"amount": "100"})
    inactive = _top_up(logged_in(shop.manager), "GC1", "10")

    assert denied.status_code == 403
    assert (inactive.status_code, inactive.json()["code"]) == (409, "gift_card_inactive")
    card.refresh_from_db()
    assert card.balance_fen == 1000 and not GiftCardEntry.objects.exists()
    assert GiftCard.objects.count() == 1


def test_a_retried_gift_card_top_up_loads_the_card_once(shop: Shop):
    client = logged_in(shop.manager)
    number = _post(client, "/gift-cards", {"amount": "100.00"}).json()["number"]

    first = _top_up(client, number, "20.00", key="top-up-1")
    retry = _top_up(client, number, "20.00", key="top-up-1")
    other_body = _top_up(client, number, "30.00", key="top-up-1")
    no_key = _top_up(client, number, "20.00", key=None)

    assert (first.status_code, first.json()["balance"]) == (200, "120.00")
    assert (retry.status_code, retry.json()["balance"]) == (200, "120.00")
    assert (other_body.status_code, other_body.json()["code"]) == (409, "idempotency_key_reused")
    assert (no_key.status_code, no_key.json()["code"]) == (422, "idempotency_key_required")
    card = GiftCard.objects.get(number=number)
    assert card.balance_fen == 12_000
    assert card.entries.count() == 2  # the issue and one top-up
