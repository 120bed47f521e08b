# No `from __future__ import annotations` here: ninja must see Query[...] as a real type.
"""Back office API under /api/v1/pos: promotions, price lists, tills, store settings,
member tiers, gift card issue and top-up. Parse, call a service, serialise."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from chainstore.core.errors import ValidationFailed
from chainstore.core.pagination import LimitOffsetPagination
from chainstore.core.quantities import fen_to_money, money_to_fen
from chainstore.pos import selectors_admin as selectors
from chainstore.pos.api.sales import KEY
from chainstore.pos.models import PriceList, Promotion, Till
from chainstore.pos.schemas_admin import (
    GiftCardIssueIn,
    GiftCardOut,
    PriceBulkIn,
    PriceBulkOut,
    PriceItemIn,
    PriceItemOut,
    PriceListBody,
    PriceListIn,
    PriceListOut,
    PriceRowOut,
    PromotionBody,
    PromotionFilter,
    PromotionIn,
    PromotionOut,
    SettingsIn,
    SettingsOut,
    TierBody,
    TierIn,
    TierOut,
    TillIn,
    TillOut,
    TillPatch,
    TopUpIn,
)
from chainstore.pos.services import admin, admin_prices, admin_stores

router = Router()


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """A time without a zone is read in the chain's home time zone."""
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


# -- promotions ----------------------------------------------------------------------------
def _promotion_input(payload: PromotionBody) -> admin.PromotionInput:
    data = payload.dict()
    data.pop("code", None)
    data["valid_from"], data["valid_to"] = _aware(payload.valid_from), _aware(payload.valid_to)
    return admin.PromotionInput(**data)


def _promotion_out(promotion: Promotion, actor: Any) -> Promotion:
    """The promotion as stored, with its relations fresh (for PromotionOut)."""
    return selectors.get_promotion(actor=actor, code=promotion.code)


@router.get("/promotions", response=list[PromotionOut])
@paginate(LimitOffsetPagination)
def list_promotions(request: HttpRequest, filters: Query[PromotionFilter]) -> Any:
    store = None
    if filters.store:
        store = selectors.get_store(
            actor=request.user, code=filters.store, permission="pos.promotions"
        )
    return selectors.list_promotions(
        actor=request.user,
        status=filters.status,
        kind=filters.kind,
        store=store,
        search=filters.search.strip(),
    )


@router.post("/promotions", response={201: PromotionOut})
def create_promotion(request: HttpRequest, payload: PromotionIn) -> Status:
    promotion = admin.create_promotion(
        code=payload.code, data=_promotion_input(payload), actor=request.user
    )
    return Status(201, _promotion_out(promotion, request.user))


@router.get("/promotions/{code}", response=PromotionOut)
def get_promotion(request: HttpRequest, code: str) -> Promotion:
    return selectors.get_promotion(actor=request.user, code=code)


@router.put("/promotions/{code}", response=PromotionOut)
def update_promotion(request: HttpRequest, code: str, payload: PromotionBody) -> Promotion:
    """Replace the promotion (all fields but code and kind)."""
    promotion = selectors.get_promotion(actor=request.user, code=code)
    promotion = admin.update_promotion(
        promotion=promotion, data=_promotion_input(payload), actor=request.user
    )
    return _promotion_out(promotion, request.user)


@router.delete("/promotions/{code}", response=PromotionOut)
def deactivate_promotion(request: HttpRequest, code: str) -> Promotion:
    """Deactivate (promotions are never deleted: receipts refer to them)."""
    promotion = selectors.get_promotion(actor=request.user, code=code)
    promotion = admin.set_promotion_active(promotion=promotion, active=False, actor=request.user)
    return _promotion_out(promotion, request.user)


# -- price lists ---------------------------------------------------------------------------
def _price_list_input(payload: PriceListBody) -> admin_prices.PriceListInput:
    return admin_prices.PriceListInput(
        name=payload.name,
        stores=payload.stores,
        priority=payload.priority,
        valid_from=_aware(payload.valid_from),
        valid_to=_aware(payload.valid_to),
        is_active=payload.is_active,
    )


