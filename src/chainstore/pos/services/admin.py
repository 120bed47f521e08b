"""Back office use cases: promotions and member tiers (HQ, pos.promotions).

Price lists live in `admin_prices.py`; tills, store settings, members and gift cards in
`admin_stores.py`. Every use case checks the permission first, runs in one transaction and
writes an audit row. References arrive as codes (SKU code, category code, brand name, store
code, tier code), as people and integrators write them; unknown ones are refused with
`details.field` naming the input.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from chainstore.catalog.models import Brand, Category, Sku
from chainstore.core import audit
from chainstore.core.errors import Conflict, ValidationFailed
from chainstore.core.permissions import ensure_can
from chainstore.pos.errors import MemberNotFound
from chainstore.pos.models import (
    MemberCondition,
    MemberTier,
    Promotion,
    PromotionKind,
    ReturnPolicy,
    Stacking,
)
from chainstore.pos.services.admin_params import invalid, normalise_params, params_for_display
from chainstore.pos.services.members import find_member
from chainstore.pos.services.pricing import BasketQuote, LineInput, price_lines, resolve_lines
from chainstore.pos.services.rules import rule_from_promotion
from chainstore.sites.models import Site, SiteKind

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
PRIORITY_LIMIT = 1_000_000


@dataclass(frozen=True)
class PromotionInput:
    """Everything about a promotion but its code (its identity)."""

    name: str
    kind: str
    params: Mapping[str, Any]
    description: str = ""
    target_skus: Sequence[str] = ()  # SKU codes
    target_categories: Sequence[str] = ()  # category codes (sub-categories included)
    target_brands: Sequence[str] = ()  # brand names
    gift_sku: str | None = None  # SKU code (buy_x_get_y)
    stores: Sequence[str] = ()  # store codes; none = every store
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    member_condition: str = MemberCondition.ANY
    member_tiers: Sequence[str] = ()  # tier codes (member_condition "tiers")
    priority: int = 0
    stacking: str = Stacking.COMBINABLE
    return_policy: str = ReturnPolicy.RECOVER
    is_active: bool = True


@dataclass
class _Resolved:
    skus: list[Sku] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    brands: list[Brand] = field(default_factory=list)
    gift_sku: Sku | None = None
    stores: list[Site] = field(default_factory=list)
    tiers: list[MemberTier] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


# -- promotions --------------------------------------------------------------------------
@transaction.atomic
def create_promotion(*, code: str, data: PromotionInput, actor: Any) -> Promotion:
    ensure_can(actor, "pos.promotions")
    code = check_code(code, "code")
    resolved = _resolve(data)
    ensure_can(actor, "pos.promotions", sites=[s.pk for s in resolved.stores])
    duplicate = Conflict(
        _("A promotion with this code exists."), code="duplicate_promotion", field="code"
    )
    if Promotion.objects.filter(code=code).exists():
        raise duplicate
    promotion = Promotion(code=code, created_by=actor if getattr(actor, "pk", None) else None)
    with unique_or(duplicate):  # a concurrent create of the same code
        _apply(promotion, data, resolved)
    audit.record(
        actor=actor,
        action="promotion.create",
        obj=promotion,
        to_state=_state(promotion),
        data=promotion_snapshot(promotion),
    )
    return promotion


@transaction.atomic
def update_promotion(*, promotion: Promotion, data: PromotionInput, actor: Any) -> Promotion:
    """Replace everything but the code and the kind (a new kind is a new promotion)."""
    ensure_can(actor, "pos.promotions")
    promotion = Promotion.objects.select_for_update().get(pk=promotion.pk)
    if data.kind != promotion.kind:
        raise ValidationFailed(
            _("The kind of a promotion cannot change; create a new promotion."),
            code="kind_locked",
            field="kind",
        )
    resolved = _resolve(data)
    old_stores = list(promotion.stores.values_list("pk", flat=True))
    ensure_can(actor, "pos.promotions", sites=[*old_stores, *(s.pk for s in resolved.stores)])
    before, before_state = promotion_snapshot(promotion), _state(promotion)
    _apply(promotion, data, resolved)
    after = promotion_snapshot(promotion)
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    audit.record(
        actor=actor,
        action="promotion.update",
        obj=promotion,
        from_state=before_state,
        to_state=_state(promotion),
        data=changes,
    )
    return promotion


@transaction.atomic
def set_promotion_active(*, promotion: Promotion, active: bool, actor: Any) -> Promotion:
    """Deactivate (or reactivate) a promotion; it stays on the receipts that used it."""
    ensure_can(actor, "pos.promotions")
    promotion = Promotion.objects.select_for_update().get(pk=promotion.pk)
    ensure_can(actor, "pos.promotions", sites=promotion.stores.values_list("pk", flat=True))
    if promotion.is_active == active:
        return promotion
    if active:
        _engine_check(promotion)
    before = _state(promotion)
    promotion.is_active = active
    promotion.save(update_fields=["is_active", "updated_at"])
    audit.record(
        actor=actor,
        action="promotion.activate" if active else "promotion.deactivate",
        obj=promotion,
        from_state=before,
        to_state=_state(promotion),
    )
    return promotion


def _state(promotion: Promotion) -> str:
    return "active" if promotion.is_active else "inactive"


def _apply(promotion: Promotion, data: PromotionInput, resolved: _Resolved) -> None:
    promotion.name = data.name.strip()
    promotion.description = data.description.strip()
    promotion.kind = data.kind
    promotion.params = resolved.params
    promotion.gift_sku = resolved.gift_sku
    promotion.valid_from = data.valid_from
    promotion.valid_to = data.valid_to
    promotion.member_condition = data.member_condition
    promotion.priority = data.priority
    promotion.stacking = data.stacking
    promotion.return_policy = data.return_policy
    promotion.is_active = data.is_active
    promotion.save()
    skus = resolved.skus
    if data.kind == PromotionKind.SPECIAL_PRICE and "prices" in resolved.params:
        priced = [int(pk) for pk in resolved.params["prices"]]
        skus = list(Sku.objects.filter(pk__in=priced).order_by("pk"))
    promotion.target_skus.set(skus)
    promotion.target_categories.set(resolved.categories)
    promotion.target_brands.set(resolved.brands)
    promotion.stores.set(resolved.stores)
    promotion.member_tiers.set(resolved.tiers)
    _engine_check(promotion)


def _engine_check(promotion: Promotion) -> None:
    """The checkout's own rule builder must accept the saved promotion (it raises
    InvalidPromotion, a 422, otherwise); a refusal rolls the whole change back."""
    rule_from_promotion(promotion)


def _resolve(data: PromotionInput) -> _Resolved:
    """Check the input and look up every reference; nothing is written."""
    if not data.name.strip() or len(data.name.strip()) > 100:
        invalid("name", _("A name of 1 to 100 characters is required."), code="missing_field")
    if len(data.description) > 300:
        invalid("description", _("At most 300 characters."))
    _check_choice("kind", data.kind, PromotionKind.values)
    _check_choice("member_condition", data.member_condition, MemberCondition.values)
    _check_choice("stacking", data.stacking, Stacking.values)
    _check_choice("return_policy", data.return_policy, ReturnPolicy.values)
    if not -PRIORITY_LIMIT <= data.priority <= PRIORITY_LIMIT:
        invalid("priority", _("The priority is out of range."))
    check_window(data.valid_from, data.valid_to)
    resolved = _Resolved(params=normalise_params(data.kind, data.params))
    resolved.skus = by_code(Sku, "target_skus", data.target_skus)
    resolved.categories = by_code(Category, "target_categories", data.target_categories)
    resolved.brands = by_code(Brand, "target_brands", data.target_brands, key="name")
    resolved.stores = stores_by_code("stores", data.stores)
    resolved.tiers = by_code(MemberTier, "member_tiers", data.member_tiers)
    _check_kind_shape(data, resolved)
    _check_members(data, resolved)
    return resolved


def _check_kind_shape(data: PromotionInput, resolved: _Resolved) -> None:
    kind = data.kind
    if kind == PromotionKind.BUY_X_GET_Y:
        if any(s.is_weighed for s in resolved.skus):
            invalid("target_skus", _("Buy X get Y applies to count SKUs only."))
        if data.gift_sku:
            (gift,) = by_code(Sku, "gift_sku", [data.gift_sku])
        elif len(resolved.skus) == 1 and not (resolved.categories or resolved.brands):
            gift = resolved.skus[0]  # buy 2 get 1 of the same SKU
        else:
            invalid("gift_sku", _("Choose the gift SKU."), code="missing_field")
        if not gift.is_active:
            invalid("gift_sku", _("The gift SKU is inactive."))
        if gift.is_weighed:
            invalid("gift_sku", _("A gift must be a count SKU, not a weighed one."))
        resolved.gift_sku = gift
    elif data.gift_sku:
        invalid("gift_sku", _("Only buy X get Y promotions have a gift SKU."))
    if kind == PromotionKind.NTH_ITEM and any(s.is_weighed for s in resolved.skus):
        invalid("target_skus", _("N-th item applies to count SKUs only."))
    if kind == PromotionKind.BUNDLE and (resolved.skus or resolved.categories or resolved.brands):
        invalid("target_skus", _("A bundle is defined by its components; leave targets empty."))
    if kind == PromotionKind.SPECIAL_PRICE and "prices" in resolved.params:
        if resolved.categories or resolved.brands:
            invalid(
                "target_categories",
                _("Prices per SKU apply to those SKUs; leave categories and brands empty."),
            )
        if "price" not in resolved.params:
            priced = set(resolved.params["prices"])
            unpriced = [s.code for s in resolved.skus if str(s.pk) not in priced]
            if unpriced:
                invalid(
                    "target_skus",
                    _("These SKUs have no special price: %(codes)s")
                    % {"codes": ", ".join(unpriced[:5])},
                )


def _check_members(data: PromotionInput, resolved: _Resolved) -> None:
    if data.member_condition == MemberCondition.TIERS and not resolved.tiers:
        invalid("member_tiers", _("Choose at least one member tier."), code="missing_field")
    if data.member_condition != MemberCondition.TIERS and resolved.tiers:
        invalid("member_tiers", _("Member tiers apply only to tier-only promotions."))


def check_window(start: dt.datetime | None, end: dt.datetime | None) -> None:
    for name, value in (("valid_from", start), ("valid_to", end)):
        if value is not None and value.tzinfo is None:
            invalid(name, _("Give the time with its time zone."))
    if start is not None and end is not None and end <= start:
        invalid("valid_to", _("The end must be after the start."), code="invalid_window")


def _check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        invalid(name, _("Not one of the choices."), code="invalid_choice", value=value)


@contextmanager
def unique_or(conflict: Conflict) -> Iterator[None]:
    """Run an insert in a savepoint; a unique-constraint race becomes `conflict` (409)."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise conflict from None


