"""Promotion rows → the engine's `Rule`s, and which promotions are legal for a basket.

`rule_from_promotion(promo)` is the one place that reads a stored promotion (params in the
stored format of `admin_params`, targets, stacking, return policy); it raises
`InvalidPromotion` (422, `details.field` names the parameter) for anything the engine could
not price, so the back office calls it to refuse such a promotion before it is saved.

A promotion is one rule, except a special price with per-SKU `prices`: one rule per priced
SKU (plus one for the general `price`, if given), all reported under the promotion. Rule
ids are assigned by the loader; `LegalRules.promotion_of` maps them back.

Legal for (store, time, member): active; valid_from <= at < valid_to (open ends allowed);
no stores or this store among them; member condition `any`, `members` with a member, or
`tiers` with a member of one of the tiers.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from chainstore.core.quantities import money_to_fen
from chainstore.pos.engine.types import Rule, Targets
from chainstore.pos.errors import InvalidPromotion
from chainstore.pos.models import (
    Member,
    MemberCondition,
    Promotion,
    PromotionKind,
    ReturnPolicy,
    Stacking,
)
from chainstore.sites.models import Site

log = logging.getLogger(__name__)

_STORES = Promotion.stores.through
_TIERS = Promotion.member_tiers.through
_TARGET_SKUS = Promotion.target_skus.through
_TARGET_CATEGORIES = Promotion.target_categories.through
_TARGET_BRANDS = Promotion.target_brands.through


@dataclass
class LegalRules:
    rules: list[Rule] = field(default_factory=list)
    promotion_of: dict[int, Promotion] = field(default_factory=dict)


# -- loading ---------------------------------------------------------------------------
def legal_rules(*, store: Site, at: Any, member: Member | None) -> LegalRules:
    """The rules of every promotion legal for this store, moment and shopper (5 queries).

    A stored promotion the engine cannot use is skipped (and logged), never fatal at the
    till; the back office refuses such promotions when they are saved."""
    promotions = list(_legal_promotions(store=store, at=at, member=member))
    targets = _targets([p.pk for p in promotions])
    out = LegalRules()
    next_id = 1
    for promo in promotions:
        try:
            rules = _rules(promo, targets.get(promo.pk, Targets()), first_id=next_id)
        except InvalidPromotion as exc:
            log.warning("promotion %s skipped: %s %s", promo.code, exc.message, exc.details)
            continue
        for rule in rules:
            out.rules.append(rule)
            out.promotion_of[rule.id] = promo
        next_id += len(rules)
    return out


def _legal_promotions(*, store: Site, at: Any, member: Member | None) -> Iterable[Promotion]:
    qs = Promotion.objects.filter(is_active=True).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=at),
        Q(valid_to__isnull=True) | Q(valid_to__gt=at),
    )
    has_stores = Exists(_STORES.objects.filter(promotion_id=OuterRef("pk")))
    at_store = Exists(_STORES.objects.filter(promotion_id=OuterRef("pk"), site_id=store.pk))
    qs = qs.filter(~has_stores | at_store)
    shopper: Any = Q(member_condition=MemberCondition.ANY)
    if member is not None:
        in_tier = Exists(
            _TIERS.objects.filter(promotion_id=OuterRef("pk"), membertier_id=member.tier_id)
        )
        shopper |= Q(member_condition=MemberCondition.MEMBERS)
        shopper |= Q(member_condition=MemberCondition.TIERS) & in_tier
    return qs.filter(shopper).select_related("gift_sku").order_by("-priority", "code")


def _targets(promotion_ids: list[int]) -> dict[int, Targets]:
    if not promotion_ids:
        return {}
    skus: dict[int, set[int]] = defaultdict(set)
    categories: dict[int, set[int]] = defaultdict(set)
    brands: dict[int, set[int]] = defaultdict(set)
    for pid, sku_id in _TARGET_SKUS.objects.filter(promotion_id__in=promotion_ids).values_list(
        "promotion_id", "sku_id"
    ):
        skus[pid].add(sku_id)
    for pid, cat_id in _TARGET_CATEGORIES.objects.filter(
        promotion_id__in=promotion_ids
    ).values_list("promotion_id", "category_id"):
        categories[pid].add(cat_id)
    for pid, brand_id in _TARGET_BRANDS.objects.filter(promotion_id__in=promotion_ids).values_list(
        "promotion_id", "brand_id"
    ):
        brands[pid].add(brand_id)
    return {
        pid: Targets(
            sku_ids=frozenset(skus[pid]),
            category_ids=frozenset(categories[pid]),
            brand_ids=frozenset(brands[pid]),
        )
        for pid in promotion_ids
    }


# -- one promotion ---------------------------------------------------------------------
def rule_from_promotion(promo: Promotion) -> tuple[Rule, ...]:
    """The engine rule(s) of a stored promotion; `InvalidPromotion` when it cannot be priced.

    Reads the promotion's targets from the database (call it after saving them)."""
    targets = _targets([promo.pk]).get(promo.pk, Targets()) if promo.pk else Targets()
    return _rules(promo, targets, first_id=promo.pk or 1)