def _price_list_out(price_list: PriceList) -> PriceListOut:
    return PriceListOut(
        id=price_list.pk,
        item_count=price_list.items.count(),
        **admin_prices.price_list_snapshot(price_list),
    )


@router.get("/price-lists", response=list[PriceListOut])
def list_price_lists(request: HttpRequest) -> list[PriceListOut]:
    return [
        PriceListOut(
            id=p.pk, item_count=getattr(p, "item_count", 0), **admin_prices.price_list_snapshot(p)
        )
        for p in selectors.list_price_lists(actor=request.user)
    ]


@router.post("/price-lists", response={201: PriceListOut})
def create_price_list(request: HttpRequest, payload: PriceListIn) -> Status:
    price_list = admin_prices.create_price_list(
        code=payload.code, data=_price_list_input(payload), actor=request.user
    )
    return Status(201, _price_list_out(price_list))


@router.get("/price-lists/{code}", response=PriceListOut)
def get_price_list(request: HttpRequest, code: str) -> PriceListOut:
    return _price_list_out(selectors.get_price_list(actor=request.user, code=code))


@router.put("/price-lists/{code}", response=PriceListOut)
def update_price_list(request: HttpRequest, code: str, payload: PriceListBody) -> PriceListOut:
    price_list = selectors.get_price_list(actor=request.user, code=code)
    price_list = admin_prices.update_price_list(
        price_list=price_list, data=_price_list_input(payload), actor=request.user
    )
    return _price_list_out(price_list)


@router.get("/price-lists/{code}/items", response=list[PriceItemOut])
@paginate(LimitOffsetPagination)
def list_price_items(request: HttpRequest, code: str, search: str = "") -> Any:
    price_list = selectors.get_price_list(actor=request.user, code=code)
    return selectors.list_price_items(price_list=price_list, search=search.strip())


@router.post("/price-lists/{code}/items", response=PriceItemOut)
def set_price(request: HttpRequest, code: str, payload: PriceItemIn) -> Any:
    """Add a SKU (by code or scan) to the list, or change its price there."""
    price_list = selectors.get_price_list(actor=request.user, code=code)
    return admin_prices.set_price(
        price_list=price_list,
        sku=admin_prices.find_sku(payload.sku),
        price_fen=money_to_fen(payload.price),
        actor=request.user,
    )


@router.delete("/price-lists/{code}/items/{sku}", response={204: None})
def remove_price(request: HttpRequest, code: str, sku: str) -> Status:
    price_list = selectors.get_price_list(actor=request.user, code=code)
    admin_prices.remove_price(
        price_list=price_list, sku=admin_prices.find_sku(sku), actor=request.user
    )
    return Status(204, None)


@router.post("/price-lists/{code}/bulk", response=PriceBulkOut)
def bulk_prices(request: HttpRequest, code: str, payload: PriceBulkIn) -> PriceBulkOut:
    """Set many prices at once. With dry_run nothing changes and every row is reported; a
    batch with a bad row changes nothing (422 with the rows)."""
    price_list = selectors.get_price_list(actor=request.user, code=code)
    rows = [(n, item.sku.strip(), item.price) for n, item in enumerate(payload.items, start=1)]
    report = admin_prices.import_prices(
        price_list=price_list, rows=rows, dry_run=payload.dry_run, actor=request.user
    )
    out = _bulk_out(report)
    if report.errors and not payload.dry_run:
        raise ValidationFailed(
            "Some rows are not valid; nothing was changed.",
            code="invalid_rows",
            rows=[r.dict() for r in out.rows if r.status == "error"],
        )
    return out


def _bulk_out(report: admin_prices.PriceImport) -> PriceBulkOut:
    return PriceBulkOut(
        dry_run=report.dry_run,
        applied=report.applied,
        added=report.count("add"),
        changed=report.count("change"),
        unchanged=report.count("same"),
        errors=report.count("error"),
        rows=[
            PriceRowOut(
                row=r.row,
                sku=r.sku_code,
                price=r.price,
                status=r.status,
                old_price=fen_to_money(r.old_fen) if r.old_fen is not None else None,
                error=r.error,
            )
            for r in report.rows
        ],
    )