def check_code(code: str, field_name: str, max_length: int = 32) -> str:
    code = (code or "").strip()
    if not code or len(code) > max_length or not CODE_RE.match(code):
        invalid(
            field_name,
            _("A code is 1 to %(n)s letters, digits, dots, dashes or underscores.")
            % {"n": max_length},
            code="invalid_code",
        )
    return code


def by_code(model: Any, field_name: str, codes: Sequence[str], *, key: str = "code") -> list[Any]:
    """The rows named by `codes` (in that order, duplicates dropped); refuse unknown ones."""
    wanted = list(dict.fromkeys(str(c).strip() for c in codes if str(c).strip()))
    if not wanted:
        return []
    rows = {getattr(r, key): r for r in model.objects.filter(**{f"{key}__in": wanted})}
    missing = [c for c in wanted if c not in rows]
    if missing:
        invalid(
            field_name,
            _("Unknown: %(codes)s") % {"codes": ", ".join(missing[:5])},
            code="unknown_reference",
            missing=missing[:20],
        )
    return [rows[c] for c in wanted]


def stores_by_code(field_name: str, codes: Sequence[str]) -> list[Site]:
    stores = by_code(Site, field_name, codes)
    not_stores = [s.code for s in stores if s.kind != SiteKind.STORE]
    if not_stores:
        invalid(
            field_name,
            _("Not a store: %(codes)s") % {"codes": ", ".join(not_stores[:5])},
            code="not_a_store",
        )
    return stores


