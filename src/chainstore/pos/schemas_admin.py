"""Back office API schemas: promotions, price lists, tills, store settings, member tiers,
gift cards. Money in yuan as decimal strings; references by code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from chainstore.core.schemas import Fen
from chainstore.pos.models import Promotion
from chainstore.pos.selectors_admin import promotion_state
from chainstore.pos.services.admin_params import params_for_display


# -- promotions ----------------------------------------------------------------------------
class PromotionBody(Schema):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=300)
    kind: str = Field(
        description="percent_off | amount_off | special_price | threshold | buy_x_get_y | "
        "nth_item | bundle | points_multiplier"
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Kind-specific numbers, money in yuan strings, SKUs by code: "
        'percent_off {"percent": "20"}; amount_off {"amount": "2.00"}; special_price '
        '{"price": "9.90"} and/or {"prices": {"SKU-1": "9.90"}}; threshold {"tiers": '
        '[["100.00", "20.00"], ["200.00", "50.00"]], "repeat": false, "max_repeats": null}; '
        'buy_x_get_y {"buy": 10, "get": 3, "max_gifts": null} with gift_sku; nth_item '
        '{"nth": 2, "percent": "50"}; bundle {"components": [["SKU-1", 1], ["SKU-2", 1]], '
        '"price": "15.90"}; points_multiplier {"multiplier": "2"}.',
    )
    target_skus: list[str] = Field(default_factory=list, description="SKU codes")
    target_categories: list[str] = Field(default_factory=list, description="category codes")
    target_brands: list[str] = Field(default_factory=list, description="brand names")
    gift_sku: str | None = Field(None, description="SKU code of the gift (buy_x_get_y)")
    stores: list[str] = Field(default_factory=list, description="store codes; empty = all")
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    member_condition: str = "any"
    member_tiers: list[str] = Field(default_factory=list, description="tier codes")
    priority: int = 0
    stacking: str = "combinable"
    return_policy: str = "recover"
    is_active: bool = True


class PromotionIn(PromotionBody):
    code: str = Field(min_length=1, max_length=32)


class PromotionOut(Schema):
    id: int
    code: str
    name: str
    description: str
    kind: str
    state: str = Field(description="active | scheduled | ended | inactive")
    params: dict[str, Any]
    target_skus: list[str]
    target_categories: list[str]
    target_brands: list[str]
    gift_sku: str | None = Field(None, alias="gift_sku.code")
    stores: list[str]
    valid_from: dt.datetime | None
    valid_to: dt.datetime | None
    member_condition: str
    member_tiers: list[str]
    priority: int
    stacking: str
    return_policy: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    # Read from a Promotion with its relations prefetched (see selectors_admin).
    @staticmethod
    def resolve_state(obj: Promotion) -> str:
        return promotion_state(obj)

    @staticmethod
    def resolve_params(obj: Promotion) -> dict[str, Any]:
        return params_for_display(obj.kind, obj.params)

    @staticmethod
    def resolve_target_skus(obj: Promotion) -> list[str]:
        return sorted(s.code for s in obj.target_skus.all())

    @staticmethod
    def resolve_target_categories(obj: Promotion) -> list[str]:
        return sorted(c.code for c in obj.target_categories.all())

    @staticmethod
    def resolve_target_brands(obj: Promotion) -> list[str]:
        return sorted(b.name for b in obj.target_brands.all())

    @staticmethod
    def resolve_stores(obj: Promotion) -> list[str]:
        return sorted(s.code for s in obj.stores.all())

    @staticmethod
    def resolve_member_tiers(obj: Promotion) -> list[str]:
        return sorted(t.code for t in obj.member_tiers.all())


class PromotionFilter(Schema):
    status: str = Field("", description="active (applies now) | scheduled | ended | inactive")
    kind: str = ""
    store: str = Field("", description="store code: promotions that apply there")
    search: str = ""


# -- price lists ---------------------------------------------------------------------------
class PriceListBody(Schema):
    name: str = Field(min_length=1, max_length=100)
    stores: list[str] = Field(default_factory=list, description="store codes; empty = all")
    priority: int = 0
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    is_active: bool = True


class PriceListIn(PriceListBody):
    code: str = Field(min_length=1, max_length=32)


class PriceListOut(Schema):
    id: int
    code: str
    name: str
    stores: list[str]
    priority: int
    valid_from: dt.datetime | None
    valid_to: dt.datetime | None
    is_active: bool
    item_count: int


class PriceItemIn(Schema):
    sku: str = Field(min_length=1, max_length=200, description="SKU code or any scan")
    price: Decimal = Field(
        ge=0, max_digits=12, decimal_places=2, description="yuan per unit (per kg)"
    )


class PriceItemOut(Schema):
    sku: str = Field(alias="sku.code")
    name: str = Field(alias="sku.name")
    price: Fen = Field(alias="price_fen")


class PriceRowIn(Schema):
    sku: str = Field(description="SKU code")
    price: str = Field(description="yuan")


class PriceBulkIn(Schema):
    items: list[PriceRowIn] = Field(min_length=1, max_length=50_000)
    dry_run: bool = False


class PriceRowOut(Schema):
    row: int
    sku: str
    price: str
    status: str = Field(description="add | change | same | error")
    old_price: Decimal | None
    error: str


class PriceBulkOut(Schema):
    dry_run: bool
    applied: bool
    added: int
    changed: int
    unchanged: int
    errors: int
    rows: list[PriceRowOut]


# -- stores --------------------------------------------------------------------------------
class TillIn(Schema):
    store: str
    code: str = Field(min_length=1, max_length=20)
    name: str = Field("", max_length=100)


class TillPatch(Schema):
    name: str | None = Field(None, max_length=100)
    is_active: bool | None = None


class TillOut(Schema):
    id: int
    store: str = Field(alias="site.code")
    code: str
    name: str
    is_active: bool


class SettingsIn(Schema):
    short_sale_policy: str = Field(description="allow | block")
    receipt_header: str = Field("", max_length=200)
    receipt_footer: str = Field("", max_length=200)
    points_per_yuan_redeemed: int = Field(100, ge=1, le=100_000)


class SettingsOut(Schema):
    store: str = Field(alias="site.code")
    short_sale_policy: str
    receipt_header: str
    receipt_footer: str
    points_per_yuan_redeemed: int


# -- members and gift cards -------------------------------------------------------------
class TierBody(Schema):
    name: str = Field(min_length=1, max_length=50)
    rank: int = Field(0, ge=0, le=1000)
    points_per_yuan: int = Field(1, ge=0, le=1000)


class TierIn(TierBody):
    code: str = Field(min_length=1, max_length=20)


class TierOut(Schema):
    id: int
    code: str
    name: str
    rank: int
    points_per_yuan: int


class GiftCardIssueIn(Schema):
    number: str = Field("", max_length=32, description="empty: generated")
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)


class TopUpIn(Schema):
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)


class GiftCardOut(Schema):
    number: str
    balance: Fen = Field(alias="balance_fen")
    is_active: bool
    issued_at: dt.datetime