# -- tills and settings ------------------------------------------------------------------
@router.get("/tills", response=list[TillOut])
def list_tills(request: HttpRequest, store: str = "") -> list[Till]:
    stores = (
        [selectors.get_store(actor=request.user, code=store)]
        if store
        else list(selectors.list_pos_stores(actor=request.user))
    )
    return [t for s in stores for t in selectors.list_tills(actor=request.user, store=s)]


@router.post("/tills", response={201: TillOut})
def create_till(request: HttpRequest, payload: TillIn) -> Status:
    store = selectors.get_store(actor=request.user, code=payload.store)
    till = admin_stores.create_till(
        store=store, code=payload.code, name=payload.name, actor=request.user
    )
    return Status(201, till)


@router.patch("/tills/{store}/{code}", response=TillOut)
def update_till(request: HttpRequest, store: str, code: str, payload: TillPatch) -> Till:
    """Rename, deactivate (is_active false) or reactivate a till."""
    site = selectors.get_store(actor=request.user, code=store)
    till = selectors.get_till(actor=request.user, store=site, code=code)
    return admin_stores.update_till(
        till=till,
        name=till.name if payload.name is None else payload.name,
        is_active=till.is_active if payload.is_active is None else payload.is_active,
        actor=request.user,
    )


@router.get("/settings/{store}", response=SettingsOut)
def get_settings(request: HttpRequest, store: str) -> Any:
    return selectors.store_settings(selectors.get_store(actor=request.user, code=store))


@router.put("/settings/{store}", response=SettingsOut)
def update_settings(request: HttpRequest, store: str, payload: SettingsIn) -> Any:
    site = selectors.get_store(actor=request.user, code=store)
    return admin_stores.update_store_settings(
        store=site, data=admin_stores.SettingsInput(**payload.dict()), actor=request.user
    )


# -- member tiers and gift cards ------------------------------------------------------------
@router.get("/member-tiers", response=list[TierOut])
def list_member_tiers(request: HttpRequest) -> Any:
    return list(selectors.list_member_tiers(actor=request.user))


@router.post("/member-tiers", response={201: TierOut})
def create_member_tier(request: HttpRequest, payload: TierIn) -> Status:
    data = payload.dict()
    code = data.pop("code")
    tier = admin.create_member_tier(code=code, data=admin.TierInput(**data), actor=request.user)
    return Status(201, tier)


@router.put("/member-tiers/{code}", response=TierOut)
def update_member_tier(request: HttpRequest, code: str, payload: TierBody) -> Any:
    tier = selectors.get_member_tier(actor=request.user, code=code)
    return admin.update_member_tier(
        tier=tier, data=admin.TierInput(**payload.dict()), actor=request.user
    )


@router.post("/gift-cards", response={201: GiftCardOut})
def issue_gift_card(request: HttpRequest, payload: GiftCardIssueIn) -> Status:
    card = admin_stores.issue_gift_card(
        number=payload.number, amount_fen=money_to_fen(payload.amount), actor=request.user
    )
    return Status(201, card)


@router.post("/gift-cards/{number}/top-up", response=GiftCardOut)
def top_up_gift_card(
    request: HttpRequest, number: str, payload: TopUpIn, idempotency_key: str | None = KEY
) -> Any:
    """Load money onto a card. `Idempotency-Key` required: a retried top-up loads once."""
    if not idempotency_key:
        raise ValidationFailed(
            _("Send an Idempotency-Key header with every top-up."),
            code="idempotency_key_required",
        )
    card = selectors.get_gift_card(actor=request.user, number=number)
    return admin_stores.top_up_gift_card(
        card=card,
        amount_fen=money_to_fen(payload.amount),
        actor=request.user,
        idempotency_key=idempotency_key,
    )