def promotion_snapshot(promotion: Promotion) -> dict[str, Any]:
    """The promotion as plain JSON (SKUs by code): the audit record and the API output."""
    return {
        "code": promotion.code,
        "name": promotion.name,
        "description": promotion.description,
        "kind": promotion.kind,
        "params": params_for_display(promotion.kind, promotion.params),
        "target_skus": sorted(promotion.target_skus.values_list("code", flat=True)),
        "target_categories": sorted(promotion.target_categories.values_list("code", flat=True)),
        "target_brands": sorted(promotion.target_brands.values_list("name", flat=True)),
        "gift_sku": promotion.gift_sku.code if promotion.gift_sku else None,
        "stores": sorted(promotion.stores.values_list("code", flat=True)),
        "valid_from": promotion.valid_from.isoformat() if promotion.valid_from else None,
        "valid_to": promotion.valid_to.isoformat() if promotion.valid_to else None,
        "member_condition": promotion.member_condition,
        "member_tiers": sorted(promotion.member_tiers.values_list("code", flat=True)),
        "priority": promotion.priority,
        "stacking": promotion.stacking,
        "return_policy": promotion.return_policy,
        "is_active": promotion.is_active,
    }


# -- trying a basket -------------------------------------------------------------------
def preview_basket(
    *,
    store: Site,
    lines: Sequence[tuple[str, Decimal]],
    member_query: str,
    actor: Any,
    at: dt.datetime | None = None,
) -> BasketQuote:
    """Price a basket as the till would (store prices, legal promotions, the engine), for
    a planner checking promotions: no side effects. Lines are (SKU code or scan, quantity)."""
    ensure_can(actor, "pos.promotions", sites=[store.pk])
    member = None
    if member_query.strip():
        member = find_member(member_query)
        if member is None:
            raise MemberNotFound(q=member_query.strip())
    basket = resolve_lines([LineInput(scan=text, quantity=quantity) for text, quantity in lines])
    return price_lines(store=store, lines=basket, member=member, at=at)


