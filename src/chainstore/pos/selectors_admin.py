"""Back office reads, scoped by the actor: promotions, price lists, tills and settings,
member tiers, members, gift cards."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from chainstore.core.errors import NotFound, PermissionDenied
from chainstore.core.permissions import ensure_can, has_perm, scope_site_ids
from chainstore.pos.models import (
    GiftCard,
    GiftCardEntry,
    Member,
    MemberTier,
    PointsEntry,
    PriceList,
    PriceListItem,
    Promotion,
    Sale,
    StoreSettings,
    Till,
)
from chainstore.pos.services import members
from chainstore.sites.errors import SiteNotFound
from chainstore.sites.models import Site, SiteKind


def _ensure_any(actor: Any, *permissions: str) -> None:
    if not any(has_perm(actor, p) for p in permissions):
        ensure_can(actor, permissions[0])  # raises with the first permission's message


# -- promotions ----------------------------------------------------------------------------
PROMOTION_RELATIONS = (
    "target_skus",
    "target_categories",
    "target_brands",
    "stores",
    "member_tiers",
)


def active_now_q(prefix: str = "") -> Q:
    now = timezone.now()
    return (
        Q(**{f"{prefix}is_active": True})
        & (Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": now}))
        & (Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gt": now}))
    )


def list_promotions(
    *,
    actor: Any,
    status: str = "",
    kind: str = "",
    store: Site | None = None,
    search: str = "",
) -> QuerySet[Promotion]:
    """status: "" (all), "active" (applies now), "scheduled", "ended", "inactive"."""
    ensure_can(actor, "pos.promotions")
    qs = Promotion.objects.select_related("gift_sku").prefetch_related(*PROMOTION_RELATIONS)
    now = timezone.now()
    if status == "active":
        qs = qs.filter(active_now_q())
    elif status == "scheduled":
        qs = qs.filter(is_active=True, valid_from__gt=now)
    elif status == "ended":
        qs = qs.filter(is_active=True, valid_to__lte=now)
    elif status == "inactive":
        qs = qs.filter(is_active=False)
    if kind:
        qs = qs.filter(kind=kind)
    if store is not None:
        qs = qs.filter(Q(stores__isnull=True) | Q(stores=store))
    if search:
        qs = qs.filter(Q(code__icontains=search) | Q(name__icontains=search))
    return qs.distinct().order_by("-priority", "code")


def get_promotion(*, actor: Any, code: str) -> Promotion:
    ensure_can(actor, "pos.promotions")
    promotion = (
        Promotion.objects.filter(code=code)
        .select_related("gift_sku")
        .prefetch_related(*PROMOTION_RELATIONS)
        .first()
    )
    if promotion is None:
        raise NotFound(code="promotion_not_found", promotion=code)
    return promotion


def promotion_state(promotion: Promotion) -> str:
    """active | scheduled | ended | inactive, for badges."""
    now = timezone.now()
    if not promotion.is_active:
        return "inactive"
    if promotion.valid_from and promotion.valid_from > now:
        return "scheduled"
    if promotion.valid_to and promotion.valid_to <= now:
        return "ended"
    return "active"


# -- price lists -------------------------------------------------------------------------
def list_price_lists(*, actor: Any) -> QuerySet[PriceList]:
    ensure_can(actor, "pos.promotions")
    return (
        PriceList.objects.prefetch_related("stores")
        .annotate(item_count=Count("items", distinct=True))
        .order_by("-priority", "code")
    )


def get_price_list(*, actor: Any, code: str) -> PriceList:
    ensure_can(actor, "pos.promotions")
    price_list = PriceList.objects.filter(code=code).first()
    if price_list is None:
        raise NotFound(code="price_list_not_found", price_list=code)
    return price_list


def list_price_items(*, price_list: PriceList, search: str = "") -> QuerySet[PriceListItem]:
    qs = PriceListItem.objects.filter(price_list=price_list).select_related("sku")
    if search:
        qs = qs.filter(Q(sku__code__icontains=search) | Q(sku__name__icontains=search))
    return qs.order_by("sku__code")


# -- stores: settings and tills --------------------------------------------------------------
def list_pos_stores(*, actor: Any, permission: str = "pos.settings") -> QuerySet[Site]:
    """The stores in the actor's scope where they hold `permission`."""
    ensure_can(actor, permission)
    qs = Site.objects.filter(kind=SiteKind.STORE).order_by("code")
    allowed = scope_site_ids(actor)
    return qs if allowed is None else qs.filter(pk__in=allowed)