def _rules(promo: Promotion, targets: Targets, *, first_id: int) -> tuple[Rule, ...]:
    params = promo.params if isinstance(promo.params, Mapping) else _fail("params", "object")
    common: dict[str, Any] = {
        "code": promo.code,
        "name": promo.name,
        "kind": promo.kind,
        "targets": targets,
        "priority": promo.priority,
        "exclusive": promo.stacking == Stacking.EXCLUSIVE,
        "recover_on_return": promo.return_policy != ReturnPolicy.KEEP,
    }
    kind = promo.kind
    if kind == PromotionKind.SPECIAL_PRICE:
        return _special_price_rules(params, common, first_id)
    if kind not in _KIND_FIELDS:
        _fail("kind", "known kind")
    fields = _KIND_FIELDS[kind](params, promo, targets)
    return (Rule(id=first_id, **common, **fields),)


def _special_price_rules(
    params: Mapping[str, Any], common: dict[str, Any], first_id: int
) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    if params.get("price") not in (None, ""):
        rules.append(Rule(id=first_id, **common, price_fen=_money(params, "price")))
    prices = params.get("prices") or {}
    if not isinstance(prices, Mapping):
        _fail("prices", "object")
    for sku_key, value in sorted(prices.items(), key=lambda kv: str(kv[0])):
        sku_id = _int(sku_key, "prices", minimum=1)
        per_sku = {**common, "targets": Targets(sku_ids=frozenset({sku_id}))}
        price = _money({"v": value}, "v", name="prices")
        rules.append(Rule(id=first_id + len(rules), **per_sku, price_fen=price))
    if not rules:
        _fail("price", "a special price or per-SKU prices")
    return tuple(rules)


def _percent_off(params: Mapping[str, Any], promo: Promotion, t: Targets) -> dict[str, Any]:
    return {"percent": _percent(params, "percent")}


def _amount_off(params: Mapping[str, Any], promo: Promotion, t: Targets) -> dict[str, Any]:
    return {"amount_fen": _money(params, "amount", positive=True)}


def _threshold(params: Mapping[str, Any], promo: Promotion, t: Targets) -> dict[str, Any]:
    raw = params.get("tiers")
    if not isinstance(raw, list | tuple) or not raw:
        _fail("tiers", "a list of [spend, save] pairs")
    tiers: list[tuple[int, int]] = []
    for tier in raw:
        if not isinstance(tier, list | tuple) or len(tier) != 2:
            _fail("tiers", "a list of [spend, save] pairs")
        spend = _money({"v": tier[0]}, "v", positive=True, name="tiers")
        save = _money({"v": tier[1]}, "v", positive=True, name="tiers")
        if save > spend or (tiers and (spend <= tiers[-1][0] or save <= tiers[-1][1])):
            _fail("tiers", "ascending tiers, each saving no more than its spend")
        tiers.append((spend, save))
    repeat = params.get("repeat") or False
    if not isinstance(repeat, bool) or (repeat and len(tiers) != 1):
        _fail("repeat", "true with exactly one tier, or false")
    max_repeats = _optional_int(params, "max_repeats")
    return {"tiers": tuple(tiers), "repeat": repeat, "max_repeats": max_repeats}