# -- member tiers ------------------------------------------------------------------------
@dataclass(frozen=True)
class TierInput:
    name: str
    rank: int = 0
    points_per_yuan: int = 1


@transaction.atomic
def create_member_tier(*, code: str, data: TierInput, actor: Any) -> MemberTier:
    ensure_can(actor, "pos.promotions")
    code = check_code(code, "code", max_length=20)
    _check_tier(data)
    duplicate = Conflict(
        _("A member tier with this code exists."), code="duplicate_tier", field="code"
    )
    if MemberTier.objects.filter(code=code).exists():
        raise duplicate
    with unique_or(duplicate):
        tier = MemberTier.objects.create(
            code=code, name=data.name.strip(), rank=data.rank, points_per_yuan=data.points_per_yuan
        )
    audit.record(actor=actor, action="member_tier.create", obj=tier, to_state="active")
    return tier


@transaction.atomic
def update_member_tier(*, tier: MemberTier, data: TierInput, actor: Any) -> MemberTier:
    ensure_can(actor, "pos.promotions")
    _check_tier(data)
    fields = {"name": data.name.strip(), "rank": data.rank, "points_per_yuan": data.points_per_yuan}
    changed = {k: v for k, v in fields.items() if getattr(tier, k) != v}
    if changed:
        audit.save_changes(tier, changed, actor=actor, action="member_tier.update")
    return tier


def _check_tier(data: TierInput) -> None:
    if not data.name.strip() or len(data.name.strip()) > 50:
        invalid("name", _("A name of 1 to 50 characters is required."), code="missing_field")
    if not 0 <= data.rank <= 1000:
        invalid("rank", _("The rank is between 0 and 1000."))
    if not 0 <= data.points_per_yuan <= 1000:
        invalid("points_per_yuan", _("Points per yuan is between 0 and 1000."))