def get_store(*, actor: Any, code: str, permission: str = "pos.settings") -> Site:
    store = Site.objects.filter(code=code, kind=SiteKind.STORE).first()
    if store is None:
        raise SiteNotFound(site=code)
    ensure_can(actor, permission, sites=[store.pk])
    return store


def store_settings(store: Site) -> StoreSettings:
    """The store's settings, or the defaults (unsaved) when never changed."""
    return StoreSettings.objects.filter(site=store).first() or StoreSettings(site=store)


def list_tills(*, actor: Any, store: Site) -> QuerySet[Till]:
    ensure_can(actor, "pos.settings", sites=[store.pk])
    return Till.objects.filter(site=store).order_by("code")


def get_till(*, actor: Any, store: Site, code: str) -> Till:
    ensure_can(actor, "pos.settings", sites=[store.pk])
    till = Till.objects.filter(site=store, code=code).select_related("site").first()
    if till is None:
        raise NotFound(code="till_not_found", store=store.code, till=code)
    return till


# -- members -------------------------------------------------------------------------------
def list_member_tiers(*, actor: Any) -> QuerySet[MemberTier]:
    _ensure_any(actor, "pos.promotions", "pos.members")
    return MemberTier.objects.annotate(member_count=Count("members")).order_by("rank", "code")


def get_member_tier(*, actor: Any, code: str) -> MemberTier:
    ensure_can(actor, "pos.promotions")
    tier = MemberTier.objects.filter(code=code).first()
    if tier is None:
        raise NotFound(code="member_tier_not_found", tier=code)
    return tier


def list_members(*, actor: Any, search: str = "", tier: str = "") -> QuerySet[Member]:
    ensure_can(actor, "pos.member_records")
    qs = Member.objects.select_related("tier", "home_store")
    if search:
        qs = qs.filter(
            Q(phone__contains=search) | Q(card_number__contains=search) | Q(name__contains=search)
        )
    if tier:
        qs = qs.filter(tier__code=tier)
    return qs.order_by("card_number")


def get_member(*, actor: Any, member_id: int) -> Member:
    return members.get_member(member_id=member_id, actor=actor)


def member_points(member: Member) -> QuerySet[PointsEntry]:
    return member.points.select_related("sale").order_by("-id")


def member_sales(*, actor: Any, member: Member) -> QuerySet[Sale]:
    """The member's receipts at stores in the actor's scope, newest first."""
    qs = Sale.objects.filter(member=member).select_related("site", "till").order_by("-sold_at")
    allowed = scope_site_ids(actor)
    return qs if allowed is None else qs.filter(site_id__in=allowed)


# -- gift cards ----------------------------------------------------------------------------
def list_gift_cards(*, actor: Any, search: str = "") -> QuerySet[GiftCard]:
    ensure_can(actor, "pos.settings")
    qs = GiftCard.objects.all()
    if search:
        qs = qs.filter(number__icontains=search)
    return qs.order_by("-issued_at", "-pk")


def get_gift_card(*, actor: Any, number: str) -> GiftCard:
    ensure_can(actor, "pos.settings")
    card = GiftCard.objects.filter(number=number.strip().upper()).first()
    if card is None:
        raise NotFound(code="gift_card_not_found", card=number)
    return card


def gift_card_entries(card: GiftCard) -> QuerySet[GiftCardEntry]:
    return card.entries.select_related("sale").order_by("-id")


def can(actor: Any, permission: str, store: Site | None = None) -> bool:
    """For showing buttons: whether the actor holds `permission` (at the store)."""
    try:
        ensure_can(actor, permission, sites=[store.pk] if store else [])
    except PermissionDenied:
        return False
    return True