def _buy_x_get_y(params: Mapping[str, Any], promo: Promotion, t: Targets) -> dict[str, Any]:
    gift_id = promo.gift_sku_id
    if gift_id is None and len(t.sku_ids) == 1 and not (t.category_ids or t.brand_ids):
        (gift_id,) = t.sku_ids  # "buy 2 get 1" of the same SKU
    if gift_id is None:
        _fail("gift_sku", "a gift SKU")
    return {
        "buy": _int(params.get("buy"), "buy", minimum=1),
        "get": _int(params.get("get"), "get", minimum=1),
        "gift_sku_id": gift_id,
        "max_gifts": _optional_int(params, "max_gifts"),
    }


def _nth_item(params: Mapping[str, Any], promo: Promotion, t: Targets) -> dict[str, Any]:
    return {
        "nth": _int(params.get("nth"), "nth", minimum=2),
        "percent": _percent(params, "percent"),
    }


def _bundle(params: Mapping[str, Any], promo: Promotion, t: Targets) -> dict[str, Any]:
    raw = params.get("components")
    if not isinstance(raw, list | tuple) or not raw:
        _fail("components", "a list of [SKU id, units] pairs")
    components: list[tuple[int, int]] = []
    for entry in raw:
        if not isinstance(entry, list | tuple) or len(entry) != 2:
            _fail("components", "a list of [SKU id, units] pairs")
        components.append(
            (_int(entry[0], "components", minimum=1), _int(entry[1], "components", minimum=1))
        )
    if (
        len({sku for sku, _u in components}) != len(components)
        or sum(u for _s, u in components) < 2
    ):
        _fail("components", "distinct SKUs, at least two units in all")
    return {"components": tuple(components), "price_fen": _money(params, "price", positive=True)}


def _points_multiplier(params: Mapping[str, Any], promo: Promotion, t: Targets) -> dict[str, Any]:
    value = _decimal(params.get("multiplier"), "multiplier")
    if not Decimal(0) < value <= 100:
        _fail("multiplier", "more than 0 and at most 100")
    return {"multiplier": value}


_KIND_FIELDS: dict[str, Any] = {
    PromotionKind.PERCENT_OFF: _percent_off,
    PromotionKind.AMOUNT_OFF: _amount_off,
    PromotionKind.THRESHOLD: _threshold,
    PromotionKind.BUY_X_GET_Y: _buy_x_get_y,
    PromotionKind.NTH_ITEM: _nth_item,
    PromotionKind.BUNDLE: _bundle,
    PromotionKind.POINTS_MULTIPLIER: _points_multiplier,
}


# -- value parsing ---------------------------------------------------------------------
def _fail(name: str, expected: str) -> NoReturn:
    raise InvalidPromotion(
        _("The promotion parameter %(name)s is not valid (expected %(expected)s).")
        % {"name": name, "expected": expected},
        field=f"params.{name}",
    )


def _decimal(raw: Any, name: str) -> Decimal:
    if raw is None or isinstance(raw, bool | float) or raw == "":
        _fail(name, "a decimal number")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        _fail(name, "a decimal number")
    if not value.is_finite():
        _fail(name, "a decimal number")
    return value


def _money(params: Mapping[str, Any], key: str, *, positive: bool = False, name: str = "") -> int:
    value = _decimal(params.get(key), name or key)
    if value != value.quantize(Decimal("0.01")) or value < 0 or (positive and value == 0):
        _fail(name or key, "an amount in yuan with at most 2 decimals")
    return money_to_fen(value)


def _percent(params: Mapping[str, Any], key: str) -> Decimal:
    value = _decimal(params.get(key), key)
    if not Decimal(0) < value <= 100:
        _fail(key, "a percentage more than 0 and at most 100")
    return value


def _int(raw: Any, name: str, *, minimum: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        _fail(name, "a whole number")
    try:
        value = int(str(raw).strip())
    except ValueError:
        _fail(name, "a whole number")
    if value < minimum:
        _fail(name, f"a whole number of at least {minimum}")
    return value


def _optional_int(params: Mapping[str, Any], key: str) -> int | None:
    raw = params.get(key)
    return None if raw in (None, "") else _int(raw, key, minimum=1)
