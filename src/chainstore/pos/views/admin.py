"""The POS back office under /pos/admin/: what HQ and store managers set up and look at.

Pages live beside this module by subject (promotions, prices, stores and gift cards,
members, reports); this module holds the hub page and the URL list. Thin views: forms
parse, services decide (permission and scope on every path)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from chainstore.core.errors import PermissionDenied
from chainstore.pos.templatetags.pos_nav import pos_entries
from chainstore.pos.views import (
    admin_members,
    admin_prices,
    admin_promotions,
    admin_reports,
    admin_stores,
)
from chainstore.web.http import page_view


@page_view
def index(request: HttpRequest) -> HttpResponse:
    """The back office hub: one card per section the user may open."""
    entries = pos_entries(request.user, request.path, back_office_only=True)
    if not entries:
        raise PermissionDenied(code="permission_denied")
    return render(request, "pos/admin/index.html", {"entries": entries})


A = "admin/"
urlpatterns = [
    path(A, index, name="admin_index"),
    # promotions
    path(f"{A}promotions/", admin_promotions.promotion_list, name="promotions"),
    path(f"{A}promotions/new/", admin_promotions.promotion_create, name="promotion_create"),
    path(f"{A}promotions/<str:code>/", admin_promotions.promotion_detail, name="promotion_detail"),
    path(f"{A}promotions/<str:code>/edit/", admin_promotions.promotion_edit, name="promotion_edit"),
    path(
        f"{A}promotions/<str:code>/active/",
        admin_promotions.promotion_toggle,
        name="promotion_toggle",
    ),
    path(
        f"{A}promotions/<str:code>/try/",
        admin_promotions.promotion_preview,
        name="promotion_preview",
    ),
    # price lists
    path(f"{A}price-lists/", admin_prices.price_list_list, name="price_lists"),
    path(f"{A}price-lists/new/", admin_prices.price_list_create, name="price_list_create"),
    path(f"{A}price-lists/<str:code>/", admin_prices.price_list_detail, name="price_list_detail"),
    path(f"{A}price-lists/<str:code>/edit/", admin_prices.price_list_edit, name="price_list_edit"),
    path(f"{A}price-lists/<str:code>/prices/", admin_prices.price_set, name="price_set"),
    path(
        f"{A}price-lists/<str:code>/prices/<str:sku_code>/remove/",
        admin_prices.price_remove,
        name="price_remove",
    ),
    path(f"{A}price-lists/<str:code>/import/", admin_prices.price_import, name="price_import"),
    # stores: settings and tills
    path(f"{A}stores/", admin_stores.store_list, name="stores"),
    path(f"{A}stores/<str:code>/", admin_stores.store_detail, name="store_detail"),
    path(f"{A}stores/<str:code>/tills/", admin_stores.till_create, name="till_create"),
    path(f"{A}stores/<str:code>/tills/<str:till_code>/", admin_stores.till_edit, name="till_edit"),
    # gift cards
    path(f"{A}gift-cards/", admin_stores.gift_card_list, name="gift_cards"),
    path(f"{A}gift-cards/<str:number>/", admin_stores.gift_card_detail, name="gift_card_detail"),
    # members
    path(f"{A}member-tiers/", admin_members.tier_list, name="member_tiers"),
    path(f"{A}member-tiers/<str:code>/", admin_members.tier_edit, name="member_tier_edit"),
    path(f"{A}members/", admin_members.member_list, name="members"),
    path(f"{A}members/new/", admin_members.member_create, name="member_create"),
    path(f"{A}members/<int:pk>/", admin_members.member_detail, name="member_detail"),
    path(f"{A}members/<int:pk>/edit/", admin_members.member_edit, name="member_edit"),
    # reports
    path(f"{A}discrepancies/", admin_reports.discrepancy_list, name="discrepancies"),
    path(
        f"{A}discrepancies/recount/",
        admin_reports.discrepancy_recount,
        name="discrepancy_recount",
    ),
    path(f"{A}store-day/", admin_reports.store_day, name="store_day"),
]
